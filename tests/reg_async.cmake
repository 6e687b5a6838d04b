# The registry client's asynchronous path and hooks, against a real strawd.
straw_test(reg_async_test ${CMAKE_CURRENT_SOURCE_DIR}/reg_async_test.c
	TIMEOUT 180)
add_dependencies(reg_async_test strawd)
