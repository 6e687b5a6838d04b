# Tubes between real processes (src/tube).
straw_test(tube_proc_test ${CMAKE_CURRENT_SOURCE_DIR}/tube_proc_test.c
	TIMEOUT 180)
