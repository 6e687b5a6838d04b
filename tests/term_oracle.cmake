# The term codec against a live erl (tests/term_oracle.erl): random terms,
# all encoding options, term order, and straw's bytes read back by erl.
find_program(STRAW_ESCRIPT_PROGRAM escript)
if(STRAW_ESCRIPT_PROGRAM)
	add_executable(term_oracle_test ${CMAKE_CURRENT_LIST_DIR}/term_oracle_test.c)
	target_link_libraries(term_oracle_test PRIVATE straw_static)
	target_include_directories(term_oracle_test PRIVATE ${PROJECT_SOURCE_DIR}/src)
	target_compile_definitions(term_oracle_test PRIVATE
		STRAW_ESCRIPT="${STRAW_ESCRIPT_PROGRAM}"
		STRAW_ORACLE_SCRIPT="${CMAKE_CURRENT_LIST_DIR}/term_oracle.erl"
		STRAW_TERM_VECTORS="${CMAKE_CURRENT_LIST_DIR}/data/otp25-vectors.txt")
	add_test(NAME term_oracle_test COMMAND term_oracle_test)
	set_tests_properties(term_oracle_test PROPERTIES TIMEOUT 400)
else()
	message(STATUS "escript not found: term_oracle_test not built")
endif()
