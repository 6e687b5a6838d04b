# The registry subcommands: ls, read, write, rm, watch, ps, status.
target_sources(straw_cli PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/registry_cmds.c)
