/*
 * The parser of Erlang term text (see text_parse.h): one pass over the
 * tokens, an explicit stack of open containers, ETF appended as it goes.
 *
 * Grammar (a literal term, as erl_parse reads it, plus what the printer
 * writes):
 *
 *   term    = number | atom | string+ | tuple | list | map | binary
 *           | "fun" atom ":" atom "/" integer
 *           | ["erlang" ":"] "binary_to_term" "(" binary ")"
 *           | directive                      (format strings only)
 *   number  = ["-" | "+"] (integer | float | char)
 *   list    = "[" "]" | "[" term ("," term)* ["|" term] "]"
 *   map     = "#{" [term "=>" term ("," term "=>" term)*] "}"
 *   binary  = "<<" [segment ("," segment)*] ">>"
 *   segment = (number | string+) [":" integer] ["/" type ("-" type)*]
 *
 * A list tail that is itself a list or string literal is spliced in, so
 * [1|[2]] and [1,2] give the same bytes.
 */
#include <errno.h>
#include <string.h>

#include <straw/pid.h>
#include <straw/term_text.h>

#include "base/base.h"
#include "base/hex.h"
#include "term/etf.h"
#include "term/text_parse.h"

enum frame_kind {
	FRAME_TUPLE = 1,
	FRAME_LIST,
	FRAME_MAP,
};

enum list_state {
	LIST_ELEMENTS = 0, /* reading elements */
	LIST_TAIL_NIL,     /* saw `| []` or a spliced string: only `]` next */
	LIST_TAIL_VALUE,   /* reading or read the tail term: only `]` next */
};

struct tp_frame {
	uint8_t kind;    /* enum frame_kind */
	uint8_t state;   /* list: enum list_state; map: 0 key, 1 value */
	uint32_t count;  /* elements (list, tuple) or pairs (map) so far */
	uint32_t closes; /* list: extra `]` owed by spliced tails */
	size_t hdr;      /* offset in out of the container's header */
	size_t pairs_at; /* map: first index of its offsets in p->pairs */
	size_t open_at;  /* text offset of the opening token */
};

void
tp_init(struct tp_parser *p, const char *text, size_t len, int fmt,
        const straw_term_limits *lim, straw_buf *out)
{
	straw_term_limits l;

	memset(p, 0, sizeof(*p));
	tl_init(&p->lx, text, len, fmt);
	etf_limits(lim, &l);
	p->max_depth = l.max_depth;
	p->max_size = l.max_size;
	p->out = out;
	straw_buf_init(&p->stack);
	straw_buf_init(&p->pairs);
	straw_buf_init(&p->scratch);
}

void
tp_fini(struct tp_parser *p)
{
	straw_buf_fini(&p->stack);
	straw_buf_fini(&p->pairs);
	straw_buf_fini(&p->scratch);
}

static int
syntax_at(struct tp_parser *p, size_t at)
{
	p->err_at = at;
	return STRAW_ESYNTAX;
}

int
tp_next(struct tp_parser *p)
{
	int rc;

	if (p->has_la) {
		p->tok = p->la;
		p->has_la = 0;
		return 0;
	}
	if ((rc = tl_next(&p->lx, &p->tok)) != 0)
		p->err_at = p->lx.err_at;
	return rc;
}

int
tp_peek(struct tp_parser *p)
{
	int rc;

	if (p->has_la)
		return 0;
	if ((rc = tl_next(&p->lx, &p->la)) != 0) {
		p->err_at = p->lx.err_at;
		return rc;
	}
	p->has_la = 1;
	return 0;
}

/* Consumes the next token, which must be of kind `kind`. */
int
tp_expect(struct tp_parser *p, int kind)
{
	int rc;

	if ((rc = tp_next(p)) != 0)
		return rc;
	if (p->tok.kind != kind)
		return syntax_at(p, p->tok.start);
	return 0;
}

int
tp_emit(struct tp_parser *p, const void *data, size_t n)
{
	int rc;

	if (p->out->len + n > p->max_size || p->out->len + n < n) {
		p->err_at = p->tok.start;
		return STRAW_ETOOBIG;
	}
	if ((rc = straw_buf_append(p->out, data, n)) != 0)
		p->err_at = p->tok.start;
	return rc;
}

int
tp_emit_int(struct tp_parser *p, int64_t v)
{
	uint8_t b[11];
	uint64_t m;
	int i;

	if (v >= 0 && v <= 255) {
		b[0] = ETF_SMALL_INTEGER;
		b[1] = (uint8_t)v;
		return tp_emit(p, b, 2);
	}
	if (v >= INT32_MIN && v <= INT32_MAX) {
		b[0] = ETF_INTEGER;
		etf_put32(b + 1, (uint32_t)(int32_t)v);
		return tp_emit(p, b, 5);
	}
	m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	b[0] = ETF_SMALL_BIG;
	b[1] = 0;
	b[2] = v < 0;
	for (i = 0; m != 0; i++, m >>= 8)
		b[3 + i] = (uint8_t)m;
	b[1] = (uint8_t)i;
	return tp_emit(p, b, 3 + (size_t)i);
}

/* An integer from its sign and little-endian magnitude (high zeros ok). */
int
tp_emit_bignum(struct tp_parser *p, int negative, const uint8_t *mag, size_t n)
{
	uint8_t h[6];
	int rc;

	while (n > 0 && mag[n - 1] == 0)
		n--;
	if (n <= 4) {
		uint32_t v = 0;
		size_t i;
		for (i = n; i > 0; i--)
			v = v << 8 | mag[i - 1];
		if (!negative && v <= INT32_MAX)
			return tp_emit_int(p, v);
		if (negative && v <= (uint32_t)INT32_MAX + 1)
			return tp_emit_int(p, -(int64_t)v);
	}
	if (n <= 255) {
		h[0] = ETF_SMALL_BIG;
		h[1] = (uint8_t)n;
		h[2] = negative != 0;
		rc = tp_emit(p, h, 3);
	} else {
		if (n > UINT32_MAX) {
			p->err_at = p->tok.start;
			return STRAW_ETOOBIG;
		}
		h[0] = ETF_LARGE_BIG;
		etf_put32(h + 1, (uint32_t)n);
		h[5] = negative != 0;
		rc = tp_emit(p, h, 6);
	}
	return rc != 0 ? rc : tp_emit(p, mag, n);
}

/* Longest integer literal in a base that is not a power of two, in digits
 * (converting those costs time quadratic in the length). */
#define TP_MAX_DIGITS 100000

/*
 * The magnitude of a TL_INT token with `big` set, little-endian, into
 * p->scratch (from offset 0).  Powers of two are packed directly; other
 * bases multiply and add in 32-bit limbs.
 */
int
tp_big_magnitude(struct tp_parser *p, const struct tl_token *t, uint8_t **mag,
                 size_t *n)
{
	const char *s = p->lx.text;
	uint32_t base = t->base, *limb;
	size_t i, digits = 0, nlimbs = 0, cap;
	int shift = 0, rc;

	for (i = t->digits; i < t->end; i++)
		digits += s[i] != '_';
	p->scratch.len = 0;
	if (p->no_alloc) {
		/* Matching: a fixed buffer, enough for 2^1024. */
		size_t need = (base & (base - 1)) == 0
		                      ? (digits * 5 + 7) / 8 + 1
		                      : (digits / 4 + 2) * 4;
		if (need > sizeof(p->small)) {
			p->err_at = t->start;
			return STRAW_EFORMAT;
		}
	}
	if ((base & (base - 1)) == 0) {
		int bits = __builtin_ctz(base);
		size_t nbytes = (digits * (size_t)bits + 7) / 8;
		uint8_t *m;
		uint32_t acc = 0;
		size_t o = 0;

		if (p->no_alloc)
			m = p->small;
		else if ((rc = straw_buf_reserve(&p->scratch, nbytes + 1)) != 0)
			return rc;
		else
			m = p->scratch.data;
		memset(m, 0, nbytes + 1);
		for (i = t->end; i > t->digits; i--) {
			uint8_t c = (uint8_t)s[i - 1];
			uint32_t d;
			if (c == '_')
				continue;
			d = (uint32_t)strawi_digit_value(c);
			acc |= d << shift;
			shift += bits;
			while (shift >= 8) {
				m[o++] = (uint8_t)acc;
				acc >>= 8;
				shift -= 8;
			}
		}
		if (shift > 0)
			m[o++] = (uint8_t)acc;
		*mag = m;
		*n = o;
		return 0;
	}
	if (digits > TP_MAX_DIGITS) {
		p->err_at = t->start;
		return STRAW_ETOOBIG;
	}
	/* Limbs: base^k < 2^32 digits at a time. */
	cap = digits / 4 + 2;
	if (p->no_alloc)
		limb = (uint32_t *)(void *)p->small;
	else if ((rc = straw_buf_reserve(&p->scratch, cap * 4)) != 0)
		return rc;
	else
		limb = (uint32_t *)(void *)p->scratch.data;
	i = t->digits;
	while (i < t->end) {
		uint64_t mul = 1, add = 0, carry;
		size_t j;

		while (i < t->end && mul * base <= UINT32_MAX) {
			uint8_t c = (uint8_t)s[i++];
			if (c == '_')
				continue;
			add = add * base + (uint64_t)strawi_digit_value(c);
			mul *= base;
		}
		carry = add;
		for (j = 0; j < nlimbs; j++) {
			uint64_t v = (uint64_t)limb[j] * mul + carry;
			limb[j] = (uint32_t)v;
			carry = v >> 32;
		}
		if (carry != 0)
			limb[nlimbs++] = (uint32_t)carry;
	}
	/* Little-endian limbs to little-endian bytes. */
	{
		uint8_t *m = (uint8_t *)limb;
		for (i = 0; i < nlimbs; i++) {
			uint32_t v = limb[i];
			m[4 * i] = (uint8_t)v;
			m[4 * i + 1] = (uint8_t)(v >> 8);
			m[4 * i + 2] = (uint8_t)(v >> 16);
			m[4 * i + 3] = (uint8_t)(v >> 24);
		}
	}
	*mag = (uint8_t *)limb;
	*n = nlimbs * 4;
	return 0;
}

/* Emits the integer token t, negated if negative. */
static int
emit_int_token(struct tp_parser *p, const struct tl_token *t, int negative)
{
	uint8_t *mag;
	size_t n;
	int rc;

	if (!t->big)
		return tp_emit_int(p, negative ? -t->ival : t->ival);
	if ((rc = tp_big_magnitude(p, t, &mag, &n)) != 0) {
		p->err_at = t->start;
		return rc;
	}
	return tp_emit_bignum(p, negative, mag, n);
}

int
tp_emit_double(struct tp_parser *p, double v)
{
	uint8_t b[9];
	uint64_t bits;

	memcpy(&bits, &v, 8);
	b[0] = ETF_NEW_FLOAT;
	etf_put64(b + 1, bits);
	return tp_emit(p, b, 9);
}

/* The UTF-8 name of an atom token into buf (>= 4 * 255 bytes). */
size_t
tp_atom_utf8(const struct tp_parser *p, const struct tl_token *t, uint8_t *buf)
{
	size_t pos = 0, n = 0;
	uint32_t cp;

	while (tl_chars_next(&p->lx, t, &pos, &cp))
		n += tl_utf8_encode(cp, buf + n);
	return n;
}

static int
emit_atom_token(struct tp_parser *p, const struct tl_token *t)
{
	uint8_t b[3 + 4 * TL_ATOM_MAX_CHARS];
	size_t n = tp_atom_utf8(p, t, b + 3);

	if (n <= 255) {
		b[1] = ETF_SMALL_ATOM_UTF8;
		b[2] = (uint8_t)n;
		return tp_emit(p, b + 1, n + 2);
	}
	b[0] = ETF_ATOM_UTF8;
	etf_put16(b + 1, (uint16_t)n);
	return tp_emit(p, b, n + 3);
}

/*
 * Emits the code points of the string token p->tok and of the string
 * tokens right after it, as list elements; *count grows by their number.
 */
static int
emit_string_run(struct tp_parser *p, uint32_t *count)
{
	size_t pos;
	uint32_t cp;
	int rc;

	for (;;) {
		pos = 0;
		while (tl_chars_next(&p->lx, &p->tok, &pos, &cp)) {
			if (*count == UINT32_MAX)
				return syntax_at(p, p->tok.start);
			if ((rc = tp_emit_int(p, cp)) != 0)
				return rc;
			(*count)++;
		}
		if ((rc = tp_peek(p)) != 0)
			return rc;
		if (p->la.kind != TL_STRING)
			return 0;
		if ((rc = tp_next(p)) != 0)
			return rc;
	}
}

/*
 * In canonical mode (format strings, which are short), containers are
 * rewritten to their smallest form when they close, so that most results
 * need no straw_term_normalize afterwards.  A proper LIST_EXT at hdr whose
 * elements are all SMALL_INTEGER_EXT, at most 65535 of them, becomes a
 * STRING_EXT, in place.  Costs O(elements) once per list.
 */
static void
shrink_list(struct tp_parser *p, size_t hdr)
{
	uint8_t *d = p->out->data;
	uint32_t n = etf_get32(d + hdr + 1), i;
	size_t pos = hdr + 5;

	if (!p->canonical || n > 0xFFFF)
		return;
	for (i = 0; i < n; i++, pos += 2)
		if (d[pos] != ETF_SMALL_INTEGER)
			return;
	if (d[pos] != ETF_NIL || pos + 1 != p->out->len)
		return;
	d[hdr] = ETF_STRING;
	etf_put16(d + hdr + 1, (uint16_t)n);
	for (i = 0; i < n; i++)
		d[hdr + 3 + i] = d[hdr + 6 + 2 * i];
	p->out->len = hdr + 3 + n;
}

/* A LARGE_TUPLE_EXT at hdr of fewer than 256 elements becomes a
 * SMALL_TUPLE_EXT (canonical mode only: moves the body). */
static void
shrink_tuple(struct tp_parser *p, size_t hdr)
{
	uint8_t *d = p->out->data;
	uint32_t n = etf_get32(d + hdr + 1);

	if (!p->canonical || n > 255)
		return;
	d[hdr] = ETF_SMALL_TUPLE;
	d[hdr + 1] = (uint8_t)n;
	memmove(d + hdr + 2, d + hdr + 5, p->out->len - hdr - 5);
	p->out->len -= 3;
}

/* A string value: [] or a LIST_EXT of its characters. */
static int
emit_string(struct tp_parser *p)
{
	uint8_t h[5] = {ETF_LIST, 0, 0, 0, 0}, nil = ETF_NIL;
	size_t at = p->out->len;
	uint32_t count = 0;
	int rc;

	if ((rc = tp_emit(p, h, 5)) != 0 ||
	    (rc = emit_string_run(p, &count)) != 0)
		return rc;
	if (count == 0) {
		p->out->len = at;
		return tp_emit(p, &nil, 1);
	}
	etf_put32(p->out->data + at + 1, count);
	if ((rc = tp_emit(p, &nil, 1)) != 0)
		return rc;
	shrink_list(p, at);
	return 0;
}

/* ---- binaries ---- */

/* Largest size of one binary segment, in bits. */
#define TP_MAX_SEGMENT_BITS ((uint64_t)1 << 27)

/* One bit, most significant first; in compare mode (no buf) checks it. */
static int
bw_bit(struct tp_bitwriter *w, int bit)
{
	int rc;

	if (w->buf == NULL) {
		if (w->bits >= w->cmp_bits ||
		    ((w->cmp[w->bits >> 3] >> (7 - (w->bits & 7))) & 1) != bit)
			w->mismatch = 1;
		w->bits++;
		return 0;
	}
	if ((w->bits & 7) == 0) {
		uint8_t z = 0;
		if ((rc = straw_buf_append(w->buf, &z, 1)) != 0)
			return rc;
	}
	if (bit)
		w->buf->data[w->bits >> 3] |= (uint8_t)(0x80 >> (w->bits & 7));
	w->bits++;
	return 0;
}

/* Eight bits at any bit offset. */
static int
bw_byte(struct tp_bitwriter *w, uint8_t byte)
{
	unsigned shift = (unsigned)(w->bits & 7);
	uint8_t two[2];
	int rc;

	if (w->buf == NULL) {
		size_t i = (size_t)(w->bits >> 3);
		uint8_t have;
		if (w->bits + 8 > w->cmp_bits) {
			w->mismatch = 1;
		} else {
			have = (uint8_t)(w->cmp[i] << shift);
			if (shift != 0)
				have |= (uint8_t)(w->cmp[i + 1] >> (8 - shift));
			if (have != byte)
				w->mismatch = 1;
		}
		w->bits += 8;
		return 0;
	}
	if (shift == 0) {
		if ((rc = straw_buf_append(w->buf, &byte, 1)) != 0)
			return rc;
	} else {
		w->buf->data[w->buf->len - 1] |= (uint8_t)(byte >> shift);
		two[0] = (uint8_t)(byte << (8 - shift));
		if ((rc = straw_buf_append(w->buf, two, 1)) != 0)
			return rc;
	}
	w->bits += 8;
	return 0;
}

/*
 * Writes the low `size` bits of a two's complement integer given by sign
 * and little-endian magnitude m[0..n), most significant bit first.  For
 * negative values m holds |v| - 1 and the bits are inverted.  The output
 * is bounded by w->max_bits (STRAW_ETOOBIG past it); comparing stops
 * at the first difference.  Costs O(size / 8).
 */
static int
bw_int(struct tp_bitwriter *w, int negative, const uint8_t *m, size_t n,
       uint64_t size)
{
	uint64_t i, b;
	int rc;

	if (w->buf == NULL && (w->mismatch || w->bits + size > w->cmp_bits)) {
		w->mismatch = 1;
		w->bits += size;
		return 0;
	}
	if (w->buf != NULL && w->bits + size > w->max_bits)
		return STRAW_ETOOBIG;
	/* The top size % 8 bits one at a time, then whole bytes. */
	for (b = size; (b & 7) != 0; b--) {
		uint64_t k = b - 1;
		int bit = (k >> 3) < n ? (m[k >> 3] >> (k & 7)) & 1 : 0;
		if ((rc = bw_bit(w, bit ^ (negative != 0))) != 0)
			return rc;
	}
	i = b / 8;
	if (i > n + 1) {
		/* Sign bytes above the magnitude: one, then the rest in bulk
		 * (after one byte the fill is byte-aligned to itself). */
		uint8_t fill = negative ? 0xFF : 0;
		uint64_t count = i - n - 1;
		if ((rc = bw_byte(w, fill)) != 0)
			return rc;
		if (w->buf == NULL) {
			for (; count > 0 && !w->mismatch; count--)
				if ((rc = bw_byte(w, fill)) != 0)
					return rc;
			w->bits += 8 * count;
		} else {
			if ((rc = straw_buf_reserve(w->buf, (size_t)count)) !=
			    0)
				return rc;
			if ((w->bits & 7) != 0) /* completes the partial byte */
				w->buf->data[w->buf->len - 1] |=
				        (uint8_t)(fill >> (w->bits & 7));
			memset(w->buf->data + w->buf->len, fill, (size_t)count);
			w->buf->len += (size_t)count;
			w->bits += 8 * count;
			if ((w->bits & 7) != 0) /* the last byte is partial */
				w->buf->data[w->buf->len - 1] &=
				        (uint8_t)(0xFF << (8 - (w->bits & 7)));
		}
		i = n;
	}
	for (; i > 0; i--) {
		uint8_t byte = i - 1 < n ? m[i - 1] : 0;
		if (negative)
			byte = (uint8_t)~byte;
		if ((rc = bw_byte(w, byte)) != 0)
			return rc;
	}
	return 0;
}

enum seg_type {
	SEG_INTEGER = 0,
	SEG_FLOAT,
	SEG_UTF8,
	SEG_UTF16,
	SEG_UTF32,
};

struct segment {
	int type;      /* enum seg_type */
	int little;    /* little-endian */
	int has_size;  /* a :Size was given */
	uint64_t size; /* in bits (unit 1) */
	size_t at;     /* text offset of the segment */
};

/* Reads `/type-type...` after a segment value. */
static int
parse_seg_types(struct tp_parser *p, struct segment *sg)
{
	static const char *const names[] = {
	        "integer", "float",  "utf8",   "utf16",    "utf32",
	        "big",     "little", "signed", "unsigned", NULL};
	int rc, i;

	for (;;) {
		char name[16];
		size_t n;

		if ((rc = tp_expect(p, TL_ATOM)) != 0)
			return rc;
		n = p->tok.end - p->tok.start;
		if (p->tok.quoted || n >= sizeof(name))
			return syntax_at(p, p->tok.start);
		memcpy(name, p->lx.text + p->tok.start, n);
		name[n] = '\0';
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(names[i], name) == 0)
				break;
		switch (i) {
		case 0:
			sg->type = SEG_INTEGER;
			break;
		case 1:
			sg->type = SEG_FLOAT;
			break;
		case 2:
			sg->type = SEG_UTF8;
			break;
		case 3:
			sg->type = SEG_UTF16;
			break;
		case 4:
			sg->type = SEG_UTF32;
			break;
		case 5:
			sg->little = 0;
			break;
		case 6:
			sg->little = 1;
			break;
		case 7:
		case 8:
			break; /* sign does not matter when writing */
		default:
			return syntax_at(p, p->tok.start);
		}
		if ((rc = tp_peek(p)) != 0)
			return rc;
		if (p->la.kind != TL_MINUS)
			return 0;
		if ((rc = tp_next(p)) != 0)
			return rc;
	}
}

/* One value of a segment: an integer (sign, magnitude in mag) or a float
 * or a code point (from a string or $c). */
struct segval {
	int is_float;       /* value in f */
	double f;           /* float value */
	int negative;       /* integer sign */
	const uint8_t *mag; /* integer magnitude, little-endian */
	size_t n;           /* bytes of mag */
	uint8_t small[9];   /* storage for small magnitudes */
};

static void
segval_int(struct segval *v, int negative, uint64_t m)
{
	int i;

	v->is_float = 0;
	v->negative = negative && m != 0;
	if (v->negative)
		m -= 1; /* two's complement: -m = ~(m - 1) */
	for (i = 0; i < 8; i++)
		v->small[i] = (uint8_t)(m >> (8 * i));
	v->mag = v->small;
	v->n = 8;
}

static int
write_segment(struct tp_parser *p, struct tp_bitwriter *w,
              const struct segment *sg, const struct segval *v)
{
	uint8_t tmp[8];
	uint64_t size;
	int rc;

	switch (sg->type) {
	case SEG_FLOAT: {
		uint64_t bits;
		size = sg->has_size ? sg->size : 64;
		if (size != 64 && size != 32)
			return syntax_at(p, sg->at);
		if (size == 64) {
			double d = v->is_float ? v->f : 0;
			if (!v->is_float)
				return syntax_at(p, sg->at);
			memcpy(&bits, &d, 8);
		} else {
			float f = (float)v->f;
			uint32_t b32;
			if (!v->is_float)
				return syntax_at(p, sg->at);
			memcpy(&b32, &f, 4);
			bits = b32;
		}
		{
			int i;
			for (i = 0; i < 8; i++)
				tmp[i] = (uint8_t)(bits >> (8 * i));
		}
		if (sg->little) {
			uint8_t r[8];
			int i, nb = (int)(size / 8);
			for (i = 0; i < nb; i++)
				r[nb - 1 - i] = tmp[i];
			return bw_int(w, 0, r, (size_t)nb, size);
		}
		return bw_int(w, 0, tmp, 8, size);
	}
	case SEG_UTF8:
	case SEG_UTF16:
	case SEG_UTF32: {
		uint64_t cp = 0;
		size_t i;
		uint8_t u[4];
		size_t n;

		if (v->is_float || v->negative || sg->has_size)
			return syntax_at(p, sg->at);
		for (i = v->n; i > 0; i--) {
			if (i > 4 && v->mag[i - 1] != 0)
				return syntax_at(p, sg->at);
			if (i <= 4)
				cp = cp << 8 | v->mag[i - 1];
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return syntax_at(p, sg->at);
		if (sg->type == SEG_UTF8) {
			n = tl_utf8_encode((uint32_t)cp, u);
			for (i = 0; i < n; i++)
				if ((rc = bw_int(w, 0, u + i, 1, 8)) != 0)
					return rc;
			return 0;
		}
		if (sg->type == SEG_UTF32) {
			for (i = 0; i < 4; i++)
				u[sg->little ? i : 3 - i] =
				        (uint8_t)(cp >> (8 * i));
			for (i = 0; i < 4; i++)
				if ((rc = bw_int(w, 0, u + i, 1, 8)) != 0)
					return rc;
			return 0;
		}
		{
			uint16_t units[2];
			size_t nu = 1, k;
			if (cp >= 0x10000) {
				units[0] = (uint16_t)(0xD800 +
				                      ((cp - 0x10000) >> 10));
				units[1] = (uint16_t)(0xDC00 +
				                      ((cp - 0x10000) & 0x3FF));
				nu = 2;
			} else {
				units[0] = (uint16_t)cp;
			}
			for (k = 0; k < nu; k++) {
				u[sg->little ? 0 : 1] = (uint8_t)units[k];
				u[sg->little ? 1 : 0] =
				        (uint8_t)(units[k] >> 8);
				if ((rc = bw_int(w, 0, u, 1, 8)) != 0 ||
				    (rc = bw_int(w, 0, u + 1, 1, 8)) != 0)
					return rc;
			}
			return 0;
		}
	}
	default:
		break;
	}
	if (v->is_float)
		return syntax_at(p, sg->at);
	size = sg->has_size ? sg->size : 8;
	if (sg->little) {
		/* Whole bytes only: reverse the low size/8 bytes. */
		uint64_t i;
		if (size & 7)
			return syntax_at(p, sg->at);
		for (i = 0; i < size / 8; i++) {
			uint8_t byte = i < v->n ? v->mag[i] : 0;
			if (v->negative)
				byte = (uint8_t)~byte;
			if ((rc = bw_int(w, 0, &byte, 1, 8)) != 0)
				return rc;
		}
		return 0;
	}
	return bw_int(w, v->negative, v->mag, v->n, size);
}

/* A segment's failure: syntax errors carry their offset, others (no
 * memory, too big) get the segment's. */
static int
seg_error(struct tp_parser *p, const struct segment *sg, int rc)
{
	if (rc != STRAW_ESYNTAX)
		p->err_at = sg->at;
	return rc;
}

/* Reads `:Size` and `/Types` after a value; p->la is the next token. */
static int
parse_seg_spec(struct tp_parser *p, struct segment *sg)
{
	int rc;

	if ((rc = tp_peek(p)) != 0)
		return rc;
	if (p->la.kind == TL_COLON) {
		if ((rc = tp_next(p)) != 0 || (rc = tp_expect(p, TL_INT)) != 0)
			return rc;
		if (p->tok.big || (uint64_t)p->tok.ival > TP_MAX_SEGMENT_BITS)
			return syntax_at(p, p->tok.start);
		sg->has_size = 1;
		sg->size = (uint64_t)p->tok.ival;
		if ((rc = tp_peek(p)) != 0)
			return rc;
	}
	if (p->la.kind == TL_SLASH) {
		if ((rc = tp_next(p)) != 0 ||
		    (rc = parse_seg_types(p, sg)) != 0)
			return rc;
	}
	return 0;
}

/*
 * Parses a binary literal (p->tok is `<<`) into bits appended to w.
 * The magnitude of a big integer segment value is kept in p->pairs'
 * neighbour, p->scratch, so the caller must not hold scratch data.
 */
int
tp_parse_binary(struct tp_parser *p, struct tp_bitwriter *w)
{
	int rc;

	if ((rc = tp_peek(p)) != 0)
		return rc;
	if (p->la.kind == TL_RBIN)
		return tp_next(p);
	for (;;) {
		struct segment sg;
		struct segval v;
		int negative = 0;

		memset(&sg, 0, sizeof(sg));
		memset(&v, 0, sizeof(v));
		if ((rc = tp_next(p)) != 0)
			return rc;
		sg.at = p->tok.start;
		if (p->tok.kind == TL_STRING) {
			/* Each character is one segment with the spec. */
			struct tl_token first = p->tok, last;
			size_t pos;
			uint32_t cp;
			struct tl_token cur;

			/* The run of strings, then the spec. */
			for (;;) {
				if ((rc = tp_peek(p)) != 0)
					return rc;
				if (p->la.kind != TL_STRING)
					break;
				if ((rc = tp_next(p)) != 0)
					return rc;
			}
			last = p->tok;
			if ((rc = parse_seg_spec(p, &sg)) != 0)
				return rc;
			/* Re-scan the run's tokens from first to last. */
			{
				struct tl_lexer lx2 = p->lx;
				lx2.pos = first.start;
				for (;;) {
					if (tl_next(&lx2, &cur) != 0)
						return syntax_at(p, cur.start);
					pos = 0;
					while (tl_chars_next(&lx2, &cur, &pos,
					                     &cp)) {
						segval_int(&v, 0, cp);
						if ((rc = write_segment(
						             p, w, &sg, &v)) !=
						    0)
							return seg_error(p, &sg,
							                 rc);
					}
					if (cur.start >= last.start)
						break;
				}
			}
		} else {
			if (p->tok.kind == TL_MINUS || p->tok.kind == TL_PLUS) {
				negative = p->tok.kind == TL_MINUS;
				if ((rc = tp_next(p)) != 0)
					return rc;
			}
			switch (p->tok.kind) {
			case TL_CHAR:
				segval_int(&v, negative, (uint64_t)p->tok.ival);
				break;
			case TL_INT:
				if (!p->tok.big) {
					segval_int(&v, negative,
					           (uint64_t)p->tok.ival);
				} else {
					uint8_t *mag;
					size_t n, i;
					if ((rc = tp_big_magnitude(p, &p->tok,
					                           &mag, &n)) !=
					    0) {
						p->err_at = p->tok.start;
						return rc;
					}
					v.mag = mag;
					v.n = n;
					v.negative = negative;
					if (negative) /* |v| - 1, nonzero */
						for (i = 0; i < n; i++)
							if (mag[i]-- != 0)
								break;
				}
				break;
			case TL_FLOAT:
				v.is_float = 1;
				v.f = negative ? -p->tok.f : p->tok.f;
				break;
			default:
				return syntax_at(p, p->tok.start);
			}
			if ((rc = parse_seg_spec(p, &sg)) != 0)
				return rc;
			if (v.is_float && !sg.has_size &&
			    sg.type == SEG_INTEGER)
				sg.type = SEG_FLOAT;
			if ((rc = write_segment(p, w, &sg, &v)) != 0)
				return seg_error(p, &sg, rc);
		}
		if ((rc = tp_next(p)) != 0)
			return rc;
		if (p->tok.kind == TL_RBIN)
			return 0;
		if (p->tok.kind != TL_COMMA)
			return syntax_at(p, p->tok.start);
	}
}

/* The most bits a binary literal may have: max_size bytes. */
static uint64_t
max_bits(const struct tp_parser *p)
{
	return p->max_size > UINT64_MAX / 8 ? UINT64_MAX
	                                    : 8 * (uint64_t)p->max_size;
}

/* A binary literal as a term: BINARY_EXT or BIT_BINARY_EXT. */
static int
emit_binary(struct tp_parser *p)
{
	straw_buf bits = STRAW_BUF_INIT;
	struct tp_bitwriter w = {.buf = &bits, .max_bits = max_bits(p)};
	uint8_t h[6];
	uint64_t nbytes;
	int rc;

	if ((rc = tp_parse_binary(p, &w)) != 0)
		goto out;
	nbytes = (w.bits + 7) / 8;
	if (nbytes > UINT32_MAX) {
		rc = syntax_at(p, p->tok.start);
		goto out;
	}
	if ((w.bits & 7) == 0) {
		h[0] = ETF_BINARY;
		etf_put32(h + 1, (uint32_t)nbytes);
		rc = tp_emit(p, h, 5);
	} else {
		h[0] = ETF_BIT_BINARY;
		etf_put32(h + 1, (uint32_t)nbytes);
		h[5] = (uint8_t)(w.bits & 7);
		rc = tp_emit(p, h, 6);
	}
	if (rc == 0 && nbytes > 0)
		rc = tp_emit(p, bits.data, (size_t)nbytes);
out:
	straw_buf_fini(&bits);
	return rc;
}

/*
 * `binary_to_term(<<...>>)`: the bytes must be an encoded pid, port,
 * reference or fun; their body is inserted as they are (normalized later).
 */
static int
emit_binary_to_term(struct tp_parser *p, size_t at)
{
	straw_buf bits = STRAW_BUF_INIT, flat = STRAW_BUF_INIT;
	struct tp_bitwriter w = {.buf = &bits, .max_bits = max_bits(p)};
	straw_term_limits lim = {0, p->max_size, p->max_size};
	const uint8_t *t;
	size_t tlen, off;
	int rc;

	if ((rc = tp_expect(p, TL_LPAREN)) != 0 ||
	    (rc = tp_expect(p, TL_LBIN)) != 0 ||
	    (rc = tp_parse_binary(p, &w)) != 0 ||
	    (rc = tp_expect(p, TL_RPAREN)) != 0)
		goto out;
	if ((w.bits & 7) != 0 || bits.len < 2) {
		rc = syntax_at(p, at);
		goto out;
	}
	t = bits.data;
	tlen = bits.len;
	if (straw_term_is_compressed(t, tlen)) {
		if (straw_term_decompress(t, tlen, &lim, &flat, &off) != 0) {
			rc = syntax_at(p, at);
			goto out;
		}
		t = flat.data;
		tlen = flat.len;
	}
	if (straw_term_check(t, tlen, &lim, &off) != 0) {
		rc = syntax_at(p, at);
		goto out;
	}
	switch (t[1]) {
	case ETF_NEW_PID:
	case ETF_PID:
	case ETF_NEW_PORT:
	case ETF_PORT:
	case ETF_V4_PORT:
	case ETF_NEWER_REF:
	case ETF_NEW_REFERENCE:
	case ETF_REFERENCE:
	case ETF_NEW_FUN:
	case ETF_EXPORT:
		p->noncanon = 1; /* any encoding of them */
		rc = tp_emit(p, t + 1, tlen - 1);
		break;
	default:
		rc = syntax_at(p, at);
		break;
	}
out:
	straw_buf_fini(&bits);
	straw_buf_fini(&flat);
	return rc;
}

/*
 * straw's human form of a pid, <Container.Process> or
 * <Container.Process@mHEX> (p->tok): the NEW_PID_EXT straw_pid_encode
 * writes for it (a pid of another container with its node 'c<id>@<host>').
 */
static int
emit_pid(struct tp_parser *p)
{
	straw_buf b = STRAW_BUF_INIT;
	straw_pid pid;
	int rc;

	if (straw_pid_parse(p->lx.text + p->tok.start,
	                    p->tok.end - p->tok.start, &pid) != 0)
		return syntax_at(p, p->tok.start);
	if ((rc = straw_pid_encode(&b, pid)) == 0)
		rc = tp_emit(p, b.data, b.len);
	else if (rc != -ENOMEM)
		rc = syntax_at(p, p->tok.start); /* a node name past 255 */
	straw_buf_fini(&b);
	return rc;
}

/* `fun M:F/A` after the `fun` keyword. */
static int
emit_export(struct tp_parser *p)
{
	struct tl_token m, f;
	uint8_t q = ETF_EXPORT;
	int rc;

	if ((rc = tp_expect(p, TL_ATOM)) != 0)
		return rc;
	m = p->tok;
	if (m.keyword != TLK_NONE)
		return syntax_at(p, m.start);
	if ((rc = tp_expect(p, TL_COLON)) != 0 ||
	    (rc = tp_expect(p, TL_ATOM)) != 0)
		return rc;
	f = p->tok;
	if (f.keyword != TLK_NONE)
		return syntax_at(p, f.start);
	if ((rc = tp_expect(p, TL_SLASH)) != 0 ||
	    (rc = tp_expect(p, TL_INT)) != 0)
		return rc;
	if (p->tok.big || p->tok.ival > 255)
		return syntax_at(p, p->tok.start);
	if ((rc = tp_emit(p, &q, 1)) != 0 ||
	    (rc = emit_atom_token(p, &m)) != 0 ||
	    (rc = emit_atom_token(p, &f)) != 0)
		return rc;
	return tp_emit_int(p, p->tok.ival);
}

static int
atom_is(const struct tp_parser *p, const struct tl_token *t, const char *name)
{
	size_t n = strlen(name);

	return t->kind == TL_ATOM && !t->quoted && t->end - t->start == n &&
	       memcmp(p->lx.text + t->start, name, n) == 0;
}

/* An atom, or a call form starting with an atom. */
static int
emit_atom_or_call(struct tp_parser *p)
{
	struct tl_token a = p->tok;
	int rc;

	if (a.keyword == TLK_FUN)
		return emit_export(p);
	if (a.keyword != TLK_NONE)
		return syntax_at(p, a.start);
	if ((rc = tp_peek(p)) != 0)
		return rc;
	if (p->la.kind == TL_COLON && atom_is(p, &a, "erlang")) {
		if ((rc = tp_next(p)) != 0 || (rc = tp_expect(p, TL_ATOM)) != 0)
			return rc;
		if (!atom_is(p, &p->tok, "binary_to_term"))
			return syntax_at(p, p->tok.start);
		return emit_binary_to_term(p, a.start);
	}
	if (p->la.kind == TL_LPAREN) {
		if (!atom_is(p, &a, "binary_to_term"))
			return syntax_at(p, a.start);
		return emit_binary_to_term(p, a.start);
	}
	return emit_atom_token(p, &a);
}

/* ---- containers ---- */

static struct tp_frame *
top(struct tp_parser *p)
{
	if (p->stack.len == 0)
		return NULL;
	return (struct tp_frame *)(void *)(p->stack.data + p->stack.len -
	                                   sizeof(struct tp_frame));
}

static int
push(struct tp_parser *p, int kind, const uint8_t *hdr, size_t hlen)
{
	struct tp_frame f;
	int rc;

	if (p->stack.len / sizeof(f) >= p->max_depth) {
		p->err_at = p->tok.start;
		return STRAW_EDEPTH;
	}
	memset(&f, 0, sizeof(f));
	f.kind = (uint8_t)kind;
	f.hdr = p->out->len;
	f.pairs_at = p->pairs.len / sizeof(size_t);
	f.open_at = p->tok.start;
	if ((rc = tp_emit(p, hdr, hlen)) != 0)
		return rc;
	if ((rc = straw_buf_append(&p->stack, &f, sizeof(f))) != 0)
		p->err_at = p->tok.start;
	return rc;
}

static int
push_pair_offset(struct tp_parser *p)
{
	size_t at = p->out->len;
	int rc;

	if ((rc = straw_buf_append(&p->pairs, &at, sizeof(at))) != 0)
		p->err_at = p->tok.start;
	return rc;
}

/* Pair i of the map starting at pair offset index base, in out. */
struct pair_span {
	size_t key, value, end; /* offsets in out */
};

static struct pair_span
pair_at(struct tp_parser *p, size_t base, uint32_t i, uint32_t n)
{
	const size_t *o = (const size_t *)(void *)p->pairs.data + base;
	struct pair_span s;

	s.key = o[2 * i];
	s.value = o[2 * i + 1];
	s.end = i + 1 < n ? o[2 * (i + 1)] : p->out->len;
	return s;
}

/* A key in canonical form, for sorting: its bytes in p->scratch. */
struct canon_key {
	size_t at;  /* offset in p->scratch of the version byte */
	size_t len; /* bytes from there */
};

/*
 * Closes a map: removes duplicate keys (the first key is kept with the
 * last value, as Erlang's map construction does) and patches the pair
 * count.  Keys are compared exactly (=:=) in their canonical form, after
 * a stable sort in map-key order, so any number of keys costs
 * O(n log n) comparisons.  The final order is left to
 * straw_term_normalize, which runs on the whole term.
 */
static int
close_map(struct tp_parser *p, struct tp_frame *f)
{
	uint32_t n = f->count, i, j, kept = 0;
	size_t base = f->pairs_at, width;
	uint32_t *idx = NULL, *tmp = NULL, *value_of = NULL;
	struct canon_key *keys = NULL;
	straw_buf one = STRAW_BUF_INIT, canon = STRAW_BUF_INIT;
	uint8_t *drop = NULL;
	int rc = 0, dups = 0, c;

	if (n < 2)
		goto patch;
	idx = straw_malloc(sizeof(uint32_t) * n * 3);
	keys = straw_malloc(sizeof(*keys) * n);
	drop = straw_calloc(n, 1);
	if (idx == NULL || keys == NULL || drop == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	tmp = idx + n;
	value_of = tmp + n;
	/* Canonical keys, one after the other in scratch. */
	p->scratch.len = 0;
	for (i = 0; i < n; i++) {
		struct pair_span x = pair_at(p, base, i, n);
		uint8_t v = STRAW_ETF_VERSION;
		one.len = 0;
		if ((rc = straw_buf_append(&one, &v, 1)) != 0 ||
		    (rc = straw_buf_append(&one, p->out->data + x.key,
		                           x.value - x.key)) != 0 ||
		    (rc = straw_term_normalize(one.data, one.len, NULL, &canon,
		                               NULL)) != 0)
			goto out;
		keys[i].at = p->scratch.len;
		keys[i].len = canon.len;
		if ((rc = straw_buf_append(&p->scratch, canon.data,
		                           canon.len)) != 0)
			goto out;
		idx[i] = i;
		value_of[i] = i;
	}
	/* Bottom-up merge sort of pair indexes by exact key order (stable:
	 * equal keys stay in text order). */
	for (width = 1; width < n; width *= 2) {
		size_t lo;
		for (lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t x = lo, y = mid, k = lo;
			while (x < mid && y < hi) {
				if ((rc = strawi_cmp_canon(
				             p->scratch.data + keys[idx[x]].at,
				             1,
				             p->scratch.data + keys[idx[y]].at,
				             1, 1, &c)) != 0)
					goto out;
				tmp[k++] = c <= 0 ? idx[x++] : idx[y++];
			}
			while (x < mid)
				tmp[k++] = idx[x++];
			while (y < hi)
				tmp[k++] = idx[y++];
		}
		memcpy(idx, tmp, sizeof(uint32_t) * n);
	}
	/* Runs of equal keys: the first (earliest) keeps its place and takes
	 * the value of the last. */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n; j++) {
			if ((rc = strawi_cmp_canon(
			             p->scratch.data + keys[idx[i]].at, 1,
			             p->scratch.data + keys[idx[j]].at, 1, 1,
			             &c)) != 0)
				goto out;
			if (c != 0)
				break;
			drop[idx[j]] = 1;
			value_of[idx[i]] = idx[j];
			dups = 1;
		}
	}
	if (dups) {
		size_t start = pair_at(p, base, 0, n).key;
		size_t len = p->out->len - start, o = start;
		p->scratch.len = 0;
		if ((rc = straw_buf_append(&p->scratch, p->out->data + start,
		                           len)) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			struct pair_span k, v;
			if (drop[i])
				continue;
			k = pair_at(p, base, i, n);
			v = pair_at(p, base, value_of[i], n);
			memcpy(p->out->data + o,
			       p->scratch.data + k.key - start,
			       k.value - k.key);
			o += k.value - k.key;
			memcpy(p->out->data + o,
			       p->scratch.data + v.value - start,
			       v.end - v.value);
			o += v.end - v.value;
			kept++;
		}
		p->out->len = o;
		n = kept;
	}
patch:
	if (n >= 2)
		p->noncanon = 1; /* keys are in text order */
	etf_put32(p->out->data + f->hdr + 1, n);
	p->pairs.len = base * sizeof(size_t);
out:
	straw_free(idx);
	straw_free(keys);
	straw_free(drop);
	straw_buf_fini(&one);
	straw_buf_fini(&canon);
	if (rc != 0)
		p->err_at = p->tok.start;
	return rc;
}

static void
pop(struct tp_parser *p)
{
	p->stack.len -= sizeof(struct tp_frame);
}

/* Parses a value start; containers push a frame and return with *open. */
static int
parse_value(struct tp_parser *p, int *open)
{
	static const uint8_t tuple_hdr[5] = {ETF_LARGE_TUPLE, 0, 0, 0, 0};
	static const uint8_t list_hdr[5] = {ETF_LIST, 0, 0, 0, 0};
	static const uint8_t map_hdr[5] = {ETF_MAP, 0, 0, 0, 0};
	static const uint8_t empty_tuple[2] = {ETF_SMALL_TUPLE, 0};
	static const uint8_t nil = ETF_NIL;
	int rc, negative;

	*open = 0;
	switch (p->tok.kind) {
	case TL_MINUS:
	case TL_PLUS:
		negative = p->tok.kind == TL_MINUS;
		if ((rc = tp_next(p)) != 0)
			return rc;
		if (p->tok.kind == TL_INT)
			return emit_int_token(p, &p->tok, negative);
		if (p->tok.kind == TL_CHAR)
			return tp_emit_int(p, negative ? -p->tok.ival
			                               : p->tok.ival);
		if (p->tok.kind == TL_FLOAT)
			return tp_emit_double(p,
			                      negative ? -p->tok.f : p->tok.f);
		return syntax_at(p, p->tok.start);
	case TL_INT:
		return emit_int_token(p, &p->tok, 0);
	case TL_CHAR:
		return tp_emit_int(p, p->tok.ival);
	case TL_FLOAT:
		return tp_emit_double(p, p->tok.f);
	case TL_ATOM:
		return emit_atom_or_call(p);
	case TL_STRING:
		return emit_string(p);
	case TL_LBIN:
		return emit_binary(p);
	case TL_DIRECTIVE:
		if (p->directive == NULL)
			return syntax_at(p, p->tok.start);
		return p->directive(p, &p->tok);
	case TL_PID:
		return emit_pid(p);
	case TL_LBRACE:
		if ((rc = tp_peek(p)) != 0)
			return rc;
		if (p->la.kind == TL_RBRACE) {
			if ((rc = tp_next(p)) != 0)
				return rc;
			return tp_emit(p, empty_tuple, 2);
		}
		*open = 1;
		return push(p, FRAME_TUPLE, tuple_hdr, 5);
	case TL_LBRACKET:
		if ((rc = tp_peek(p)) != 0)
			return rc;
		if (p->la.kind == TL_RBRACKET) {
			if ((rc = tp_next(p)) != 0)
				return rc;
			return tp_emit(p, &nil, 1);
		}
		*open = 1;
		return push(p, FRAME_LIST, list_hdr, 5);
	case TL_HASHBRACE:
		if ((rc = tp_peek(p)) != 0)
			return rc;
		if (p->la.kind == TL_RBRACE) {
			if ((rc = tp_next(p)) != 0)
				return rc;
			return tp_emit(p, map_hdr, 5);
		}
		*open = 1;
		if ((rc = push(p, FRAME_MAP, map_hdr, 5)) != 0)
			return rc;
		return push_pair_offset(p);
	default:
		return syntax_at(p, p->tok.start);
	}
}

/* A list's `]`, plus the `]` owed by spliced tails. */
static int
close_list(struct tp_parser *p, struct tp_frame *f)
{
	static const uint8_t nil = ETF_NIL;
	uint32_t i;
	int rc;

	for (i = 0; i < f->closes; i++)
		if ((rc = tp_expect(p, TL_RBRACKET)) != 0)
			return rc;
	if (f->state != LIST_TAIL_VALUE && (rc = tp_emit(p, &nil, 1)) != 0)
		return rc;
	if (f->count == 0) {
		/* Only a spliced "" or [] was in it: it is []. */
		size_t body = f->hdr + 5, n = p->out->len - body;
		memmove(p->out->data + f->hdr, p->out->data + body, n);
		p->out->len = f->hdr + n;
		return 0;
	}
	etf_put32(p->out->data + f->hdr + 1, f->count);
	shrink_list(p, f->hdr);
	return 0;
}

/* After `|` in a list: splice a list or string literal, or read a tail. */
static int
list_tail(struct tp_parser *p, struct tp_frame *f, int *want_value)
{
	int rc;

	*want_value = 0;
	if ((rc = tp_next(p)) != 0)
		return rc;
	if (p->tok.kind == TL_LBRACKET) {
		if ((rc = tp_peek(p)) != 0)
			return rc;
		if (p->la.kind == TL_RBRACKET) {
			f->state = LIST_TAIL_NIL;
			return tp_next(p);
		}
		if (f->closes == UINT32_MAX)
			return syntax_at(p, p->tok.start);
		f->closes++;
		*want_value = 1; /* the next element of the same list */
		return tp_next(p);
	}
	if (p->tok.kind == TL_STRING) {
		f->state = LIST_TAIL_NIL;
		return emit_string_run(p, &f->count);
	}
	f->state = LIST_TAIL_VALUE;
	*want_value = 1;
	return 0;
}

int
tp_parse(struct tp_parser *p)
{
	struct tp_frame *f;
	int rc, open, want_value;

	if ((rc = tp_next(p)) != 0)
		return rc;
value:
	if ((rc = parse_value(p, &open)) != 0)
		return rc;
	if (open) {
		if ((rc = tp_next(p)) != 0)
			return rc;
		goto value;
	}
after:
	if ((rc = tp_next(p)) != 0)
		return rc;
	f = top(p);
	if (f == NULL) {
		if (p->tok.kind == TL_DOT && (rc = tp_next(p)) != 0)
			return rc;
		if (p->tok.kind != TL_EOF)
			return syntax_at(p, p->tok.start);
		return 0;
	}
	switch (f->kind) {
	case FRAME_TUPLE:
		f->count++;
		if (p->tok.kind == TL_COMMA) {
			if (f->count == UINT32_MAX)
				return syntax_at(p, p->tok.start);
			if ((rc = tp_next(p)) != 0)
				return rc;
			goto value;
		}
		if (p->tok.kind != TL_RBRACE)
			return syntax_at(p, p->tok.start);
		etf_put32(p->out->data + f->hdr + 1, f->count);
		shrink_tuple(p, f->hdr);
		pop(p);
		goto after;
	case FRAME_LIST:
		if (f->state == LIST_ELEMENTS) {
			if (f->count == UINT32_MAX)
				return syntax_at(p, p->tok.start);
			f->count++;
		}
		if (f->state == LIST_ELEMENTS && p->tok.kind == TL_COMMA) {
			if ((rc = tp_next(p)) != 0)
				return rc;
			goto value;
		}
		if (f->state == LIST_ELEMENTS && p->tok.kind == TL_BAR) {
			if ((rc = list_tail(p, f, &want_value)) != 0)
				return rc;
			if (want_value)
				goto value;
			goto after_tail;
		}
		if (p->tok.kind != TL_RBRACKET)
			return syntax_at(p, p->tok.start);
		goto close_list;
	after_tail:
		if ((rc = tp_next(p)) != 0)
			return rc;
		f = top(p);
		if (p->tok.kind != TL_RBRACKET)
			return syntax_at(p, p->tok.start);
	close_list:
		if ((rc = close_list(p, f)) != 0)
			return rc;
		pop(p);
		goto after;
	case FRAME_MAP:
		if (f->state == 0) {
			if (p->tok.kind != TL_ARROW)
				return syntax_at(p, p->tok.start);
			f->state = 1;
			if ((rc = push_pair_offset(p)) != 0 ||
			    (rc = tp_next(p)) != 0)
				return rc;
			goto value;
		}
		f->state = 0;
		f->count++;
		if (p->tok.kind == TL_COMMA) {
			if (f->count == UINT32_MAX)
				return syntax_at(p, p->tok.start);
			if ((rc = push_pair_offset(p)) != 0 ||
			    (rc = tp_next(p)) != 0)
				return rc;
			goto value;
		}
		if (p->tok.kind != TL_RBRACE)
			return syntax_at(p, p->tok.start);
		if ((rc = close_map(p, f)) != 0)
			return rc;
		pop(p);
		goto after;
	default:
		STRAWI_PANIC("bad frame kind %d", f->kind);
	}
}

int
straw_term_from_text_lim(const char *text, size_t len,
                         const straw_term_limits *lim, straw_buf *out,
                         size_t *err_offset)
{
	straw_buf raw = STRAW_BUF_INIT, canon = STRAW_BUF_INIT;
	uint8_t version = STRAW_ETF_VERSION;
	struct tp_parser p;
	size_t off = 0;
	int rc;

	tp_init(&p, text, len, 0, lim, &raw);
	if ((rc = straw_buf_append(&raw, &version, 1)) != 0 ||
	    (rc = tp_parse(&p)) != 0) {
		off = p.err_at;
		goto out;
	}
	/* Canonical bytes: map keys in order, strings, smallest headers. */
	if ((rc = straw_term_normalize(raw.data, raw.len, lim, &canon, NULL)) !=
	    0)
		goto out;
	rc = straw_buf_append(out, canon.data, canon.len);
out:
	if (rc != 0 && err_offset != NULL)
		*err_offset = off;
	tp_fini(&p);
	straw_buf_fini(&raw);
	straw_buf_fini(&canon);
	return rc;
}

int
straw_term_from_text(const char *text, size_t len, straw_buf *out,
                     size_t *err_offset)
{
	return straw_term_from_text_lim(text, len, NULL, out, err_offset);
}
