# src/term: the text form and format strings (see docs/term-text.md).
target_sources(straw_obj PRIVATE text.c text_lex.c text_parse.c
	fmt_build.c fmt_cache.c fmt_match.c)
if(STRAW_TESTS)
	straw_test(term_text_test text_test.c)
	target_compile_definitions(term_text_test PRIVATE
		STRAW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
	straw_test(term_fmt_test fmt_test.c)
	straw_test(term_fmt_pid_test fmt_pid_test.c)
	target_compile_definitions(term_fmt_test PRIVATE
		STRAW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
