/* Registry path validation. */
#include <string.h>

#include "base/base.h"
#include "registry/path.h"

int
reg_path_check(const char *p, size_t len)
{
	size_t i, comp = 0;

	if (len == 0 || len > REG_PATH_MAX || p[0] != '/')
		return STRAW_EBADPATH;
	if (len == 1)
		return 0;
	for (i = 1; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)p[i] : '/';
		if (c == '/') {
			if (comp == 0)
				return STRAW_EBADPATH; /* empty or trailing */
			if ((comp == 1 && p[i - 1] == '.') ||
			    (comp == 2 && p[i - 1] == '.' && p[i - 2] == '.'))
				return STRAW_EBADPATH;
			comp = 0;
			continue;
		}
		if (c <= 0x20 || c >= 0x7f)
			return STRAW_EBADPATH;
		comp++;
	}
	return 0;
}

int
reg_path_within(const char *path, size_t len, const char *prefix, size_t plen)
{
	if (plen == 1)
		return 1; /* everything is below "/" */
	if (len < plen || memcmp(path, prefix, plen) != 0)
		return 0;
	return len == plen || path[plen] == '/';
}
