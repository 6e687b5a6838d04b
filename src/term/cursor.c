/*
 * The cursor: reads a term in place.  Every read is bounds-checked and
 * validates what it returns, so a cursor over unchecked bytes returns the
 * fault's code rather than reading past the end or returning bad values.
 */
#include <math.h>
#include <string.h>

#include "etf.h"

/* The external definitions of the inline calls of straw/term.h. */
extern inline int straw_cursor_int64(straw_cursor *c, int64_t *v);
extern inline int straw_cursor_double(straw_cursor *c, double *v);
extern inline int straw_cursor_atom_is(straw_cursor *c, const char *name);
extern inline int straw_cursor_atom_eq(straw_cursor *c, const char *name,
                                       size_t len);
extern inline int straw_cursor_tagged(straw_cursor *c, const char *tag,
                                      size_t len, uint32_t *arity);
extern inline int straw_cursor_binary(straw_cursor *c, const uint8_t **data,
                                      size_t *len);
extern inline int straw_cursor_tuple(straw_cursor *c, uint32_t *arity);
extern inline int straw_cursor_list(straw_cursor *c, uint32_t *n);
extern inline int straw_cursor_nil(straw_cursor *c);
extern inline int straw_cursor_init(straw_cursor *c, const uint8_t *buf,
                                    size_t len);
extern inline int straw_cursor_at_end(const straw_cursor *c);
extern inline size_t straw_cursor_offset(const straw_cursor *c);

_Static_assert(ETF_COMPRESSED == 80, "straw_cursor_init's compressed tag");

void
straw_cursor_init_body(straw_cursor *c, const uint8_t *buf, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->len = len;
	c->p = buf;
	c->lim = buf + len;
	c->safe = STRAW_CURSOR_SAFE_(buf, c->lim);
}

/* The offset of c's next term. */
static inline size_t
cur_off(const straw_cursor *c)
{
	return (size_t)(c->p - c->buf);
}

/* Keeps lim, the inline reads' limit, at buf inside a STRING_EXT. */
static inline void
cur_sync(straw_cursor *c)
{
	c->lim = c->buf + ((c->str_left | c->str_tail) != 0 ? 0 : c->len);
	c->safe = STRAW_CURSOR_SAFE_(c->buf, c->lim);
}

/*
 * The offset of the next term, past any empty LIST_EXT headers (a LIST_EXT
 * of 0 elements stands for its tail).
 */
static inline size_t
cur_pos(const straw_cursor *c)
{
	size_t pos = cur_off(c);

	while (unlikely(pos < c->len && c->buf[pos] == ETF_LIST) &&
	       c->len - pos >= 5 && etf_get32(c->buf + pos + 1) == 0)
		pos += 5;
	return pos;
}

/* A string element was consumed. */
static inline void
cur_str_next(straw_cursor *c)
{
	c->p++;
	if (--c->str_left == 0)
		c->str_tail = 1;
}

int
strawi_tag_type(uint8_t tag)
{
	switch (tag) {
	case ETF_SMALL_INTEGER:
	case ETF_INTEGER:
	case ETF_SMALL_BIG:
	case ETF_LARGE_BIG:
		return STRAW_TERM_INTEGER;
	case ETF_NEW_FLOAT:
	case ETF_FLOAT:
		return STRAW_TERM_FLOAT;
	case ETF_ATOM:
	case ETF_SMALL_ATOM:
	case ETF_ATOM_UTF8:
	case ETF_SMALL_ATOM_UTF8:
		return STRAW_TERM_ATOM;
	case ETF_REFERENCE:
	case ETF_NEW_REFERENCE:
	case ETF_NEWER_REF:
		return STRAW_TERM_REF;
	case ETF_NEW_FUN:
	case ETF_EXPORT:
		return STRAW_TERM_FUN;
	case ETF_PORT:
	case ETF_NEW_PORT:
	case ETF_V4_PORT:
		return STRAW_TERM_PORT;
	case ETF_PID:
	case ETF_NEW_PID:
		return STRAW_TERM_PID;
	case ETF_SMALL_TUPLE:
	case ETF_LARGE_TUPLE:
		return STRAW_TERM_TUPLE;
	case ETF_MAP:
		return STRAW_TERM_MAP;
	case ETF_NIL:
		return STRAW_TERM_NIL;
	case ETF_STRING:
	case ETF_LIST:
		return STRAW_TERM_LIST;
	case ETF_BINARY:
	case ETF_BIT_BINARY:
		return STRAW_TERM_BINARY;
	default:
		return STRAW_EBADTAG;
	}
}

int
straw_cursor_type(const straw_cursor *c)
{
	size_t pos;

	if (c->str_left)
		return STRAW_TERM_INTEGER;
	if (c->str_tail)
		return STRAW_TERM_NIL;
	pos = cur_pos(c);
	if (pos >= c->len)
		return STRAW_ETRUNC;
	if (c->buf[pos] == ETF_STRING && c->len - pos >= 3 &&
	    etf_get16(c->buf + pos + 1) == 0)
		return STRAW_TERM_NIL;
	return strawi_tag_type(c->buf[pos]);
}

/*
 * Reads the header of the SMALL_BIG or LARGE_BIG at p (rem bytes left):
 * *hdr gets the header's size (tag, length, sign byte) and *n the number
 * of magnitude bytes after it.  Returns 0 or STRAW_ETRUNC.
 */
static int
big_header(const uint8_t *p, size_t rem, size_t *hdr, size_t *n)
{
	if (p[0] == ETF_SMALL_BIG) {
		if (rem < 3)
			return STRAW_ETRUNC;
		*n = p[1];
		*hdr = 3;
	} else {
		if (rem < 6)
			return STRAW_ETRUNC;
		*n = etf_get32(p + 1);
		*hdr = 6;
	}
	return rem - *hdr < *n ? STRAW_ETRUNC : 0;
}

/*
 * Reads the integer at the cursor as sign and magnitude up to 64 bits.
 * *size gets its encoded size.  Returns 0, STRAW_ERANGE (more than 64
 * bits), STRAW_ETYPE, STRAW_ETRUNC.
 */
static int
cur_int(const straw_cursor *c, size_t pos, int *neg, uint64_t *mag,
        size_t *size)
{
	const uint8_t *p = c->buf + pos;
	size_t rem = c->len - pos, n, hdr, i;

	if (pos >= c->len)
		return STRAW_ETRUNC;
	switch (p[0]) {
	case ETF_SMALL_INTEGER:
		if (rem < 2)
			return STRAW_ETRUNC;
		*neg = 0;
		*mag = p[1];
		*size = 2;
		return 0;
	case ETF_INTEGER: {
		int32_t v;
		if (rem < 5)
			return STRAW_ETRUNC;
		v = (int32_t)etf_get32(p + 1);
		*neg = v < 0;
		*mag = v < 0 ? (uint64_t)0 - (uint64_t)(int64_t)v : (uint64_t)v;
		*size = 5;
		return 0;
	}
	case ETF_SMALL_BIG:
	case ETF_LARGE_BIG: {
		int rc = big_header(p, rem, &hdr, &n);
		if (rc != 0)
			return rc;
		break;
	}
	default:
		return strawi_tag_type(p[0]) < 0 ? STRAW_EBADTAG : STRAW_ETYPE;
	}
	*neg = p[hdr - 1] != 0;
	*size = hdr + n;
	*mag = 0;
	for (i = n; i > 0; i--) {
		if (p[hdr + i - 1] == 0 && *mag == 0)
			continue;
		if (i > 8)
			return STRAW_ERANGE;
		*mag = *mag << 8 | p[hdr + i - 1];
	}
	if (*mag == 0)
		*neg = 0;
	return 0;
}

/*
 * The next integer (a string element too) as sign and magnitude, not
 * consumed: *end is where it ends, 0 for a string element; cur_int_take
 * consumes it.
 */
static int
cur_int_peek(straw_cursor *c, int *neg, uint64_t *mag, size_t *end)
{
	size_t pos, size;
	int rc;

	if (c->str_left) {
		*neg = 0;
		*mag = c->buf[cur_off(c)];
		*end = 0;
		return 0;
	}
	if (c->str_tail)
		return STRAW_ETYPE;
	pos = cur_pos(c);
	if ((rc = cur_int(c, pos, neg, mag, &size)) != 0)
		return rc;
	*end = pos + size;
	return 0;
}

static void
cur_int_take(straw_cursor *c, size_t end)
{
	if (end == 0)
		cur_str_next(c);
	else
		c->p = c->buf + end;
}

int
straw_cursor_int64_general(straw_cursor *c, int64_t *v)
{
	uint64_t mag;
	size_t end;
	int neg, rc;

	if ((rc = cur_int_peek(c, &neg, &mag, &end)) != 0)
		return rc;
	if (neg ? mag > (uint64_t)1 << 63 : mag > (uint64_t)INT64_MAX)
		return STRAW_ERANGE;
	*v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	cur_int_take(c, end);
	return 0;
}

int
straw_cursor_uint64(straw_cursor *c, uint64_t *v)
{
	uint64_t mag;
	size_t end;
	int neg, rc;

	if ((rc = cur_int_peek(c, &neg, &mag, &end)) != 0)
		return rc;
	if (neg)
		return STRAW_ERANGE;
	*v = mag;
	cur_int_take(c, end);
	return 0;
}

int
straw_cursor_bignum(straw_cursor *c, int *negative, const uint8_t **mag,
                    size_t *n)
{
	const uint8_t *p;
	size_t pos, rem, len, hdr;

	if (c->str_left) {
		c->scratch[0] = c->buf[cur_off(c)];
		*negative = 0;
		*mag = c->scratch;
		*n = 1;
		cur_str_next(c);
		return 0;
	}
	if (c->str_tail)
		return STRAW_ETYPE;
	pos = cur_pos(c);
	if (pos >= c->len)
		return STRAW_ETRUNC;
	p = c->buf + pos;
	rem = c->len - pos;
	switch (p[0]) {
	case ETF_SMALL_INTEGER:
	case ETF_INTEGER: {
		uint64_t m;
		size_t size;
		int neg, rc;
		if ((rc = cur_int(c, pos, &neg, &m, &size)) != 0)
			return rc;
		for (int i = 0; i < 8; i++)
			c->scratch[i] = (uint8_t)(m >> (8 * i));
		*negative = neg;
		*mag = c->scratch;
		*n = 4;
		c->p = c->buf + pos + size;
		return 0;
	}
	case ETF_SMALL_BIG:
	case ETF_LARGE_BIG: {
		int rc = big_header(p, rem, &hdr, &len);
		if (rc != 0)
			return rc;
		break;
	}
	default:
		return strawi_tag_type(p[0]) < 0 ? STRAW_EBADTAG : STRAW_ETYPE;
	}
	*negative = p[hdr - 1] != 0;
	*mag = p + hdr;
	*n = len;
	c->p = c->buf + pos + hdr + len;
	return 0;
}

int
straw_cursor_double_general(straw_cursor *c, double *v)
{
	const uint8_t *p;
	size_t pos;

	if (c->str_left)
		return STRAW_ETYPE;
	if (c->str_tail)
		return STRAW_ETYPE;
	pos = cur_pos(c);
	if (pos >= c->len)
		return STRAW_ETRUNC;
	p = c->buf + pos;
	if (p[0] == ETF_NEW_FLOAT) {
		uint64_t bits;
		if (c->len - pos < 9)
			return STRAW_ETRUNC;
		bits = etf_get64(p + 1);
		if ((bits & 0x7FF0000000000000ULL) == 0x7FF0000000000000ULL)
			return STRAW_EBADTERM; /* NaN, infinity */
		memcpy(v, &bits, 8);
		c->p = c->buf + pos + 9;
		return 0;
	}
	if (p[0] == ETF_FLOAT) {
		if (c->len - pos < 32)
			return STRAW_ETRUNC;
		if (strawi_etf_old_float(p + 1, v) != 0)
			return STRAW_EBADTERM;
		c->p = c->buf + pos + 32;
		return 0;
	}
	return strawi_tag_type(p[0]) < 0 ? STRAW_EBADTAG : STRAW_ETYPE;
}

/* Checks an atom's name: at most 255 characters, valid UTF-8. */
static int
cur_atom_valid(const uint8_t *name, size_t n, int utf8)
{
	size_t chars;

	if (utf8) {
		if (n > STRAW_ATOM_MAX_BYTES ||
		    strawi_utf8_count(name, n, &chars) != 0 ||
		    chars > STRAW_ATOM_MAX_CHARS)
			return STRAW_EBADATOM;
	} else if (n > STRAW_ATOM_MAX_CHARS) {
		return STRAW_EBADATOM;
	}
	return 0;
}

/* Finds the atom at the cursor and checks its name. */
static int
cur_atom(const straw_cursor *c, size_t *pos, size_t *hdr, size_t *n, int *utf8)
{
	int rc;

	if (c->str_left || c->str_tail)
		return STRAW_ETYPE;
	*pos = cur_pos(c);
	if (*pos >= c->len)
		return STRAW_ETRUNC;
	rc = etf_atom_at(c->buf + *pos, c->len - *pos, hdr, n, utf8);
	if (rc == -1)
		return strawi_tag_type(c->buf[*pos]) < 0 ? STRAW_EBADTAG
		                                         : STRAW_ETYPE;
	if (rc == -2)
		return STRAW_ETRUNC;
	return cur_atom_valid(c->buf + *pos + *hdr, *n, *utf8);
}

int
straw_cursor_atom(straw_cursor *c, char *out, size_t cap, size_t *len)
{
	const uint8_t *name;
	size_t pos, hdr, n, need;
	int utf8, rc;

	if ((rc = cur_atom(c, &pos, &hdr, &n, &utf8)) != 0)
		return rc;
	name = c->buf + pos + hdr;
	need = utf8 ? n : etf_latin1_utf8_len(name, n);
	if (len != NULL)
		*len = need;
	if (need >= cap)
		return STRAW_ERANGE;
	if (utf8)
		memcpy(out, name, n);
	else
		etf_latin1_to_utf8(name, n, (uint8_t *)out);
	out[need] = '\0';
	c->p = c->buf + pos + hdr + n;
	return 0;
}

int
straw_cursor_atom_is_general(straw_cursor *c, const char *want)
{
	const uint8_t *name, *w = (const uint8_t *)want;
	size_t pos, hdr, n, i, j = 0, wlen = strlen(want);
	int utf8, rc;

	if ((rc = cur_atom(c, &pos, &hdr, &n, &utf8)) != 0)
		return rc == STRAW_ETYPE ? 0 : rc;
	name = c->buf + pos + hdr;
	/* The atom's bytes may hold NULs; compare by length, never
	 * reading want past its terminator. */
	if (utf8) {
		if (n != wlen || memcmp(name, want, n) != 0)
			return 0;
	} else {
		for (i = 0; i < n; i++) {
			uint8_t b = name[i];
			if (b < 0x80) {
				if (j >= wlen || w[j++] != b)
					return 0;
			} else {
				if (j + 2 > wlen ||
				    w[j] != (uint8_t)(0xC0 | (b >> 6)) ||
				    w[j + 1] != (uint8_t)(0x80 | (b & 0x3F)))
					return 0;
				j += 2;
			}
		}
		if (j != wlen)
			return 0;
	}
	c->p = c->buf + pos + hdr + n;
	return 1;
}

int
straw_cursor_atom_eq_general(straw_cursor *c, const char *want, size_t wlen)
{
	uint8_t conv[2 * STRAW_ATOM_MAX_CHARS];
	const uint8_t *name;
	size_t pos, hdr, n, size;
	int utf8, rc;

	if ((rc = cur_atom(c, &pos, &hdr, &n, &utf8)) != 0)
		return rc == STRAW_ETYPE ? 0 : rc;
	name = c->buf + pos + hdr;
	size = hdr + n;
	if (!utf8) { /* checked: at most 255 Latin-1 characters */
		n = etf_latin1_to_utf8(name, n, conv);
		name = conv;
	}
	if (n != wlen || (n != 0 && memcmp(name, want, n) != 0))
		return 0;
	c->p = c->buf + pos + size;
	return 1;
}

int
straw_cursor_tagged_general(straw_cursor *c, const char *tag, size_t len,
                            uint32_t *arity)
{
	straw_cursor t = *c;
	uint32_t n;
	int rc;

	*arity = 0;
	if ((rc = straw_cursor_tuple(&t, &n)) != 0)
		return rc == STRAW_ETYPE ? 0 : rc;
	if (n == 0)
		return 0;
	if ((rc = straw_cursor_atom_eq(&t, tag, len)) != 1)
		return rc; /* 0: another first element; <0: malformed */
	*c = t;
	*arity = n;
	return 1;
}

int
straw_cursor_bitstring(straw_cursor *c, const uint8_t **data, uint64_t *bits)
{
	const uint8_t *p;
	size_t pos, rem;
	uint32_t n;

	if (c->str_left || c->str_tail)
		return STRAW_ETYPE;
	pos = cur_pos(c);
	if (pos >= c->len)
		return STRAW_ETRUNC;
	p = c->buf + pos;
	rem = c->len - pos;
	if (p[0] == ETF_BINARY) {
		if (rem < 5 || rem - 5 < (n = etf_get32(p + 1)))
			return STRAW_ETRUNC;
		*data = p + 5;
		*bits = (uint64_t)n * 8;
		c->p = c->buf + pos + 5 + n;
		return 0;
	}
	if (p[0] == ETF_BIT_BINARY) {
		if (rem < 6 || rem - 6 < (n = etf_get32(p + 1)))
			return STRAW_ETRUNC;
		if ((p[5] == 0) != (n == 0) || p[5] > 8)
			return STRAW_EBADTERM;
		*data = p + 6;
		*bits = n == 0 ? 0 : (uint64_t)(n - 1) * 8 + p[5];
		c->p = c->buf + pos + 6 + n;
		return 0;
	}
	return strawi_tag_type(p[0]) < 0 ? STRAW_EBADTAG : STRAW_ETYPE;
}

int
straw_cursor_binary_general(straw_cursor *c, const uint8_t **data, size_t *len)
{
	straw_cursor save = *c;
	uint64_t bits;
	int rc;

	if (!c->str_left && !c->str_tail && cur_off(c) + 5 <= c->len &&
	    c->buf[cur_off(c)] == ETF_BINARY) {
		uint32_t n = etf_get32(c->buf + cur_off(c) + 1);
		if (c->len - cur_off(c) - 5 < n)
			return STRAW_ETRUNC;
		*data = c->buf + cur_off(c) + 5;
		*len = n;
		c->p += 5 + n;
		return 0;
	}
	if ((rc = straw_cursor_bitstring(c, data, &bits)) != 0)
		return rc;
	if (bits % 8 != 0) {
		*c = save;
		return STRAW_ETYPE;
	}
	*len = (size_t)(bits / 8);
	return 0;
}

int
straw_cursor_tuple_general(straw_cursor *c, uint32_t *arity)
{
	const uint8_t *p;
	size_t pos;

	if (c->str_left || c->str_tail)
		return STRAW_ETYPE;
	pos = cur_pos(c);
	if (pos >= c->len)
		return STRAW_ETRUNC;
	p = c->buf + pos;
	if (p[0] == ETF_SMALL_TUPLE) {
		if (c->len - pos < 2)
			return STRAW_ETRUNC;
		if (p[1] > c->len - pos - 2)
			return STRAW_ETRUNC; /* each element takes a byte */
		*arity = p[1];
		c->p = c->buf + pos + 2;
		return 0;
	}
	if (p[0] == ETF_LARGE_TUPLE) {
		if (c->len - pos < 5 || etf_get32(p + 1) > c->len - pos - 5)
			return STRAW_ETRUNC;
		*arity = etf_get32(p + 1);
		c->p = c->buf + pos + 5;
		return 0;
	}
	return strawi_tag_type(p[0]) < 0 ? STRAW_EBADTAG : STRAW_ETYPE;
}

int
straw_cursor_list_general(straw_cursor *c, uint32_t *n)
{
	const uint8_t *p;
	size_t pos;

	if (c->str_left)
		return STRAW_ETYPE;
	if (c->str_tail) {
		c->str_tail = 0;
		cur_sync(c);
		*n = 0;
		return 0;
	}
	pos = cur_pos(c);
	if (pos >= c->len)
		return STRAW_ETRUNC;
	p = c->buf + pos;
	switch (p[0]) {
	case ETF_NIL:
		*n = 0;
		c->p = c->buf + pos + 1;
		return 0;
	case ETF_LIST:
		/* n elements and the tail: n + 1 bytes at least. */
		if (c->len - pos < 6 || etf_get32(p + 1) > c->len - pos - 6)
			return STRAW_ETRUNC;
		*n = etf_get32(p + 1); /* not 0: see cur_pos */
		c->p = c->buf + pos + 5;
		return 0;
	case ETF_STRING: {
		uint16_t k;
		if (c->len - pos < 3 ||
		    c->len - pos - 3 < (k = etf_get16(p + 1)))
			return STRAW_ETRUNC;
		*n = k;
		c->p = c->buf + pos + 3;
		c->str_left = k;
		cur_sync(c);
		return 0;
	}
	default:
		return strawi_tag_type(p[0]) < 0 ? STRAW_EBADTAG : STRAW_ETYPE;
	}
}

int
straw_cursor_nil_general(straw_cursor *c)
{
	uint32_t n;
	int type = straw_cursor_type(c), rc;

	if (type != STRAW_TERM_NIL)
		return type < 0 ? type : STRAW_ETYPE;
	rc = straw_cursor_list(c, &n);
	STRAWI_ASSERT(rc == 0 && n == 0);
	return 0;
}

int
straw_cursor_map(straw_cursor *c, uint32_t *pairs)
{
	size_t pos;

	if (c->str_left || c->str_tail)
		return STRAW_ETYPE;
	pos = cur_pos(c);
	if (pos >= c->len)
		return STRAW_ETRUNC;
	if (c->buf[pos] != ETF_MAP)
		return strawi_tag_type(c->buf[pos]) < 0 ? STRAW_EBADTAG
		                                        : STRAW_ETYPE;
	/* Each pair takes two bytes at least. */
	if (c->len - pos < 5 ||
	    etf_get32(c->buf + pos + 1) > (c->len - pos - 5) / 2)
		return STRAW_ETRUNC;
	*pairs = etf_get32(c->buf + pos + 1);
	c->p = c->buf + pos + 5;
	return 0;
}

/* Copies the node atom at pos (checked) into node[256]; *next after it. */
static int
cur_node(const straw_cursor *c, size_t pos, char *node, size_t *next)
{
	size_t hdr, n, need;
	int utf8, rc;

	rc = etf_atom_at(c->buf + pos, c->len - pos, &hdr, &n, &utf8);
	if (rc != 0)
		return rc == -1 ? STRAW_EBADTERM : STRAW_ETRUNC;
	need = utf8 ? n : etf_latin1_utf8_len(c->buf + pos + hdr, n);
	if (need > 255)
		return STRAW_ERANGE;
	if (utf8)
		memcpy(node, c->buf + pos + hdr, n);
	else
		etf_latin1_to_utf8(c->buf + pos + hdr, n, (uint8_t *)node);
	node[need] = '\0';
	*next = pos + hdr + n;
	return 0;
}

/* Finds the identifier (pid, port, ref) at the cursor; checks its bytes. */
static int
cur_ident(straw_cursor *c, size_t *pos, int type)
{
	size_t next, fault;
	int rc;

	if (c->str_left || c->str_tail)
		return STRAW_ETYPE;
	*pos = cur_pos(c);
	if (*pos >= c->len)
		return STRAW_ETRUNC;
	rc = strawi_tag_type(c->buf[*pos]);
	if (rc < 0)
		return rc;
	if (rc != type)
		return STRAW_ETYPE;
	/* Validates the node atom and the length of the whole term. */
	return strawi_check_ident(c->buf, c->len, *pos, &next, &fault);
}

/* A pid or port of the given type: its tag, its node copied into node[256]
 * and *p after it. */
static int
cur_ident_node(straw_cursor *c, int type, uint8_t *tag, char *node, size_t *p)
{
	size_t pos;
	int rc;

	if ((rc = cur_ident(c, &pos, type)) != 0)
		return rc;
	*tag = c->buf[pos];
	return cur_node(c, pos + 1, node, p);
}

int
straw_cursor_pid(straw_cursor *c, straw_erl_pid *pid)
{
	size_t p;
	uint8_t tag;
	int rc;

	if ((rc = cur_ident_node(c, STRAW_TERM_PID, &tag, pid->node, &p)) != 0)
		return rc;
	pid->id = etf_get32(c->buf + p);
	pid->serial = etf_get32(c->buf + p + 4);
	if (tag == ETF_NEW_PID) {
		pid->creation = etf_get32(c->buf + p + 8);
		c->p = c->buf + p + 12;
	} else {
		pid->creation = c->buf[p + 8];
		c->p = c->buf + p + 9;
	}
	return 0;
}

int
straw_cursor_port(straw_cursor *c, straw_erl_port *port)
{
	size_t p;
	uint8_t tag;
	int rc;

	if ((rc = cur_ident_node(c, STRAW_TERM_PORT, &tag, port->node, &p)) !=
	    0)
		return rc;
	switch (tag) {
	case ETF_V4_PORT:
		port->id = etf_get64(c->buf + p);
		port->creation = etf_get32(c->buf + p + 8);
		c->p = c->buf + p + 12;
		break;
	case ETF_NEW_PORT:
		port->id = etf_get32(c->buf + p);
		port->creation = etf_get32(c->buf + p + 4);
		c->p = c->buf + p + 8;
		break;
	default:
		port->id = etf_get32(c->buf + p);
		port->creation = c->buf[p + 4];
		c->p = c->buf + p + 5;
		break;
	}
	return 0;
}

int
straw_cursor_ref(straw_cursor *c, straw_erl_ref *ref)
{
	size_t pos, p;
	uint8_t tag;
	uint32_t i;
	int rc;

	if ((rc = cur_ident(c, &pos, STRAW_TERM_REF)) != 0)
		return rc;
	tag = c->buf[pos];
	memset(ref->id, 0, sizeof(ref->id));
	if (tag == ETF_REFERENCE) {
		if ((rc = cur_node(c, pos + 1, ref->node, &p)) != 0)
			return rc;
		ref->len = 1;
		ref->id[0] = etf_get32(c->buf + p);
		ref->creation = c->buf[p + 4];
		c->p = c->buf + p + 5;
		return 0;
	}
	ref->len = etf_get16(c->buf + pos + 1);
	if ((rc = cur_node(c, pos + 3, ref->node, &p)) != 0)
		return rc;
	if (tag == ETF_NEWER_REF) {
		ref->creation = etf_get32(c->buf + p);
		p += 4;
	} else {
		ref->creation = c->buf[p];
		p += 1;
	}
	for (i = 0; i < ref->len; i++)
		ref->id[i] = etf_get32(c->buf + p + 4 * i);
	c->p = c->buf + p + 4 * ref->len;
	return 0;
}

int
straw_cursor_export(straw_cursor *c, char *module, size_t mcap, char *function,
                    size_t fcap, uint8_t *arity)
{
	straw_cursor t;
	size_t pos;
	int rc;

	if (c->str_left || c->str_tail)
		return STRAW_ETYPE;
	pos = cur_pos(c);
	if (pos >= c->len)
		return STRAW_ETRUNC;
	if (c->buf[pos] != ETF_EXPORT)
		return strawi_tag_type(c->buf[pos]) < 0 ? STRAW_EBADTAG
		                                        : STRAW_ETYPE;
	/* Read the parts with a copy, so that a failure consumes nothing. */
	t = *c;
	t.p = t.buf + pos + 1;
	if ((rc = straw_cursor_atom(&t, module, mcap, NULL)) != 0 ||
	    (rc = straw_cursor_atom(&t, function, fcap, NULL)) != 0)
		return rc == STRAW_ETYPE ? STRAW_EBADTERM : rc;
	if (t.len - cur_off(&t) < 1 ||
	    (t.buf[cur_off(&t)] == ETF_SMALL_INTEGER &&
	     t.len - cur_off(&t) < 2))
		return STRAW_ETRUNC;
	if (t.buf[cur_off(&t)] != ETF_SMALL_INTEGER)
		return STRAW_EBADTERM;
	*arity = t.buf[cur_off(&t) + 1];
	c->p = c->buf + (cur_off(&t) + 2);
	return 0;
}

int
strawi_skip(const uint8_t *buf, size_t len, size_t *ppos)
{
	uint64_t pending = 1;
	size_t pos = *ppos;

	while (pending > 0) {
		const uint8_t *p;
		size_t rem, size, hdr, n;
		uint64_t kids = 0;
		int utf8;

		if (pos >= len)
			return STRAW_ETRUNC;
		p = buf + pos;
		rem = len - pos;
		switch (p[0]) {
		case ETF_SMALL_INTEGER:
			size = 2;
			break;
		case ETF_INTEGER:
			size = 5;
			break;
		case ETF_NEW_FLOAT:
			size = 9;
			break;
		case ETF_FLOAT:
			size = 32;
			break;
		case ETF_ATOM:
		case ETF_SMALL_ATOM:
		case ETF_ATOM_UTF8:
		case ETF_SMALL_ATOM_UTF8:
			if (etf_atom_at(p, rem, &hdr, &n, &utf8) != 0)
				return STRAW_ETRUNC;
			size = hdr + n;
			break;
		case ETF_SMALL_TUPLE:
			if (rem < 2)
				return STRAW_ETRUNC;
			kids = p[1];
			size = 2;
			break;
		case ETF_LARGE_TUPLE:
			if (rem < 5)
				return STRAW_ETRUNC;
			kids = etf_get32(p + 1);
			size = 5;
			break;
		case ETF_NIL:
			size = 1;
			break;
		case ETF_STRING:
			if (rem < 3)
				return STRAW_ETRUNC;
			size = 3 + (size_t)etf_get16(p + 1);
			break;
		case ETF_LIST:
			if (rem < 5)
				return STRAW_ETRUNC;
			kids = (uint64_t)etf_get32(p + 1) + 1;
			size = 5;
			break;
		case ETF_MAP:
			if (rem < 5)
				return STRAW_ETRUNC;
			kids = (uint64_t)etf_get32(p + 1) * 2;
			size = 5;
			break;
		case ETF_BINARY:
			if (rem < 5)
				return STRAW_ETRUNC;
			size = 5 + (size_t)etf_get32(p + 1);
			break;
		case ETF_BIT_BINARY:
			if (rem < 6)
				return STRAW_ETRUNC;
			size = 6 + (size_t)etf_get32(p + 1);
			break;
		case ETF_SMALL_BIG:
			if (rem < 2)
				return STRAW_ETRUNC;
			size = 3 + (size_t)p[1];
			break;
		case ETF_LARGE_BIG:
			if (rem < 5)
				return STRAW_ETRUNC;
			size = 6 + (size_t)etf_get32(p + 1);
			break;
		case ETF_NEW_FUN:
			if (rem < 5)
				return STRAW_ETRUNC;
			size = 1 + (size_t)etf_get32(p + 1);
			break;
		case ETF_EXPORT:
			size = 1;
			kids = 3;
			break;
		case ETF_NEW_PID:
		case ETF_PID:
		case ETF_NEW_PORT:
		case ETF_PORT:
		case ETF_V4_PORT:
		case ETF_REFERENCE:
		case ETF_NEW_REFERENCE:
		case ETF_NEWER_REF: {
			size_t next, fault;
			if (strawi_check_ident(buf, len, pos, &next, &fault))
				return STRAW_ETRUNC;
			size = next - pos;
			break;
		}
		default:
			return STRAW_EBADTAG;
		}
		if (size > rem)
			return STRAW_ETRUNC;
		pos += size;
		pending += kids;
		pending--;
	}
	*ppos = pos;
	return 0;
}

/* Validates the term at *pos (empty LIST_EXT headers before it included)
 * and steps over it. */
static int
cur_check(const straw_cursor *c, size_t *pos)
{
	size_t end, fault;
	int rc;

	if (*pos >= c->len)
		return STRAW_ETRUNC;
	/* Map keys are the reader's to compare (docs/term.md). */
	rc = strawi_check_run(c->buf, c->len, *pos,
	                      STRAW_TERM_DEFAULT_MAX_DEPTH, &end, &fault, NULL);
	if (rc != 0)
		return rc;
	*pos = end;
	return 0;
}

int
straw_cursor_skip(straw_cursor *c)
{
	size_t pos;
	int rc;

	if (c->str_left) {
		cur_str_next(c);
		return 0;
	}
	if (c->str_tail) {
		c->str_tail = 0;
		cur_sync(c);
		return 0;
	}
	pos = cur_off(c);
	if ((rc = cur_check(c, &pos)) != 0)
		return rc;
	c->p = c->buf + pos;
	return 0;
}

int
straw_cursor_term(straw_cursor *c, const uint8_t **start, size_t *len)
{
	const uint8_t *start0;
	size_t pos;
	int rc;

	if (c->str_left) {
		c->scratch[0] = ETF_SMALL_INTEGER;
		c->scratch[1] = c->buf[cur_off(c)];
		*start = c->scratch;
		*len = 2;
		cur_str_next(c);
		return 0;
	}
	if (c->str_tail) {
		c->scratch[0] = ETF_NIL;
		*start = c->scratch;
		*len = 1;
		c->str_tail = 0;
		cur_sync(c);
		return 0;
	}
	pos = cur_pos(c);
	start0 = c->buf + pos;
	if ((rc = cur_check(c, &pos)) != 0)
		return rc;
	*start = start0;
	*len = (size_t)(c->buf + pos - start0);
	c->p = c->buf + pos;
	return 0;
}
