# The process layer: pids and references read from hostile bytes.
straw_fuzz(proc_pid ${CMAKE_CURRENT_SOURCE_DIR}/proc_pid.c)
