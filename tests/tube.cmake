# Tubes between real processes (src/tube).
straw_test(tube_proc_test ${CMAKE_CURRENT_SOURCE_DIR}/tube_proc_test.c
	TIMEOUT 180)
# Tubes brokered by a real strawd (the test starts its own).
straw_test(tube_broker_test ${CMAKE_CURRENT_SOURCE_DIR}/tube_broker_test.c
	TIMEOUT 120)
add_dependencies(tube_broker_test strawd straw_cli)
