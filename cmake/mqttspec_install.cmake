# Installation, the exported CMake package and the Debian package; included by the top-level
# CMakeLists.txt after every part, so it sees the targets the selected parts made.
#
#   bin/                      mqttspec, mqttspec-broker
#   share/mqttspec/           scenarios/, statements/, junit.xsd (the runner looks here first:
#                             ../share/mqttspec relative to its own executable)
#   share/man/man1/           mqttspec.1, mqttspec-broker.1 (made from --help at build time)
#   include/, lib/            the libraries of the package below, static
#   lib/cmake/mqttspec/       find_package(mqttspec): mqttspec::codec, mqttspec::embedded_broker, ...
include(CMakePackageConfigHelpers)

set(MQTTSPEC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mqttspec
    CACHE STRING "Where the CMake package files are installed (relative to the prefix)")
set(mqttspec_data_dir ${CMAKE_INSTALL_DATADIR}/mqttspec)

# --- The tools and their data -------------------------------------------------------------------
foreach(tool IN ITEMS mqttspec mqttspec-broker)
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()
if(TARGET mqttspec)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/conformance/scenarios DESTINATION ${mqttspec_data_dir}
          FILES_MATCHING PATTERN "*.xml")
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/conformance/statements DESTINATION ${mqttspec_data_dir}
          FILES_MATCHING PATTERN "*.tsv")
  install(FILES ${PROJECT_SOURCE_DIR}/reports/junit.xsd DESTINATION ${mqttspec_data_dir})
endif()
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Man pages: each tool's --help (and each subcommand's) set in roff by cmake/mqttspec_manpage.cmake,
# once the tool is linked. Not when cross-compiling (the tool cannot run here), nor in the
# instrumented fuzzing builds (nothing is installed from those).
if(NOT CMAKE_CROSSCOMPILING AND NOT MQTTSPEC_FUZZ MATCHES "^(libfuzzer|coverage)$")
  set(mqttspec_man_summary_mqttspec "MQTT 3.1.1 and 5.0 conformance suite")
  set(mqttspec_man_summary_mqttspec-broker "reference MQTT 3.1.1 and 5.0 broker")
  set(mqttspec_man_pages)
  foreach(tool IN ITEMS mqttspec mqttspec-broker)
    if(NOT TARGET ${tool})
      continue()
    endif()
    set(page ${PROJECT_BINARY_DIR}/man/${tool}.1)
    add_custom_command(
      OUTPUT ${page}
      # A leak report at exit of a sanitized --help must not fail the build.
      COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
              ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:${tool}> -DNAME=${tool}
                               "-DSUMMARY=${mqttspec_man_summary_${tool}}" -DVERSION=${PROJECT_VERSION}
                               "-DDATA_DIR=${CMAKE_INSTALL_FULL_DATADIR}/mqttspec" -DOUTPUT=${page}
                               -P ${PROJECT_SOURCE_DIR}/cmake/mqttspec_manpage.cmake
      DEPENDS ${tool} ${PROJECT_SOURCE_DIR}/cmake/mqttspec_manpage.cmake
      COMMENT "Man page ${tool}.1"
      VERBATIM)
    list(APPEND mqttspec_man_pages ${page})
  endforeach()
  if(mqttspec_man_pages)
    add_custom_target(mqttspec_man_pages ALL DEPENDS ${mqttspec_man_pages})
    install(FILES ${mqttspec_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  endif()
endif()

# --- The CMake package ---------------------------------------------------------------------------
# Build-tree name -> exported name (mqttspec::<name>), dependencies before their users. The options
# target travels along because every library links it (see the top-level CMakeLists.txt).
set(mqttspec_exports
  mqttspec_options:options
  mqttspec_codec:codec
  mqttspec_session:session
  mqttspec_broker_core:broker_core
  mqttspec_auth:auth
  mqttspec_transport:transport
  mqttspec_broker_net:broker_net
  mqttspec_embedded_broker:embedded_broker)
set(mqttspec_exported_targets)
set(mqttspec_exported_names)
foreach(pair IN LISTS mqttspec_exports)
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 target)
  list(GET pair 1 name)
  if(NOT TARGET ${target})
    continue()
  endif()
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  list(APPEND mqttspec_exported_targets ${target})
  list(APPEND mqttspec_exported_names ${name})
  get_target_property(type ${target} TYPE)
  get_target_property(dir ${target} SOURCE_DIR)
  if(NOT type STREQUAL "INTERFACE_LIBRARY" AND IS_DIRECTORY ${dir}/include)
    install(DIRECTORY ${dir}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
  endif()
endforeach()

# What the config file must find for the exported targets' own dependencies.
set(MQTTSPEC_NEEDS_OPENSSL OFF)
set(MQTTSPEC_NEEDS_THREADS OFF)
set(MQTTSPEC_NEEDS_ASIO OFF)
if(TARGET mqttspec_auth OR TARGET mqttspec_transport)
  set(MQTTSPEC_NEEDS_OPENSSL ON)
endif()
if(TARGET mqttspec_transport)
  set(MQTTSPEC_NEEDS_ASIO ON)
endif()
if(TARGET mqttspec_broker_net)
  set(MQTTSPEC_NEEDS_THREADS ON)
endif()

if(mqttspec_exported_targets)
  install(TARGETS ${mqttspec_exported_targets}
          EXPORT mqttspecTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT mqttspecTargets NAMESPACE mqttspec:: DESTINATION ${MQTTSPEC_INSTALL_CMAKEDIR})
  set(MQTTSPEC_EXPORTED_NAMES "${mqttspec_exported_names}")
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mqttspecConfig.cmake.in
                                ${PROJECT_BINARY_DIR}/cmake/mqttspecConfig.cmake
                                INSTALL_DESTINATION ${MQTTSPEC_INSTALL_CMAKEDIR})
  # 0.x: a minor version may break the API.
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/mqttspecConfigVersion.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/cmake/mqttspecConfig.cmake ${PROJECT_BINARY_DIR}/cmake/mqttspecConfigVersion.cmake
          DESTINATION ${MQTTSPEC_INSTALL_CMAKEDIR})
endif()

# --- The test: install with DESTDIR, run the installed tools, build a consumer project -----------
if(MQTTSPEC_TESTS AND TARGET mqttspec AND TARGET mqttspec-broker AND TARGET mqttspec_embedded_broker)
  add_test(NAME install
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/install/install_test.sh
                   --build ${PROJECT_BINARY_DIR} --source ${PROJECT_SOURCE_DIR}
                   --compiler ${CMAKE_CXX_COMPILER} --generator ${CMAKE_GENERATOR}
                   --make-program ${CMAKE_MAKE_PROGRAM} --sanitize ${MQTTSPEC_SANITIZE})
  set_tests_properties(install PROPERTIES TIMEOUT 600)
endif()

# --- cpack: a Debian package (ci/package.sh builds and checks it) --------------------------------
set(CPACK_PACKAGE_NAME mqttspec)
set(CPACK_PACKAGE_VENDOR "mqttspec")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "MQTT 3.1.1/5.0 conformance suite, reference broker and fuzzers")
set(CPACK_PACKAGE_DESCRIPTION
    "mqttspec plays declarative scenarios against any MQTT broker and reports, per statement of the
MQTT 3.1.1 and 5.0 specifications, what the broker got right (JUnit XML, JSON, HTML). The package
also holds mqttspec-broker, the reference broker, and the CMake package of the libraries
(find_package(mqttspec): mqttspec::codec, mqttspec::embedded_broker).")
set(MQTTSPEC_PACKAGE_CONTACT "mqttspec maintainers <mqttspec@localhost>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${MQTTSPEC_PACKAGE_CONTACT}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
find_program(MQTTSPEC_DPKG_DEB dpkg-deb)
find_program(MQTTSPEC_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(MQTTSPEC_DPKG_DEB)
  set(CPACK_GENERATOR DEB)
else()
  set(CPACK_GENERATOR TGZ)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${MQTTSPEC_PACKAGE_CONTACT}")
if(MQTTSPEC_DPKG_SHLIBDEPS)
  # Depends: from the shared libraries the binaries link (libssl3, libpugixml1v5, libstdc++6, ...).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libgcc-s1, libstdc++6, libssl3, libpugixml1v5")
endif()
# The CMake package's dependencies, for users who build against it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libasio-dev, libssl-dev")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake")
include(CPack)
