/*
 * src/term/text_parse.h - the parser of Erlang term text, shared by
 * straw_term_from_text and straw_build_fmt.
 *
 * It reads one term in a single pass, without recursion (an explicit stack
 * of open tuples, lists and maps, bounded by max_depth), and appends its ETF
 * body (no version byte) to out.  The bytes are valid ETF but not yet
 * canonical: tuples are written as LARGE_TUPLE and lists as LIST_EXT with
 * their counts patched at the close, map keys stay in text order (duplicate
 * keys are removed, the last value wins, as in Erlang).  The caller runs
 * straw_term_normalize on the result.
 */
#ifndef STRAWI_TEXT_PARSE_H
#define STRAWI_TEXT_PARSE_H

#include <stdarg.h>

#include <straw/term.h>

#include "term/text_lex.h"

struct tp_parser;

/* Emits the value of a ~x directive token into p->out; returns 0 or a
 * negative code (then p->err_at is the token's offset). */
typedef int (*tp_directive_fn)(struct tp_parser *p, const struct tl_token *t);

struct tp_parser {
	struct tl_lexer lx;        /* the text */
	struct tl_token tok;       /* the current token */
	struct tl_token la;        /* the lookahead token, if has_la */
	int has_la;                /* 1: la holds the next token */
	straw_buf *out;            /* where the body goes (appended) */
	straw_buf stack;           /* open containers (struct tp_frame) */
	straw_buf pairs;           /* map pair offsets (size_t) */
	straw_buf scratch;         /* binary literals, bignums, key copies */
	size_t max_depth;          /* open containers allowed at once */
	size_t max_size;           /* bytes of output allowed */
	size_t err_at;             /* offset of the fault on error */
	tp_directive_fn directive; /* NULL: directives are syntax errors */
	void *ctx;                 /* for directive */
	int no_alloc;              /* 1: big literals use `small` (matching) */
	uint8_t small[136];        /* magnitudes when no_alloc */
};

/*
 * Where binary literal bits go: appended to buf, or, with buf NULL,
 * compared with the bits cmp[0..cmp_bits) (mismatch set on a difference).
 */
struct tp_bitwriter {
	straw_buf *buf;     /* output, or NULL to compare */
	uint64_t bits;      /* bits written or compared */
	const uint8_t *cmp; /* compare mode: the expected bits */
	uint64_t cmp_bits;  /* compare mode: how many */
	int mismatch;       /* compare mode: 1 after a difference */
	uint64_t max_bits;  /* output mode: most bits allowed */
};

/* Prepares p to parse text into out (fmt: scan ~x directives); p must be
 * finished with tp_fini.  lim may be NULL. */
void tp_init(struct tp_parser *p, const char *text, size_t len, int fmt,
             const straw_term_limits *lim, straw_buf *out);

/* Frees p's work memory (not out). */
void tp_fini(struct tp_parser *p);

/*
 * Parses one term followed by an optional `.` and the end of the text.
 * Returns 0, or STRAW_ESYNTAX / STRAW_EDEPTH / STRAW_ETOOBIG / -ENOMEM /
 * a directive's error with p->err_at set; out may then hold a partial term
 * (the caller truncates it).
 */
int tp_parse(struct tp_parser *p);

/* The next token into p->tok; tp_peek fills p->la without consuming;
 * tp_expect consumes a token of the given kind or fails (STRAW_ESYNTAX). */
int tp_next(struct tp_parser *p);
int tp_peek(struct tp_parser *p);
int tp_expect(struct tp_parser *p, int kind);

/* Reads a binary literal after its `<<` (p->tok) into w. */
int tp_parse_binary(struct tp_parser *p, struct tp_bitwriter *w);

/* The magnitude (little-endian) of a big TL_INT token, into p->scratch or
 * p->small (no_alloc; STRAW_EFORMAT if it does not fit). */
int tp_big_magnitude(struct tp_parser *p, const struct tl_token *t,
                     uint8_t **mag, size_t *n);

/* The UTF-8 name of an atom token into buf (4 * 255 bytes). */
size_t tp_atom_utf8(const struct tp_parser *p, const struct tl_token *t,
                    uint8_t *buf);

/* Appends n bytes to p->out within max_size. */
int tp_emit(struct tp_parser *p, const void *data, size_t n);

/* Appends an integer, a bignum (sign, little-endian magnitude), a float. */
int tp_emit_int(struct tp_parser *p, int64_t v);
int tp_emit_bignum(struct tp_parser *p, int negative, const uint8_t *mag,
                   size_t n);
int tp_emit_double(struct tp_parser *p, double v);

#endif /* STRAWI_TEXT_PARSE_H */
