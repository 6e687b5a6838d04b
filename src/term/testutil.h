/* src/term/testutil.h - helpers for the term layer's tests (not built into
 * libstraw). */
#ifndef STRAWI_TERM_TESTUTIL_H
#define STRAWI_TERM_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <straw/buf.h>
#include <straw/term.h>

#include "base/hex.h"

#define TU_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Decodes hex (spaces between bytes allowed) into a malloc'd buffer;
 * returns NULL on bad hex. */
static inline uint8_t *
tu_unhex(const char *hex, size_t *len)
{
	straw_buf b = STRAW_BUF_INIT;
	uint8_t *out = NULL;
	size_t bad;

	*len = 0;
	if (strawi_hex_decode(hex, strlen(hex), &b, &bad) == 0 &&
	    (out = malloc(b.len + 1)) != NULL) {
		if (b.len > 0)
			memcpy(out, b.data, b.len);
		*len = b.len;
	}
	straw_buf_fini(&b);
	return out;
}

/* Writes n bytes as upper-case hex into a malloc'd string. */
static inline char *
tu_hex(const uint8_t *p, size_t n)
{
	straw_buf b = STRAW_BUF_INIT;
	char *s = NULL;

	if (strawi_hex_encode(p, n, 0, &b) == 0 &&
	    (s = malloc(b.len + 1)) != NULL) {
		if (b.len > 0)
			memcpy(s, b.data, b.len);
		s[b.len] = '\0';
	}
	straw_buf_fini(&b);
	return s;
}

/* Reads every term of a checked buffer with the type-specific calls. */
static inline int
tu_walk(const uint8_t *buf, size_t len)
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
			if (rc == STRAW_ERANGE) /* node name > 255 bytes */
				rc = straw_cursor_skip(&c);
			break;
		}
		case STRAW_TERM_PORT: {
			straw_erl_port p;
			rc = straw_cursor_port(&c, &p);
			if (rc == STRAW_ERANGE) /* node name > 255 bytes */
				rc = straw_cursor_skip(&c);
			break;
		}
		case STRAW_TERM_PID: {
			straw_erl_pid p;
			rc = straw_cursor_pid(&c, &p);
			if (rc == STRAW_ERANGE) /* node name > 255 bytes */
				rc = straw_cursor_skip(&c);
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

/* A list nested depth deep, [[[...[]...]]], as LIST_EXT headers of one
 * element: version byte first, malloc'd (NULL without memory). */
static inline uint8_t *
tu_deep_list(size_t depth, size_t *len)
{
	size_t n = 1 + 5 * depth + 1 + depth, i, o = 0;
	uint8_t *b = malloc(n);

	if (b == NULL)
		return NULL;
	b[o++] = 131;
	for (i = 0; i < depth; i++) {
		b[o++] = 'l';
		b[o++] = 0;
		b[o++] = 0;
		b[o++] = 0;
		b[o++] = 1;
	}
	memset(b + o, 'j', depth + 1);
	*len = n;
	return b;
}

#endif /* STRAWI_TERM_TESTUTIL_H */
