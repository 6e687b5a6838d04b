# The ETF decoder: check, normalize, compare round trip (fuzz/term_decode.c).
straw_fuzz(term_decode ${CMAKE_CURRENT_LIST_DIR}/term_decode.c)
