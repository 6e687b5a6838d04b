/*
 * src/term/etf.h - ETF tags and byte helpers shared by the term codec.
 */
#ifndef STRAWI_ETF_H
#define STRAWI_ETF_H

#include <stdint.h>
#include <string.h>

#include <straw/term.h>

#include "base/base.h"

/* ETF tags (erts external.h); those straw reads are listed. */
enum {
	ETF_NEW_FLOAT = 'F',       /* 70: IEEE double, big-endian */
	ETF_BIT_BINARY = 'M',      /* 77: len:32, bits:8, data */
	ETF_COMPRESSED = 'P',      /* 80: size:32, zlib stream */
	ETF_NEW_PID = 'X',         /* 88: node, id:32, serial:32, cre:32 */
	ETF_NEW_PORT = 'Y',        /* 89: node, id:32, cre:32 */
	ETF_NEWER_REF = 'Z',       /* 90: n:16, node, cre:32, n*id:32 */
	ETF_SMALL_INTEGER = 'a',   /* 97: u8 */
	ETF_INTEGER = 'b',         /* 98: s32 */
	ETF_FLOAT = 'c',           /* 99: 31 bytes of "%.20e" text */
	ETF_ATOM = 'd',            /* 100: len:16, Latin-1 */
	ETF_REFERENCE = 'e',       /* 101: node, id:32, cre:8 */
	ETF_PORT = 'f',            /* 102: node, id:32, cre:8 */
	ETF_PID = 'g',             /* 103: node, id:32, serial:32, cre:8 */
	ETF_SMALL_TUPLE = 'h',     /* 104: arity:8 */
	ETF_LARGE_TUPLE = 'i',     /* 105: arity:32 */
	ETF_NIL = 'j',             /* 106 */
	ETF_STRING = 'k',          /* 107: len:16, bytes */
	ETF_LIST = 'l',            /* 108: n:32, n elements, tail */
	ETF_BINARY = 'm',          /* 109: len:32, bytes */
	ETF_SMALL_BIG = 'n',       /* 110: n:8, sign:8, n digits LE */
	ETF_LARGE_BIG = 'o',       /* 111: n:32, sign:8, n digits LE */
	ETF_NEW_FUN = 'p',         /* 112: size:32, ... */
	ETF_EXPORT = 'q',          /* 113: module, function, arity */
	ETF_NEW_REFERENCE = 'r',   /* 114: n:16, node, cre:8, n*id:32 */
	ETF_SMALL_ATOM = 's',      /* 115: len:8, Latin-1 */
	ETF_MAP = 't',             /* 116: pairs:32, k, v, ... */
	ETF_ATOM_UTF8 = 'v',       /* 118: len:16, UTF-8 */
	ETF_SMALL_ATOM_UTF8 = 'w', /* 119: len:8, UTF-8 */
	ETF_V4_PORT = 'x',         /* 120: node, id:64, cre:32 */
};

/* The old pid, port and reference forms: a one-byte creation of 0..3, and
 * (references) a first id word of 18 bits, as OTP 25 reads them. */
#define ETF_OLD_CREATION_MAX  3
#define ETF_OLD_REF_WORD0_MAX 0x3FFFFu

/* Fixed part of NEW_FUN_EXT after the tag: size, arity, uniq, index,
 * num_free. */
#define ETF_FUN_FIXED (4 + 1 + 16 + 4 + 4)

static inline uint16_t
etf_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
etf_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline uint64_t
etf_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static inline void
etf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
etf_put32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

static inline void
etf_put64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

/* The limits in effect: lim's fields, zeros replaced by the defaults. */
static inline void
etf_limits(const straw_term_limits *lim, straw_term_limits *out)
{
	out->max_depth = STRAW_TERM_DEFAULT_MAX_DEPTH;
	out->max_size = STRAW_TERM_DEFAULT_MAX_SIZE;
	out->max_decompressed = STRAW_TERM_DEFAULT_MAX_DECOMPRESSED;
	if (lim != NULL) {
		if (lim->max_depth)
			out->max_depth = lim->max_depth;
		if (lim->max_size)
			out->max_size = lim->max_size;
		if (lim->max_decompressed)
			out->max_decompressed = lim->max_decompressed;
	}
}

/*
 * Validates UTF-8 (no overlong forms, no surrogates, nothing past
 * U+10FFFF) and counts its code points into *chars.  Returns 0 or -1.
 */
int strawi_utf8_count(const uint8_t *s, size_t n, size_t *chars);

/*
 * Bytes of the atom at p (tag first) when within n bytes: *hdr gets the
 * header size, *len the name length, *utf8 whether the name is UTF-8.
 * Returns 0, or -1 if p is not an atom tag, -2 if truncated.
 */
static inline int
etf_atom_at(const uint8_t *p, size_t n, size_t *hdr, size_t *len, int *utf8)
{
	if (n == 0)
		return -2;
	switch (p[0]) {
	case ETF_SMALL_ATOM_UTF8:
	case ETF_SMALL_ATOM:
		if (n < 2)
			return -2;
		*hdr = 2;
		*len = p[1];
		*utf8 = p[0] == ETF_SMALL_ATOM_UTF8;
		break;
	case ETF_ATOM_UTF8:
	case ETF_ATOM:
		if (n < 3)
			return -2;
		*hdr = 3;
		*len = etf_get16(p + 1);
		*utf8 = p[0] == ETF_ATOM_UTF8;
		break;
	default:
		return -1;
	}
	if (n - *hdr < *len)
		return -2;
	return 0;
}

/* Writes the UTF-8 form of Latin-1 bytes; out has room for 2 * n. Returns
 * the bytes written. */
static inline size_t
etf_latin1_to_utf8(const uint8_t *s, size_t n, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < 0x80) {
			out[o++] = s[i];
		} else {
			out[o++] = (uint8_t)(0xC0 | (s[i] >> 6));
			out[o++] = (uint8_t)(0x80 | (s[i] & 0x3F));
		}
	}
	return o;
}

/* UTF-8 length of Latin-1 bytes. */
static inline size_t
etf_latin1_utf8_len(const uint8_t *s, size_t n)
{
	size_t i, o = n;

	for (i = 0; i < n; i++)
		o += s[i] >> 7;
	return o;
}

/* Parses the 31-byte text of an old FLOAT_EXT.  Returns 0 or -1. */
int strawi_etf_old_float(const uint8_t *p, double *v);

/*
 * Finds duplicate map keys in the term at pos that strawi_check_run
 * accepted (src/term/check_keys.c).  Returns 0, STRAW_EDUPKEY with *fault
 * at the tag of the first map (in the order maps complete) with two equal
 * keys, or -ENOMEM.
 */
int strawi_check_map_keys(const uint8_t *buf, size_t len, size_t pos,
                          size_t *fault);

/* Finds duplicate map keys by normalizing the checked term at pos into
 * scratch memory: 0, STRAW_EDUPKEY with *fault at the map, or -ENOMEM. */
int strawi_normalize_keys(const uint8_t *buf, size_t pos, size_t *fault);

/*
 * The checker's core: validates the term at pos (no version byte there)
 * with at most max_depth open containers.  Returns 0 with *end after the
 * term, or a code with *fault at the fault; *maps (may be NULL) gets 1 if
 * the term holds a map of two pairs or more, whose keys it does not
 * compare (strawi_check_map_keys does).
 */
int strawi_check_run(const uint8_t *buf, size_t len, size_t pos,
                     size_t max_depth, size_t *end, size_t *fault, int *maps);

/* Checks the pid, port or reference at pos (tag there): its node atom, its
 * length, the number of reference words (1..5) and the fields of the old
 * forms (ETF_OLD_*).  Returns 0 with *next after it, or STRAW_ETRUNC,
 * STRAW_EBADTERM, STRAW_EBADATOM with *fault set. */
int strawi_check_ident(const uint8_t *buf, size_t len, size_t pos, size_t *next,
                       size_t *fault);

/* straw_term_check of an uncompressed term with resolved limits; keys 0
 * leaves duplicate map keys to the caller (straw_term_normalize finds
 * them itself). */
int strawi_term_check_lim(const uint8_t *buf, size_t len,
                          const straw_term_limits *l, int keys, size_t *fault);

/* Skips the term at *ppos (bounds-checked, trusting field values).
 * Returns 0 with *ppos after it, or STRAW_ETRUNC / STRAW_EBADTAG. */
int strawi_skip(const uint8_t *buf, size_t len, size_t *ppos);

/* The enum straw_term_type of a tag, or STRAW_EBADTAG. */
int strawi_tag_type(uint8_t tag);

/*
 * Compares the canonical terms at a + apos and b + bpos (as written by
 * straw_term_normalize: maps sorted, lists flattened) in Erlang term order;
 * exact: integers and floats differ (map key order, =:=).  Returns <0, 0,
 * >0 in *result, or a negative code (-ENOMEM).
 */
int strawi_cmp_canon(const uint8_t *a, size_t apos, const uint8_t *b,
                     size_t bpos, int exact, int *result);

/* straw_term_normalize with resolved limits. */
int strawi_normalize_lim(const uint8_t *buf, size_t len,
                         const straw_term_limits *l, straw_buf *out,
                         size_t *fault);

#endif /* STRAWI_ETF_H */
