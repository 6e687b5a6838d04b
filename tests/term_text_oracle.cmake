# The live text oracle: erl and straw print and read each other's text
# (tests/term_text_oracle.erl drives tests/term_text_oracle_driver.c).
# STRAW_ORACLE_SEED and STRAW_ORACLE_TERMS change the seed and the size.
add_executable(term_text_oracle_driver
	${CMAKE_CURRENT_SOURCE_DIR}/term_text_oracle_driver.c)
target_link_libraries(term_text_oracle_driver PRIVATE straw_cmd)
target_include_directories(term_text_oracle_driver PRIVATE
	${PROJECT_SOURCE_DIR}/src)
find_program(STRAW_ESCRIPT escript)
find_program(STRAW_TIMEOUT timeout)
if(STRAW_ESCRIPT AND STRAW_TIMEOUT)
	add_test(NAME term_text_oracle
		COMMAND ${STRAW_TIMEOUT} 170 ${STRAW_ESCRIPT}
			${CMAKE_CURRENT_SOURCE_DIR}/term_text_oracle.erl
			$<TARGET_FILE:term_text_oracle_driver>
			${CMAKE_CURRENT_BINARY_DIR}/term_text_oracle)
else()
	# Erlang/OTP is a test dependency (scripts/install-deps.sh): fail
	# loudly rather than skip.
	add_test(NAME term_text_oracle COMMAND ${CMAKE_COMMAND} -E echo
		"term_text_oracle: escript or timeout not found")
	set_tests_properties(term_text_oracle PROPERTIES WILL_FAIL ON)
endif()
set_tests_properties(term_text_oracle PROPERTIES TIMEOUT 180)
