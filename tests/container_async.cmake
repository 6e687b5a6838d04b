# Containers against a stalled strawd: names, tubes, reliable senders
# inside processes (src/proc/reg.c, reg_wait.c, tube_wait.c).
straw_test(container_async_test
	${CMAKE_CURRENT_SOURCE_DIR}/container_async_test.c TIMEOUT 240)
add_dependencies(container_async_test strawd)
