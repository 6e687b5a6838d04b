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
};

struct capture {
	int kind;        /* CAP_* */
	straw_cursor at; /* the captured term, for reads after the match */
	size_t n;        /* CAP_STRING: length; CAP_ATOM: bytes */
	union {
		int64_t i;
		uint64_t u;
		double d;
		struct {
			const uint8_t *p;
			size_t n;
		} bytes;
	} v;
};

struct matcher {
	struct tp_parser p;  /* the pattern's tokens (no output) */
	const uint8_t *term; /* the whole term, to tell in-place bytes */
	size_t term_len;     /* its length */
	int failed;          /* 1 after the first difference */
	int in_key;          /* matching a map key: no captures */
	int depth;           /* pattern nesting */
	int ncap;            /* captures used */
	struct capture cap[STRAW_MATCH_MAX_CAPTURES]; /* in pattern order */
};

static int match_value(struct matcher *m, straw_cursor *c);

static int
pat_error(struct matcher *m)
{
	return STRAW_EFORMAT;
}

/* A cursor error: a different type means no match; others are errors. */
static int
cursor_miss(struct matcher *m, int rc)
{
	if (rc == STRAW_ETYPE || rc == STRAW_ERANGE) {
		m->failed = 1;
		return 0;
	}
	return rc;
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
		return rc;
	while (pn > 0 && pmag[pn - 1] == 0)
		pn--;
	while (tn > 0 && tmag[tn - 1] == 0)
		tn--;
	if (tneg != negative || tn != pn || memcmp(tmag, pmag, pn) != 0)
		m->failed = 1;
	return 0;
}

/* Atom literal (not `fun`, not reserved): its UTF-8 name against the
 * term's atom, compared in place when the term stores UTF-8. */
static int
match_atom(struct matcher *m, straw_cursor *c)
{
	const struct tl_token *t = &m->p.tok;
	char name[STRAW_ATOM_MAX_BYTES + 1], got[STRAW_ATOM_MAX_BYTES + 1];
	const char *want;
	const uint8_t *raw;
	size_t n, rn, gn, hdr, left;
	int rc;

	if (t->keyword != TLK_NONE)
		return pat_error(m);
	if (!active(m, c))
		return 0;
	if (straw_cursor_type(c) != STRAW_TERM_ATOM) {
		m->failed = 1;
		return 0;
	}
	if (t->quoted) {
		n = tp_atom_utf8(&m->p, t, (uint8_t *)name);
		want = name;
	} else {
		/* A bare atom's text is its UTF-8 name. */
		want = m->p.lx.text + t->start;
		n = t->end - t->start;
	}
	/* UTF-8 atoms compared where they lie (the cursor's pointer is a
	 * public field; the type check above bounds the header). */
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
		return rc;
	/* Latin-1 atom: read its UTF-8 form from a copy of the cursor. */
	{
		straw_cursor s;
		straw_cursor_init_body(&s, raw, rn);
		if ((rc = straw_cursor_atom(&s, got, sizeof(got), &gn)) != 0)
			return rc;
	}
	if (gn != n || memcmp(got, want, n) != 0)
		m->failed = 1;
	return 0;
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
			return rc;
		ls->left--;
	}
	return straw_cursor_skip(c);
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
				return rc;
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
				    (rc = straw_cursor_skip(&k)) != 0)
					return rc;
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

static int
match_directive(struct matcher *m, straw_cursor *c)
{
	int d = (int)m->p.tok.ival, rc, type;
	struct capture *cap;
	int on = active(m, c);

	switch (d) {
	case 'i':
	case 'u':
	case 'f':
	case 'a':
	case 's':
	case 'b':
	case 't':
	case 'p':
	case 'o':
	case 'r':
		break;
	default:
		return STRAW_EFORMAT;
	}
	if (m->in_key || m->ncap >= STRAW_MATCH_MAX_CAPTURES)
		return STRAW_EFORMAT;
	/* One slot per directive, used or not, so the limit does not depend
	 * on the term. */
	cap = &m->cap[m->ncap++];
	cap->kind = 0;
	if (!on)
		return 0;
	type = straw_cursor_type(c);
	if (type < 0)
		return type;
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
			return rc;
		/* An element of a STRING_EXT has no bytes of its own. */
		if (p < m->term || p + n > m->term + m->term_len)
			return STRAW_ETYPE;
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
		return straw_cursor_skip(c);
	case 's': {
		size_t n;
		if (!is_byte_string(*c, &n))
			break;
		cap->kind = CAP_STRING;
		cap->at = *c;
		cap->n = n;
		return straw_cursor_skip(c);
	}
	case 'p':
		if (type != STRAW_TERM_PID)
			break;
		cap->kind = CAP_PID;
		cap->at = *c;
		return straw_cursor_skip(c);
	case 'o':
		if (type != STRAW_TERM_PORT)
			break;
		cap->kind = CAP_PORT;
		cap->at = *c;
		return straw_cursor_skip(c);
	case 'r':
		if (type != STRAW_TERM_REF)
			break;
		cap->kind = CAP_REF;
		cap->at = *c;
		return straw_cursor_skip(c);
	default:
		break;
	}
	m->failed = 1;
	return 0;
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
		rc = active(m, c) ? straw_cursor_skip(c) : 0;
		break;
	case TL_STRING:
		rc = match_string(m, c);
		break;
	case TL_DIRECTIVE:
		rc = match_directive(m, c);
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
					rc = straw_cursor_skip(c);
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
write_captures(struct matcher *m, va_list ap)
{
	va_list aq;
	int i, rc = 0;

	va_copy(aq, ap);
	for (i = 0; i < m->ncap && rc == 0; i++) {
		struct capture *k = &m->cap[i];
		switch (k->kind) {
		case CAP_ATOM: {
			size_t n;
			(void)va_arg(aq, char *);
			size_t cap = va_arg(aq, size_t);
			straw_cursor s = k->at;
			char tmp[1];
			rc = straw_cursor_atom(&s, tmp, 0, &n);
			if (rc == STRAW_ERANGE || rc == 0)
				rc = n + 1 > cap ? STRAW_ERANGE : 0;
			break;
		}
		case CAP_STRING: {
			(void)va_arg(aq, char *);
			size_t cap = va_arg(aq, size_t);
			if (k->n + 1 > cap)
				rc = STRAW_ERANGE;
			break;
		}
		case CAP_BYTES:
			(void)va_arg(aq, const uint8_t **);
			(void)va_arg(aq, size_t *);
			break;
		default:
			(void)va_arg(aq, void *);
			break;
		}
	}
	va_end(aq);
	if (rc != 0)
		return rc;
	for (i = 0; i < m->ncap; i++) {
		struct capture *k = &m->cap[i];
		straw_cursor s = k->at;
		switch (k->kind) {
		case CAP_INT:
			*va_arg(ap, int64_t *) = k->v.i;
			break;
		case CAP_UINT:
			*va_arg(ap, uint64_t *) = k->v.u;
			break;
		case CAP_DOUBLE:
			*va_arg(ap, double *) = k->v.d;
			break;
		case CAP_ATOM: {
			char *out = va_arg(ap, char *);
			size_t cap = va_arg(ap, size_t);
			straw_cursor_atom(&s, out, cap, NULL);
			break;
		}
		case CAP_STRING: {
			char *out = va_arg(ap, char *);
			size_t j;
			int64_t v = 0;
			uint32_t n = 0;
			(void)va_arg(ap, size_t);
			if (straw_cursor_type(&s) == STRAW_TERM_LIST) {
				straw_cursor_list(&s, &n);
				for (j = 0; j < n; j++) {
					straw_cursor_int64(&s, &v);
					out[j] = (char)v;
				}
			}
			out[k->n] = '\0';
			break;
		}
		case CAP_BYTES: {
			const uint8_t **p = va_arg(ap, const uint8_t **);
			size_t *n = va_arg(ap, size_t *);
			*p = k->v.bytes.p;
			*n = k->v.bytes.n;
			break;
		}
		case CAP_PID:
			straw_cursor_pid(&s, va_arg(ap, straw_erl_pid *));
			break;
		case CAP_PORT:
			straw_cursor_port(&s, va_arg(ap, straw_erl_port *));
			break;
		case CAP_REF:
			straw_cursor_ref(&s, va_arg(ap, straw_erl_ref *));
			break;
		default:
			STRAWI_PANIC("bad capture kind %d", k->kind);
		}
	}
	return 0;
}

int
straw_term_vmatch(const uint8_t *buf, size_t len, const char *pattern,
                  va_list ap)
{
	struct matcher m;
	straw_cursor c;
	int rc;

	if (pattern == NULL)
		return STRAW_EFORMAT;
	if ((rc = straw_cursor_init(&c, buf, len)) != 0)
		return rc;
	m.term = buf;
	m.term_len = len;
	m.failed = 0;
	m.in_key = 0;
	m.depth = 0;
	m.ncap = 0;
	/* Only the fields the pattern reader uses; no tp_fini needed: a
	 * no_alloc parser never allocates. */
	tl_init(&m.p.lx, pattern, strlen(pattern), 1);
	m.p.has_la = 0;
	m.p.err_at = 0;
	m.p.no_alloc = 1;
	straw_buf_init(&m.p.scratch);
	if ((rc = next_tok(&m)) != 0 || (rc = match_value(&m, &c)) != 0 ||
	    (rc = next_tok(&m)) != 0)
		return rc;
	if (m.p.tok.kind != TL_EOF)
		return STRAW_EFORMAT;
	if (m.failed || !straw_cursor_at_end(&c))
		return 0;
	if ((rc = write_captures(&m, ap)) != 0)
		return rc;
	return 1;
}

int
straw_term_match(const uint8_t *buf, size_t len, const char *pattern, ...)
{
	va_list ap;
	int rc;

	va_start(ap, pattern);
	rc = straw_term_vmatch(buf, len, pattern, ap);
	va_end(ap);
	return rc;
}
