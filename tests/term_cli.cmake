# straw term encode|decode|check (cli/term.c, src/term/term_tool.c).
add_test(NAME term_cli_test COMMAND ${PROJECT_SOURCE_DIR}/tests/term_cli_test.sh
	$<TARGET_FILE:straw_cli>)
set_tests_properties(term_cli_test PROPERTIES TIMEOUT 60)
