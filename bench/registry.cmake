# Registry reads and writes per second, 1 and 8 clients, against strawd.
straw_bench(registry ${CMAKE_CURRENT_SOURCE_DIR}/registry.c)
add_dependencies(bench_registry strawd)
