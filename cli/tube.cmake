# straw tubes: list tubes with their state, mode, counters and rates.
target_sources(straw_cli PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tubes.c)
