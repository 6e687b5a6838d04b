/*
 * src/term/fmt.h - the internals of format strings shared by their three
 * files: building (fmt_build.c), the per-thread cache of compiled build
 * formats (fmt_cache.c) and matching (fmt_match.c).  The directives and
 * their C types are listed in include/straw/term_text.h and
 * docs/term-text.md.
 */
#ifndef STRAWI_TERM_FMT_H
#define STRAWI_TERM_FMT_H

#include <stdarg.h>
#include <stdint.h>

#include <straw/term.h>

#include "term/text_parse.h"

/* What a build directive reads its values from. */
struct strawi_fmt_args {
	va_list ap; /* the caller's arguments, in directive order */
};

/*
 * Writes the term of the build directive token t (its letter in t->ival)
 * into p->out, taking its C values from ((struct strawi_fmt_args *)
 * p->ctx)->ap.  Returns 0 or a negative code (STRAW_EFORMAT for a letter
 * that is no build directive).
 */
int strawi_fmt_build_directive(struct tp_parser *p, const struct tl_token *t);

/*
 * Writes the format fmt with the values of ap into b from the thread's
 * cache of compiled formats, compiling fmt into it first when it is of the
 * cacheable kind (fmt_cache.c).  Returns 1 if it did not (fmt must then be
 * parsed), else 0 or a negative code (then b's bytes are as before and the
 * error sticks to b).
 */
int strawi_fmt_cached_build(straw_builder *b, const char *fmt, va_list ap);

/* How many format builds this thread ran from its cache of compiled
 * formats; for tests. */
uint64_t strawi_fmt_cached_runs(void);

#endif /* STRAWI_TERM_FMT_H */
