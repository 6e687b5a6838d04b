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

/*
 * Matching with the caller's argument list, for a receive over several
 * patterns (the process layer's straw_receive_select): each call takes
 * exactly the arguments of its pattern from *ap, in the order of its
 * directives (a bound value ~=x: its value; a capture ~x: where it goes),
 * whatever the term, so that the next pattern's arguments follow.
 *
 * strawi_term_match_ap matches buf[0..len) (version byte first) against
 * pattern as straw_term_match does and returns what it returns: 1 (every
 * capture written), 0 (nothing written), or a negative code (nothing
 * written): a fault of the term or of a bound value (its arguments are
 * still all taken), or STRAW_EFORMAT for a bad pattern, after which *ap is
 * in no defined place (the caller can only va_end it).
 *
 * strawi_term_match_skip takes a pattern's arguments without matching
 * anything, for the patterns after the one that matched; it returns 0 or
 * STRAW_EFORMAT (*ap then as above).  Neither allocates (but a ~=t whose
 * value's bytes differ from the term's, compared through canonical
 * copies); any thread.
 */
int strawi_term_match_ap(const uint8_t *buf, size_t len, const char *pattern,
                         va_list *ap);
int strawi_term_match_skip(const char *pattern, va_list *ap);

/* How many format builds this thread ran from its cache of compiled
 * formats; for tests. */
uint64_t strawi_fmt_cached_runs(void);

#endif /* STRAWI_TERM_FMT_H */
