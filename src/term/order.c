/*
 * Erlang term order, exact equality and hashing.
 *
 * Both terms are first brought into canonical form (straw_term_normalize):
 * maps sorted in map key order, lists flattened, atoms in UTF-8, integers in
 * their smallest encoding.  The comparison then walks both canonical terms
 * side by side with an explicit stack of paired frames.  Lists compare as
 * chains of cons cells, so a STRING_EXT on one side and a LIST_EXT on the
 * other compare element by element.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "etf.h"

/* An integer as sign and little-endian magnitude without high zeros. */
struct cint {
	int neg;
	const uint8_t *mag;
	size_t n;
	uint8_t small[4]; /* magnitude storage for the small encodings */
};

/* Reads the (canonical or not) integer at p; returns its encoded size. */
static size_t
read_int(const uint8_t *p, struct cint *v)
{
	size_t size;

	switch (p[0]) {
	case ETF_SMALL_INTEGER:
		v->neg = 0;
		v->small[0] = p[1];
		v->mag = v->small;
		v->n = 1;
		size = 2;
		break;
	case ETF_INTEGER: {
		int32_t x = (int32_t)etf_get32(p + 1);
		uint32_t m = x < 0 ? 0u - (uint32_t)x : (uint32_t)x;
		v->neg = x < 0;
		for (int i = 0; i < 4; i++)
			v->small[i] = (uint8_t)(m >> (8 * i));
		v->mag = v->small;
		v->n = 4;
		size = 5;
		break;
	}
	case ETF_SMALL_BIG:
		v->n = p[1];
		v->neg = p[2] != 0;
		v->mag = p + 3;
		size = 3 + v->n;
		break;
	default: /* ETF_LARGE_BIG */
		v->n = etf_get32(p + 1);
		v->neg = p[5] != 0;
		v->mag = p + 6;
		size = 6 + v->n;
		break;
	}
	while (v->n > 0 && v->mag[v->n - 1] == 0)
		v->n--;
	if (v->n == 0)
		v->neg = 0;
	return size;
}

static int
cmp_mag(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn)
		return an < bn ? -1 : 1;
	while (an > 0) {
		an--;
		if (a[an] != b[an])
			return a[an] < b[an] ? -1 : 1;
	}
	return 0;
}

static int
cmp_int(const struct cint *a, const struct cint *b)
{
	int m;

	if (a->neg != b->neg)
		return a->neg ? -1 : 1;
	m = cmp_mag(a->mag, a->n, b->mag, b->n);
	return a->neg ? -m : m;
}

static int
cmp_double(double a, double b)
{
	return a < b ? -1 : a > b ? 1 : 0; /* -0.0 == 0.0 */
}

/* An integer against a finite double, exactly. */
static int
cmp_int_double(const struct cint *a, double d)
{
	uint8_t ip[132];
	size_t in = 0, bits;
	uint64_t m53;
	int sa, e, frac = 0, m;
	double ad;

	if (a->n == 0)
		return cmp_double(0.0, d);
	sa = a->neg ? -1 : 1;
	if (d == 0 || (d < 0) != a->neg)
		return sa;
	ad = fabs(d);
	if (ad < 1.0)
		return sa; /* |a| >= 1 > |d| */
	/* ad = m53 * 2^(e - 53), m53 a 53-bit integer */
	m53 = (uint64_t)ldexp(frexp(ad, &e), 53);
	bits = (a->n - 1) * 8;
	for (unsigned top = a->mag[a->n - 1]; top != 0; top >>= 1)
		bits++;
	if (bits != (size_t)e)
		return bits > (size_t)e ? sa : -sa;
	/* Same bit length: compare with the integer part of |d|. */
	memset(ip, 0, sizeof(ip));
	if (e >= 53) {
		int shift = e - 53;
		for (int i = 0; i < 64; i++)
			if (m53 >> i & 1)
				ip[(i + shift) / 8] |=
				        (uint8_t)(1u << ((i + shift) % 8));
	} else {
		uint64_t ipart = m53 >> (53 - e);
		frac = (m53 & (((uint64_t)1 << (53 - e)) - 1)) != 0;
		for (int i = 0; i < 8; i++)
			ip[i] = (uint8_t)(ipart >> (8 * i));
	}
	in = ((size_t)e + 7) / 8;
	m = cmp_mag(a->mag, a->n, ip, in);
	if (m == 0 && frac)
		m = -1;
	return sa * m;
}

static double
read_double(const uint8_t *p)
{
	uint64_t bits = etf_get64(p + 1);
	double d;

	memcpy(&d, &bits, 8);
	return d;
}

/* An atom's name at p (canonical: UTF-8 tags). */
static size_t
atom_name(const uint8_t *p, const uint8_t **name, size_t *n)
{
	size_t hdr;
	int utf8;

	/* Checked bytes: cannot fail. */
	if (etf_atom_at(p, (size_t)-1 / 2, &hdr, n, &utf8) != 0)
		STRAWI_PANIC("not an atom");
	*name = p + hdr;
	return hdr + *n;
}

static int
cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn ? 1 : 0;
}

static size_t
cmp_atom(const uint8_t *a, const uint8_t *b, int *r, size_t *bsize)
{
	const uint8_t *na, *nb;
	size_t an, bn, asize;

	asize = atom_name(a, &na, &an);
	*bsize = atom_name(b, &nb, &bn);
	*r = cmp_bytes(na, an, nb, bn);
	return asize;
}

/* A pid, port or reference in canonical form, decoded. */
struct ident {
	const uint8_t *node;
	size_t node_len;
	uint32_t creation;
	uint32_t nwords;
	const uint8_t *words; /* ids, big-endian words */
	uint64_t id, serial;
	size_t size;
};

static void
read_ident(const uint8_t *p, struct ident *x)
{
	size_t q = 1, asz;

	memset(x, 0, sizeof(*x));
	if (p[0] == ETF_NEWER_REF) {
		x->nwords = etf_get16(p + 1);
		q = 3;
	}
	asz = atom_name(p + q, &x->node, &x->node_len);
	q += asz;
	switch (p[0]) {
	case ETF_NEW_PID:
		x->id = etf_get32(p + q);
		x->serial = etf_get32(p + q + 4);
		x->creation = etf_get32(p + q + 8);
		q += 12;
		break;
	case ETF_NEW_PORT:
		x->id = etf_get32(p + q);
		x->creation = etf_get32(p + q + 4);
		q += 8;
		break;
	case ETF_V4_PORT:
		x->id = etf_get64(p + q);
		x->creation = etf_get32(p + q + 8);
		q += 12;
		break;
	default: /* ETF_NEWER_REF */
		x->creation = etf_get32(p + q);
		x->words = p + q + 4;
		q += 4 + 4 * (size_t)x->nwords;
		break;
	}
	x->size = q;
}

#define CMPV(a, b)                                 \
	do {                                       \
		if ((a) != (b))                    \
			return (a) < (b) ? -1 : 1; \
	} while (0)

/* Pids: serial, number, node, creation; ports: node, creation, number;
 * references: node, creation, length, words from the last. */
static int
cmp_ident(int type, const struct ident *a, const struct ident *b)
{
	int c;

	if (type == STRAW_TERM_PID) {
		CMPV(a->serial, b->serial);
		CMPV(a->id, b->id);
	}
	c = cmp_bytes(a->node, a->node_len, b->node, b->node_len);
	if (c != 0)
		return c;
	CMPV(a->creation, b->creation);
	if (type == STRAW_TERM_PORT)
		CMPV(a->id, b->id);
	if (type == STRAW_TERM_REF) {
		CMPV(a->nwords, b->nwords);
		for (uint32_t i = a->nwords; i > 0; i--) {
			uint32_t wa = etf_get32(a->words + 4 * (i - 1));
			uint32_t wb = etf_get32(b->words + 4 * (i - 1));
			CMPV(wa, wb);
		}
	}
	return 0;
}

/* A bitstring at p: data, bit length, encoded size. */
static size_t
read_bits(const uint8_t *p, const uint8_t **data, uint64_t *bits)
{
	uint32_t n = etf_get32(p + 1);

	if (p[0] == ETF_BINARY) {
		*data = p + 5;
		*bits = (uint64_t)n * 8;
		return 5 + (size_t)n;
	}
	*data = p + 6;
	*bits = n == 0 ? 0 : (uint64_t)(n - 1) * 8 + p[5];
	return 6 + (size_t)n;
}

static int
cmp_bits(const uint8_t *a, uint64_t abits, const uint8_t *b, uint64_t bbits)
{
	uint64_t common = abits < bbits ? abits : bbits;
	size_t whole = (size_t)(common / 8);
	unsigned rest = (unsigned)(common % 8);
	int c = memcmp(a, b, whole);

	if (c != 0)
		return c < 0 ? -1 : 1;
	if (rest) {
		uint8_t mask = (uint8_t)(0xFF << (8 - rest));
		uint8_t x = a[whole] & mask, y = b[whole] & mask;
		CMPV(x, y);
	}
	CMPV(abits, bbits);
	return 0;
}

/* Rank of a type in term order; exact mode sets floats after integers. */
static int
rank(uint8_t tag, int exact)
{
	int t = strawi_tag_type(tag);

	if (t == STRAW_TERM_FLOAT && !exact)
		return STRAW_TERM_INTEGER * 2;
	return t * 2 + (t == STRAW_TERM_FLOAT ? -1 : 0);
}

/* Fixed part of a canonical NEW_FUN_EXT. */
struct fun {
	const uint8_t *head; /* arity, uniq, index: 21 bytes */
	uint32_t nfree;      /* free variables */
	const uint8_t *mod;  /* module name */
	size_t mod_len;
	struct cint old_index, old_uniq;
	const uint8_t *pid;
	size_t pid_len;
	size_t free_at, end; /* offsets from the tag */
};

static void
read_fun(const uint8_t *p, struct fun *f)
{
	size_t q = 1 + ETF_FUN_FIXED;
	struct ident id;

	f->end = 1 + etf_get32(p + 1);
	f->head = p + 5;
	f->nfree = etf_get32(p + 1 + 4 + 1 + 16 + 4);
	q += atom_name(p + q, &f->mod, &f->mod_len);
	q += read_int(p + q, &f->old_index);
	q += read_int(p + q, &f->old_uniq);
	f->pid = p + q;
	read_ident(p + q, &id);
	f->pid_len = id.size;
	q += id.size;
	f->free_at = q;
}

enum { CF_SEQ, CF_LIST, CF_MAP };

struct cframe {
	uint8_t kind;    /* CF_* */
	uint8_t exact;   /* compare children exactly */
	uint8_t in_tail; /* CF_LIST: comparing the tails */
	uint8_t sa, sb;  /* CF_LIST: side is inside a STRING_EXT */
	uint64_t left;   /* CF_SEQ: children left; CF_MAP: comparisons left */
	size_t pa, pb;   /* next child of each side */
	uint64_t la, lb; /* CF_LIST: elements left in the current segment */
	size_t obase;    /* CF_MAP: offsets index of this map */
	uint64_t i, n;   /* CF_MAP: next comparison, pairs */
	size_t ea, eb;   /* CF_MAP: ends of both maps */
};

struct cstack {
	struct cframe *f;
	size_t sp, cap;
	size_t *offs; /* map key/value offsets: a's 2n, then b's 2n */
	size_t noffs, offcap;
};

static struct cframe *
cpush(struct cstack *s)
{
	if (s->sp == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		struct cframe *nf = straw_realloc(s->f, nc * sizeof(*nf));
		if (nf == NULL)
			return NULL;
		s->f = nf;
		s->cap = nc;
	}
	memset(&s->f[s->sp], 0, sizeof(s->f[0]));
	return &s->f[s->sp++];
}

/* Records the key and value offsets of the map at p + pos (header there);
 * returns its end, or 0 on allocation failure. */
static size_t
map_offsets(struct cstack *s, const uint8_t *p, size_t pos, uint64_t n)
{
	size_t need = s->noffs + 2 * n, q = pos + 5;

	if (need > s->offcap) {
		size_t nc = s->offcap ? s->offcap : 64;
		size_t *no;
		while (nc < need)
			nc *= 2;
		no = straw_realloc(s->offs, nc * sizeof(*no));
		if (no == NULL)
			return 0;
		s->offs = no;
		s->offcap = nc;
	}
	for (uint64_t i = 0; i < 2 * n; i++) {
		s->offs[s->noffs++] = q;
		if (strawi_skip(p, SIZE_MAX, &q) != 0)
			STRAWI_PANIC("unchecked map");
	}
	return q;
}

/* Advances one side of a list frame to its next element or its tail. */
static void
list_side(const uint8_t *p, size_t *pos, uint64_t *left, uint8_t *str)
{
	while (*left == 0 && !*str) {
		uint8_t t = p[*pos];
		if (t == ETF_LIST) {
			*left = etf_get32(p + *pos + 1);
			*pos += 5;
		} else if (t == ETF_STRING) {
			*left = etf_get16(p + *pos + 1);
			*pos += 3;
			*str = 1;
		} else {
			break;
		}
	}
}

/* A small integer v against the term at p: the result, *size its size if
 * the term is a leaf number (for advancing), else the decision by type. */
static int
cmp_small_term(unsigned v, const uint8_t *p, int exact, size_t *size)
{
	struct cint a, b;
	int t = strawi_tag_type(p[0]);

	a.neg = 0;
	a.small[0] = (uint8_t)v;
	a.mag = a.small;
	a.n = v != 0;
	if (t == STRAW_TERM_INTEGER) {
		*size = read_int(p, &b);
		return cmp_int(&a, &b);
	}
	if (t == STRAW_TERM_FLOAT) {
		*size = 9;
		return exact ? -1 : cmp_int_double(&a, read_double(p));
	}
	*size = 0;
	return -1; /* numbers come before everything else */
}

int
strawi_cmp_canon(const uint8_t *a, size_t apos, const uint8_t *b, size_t bpos,
                 int exact, int *result)
{
	struct cstack s = {NULL, 0, 0, NULL, 0, 0};
	struct cframe *f;
	int r = 0, rc = 0;

	if ((f = cpush(&s)) == NULL)
		return -ENOMEM;
	f->kind = CF_SEQ;
	f->exact = (uint8_t)exact;
	f->left = 1;
	f->pa = apos;
	f->pb = bpos;
	while (s.sp > 0) {
		size_t xa, xb, sa, sb;
		int cx, ta, tb;
		const uint8_t *p, *q;

		f = &s.f[s.sp - 1];
		cx = f->exact;
		switch (f->kind) {
		case CF_SEQ:
			if (f->left == 0)
				goto complete;
			f->left--;
			xa = f->pa;
			xb = f->pb;
			break;
		case CF_MAP:
			if (f->i == 2 * f->n)
				goto complete;
			if (f->i < f->n) {
				xa = s.offs[f->obase + 2 * f->i];
				xb = s.offs[f->obase + 2 * f->n + 2 * f->i];
				cx = 1; /* keys compare exactly */
			} else {
				uint64_t k = f->i - f->n;
				xa = s.offs[f->obase + 2 * k + 1];
				xb = s.offs[f->obase + 2 * f->n + 2 * k + 1];
			}
			f->i++;
			break;
		default: /* CF_LIST */
			if (f->in_tail)
				goto complete;
			/* A side with str set and no elements left is at
			 * the [] ending its STRING_EXT. */
			list_side(a, &f->pa, &f->la, &f->sa);
			list_side(b, &f->pb, &f->lb, &f->sb);
			if (f->la > 0 && f->lb > 0) {
				size_t size;
				f->la--;
				f->lb--;
				if (f->sa && f->sb) {
					uint8_t va = a[f->pa++],
					        vb = b[f->pb++];
					r = va < vb ? -1 : va > vb ? 1 : 0;
				} else if (f->sa) {
					r = cmp_small_term(a[f->pa++],
					                   b + f->pb, cx,
					                   &size);
					f->pb += size;
				} else if (f->sb) {
					r = -cmp_small_term(b[f->pb++],
					                    a + f->pa, cx,
					                    &size);
					f->pa += size;
				} else {
					xa = f->pa;
					xb = f->pb;
					break;
				}
				if (r != 0)
					goto done;
				continue;
			}
			if (f->la > 0 || f->lb > 0) {
				/* One list goes on; the other's tail is
				 * [] or a non-list term. */
				int other;
				if (f->la > 0) {
					other = f->sb ? STRAW_TERM_NIL
					              : strawi_tag_type(
					                        b[f->pb]);
					r = other < STRAW_TERM_LIST ? 1 : -1;
				} else {
					other = f->sa ? STRAW_TERM_NIL
					              : strawi_tag_type(
					                        a[f->pa]);
					r = other < STRAW_TERM_LIST ? -1 : 1;
				}
				goto done;
			}
			/* Both at their tails. */
			f->in_tail = 1;
			if (f->sa && f->sb)
				goto complete;
			if (f->sa || f->sb) {
				int other = f->sa ? strawi_tag_type(b[f->pb])
				                  : strawi_tag_type(a[f->pa]);
				if (other != STRAW_TERM_NIL) {
					r = other < STRAW_TERM_NIL ? 1 : -1;
					if (f->sb)
						r = -r;
					goto done;
				}
				if (f->sa)
					f->pb++;
				else
					f->pa++;
				goto complete;
			}
			xa = f->pa;
			xb = f->pb;
			break;
		}
		/* Compare the terms at xa, xb; leaves advance the frame. */
		p = a + xa;
		q = b + xb;
		ta = rank(p[0], cx);
		tb = rank(q[0], cx);
		if (ta != tb) {
			r = ta < tb ? -1 : 1;
			goto done;
		}
		sa = sb = 0;
		switch (strawi_tag_type(p[0])) {
		case STRAW_TERM_INTEGER:
		case STRAW_TERM_FLOAT: {
			struct cint ia, ib;
			int fa = strawi_tag_type(p[0]) == STRAW_TERM_FLOAT;
			int fb = strawi_tag_type(q[0]) == STRAW_TERM_FLOAT;
			if (!fa)
				sa = read_int(p, &ia);
			else
				sa = 9;
			if (!fb)
				sb = read_int(q, &ib);
			else
				sb = 9;
			if (!fa && !fb)
				r = cmp_int(&ia, &ib);
			else if (fa && fb)
				r = cmp_double(read_double(p), read_double(q));
			else if (fb)
				r = cmp_int_double(&ia, read_double(q));
			else
				r = -cmp_int_double(&ib, read_double(p));
			break;
		}
		case STRAW_TERM_ATOM:
			sa = cmp_atom(p, q, &r, &sb);
			break;
		case STRAW_TERM_REF:
		case STRAW_TERM_PORT:
		case STRAW_TERM_PID: {
			struct ident ia, ib;
			read_ident(p, &ia);
			read_ident(q, &ib);
			r = cmp_ident(strawi_tag_type(p[0]), &ia, &ib);
			sa = ia.size;
			sb = ib.size;
			break;
		}
		case STRAW_TERM_FUN: {
			struct fun fa, fb;
			if (p[0] != q[0]) {
				r = p[0] == ETF_NEW_FUN ? -1 : 1;
				break;
			}
			if (p[0] == ETF_EXPORT) {
				size_t k, l;
				sa = 1 + cmp_atom(p + 1, q + 1, &r, &sb);
				sb += 1;
				if (r != 0)
					break;
				k = cmp_atom(p + sa, q + sb, &r, &l);
				sa += k;
				sb += l;
				if (r != 0)
					break;
				r = p[sa + 1] < q[sb + 1]   ? -1
				    : p[sa + 1] > q[sb + 1] ? 1
				                            : 0;
				sa += 2;
				sb += 2;
				break;
			}
			read_fun(p, &fa);
			read_fun(q, &fb);
			r = cmp_bytes(fa.mod, fa.mod_len, fb.mod, fb.mod_len);
			if (r == 0)
				r = cmp_int(&fa.old_index, &fb.old_index);
			if (r == 0)
				r = cmp_int(&fa.old_uniq, &fb.old_uniq);
			if (r == 0)
				r = fa.nfree < fb.nfree   ? -1
				    : fa.nfree > fb.nfree ? 1
				                          : 0;
			if (r == 0)
				r = cmp_bytes(fa.head, 21, fb.head, 21);
			if (r == 0)
				r = cmp_bytes(fa.pid, fa.pid_len, fb.pid,
				              fb.pid_len);
			if (r != 0)
				goto done;
			sa = fa.end;
			sb = fb.end;
			if (fa.nfree > 0) {
				struct cframe *c = cpush(&s);
				if (c == NULL) {
					rc = -ENOMEM;
					goto done;
				}
				f = &s.f[s.sp - 2];
				c->kind = CF_SEQ;
				c->exact = (uint8_t)cx;
				c->left = fa.nfree;
				c->pa = xa + fa.free_at;
				c->pb = xb + fb.free_at;
				continue;
			}
			break;
		}
		case STRAW_TERM_TUPLE: {
			uint32_t na, nb;
			size_t ha = p[0] == ETF_SMALL_TUPLE ? 2 : 5;
			size_t hb = q[0] == ETF_SMALL_TUPLE ? 2 : 5;
			na = ha == 2 ? p[1] : etf_get32(p + 1);
			nb = hb == 2 ? q[1] : etf_get32(q + 1);
			if (na != nb) {
				r = na < nb ? -1 : 1;
				goto done;
			}
			sa = ha;
			sb = hb;
			if (na > 0) {
				struct cframe *c = cpush(&s);
				if (c == NULL) {
					rc = -ENOMEM;
					goto done;
				}
				c->kind = CF_SEQ;
				c->exact = (uint8_t)cx;
				c->left = na;
				c->pa = xa + ha;
				c->pb = xb + hb;
				continue;
			}
			break;
		}
		case STRAW_TERM_MAP: {
			uint32_t na = etf_get32(p + 1), nb = etf_get32(q + 1);
			size_t base, ea, eb;
			struct cframe *c;
			if (na != nb) {
				r = na < nb ? -1 : 1;
				goto done;
			}
			sa = sb = 5;
			if (na == 0)
				break;
			base = s.noffs;
			if ((ea = map_offsets(&s, a, xa, na)) == 0 ||
			    (eb = map_offsets(&s, b, xb, nb)) == 0 ||
			    (c = cpush(&s)) == NULL) {
				rc = -ENOMEM;
				goto done;
			}
			c->kind = CF_MAP;
			c->exact = (uint8_t)cx;
			c->obase = base;
			c->n = na;
			c->ea = ea;
			c->eb = eb;
			continue;
		}
		case STRAW_TERM_NIL:
			sa = sb = 1;
			break;
		case STRAW_TERM_LIST: {
			struct cframe *c = cpush(&s);
			if (c == NULL) {
				rc = -ENOMEM;
				goto done;
			}
			c->kind = CF_LIST;
			c->exact = (uint8_t)cx;
			c->pa = xa;
			c->pb = xb;
			continue;
		}
		default: { /* STRAW_TERM_BINARY */
			const uint8_t *da, *db;
			uint64_t ba, bb;
			sa = read_bits(p, &da, &ba);
			sb = read_bits(q, &db, &bb);
			r = cmp_bits(da, ba, db, bb);
			break;
		}
		}
		if (r != 0)
			goto done;
		/* A leaf was equal: the frame moves past it. */
		f = &s.f[s.sp - 1];
		if (f->kind != CF_MAP) {
			f->pa = xa + sa;
			f->pb = xb + sb;
		}
		continue;
	complete:
		/* f is finished and equal: its parent moves past it. */
		{
			size_t ea = f->kind == CF_MAP ? f->ea : f->pa;
			size_t eb = f->kind == CF_MAP ? f->eb : f->pb;
			if (f->kind == CF_MAP)
				s.noffs = f->obase;
			s.sp--;
			if (s.sp > 0) {
				struct cframe *parent = &s.f[s.sp - 1];
				if (parent->kind != CF_MAP) {
					parent->pa = ea;
					parent->pb = eb;
				}
			}
		}
	}
done:
	straw_free(s.f);
	straw_free(s.offs);
	*result = r;
	return rc;
}

/* The canonical form of any term, without depth or size limits (the
 * caller checked the term with its own limits). */
static int
canon(const uint8_t *buf, size_t len, straw_buf *out)
{
	straw_term_limits l = {SIZE_MAX, SIZE_MAX,
	                       STRAW_TERM_DEFAULT_MAX_DECOMPRESSED};
	size_t fault;

	return strawi_normalize_lim(buf, len, &l, out, &fault);
}

/* Orders invalid terms after valid ones, by bytes among themselves. */
static int
cmp_invalid(int ra, int rb, const uint8_t *a, size_t alen, const uint8_t *b,
            size_t blen)
{
	if (ra == 0)
		return -1;
	if (rb == 0)
		return 1;
	return cmp_bytes(a, alen, b, blen);
}

static int
compare_mode(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
             int exact, int *r)
{
	straw_buf ca = STRAW_BUF_INIT, cb = STRAW_BUF_INIT;
	int ra = canon(a, alen, &ca), rb = canon(b, blen, &cb), rc = 0;

	if (ra != 0 || rb != 0) {
		*r = cmp_invalid(ra, rb, a, alen, b, blen);
		rc = ra != 0 && rb != 0 ? -1 : 0;
	} else if (strawi_cmp_canon(ca.data, 1, cb.data, 1, exact, r) != 0) {
		*r = cmp_bytes(a, alen, b, blen);
		rc = -1;
	}
	straw_buf_fini(&ca);
	straw_buf_fini(&cb);
	return rc;
}

int
straw_term_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int r;

	compare_mode(a, alen, b, blen, 0, &r);
	return r;
}

int
straw_term_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int r;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return 1;
	if (compare_mode(a, alen, b, blen, 1, &r) != 0)
		return 0; /* invalid terms equal only identical bytes */
	return r == 0;
}

uint64_t
straw_term_hash(const uint8_t *buf, size_t len)
{
	straw_buf c = STRAW_BUF_INIT;
	uint64_t pending = 1, h;
	size_t pos = 1;

	if (canon(buf, len, &c) != 0) {
		straw_buf_fini(&c);
		return strawi_hash_bytes(buf, len, 0x5eed);
	}
	/* -0.0 =:= 0.0: hash both as 0.0.  Walk the canonical bytes. */
	while (pending > 0) {
		uint8_t *p = c.data + pos;
		size_t next = pos;
		pending--;
		switch (p[0]) {
		case ETF_NEW_FLOAT:
			if (etf_get64(p + 1) == 0x8000000000000000ULL)
				memset(p + 1, 0, 8);
			pos += 9;
			continue;
		case ETF_SMALL_TUPLE:
			pending += p[1];
			pos += 2;
			continue;
		case ETF_LARGE_TUPLE:
			pending += etf_get32(p + 1);
			pos += 5;
			continue;
		case ETF_LIST:
			pending += (uint64_t)etf_get32(p + 1) + 1;
			pos += 5;
			continue;
		case ETF_MAP:
			pending += 2 * (uint64_t)etf_get32(p + 1);
			pos += 5;
			continue;
		case ETF_NEW_FUN: {
			struct fun f;
			read_fun(p, &f);
			pending += f.nfree;
			pos += f.free_at;
			continue;
		}
		default:
			if (strawi_skip(c.data, c.len, &next) != 0)
				STRAWI_PANIC("bad canonical term");
			pos = next;
			continue;
		}
	}
	h = strawi_hash_bytes(c.data, c.len, 0x5eed);
	straw_buf_fini(&c);
	return h;
}
