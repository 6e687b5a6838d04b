# Suite "local": messages, round trips and spawns inside one container,
# against two processes of one Erlang node (bench/local_erl.erl).
straw_bench(local ${CMAKE_CURRENT_SOURCE_DIR}/local.c)
target_compile_definitions(bench_local PRIVATE
	STRAW_BENCH_SRC="${PROJECT_SOURCE_DIR}/bench")
