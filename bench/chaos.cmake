# straw_chaos: the fault scenarios `make chaos` runs (scripts/chaos.sh);
# built with the benchmarks, never registered as a test.  It shares the
# attacks of tests/strawd_hostile_test.c through tests/strawd_util.h.
add_executable(straw_chaos ${CMAKE_CURRENT_SOURCE_DIR}/chaos.c)
target_link_libraries(straw_chaos PRIVATE straw_static)
target_include_directories(straw_chaos PRIVATE ${PROJECT_SOURCE_DIR}/src
	${PROJECT_SOURCE_DIR}/tests)
add_dependencies(straw_chaos strawd)
