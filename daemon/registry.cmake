# strawd: the registry daemon: main and its arguments here, everything else
# in src/strawd (strawd_lib), which lists its modules explicitly.
add_executable(strawd ${CMAKE_CURRENT_SOURCE_DIR}/strawd.c)
target_link_libraries(strawd PRIVATE strawd_lib)
install(TARGETS strawd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
