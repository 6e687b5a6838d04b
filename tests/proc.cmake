# The process layer with real OS processes and a private strawd.
straw_test(proc_strawd_test ${CMAKE_CURRENT_SOURCE_DIR}/proc_strawd_test.c
	TIMEOUT 60 LIBS straw_cmd)
set_tests_properties(proc_strawd_test PROPERTIES ENVIRONMENT
	"STRAW_STRAWD=$<TARGET_FILE:strawd>;STRAW_TEST_BUILD=${PROJECT_BINARY_DIR}")
add_dependencies(proc_strawd_test strawd)
