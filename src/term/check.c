/*
 * Validation of untrusted ETF bytes in one pass, and inflating of
 * compressed terms.
 *
 * The checker walks the term in order with an explicit stack holding, for
 * each open container, how many of its children are still to come; a term
 * that completes decrements its parent's count.  Nothing recurses.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "etf.h"

int
strawi_utf8_count(const uint8_t *s, size_t n, size_t *chars)
{
	size_t i = 0, c = 0;

	while (i < n) {
		uint8_t b = s[i];
		uint32_t cp;
		size_t k;

		if (b < 0x80) {
			i++;
			c++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF) {
			k = 1;
			cp = b & 0x1F;
		} else if (b >= 0xE0 && b <= 0xEF) {
			k = 2;
			cp = b & 0x0F;
		} else if (b >= 0xF0 && b <= 0xF4) {
			k = 3;
			cp = b & 0x07;
		} else {
			return -1;
		}
		if (n - i - 1 < k)
			return -1;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return -1;
		i += k + 1;
		c++;
	}
	*chars = c;
	return 0;
}

int
strawi_etf_old_float(const uint8_t *p, double *v)
{
	char text[32];
	char *end;
	size_t i;

	memcpy(text, p, 31);
	text[31] = '\0';
	for (i = 0; i < 31 && text[i] != '\0'; i++)
		if (strchr("0123456789+-.eE", text[i]) == NULL)
			return -1;
	if (i == 0)
		return -1;
	for (size_t j = i; j < 31; j++)
		if (text[j] != '\0')
			return -1;
	*v = strtod(text, &end);
	if (end != text + i || !isfinite(*v))
		return -1;
	return 0;
}

/* Checks the atom at pos; *next gets the offset after it. */
static int
check_atom(const uint8_t *buf, size_t len, size_t pos, size_t *next)
{
	size_t hdr, n, chars;
	int utf8, rc;

	rc = etf_atom_at(buf + pos, len - pos, &hdr, &n, &utf8);
	if (rc == -1)
		return STRAW_EBADTERM;
	if (rc == -2)
		return STRAW_ETRUNC;
	if (utf8) {
		if (strawi_utf8_count(buf + pos + hdr, n, &chars) != 0 ||
		    chars > STRAW_ATOM_MAX_CHARS)
			return STRAW_EBADATOM;
	} else if (n > STRAW_ATOM_MAX_CHARS) {
		return STRAW_EBADATOM;
	}
	*next = pos + hdr + n;
	return 0;
}

/*
 * The fields OTP 25 refuses in the old forms, whose fixed part (after the
 * node atom) is at f: a one-byte creation above 3 (PID_EXT, PORT_EXT,
 * REFERENCE_EXT, NEW_REFERENCE_EXT), and a first id word of 2^18 or more
 * (REFERENCE_EXT, NEW_REFERENCE_EXT).  The newer forms take any values.
 */
static int
old_ident_in_range(uint8_t tag, const uint8_t *f)
{
	switch (tag) {
	case ETF_PID:
		return f[8] <= ETF_OLD_CREATION_MAX;
	case ETF_PORT:
		return f[4] <= ETF_OLD_CREATION_MAX;
	case ETF_REFERENCE:
		return f[4] <= ETF_OLD_CREATION_MAX &&
		       etf_get32(f) <= ETF_OLD_REF_WORD0_MAX;
	case ETF_NEW_REFERENCE:
		return f[0] <= ETF_OLD_CREATION_MAX &&
		       etf_get32(f + 1) <= ETF_OLD_REF_WORD0_MAX;
	default:
		return 1;
	}
}

int
strawi_check_ident(const uint8_t *buf, size_t len, size_t pos, size_t *next,
                   size_t *fault)
{
	size_t at = pos, after, fixed, nwords = 0;
	uint8_t tag = buf[pos];
	int rc;

	pos++;
	if (tag == ETF_NEW_REFERENCE || tag == ETF_NEWER_REF) {
		if (len - pos < 2) {
			*fault = at;
			return STRAW_ETRUNC;
		}
		nwords = etf_get16(buf + pos);
		/* No id words: OTP would read the next term's bytes as one. */
		if (nwords == 0 || nwords > STRAW_REF_MAX_WORDS) {
			*fault = at;
			return STRAW_EBADTERM;
		}
		pos += 2;
	}
	if ((rc = check_atom(buf, len, pos, &after)) != 0) {
		*fault = rc == STRAW_ETRUNC ? at : pos;
		return rc;
	}
	switch (tag) {
	case ETF_NEW_PID:
		fixed = 12;
		break;
	case ETF_PID:
		fixed = 9;
		break;
	case ETF_NEW_PORT:
		fixed = 8;
		break;
	case ETF_PORT:
	case ETF_REFERENCE:
		fixed = 5;
		break;
	case ETF_V4_PORT:
		fixed = 12;
		break;
	case ETF_NEW_REFERENCE:
		fixed = 1 + 4 * nwords;
		break;
	case ETF_NEWER_REF:
		fixed = 4 + 4 * nwords;
		break;
	default:
		STRAWI_PANIC("not an identifier tag %d", tag);
	}
	if (len - after < fixed) {
		*fault = at;
		return STRAW_ETRUNC;
	}
	if (!old_ident_in_range(tag, buf + after)) {
		*fault = at;
		return STRAW_EBADTERM;
	}
	*next = after + fixed;
	return 0;
}

/* Checks the integer (SMALL_INTEGER or INTEGER) at pos inside a fun. */
static int
check_small_int(const uint8_t *buf, size_t len, size_t pos, size_t *next)
{
	if (pos >= len)
		return STRAW_ETRUNC;
	if (buf[pos] == ETF_SMALL_INTEGER) {
		if (len - pos < 2)
			return STRAW_ETRUNC;
		*next = pos + 2;
		return 0;
	}
	if (buf[pos] == ETF_INTEGER) {
		if (len - pos < 5)
			return STRAW_ETRUNC;
		*next = pos + 5;
		return 0;
	}
	return STRAW_EBADTERM;
}

/* Checks the fixed part of a NEW_FUN_EXT at pos; *next gets the offset of
 * its first free variable, *nfree their count, *end its end. */
static int
check_fun_head(const uint8_t *buf, size_t len, size_t pos, size_t *next,
               uint32_t *nfree, size_t *end, size_t *fault)
{
	size_t at = pos, p;
	uint32_t size;
	int rc;

	if (len - pos < 1 + ETF_FUN_FIXED) {
		*fault = at;
		return STRAW_ETRUNC;
	}
	size = etf_get32(buf + pos + 1);
	if (size < ETF_FUN_FIXED) {
		*fault = at;
		return STRAW_EBADTERM;
	}
	if (len - pos - 1 < size) {
		*fault = at;
		return STRAW_ETRUNC;
	}
	*end = pos + 1 + size;
	*nfree = etf_get32(buf + pos + 1 + 4 + 1 + 16 + 4);
	p = pos + 1 + ETF_FUN_FIXED;
	/* Module, old index, old uniq, creator pid: all inside size. */
	if ((rc = check_atom(buf, *end, p, &p)) != 0)
		goto bad;
	if ((rc = check_small_int(buf, *end, p, &p)) != 0)
		goto bad;
	if ((rc = check_small_int(buf, *end, p, &p)) != 0)
		goto bad;
	if (p >= *end) {
		rc = STRAW_EBADTERM;
		goto bad;
	}
	if (buf[p] != ETF_NEW_PID && buf[p] != ETF_PID) {
		rc = STRAW_EBADTERM;
		goto bad;
	}
	if ((rc = strawi_check_ident(buf, *end, p, &p, fault)) != 0) {
		if (rc == STRAW_ETRUNC)
			rc = STRAW_EBADTERM; /* the size field lied */
		*fault = at;
		return rc;
	}
	if (*nfree > *end - p) {
		*fault = at;
		return STRAW_EBADTERM;
	}
	*next = p;
	return 0;
bad:
	/* Anything running past size is a wrong size field. */
	*fault = rc == STRAW_ETRUNC ? at : p;
	return rc == STRAW_ETRUNC ? STRAW_EBADTERM : rc;
}

#define STACK_LOCAL 64
#define FUN_FLAG    ((uint64_t)1 << 63)

int
strawi_check_run(const uint8_t *buf, size_t len, size_t pos, size_t max_depth,
                 size_t *end, size_t *fault, int *maps)
{
	uint64_t local[STACK_LOCAL];
	uint64_t *stack = local, left = 0;
	size_t sp = 0, cap = STACK_LOCAL;
	size_t *funs = NULL, nfun = 0, funcap = 0; /* pairs: start, end */
	size_t at = pos;
	int rc = 0;

	if (maps != NULL)
		*maps = 0;
	for (;;) {
		const uint8_t *p;
		size_t rem, n;
		uint64_t kids = 0;

		at = pos;
		if (unlikely(pos >= len)) {
			rc = STRAW_ETRUNC;
			goto fail;
		}
		p = buf + pos;
		rem = len - pos;
#define NEED(k)                            \
	do {                               \
		if (unlikely(rem < (k))) { \
			rc = STRAW_ETRUNC; \
			goto fail;         \
		}                          \
	} while (0)
		/*
		 * The common tags first, by conditional branches: the
		 * indirect jump of a switch mispredicts on every change of
		 * tag on some machines.
		 */
		if (*p == ETF_SMALL_INTEGER) {
			NEED(2);
			pos += 2;
			goto complete;
		}
		if (*p == ETF_SMALL_ATOM_UTF8 && rem >= 2 && rem - 2 >= p[1]) {
			uint8_t acc = 0;
			n = p[1];
			for (size_t i = 0; i < n; i++)
				acc |= p[2 + i];
			if (acc < 0x80) {
				pos += 2 + n;
				goto complete;
			}
		}
		if (*p == ETF_SMALL_TUPLE) {
			NEED(2);
			kids = p[1];
			pos += 2;
			goto container;
		}
		if (*p == ETF_INTEGER) {
			NEED(5);
			pos += 5;
			goto complete;
		}
		if (*p == ETF_BINARY) {
			NEED(5);
			n = etf_get32(p + 1);
			NEED(5 + n);
			pos += 5 + n;
			goto complete;
		}
		if (*p == ETF_NEW_FLOAT) {
			NEED(9);
			if (unlikely((etf_get64(p + 1) &
			              0x7FF0000000000000ULL) ==
			             0x7FF0000000000000ULL)) {
				rc = STRAW_EBADTERM;
				goto fail;
			}
			pos += 9;
			goto complete;
		}
		if (*p == ETF_LIST) {
			NEED(5);
			kids = (uint64_t)etf_get32(p + 1) + 1;
			pos += 5;
			goto container;
		}
		if (*p == ETF_NIL) {
			pos += 1;
			goto complete;
		}
		switch (*p) {
		case ETF_SMALL_INTEGER:
			NEED(2);
			pos += 2;
			break;
		case ETF_INTEGER:
			NEED(5);
			pos += 5;
			break;
		case ETF_NEW_FLOAT: {
			uint64_t bits;
			NEED(9);
			bits = etf_get64(p + 1);
			if (unlikely((bits & 0x7FF0000000000000ULL) ==
			             0x7FF0000000000000ULL)) {
				rc = STRAW_EBADTERM;
				goto fail;
			}
			pos += 9;
			break;
		}
		case ETF_FLOAT: {
			double d;
			NEED(32);
			if (strawi_etf_old_float(p + 1, &d) != 0) {
				rc = STRAW_EBADTERM;
				goto fail;
			}
			pos += 32;
			break;
		}
		case ETF_SMALL_ATOM_UTF8:
			/* The common case: short ASCII names. */
			NEED(2);
			n = p[1];
			NEED(2 + n);
			{
				size_t i;
				uint8_t acc = 0;
				for (i = 0; i < n; i++)
					acc |= p[2 + i];
				if (acc >= 0x80) {
					size_t chars;
					if (strawi_utf8_count(p + 2, n,
					                      &chars) != 0) {
						rc = STRAW_EBADATOM;
						goto fail;
					}
				}
			}
			pos += 2 + n;
			break;
		case ETF_ATOM:
		case ETF_SMALL_ATOM:
		case ETF_ATOM_UTF8:
			if ((rc = check_atom(buf, len, pos, &pos)) != 0)
				goto fail;
			break;
		case ETF_SMALL_TUPLE:
			NEED(2);
			kids = p[1];
			pos += 2;
			break;
		case ETF_LARGE_TUPLE:
			NEED(5);
			kids = etf_get32(p + 1);
			pos += 5;
			break;
		case ETF_NIL:
			pos += 1;
			break;
		case ETF_STRING:
			NEED(3);
			n = etf_get16(p + 1);
			NEED(3 + n);
			pos += 3 + n;
			break;
		case ETF_LIST:
			NEED(5);
			kids = (uint64_t)etf_get32(p + 1) + 1;
			pos += 5;
			break;
		case ETF_BINARY:
			NEED(5);
			n = etf_get32(p + 1);
			NEED(5 + n);
			pos += 5 + n;
			break;
		case ETF_BIT_BINARY:
			NEED(6);
			n = etf_get32(p + 1);
			if ((p[5] == 0) != (n == 0) || p[5] > 8) {
				rc = STRAW_EBADTERM;
				goto fail;
			}
			NEED(6 + n);
			pos += 6 + n;
			break;
		case ETF_SMALL_BIG:
			NEED(3);
			n = p[1];
			NEED(3 + n);
			pos += 3 + n;
			break;
		case ETF_LARGE_BIG:
			NEED(6);
			n = etf_get32(p + 1);
			NEED(6 + n);
			pos += 6 + n;
			break;
		case ETF_MAP:
			NEED(5);
			kids = (uint64_t)etf_get32(p + 1) * 2;
			if (kids >= 4 && maps != NULL)
				*maps = 1; /* keys to compare */
			pos += 5;
			break;
		case ETF_NEW_PID:
		case ETF_PID:
		case ETF_NEW_PORT:
		case ETF_PORT:
		case ETF_V4_PORT:
		case ETF_REFERENCE:
		case ETF_NEW_REFERENCE:
		case ETF_NEWER_REF:
			if ((rc = strawi_check_ident(buf, len, pos, &pos,
			                             fault)) != 0)
				goto fail_set;
			break;
		case ETF_EXPORT: {
			size_t q;
			if ((rc = check_atom(buf, len, pos + 1, &q)) != 0) {
				at = rc == STRAW_ETRUNC ? at : pos + 1;
				goto fail;
			}
			if ((rc = check_atom(buf, len, q, &q)) != 0) {
				at = rc == STRAW_ETRUNC ? at : q;
				goto fail;
			}
			if (q >= len || len - q < 2) {
				rc = STRAW_ETRUNC;
				goto fail;
			}
			if (buf[q] != ETF_SMALL_INTEGER) {
				at = q;
				rc = STRAW_EBADTERM;
				goto fail;
			}
			pos = q + 2;
			break;
		}
		case ETF_NEW_FUN: {
			uint32_t nfree;
			size_t fend;
			if ((rc = check_fun_head(buf, len, pos, &pos, &nfree,
			                         &fend, fault)) != 0)
				goto fail_set;
			if (nfree == 0) {
				if (pos != fend) {
					rc = STRAW_EBADTERM;
					goto fail;
				}
				break;
			}
			if (nfun + 2 > funcap) {
				size_t nc = funcap ? funcap * 2 : 16;
				size_t *nf =
				        straw_realloc(funs, nc * sizeof(*funs));
				if (nf == NULL) {
					rc = -ENOMEM;
					goto fail;
				}
				funs = nf;
				funcap = nc;
			}
			funs[nfun++] = at;
			funs[nfun++] = fend;
			kids = nfree | FUN_FLAG;
			break;
		}
		default:
			rc = STRAW_EBADTAG;
			goto fail;
		}
#undef NEED
	container:
		if (kids != 0) {
			/* Every child takes at least one byte. */
			if (unlikely((kids & ~FUN_FLAG) > len - pos)) {
				rc = STRAW_ETRUNC;
				goto fail;
			}
			if (unlikely(sp >= max_depth)) {
				rc = STRAW_EDEPTH;
				goto fail;
			}
			/* The innermost count lives in left; the stack
			 * keeps those of the containers around it. */
			if (sp > 0) {
				if (unlikely(sp - 1 == cap)) {
					uint64_t *ns;
					size_t nc = cap * 2;
					if (stack == local) {
						ns = straw_malloc(nc *
						                  sizeof(*ns));
						if (ns != NULL)
							memcpy(ns, local,
							       sizeof(local));
					} else {
						ns = straw_realloc(
						        stack,
						        nc * sizeof(*ns));
					}
					if (ns == NULL) {
						rc = -ENOMEM;
						goto fail;
					}
					stack = ns;
					cap = nc;
				}
				stack[sp - 1] = left;
			}
			sp++;
			left = kids;
			continue;
		}
	complete:
		/* A term is complete: so may be its parents. */
		while (sp > 0) {
			if ((--left & ~FUN_FLAG) != 0)
				break;
			sp--;
			if (left & FUN_FLAG) {
				size_t fend = funs[--nfun];
				size_t fstart = funs[--nfun];
				if (pos != fend) {
					at = fstart;
					rc = STRAW_EBADTERM;
					goto fail;
				}
			}
			if (sp > 0)
				left = stack[sp - 1];
		}
		if (sp == 0)
			break;
	}
	*end = pos;
	goto out;
fail:
	*fault = at;
fail_set:
	*end = at;
out:
	if (stack != local)
		straw_free(stack);
	straw_free(funs);
	return rc;
}

int
straw_term_check_body(const uint8_t *buf, size_t len,
                      const straw_term_limits *lim, size_t *fault_offset)
{
	straw_term_limits l;
	size_t end, fault = 0;
	int rc, maps = 0;

	etf_limits(lim, &l);
	if (len > l.max_size) {
		fault = l.max_size;
		rc = STRAW_ETOOBIG;
		goto out;
	}
	rc = strawi_check_run(buf, len, 0, l.max_depth, &end, &fault, &maps);
	if (rc == 0 && end != len) {
		fault = end;
		rc = STRAW_ETRAILING;
	}
	/* Well-formed, one piece: now its maps' keys. */
	if (rc == 0 && maps)
		rc = strawi_check_map_keys(buf, len, 0, &fault);
out:
	if (rc != 0 && fault_offset != NULL)
		*fault_offset = fault;
	return rc;
}

int
straw_term_is_compressed(const uint8_t *buf, size_t len)
{
	return len >= 2 && buf[0] == STRAW_ETF_VERSION &&
	       buf[1] == ETF_COMPRESSED;
}

/* Inflates the compressed term in buf into out (131 first). */
static int
inflate_term(const uint8_t *buf, size_t len, const straw_term_limits *l,
             straw_buf *out, size_t *fault)
{
	z_stream zs;
	uint32_t size;
	uint8_t spare;
	int zrc, rc;

	out->len = 0;
	*fault = 1;
	if (len < 6)
		return STRAW_ETRUNC;
	size = etf_get32(buf + 2);
	if ((size_t)size > l->max_decompressed ||
	    (size_t)size + 1 > l->max_size || len - 6 > UINT32_MAX)
		return STRAW_ETOOBIG;
	if ((rc = straw_buf_reserve(out, (size_t)size + 1)) != 0)
		return rc;
	out->data[0] = STRAW_ETF_VERSION;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)(buf + 6);
	zs.avail_in = (uInt)(len - 6);
	zs.next_out = out->data + 1;
	zs.avail_out = size;
	zrc = inflate(&zs, Z_FINISH);
	if (zrc == Z_BUF_ERROR && zs.avail_out == 0 && zs.avail_in > 0) {
		/* The declared size is used up: the stream must end here. */
		zs.next_out = &spare;
		zs.avail_out = 1;
		zrc = inflate(&zs, Z_FINISH);
		if (zs.avail_out == 0)
			zrc = Z_DATA_ERROR; /* more data than declared */
	}
	if (zrc == Z_MEM_ERROR) {
		inflateEnd(&zs);
		return -ENOMEM;
	}
	if (zrc != Z_STREAM_END || zs.total_out != size) {
		inflateEnd(&zs);
		return STRAW_EZLIB;
	}
	if (zs.avail_in != 0) {
		*fault = len - zs.avail_in;
		inflateEnd(&zs);
		return STRAW_ETRAILING;
	}
	inflateEnd(&zs);
	out->len = (size_t)size + 1;
	return 0;
}

int
straw_term_decompress(const uint8_t *buf, size_t len,
                      const straw_term_limits *lim, straw_buf *out,
                      size_t *fault_offset)
{
	straw_term_limits l;
	size_t fault = 0;
	int rc;

	etf_limits(lim, &l);
	out->len = 0;
	if (len == 0 || buf[0] != STRAW_ETF_VERSION) {
		rc = STRAW_EVERSION;
		goto out;
	}
	if (!straw_term_is_compressed(buf, len)) {
		rc = straw_buf_append(out, buf, len);
		goto out;
	}
	rc = inflate_term(buf, len, &l, out, &fault);
out:
	if (rc != 0) {
		out->len = 0;
		if (fault_offset != NULL)
			*fault_offset = fault;
	}
	return rc;
}

int
strawi_term_check_lim(const uint8_t *buf, size_t len,
                      const straw_term_limits *l, int keys, size_t *fault)
{
	size_t end;
	int rc, maps = 0;

	if (len == 0 || buf[0] != STRAW_ETF_VERSION) {
		*fault = 0;
		return STRAW_EVERSION;
	}
	if (len > l->max_size) {
		*fault = l->max_size;
		return STRAW_ETOOBIG;
	}
	rc = strawi_check_run(buf, len, 1, l->max_depth, &end, fault, &maps);
	if (rc == 0 && end != len) {
		*fault = end;
		rc = STRAW_ETRAILING;
	}
	if (rc == 0 && maps && keys)
		rc = strawi_check_map_keys(buf, len, 1, fault);
	return rc;
}

int
straw_term_check(const uint8_t *buf, size_t len, const straw_term_limits *lim,
                 size_t *fault_offset)
{
	straw_term_limits l;
	size_t fault = 0;
	int rc;

	etf_limits(lim, &l);
	if (straw_term_is_compressed(buf, len)) {
		straw_buf tmp = STRAW_BUF_INIT;
		rc = inflate_term(buf, len, &l, &tmp, &fault);
		if (rc == 0)
			rc = strawi_term_check_lim(tmp.data, tmp.len, &l, 1,
			                           &fault);
		straw_buf_fini(&tmp);
	} else {
		rc = strawi_term_check_lim(buf, len, &l, 1, &fault);
	}
	if (rc != 0 && fault_offset != NULL)
		*fault_offset = fault;
	return rc;
}
