# The text parser and printer (src/term/text*.c): see fuzz/term_text.c.
straw_fuzz(term_text ${CMAKE_CURRENT_SOURCE_DIR}/term_text.c)
