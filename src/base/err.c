/* Error names and messages, generated from STRAW_ERROR_LIST. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <straw/err.h>

const char *
straw_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define STRAW_ERR_MSG_(name, val, msg) \
	case -(val):                   \
		return msg;
		STRAW_ERROR_LIST(STRAW_ERR_MSG_)
#undef STRAW_ERR_MSG_
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerror(
		        -err); /* glibc's table is static and thread-safe */
	return "unknown error";
}

const char *
straw_errname(int err)
{
	switch (err) {
	case 0:
		return "OK";
#define STRAW_ERR_NAME_(name, val, msg) \
	case -(val):                    \
		return #name;
		STRAW_ERROR_LIST(STRAW_ERR_NAME_)
#undef STRAW_ERR_NAME_
	default:
		break;
	}
	if (err < 0 && err > -4096) {
		const char *n = strerrorname_np(-err);
		if (n != NULL)
			return n;
	}
	return "UNKNOWN";
}
