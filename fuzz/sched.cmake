# src/sched: the timer heap against a reference model.
straw_fuzz(sched_timer ${CMAKE_CURRENT_SOURCE_DIR}/sched_timer.c)
