# One-line helpers to register tests and fuzz targets.

# straw_test(NAME src.c... [TIMEOUT seconds] [LIBS lib...] [ARGS arg...])
# Builds a test program linked with libstraw (static, so internal symbols are
# visible) and registers it with ctest.  Default timeout: 120 s.
function(straw_test name)
	cmake_parse_arguments(T "" "TIMEOUT" "LIBS;ARGS" ${ARGN})
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 120)
	endif()
	add_executable(${name} ${T_UNPARSED_ARGUMENTS})
	target_link_libraries(${name} PRIVATE straw_static ${T_LIBS})
	target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
	add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
	set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
		ENVIRONMENT "STRAW_TEST_BUILD=${PROJECT_BINARY_DIR}")
endfunction()

# straw_fuzz(NAME src.c [LIBS lib...])
# The source defines LLVMFuzzerTestOneInput.  With STRAW_FUZZ it becomes a
# libFuzzer binary run for STRAW_FUZZ_SECONDS as a test, starting from
# fuzz/corpus/NAME; without it, a plain program that replays that corpus, so
# every build checks the target still compiles and passes its seeds.  LIBS
# are linked besides libstraw (strawd_lib for strawd's server).
function(straw_fuzz name src)
	cmake_parse_arguments(F "" "" "LIBS" ${ARGN})
	set(corpus ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
	if(STRAW_FUZZ)
		add_executable(${name} ${src})
		target_link_options(${name} PRIVATE -fsanitize=fuzzer)
		target_link_libraries(${name} PRIVATE straw_static ${F_LIBS})
		target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
		set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
		add_test(NAME ${name}
			COMMAND ${CMAKE_COMMAND} -E env
				${PROJECT_SOURCE_DIR}/fuzz/run-fuzzer.sh
				$<TARGET_FILE:${name}> ${work} ${corpus}
				${STRAW_FUZZ_SECONDS})
		math(EXPR t "${STRAW_FUZZ_SECONDS} + 120")
		# A fuzzer keeps a core busy for its whole run: run them one at a time
		# and alone, so they never starve the timing checks of other tests.
		set_tests_properties(${name} PROPERTIES TIMEOUT ${t} LABELS fuzz
			RUN_SERIAL TRUE)
	else()
		add_executable(${name} ${src} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.c)
		target_link_libraries(${name} PRIVATE straw_static ${F_LIBS})
		target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
		add_test(NAME ${name} COMMAND ${name} ${corpus})
		set_tests_properties(${name} PROPERTIES TIMEOUT 120)
	endif()
endfunction()
