/*
 * Duplicate map keys in a term the checker accepted: the second pass of
 * straw_term_check and straw_term_check_body, run only when the term holds
 * a map of two pairs or more (the checker's own loop, the hot one, never
 * looks at keys).
 *
 * OTP's binary_to_term refuses a map in which two keys are the same term
 * (=:=, whatever their encodings: 1 as SMALL_INTEGER_EXT and as
 * INTEGER_EXT, 'a' in Latin-1 and in UTF-8, 0.0 and -0.0).  Two keys in
 * canonical encoding (what term_to_binary and straw write) are the same
 * term exactly when their bytes are the same.  So this pass walks the term
 * once more (trusting the bytes the checker validated) with an explicit
 * stack, notes where each key of an open map starts and ends, and when the
 * map is complete compares its keys as bytes if every one of them is
 * "plain": integers, atoms in UTF-8, floats other than zero, binaries,
 * strings, [], pids, references, ports and `fun M:F/A` in their canonical
 * encodings, and tuples of these; pairwise for a few keys, through a hash
 * table for more.  A key of any other kind or encoding (lists, maps,
 * closures, big integers, Latin-1 atoms, the old pid forms, a float zero,
 * 7 as INTEGER_EXT, ...) ends the walk: strawi_normalize_keys normalizes
 * the term, which compares canonical forms (and allocates about the
 * term's size).  Either way the map reported is the first one, in the
 * order maps complete, with two equal keys, as straw_term_normalize
 * reports it.
 */
#include <errno.h>
#include <string.h>

#include "base/hash.h"
#include "etf.h"

/* A key of an open map. */
struct key {
	const uint8_t *p; /* its bytes */
	size_t n;         /* their length */
};

/* An open map whose keys are compared. */
struct open_map {
	size_t at;   /* its tag */
	size_t key0; /* its first key in the walk's key list */
};

/* 1 if the key k[0..n) is plain (see above).  A linear scan suffices: a
 * plain key is tuple and export headers and leaves. */
static int
key_is_plain_scan(const uint8_t *k, size_t n)
{
	size_t pos = 0, node;

	while (pos < n) {
		const uint8_t *p = k + pos;
		switch (p[0]) {
		case ETF_SMALL_INTEGER:
			pos += 2;
			break;
		case ETF_INTEGER: {
			int32_t v = (int32_t)etf_get32(p + 1);
			if (v >= 0 && v <= 255)
				return 0; /* canonical: SMALL_INTEGER_EXT */
			pos += 5;
			break;
		}
		case ETF_NEW_FLOAT:
			if ((etf_get64(p + 1) << 1) == 0)
				return 0; /* 0.0 =:= -0.0 in OTP 25 */
			pos += 9;
			break;
		case ETF_SMALL_ATOM_UTF8:
			pos += 2 + (size_t)p[1];
			break;
		case ETF_ATOM_UTF8:
			if (etf_get16(p + 1) <= 255)
				return 0; /* canonical: SMALL_ATOM_UTF8_EXT */
			pos += 3 + (size_t)etf_get16(p + 1);
			break;
		case ETF_BINARY:
			pos += 5 + (size_t)etf_get32(p + 1);
			break;
		case ETF_NIL:
			pos += 1;
			break;
		case ETF_STRING:
			if (etf_get16(p + 1) == 0)
				return 0; /* canonical: NIL_EXT */
			pos += 3 + (size_t)etf_get16(p + 1);
			break;
		case ETF_SMALL_TUPLE:
			pos += 2;
			break;
		case ETF_LARGE_TUPLE:
			if (etf_get32(p + 1) <= 255)
				return 0;
			pos += 5;
			break;
		case ETF_EXPORT:
			pos += 1; /* its atoms and arity follow */
			break;
		case ETF_NEW_PID:
		case ETF_NEW_PORT:
		case ETF_V4_PORT:
			if (p[1] != ETF_SMALL_ATOM_UTF8)
				return 0;
			node = 1 + 2 + (size_t)p[2];
			if (p[0] == ETF_NEW_PID) {
				pos += node + 12;
			} else if (p[0] == ETF_NEW_PORT) {
				if (etf_get32(p + node) > STRAW_PORT_MAX_V3_ID)
					return 0;
				pos += node + 8;
			} else {
				if (etf_get64(p + node) <= STRAW_PORT_MAX_V3_ID)
					return 0;
				pos += node + 12;
			}
			break;
		case ETF_NEWER_REF:
			if (p[3] != ETF_SMALL_ATOM_UTF8)
				return 0;
			pos += 3 + 2 + (size_t)p[4] + 4 +
			       4 * (size_t)etf_get16(p + 1);
			break;
		default:
			return 0;
		}
	}
	return 1;
}

static inline int
key_is_plain(const uint8_t *k, size_t n)
{
	/* The usual keys: one UTF-8 atom or integer. */
	if ((k[0] == ETF_SMALL_ATOM_UTF8 && n == 2 + (size_t)k[1]) ||
	    (k[0] == ETF_SMALL_INTEGER && n == 2))
		return 1;
	if (k[0] == ETF_INTEGER && n == 5)
		return etf_get32(k + 1) > 255; /* else canonical is SMALL */
	return key_is_plain_scan(k, n);
}

/* Plain keys are compared by their bytes; their tags are alike more often
 * than their last bytes. */
static inline int
same_bytes(const struct key *a, const struct key *b)
{
	return a->n == b->n && a->p[a->n - 1] == b->p[b->n - 1] &&
	       memcmp(a->p, b->p, a->n) == 0;
}

/* A hash of a key's bytes for the table, the same wherever the key lies:
 * a key of up to 8 bytes is one word (one load when the term has 8 bytes
 * from its start; end is the term's end). */
static inline uint64_t
key_hash(const struct key *k, const uint8_t *end)
{
	uint64_t w = 0, h;

	if (k->n > 8)
		return strawi_hash_bytes(k->p, k->n, 0);
	if (end - k->p >= 8) {
		memcpy(&w, k->p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w); /* the first byte lowest */
#endif
		if (k->n < 8)
			w &= ((uint64_t)1 << (8 * k->n)) - 1;
	} else {
		for (size_t i = 0; i < k->n; i++)
			w |= (uint64_t)k->p[i] << (8 * i);
	}
	/* The murmur3 finalizer: every input bit reaches the low bits. */
	h = w ^ k->n;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ h >> 33;
}

/* Up to this many keys a map's keys are compared pairwise; above it,
 * through a hash table (of local slots up to LOCAL_SLOTS / 2 keys). */
#define PAIRWISE_MAX 8
#define LOCAL_SLOTS  512

/* Compares the n plain keys k[] of a term ending at end: 0,
 * STRAW_EDUPKEY or -ENOMEM. */
static int
plain_keys_differ(const struct key *k, size_t n, const uint8_t *end)
{
	uint16_t local[LOCAL_SLOTS];
	uint32_t *big = NULL;
	size_t i, j, mask, cap = LOCAL_SLOTS;
	int rc = 0;

	if (n <= PAIRWISE_MAX) {
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (same_bytes(&k[i], &k[j]))
					return STRAW_EDUPKEY;
		return 0;
	}
	while (cap < 2 * n)
		cap *= 2;
	mask = cap - 1;
	if (cap > LOCAL_SLOTS) {
		big = straw_calloc(cap, sizeof(*big));
		if (big == NULL)
			return -ENOMEM;
	} else {
		memset(local, 0, sizeof(local));
	}
	/* Open addressing; a slot holds a key's index plus one. */
	for (i = 0; i < n && rc == 0; i++) {
		j = (size_t)key_hash(&k[i], end) & mask;
		for (;;) {
			size_t s = big != NULL ? big[j] : local[j];
			if (s == 0)
				break;
			if (same_bytes(&k[i], &k[s - 1])) {
				rc = STRAW_EDUPKEY;
				break;
			}
			j = (j + 1) & mask;
		}
		if (big != NULL)
			big[j] = (uint32_t)(i + 1);
		else
			local[j] = (uint16_t)(i + 1);
	}
	straw_free(big);
	return rc;
}

/* A growable array in local storage first, then on the heap. */
struct grow {
	void *p;           /* the elements */
	size_t n, cap;     /* used, room */
	const void *local; /* the first storage */
	size_t esize;      /* element size */
};

/* Room for one more element: 0 or -ENOMEM. */
static int
grow_room(struct grow *g)
{
	size_t nc = g->cap * 2;
	void *np;

	if (g->n < g->cap)
		return 0;
	if (g->p == g->local) {
		np = straw_malloc(nc * g->esize);
		if (np != NULL)
			memcpy(np, g->p, g->n * g->esize);
	} else {
		np = straw_realloc(g->p, nc * g->esize);
	}
	if (np == NULL)
		return -ENOMEM;
	g->p = np;
	g->cap = nc;
	return 0;
}

static void
grow_fini(struct grow *g)
{
	if (g->p != g->local)
		straw_free(g->p);
}

/* The fixed part of the closure at p: where its free variables start. */
static size_t
fun_free_vars(const uint8_t *buf, size_t len, size_t pos)
{
	size_t q = pos + 1 + ETF_FUN_FIXED;

	/* Module, old index, old uniq, creator pid: checked already. */
	for (int i = 0; i < 4; i++)
		if (strawi_skip(buf, len, &q) != 0)
			STRAWI_PANIC("unchecked closure");
	return q;
}

#define STACK_LOCAL 64
/* In a count on the stack: a map whose keys are compared.  Its count is
 * even before each key. */
#define MAP_FLAG ((uint64_t)1 << 63)

int
strawi_check_map_keys(const uint8_t *buf, size_t len, size_t pos, size_t *fault)
{
	uint64_t slocal[STACK_LOCAL], left = 0;
	struct key klocal[32];
	struct open_map mlocal[8];
	struct grow st = {slocal, 0, STACK_LOCAL, slocal, sizeof(uint64_t)};
	struct grow ks = {klocal, 0, 32, klocal, sizeof(struct key)};
	struct grow ms = {mlocal, 0, 8, mlocal, sizeof(struct open_map)};
	size_t start = pos, sp = 0;
	int rc = 0;

	/* The bytes are checked: no bounds, no field is looked at twice. */
	for (;;) {
		const uint8_t *p = buf + pos;
		uint64_t kids;

		if (*p == ETF_SMALL_INTEGER) {
			pos += 2;
			goto complete;
		}
		if (*p == ETF_SMALL_ATOM_UTF8) {
			pos += 2 + (size_t)p[1];
			goto complete;
		}
		if (*p == ETF_SMALL_TUPLE) {
			kids = p[1];
			pos += 2;
			goto container;
		}
		if (*p == ETF_INTEGER) {
			pos += 5;
			goto complete;
		}
		if (*p == ETF_BINARY) {
			pos += 5 + (size_t)etf_get32(p + 1);
			goto complete;
		}
		if (*p == ETF_NEW_FLOAT) {
			pos += 9;
			goto complete;
		}
		if (*p == ETF_MAP) {
			kids = 2 * (uint64_t)etf_get32(p + 1);
			if (kids >= 4) {
				struct open_map *m;
				if ((rc = grow_room(&ms)) != 0)
					goto out;
				m = (struct open_map *)ms.p + ms.n++;
				m->at = pos;
				m->key0 = ks.n;
				kids |= MAP_FLAG;
			}
			pos += 5;
			goto container;
		}
		if (*p == ETF_LIST) {
			kids = (uint64_t)etf_get32(p + 1) + 1;
			pos += 5;
			goto container;
		}
		if (*p == ETF_NIL) {
			pos += 1;
			goto complete;
		}
		if (*p == ETF_STRING || *p == ETF_ATOM_UTF8) {
			pos += 3 + (size_t)etf_get16(p + 1);
			goto complete;
		}
		if (*p == ETF_LARGE_TUPLE) {
			kids = etf_get32(p + 1);
			pos += 5;
			goto container;
		}
		if (*p == ETF_NEW_FUN) {
			kids = etf_get32(p + 1 + 4 + 1 + 16 + 4);
			if (kids == 0) {
				pos += 1 + (size_t)etf_get32(p + 1);
				goto complete;
			}
			pos = fun_free_vars(buf, len, pos);
			goto container;
		}
		{
			size_t q = pos; /* pos itself stays in a register */
			if (strawi_skip(buf, len, &q) != 0)
				STRAWI_PANIC("unchecked term");
			pos = q;
		}
		goto complete;
	container:
		if (kids != 0) {
			if (sp > 0) {
				if ((rc = grow_room(&st)) != 0)
					goto out;
				((uint64_t *)st.p)[st.n++] = left;
			}
			sp++;
			left = kids;
			if (kids & MAP_FLAG)
				goto key_start;
			continue;
		}
	complete:
		/* A term is complete; so may be its parents. */
		while (sp > 0) {
			if (left & MAP_FLAG) {
				struct key *k;
				if ((left & 1) == 0) { /* a key ends */
					k = (struct key *)ks.p + ks.n - 1;
					k->n = (size_t)(buf + pos - k->p);
				} else if ((left & ~MAP_FLAG) > 1) {
					left--;
					goto key_start; /* after a value */
				}
			}
			if ((--left & ~MAP_FLAG) != 0)
				break;
			sp--;
			if (left & MAP_FLAG) {
				struct open_map *m =
				        (struct open_map *)ms.p + --ms.n;
				struct key *k = (struct key *)ks.p + m->key0;
				size_t n = ks.n - m->key0, i;
				for (i = 0; i < n; i++)
					if (!key_is_plain(k[i].p, k[i].n))
						goto general;
				if ((rc = plain_keys_differ(k, n, buf + len)) !=
				    0) {
					*fault = m->at;
					goto out;
				}
				ks.n = m->key0;
			}
			if (sp > 0)
				left = ((uint64_t *)st.p)[--st.n];
		}
		if (sp == 0)
			break;
		continue;
	key_start:
		/* The next term is a key of the innermost map. */
		if ((rc = grow_room(&ks)) != 0)
			goto out;
		((struct key *)ks.p)[ks.n].p = buf + pos;
		((struct key *)ks.p)[ks.n++].n = 0;
	}
	goto out;
general:
	/* Keys only canonical forms can compare. */
	rc = strawi_normalize_keys(buf, start, fault);
out:
	grow_fini(&st);
	grow_fini(&ks);
	grow_fini(&ms);
	return rc;
}
