/*
 * The per-thread cache of compiled build formats (see below).
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <straw/term_text.h>

#include "base/base.h"
#include "term/etf.h"
#include "term/fmt.h"
#include "term/text_parse.h"

/*
 * A per-thread cache of compiled formats.  A format made of tuples, atoms,
 * numbers and scalar directives (no list, string, map, binary or
 * binary_to_term, no ~t or ~o) always writes the same bytes around its
 * directives, whatever their values: it compiles to those constant bytes
 * and the cut where each directive's term goes, and later calls with the
 * same text copy the bytes and write only the directives, without the
 * parser.  A slot is found by the format's address and used only if the
 * text there is still the same.
 */
#define FMT_SLOTS 8   /* per thread */
#define FMT_TEXT  80  /* longest format cached, NUL excluded */
#define FMT_CODE  192 /* its constant bytes at most */
#define FMT_DIRS  8   /* its directives at most */
#define FMT_MARK  13  /* a sentinel: BINARY_EXT of 8 bytes */

struct fmt_prog {
	const char *key;        /* the caller's pointer; NULL: empty */
	uint8_t text_len;       /* strlen(text) */
	uint8_t ndir;           /* directives */
	uint16_t code_len;      /* constant bytes */
	char text[FMT_TEXT];    /* the format when compiled */
	char dir[FMT_DIRS];     /* each directive's letter */
	uint16_t cut[FMT_DIRS]; /* where each goes in code */
	uint8_t code[FMT_CODE]; /* the constant bytes, in order */
};

static __thread struct fmt_prog fmt_cache[FMT_SLOTS];

/* Directive k's sentinel term while compiling. */
static void
fmt_mark(uint8_t m[FMT_MARK], unsigned k)
{
	static const uint8_t head[FMT_MARK - 1] = {
	        ETF_BINARY, 0,    0,    0,    8,    0xF7,
	        0x5E,       0xA1, 0x3C, 0x9B, 0x42, 0xD6};

	memcpy(m, head, sizeof(head));
	m[FMT_MARK - 1] = (uint8_t)k;
}

/* 1 if fmt is of the cacheable kind (see above), with *ndir directives
 * whose letters go to dir[]. */
static int
fmt_cacheable(const char *fmt, size_t len, char dir[FMT_DIRS], unsigned *ndir)
{
	size_t i;

	*ndir = 0;
	if (len > FMT_TEXT)
		return 0;
	for (i = 0; i < len; i++) {
		if (strchr("[]#<>\"|(=$", fmt[i]) != NULL)
			return 0;
		if (fmt[i] == '~') {
			if (i + 1 == len ||
			    strchr("iufasbprPR", fmt[++i]) == NULL ||
			    *ndir == FMT_DIRS)
				return 0;
			dir[(*ndir)++] = fmt[i];
		}
	}
	return 1;
}

static int
fmt_mark_hook(struct tp_parser *p, const struct tl_token *t)
{
	unsigned *k = p->ctx;
	uint8_t m[FMT_MARK];

	(void)t;
	fmt_mark(m, (*k)++);
	return tp_emit(p, m, sizeof(m));
}

/* Compiles fmt, whose directives' letters fmt_cacheable put in g->dir,
 * into g (emptied by the caller); 0, or <0 if it cannot be (g stays
 * empty). */
static int
fmt_compile(struct fmt_prog *g, const char *fmt, size_t len, unsigned ndir)
{
	straw_buf out = STRAW_BUF_INIT;
	struct tp_parser p;
	unsigned k = 0;
	size_t at = 0, code = 0;
	int rc;

	tp_init(&p, fmt, len, 1, NULL, &out);
	p.directive = fmt_mark_hook;
	p.ctx = &k;
	p.canonical = 1;
	rc = tp_parse(&p);
	if (rc == 0 && (p.noncanon || k != ndir))
		rc = -EINVAL;
	tp_fini(&p);
	/* Constant bytes between the sentinels, each found once, in order. */
	for (k = 0; rc == 0 && k <= ndir; k++) {
		uint8_t m[FMT_MARK];
		const uint8_t *hit = NULL;
		size_t n;
		if (k < ndir) {
			fmt_mark(m, k);
			hit = memmem(out.data + at, out.len - at, m, sizeof(m));
		}
		n = (hit != NULL ? (size_t)(hit - out.data) : out.len) - at;
		if ((k < ndir && hit == NULL) || code + n > FMT_CODE) {
			rc = -EINVAL;
			break;
		}
		memcpy(g->code + code, out.data + at, n);
		code += n;
		if (k < ndir) {
			g->cut[k] = (uint16_t)code;
			at += n + FMT_MARK;
		}
	}
	straw_buf_fini(&out);
	if (rc != 0)
		return rc;
	g->code_len = (uint16_t)code;
	g->ndir = (uint8_t)ndir;
	g->text_len = (uint8_t)len;
	memcpy(g->text, fmt, len);
	g->key = fmt;
	return 0;
}

/* The parser state fmt_run lends strawi_fmt_build_directive: only out, max_size,
 * ctx (set per call), tok.start and err_at (errors) are used; zeroed once
 * per thread rather than per call. */
static __thread struct tp_parser fmt_run_p;
static __thread int fmt_run_ready;
static __thread uint64_t fmt_runs; /* strawi_fmt_cached_runs */

uint64_t
strawi_fmt_cached_runs(void)
{
	return fmt_runs;
}

/* Writes g with the caller's values: its bytes and its directives. */
static int
fmt_run(straw_builder *b, const struct fmt_prog *g, va_list ap)
{
	struct tp_parser *p = &fmt_run_p;
	struct strawi_fmt_args ctx;
	struct tl_token t;
	size_t start = b->buf.len, at = 0;
	int rc = 0;

	if (!fmt_run_ready) {
		straw_term_limits l;
		memset(p, 0, sizeof(*p));
		etf_limits(NULL, &l);
		p->max_size = l.max_size;
		fmt_run_ready = 1;
	}
	p->out = &b->buf;
	p->ctx = &ctx;
	t.start = 0;
	t.bound = 0;
	fmt_runs++;
	va_copy(ctx.ap, ap);
	for (unsigned k = 0; k < g->ndir && rc == 0; k++) {
		t.ival = g->dir[k];
		if ((rc = tp_emit(p, g->code + at, g->cut[k] - at)) == 0)
			rc = strawi_fmt_build_directive(p, &t);
		at = g->cut[k];
	}
	if (rc == 0)
		rc = tp_emit(p, g->code + at, g->code_len - at);
	va_end(ctx.ap);
	p->out = NULL;
	p->ctx = NULL;
	if (rc != 0) {
		b->buf.len = start;
		b->err = rc;
	}
	return rc;
}

/* The compiled form of fmt (cached), or NULL if it has none. */
static const struct fmt_prog *
fmt_lookup(const char *fmt)
{
	uintptr_t h = (uintptr_t)fmt;
	struct fmt_prog *g;
	unsigned ndir;
	size_t len;

	h ^= h >> 7;
	g = &fmt_cache[(h ^ (h >> 13)) % FMT_SLOTS];
	if (g->key == fmt && memcmp(g->text, fmt, g->text_len) == 0 &&
	    fmt[g->text_len] == '\0')
		return g;
	len = strnlen(fmt, FMT_TEXT + 1);
	g->key = NULL; /* the slot is rewritten from here */
	if (!fmt_cacheable(fmt, len, g->dir, &ndir) ||
	    fmt_compile(g, fmt, len, ndir) != 0)
		return NULL;
	return g;
}

int
strawi_fmt_cached_build(straw_builder *b, const char *fmt, va_list ap)
{
	const struct fmt_prog *g = fmt_lookup(fmt);

	return g != NULL ? fmt_run(b, g, ap) : 1;
}
