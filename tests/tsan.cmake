# ThreadSanitizer on the tests where threads other than a container's
# scheduler thread send, post and wake under contention, the process layer's
# own tests, and the tube test where one thread sends and another receives
# on the same tube.  TSan cannot share
# a binary with ASan, so the tsan_threads test configures a second tree with
# STRAW_SANITIZE=thread under tsan/, builds only these tests there and runs
# them (tests/tsan_threads.sh).
set(STRAW_TSAN_TESTS remote_test proc_foreign_test proc_test tube_proc_test)
if(STRAW_SANITIZE MATCHES "thread")
	# In that tree: a program with a deliberate data race, which TSan must
	# report, so that a quiet run of the tests means TSan was active.
	add_executable(tsan_race_control EXCLUDE_FROM_ALL
		${CMAKE_CURRENT_SOURCE_DIR}/tsan_race_control.c)
	target_link_libraries(tsan_race_control PRIVATE Threads::Threads)
elseif(CMAKE_C_COMPILER_ID MATCHES "Clang")
	add_test(NAME tsan_threads
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tsan_threads.sh
			${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/tsan
			${CMAKE_C_COMPILER} ${STRAW_TSAN_TESTS})
	# Its build takes both cores: alone, so that it starves no timing
	# check of another test, and its own threads contend on free cores.
	set_tests_properties(tsan_threads PROPERTIES TIMEOUT 600
		RUN_SERIAL TRUE)
endif()
