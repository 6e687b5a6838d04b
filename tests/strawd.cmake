# strawd among hostile users: the attacker runs as uid 65534 (the test runs
# as root and fails otherwise), against a real strawd.
straw_test(strawd_hostile_test ${CMAKE_CURRENT_SOURCE_DIR}/strawd_hostile_test.c
	TIMEOUT 600)
add_dependencies(strawd_hostile_test strawd straw_cli)
