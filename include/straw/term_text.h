/*
 * straw/term_text.h - Erlang terms as text, and format strings in Erlang
 * syntax to build and match terms.  straw/term.h declares the core calls
 * (straw_term_to_text, straw_term_from_text, straw_build_fmt,
 * straw_term_match); this header documents them in full and adds the
 * variants with limits and va_list.  See docs/term-text.md.
 *
 * Every call here is reentrant, never blocks, never recurses without bound
 * and may be called from any thread (one thread at a time per builder).
 *
 * THE TEXT FORM
 *
 * straw_term_to_text prints any term so that erl_scan:string/1,
 * erl_parse:parse_exprs/1 and erl_eval:exprs/2 give back a term =:= to it,
 * and straw_term_from_text reads that text back to the same canonical bytes:
 *
 *   integers       decimal (-12); magnitudes over 8192 bytes in 16#HEX
 *   floats         shortest round trip, OTP's layout: 1.5 1.0e300 -0.0
 *                  5.0e-324 0.1 (always a digit on both sides of the dot)
 *   atoms          bare if [a-z][A-Za-z0-9_@]* and not a reserved word,
 *                  else 'quoted' with \' \\ \n \t ... and \x{H} for
 *                  unprintable characters; other characters as UTF-8
 *   lists          "text" when the list is proper, non-empty and every
 *                  element is a printable code point: 8..13, 27, 32..126,
 *                  160..0xD7FF, 0xE000..0xFFFD, 0x10000..0x10FFFF (escaped
 *                  as in atoms); else [1,2,3] or [a|b]
 *   binaries       <<"text">> when every byte is printable ASCII (or one
 *                  of the escapes), <<"text"/utf8>> when the bytes are
 *                  UTF-8 of printable characters, else <<1,2,3>>; bit
 *                  binaries end with a Value:Bits segment: <<1,2:3>>
 *   tuples, maps   {a,b}  #{k => v,k2 => v2} (keys in stored order)
 *   fun M:F/A      fun lists:map/2
 *   pids, ports,   erlang:binary_to_term(<<131,88,119,13,"nonode@nohost",
 *   references,      85:32,0:32,0:32>>): the canonical ETF bytes of the
 *   closures         term, carrying node, ids and creation exactly; erl
 *                    evaluates the call to the same pid (port, ref, fun)
 *
 * The parser reads that and ordinary Erlang literal syntax: integers with
 * `_` separators and bases (16#FF, 2#1010), $c characters with every
 * escape, signed numbers (-1, +1.5), floats (1.5e-3), quoted and bare
 * atoms (Latin-1 letters as erl_scan allows), strings with escapes (\n \t
 * \x{1F600} \101 \^A \\ \") and adjacent strings ("ab" "cd"), lists,
 * improper lists, list tails that are literals ([1|[2]], [1|"ab"]), tuples,
 * maps (duplicate keys: the first key with the last value, as Erlang
 * does), binaries with segments Value[:Size][/Types] where Value is an
 * integer, character, float or string and Types are integer, float, utf8,
 * utf16, utf32, big, little, signed, unsigned (<<"ü"/utf8>>, <<1,2:3>>,
 * <<1.5/float>>, <<-1:16/little>>), `fun M:F/A`, and
 * [erlang:]binary_to_term(<<...>>) of an encoded pid, port, reference or
 * fun, and straw's human form of a pid, <3.7> and <3.7@m0011223344556677>
 * (straw_pid_parse), read as the NEW_PID_EXT straw_pid_encode writes (so
 * outside a container, a pid of container 3 has the node 'c3@<host>'; the
 * printed form stays erlang:binary_to_term(<<...>>)).  `%` comments and
 * a final `.` are allowed.  The result is canonical: the bytes OTP 25
 * writes with term_to_binary(T, [{minor_version,2}]) (map keys sorted in
 * map-key order also past 32 keys).
 *
 * Limits: nesting up to max_depth containers (STRAW_EDEPTH past it), output
 * up to max_size bytes (STRAW_ETOOBIG), integer literals in bases that are
 * not powers of two up to 100,000 digits (STRAW_ETOOBIG), one binary
 * segment up to 2^27 bits and float literals up to 512 characters
 * (STRAW_ESYNTAX).  Text is UTF-8 (invalid UTF-8 in a token: ESYNTAX).
 *
 * FORMAT STRINGS
 *
 * A format string is the text form above with directives ~x standing for
 * C values.  straw_build_fmt(b, fmt, ...) takes, per directive, in order:
 *
 *   ~i  int64_t                  an integer
 *   ~u  uint64_t                 an integer
 *   ~f  double                   a float (NaN, infinities: STRAW_ERANGE)
 *   ~a  const char *             an atom, NUL-terminated UTF-8
 *                                (STRAW_EBADATOM: bad UTF-8, > 255 chars)
 *   ~s  const char *             a string (list of the bytes), [] if ""
 *   ~b  const void *, size_t     a binary (copied)
 *   ~t  const uint8_t *, size_t  an encoded term without version byte
 *                                (validated; inserted, then normalized)
 *   ~P  straw_pid (by value)     a pid of straw's (<straw/pid.h>)
 *   ~R  straw_ref (by value)     a reference of straw's
 *   ~p  const straw_erl_pid *    an Erlang pid: node, id, serial, creation
 *   ~o  const straw_erl_port *   a port
 *   ~r  const straw_erl_ref *    an Erlang reference
 *
 * e.g. straw_build_fmt(&b, "{ping, ~P, ~i, ~s}", self, (int64_t)7, "hi").
 *
 * ~P AND ~p ARE NOT THE SAME: ~P takes a straw_pid by value and writes the
 * NEW_PID_EXT that straw_pid_encode writes (node = the container's node
 * name, creation = container id; STRAW_ENOTCONTAINER for a short pid
 * outside a container); ~p takes a POINTER to a straw_erl_pid and writes
 * its fields as they are.  Passing a straw_pid to ~p is undefined (the
 * compiler cannot tell); likewise ~R and ~r.
 *
 * Pointers must not be NULL (-EINVAL).  Directives stand where a term
 * stands; a directive as a list tail is not spliced ([a|~t] writes an
 * improper list, normalized if ~t is a list).  The bound forms ~=x are for
 * patterns only (STRAW_EFORMAT here).  A pid in straw's human form, <3.7>
 * or <3.7@m0011223344556677>, is a literal (as in straw_term_from_text).
 *
 * straw_term_match(buf, len, pattern, ...) takes, per directive, where the
 * captured value goes:
 *
 *   ~i  int64_t *                 an integer that fits
 *   ~u  uint64_t *                a non-negative integer that fits
 *   ~f  double *                  a float (not an integer)
 *   ~a  char *buf, size_t cap     an atom, NUL-terminated UTF-8 copy
 *   ~s  char *buf, size_t cap     a list of integers 0..255 ([] too),
 *                                 NUL-terminated copy
 *   ~b  const uint8_t **, size_t * a binary (whole bytes), in place
 *   ~t  const uint8_t **, size_t * any term's bytes (no version byte), in
 *                                 place; not an element of a list that is
 *                                 stored as a string (STRAW_ETYPE)
 *   ~P  straw_pid *               a pid (NEW_PID_EXT or PID_EXT), as
 *                                 straw_pid_from_erl reads it
 *   ~R  straw_ref *               a reference that fits a straw_ref (an
 *                                 OTP reference does not: no match)
 *   ~p  straw_erl_pid *           a pid, its Erlang fields
 *   ~o  straw_erl_port *          a port
 *   ~r  straw_erl_ref *           a reference, its Erlang fields
 *
 * and its bound form ~=x takes a VALUE, as straw_build_fmt takes it, and
 * matches only a term =:= to it (in any encoding), capturing nothing:
 *
 *   ~=i int64_t   ~=u uint64_t   ~=f double (0.0 matches -0.0, as in OTP
 *   25)   ~=a const char * (the atom's UTF-8 name)   ~=s const char *
 *   (a list of those bytes, [] for "")   ~=b const void *, size_t
 *   ~=t const uint8_t *, size_t (a term without version byte; compared by
 *   bytes, then, when they differ, through canonical copies: allocates)
 *   ~=p const straw_erl_pid *   ~=o const straw_erl_port *
 *   ~=r const straw_erl_ref *   ~=P straw_pid   ~=R straw_ref
 *
 * e.g. straw_term_match(buf, len, "{reply, ~=R, ~t}", ref, &body, &blen)
 * matches {reply, Ref, Body} for that Ref only.  Bound values may stand in
 * map key patterns (#{~=a := ~i}); captures may not.  A pid literal <3.7>
 * matches that pid as ~=P does.  Nothing but ~=t allocates.
 *
 * Every directive's arguments are always taken, in the order of the
 * pattern's text, whether the term matches or not (pass them all).
 *
 * A value of another type, or one that does not fit (~i of 2^70), makes
 * the match fail (0).  `_` and `_Name` match any term.  Literals match
 * terms =:= to them (1 does not match 1.0; "ab" matches [97,98] in any
 * encoding).  [P1,P2|T] matches a list of at least two elements whose rest
 * matches T (`_`: anything; a list or string literal: the remaining
 * elements; another pattern: the improper tail).  A map pattern
 * #{K => P} (or K := P) matches a map that has a key matching K whose
 * value matches P; other keys are ignored; key patterns cannot capture;
 * #{} matches any map.  A binary literal matches the same bits.
 *
 * Returns 1 (matched: every capture written), 0 (not matched: nothing
 * written), or a negative code, nothing written: STRAW_EFORMAT (bad
 * pattern, more than STRAW_MATCH_MAX_CAPTURES directives, nesting past
 * STRAW_MATCH_MAX_DEPTH, a big integer literal past 1024 bits),
 * STRAW_ERANGE (an atom or string longer than its buffer), a cursor error
 * (malformed bytes: the term should have passed straw_term_check; a
 * compressed term must be decompressed first: STRAW_EBADTAG), -EINVAL (a
 * NULL bound pointer), STRAW_ENOTCONTAINER (~=P or ~=R of a short pid or
 * reference outside a container).  The whole pattern is always read, so a
 * bad pattern is reported whatever the term.  Matching allocates nothing
 * (but ~=t, above) and keeps no state between calls.
 */
#ifndef STRAW_TERM_TEXT_H
#define STRAW_TERM_TEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <straw/term.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most directives (captures and bound values) in one pattern for
 * straw_term_match. */
#define STRAW_MATCH_MAX_CAPTURES 32
/* Deepest nesting of a pattern for straw_term_match.  The matcher recurses
 * along the pattern (never along the term): at most about 20 KB of stack,
 * a few KB for usual patterns. */
#define STRAW_MATCH_MAX_DEPTH 32

/*
 * Appends the text of the encoded term buf[0..len) to out: version byte
 * first (compressed terms are inflated), or a term without the version
 * byte, such as the bytes a ~t capture gives (told apart by the first
 * byte: 131 is no tag).  The term is validated with straw_term_check
 * (straw_term_check_body) under lim (may be NULL: defaults).  Returns 0,
 * or a STRAW_E* code / -ENOMEM with out unchanged.  Any thread.
 */
STRAW_API int straw_term_to_text_lim(const uint8_t *buf, size_t len,
                                     const straw_term_limits *lim,
                                     straw_buf *out);

/*
 * Parses the Erlang text text[0..len) (one term, see above) and appends its
 * canonical ETF, version byte first, to out.  lim (may be NULL) bounds the
 * nesting (max_depth) and the output (max_size).  Returns 0, or
 * STRAW_ESYNTAX, STRAW_EDEPTH, STRAW_ETOOBIG, -ENOMEM with out unchanged
 * and *err_offset (may be NULL) set to the byte offset of the fault in
 * text.  straw_term_from_text is this with lim NULL.  Any thread.
 */
STRAW_API int straw_term_from_text_lim(const char *text, size_t len,
                                       const straw_term_limits *lim,
                                       straw_buf *out, size_t *err_offset);

/* straw_build_fmt with a va_list (ap is not consumed: it is copied). */
STRAW_API int straw_build_vfmt(straw_builder *b, const char *fmt, va_list ap);

/* straw_term_match with a va_list (ap is copied: the caller's ap is as it
 * was). */
STRAW_API int straw_term_vmatch(const uint8_t *buf, size_t len,
                                const char *pattern, va_list ap);

#ifdef __cplusplus
}
#endif
#endif /* STRAW_TERM_TEXT_H */
