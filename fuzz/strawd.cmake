# strawd's whole request path: a real server in-process, fed conversations
# on two connections of uid 0 or 65534.
straw_fuzz(strawd_requests ${CMAKE_CURRENT_SOURCE_DIR}/strawd_requests.c
	LIBS strawd_lib)
