# The ETF decoder: check, normalize, compare round trip (fuzz/term_decode.c).
straw_fuzz(term_decode ${CMAKE_CURRENT_LIST_DIR}/term_decode.c)
# The cursor on unchecked bytes: a generic walk agrees with the checker
# (fuzz/term_cursor.c).
straw_fuzz(term_cursor ${CMAKE_CURRENT_LIST_DIR}/term_cursor.c)
