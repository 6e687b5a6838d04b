# The registry with real processes: strawd, containers, the commands.
straw_test(registry_test ${CMAKE_CURRENT_SOURCE_DIR}/registry_test.c
	TIMEOUT 240 LIBS strawd_lib)
add_dependencies(registry_test strawd straw_cli)

add_test(NAME registry_cli_test
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/registry_cli_test.sh
		$<TARGET_FILE:straw_cli> $<TARGET_FILE:strawd>)
set_tests_properties(registry_cli_test PROPERTIES TIMEOUT 120)
