/*
 * straw_term_normalize: re-encodes any decodable term in canonical form,
 * the bytes of OTP 25's term_to_binary(T, [{minor_version,2}]).
 *
 * One pass over the (checked) input with an explicit stack.  Lists are
 * flattened (a LIST_EXT whose tail is another list continues it), lists of
 * 1..65535 integers 0..255 become STRING_EXT, maps are written pair by
 * pair and then sorted in map key order, funs get their size patched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etf.h"

enum { NF_SEQ, NF_LIST, NF_MAP, NF_FUN };

struct nframe {
	uint8_t kind;    /* NF_* */
	uint8_t in_tail; /* NF_LIST: the child being written is the tail */
	uint64_t left;   /* children left (NF_LIST: in this segment) */
	uint64_t count;  /* NF_LIST: elements written */
	size_t hdr;      /* output offset of the header (list, map, fun) */
	size_t ent;      /* NF_MAP: index of its first entry in ents */
	size_t in_at;    /* input offset of the container's tag */
};

struct norm {
	const uint8_t *in; /* checked input */
	size_t start;      /* where its term starts (after the version) */
	straw_buf *out;
	struct nframe *f; /* the stack */
	size_t sp, cap;
	size_t *ents; /* map pair boundaries in the output */
	size_t nents, entcap;
	uint8_t *tmp; /* scratch for sorting map pairs */
	size_t tmpcap;
};

static int
put(struct norm *n, const void *p, size_t k)
{
	return straw_buf_append(n->out, p, k);
}

static int
put1(struct norm *n, uint8_t b)
{
	return straw_buf_append(n->out, &b, 1);
}

/* Writes an integer given as sign and little-endian magnitude. */
static int
put_int(struct norm *n, int neg, const uint8_t *mag, size_t len)
{
	uint8_t h[6];

	while (len > 0 && mag[len - 1] == 0)
		len--;
	if (len == 0)
		neg = 0; /* -0 is 0 */
	if (len <= 4) {
		uint64_t m = 0;
		for (size_t i = len; i > 0; i--)
			m = m << 8 | mag[i - 1];
		if (!neg && m <= 255) {
			h[0] = ETF_SMALL_INTEGER;
			h[1] = (uint8_t)m;
			return put(n, h, 2);
		}
		if ((!neg && m <= INT32_MAX) ||
		    (neg && m <= (uint64_t)1 << 31)) {
			h[0] = ETF_INTEGER;
			etf_put32(h + 1, neg ? (uint32_t)(0 - m) : (uint32_t)m);
			return put(n, h, 5);
		}
	}
	if (len <= 255) {
		h[0] = ETF_SMALL_BIG;
		h[1] = (uint8_t)len;
		h[2] = neg != 0;
		if (put(n, h, 3) != 0)
			return -ENOMEM;
	} else {
		h[0] = ETF_LARGE_BIG;
		etf_put32(h + 1, (uint32_t)len);
		h[5] = neg != 0;
		if (put(n, h, 6) != 0)
			return -ENOMEM;
	}
	return put(n, mag, len);
}

/* Reads the integer at p: sign, magnitude (in place or in small[]). */
static size_t
get_int(const uint8_t *p, int *neg, const uint8_t **mag, size_t *len,
        uint8_t small[4])
{
	switch (p[0]) {
	case ETF_SMALL_INTEGER:
		*neg = 0;
		small[0] = p[1];
		*mag = small;
		*len = 1;
		return 2;
	case ETF_INTEGER: {
		int32_t x = (int32_t)etf_get32(p + 1);
		uint32_t m = x < 0 ? 0u - (uint32_t)x : (uint32_t)x;
		*neg = x < 0;
		for (int i = 0; i < 4; i++)
			small[i] = (uint8_t)(m >> (8 * i));
		*mag = small;
		*len = 4;
		return 5;
	}
	case ETF_SMALL_BIG:
		*len = p[1];
		*neg = p[2] != 0;
		*mag = p + 3;
		return 3 + *len;
	default: /* ETF_LARGE_BIG */
		*len = etf_get32(p + 1);
		*neg = p[5] != 0;
		*mag = p + 6;
		return 6 + *len;
	}
}

static int
is_int_tag(uint8_t t)
{
	return t == ETF_SMALL_INTEGER || t == ETF_INTEGER ||
	       t == ETF_SMALL_BIG || t == ETF_LARGE_BIG;
}

/* The integer at p if it is 0..255, else -1; *size its encoded size. */
static int
byte_value(const uint8_t *p, size_t *size)
{
	const uint8_t *mag;
	uint8_t small[4];
	size_t len;
	int neg;

	*size = get_int(p, &neg, &mag, &len, small);
	while (len > 0 && mag[len - 1] == 0)
		len--;
	if (len == 0)
		return 0;
	if (neg || len > 1)
		return -1;
	return mag[0];
}

/* Writes the atom at p (any atom tag) as UTF-8; returns its input size. */
static size_t
put_atom(struct norm *n, const uint8_t *p, int *rc)
{
	uint8_t buf[3 + 2 * 255];
	size_t hdr, len, ulen;
	int utf8;

	if (etf_atom_at(p, (size_t)-1 / 2, &hdr, &len, &utf8) != 0)
		STRAWI_PANIC("unchecked atom");
	if (utf8) {
		ulen = len;
	} else {
		ulen = etf_latin1_to_utf8(p + hdr, len, buf + 3);
	}
	if (ulen <= 255) {
		uint8_t h[2] = {ETF_SMALL_ATOM_UTF8, (uint8_t)ulen};
		*rc = put(n, h, 2);
	} else {
		uint8_t h[3] = {ETF_ATOM_UTF8, 0, 0};
		etf_put16(h + 1, (uint16_t)ulen);
		*rc = put(n, h, 3);
	}
	if (*rc == 0)
		*rc = put(n, utf8 ? p + hdr : buf + 3, ulen);
	return hdr + len;
}

/* Writes the pid, port or reference at p canonically; returns its size. */
static size_t
put_ident(struct norm *n, const uint8_t *p, int *rc)
{
	uint8_t t = p[0], h[3 + 4 * STRAW_REF_MAX_WORDS + 12];
	size_t q = 1, a;
	uint16_t nw = 0;

	switch (t) {
	case ETF_PID:
	case ETF_NEW_PID:
		if ((*rc = put1(n, ETF_NEW_PID)) != 0)
			return 0;
		a = put_atom(n, p + q, rc);
		if (*rc != 0)
			return 0;
		q += a;
		memcpy(h, p + q, 8);
		if (t == ETF_NEW_PID) {
			memcpy(h + 8, p + q + 8, 4);
			q += 12;
		} else {
			etf_put32(h + 8, p[q + 8]);
			q += 9;
		}
		*rc = put(n, h, 12);
		return q;
	case ETF_PORT:
	case ETF_NEW_PORT:
	case ETF_V4_PORT: {
		uint64_t id;
		uint32_t cre;
		size_t at = n->out->len;
		if ((*rc = put1(n, ETF_NEW_PORT)) != 0)
			return 0;
		a = put_atom(n, p + q, rc);
		if (*rc != 0)
			return 0;
		q += a;
		if (t == ETF_V4_PORT) {
			id = etf_get64(p + q);
			cre = etf_get32(p + q + 8);
			q += 12;
		} else if (t == ETF_NEW_PORT) {
			id = etf_get32(p + q);
			cre = etf_get32(p + q + 4);
			q += 8;
		} else {
			id = etf_get32(p + q);
			cre = p[q + 4];
			q += 5;
		}
		if (id > STRAW_PORT_MAX_V3_ID) {
			n->out->data[at] = ETF_V4_PORT;
			etf_put64(h, id);
			etf_put32(h + 8, cre);
			*rc = put(n, h, 12);
		} else {
			etf_put32(h, (uint32_t)id);
			etf_put32(h + 4, cre);
			*rc = put(n, h, 8);
		}
		return q;
	}
	default: { /* references */
		uint32_t cre;
		if (t == ETF_REFERENCE) {
			nw = 1;
		} else {
			nw = etf_get16(p + 1);
			q = 3;
		}
		h[0] = ETF_NEWER_REF;
		etf_put16(h + 1, nw);
		if ((*rc = put(n, h, 3)) != 0)
			return 0;
		a = put_atom(n, p + q, rc);
		if (*rc != 0)
			return 0;
		q += a;
		if (t == ETF_REFERENCE) {
			cre = p[q + 4];
			etf_put32(h, cre);
			memcpy(h + 4, p + q, 4);
			q += 5;
		} else if (t == ETF_NEW_REFERENCE) {
			cre = p[q];
			etf_put32(h, cre);
			memcpy(h + 4, p + q + 1, 4 * (size_t)nw);
			q += 1 + 4 * (size_t)nw;
		} else {
			memcpy(h, p + q, 4 + 4 * (size_t)nw);
			q += 4 + 4 * (size_t)nw;
		}
		*rc = put(n, h, 4 + 4 * (size_t)nw);
		return q;
	}
	}
}

static struct nframe *
npush(struct norm *n)
{
	if (n->sp == n->cap) {
		size_t nc = n->cap ? n->cap * 2 : 32;
		struct nframe *nf = straw_realloc(n->f, nc * sizeof(*nf));
		if (nf == NULL)
			return NULL;
		n->f = nf;
		n->cap = nc;
	}
	memset(&n->f[n->sp], 0, sizeof(n->f[0]));
	return &n->f[n->sp++];
}

static int
ent_add(struct norm *n, size_t off)
{
	if (n->nents == n->entcap) {
		size_t nc = n->entcap ? n->entcap * 2 : 64;
		size_t *ne = straw_realloc(n->ents, nc * sizeof(*ne));
		if (ne == NULL)
			return -ENOMEM;
		n->ents = ne;
		n->entcap = nc;
	}
	n->ents[n->nents++] = off;
	return 0;
}

/* Skips LIST_EXT headers of no elements, which stand for their tails. */
static size_t
skip_empty_lists(const uint8_t *in, size_t pos)
{
	while (in[pos] == ETF_LIST && etf_get32(in + pos + 1) == 0)
		pos += 5;
	return pos;
}

/*
 * Decides whether the list starting at in[pos] is a byte string for
 * STRING_EXT: proper, 1..65535 elements, all integers 0..255.  Returns
 * the element count if so (writing nothing), else 0; *end gets the end of
 * the whole list when it is a string.
 */
static size_t
string_prescan(const uint8_t *in, size_t pos, size_t *end)
{
	size_t total = 0;

	for (;;) {
		uint8_t t = in[pos];
		if (t == ETF_NIL) {
			*end = pos + 1;
			return total;
		}
		if (t == ETF_STRING) {
			total += etf_get16(in + pos + 1);
			*end = pos + 3 + etf_get16(in + pos + 1);
			return total <= 0xFFFF ? total : 0;
		}
		if (t != ETF_LIST)
			return 0;
		{
			uint32_t k = etf_get32(in + pos + 1);
			pos += 5;
			if (total + k > 0xFFFF)
				return 0;
			for (uint32_t i = 0; i < k; i++) {
				size_t size;
				pos = skip_empty_lists(in, pos);
				if (!is_int_tag(in[pos]) ||
				    byte_value(in + pos, &size) < 0)
					return 0;
				pos += size;
			}
			total += k;
		}
	}
}

/* Writes the bytes of a list prescan found to be a string. */
static int
put_string(struct norm *n, size_t pos, size_t total)
{
	uint8_t h[3] = {ETF_STRING, 0, 0};
	const uint8_t *in = n->in;
	int rc;

	etf_put16(h + 1, (uint16_t)total);
	if ((rc = put(n, h, 3)) != 0)
		return rc;
	for (;;) {
		uint8_t t = in[pos];
		if (t == ETF_NIL)
			return 0;
		if (t == ETF_STRING)
			return put(n, in + pos + 3, etf_get16(in + pos + 1));
		{
			uint32_t k = etf_get32(in + pos + 1);
			pos += 5;
			for (uint32_t i = 0; i < k; i++) {
				size_t size;
				int v;
				pos = skip_empty_lists(in, pos);
				v = byte_value(in + pos, &size);
				if ((rc = put1(n, (uint8_t)v)) != 0)
					return rc;
				pos += size;
			}
		}
	}
}

struct sort_ctx {
	const uint8_t *buf;
	const size_t *ents; /* start offsets of the pairs */
	int err;
};

static int
cmp_pairs(struct sort_ctx *c, size_t i, size_t j)
{
	int r = 0;

	if (strawi_cmp_canon(c->buf, c->ents[i], c->buf, c->ents[j], 1, &r))
		c->err = -ENOMEM;
	return r;
}

/* Sorts idx[0..n) by key with a bottom-up merge sort (tmp: n more). */
static void
sort_pairs(struct sort_ctx *c, size_t *idx, size_t *tmp, size_t n)
{
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = cmp_pairs(c, idx[i], idx[j]) <= 0
				                   ? idx[i++]
				                   : idx[j++];
			while (i < mid)
				tmp[k++] = idx[i++];
			while (j < hi)
				tmp[k++] = idx[j++];
		}
		memcpy(idx, tmp, n * sizeof(*idx));
	}
}

/* Sorts the pairs of the finished map frame f; EDUPKEY on equal keys. */
static int
finish_map(struct norm *n, struct nframe *f)
{
	size_t *e = n->ents + f->ent, np = n->nents - f->ent - 1, i;
	uint8_t *buf = n->out->data;
	struct sort_ctx ctx = {buf, e, 0};
	size_t *idx = NULL, span, o;
	int r, sorted = 1;

	for (i = 0; i + 1 < np; i++) {
		if (strawi_cmp_canon(buf, e[i], buf, e[i + 1], 1, &r) != 0)
			return -ENOMEM;
		if (r == 0)
			return STRAW_EDUPKEY;
		if (r > 0)
			sorted = 0;
	}
	if (sorted)
		goto out;
	idx = straw_malloc(2 * np * sizeof(*idx));
	span = e[np] - e[0];
	if (idx == NULL)
		return -ENOMEM;
	if (span > n->tmpcap) {
		uint8_t *nt = straw_realloc(n->tmp, span);
		if (nt == NULL) {
			straw_free(idx);
			return -ENOMEM;
		}
		n->tmp = nt;
		n->tmpcap = span;
	}
	for (i = 0; i < np; i++)
		idx[i] = i;
	sort_pairs(&ctx, idx, idx + np, np);
	if (ctx.err != 0) {
		straw_free(idx);
		return ctx.err;
	}
	for (i = 0; i + 1 < np; i++) {
		if (strawi_cmp_canon(buf, e[idx[i]], buf, e[idx[i + 1]], 1,
		                     &r) != 0) {
			straw_free(idx);
			return -ENOMEM;
		}
		if (r == 0) {
			straw_free(idx);
			return STRAW_EDUPKEY;
		}
	}
	memcpy(n->tmp, buf + e[0], span);
	o = e[0];
	for (i = 0; i < np; i++) {
		size_t k = idx[i], len = e[k + 1] - e[k];
		memcpy(buf + o, n->tmp + (e[k] - e[0]), len);
		o += len;
	}
	straw_free(idx);
out:
	n->nents = f->ent;
	return 0;
}

/* The list frame f is complete: patch its count, or drop its header when
 * it had no elements (it then stands for its tail). */
static int
finish_list(struct norm *n, struct nframe *f)
{
	if (f->count == 0) {
		memmove(n->out->data + f->hdr, n->out->data + f->hdr + 5,
		        n->out->len - f->hdr - 5);
		n->out->len -= 5;
		return 0;
	}
	if (f->count > UINT32_MAX)
		return STRAW_ETOOBIG; /* flattened past LIST_EXT's count */
	etf_put32(n->out->data + f->hdr + 1, (uint32_t)f->count);
	return 0;
}

static int
normalize_run(struct norm *n, size_t *fault)
{
	const uint8_t *in = n->in;
	size_t pos = n->start, at = n->start;
	int rc = 0;

	for (;;) {
		const uint8_t *p;
		struct nframe *f = n->sp ? &n->f[n->sp - 1] : NULL;

		/* A list frame at the end of a segment: continue or tail. */
		if (f != NULL && f->kind == NF_LIST && f->left == 0 &&
		    !f->in_tail) {
			uint8_t t = in[pos];
			if (t == ETF_LIST) {
				f->left = etf_get32(in + pos + 1);
				pos += 5;
				continue;
			}
			if (t == ETF_STRING) {
				uint16_t k = etf_get16(in + pos + 1);
				for (uint16_t i = 0; i < k; i++) {
					uint8_t h[2] = {ETF_SMALL_INTEGER,
					                in[pos + 3 + i]};
					if ((rc = put(n, h, 2)) != 0)
						goto fail;
				}
				f->count += k;
				pos += 3 + (size_t)k;
				if ((rc = put1(n, ETF_NIL)) != 0)
					goto fail;
				goto complete_list;
			}
			if (t == ETF_NIL) {
				pos++;
				if ((rc = put1(n, ETF_NIL)) != 0)
					goto fail;
				goto complete_list;
			}
			f->in_tail = 1;
		}
		at = pos;
		p = in + pos;
		switch (p[0]) {
		case ETF_SMALL_INTEGER:
		case ETF_INTEGER:
		case ETF_SMALL_BIG:
		case ETF_LARGE_BIG: {
			const uint8_t *mag;
			uint8_t small[4];
			size_t len;
			int neg;
			pos += get_int(p, &neg, &mag, &len, small);
			if ((rc = put_int(n, neg, mag, len)) != 0)
				goto fail;
			break;
		}
		case ETF_NEW_FLOAT:
			if ((rc = put(n, p, 9)) != 0)
				goto fail;
			pos += 9;
			break;
		case ETF_FLOAT: {
			uint8_t h[9];
			double d;
			uint64_t bits;
			if (strawi_etf_old_float(p + 1, &d) != 0)
				STRAWI_PANIC("unchecked float");
			memcpy(&bits, &d, 8);
			h[0] = ETF_NEW_FLOAT;
			etf_put64(h + 1, bits);
			if ((rc = put(n, h, 9)) != 0)
				goto fail;
			pos += 32;
			break;
		}
		case ETF_ATOM:
		case ETF_SMALL_ATOM:
		case ETF_ATOM_UTF8:
		case ETF_SMALL_ATOM_UTF8:
			pos += put_atom(n, p, &rc);
			if (rc != 0)
				goto fail;
			break;
		case ETF_SMALL_TUPLE:
		case ETF_LARGE_TUPLE: {
			uint32_t k = p[0] == ETF_SMALL_TUPLE ? p[1]
			                                     : etf_get32(p + 1);
			uint8_t h[5];
			pos += p[0] == ETF_SMALL_TUPLE ? 2 : 5;
			if (k <= 255) {
				h[0] = ETF_SMALL_TUPLE;
				h[1] = (uint8_t)k;
				rc = put(n, h, 2);
			} else {
				h[0] = ETF_LARGE_TUPLE;
				etf_put32(h + 1, k);
				rc = put(n, h, 5);
			}
			if (rc != 0)
				goto fail;
			if (k > 0) {
				if ((f = npush(n)) == NULL)
					goto nomem;
				f->kind = NF_SEQ;
				f->left = k;
				continue;
			}
			break;
		}
		case ETF_NIL:
			if ((rc = put1(n, ETF_NIL)) != 0)
				goto fail;
			pos++;
			break;
		case ETF_STRING:
		case ETF_LIST: {
			size_t end, total = string_prescan(in, pos, &end);
			uint8_t h[5] = {ETF_LIST, 0, 0, 0, 0};
			if (total > 0) {
				if ((rc = put_string(n, pos, total)) != 0)
					goto fail;
				pos = end;
				break;
			}
			if (p[0] == ETF_STRING) { /* "" */
				if ((rc = put1(n, ETF_NIL)) != 0)
					goto fail;
				pos += 3;
				break;
			}
			if ((f = npush(n)) == NULL)
				goto nomem;
			f->kind = NF_LIST;
			f->hdr = n->out->len;
			f->left = etf_get32(p + 1);
			f->in_at = at;
			pos += 5;
			if ((rc = put(n, h, 5)) != 0)
				goto fail;
			continue;
		}
		case ETF_BINARY: {
			size_t len = 5 + (size_t)etf_get32(p + 1);
			if ((rc = put(n, p, len)) != 0)
				goto fail;
			pos += len;
			break;
		}
		case ETF_BIT_BINARY: {
			uint32_t len = etf_get32(p + 1);
			uint8_t bits = p[5], h[6];
			if (len == 0 || bits == 8) {
				h[0] = ETF_BINARY;
				etf_put32(h + 1, len);
				if ((rc = put(n, h, 5)) != 0 ||
				    (rc = put(n, p + 6, len)) != 0)
					goto fail;
			} else {
				size_t o;
				if ((rc = put(n, p, 6 + (size_t)len)) != 0)
					goto fail;
				o = n->out->len - 1;
				n->out->data[o] &=
				        (uint8_t)(0xFF << (8 - bits));
			}
			pos += 6 + (size_t)len;
			break;
		}
		case ETF_MAP: {
			uint32_t k = etf_get32(p + 1);
			if ((rc = put(n, p, 5)) != 0)
				goto fail;
			pos += 5;
			if (k > 0) {
				if ((f = npush(n)) == NULL)
					goto nomem;
				f->kind = NF_MAP;
				f->left = 2 * (uint64_t)k;
				f->ent = n->nents;
				f->in_at = at;
				if ((rc = ent_add(n, n->out->len)) != 0)
					goto fail;
				continue;
			}
			break;
		}
		case ETF_EXPORT:
			if ((rc = put1(n, ETF_EXPORT)) != 0)
				goto fail;
			pos++;
			pos += put_atom(n, in + pos, &rc);
			if (rc != 0)
				goto fail;
			pos += put_atom(n, in + pos, &rc);
			if (rc != 0 || (rc = put(n, in + pos, 2)) != 0)
				goto fail;
			pos += 2;
			break;
		case ETF_NEW_FUN: {
			const uint8_t *mag;
			uint8_t small[4];
			size_t len, q = pos + 1 + ETF_FUN_FIXED, hdr;
			uint32_t nfree = etf_get32(p + 1 + 4 + 1 + 16 + 4);
			int neg;
			hdr = n->out->len;
			if ((rc = put(n, p, 1 + ETF_FUN_FIXED)) != 0)
				goto fail;
			q += put_atom(n, in + q, &rc);
			if (rc != 0)
				goto fail;
			for (int i = 0; i < 2; i++) {
				q += get_int(in + q, &neg, &mag, &len, small);
				if ((rc = put_int(n, neg, mag, len)) != 0)
					goto fail;
			}
			q += put_ident(n, in + q, &rc);
			if (rc != 0)
				goto fail;
			pos = q;
			if (nfree > 0) {
				if ((f = npush(n)) == NULL)
					goto nomem;
				f->kind = NF_FUN;
				f->left = nfree;
				f->hdr = hdr;
				continue;
			}
			etf_put32(n->out->data + hdr + 1,
			          (uint32_t)(n->out->len - hdr - 1));
			break;
		}
		default: /* pids, ports, references */
			pos += put_ident(n, p, &rc);
			if (rc != 0)
				goto fail;
			break;
		}
		/* A term is complete; so may be its parents. */
		while (n->sp > 0) {
			f = &n->f[n->sp - 1];
			if (f->kind == NF_LIST) {
				if (!f->in_tail) {
					f->left--;
					f->count++;
					break;
				}
			complete_list:
				f = &n->f[n->sp - 1];
				if ((rc = finish_list(n, f)) != 0) {
					at = f->in_at;
					goto fail;
				}
				n->sp--;
				continue;
			}
			/* A map records where each pair ends. */
			if (f->kind == NF_MAP && f->left % 2 == 1 &&
			    (rc = ent_add(n, n->out->len)) != 0)
				goto fail;
			if (--f->left > 0)
				break;
			if (f->kind == NF_MAP) {
				if ((rc = finish_map(n, f)) != 0) {
					at = f->in_at;
					goto fail;
				}
			} else if (f->kind == NF_FUN) {
				etf_put32(n->out->data + f->hdr + 1,
				          (uint32_t)(n->out->len - f->hdr - 1));
			}
			n->sp--;
		}
		if (n->sp == 0)
			break;
	}
	return 0;
nomem:
	rc = -ENOMEM;
fail:
	*fault = at;
	return rc;
}

int
strawi_normalize_lim(const uint8_t *buf, size_t len, const straw_term_limits *l,
                     straw_buf *out, size_t *fault)
{
	straw_buf inflated = STRAW_BUF_INIT;
	struct norm n;
	int rc;

	memset(&n, 0, sizeof(n));
	out->len = 0;
	*fault = 0;
	if (straw_term_is_compressed(buf, len)) {
		if ((rc = straw_term_decompress(buf, len, l, &inflated,
		                                fault)) != 0)
			goto out;
		buf = inflated.data;
		len = inflated.len;
	}
	/* Duplicate keys are found below, as the maps are sorted. */
	if ((rc = strawi_term_check_lim(buf, len, l, 0, fault)) != 0)
		goto out;
	if ((rc = straw_buf_reserve(out, len + 16)) != 0)
		goto out;
	out->data[0] = STRAW_ETF_VERSION;
	out->len = 1;
	n.in = buf;
	n.start = 1;
	n.out = out;
	rc = normalize_run(&n, fault);
out:
	if (rc != 0)
		out->len = 0;
	straw_free(n.f);
	straw_free(n.ents);
	straw_free(n.tmp);
	straw_buf_fini(&inflated);
	return rc;
}

int
strawi_normalize_keys(const uint8_t *buf, size_t pos, size_t *fault)
{
	straw_buf out = STRAW_BUF_INIT;
	struct norm n;
	int rc;

	memset(&n, 0, sizeof(n));
	n.in = buf;
	n.start = pos;
	n.out = &out;
	rc = normalize_run(&n, fault);
	straw_free(n.f);
	straw_free(n.ents);
	straw_free(n.tmp);
	straw_buf_fini(&out);
	return rc;
}

int
straw_term_normalize(const uint8_t *buf, size_t len,
                     const straw_term_limits *lim, straw_buf *out,
                     size_t *fault_offset)
{
	straw_term_limits l;
	size_t fault = 0;
	int rc;

	etf_limits(lim, &l);
	rc = strawi_normalize_lim(buf, len, &l, out, &fault);
	if (rc != 0 && fault_offset != NULL)
		*fault_offset = fault;
	return rc;
}
