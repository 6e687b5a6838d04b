/*
 * Fuzz target for the ETF decoder, with a round-trip property: bytes that
 * straw_term_check accepts normalize to a canonical term that checks again,
 * is equal to the input (=:=, compare 0, same hash), and normalizes to
 * itself.  Bytes it refuses are still read with a cursor, which must not
 * overrun them, and straw_term_normalize refuses them with the same code
 * (duplicate map keys: at the same map).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <straw/alloc.h>
#include <straw/term.h>

#include "term/testutil.h"

#define REQUIRE(cond)                                                    \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "property failed: %s\n", #cond); \
			abort();                                         \
		}                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	straw_term_limits lim = {10000, 1 << 22, 1 << 22};
	straw_buf norm = STRAW_BUF_INIT, again = STRAW_BUF_INIT;
	straw_buf plain = STRAW_BUF_INIT;
	size_t fault = (size_t)-1;
	int rc;

	rc = straw_term_check(data, size, &lim, &fault);
	if (rc != 0) {
		if (!straw_term_is_compressed(data, size))
			REQUIRE(fault <= size);
		/* Unchecked bytes: errors, never overruns. */
		(void)tu_walk(data, size);
		{
			size_t nfault = (size_t)-1;
			REQUIRE(straw_term_normalize(data, size, &lim, &norm,
			                             &nfault) == rc);
			/* Both find the same map with equal keys. */
			if (rc == STRAW_EDUPKEY)
				REQUIRE(nfault == fault);
		}
		REQUIRE(norm.len == 0);
		goto out;
	}
	REQUIRE(straw_term_decompress(data, size, &lim, &plain, NULL) == 0);
	REQUIRE(tu_walk(plain.data, plain.len) == 0);
	rc = straw_term_normalize(data, size, &lim, &norm, &fault);
	REQUIRE(rc == 0); /* duplicate map keys: the check refused them */
	REQUIRE(straw_term_check(norm.data, norm.len, NULL, NULL) == 0);
	REQUIRE(straw_term_equal(data, size, norm.data, norm.len));
	REQUIRE(straw_term_compare(data, size, norm.data, norm.len) == 0);
	REQUIRE(straw_term_hash(data, size) ==
	        straw_term_hash(norm.data, norm.len));
	REQUIRE(straw_term_normalize(norm.data, norm.len, NULL, &again, NULL) ==
	        0);
	REQUIRE(again.len == norm.len &&
	        memcmp(again.data, norm.data, norm.len) == 0);
out:
	straw_buf_fini(&norm);
	straw_buf_fini(&again);
	straw_buf_fini(&plain);
	return 0;
}
