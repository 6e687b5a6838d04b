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

/* Reads every term of a checked buffer with the type-specific calls. */
static int
walk(const uint8_t *buf, size_t len)
{
	straw_cursor c;
	uint64_t pending = 1;
	int rc;

	if ((rc = straw_cursor_init(&c, buf, len)) != 0)
		return rc;
	while (pending > 0) {
		int type = straw_cursor_type(&c);
		uint32_t n;
		pending--;
		switch (type) {
		case STRAW_TERM_INTEGER: {
			int64_t v;
			int neg;
			const uint8_t *mag;
			size_t k;
			rc = straw_cursor_int64(&c, &v);
			if (rc == STRAW_ERANGE)
				rc = straw_cursor_bignum(&c, &neg, &mag, &k);
			break;
		}
		case STRAW_TERM_FLOAT: {
			double d;
			rc = straw_cursor_double(&c, &d);
			break;
		}
		case STRAW_TERM_ATOM: {
			char name[STRAW_ATOM_MAX_BYTES + 1];
			rc = straw_cursor_atom(&c, name, sizeof(name), NULL);
			break;
		}
		case STRAW_TERM_REF: {
			straw_erl_ref r;
			rc = straw_cursor_ref(&c, &r);
			break;
		}
		case STRAW_TERM_PORT: {
			straw_erl_port p;
			rc = straw_cursor_port(&c, &p);
			break;
		}
		case STRAW_TERM_PID: {
			straw_erl_pid p;
			rc = straw_cursor_pid(&c, &p);
			break;
		}
		case STRAW_TERM_FUN:
			rc = straw_cursor_skip(&c);
			break;
		case STRAW_TERM_TUPLE:
			rc = straw_cursor_tuple(&c, &n);
			pending += n;
			break;
		case STRAW_TERM_MAP:
			rc = straw_cursor_map(&c, &n);
			pending += 2 * (uint64_t)n;
			break;
		case STRAW_TERM_NIL:
			rc = straw_cursor_nil(&c);
			break;
		case STRAW_TERM_LIST:
			rc = straw_cursor_list(&c, &n);
			pending += (uint64_t)n + 1;
			break;
		case STRAW_TERM_BINARY: {
			const uint8_t *d;
			uint64_t bits;
			rc = straw_cursor_bitstring(&c, &d, &bits);
			break;
		}
		default:
			return type;
		}
		if (rc != 0)
			return rc;
	}
	return straw_cursor_at_end(&c) ? 0 : STRAW_ETRAILING;
}

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
			CHECK_RC(walk(d.data, d.len), 0);
			straw_buf_fini(&d);
		} else {
			CHECK_RC(walk(b, len), 0);
		}
		CHECK_RC(straw_term_normalize(b, len, NULL, &norm, &fault), 0);
		CHECK_RC(straw_term_check(norm.data, norm.len, NULL, NULL), 0);
		CHECK_RC(walk(norm.data, norm.len), 0);
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
