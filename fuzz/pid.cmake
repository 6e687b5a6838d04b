# Pids and references read from hostile bytes (src/term/node.c).
straw_fuzz(term_pid ${CMAKE_CURRENT_SOURCE_DIR}/term_pid.c)
