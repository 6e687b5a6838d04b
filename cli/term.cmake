# straw term: encode, decode and check Erlang terms (src/term/term_tool.c).
target_sources(straw_cli PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/term.c)
