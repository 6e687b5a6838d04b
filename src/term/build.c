/*
 * The builder: writes terms in straw's canonical encoding (OTP 25's
 * term_to_binary with minor_version 2) straight into a growable buffer.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "etf.h"

/* Grows b for k more bytes, recording failure as the sticky error. */
static __attribute__((noinline)) uint8_t *
bld_grow(straw_builder *b, size_t k)
{
	int rc = straw_buf_reserve(&b->buf, k);

	if (rc != 0) {
		b->err = rc;
		return NULL;
	}
	return b->buf.data + b->buf.len;
}

/* Room for k bytes at the end of b, or NULL (b->err set). */
static inline uint8_t *
bld_room(straw_builder *b, size_t k)
{
	if (unlikely(b->err != 0))
		return NULL;
	if (likely(b->buf.cap - b->buf.len >= k))
		return b->buf.data + b->buf.len;
	return bld_grow(b, k);
}

void
straw_builder_init(straw_builder *b)
{
	straw_buf_init(&b->buf);
	b->err = 0;
	straw_builder_reset(b);
}

void
straw_builder_reset(straw_builder *b)
{
	uint8_t *p;

	b->buf.len = 0;
	b->err = 0;
	if ((p = bld_room(b, 256)) != NULL) {
		p[0] = STRAW_ETF_VERSION;
		b->buf.len = 1;
	}
}

void
straw_builder_fini(straw_builder *b)
{
	if (b == NULL)
		return;
	straw_buf_fini(&b->buf);
	b->err = 0;
}

int
straw_builder_finish(straw_builder *b, uint8_t **out, size_t *len)
{
	int rc = b->err;

	if (rc != 0) {
		straw_buf_fini(&b->buf);
		*out = NULL;
		*len = 0;
		return rc;
	}
	*out = straw_buf_take(&b->buf, len);
	return 0;
}

/* The external definitions of the inline calls of straw/term.h. */
extern inline int straw_build_int(straw_builder *b, int64_t v);
extern inline int straw_build_double(straw_builder *b, double v);
extern inline int straw_build_atom(straw_builder *b, const char *utf8,
                                   size_t len);
extern inline int straw_build_atomz(straw_builder *b, const char *utf8);
extern inline int straw_build_binary(straw_builder *b, const void *data,
                                     size_t len);
extern inline int straw_build_tuple(straw_builder *b, uint32_t arity);
extern inline int straw_build_list(straw_builder *b, uint32_t n);
extern inline int straw_build_nil(straw_builder *b);
extern inline int straw_build_map(straw_builder *b, uint32_t pairs);
extern inline int straw_build_header(straw_builder *b, uint8_t short_tag,
                                     uint8_t tag, uint32_t n);

uint8_t *
straw_builder_room(straw_builder *b, size_t n)
{
	return bld_room(b, n);
}

static int bld_bignum_u64(straw_builder *b, int negative, uint64_t mag);

static int
bld_bignum_u64(straw_builder *b, int negative, uint64_t mag)
{
	uint8_t digits[8];
	size_t n = 0;

	while (mag != 0) {
		digits[n++] = (uint8_t)mag;
		mag >>= 8;
	}
	return straw_build_bignum(b, negative, digits, n);
}

int
straw_build_uint(straw_builder *b, uint64_t v)
{
	if (v <= INT32_MAX)
		return straw_build_int(b, (int64_t)v);
	return bld_bignum_u64(b, 0, v);
}

int
straw_build_bignum(straw_builder *b, int negative, const uint8_t *mag, size_t n)
{
	uint8_t *p;

	while (n > 0 && mag[n - 1] == 0)
		n--;
	if (n <= 4) {
		uint64_t m = 0;
		for (size_t i = n; i > 0; i--)
			m = m << 8 | mag[i - 1];
		if (!negative && m <= INT32_MAX)
			return straw_build_int(b, (int64_t)m);
		if (negative && m <= (uint64_t)1 << 31)
			return straw_build_int(b, -(int64_t)m);
	}
	if (n > UINT32_MAX) {
		if (b->err == 0)
			b->err = STRAW_ERANGE;
		return b->err;
	}
	if (n <= 255) {
		if ((p = bld_room(b, 3 + n)) == NULL)
			return b->err;
		p[0] = ETF_SMALL_BIG;
		p[1] = (uint8_t)n;
		p[2] = negative != 0;
		memcpy(p + 3, mag, n);
		b->buf.len += 3 + n;
		return 0;
	}
	if ((p = bld_room(b, 6 + n)) == NULL)
		return b->err;
	p[0] = ETF_LARGE_BIG;
	etf_put32(p + 1, (uint32_t)n);
	p[5] = negative != 0;
	memcpy(p + 6, mag, n);
	b->buf.len += 6 + n;
	return 0;
}

int
straw_build_atom_unicode(straw_builder *b, const char *utf8, size_t len)
{
	const uint8_t *s = (const uint8_t *)utf8;
	uint8_t *p, acc = 0;
	size_t i, chars;

	if (b->err != 0)
		return b->err;
	for (i = 0; i < len; i++)
		acc |= s[i];
	if (acc >= 0x80 || len > STRAW_ATOM_MAX_CHARS) {
		if (strawi_utf8_count(s, len, &chars) != 0 ||
		    chars > STRAW_ATOM_MAX_CHARS) {
			b->err = STRAW_EBADATOM;
			return b->err;
		}
	}
	if (len <= 255) {
		if ((p = bld_room(b, 2 + len)) == NULL)
			return b->err;
		p[0] = ETF_SMALL_ATOM_UTF8;
		p[1] = (uint8_t)len;
		memcpy(p + 2, s, len);
		b->buf.len += 2 + len;
		return 0;
	}
	if ((p = bld_room(b, 3 + len)) == NULL)
		return b->err;
	p[0] = ETF_ATOM_UTF8;
	etf_put16(p + 1, (uint16_t)len);
	memcpy(p + 3, s, len);
	b->buf.len += 3 + len;
	return 0;
}

int
straw_build_bitstring(straw_builder *b, const void *data, uint64_t bits)
{
	uint64_t bytes = (bits + 7) / 8;
	unsigned last = (unsigned)(bits % 8);
	uint8_t *p;

	if (last == 0)
		return straw_build_binary(b, data, (size_t)(bits / 8));
	if (bytes > UINT32_MAX) {
		if (b->err == 0)
			b->err = STRAW_ERANGE;
		return b->err;
	}
	if ((p = bld_room(b, 6 + (size_t)bytes)) == NULL)
		return b->err;
	p[0] = ETF_BIT_BINARY;
	etf_put32(p + 1, (uint32_t)bytes);
	p[5] = (uint8_t)last;
	memcpy(p + 6, data, (size_t)bytes);
	p[6 + bytes - 1] &= (uint8_t)(0xFF << (8 - last));
	b->buf.len += 6 + (size_t)bytes;
	return 0;
}

int
straw_build_string(straw_builder *b, const char *s, size_t len)
{
	uint8_t *p;
	size_t i;

	if (len == 0)
		return straw_build_nil(b);
	if (len <= 0xFFFF) {
		if ((p = bld_room(b, 3 + len)) == NULL)
			return b->err;
		p[0] = ETF_STRING;
		etf_put16(p + 1, (uint16_t)len);
		memcpy(p + 3, s, len);
		b->buf.len += 3 + len;
		return 0;
	}
	if (len > UINT32_MAX) {
		if (b->err == 0)
			b->err = STRAW_ERANGE;
		return b->err;
	}
	if ((p = bld_room(b, 6 + 2 * len)) == NULL)
		return b->err;
	p[0] = ETF_LIST;
	etf_put32(p + 1, (uint32_t)len);
	p += 5;
	for (i = 0; i < len; i++) {
		*p++ = ETF_SMALL_INTEGER;
		*p++ = (uint8_t)s[i];
	}
	*p = ETF_NIL;
	b->buf.len += 6 + 2 * len;
	return 0;
}

/* Writes a node name atom. */
static int
bld_node(straw_builder *b, const char *node)
{
	size_t n = strnlen(node, 256);

	if (n > 255) {
		if (b->err == 0)
			b->err = STRAW_EBADATOM;
		return b->err;
	}
	return straw_build_atom_unicode(b, node, n);
}

int
straw_build_pid(straw_builder *b, const straw_erl_pid *pid)
{
	uint8_t *p;

	if ((p = bld_room(b, 1)) == NULL)
		return b->err;
	p[0] = ETF_NEW_PID;
	b->buf.len++;
	if (bld_node(b, pid->node) != 0 || (p = bld_room(b, 12)) == NULL)
		return b->err;
	etf_put32(p, pid->id);
	etf_put32(p + 4, pid->serial);
	etf_put32(p + 8, pid->creation);
	b->buf.len += 12;
	return 0;
}

int
straw_build_port(straw_builder *b, const straw_erl_port *port)
{
	int v4 = port->id > STRAW_PORT_MAX_V3_ID;
	uint8_t *p;

	if ((p = bld_room(b, 1)) == NULL)
		return b->err;
	p[0] = v4 ? ETF_V4_PORT : ETF_NEW_PORT;
	b->buf.len++;
	if (bld_node(b, port->node) != 0 || (p = bld_room(b, 12)) == NULL)
		return b->err;
	if (v4) {
		etf_put64(p, port->id);
		etf_put32(p + 8, port->creation);
		b->buf.len += 12;
	} else {
		etf_put32(p, (uint32_t)port->id);
		etf_put32(p + 4, port->creation);
		b->buf.len += 8;
	}
	return 0;
}

int
straw_build_ref(straw_builder *b, const straw_erl_ref *ref)
{
	uint8_t *p;
	uint32_t i;

	if (ref->len < 1 || ref->len > STRAW_REF_MAX_WORDS) {
		if (b->err == 0)
			b->err = STRAW_ERANGE;
		return b->err;
	}
	if ((p = bld_room(b, 3)) == NULL)
		return b->err;
	p[0] = ETF_NEWER_REF;
	etf_put16(p + 1, (uint16_t)ref->len);
	b->buf.len += 3;
	if (bld_node(b, ref->node) != 0 ||
	    (p = bld_room(b, 4 + 4 * ref->len)) == NULL)
		return b->err;
	etf_put32(p, ref->creation);
	for (i = 0; i < ref->len; i++)
		etf_put32(p + 4 + 4 * i, ref->id[i]);
	b->buf.len += 4 + 4 * ref->len;
	return 0;
}

int
straw_build_export(straw_builder *b, const char *module, const char *function,
                   uint8_t arity)
{
	uint8_t *p;

	if ((p = bld_room(b, 1)) == NULL)
		return b->err;
	p[0] = ETF_EXPORT;
	b->buf.len++;
	if (straw_build_atomz(b, module) != 0 ||
	    straw_build_atomz(b, function) != 0 || (p = bld_room(b, 2)) == NULL)
		return b->err;
	p[0] = ETF_SMALL_INTEGER;
	p[1] = arity;
	b->buf.len += 2;
	return 0;
}

int
straw_build_raw(straw_builder *b, const uint8_t *term, size_t len)
{
	uint8_t *p;
	int rc;

	if (b->err != 0)
		return b->err;
	if ((rc = straw_term_check_body(term, len, NULL, NULL)) != 0) {
		b->err = rc;
		return rc;
	}
	if ((p = bld_room(b, len)) == NULL)
		return b->err;
	memcpy(p, term, len);
	b->buf.len += len;
	return 0;
}
