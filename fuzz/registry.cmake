# The registry protocol's frame and message parser.
straw_fuzz(registry_frames ${CMAKE_CURRENT_SOURCE_DIR}/registry_frames.c)
