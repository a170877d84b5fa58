# mqttspec_add_gtest(<target> <name>): registers a GoogleTest executable with ctest as ONE test.
# One process per binary, not per test case: under ASan each process start costs about a second,
# and the suites hold thousands of cases. gtest still reports every case in the test's output.
function(mqttspec_add_gtest target name)
  add_test(NAME ${name} COMMAND ${target} --gtest_brief=1)
  set_tests_properties(${name} PROPERTIES TIMEOUT 600)
endfunction()
