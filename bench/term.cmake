# The term codec against libei (erl_interface): bench/term.c.
find_path(STRAW_EI_INCLUDE_DIR ei.h
	HINTS /usr/lib/erlang/usr/include /usr/local/lib/erlang/usr/include)
find_library(STRAW_EI_LIBRARY NAMES ei
	HINTS /usr/lib/erlang/usr/lib /usr/local/lib/erlang/usr/lib)
if(STRAW_EI_INCLUDE_DIR AND STRAW_EI_LIBRARY)
	straw_bench(term ${CMAKE_CURRENT_LIST_DIR}/term.c
		LIBS ${STRAW_EI_LIBRARY} Threads::Threads)
	target_include_directories(bench_term PRIVATE ${STRAW_EI_INCLUDE_DIR})
	target_compile_definitions(bench_term PRIVATE STRAW_HAVE_EI=1)
else()
	message(STATUS "libei not found: bench_term runs without its libei cases")
	straw_bench(term ${CMAKE_CURRENT_LIST_DIR}/term.c)
endif()
