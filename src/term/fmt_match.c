/*
 * Matching terms against format strings in Erlang syntax:
 * straw_term_match matches a term against a pattern and captures parts of
 * it.
 *
 * Matching walks the pattern's tokens and the term's cursor side by side:
 * it allocates nothing and caches nothing.  After the first difference it
 * keeps reading the pattern without the term, so a malformed pattern is
 * reported whatever the term.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <straw/pid.h>
#include <straw/term_text.h>

#include "base/base.h"
#include "term/etf.h"
#include "term/fmt.h"
#include "term/text_parse.h"

enum {
	CAP_INT = 1, /* ~i: v.i */
	CAP_UINT,    /* ~u: v.u */
	CAP_DOUBLE,  /* ~f: v.d */
	CAP_ATOM,    /* ~a: at */
	CAP_STRING,  /* ~s: at, n */
	CAP_BYTES,   /* ~b, ~t: v.bytes */
	CAP_PID,     /* ~p: at */
	CAP_PORT,    /* ~o: at */
	CAP_REF,     /* ~r: at */
	CAP_SPID,    /* ~P: v.pid */
	CAP_SREF,    /* ~R: v.ref */
};

/*
 * A directive's C arguments, taken from the caller's list once, when the
 * directive is first read (a map's key pattern is read again for each key
 * of the term), in the order of the pattern's text.
 */
union dir_args {
	int64_t i;       /* ~=i */
	uint64_t u;      /* ~=u */
	double d;        /* ~=f */
	const char *str; /* ~=a, ~=s */
	struct {
		const void *p;
		size_t n;
	} bytes;         /* ~=b, ~=t */
	const void *ptr; /* ~=p, ~=o, ~=r */
	straw_pid pid;   /* ~=P */
	straw_ref ref;   /* ~=R */
	struct {
		char *p;
		size_t cap;
	} buf; /* captures ~a, ~s */
	struct {
		const uint8_t **p;
		size_t *n;
	} out;     /* captures ~b, ~t */
	void *dst; /* the other captures */
};

struct dir {
	size_t at;        /* its token's offset in the pattern */
	union dir_args a; /* its arguments */
};

struct capture {
	int kind;                 /* CAP_*; 0: nothing captured */
	const union dir_args *to; /* where it goes */
	straw_cursor at; /* the captured term, for reads after the match */
	size_t n;        /* CAP_STRING: length */
	union {
		int64_t i;
		uint64_t u;
		double d;
		struct {
			const uint8_t *p;
			size_t n;
		} bytes;
		straw_pid pid;
		straw_ref ref;
	} v;
};

struct matcher {
	struct tp_parser p;  /* the pattern's tokens (no output) */
	const uint8_t *term; /* the whole term, to tell in-place bytes */
	size_t term_len;     /* its length */
	va_list *ap;         /* the caller's arguments */
	int failed;          /* 1 after the first difference */
	int err;             /* the first fault of the term or of a value */
	int in_key;          /* matching a map key: no captures */
	int depth;           /* pattern nesting */
	int ncap;            /* captures used */
	int ndir;            /* directives read */
	struct dir dir[STRAW_MATCH_MAX_CAPTURES];     /* in pattern order */
	struct capture cap[STRAW_MATCH_MAX_CAPTURES]; /* in pattern order */
};

static int match_value(struct matcher *m, straw_cursor *c);

static int
pat_error(struct matcher *m)
{
	(void)m;
	return STRAW_EFORMAT;
}

/*
 * A fault of the term (malformed bytes) or of a bound value: kept, and
 * the match goes on reading the pattern only, so that every directive's
 * arguments are taken; the call then returns it.  0 passes through.
 */
static int
term_error(struct matcher *m, int rc)
{
	if (rc == 0)
		return 0;
	if (m->err == 0)
		m->err = rc;
	m->failed = 1;
	return 0;
}

/* A cursor error: a different type or a value that does not fit means no
 * match; others are faults of the term. */
static int
cursor_miss(struct matcher *m, int rc)
{
	if (rc == STRAW_ETYPE || rc == STRAW_ERANGE) {
		m->failed = 1;
		return 0;
	}
	return term_error(m, rc);
}

static int
next_tok(struct matcher *m)
{
	int rc = tp_next(&m->p);

	return rc == STRAW_ESYNTAX ? STRAW_EFORMAT : rc;
}

static int
peek_tok(struct matcher *m)
{
	int rc = tp_peek(&m->p);

	return rc == STRAW_ESYNTAX ? STRAW_EFORMAT : rc;
}

static int
expect_tok(struct matcher *m, int kind)
{
	int rc = tp_expect(&m->p, kind);

	return rc == STRAW_ESYNTAX ? STRAW_EFORMAT : rc;
}

static int
active(const struct matcher *m, const straw_cursor *c)
{
	return c != NULL && !m->failed;
}

/* Integer literal: compare with the term's integer. */
static int
match_integer(struct matcher *m, straw_cursor *c, int negative)
{
	const struct tl_token *t = &m->p.tok;
	const uint8_t *tmag;
	uint8_t *pmag;
	size_t tn, pn;
	int tneg, rc;

	if (!active(m, c)) {
		if (t->big &&
		    (rc = tp_big_magnitude(&m->p, t, &pmag, &pn)) != 0)
			return rc;
		return 0;
	}
	if (straw_cursor_type(c) != STRAW_TERM_INTEGER) {
		m->failed = 1;
		return 0;
	}
	if (!t->big) {
		int64_t v, want = negative ? -t->ival : t->ival;
		if ((rc = straw_cursor_int64(c, &v)) != 0)
			return cursor_miss(m, rc);
		if (v != want)
			m->failed = 1;
		return 0;
	}
	if ((rc = tp_big_magnitude(&m->p, t, &pmag, &pn)) != 0)
		return rc;
	if ((rc = straw_cursor_bignum(c, &tneg, &tmag, &tn)) != 0)
		return term_error(m, rc);
	while (pn > 0 && pmag[pn - 1] == 0)
		pn--;
	while (tn > 0 && tmag[tn - 1] == 0)
		tn--;
	if (tneg != negative || tn != pn || memcmp(tmag, pmag, pn) != 0)
		m->failed = 1;
	return 0;
}

/* Whether the next term (an atom) is the atom of UTF-8 name want[0..n);
 * consumes it.  UTF-8 atoms are compared where they lie. */
static int
atom_equals(struct matcher *m, straw_cursor *c, const char *want, size_t n)
{
	char got[STRAW_ATOM_MAX_BYTES + 1];
	const uint8_t *raw;
	size_t rn, gn, hdr, left;
	int rc;

	/* The cursor's pointer is a public field; the caller's type check
	 * bounds the header. */
	raw = c->p;
	left = c->len - straw_cursor_offset(c);
	if (raw[0] == ETF_SMALL_ATOM_UTF8 && left >= 2) {
		hdr = 2;
		rn = raw[1];
	} else if (raw[0] == ETF_ATOM_UTF8 && left >= 3) {
		hdr = 3;
		rn = etf_get16(raw + 1);
	} else {
		hdr = 0;
		rn = 0;
	}
	if (hdr != 0 && left - hdr >= rn) {
		if (rn != n || memcmp(raw + hdr, want, n) != 0)
			m->failed = 1;
		c->p += hdr + rn;
		return 0;
	}
	if ((rc = straw_cursor_term(c, &raw, &rn)) != 0)
		return term_error(m, rc);
	/* Latin-1 atom: read its UTF-8 form from a copy of the cursor. */
	{
		straw_cursor s;
		straw_cursor_init_body(&s, raw, rn);
		if ((rc = straw_cursor_atom(&s, got, sizeof(got), &gn)) != 0)
			return term_error(m, rc);
	}
	if (gn != n || memcmp(got, want, n) != 0)
		m->failed = 1;
	return 0;
}

/* Atom literal (not `fun`, not reserved): its UTF-8 name against the
 * term's atom. */
static int
match_atom(struct matcher *m, straw_cursor *c)
{
	const struct tl_token *t = &m->p.tok;
	char name[STRAW_ATOM_MAX_BYTES + 1];

	if (t->keyword != TLK_NONE)
		return pat_error(m);
	if (!active(m, c))
		return 0;
	if (straw_cursor_type(c) != STRAW_TERM_ATOM) {
		m->failed = 1;
		return 0;
	}
	if (t->quoted)
		return atom_equals(m, c, name,
		                   tp_atom_utf8(&m->p, t, (uint8_t *)name));
	/* A bare atom's text is its UTF-8 name. */
	return atom_equals(m, c, m->p.lx.text + t->start, t->end - t->start);
}

/*
 * The list state while matching list elements: the elements left in the
 * current list cell run; a non-canonical tail that is itself a list is
 * entered when the run ends.
 */
struct list_state {
	uint32_t left; /* elements left in the current run */
};

/* Makes the next list element current; fails if the list ended. */
static int
list_next_elem(struct matcher *m, straw_cursor *c, struct list_state *ls)
{
	int rc;

	while (ls->left == 0) {
		uint32_t n;
		if (straw_cursor_type(c) != STRAW_TERM_LIST) {
			m->failed = 1;
			return 0;
		}
		if ((rc = straw_cursor_list(c, &n)) != 0)
			return cursor_miss(m, rc);
		ls->left = n;
	}
	ls->left--;
	return 0;
}

/* The list must end here: [] tail. */
static int
list_end(struct matcher *m, straw_cursor *c, struct list_state *ls)
{
	int rc;

	if (!active(m, c))
		return 0;
	if (ls->left != 0) {
		m->failed = 1;
		return 0;
	}
	rc = straw_cursor_nil(c);
	return rc == 0 ? 0 : cursor_miss(m, rc);
}

/* Skips the rest of a list: its elements left and its tail. */
static int
list_skip_rest(struct matcher *m, straw_cursor *c, struct list_state *ls)
{
	int rc;

	if (!active(m, c))
		return 0;
	while (ls->left > 0) {
		if ((rc = straw_cursor_skip(c)) != 0)
			return term_error(m, rc);
		ls->left--;
	}
	return term_error(m, straw_cursor_skip(c));
}

/* The characters of a string run as list elements. */
static int
match_string_chars(struct matcher *m, straw_cursor *c, struct list_state *ls)
{
	size_t pos;
	uint32_t cp;
	int64_t v;
	int rc;

	for (;;) {
		pos = 0;
		while (tl_chars_next(&m->p.lx, &m->p.tok, &pos, &cp)) {
			if (!active(m, c))
				continue;
			if ((rc = list_next_elem(m, c, ls)) != 0)
				return rc;
			if (m->failed)
				continue;
			if ((rc = straw_cursor_int64(c, &v)) != 0) {
				if ((rc = cursor_miss(m, rc)) != 0)
					return rc;
				continue;
			}
			if (v != (int64_t)cp)
				m->failed = 1;
		}
		if ((rc = peek_tok(m)) != 0)
			return rc;
		if (m->p.la.kind != TL_STRING)
			return 0;
		if ((rc = next_tok(m)) != 0)
			return rc;
	}
}

static int
match_string(struct matcher *m, straw_cursor *c)
{
	struct list_state ls = {0};
	int rc;

	if (active(m, c) && straw_cursor_type(c) != STRAW_TERM_LIST &&
	    straw_cursor_type(c) != STRAW_TERM_NIL)
		m->failed = 1;
	if ((rc = match_string_chars(m, c, &ls)) != 0)
		return rc;
	return list_end(m, c, &ls);
}

/* [P1, ..., Pn | T] after `[` (not `[]`). */
static int
match_list(struct matcher *m, straw_cursor *c)
{
	struct list_state ls = {0};
	int rc, closes = 0, i;

	if (active(m, c) && straw_cursor_type(c) != STRAW_TERM_LIST)
		m->failed = 1;
	if ((rc = next_tok(m)) != 0)
		return rc;
	for (;;) {
		/* An element. */
		if (active(m, c) && (rc = list_next_elem(m, c, &ls)) != 0)
			return rc;
		if ((rc = match_value(m, c)) != 0)
			return rc;
		if ((rc = next_tok(m)) != 0)
			return rc;
		if (m->p.tok.kind == TL_COMMA) {
			if ((rc = next_tok(m)) != 0)
				return rc;
			continue;
		}
		if (m->p.tok.kind == TL_RBRACKET) {
			if ((rc = list_end(m, c, &ls)) != 0)
				return rc;
			break;
		}
		if (m->p.tok.kind != TL_BAR)
			return pat_error(m);
		/* The tail. */
		if ((rc = next_tok(m)) != 0)
			return rc;
		if (m->p.tok.kind == TL_LBRACKET) {
			if ((rc = peek_tok(m)) != 0)
				return rc;
			if (m->p.la.kind == TL_RBRACKET) {
				if ((rc = next_tok(m)) != 0 ||
				    (rc = list_end(m, c, &ls)) != 0 ||
				    (rc = expect_tok(m, TL_RBRACKET)) != 0)
					return rc;
				break;
			}
			closes++; /* spliced: more elements of this list */
			if ((rc = next_tok(m)) != 0)
				return rc;
			continue;
		}
		if (m->p.tok.kind == TL_STRING) {
			if ((rc = match_string_chars(m, c, &ls)) != 0 ||
			    (rc = list_end(m, c, &ls)) != 0 ||
			    (rc = expect_tok(m, TL_RBRACKET)) != 0)
				return rc;
			break;
		}
		if (m->p.tok.kind == TL_VAR) {
			if (m->p.lx.text[m->p.tok.start] != '_')
				return pat_error(m);
			if ((rc = list_skip_rest(m, c, &ls)) != 0 ||
			    (rc = expect_tok(m, TL_RBRACKET)) != 0)
				return rc;
			break;
		}
		/* Any other tail pattern matches the improper tail. */
		if (active(m, c) && ls.left != 0)
			m->failed = 1;
		if ((rc = match_value(m, c)) != 0 ||
		    (rc = expect_tok(m, TL_RBRACKET)) != 0)
			return rc;
		break;
	}
	for (i = 0; i < closes; i++)
		if ((rc = expect_tok(m, TL_RBRACKET)) != 0)
			return rc;
	return 0;
}

/* {P1, ..., Pn} after `{`. */
static int
match_tuple(struct matcher *m, straw_cursor *c)
{
	uint32_t arity = 0, count = 0;
	int rc;

	if (active(m, c)) {
		if ((rc = straw_cursor_tuple(c, &arity)) != 0 &&
		    (rc = cursor_miss(m, rc)) != 0)
			return rc;
	}
	if ((rc = peek_tok(m)) != 0)
		return rc;
	if (m->p.la.kind == TL_RBRACE) {
		if (active(m, c) && arity != 0)
			m->failed = 1;
		return next_tok(m);
	}
	for (;;) {
		if ((rc = next_tok(m)) != 0)
			return rc;
		if (active(m, c) && count >= arity)
			m->failed = 1;
		count++;
		if ((rc = match_value(m, c)) != 0)
			return rc;
		if ((rc = next_tok(m)) != 0)
			return rc;
		if (m->p.tok.kind == TL_RBRACE)
			break;
		if (m->p.tok.kind != TL_COMMA)
			return pat_error(m);
	}
	if (active(m, c) && count != arity)
		m->failed = 1;
	return 0;
}

/* The lexer position, to read a pattern part again. */
struct pat_mark {
	size_t pos;
	struct tl_token tok, la;
	int has_la;
};

static void
mark(const struct matcher *m, struct pat_mark *k)
{
	k->pos = m->p.lx.pos;
	k->tok = m->p.tok;
	k->la = m->p.la;
	k->has_la = m->p.has_la;
}

static void
rewind_to(struct matcher *m, const struct pat_mark *k)
{
	m->p.lx.pos = k->pos;
	m->p.tok = k->tok;
	m->p.la = k->la;
	m->p.has_la = k->has_la;
}

/*
 * #{K1 => P1, ...} after `#{` (not `#{}`): every pattern key must be a key
 * of the term's map, whose value matches; other keys are ignored (as `:=`
 * in an Erlang map pattern; `=>` is read the same way).
 */
static int
match_map(struct matcher *m, straw_cursor *c)
{
	straw_cursor start, end;
	uint32_t pairs = 0, i;
	int rc;

	if (active(m, c)) {
		if ((rc = straw_cursor_map(c, &pairs)) != 0 &&
		    (rc = cursor_miss(m, rc)) != 0)
			return rc;
	}
	if (active(m, c)) {
		start = *c;
		end = *c;
		for (i = 0; i < 2 * pairs; i++)
			if ((rc = straw_cursor_skip(&end)) != 0)
				return term_error(m, rc);
	}
	for (;;) {
		struct pat_mark key;
		int found = 0, was_failed = m->failed, in_key = m->in_key;

		if ((rc = next_tok(m)) != 0)
			return rc;
		mark(m, &key);
		if (active(m, c)) {
			straw_cursor k = start, key_at;
			for (i = 0; i < pairs; i++) {
				key_at = k;
				rewind_to(m, &key);
				m->failed = 0;
				m->in_key = 1;
				rc = match_value(m, &k);
				m->in_key = in_key;
				if (rc != 0)
					return rc;
				if (!m->failed) {
					found = 1;
					*c = k; /* at the value */
					break;
				}
				k = key_at;
				if ((rc = straw_cursor_skip(&k)) != 0 ||
				    (rc = straw_cursor_skip(&k)) != 0) {
					term_error(m, rc);
					break;
				}
			}
			m->failed = was_failed || !found;
		}
		if (!found) {
			/* Read the key pattern without a term. */
			rewind_to(m, &key);
			m->in_key = 1;
			rc = match_value(m, NULL);
			m->in_key = in_key;
			if (rc != 0)
				return rc;
		}
		if ((rc = next_tok(m)) != 0)
			return rc;
		if (m->p.tok.kind != TL_ARROW && m->p.tok.kind != TL_ASSOC)
			return pat_error(m);
		if ((rc = next_tok(m)) != 0 ||
		    (rc = match_value(m, found ? c : NULL)) != 0)
			return rc;
		if ((rc = next_tok(m)) != 0)
			return rc;
		if (m->p.tok.kind == TL_RBRACE)
			break;
		if (m->p.tok.kind != TL_COMMA)
			return pat_error(m);
	}
	if (c != NULL)
		*c = end;
	return 0;
}

/* A binary literal compared bit by bit with the term's bitstring. */
static int
match_binary(struct matcher *m, straw_cursor *c)
{
	struct tp_bitwriter w;
	const uint8_t *d = NULL;
	uint64_t bits = 0;
	int rc;

	memset(&w, 0, sizeof(w));
	if (active(m, c)) {
		if ((rc = straw_cursor_bitstring(c, &d, &bits)) != 0 &&
		    (rc = cursor_miss(m, rc)) != 0)
			return rc;
	}
	w.cmp = d;
	w.cmp_bits = active(m, c) ? bits : 0;
	rc = tp_parse_binary(&m->p, &w);
	if (rc == STRAW_ESYNTAX)
		rc = STRAW_EFORMAT;
	if (rc != 0)
		return rc;
	if (active(m, c) && (w.mismatch || w.bits != bits))
		m->failed = 1;
	return 0;
}

/* Is the next term a list of bytes (or [])?  *n gets its length. */
static int
is_byte_string(straw_cursor s, size_t *n)
{
	uint32_t len, i;
	int64_t v;

	if (straw_cursor_type(&s) == STRAW_TERM_NIL) {
		*n = 0;
		return 1;
	}
	if (straw_cursor_list(&s, &len) != 0)
		return 0;
	for (i = 0; i < len; i++)
		if (straw_cursor_int64(&s, &v) != 0 || v < 0 || v > 255)
			return 0;
	*n = len;
	return straw_cursor_nil(&s) == 0;
}

/* The directive letters of patterns. */
static int
is_match_letter(int d)
{
	return d != 0 && strchr("iufasbtporPR", d) != NULL;
}

/*
 * Takes the C arguments of directive d (bound: a value; else where a
 * capture goes) from the caller's list into a.
 */
static void
take_args(struct matcher *m, int d, int bound, union dir_args *a)
{
	va_list *ap = m->ap;

	if (bound) {
		switch (d) {
		case 'i':
			a->i = va_arg(*ap, int64_t);
			break;
		case 'u':
			a->u = va_arg(*ap, uint64_t);
			break;
		case 'f':
			a->d = va_arg(*ap, double);
			break;
		case 'a':
		case 's':
			a->str = va_arg(*ap, const char *);
			break;
		case 'b':
		case 't':
			a->bytes.p = va_arg(*ap, const void *);
			a->bytes.n = va_arg(*ap, size_t);
			break;
		case 'P':
			a->pid = va_arg(*ap, straw_pid);
			break;
		case 'R':
			a->ref = va_arg(*ap, straw_ref);
			break;
		default: /* p, o, r */
			a->ptr = va_arg(*ap, const void *);
			break;
		}
		return;
	}
	switch (d) {
	case 'a':
	case 's':
		a->buf.p = va_arg(*ap, char *);
		a->buf.cap = va_arg(*ap, size_t);
		break;
	case 'b':
	case 't':
		a->out.p = va_arg(*ap, const uint8_t **);
		a->out.n = va_arg(*ap, size_t *);
		break;
	default:
		a->dst = va_arg(*ap, void *);
		break;
	}
}

/*
 * The arguments of the directive token at offset at: taken from the list
 * at its first reading, found again at the next (a key pattern is read
 * once per key of the term).  NULL past STRAW_MATCH_MAX_CAPTURES.
 */
static const union dir_args *
dir_args_of(struct matcher *m, const struct tl_token *t)
{
	int i;

	for (i = m->ndir - 1; i >= 0; i--)
		if (m->dir[i].at == t->start)
			return &m->dir[i].a;
	if (m->ndir >= STRAW_MATCH_MAX_CAPTURES)
		return NULL;
	m->dir[m->ndir].at = t->start;
	take_args(m, (int)t->ival, t->bound, &m->dir[m->ndir].a);
	return &m->dir[m->ndir++].a;
}

/* Whether the next term is the list of the bytes s[0..n) ([] when n is
 * 0), in any encoding. */
static int
bytes_list_equals(struct matcher *m, straw_cursor *c, const char *s, size_t n)
{
	struct list_state ls = {0};
	size_t i;
	int rc;

	if (n == 0)
		return (rc = straw_cursor_nil(c)) == 0 ? 0 : cursor_miss(m, rc);
	if (straw_cursor_type(c) != STRAW_TERM_LIST) {
		m->failed = 1;
		return 0;
	}
	for (i = 0; i < n && !m->failed; i++) {
		int64_t v;
		if ((rc = list_next_elem(m, c, &ls)) != 0 || m->failed)
			return rc;
		if ((rc = straw_cursor_int64(c, &v)) != 0)
			return cursor_miss(m, rc);
		if (v != (uint8_t)s[i])
			m->failed = 1;
	}
	return list_end(m, c, &ls);
}

/* Whether the term bytes t[0..tn) (no version byte) and want[0..wn) are
 * the same term: =:=, in any encodings.  Allocates only when their bytes
 * differ. */
static int
term_bytes_equal(const uint8_t *t, size_t tn, const uint8_t *want, size_t wn)
{
	static const uint8_t version = STRAW_ETF_VERSION;
	straw_buf a = STRAW_BUF_INIT, b = STRAW_BUF_INIT;
	int eq = -ENOMEM;

	if (tn == wn && memcmp(t, want, tn) == 0)
		return 1;
	if (straw_buf_append(&a, &version, 1) == 0 &&
	    straw_buf_append(&a, t, tn) == 0 &&
	    straw_buf_append(&b, &version, 1) == 0 &&
	    straw_buf_append(&b, want, wn) == 0)
		eq = straw_term_equal(a.data, a.len, b.data, b.len);
	straw_buf_fini(&a);
	straw_buf_fini(&b);
	return eq;
}

static int
same_pid(const straw_erl_pid *x, const straw_erl_pid *y)
{
	return x->id == y->id && x->serial == y->serial &&
	       x->creation == y->creation && strcmp(x->node, y->node) == 0;
}

static int
same_ref(const straw_erl_ref *x, const straw_erl_ref *y)
{
	return x->len == y->len && x->creation == y->creation &&
	       memcmp(x->id, y->id, x->len * sizeof(x->id[0])) == 0 &&
	       strcmp(x->node, y->node) == 0;
}

/*
 * Whether the next term is the straw pid want (=:= to what
 * straw_pid_encode writes for it): the numbers first, the node name only
 * when they agree.
 */
static int
pid_equals(struct matcher *m, straw_cursor *c, straw_pid want)
{
	straw_erl_pid got, w;
	int rc;

	if ((rc = straw_cursor_pid(c, &got)) != 0)
		return cursor_miss(m, rc);
	if (got.id != want.process || got.serial != 0) {
		m->failed = 1;
		return 0;
	}
	if ((rc = straw_pid_to_erl(want, &w)) != 0)
		return term_error(m, rc);
	if (!same_pid(&got, &w))
		m->failed = 1;
	return 0;
}

/* As pid_equals for references. */
static int
ref_equals(struct matcher *m, straw_cursor *c, straw_ref want)
{
	straw_erl_ref got, w;
	int rc;

	if ((rc = straw_cursor_ref(c, &got)) != 0)
		return cursor_miss(m, rc);
	if (got.len != 3 || got.id[0] != (uint32_t)(want.id & 0x3ffff) ||
	    got.id[1] != (uint32_t)(want.id >> 18) ||
	    got.id[2] != (uint32_t)(want.id >> 50)) {
		m->failed = 1;
		return 0;
	}
	if ((rc = straw_ref_to_erl(want, &w)) != 0)
		return term_error(m, rc);
	if (!same_ref(&got, &w))
		m->failed = 1;
	return 0;
}

/* A bound directive ~=x: the next term must be =:= to its value. */
static int
match_bound(struct matcher *m, straw_cursor *c, int d, const union dir_args *a)
{
	int type = straw_cursor_type(c), rc;

	if (type < 0)
		return term_error(m, type);
	switch (d) {
	case 'i': {
		int64_t v;
		if ((rc = straw_cursor_int64(c, &v)) != 0)
			return cursor_miss(m, rc);
		m->failed |= v != a->i;
		return 0;
	}
	case 'u': {
		uint64_t v;
		if ((rc = straw_cursor_uint64(c, &v)) != 0)
			return cursor_miss(m, rc);
		m->failed |= v != a->u;
		return 0;
	}
	case 'f': {
		double v;
		if ((rc = straw_cursor_double(c, &v)) != 0)
			return cursor_miss(m, rc);
		m->failed |= !(v == a->d); /* 0.0 =:= -0.0 in OTP 25 */
		return 0;
	}
	case 'a':
		if (a->str == NULL)
			return term_error(m, -EINVAL);
		if (type != STRAW_TERM_ATOM)
			break;
		return atom_equals(m, c, a->str, strlen(a->str));
	case 's':
		if (a->str == NULL)
			return term_error(m, -EINVAL);
		return bytes_list_equals(m, c, a->str, strlen(a->str));
	case 'b': {
		const uint8_t *p;
		uint64_t bits;
		if (a->bytes.p == NULL && a->bytes.n != 0)
			return term_error(m, -EINVAL);
		if ((rc = straw_cursor_bitstring(c, &p, &bits)) != 0)
			return cursor_miss(m, rc);
		m->failed |= bits != 8 * (uint64_t)a->bytes.n ||
		             (a->bytes.n > 0 &&
		              memcmp(p, a->bytes.p, a->bytes.n) != 0);
		return 0;
	}
	case 't': {
		const uint8_t *p;
		size_t n;
		if (a->bytes.p == NULL)
			return term_error(m, -EINVAL);
		if ((rc = straw_cursor_term(c, &p, &n)) != 0)
			return term_error(m, rc);
		rc = term_bytes_equal(p, n, a->bytes.p, a->bytes.n);
		if (rc < 0)
			return term_error(m, rc);
		m->failed |= !rc;
		return 0;
	}
	case 'p': {
		straw_erl_pid got;
		if (a->ptr == NULL)
			return term_error(m, -EINVAL);
		if ((rc = straw_cursor_pid(c, &got)) != 0)
			return cursor_miss(m, rc);
		m->failed |= !same_pid(&got, a->ptr);
		return 0;
	}
	case 'o': {
		const straw_erl_port *want = a->ptr;
		straw_erl_port got;
		if (want == NULL)
			return term_error(m, -EINVAL);
		if ((rc = straw_cursor_port(c, &got)) != 0)
			return cursor_miss(m, rc);
		m->failed |= got.id != want->id ||
		             got.creation != want->creation ||
		             strcmp(got.node, want->node) != 0;
		return 0;
	}
	case 'r': {
		straw_erl_ref got;
		if (a->ptr == NULL)
			return term_error(m, -EINVAL);
		if ((rc = straw_cursor_ref(c, &got)) != 0)
			return cursor_miss(m, rc);
		m->failed |= !same_ref(&got, a->ptr);
		return 0;
	}
	case 'P':
		return pid_equals(m, c, a->pid);
	case 'R':
		return ref_equals(m, c, a->ref);
	default:
		STRAWI_PANIC("bound directive %c", d);
	}
	m->failed = 1;
	return 0;
}

static int
match_directive(struct matcher *m, straw_cursor *c)
{
	const struct tl_token *t = &m->p.tok;
	const union dir_args *a;
	int d = (int)t->ival, rc, type;
	struct capture *cap;

	if (!is_match_letter(d) || (m->in_key && !t->bound))
		return STRAW_EFORMAT; /* key patterns cannot capture */
	if ((a = dir_args_of(m, t)) == NULL)
		return STRAW_EFORMAT;
	if (t->bound)
		return active(m, c) ? match_bound(m, c, d, a) : 0;
	/* One slot per capture, used or not, so the limit does not depend
	 * on the term. */
	cap = &m->cap[m->ncap++];
	cap->kind = 0;
	cap->to = a;
	if (!active(m, c))
		return 0;
	type = straw_cursor_type(c);
	if (type < 0)
		return term_error(m, type);
	switch (d) {
	case 'i': {
		int64_t v;
		if ((rc = straw_cursor_int64(c, &v)) != 0)
			return cursor_miss(m, rc);
		cap->kind = CAP_INT;
		cap->v.i = v;
		return 0;
	}
	case 'u': {
		uint64_t v;
		if ((rc = straw_cursor_uint64(c, &v)) != 0)
			return cursor_miss(m, rc);
		cap->kind = CAP_UINT;
		cap->v.u = v;
		return 0;
	}
	case 'f': {
		double v;
		if ((rc = straw_cursor_double(c, &v)) != 0)
			return cursor_miss(m, rc);
		cap->kind = CAP_DOUBLE;
		cap->v.d = v;
		return 0;
	}
	case 'b': {
		const uint8_t *p;
		size_t n;
		if ((rc = straw_cursor_binary(c, &p, &n)) != 0)
			return cursor_miss(m, rc);
		cap->kind = CAP_BYTES;
		cap->v.bytes.p = p;
		cap->v.bytes.n = n;
		return 0;
	}
	case 't': {
		const uint8_t *p;
		size_t n;
		if ((rc = straw_cursor_term(c, &p, &n)) != 0)
			return term_error(m, rc);
		/* An element of a STRING_EXT has no bytes of its own. */
		if (p < m->term || p + n > m->term + m->term_len)
			return term_error(m, STRAW_ETYPE);
		cap->kind = CAP_BYTES;
		cap->v.bytes.p = p;
		cap->v.bytes.n = n;
		return 0;
	}
	case 'a':
		if (type != STRAW_TERM_ATOM)
			break;
		cap->kind = CAP_ATOM;
		cap->at = *c;
		return term_error(m, straw_cursor_skip(c));
	case 's': {
		size_t n;
		if (!is_byte_string(*c, &n))
			break;
		cap->kind = CAP_STRING;
		cap->at = *c;
		cap->n = n;
		return term_error(m, straw_cursor_skip(c));
	}
	case 'p':
		if (type != STRAW_TERM_PID)
			break;
		cap->kind = CAP_PID;
		cap->at = *c;
		return term_error(m, straw_cursor_skip(c));
	case 'o':
		if (type != STRAW_TERM_PORT)
			break;
		cap->kind = CAP_PORT;
		cap->at = *c;
		return term_error(m, straw_cursor_skip(c));
	case 'r':
		if (type != STRAW_TERM_REF)
			break;
		cap->kind = CAP_REF;
		cap->at = *c;
		return term_error(m, straw_cursor_skip(c));
	case 'P': {
		straw_erl_pid e;
		if ((rc = straw_cursor_pid(c, &e)) != 0)
			return cursor_miss(m, rc);
		straw_pid_from_erl(&e, &cap->v.pid);
		cap->kind = CAP_SPID;
		return 0;
	}
	case 'R': {
		straw_erl_ref e;
		if ((rc = straw_cursor_ref(c, &e)) != 0)
			return cursor_miss(m, rc);
		/* An OTP reference a straw_ref cannot hold: no match. */
		if (straw_ref_from_erl(&e, &cap->v.ref) != 0)
			break;
		cap->kind = CAP_SREF;
		return 0;
	}
	default:
		break;
	}
	m->failed = 1;
	return 0;
}

/* straw's pid literal <C.P> (or <C.P@mHEX>) in a pattern: the pid
 * straw_pid_parse reads, as ~=P. */
static int
match_pid_literal(struct matcher *m, straw_cursor *c)
{
	const struct tl_token *t = &m->p.tok;
	straw_pid want;

	if (straw_pid_parse(m->p.lx.text + t->start, t->end - t->start,
	                    &want) != 0)
		return STRAW_EFORMAT;
	if (!active(m, c))
		return 0;
	if (straw_cursor_type(c) < 0)
		return term_error(m, straw_cursor_type(c));
	return pid_equals(m, c, want);
}

/* Matches the pattern value starting at the current token against the
 * next term of c (c NULL, or m->failed: only reads the pattern). */
static int
match_value(struct matcher *m, straw_cursor *c)
{
	int rc, negative = 0;

	if (++m->depth > STRAW_MATCH_MAX_DEPTH)
		return STRAW_EFORMAT;
	switch (m->p.tok.kind) {
	case TL_MINUS:
	case TL_PLUS:
		negative = m->p.tok.kind == TL_MINUS;
		if ((rc = next_tok(m)) != 0)
			break;
		if (m->p.tok.kind == TL_FLOAT)
			goto flt;
		if (m->p.tok.kind != TL_INT && m->p.tok.kind != TL_CHAR) {
			rc = pat_error(m);
			break;
		}
		rc = match_integer(m, c, negative);
		break;
	case TL_INT:
	case TL_CHAR:
		rc = match_integer(m, c, 0);
		break;
	case TL_FLOAT:
	flt:
		rc = 0;
		if (active(m, c)) {
			double v, want = negative ? -m->p.tok.f : m->p.tok.f;
			if ((rc = straw_cursor_double(c, &v)) != 0)
				rc = cursor_miss(m, rc);
			else if (v != want)
				m->failed = 1;
		}
		break;
	case TL_ATOM:
		rc = match_atom(m, c);
		break;
	case TL_VAR:
		if (m->p.lx.text[m->p.tok.start] != '_') {
			rc = pat_error(m);
			break;
		}
		rc = active(m, c) ? term_error(m, straw_cursor_skip(c)) : 0;
		break;
	case TL_STRING:
		rc = match_string(m, c);
		break;
	case TL_DIRECTIVE:
		rc = match_directive(m, c);
		break;
	case TL_PID:
		rc = match_pid_literal(m, c);
		break;
	case TL_LBRACE:
		rc = match_tuple(m, c);
		break;
	case TL_LBRACKET:
		if ((rc = peek_tok(m)) != 0)
			break;
		if (m->p.la.kind == TL_RBRACKET) {
			if ((rc = next_tok(m)) != 0)
				break;
			if (active(m, c) && (rc = straw_cursor_nil(c)) != 0)
				rc = cursor_miss(m, rc);
			break;
		}
		rc = match_list(m, c);
		break;
	case TL_HASHBRACE:
		if ((rc = peek_tok(m)) != 0)
			break;
		if (m->p.la.kind == TL_RBRACE) {
			uint32_t pairs;
			/* #{} matches any map, as in Erlang. */
			if ((rc = next_tok(m)) != 0)
				break;
			if (active(m, c)) {
				straw_cursor s = *c;
				if ((rc = straw_cursor_map(&s, &pairs)) != 0)
					rc = cursor_miss(m, rc);
				else
					rc = term_error(m,
					                straw_cursor_skip(c));
			}
			break;
		}
		rc = match_map(m, c);
		break;
	case TL_LBIN:
		rc = match_binary(m, c);
		break;
	default:
		rc = pat_error(m);
		break;
	}
	m->depth--;
	return rc;
}

/* Checks that every capture fits its destination, then writes them all. */
static int
write_captures(struct matcher *m)
{
	int i;

	for (i = 0; i < m->ncap; i++) {
		struct capture *k = &m->cap[i];
		if (k->kind == CAP_ATOM) {
			straw_cursor s = k->at;
			char tmp[1];
			size_t n = 0;
			int rc = straw_cursor_atom(&s, tmp, 0, &n);
			if ((rc == STRAW_ERANGE || rc == 0) &&
			    n + 1 > k->to->buf.cap)
				return STRAW_ERANGE;
		} else if (k->kind == CAP_STRING && k->n + 1 > k->to->buf.cap) {
			return STRAW_ERANGE;
		}
	}
	for (i = 0; i < m->ncap; i++) {
		struct capture *k = &m->cap[i];
		const union dir_args *a = k->to;
		straw_cursor s = k->at;
		switch (k->kind) {
		case CAP_INT:
			*(int64_t *)a->dst = k->v.i;
			break;
		case CAP_UINT:
			*(uint64_t *)a->dst = k->v.u;
			break;
		case CAP_DOUBLE:
			*(double *)a->dst = k->v.d;
			break;
		case CAP_ATOM:
			straw_cursor_atom(&s, a->buf.p, a->buf.cap, NULL);
			break;
		case CAP_STRING: {
			size_t j;
			int64_t v = 0;
			uint32_t n = 0;
			if (straw_cursor_type(&s) == STRAW_TERM_LIST) {
				straw_cursor_list(&s, &n);
				for (j = 0; j < n; j++) {
					straw_cursor_int64(&s, &v);
					a->buf.p[j] = (char)v;
				}
			}
			a->buf.p[k->n] = '\0';
			break;
		}
		case CAP_BYTES:
			*a->out.p = k->v.bytes.p;
			*a->out.n = k->v.bytes.n;
			break;
		case CAP_PID:
			straw_cursor_pid(&s, a->dst);
			break;
		case CAP_PORT:
			straw_cursor_port(&s, a->dst);
			break;
		case CAP_REF:
			straw_cursor_ref(&s, a->dst);
			break;
		case CAP_SPID:
			*(straw_pid *)a->dst = k->v.pid;
			break;
		case CAP_SREF:
			*(straw_ref *)a->dst = k->v.ref;
			break;
		default:
			STRAWI_PANIC("bad capture kind %d", k->kind);
		}
	}
	return 0;
}

/*
 * Reads the whole pattern, matching it against buf[0..len) (buf NULL:
 * against nothing, only taking the arguments).  See fmt.h.
 */
static int
run_match(const uint8_t *buf, size_t len, const char *pattern, va_list *ap)
{
	struct matcher m;
	straw_cursor c, *cp = NULL;
	int rc;

	if (pattern == NULL)
		return STRAW_EFORMAT;
	m.term = buf;
	m.term_len = len;
	m.ap = ap;
	m.failed = 0;
	m.err = 0;
	m.in_key = 0;
	m.depth = 0;
	m.ncap = 0;
	m.ndir = 0;
	if (buf != NULL) {
		cp = &c;
		term_error(&m, straw_cursor_init(&c, buf, len));
	}
	/* Only the fields the pattern reader uses; no tp_fini needed: a
	 * no_alloc parser never allocates. */
	tl_init(&m.p.lx, pattern, strlen(pattern), 1);
	m.p.has_la = 0;
	m.p.err_at = 0;
	m.p.no_alloc = 1;
	straw_buf_init(&m.p.scratch);
	if ((rc = next_tok(&m)) != 0 || (rc = match_value(&m, cp)) != 0 ||
	    (rc = next_tok(&m)) != 0)
		return rc;
	if (m.p.tok.kind != TL_EOF)
		return STRAW_EFORMAT;
	if (m.err != 0)
		return m.err;
	if (cp == NULL || m.failed || !straw_cursor_at_end(&c))
		return 0;
	if ((rc = write_captures(&m)) != 0)
		return rc;
	return 1;
}

int
strawi_term_match_ap(const uint8_t *buf, size_t len, const char *pattern,
                     va_list *ap)
{
	if (buf == NULL)
		return -EINVAL;
	return run_match(buf, len, pattern, ap);
}

int
strawi_term_match_skip(const char *pattern, va_list *ap)
{
	return run_match(NULL, 0, pattern, ap);
}

int
straw_term_vmatch(const uint8_t *buf, size_t len, const char *pattern,
                  va_list ap)
{
	va_list aq;
	int rc;

	va_copy(aq, ap);
	rc = strawi_term_match_ap(buf, len, pattern, &aq);
	va_end(aq);
	return rc;
}

int
straw_term_match(const uint8_t *buf, size_t len, const char *pattern, ...)
{
	va_list ap;
	int rc;

	va_start(ap, pattern);
	rc = strawi_term_match_ap(buf, len, pattern, &ap);
	va_end(ap);
	return rc;
}
