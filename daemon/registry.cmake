# strawd: the registry daemon.  It links libstraw's objects directly (not
# the static archive) so that every module registered with
# REG_SERVER_MODULE in any layer is part of it.
add_executable(strawd ${CMAKE_CURRENT_SOURCE_DIR}/strawd.c
	$<TARGET_OBJECTS:straw_obj>)
target_include_directories(strawd PRIVATE ${PROJECT_SOURCE_DIR}/src
	${PROJECT_SOURCE_DIR}/include)
target_link_libraries(strawd PRIVATE ZLIB::ZLIB Threads::Threads)
install(TARGETS strawd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
