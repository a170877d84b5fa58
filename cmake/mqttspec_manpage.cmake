# cmake -DTOOL=<executable> -DNAME=<name> -DSUMMARY=<one line> -DVERSION=<x.y.z> -DDATA_DIR=<dir>
#       -DOUTPUT=<file.1> -P mqttspec_manpage.cmake
# Writes a man page (roff) from the tool's --help and, for each subcommand listed there, from
# `<tool> <subcommand> --help`: the help texts are set verbatim, so the page never disagrees with
# the program. DATA_DIR is where the installed runner reads its scenarios (FILES section).
foreach(var TOOL NAME SUMMARY VERSION OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "mqttspec_manpage.cmake: -D${var}= is required")
  endif()
endforeach()

function(help_of out)
  execute_process(COMMAND ${TOOL} ${ARGN} --help
                  OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TOOL} ${ARGN} --help failed (${rc}): ${err}")
  endif()
  # CLI11 prints argv[0] in its usage lines; the page names the installed command.
  string(REPLACE "${TOOL}" "${NAME}" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Text set verbatim inside .nf/.fi: backslashes escaped, and no line may start a roff request.
function(roff_verbatim out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  string(REGEX REPLACE "\n+$" "" text "${text}")
  set(${out} ".nf\n${text}\n.fi\n" PARENT_SCOPE)
endfunction()

function(roff_escape out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

help_of(main_help)
string(TOUPPER "${NAME}" title)
roff_escape(name_roff "${NAME}")
roff_escape(summary_roff "${SUMMARY}")

# Subcommands: the lines under "Subcommands:" in the top-level help, "  name  description".
set(subcommands)
string(REGEX MATCH "\nSubcommands:\n(.*)" sub_block "${main_help}")
if(sub_block)
  # Only the names matter here: characters that would confuse CMake's lists go first.
  string(REGEX REPLACE "[];[]" " " sub_lines "${CMAKE_MATCH_1}")
  string(REPLACE "\n" ";" sub_lines "${sub_lines}")
  foreach(line IN LISTS sub_lines)
    if(line MATCHES "^  ([a-z][a-z0-9-]*)( |$)")
      list(APPEND subcommands ${CMAKE_MATCH_1})
    elseif(NOT line MATCHES "^ ")
      break()
    endif()
  endforeach()
endif()

set(page ".\\\" Generated from `${NAME} --help` by cmake/mqttspec_manpage.cmake; do not edit.\n")
string(APPEND page ".TH ${title} 1 \"\" \"${NAME} ${VERSION}\" \"User Commands\"\n")
string(APPEND page ".SH NAME\n${name_roff} \\- ${summary_roff}\n")
string(APPEND page ".SH SYNOPSIS\n")
if(subcommands)
  string(APPEND page ".B ${name_roff}\n\\fISUBCOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n")
else()
  string(APPEND page ".B ${name_roff}\n[\\fIOPTIONS\\fR]\n")
endif()
string(APPEND page ".SH DESCRIPTION\n")
roff_verbatim(text "${main_help}")
string(APPEND page "${text}")
foreach(sub IN LISTS subcommands)
  help_of(sub_help ${sub})
  string(TOUPPER "${sub}" sub_title)
  string(APPEND page ".SH \"${sub_title}\"\n")
  roff_verbatim(text "${sub_help}")
  string(APPEND page "${text}")
endforeach()
if(NAME STREQUAL "mqttspec")
  string(APPEND page ".SH ENVIRONMENT\n.TP\n.B MQTTSPEC_DATA_DIR\n"
         "A directory holding \\fBscenarios/\\fR and \\fBstatements/\\fR, used instead of the installed ones "
         "(\\fB\\-\\-scenarios\\fR still names the scenario directory).\n")
  if(DATA_DIR)
    roff_escape(dir "${DATA_DIR}")
    string(APPEND page ".SH FILES\n.TP\n.I ${dir}/scenarios/\nThe scenarios, \\fIv3.1.1/\\fR and \\fIv5.0/\\fR, "
           "found relative to the executable (\\fI../share/mqttspec\\fR from its directory).\n"
           ".TP\n.I ${dir}/statements/\nThe statement catalogues of MQTT 3.1.1 and 5.0 and the list of statements "
           "no network test can observe.\n.TP\n.I ${dir}/junit.xsd\nThe schema of the JUnit report.\n")
  endif()
  string(APPEND page ".SH EXIT STATUS\n0 when nothing failed, 1 on failures, 2 when the harness could not run "
         "(usage errors, an unreachable or unusable target).\n.SH SEE ALSO\n\\fBmqttspec\\-broker\\fR(1)\n")
else()
  string(APPEND page ".SH SEE ALSO\n\\fBmqttspec\\fR(1)\n")
endif()

file(WRITE "${OUTPUT}.tmp" "${page}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
