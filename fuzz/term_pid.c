/*
 * Fuzz target: reading pids and references from hostile bytes
 * (straw_pid_decode, straw_ref_decode), and re-encoding what was read:
 * never reads out of bounds, consumes no more than given, and a pid read
 * back from its encoding is the same pid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <straw/straw.h>

#include "term/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan bounds */
	straw_pid pid, again;
	straw_ref ref, ragain;
	int n;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (strawi_node_self()->container == 0) { /* to encode short pids */
		strawi_node_set_container(3, "fuzz");
	}
	n = straw_pid_decode(copy, size, &pid);
	if (n > 0) {
		straw_buf b = STRAW_BUF_INIT;
		if ((size_t)n > size)
			abort();
		if (straw_pid_encode(&b, pid) == 0) {
			if (straw_pid_decode(b.data, b.len, &again) !=
			            (int)b.len ||
			    !straw_pid_equal(pid, again))
				abort();
		}
		straw_buf_fini(&b);
	}
	n = straw_ref_decode(copy, size, &ref);
	if (n > 0) {
		straw_buf b = STRAW_BUF_INIT;
		if ((size_t)n > size)
			abort();
		if (straw_ref_encode(&b, ref) == 0) {
			if (straw_ref_decode(b.data, b.len, &ragain) !=
			            (int)b.len ||
			    !straw_ref_equal(ref, ragain))
				abort();
		}
		straw_buf_fini(&b);
	}
	free(copy);
	return 0;
}
