# The router between containers in real OS processes (src/route).
straw_test(route_test ${CMAKE_CURRENT_SOURCE_DIR}/route_test.c TIMEOUT 300)
add_dependencies(route_test strawd)
