/*
 * Every line of tests/data/otp25-vectors.txt (OTP 25's term_to_binary
 * output): checked, read whole with the cursor, normalized; the
 * minor_version 2 lines must come out byte for byte.  The other lines are
 * compared with a live erl by tests/term_oracle.cmake.
 */
#include <straw/alloc.h>
#include <straw/term.h>

#include "testing/check.h"
#include "term/testutil.h"

CASE(every_vector)
{
	FILE *f = fopen(STRAW_TERM_VECTORS, "r");
	char line[65536];
	int mv2 = 0, lines = 0, exact = 0;

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *tab = strchr(line, '\t'), *hex;
		straw_buf norm = STRAW_BUF_INIT, again = STRAW_BUF_INIT;
		uint8_t *b;
		size_t len, fault = 0;

		if (strncmp(line, "%%", 2) == 0) {
			mv2 = strstr(line, "opts for next line") != NULL &&
			      strstr(line, "{minor_version,2}") != NULL;
			continue;
		}
		if (tab == NULL)
			continue;
		hex = tab + 1;
		hex[strcspn(hex, "\r\n")] = '\0';
		b = tu_unhex(hex, &len);
		CHECK(b != NULL);
		lines++;
		fprintf(stderr, "  %.*s\n",
		        (int)(tab - line < 60 ? tab - line : 60), line);
		CHECK_RC(straw_term_check(b, len, NULL, &fault), 0);
		if (straw_term_is_compressed(b, len)) {
			straw_buf d = STRAW_BUF_INIT;
			CHECK_RC(straw_term_decompress(b, len, NULL, &d, NULL),
			         0);
			CHECK_RC(tu_walk(d.data, d.len), 0);
			straw_buf_fini(&d);
		} else {
			CHECK_RC(tu_walk(b, len), 0);
		}
		CHECK_RC(straw_term_normalize(b, len, NULL, &norm, &fault), 0);
		CHECK_RC(straw_term_check(norm.data, norm.len, NULL, NULL), 0);
		CHECK_RC(tu_walk(norm.data, norm.len), 0);
		CHECK_RC(straw_term_normalize(norm.data, norm.len, NULL, &again,
		                              NULL),
		         0);
		CHECK_MEM(again.data, again.len, norm.data, norm.len);
		CHECK(straw_term_equal(b, len, norm.data, norm.len));
		CHECK_EQ(straw_term_compare(b, len, norm.data, norm.len), 0);
		CHECK_EQ_U(straw_term_hash(b, len),
		           straw_term_hash(norm.data, norm.len));
		if (mv2) {
			CHECK_MEM(norm.data, norm.len, b, len);
			exact++;
		}
		mv2 = 0;
		straw_buf_fini(&norm);
		straw_buf_fini(&again);
		free(b);
	}
	fclose(f);
	CHECK_EQ(lines, 63);
	CHECK_EQ(exact, 2);
}

CHECK_MAIN(every_vector)
