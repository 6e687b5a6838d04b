/*
 * straw/term.h - Erlang terms in the External Term Format (ETF).
 *
 * Every straw message is one Erlang term encoded as term_to_binary/1 writes
 * it: a version byte 131, then the term.  This header reads and writes such
 * bytes:
 *
 *   - straw_term_check validates untrusted bytes in one pass, within limits;
 *   - a cursor (straw_cursor) reads a term in place, no allocation; it is
 *     safe on unchecked bytes and validates what it reads;
 *   - a builder (straw_builder) writes a term;
 *   - straw_term_normalize re-encodes any term in straw's canonical form,
 *     the bytes OTP 25 writes with term_to_binary(T, [{minor_version,2}]);
 *   - straw_term_compare, straw_term_equal and straw_term_hash give Erlang's
 *     term order, exact equality (=:=) and a hash consistent with it;
 *   - straw_build_fmt and straw_term_match build and match terms from format
 *     strings in Erlang syntax; straw_term_to_text and straw_term_from_text
 *     convert to and from Erlang's text form.
 *
 * No function here recurses: nesting depth costs heap, never C stack.
 * Every function is reentrant; distinct objects may be used from distinct
 * threads at once.  Nothing blocks.  See docs/term.md.
 */
#ifndef STRAW_TERM_H
#define STRAW_TERM_H

#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include <straw/buf.h>
#include <straw/err.h>
#include <straw/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Erlang term types, in Erlang term order. */
enum straw_term_type {
	STRAW_TERM_INTEGER = 1, /* any size */
	STRAW_TERM_FLOAT,       /* a finite double */
	STRAW_TERM_ATOM,
	STRAW_TERM_REF,
	STRAW_TERM_FUN, /* closures (NEW_FUN_EXT) and fun M:F/A (EXPORT_EXT) */
	STRAW_TERM_PORT,
	STRAW_TERM_PID,
	STRAW_TERM_TUPLE,
	STRAW_TERM_MAP,
	STRAW_TERM_NIL,
	STRAW_TERM_LIST,   /* a non-empty list, proper or improper */
	STRAW_TERM_BINARY, /* incl. bit binaries */
};

/* The ETF version byte that starts every encoded term. */
#define STRAW_ETF_VERSION 131

/* The longest atom, in characters (code points). */
#define STRAW_ATOM_MAX_CHARS 255
/* The longest atom in UTF-8 bytes. */
#define STRAW_ATOM_MAX_BYTES (4 * STRAW_ATOM_MAX_CHARS)

/* Defaults of straw_term_limits: see docs/term.md. */
#define STRAW_TERM_DEFAULT_MAX_DEPTH        1000000
#define STRAW_TERM_DEFAULT_MAX_SIZE         ((size_t)1 << 30)
#define STRAW_TERM_DEFAULT_MAX_DECOMPRESSED ((size_t)64 << 20)

/* Limits for decoding untrusted bytes; zero fields take the defaults. */
typedef struct straw_term_limits {
	size_t max_depth;        /* nesting depth (containers open at once) */
	size_t max_size;         /* bytes of the (decompressed) term */
	size_t max_decompressed; /* bytes a compressed term may inflate to */
} straw_term_limits;

/*
 * Validates one whole encoded term: the version byte 131, then one term,
 * nothing after it (STRAW_ETRAILING).  A compressed term (tag 80) is
 * inflated into a temporary buffer and its content checked.  Returns 0 or a
 * STRAW_E* code; *fault_offset (may be NULL) gets the byte offset of the
 * fault (for a fault inside a compressed term, the offset in the output of
 * straw_term_decompress).  lim may be NULL (all defaults).  Never recurses;
 * any depth within the limits is fine.  What it refuses that OTP 25's
 * binary_to_term/1 reads is listed in docs/term.md ("Differences from
 * binary_to_term"); what OTP refuses, it refuses, including old pids,
 * ports and references with out-of-range fields and references of no id
 * words (STRAW_EBADTERM).  A map with two keys that are the same term
 * (=:=, in any encodings) is STRAW_EDUPKEY at the map's tag, reported once
 * the whole term proved well-formed: a second pass over terms that hold a
 * map of two pairs or more compares the keys (by their bytes when they are
 * in canonical form, which is what OTP and straw write; otherwise through
 * a temporary canonical copy of the term).  Allocates only for nesting
 * deeper than 64, for closures with free variables, for inflating, for
 * maps of more than 256 keys or a map nested in more than 8 others, and
 * for keys in non-canonical encodings.  This is the call for validating
 * bytes without reading them (before storing or forwarding them); reading
 * with a cursor needs no check first, the cursor validates what it reads
 * (all but duplicate keys).  Any thread.
 */
STRAW_API int straw_term_check(const uint8_t *buf, size_t len,
                               const straw_term_limits *lim,
                               size_t *fault_offset);

/*
 * Like straw_term_check for a term without the version byte, e.g. a part of
 * a larger term; compressed terms are refused (STRAW_EBADTAG).  Offsets are
 * relative to buf.
 */
STRAW_API int straw_term_check_body(const uint8_t *buf, size_t len,
                                    const straw_term_limits *lim,
                                    size_t *fault_offset);

/*
 * Makes out hold the uncompressed form of a checked or unchecked term: a
 * compressed term (version byte, tag 80) is inflated, within lim's
 * max_decompressed and max_size, and prefixed with the version byte; any
 * other term is copied as is.  out is overwritten (its old content is
 * dropped; its memory reused).  Returns 0 or a STRAW_E* code (out then
 * empty), with *fault_offset as for straw_term_check.  The result still
 * needs straw_term_check.  Any thread.
 */
STRAW_API int straw_term_decompress(const uint8_t *buf, size_t len,
                                    const straw_term_limits *lim,
                                    straw_buf *out, size_t *fault_offset);

/* Returns 1 if buf is a compressed term (131, 80, ...), else 0. */
STRAW_API int straw_term_is_compressed(const uint8_t *buf, size_t len);

/*
 * An Erlang pid: NEW_PID_EXT.  The node name is an atom, held here as UTF-8
 * of at most 255 bytes (Erlang node names are short ASCII); the cursor
 * gives STRAW_ERANGE for a longer one (straw_cursor_term still reads it).
 */
typedef struct straw_erl_pid {
	char node[256];    /* node name, NUL-terminated UTF-8 */
	uint32_t id;       /* process number */
	uint32_t serial;   /* serial number */
	uint32_t creation; /* node incarnation */
} straw_erl_pid;

/* The largest port id OTP 25 writes as NEW_PORT_EXT; larger ones are
 * written as V4_PORT_EXT. */
#define STRAW_PORT_MAX_V3_ID 0xFFFFFFFULL

/* An Erlang port: NEW_PORT_EXT, or V4_PORT_EXT past STRAW_PORT_MAX_V3_ID. */
typedef struct straw_erl_port {
	char node[256];    /* node name, NUL-terminated UTF-8 */
	uint64_t id;       /* port number */
	uint32_t creation; /* node incarnation */
} straw_erl_port;

/* The most id words a reference carries. */
#define STRAW_REF_MAX_WORDS 5

/* An Erlang reference: NEWER_REFERENCE_EXT. */
typedef struct straw_erl_ref {
	char node[256];                   /* node name, NUL-terminated UTF-8 */
	uint32_t creation;                /* node incarnation */
	uint32_t len;                     /* id words used, 1..5 */
	uint32_t id[STRAW_REF_MAX_WORDS]; /* as in ETF: id[0] first */
} straw_erl_ref;

/*
 * A reader of a term in place, without allocation.  Each read function
 * consumes the next term if it has the asked type and returns 0 (or 1 for
 * straw_cursor_atom_is); otherwise it returns a negative code and consumes
 * nothing; its outputs are then zero (NULL) for straw_cursor_int64,
 * _double, _binary, _tuple and _list, which compilers inline, and untouched
 * for the others (except straw_cursor_atom's *len):
 * STRAW_ETYPE (another type), STRAW_ERANGE (the value does not fit), or
 * the fault of malformed bytes, and straw_cursor_offset then gives the
 * offset of the term that failed.
 *
 * The cursor is safe on unchecked bytes: no read goes past buf + len, no
 * call recurses, and every read validates what it returns, with the codes
 * of straw_term_check: STRAW_ETRUNC (the bytes end inside the term, or a
 * tuple, list or map count that the bytes left cannot hold: each element
 * takes at least one byte), STRAW_EBADTAG (an unknown tag), STRAW_EBADATOM
 * (an atom longer than 255 characters or not valid UTF-8, for the calls
 * that return or compare an atom's name), STRAW_EBADTERM (a field out of
 * range: NaN or an infinity, the bits of a bit binary, the arity of a fun
 * M:F/A, a node that is not an atom, 0 or more than 5 reference words, the
 * fields of old pids, ports and references that OTP refuses).
 * straw_cursor_skip and straw_cursor_term validate the whole term they
 * step over, as straw_term_check_body does, except for duplicate map keys.
 * So decoding untrusted bytes needs no separate pass: straw_cursor_init,
 * the reads, then straw_cursor_at_end for trailing bytes.  What the reads
 * do not see (duplicate map keys: a map is read pair by pair; the depth,
 * which is the caller's own) is the caller's to bound; straw_term_check
 * validates a whole term without reading it, keys included.
 *
 * Containers are read as a header followed by their elements in order.
 * The cursor is a plain value: copy it to remember a position.  One thread
 * at a time per cursor.
 */
typedef struct straw_cursor {
	const uint8_t *buf;  /* the term, version byte first; not owned */
	const uint8_t *safe; /* p < safe: 16 bytes left (and not inside a
	                        STRING_EXT), or buf */
	size_t len;          /* bytes at buf */
	const uint8_t *p;    /* the next term */
	uint32_t str_left;   /* elements left of a STRING_EXT being read */
	uint8_t str_tail;    /* 1: the [] ending that STRING_EXT is next */
	uint8_t scratch[8];  /* a string element, [] or a small magnitude */
	const uint8_t *lim;  /* buf + len, or buf inside a STRING_EXT, so that
	                       the inline reads' one bounds check fails; apart
	                       from p, so that compilers do not pair them in a
	                       vector register */
} straw_cursor;

/*
 * Starts c at the term in buf (version byte first, not compressed: use
 * straw_term_decompress first).  buf must stay valid and unchanged while c
 * is used.  Returns 0, STRAW_EVERSION, or STRAW_EBADTAG for a compressed
 * term (c is then empty: every read gives STRAW_ETRUNC).
 */
STRAW_API inline int straw_cursor_init(straw_cursor *c, const uint8_t *buf,
                                       size_t len);

/* Starts c at a term without version byte (e.g. from straw_cursor_term). */
STRAW_API void straw_cursor_init_body(straw_cursor *c, const uint8_t *buf,
                                      size_t len);

/* The type of the next term (enum straw_term_type), or STRAW_ETRUNC at the
 * end, STRAW_EBADTAG for a tag straw does not know.  Consumes nothing. */
STRAW_API int straw_cursor_type(const straw_cursor *c);

/* Returns 1 when the whole buffer has been read, else 0: after reading one
 * term from straw_cursor_init, 0 means trailing bytes (STRAW_ETRAILING). */
STRAW_API inline int straw_cursor_at_end(const straw_cursor *c);

/*
 * The offset in buf of the next term: after a failed read, of the term
 * that failed (an empty LIST_EXT header before it counts as its start);
 * inside a STRING_EXT, of the next element's byte.  After reading a whole
 * term, the offset of the first trailing byte.
 */
STRAW_API inline size_t straw_cursor_offset(const straw_cursor *c);

/* An integer of any encoding that fits in int64_t (else STRAW_ERANGE). */
STRAW_API inline int straw_cursor_int64(straw_cursor *c, int64_t *v);

/* An integer that fits in uint64_t (negative ones give STRAW_ERANGE). */
STRAW_API int straw_cursor_uint64(straw_cursor *c, uint64_t *v);

/*
 * Any integer: *negative gets 1 for a negative value, *mag and *n its
 * magnitude as n little-endian bytes (may have high zero bytes; n may be 0
 * for zero).  For SMALL_BIG and LARGE_BIG *mag points into the term; for
 * smaller encodings into c->scratch, valid until the next call on c.
 */
STRAW_API int straw_cursor_bignum(straw_cursor *c, int *negative,
                                  const uint8_t **mag, size_t *n);

/* A float (NEW_FLOAT_EXT or the old FLOAT_EXT).  Integers give ETYPE. */
STRAW_API inline int straw_cursor_double(straw_cursor *c, double *v);

/*
 * An atom, copied as UTF-8 (Latin-1 atoms are converted) into out with a
 * NUL; *len (may be NULL) gets its length in bytes without the NUL, also
 * when out is too small (then STRAW_ERANGE and nothing consumed).
 * cap = STRAW_ATOM_MAX_BYTES + 1 always suffices.
 */
STRAW_API int straw_cursor_atom(straw_cursor *c, char *out, size_t cap,
                                size_t *len);

/*
 * Returns 1 and consumes the atom if the next term is the atom named by the
 * NUL-terminated UTF-8 name (which must be valid UTF-8 of at most 255
 * characters for a match to imply a valid atom); 0 (nothing consumed) if it
 * is another atom or not an atom; <0 on malformed bytes (STRAW_ETRUNC,
 * STRAW_EBADTAG; STRAW_EBADATOM for a 2-byte-length atom that is invalid).
 */
STRAW_API inline int straw_cursor_atom_is(straw_cursor *c, const char *name);

/*
 * Like straw_cursor_atom_is for a name given as len bytes of UTF-8 (which
 * may hold a NUL): 1 and the atom consumed if the next term is that atom,
 * 0 if it is another atom or not an atom, <0 on malformed bytes.  With the
 * length known, the usual short atom compares in a few instructions.
 */
STRAW_API inline int straw_cursor_atom_eq(straw_cursor *c, const char *name,
                                          size_t len);

/*
 * Reads the start of a tagged tuple {Tag, ...}, the usual shape of a
 * message: if the next term is a tuple whose first element is the atom
 * named by len bytes of UTF-8 (compared as by straw_cursor_atom_eq),
 * consumes the tuple's header and that atom, sets *arity to the tuple's
 * arity (the tag included) and returns 1; the other elements follow.
 * Returns 0 and consumes nothing if the next term is a tuple with another
 * first element, the empty tuple, or not a tuple; <0 on malformed bytes,
 * as straw_cursor_tuple and straw_cursor_atom_eq.  *arity is 0 unless 1 is
 * returned.  The usual encoding takes one bounds check.
 */
STRAW_API inline int straw_cursor_tagged(straw_cursor *c, const char *tag,
                                         size_t len, uint32_t *arity);

/* A binary (whole bytes), in place.  A bit binary gives STRAW_ETYPE. */
STRAW_API inline int straw_cursor_binary(straw_cursor *c, const uint8_t **data,
                                         size_t *len);

/*
 * A binary or bit binary, in place: *bits gets its length in bits; the
 * data is (bits + 7) / 8 bytes, unused low bits of the last byte are zero
 * in checked canonical terms but should be ignored.
 */
STRAW_API int straw_cursor_bitstring(straw_cursor *c, const uint8_t **data,
                                     uint64_t *bits);

/* A tuple header; then read arity elements. */
STRAW_API inline int straw_cursor_tuple(straw_cursor *c, uint32_t *arity);

/*
 * A list header: [] gives n = 0 and consumes the [] (nothing more to
 * read); a non-empty list gives its n elements, to be read next, followed
 * by its tail ([] for a proper list).  A STRING_EXT ("abc") reads like
 * [97,98,99]: n integer elements then a [] tail.  A list written as
 * [a|[b|[]]] gives n = 1 with the tail [b].
 */
STRAW_API inline int straw_cursor_list(straw_cursor *c, uint32_t *n);

/* A [] (also the tail of a proper list). */
STRAW_API inline int straw_cursor_nil(straw_cursor *c);

/* A map header; then read key, value, key, value... */
STRAW_API int straw_cursor_map(straw_cursor *c, uint32_t *pairs);

/* A pid (NEW_PID_EXT or PID_EXT); STRAW_ERANGE if its node name has more
 * than 255 bytes in UTF-8. */
STRAW_API int straw_cursor_pid(straw_cursor *c, straw_erl_pid *pid);

/* A port (PORT_EXT, NEW_PORT_EXT, V4_PORT_EXT). */
STRAW_API int straw_cursor_port(straw_cursor *c, straw_erl_port *port);

/* A reference (REFERENCE_EXT, NEW_REFERENCE_EXT, NEWER_REFERENCE_EXT). */
STRAW_API int straw_cursor_ref(straw_cursor *c, straw_erl_ref *ref);

/*
 * The general cases of the inline cursor calls above (any encoding, the
 * STRING_EXT state, errors); those calls handle the canonical encoding
 * inline and call these for the rest.  Same contracts.
 */
STRAW_API int straw_cursor_int64_general(straw_cursor *c, int64_t *v);
STRAW_API int straw_cursor_double_general(straw_cursor *c, double *v);
STRAW_API int straw_cursor_atom_is_general(straw_cursor *c, const char *name);
STRAW_API int straw_cursor_atom_eq_general(straw_cursor *c, const char *name,
                                           size_t len);
STRAW_API int straw_cursor_tagged_general(straw_cursor *c, const char *tag,
                                          size_t len, uint32_t *arity);
STRAW_API int straw_cursor_binary_general(straw_cursor *c, const uint8_t **data,
                                          size_t *len);
STRAW_API int straw_cursor_tuple_general(straw_cursor *c, uint32_t *arity);
STRAW_API int straw_cursor_list_general(straw_cursor *c, uint32_t *n);
STRAW_API int straw_cursor_nil_general(straw_cursor *c);

/*
 * A fun M:F/A (EXPORT_EXT): module and function copied as UTF-8 with a NUL
 * into buffers of mcap and fcap bytes (STRAW_ERANGE if too small; a cap of
 * STRAW_ATOM_MAX_BYTES + 1 always suffices).  A closure gives STRAW_ETYPE:
 * read it with straw_cursor_term.
 */
STRAW_API int straw_cursor_export(straw_cursor *c, char *module, size_t mcap,
                                  char *function, size_t fcap, uint8_t *arity);

/*
 * Skips one whole term, without recursion, validating it as
 * straw_term_check_body does with the default limits, but for duplicate
 * map keys, which it does not compare (codes as there, also STRAW_EDEPTH
 * past STRAW_TERM_DEFAULT_MAX_DEPTH; -ENOMEM if its stack for nesting
 * deeper than 64 cannot be allocated).
 */
STRAW_API int straw_cursor_skip(straw_cursor *c);

/*
 * The encoded bytes (no version byte) of the next term, which is skipped
 * and validated as by straw_cursor_skip.
 * For an element of a STRING_EXT or its [] tail, the bytes are a
 * SMALL_INTEGER_EXT or NIL_EXT held inside *c (valid until the next call).
 */
STRAW_API int straw_cursor_term(straw_cursor *c, const uint8_t **start,
                                size_t *len);

/*
 * A writer.  Errors are sticky: after the first failure every call returns
 * it and straw_builder_finish reports it and discards the bytes.  The caller
 * writes a well-formed sequence (a header promising n elements is followed
 * by n terms); the builder does not track nesting.  Output is canonical
 * (OTP 25's minor_version 2 bytes) except for lists of integers 0..255
 * written element by element (OTP writes a STRING_EXT) and maps whose keys
 * are not written in map-key order; straw_term_normalize fixes both.
 * One thread at a time per builder.
 */
typedef struct straw_builder {
	straw_buf buf; /* the bytes so far, version byte first */
	int err;       /* 0 or the first error */
} straw_builder;

/* Makes b empty and writes the version byte.  Never fails (an allocation
 * failure is kept in b->err).  b is then safe to fini. */
STRAW_API void straw_builder_init(straw_builder *b);

/* Frees b's memory.  Accepts NULL. */
STRAW_API void straw_builder_fini(straw_builder *b);

/* Empties b for reuse, keeping its memory, and writes the version byte. */
STRAW_API void straw_builder_reset(straw_builder *b);

/*
 * Makes room for n more bytes at the end of b and returns where they go
 * (b->buf.len is not advanced), or NULL after setting the sticky error.
 * For writers of their own encodings; the calls below use it.
 */
STRAW_API uint8_t *straw_builder_room(straw_builder *b, size_t n);

/*
 * Writes a container header: tag and a 32-bit big-endian count, or
 * short_tag (when not 0) and an 8-bit count for counts up to 255.
 */
STRAW_API inline int straw_build_header(straw_builder *b, uint8_t short_tag,
                                        uint8_t tag, uint32_t n);

/* Integers, in the smallest encoding. */
STRAW_API inline int straw_build_int(straw_builder *b, int64_t v);
STRAW_API int straw_build_uint(straw_builder *b, uint64_t v);

/*
 * An integer of any size: its magnitude as n little-endian bytes (high
 * zero bytes allowed) and its sign.  Written in the smallest encoding.
 */
STRAW_API int straw_build_bignum(straw_builder *b, int negative,
                                 const uint8_t *mag, size_t n);

/* A float; NaN and infinities give STRAW_ERANGE (Erlang has neither). */
STRAW_API inline int straw_build_double(straw_builder *b, double v);

/* An atom from UTF-8 (STRAW_EBADATOM if invalid or longer than 255
 * characters). */
STRAW_API inline int straw_build_atom(straw_builder *b, const char *utf8,
                                      size_t len);
/* The general case of straw_build_atom (any UTF-8 name); straw_build_atom
 * calls it for names that are not short ASCII. */
STRAW_API int straw_build_atom_unicode(straw_builder *b, const char *utf8,
                                       size_t len);
STRAW_API inline int straw_build_atomz(straw_builder *b, const char *utf8);

/* A binary (copied). */
STRAW_API inline int straw_build_binary(straw_builder *b, const void *data,
                                        size_t len);

/* A bit binary of bits bits from data ((bits + 7) / 8 bytes, copied;
 * unused low bits of the last byte are cleared). */
STRAW_API int straw_build_bitstring(straw_builder *b, const void *data,
                                    uint64_t bits);

/* An Erlang string (list of bytes): STRING_EXT, [] when empty, a LIST_EXT
 * of integers past 65535 bytes, as OTP does. */
STRAW_API int straw_build_string(straw_builder *b, const char *s, size_t len);

/* A tuple header; arity terms follow. */
STRAW_API inline int straw_build_tuple(straw_builder *b, uint32_t arity);

/* A list header: n terms, then the tail, follow.  n = 0 writes [] and
 * nothing follows. */
STRAW_API inline int straw_build_list(straw_builder *b, uint32_t n);

/* [] */
STRAW_API inline int straw_build_nil(straw_builder *b);

/* A map header; pairs key, value pairs follow. */
STRAW_API inline int straw_build_map(straw_builder *b, uint32_t pairs);

/* A pid, port, reference (1..5 id words, else STRAW_ERANGE), fun M:F/A. */
STRAW_API int straw_build_pid(straw_builder *b, const straw_erl_pid *pid);
STRAW_API int straw_build_port(straw_builder *b, const straw_erl_port *port);
STRAW_API int straw_build_ref(straw_builder *b, const straw_erl_ref *ref);
STRAW_API int straw_build_export(straw_builder *b, const char *module,
                                 const char *function, uint8_t arity);

/*
 * An encoded term without version byte, copied after validation with
 * straw_term_check_body (its error otherwise, sticky like the others).
 */
STRAW_API int straw_build_raw(straw_builder *b, const uint8_t *term,
                              size_t len);

/*
 * Erlang-syntax format, see below.  Implemented in src/term/fmt_build.c.
 *
 * Format strings in Erlang syntax for build and match:
 *   "{ping, ~p, ~i, ~s}"   ~i int64_t, ~u uint64_t, ~f double, ~a atom
 *   (const char*), ~s string (const char*, as an Erlang string), ~b binary
 *   (const void*, size_t), ~t an encoded term (const uint8_t*, size_t, no
 *   version byte), ~P straw's pid (straw_pid, by value), ~R straw's
 *   reference (straw_ref), ~p an Erlang pid (const straw_erl_pid*: not a
 *   straw_pid), ~r an Erlang reference; plus literal atoms, integers,
 *   strings, binaries, tuples, lists, maps, pids <3.7>.  The full list is
 *   in straw/term_text.h.
 */
STRAW_API int straw_build_fmt(straw_builder *b, const char *fmt, ...);

/*
 * Hands over the bytes (version byte first) to the caller, who frees them
 * with straw_free; b is left empty (fini or init it again).  Returns 0 or
 * the sticky error (then *out = NULL, *len = 0, and b's bytes are freed).
 */
STRAW_API int straw_builder_finish(straw_builder *b, uint8_t **out,
                                   size_t *len);

/*
 * Matches a term against a pattern in the format syntax above:
 * straw_term_match(buf, len, "{pong, ~i}", &i) returns 1 matched (captures
 * written), 0 not matched (captures untouched), <0 error (bad pattern, bad
 * term).  In patterns `_` matches anything; capture args are pointers
 * (~i int64_t*, ~a char* buf + size_t cap, ~b const uint8_t** + size_t*,
 * ~t const uint8_t** + size_t*, ~P straw_pid*, ...); a bound directive
 * ~=x takes a value as straw_build_fmt does and matches a term =:= to it
 * ("{reply, ~=R, ~t}", ref, &body, &len).  Every argument is always taken.
 * Implemented in src/term/fmt_match.c.
 */
STRAW_API int straw_term_match(const uint8_t *buf, size_t len,
                               const char *pattern, ...);

/*
 * Re-encodes any decodable term (version byte first; any encoding options,
 * compressed or not) in straw's canonical form, which is what OTP 25's
 * term_to_binary(T, [{minor_version,2}]) writes for every term without maps
 * of more than 32 keys (OTP orders those by hash; straw sorts them in map
 * key order like smaller maps).  The input is validated as by
 * straw_term_check with lim (may be NULL); duplicate map keys give
 * STRAW_EDUPKEY.  On success out holds the canonical bytes (version byte
 * first) and its old content is dropped; on failure out is empty and
 * *fault_offset (may be NULL) is set as for straw_term_check.  Any thread.
 */
STRAW_API int straw_term_normalize(const uint8_t *buf, size_t len,
                                   const straw_term_limits *lim, straw_buf *out,
                                   size_t *fault_offset);

/*
 * Erlang term order of two encoded terms (version byte first, compressed
 * allowed): <0, 0 or >0, as a < b, a == b, a > b in Erlang (numbers compare
 * by value: 1 == 1.0).  Terms that do not decode order after every valid
 * term, and among themselves by their bytes.  Allocates temporarily; on
 * allocation failure falls back to ordering by bytes.  Any thread.
 */
STRAW_API int straw_term_compare(const uint8_t *a, size_t alen,
                                 const uint8_t *b, size_t blen);

/* 1 if a =:= b (exact: 1 and 1.0 differ), else 0; any two encodings of one
 * term are equal.  Invalid terms are equal only to identical bytes. */
STRAW_API int straw_term_equal(const uint8_t *a, size_t alen, const uint8_t *b,
                               size_t blen);

/* A 64-bit hash: equal terms (straw_term_equal) hash alike, whatever their
 * encoding.  Stable across runs and machines of one byte order. */
STRAW_API uint64_t straw_term_hash(const uint8_t *buf, size_t len);

/* Erlang syntax (straw/term_text.h).  buf is a term with its version byte,
 * or without it (what a ~t capture gives: any first byte but 131, which no
 * tag is).  Implemented in src/term/text.c. */
STRAW_API int straw_term_to_text(const uint8_t *buf, size_t len,
                                 straw_buf *out);
/* text -> ETF with version byte.  Implemented in src/term/text.c. */
STRAW_API int straw_term_from_text(const char *text, size_t len, straw_buf *out,
                                   size_t *err_offset);

/*
 * Inline fast paths.  The calls below are C99 inline functions: callers
 * compiled with optimisation write and read the common encodings without a
 * call; libstraw also exports each as an ordinary function.
 */
inline int
straw_build_int(straw_builder *b, int64_t v)
{
	uint8_t *p;
	size_t at; /* len, read before the stores (which may alias it) */

	if (v >= INT32_MIN && v <= INT32_MAX) {
		if (b->buf.cap - b->buf.len < 5) {
			if ((p = straw_builder_room(b, 5)) == NULL)
				return b->err;
		}
		at = b->buf.len;
		p = b->buf.data + at;
		if (v >= 0 && v <= 255) {
			p[0] = 'a'; /* SMALL_INTEGER_EXT */
			p[1] = (uint8_t)v;
			b->buf.len = at + 2;
		} else {
			uint32_t u = (uint32_t)(int32_t)v;
			p[0] = 'b'; /* INTEGER_EXT */
			p[1] = (uint8_t)(u >> 24);
			p[2] = (uint8_t)(u >> 16);
			p[3] = (uint8_t)(u >> 8);
			p[4] = (uint8_t)u;
			b->buf.len = at + 5;
		}
		return b->err;
	}
	{
		uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
		uint8_t mag[8];
		for (int i = 0; i < 8; i++)
			mag[i] = (uint8_t)(m >> (8 * i));
		return straw_build_bignum(b, v < 0, mag, 8);
	}
}

inline int
straw_build_double(straw_builder *b, double v)
{
	uint64_t bits;
	uint8_t *p;
	size_t at; /* len, read before the stores (which may alias it) */

	__builtin_memcpy(&bits, &v, 8);
	if ((bits & 0x7FF0000000000000ULL) == 0x7FF0000000000000ULL) {
		if (b->err == 0)
			b->err = STRAW_ERANGE; /* NaN, infinity */
		return b->err;
	}
	if (b->buf.cap - b->buf.len < 9) {
		if ((p = straw_builder_room(b, 9)) == NULL)
			return b->err;
	}
	at = b->buf.len;
	p = b->buf.data + at;
	p[0] = 'F'; /* NEW_FLOAT_EXT */
	bits = __builtin_bswap64(bits);
	__builtin_memcpy(p + 1, &bits, 8);
	b->buf.len = at + 9;
	return b->err;
}

inline int
straw_build_atom(straw_builder *b, const char *utf8, size_t len)
{
	uint8_t *p, acc = 0;
	size_t at; /* len, read before the stores (which may alias it) */
	size_t i;

	if (len > 255)
		return straw_build_atom_unicode(b, utf8, len);
	for (i = 0; i < len; i++)
		acc |= (uint8_t)utf8[i];
	if (acc >= 0x80)
		return straw_build_atom_unicode(b, utf8, len);
	if (b->buf.cap - b->buf.len < 2 + len) {
		if ((p = straw_builder_room(b, 2 + len)) == NULL)
			return b->err;
	}
	at = b->buf.len;
	p = b->buf.data + at;
	p[0] = 'w'; /* SMALL_ATOM_UTF8_EXT */
	p[1] = (uint8_t)len;
	__builtin_memcpy(p + 2, utf8, len);
	b->buf.len = at + 2 + len;
	return b->err;
}

inline int
straw_build_atomz(straw_builder *b, const char *utf8)
{
	uint8_t *p, acc = 0;
	size_t at; /* len, read before the stores (which may alias it) */
	size_t i;

	/* A literal name: measured and checked by the compiler. */
	if (__builtin_constant_p(__builtin_strlen(utf8)))
		return straw_build_atom(b, utf8, __builtin_strlen(utf8));
	/* Measure, check and copy short ASCII names in one pass. */
	if (b->buf.cap - b->buf.len >= 2 + 256) {
		at = b->buf.len;
		p = b->buf.data + at;
		for (i = 0; i < 256 && utf8[i] != '\0'; i++) {
			p[2 + i] = (uint8_t)utf8[i];
			acc |= (uint8_t)utf8[i];
		}
		if (i <= 255 && acc < 0x80) {
			p[0] = 'w'; /* SMALL_ATOM_UTF8_EXT */
			p[1] = (uint8_t)i;
			b->buf.len = at + 2 + i;
			return b->err;
		}
	}
	return straw_build_atom(b, utf8, __builtin_strlen(utf8));
}

inline int
straw_build_binary(straw_builder *b, const void *data, size_t len)
{
	uint8_t *p;
	size_t at; /* len, read before the stores (which may alias it) */

	if (len > 0xFFFFFFFFu) {
		if (b->err == 0)
			b->err = STRAW_ERANGE;
		return b->err;
	}
	if (b->buf.cap - b->buf.len < 5 + len) {
		if ((p = straw_builder_room(b, 5 + len)) == NULL)
			return b->err;
	}
	at = b->buf.len;
	p = b->buf.data + at;
	p[0] = 'm'; /* BINARY_EXT */
	p[1] = (uint8_t)(len >> 24);
	p[2] = (uint8_t)(len >> 16);
	p[3] = (uint8_t)(len >> 8);
	p[4] = (uint8_t)len;
	if (len <= 64) {
		/* Short: fixed-size moves rather than a call to memcpy. */
		const uint8_t *d = (const uint8_t *)data;
		size_t i = 0;
		for (; i + 8 <= len; i += 8)
			__builtin_memcpy(p + 5 + i, d + i, 8);
		for (; i < len; i++)
			p[5 + i] = d[i];
	} else {
		__builtin_memcpy(p + 5, data, len);
	}
	b->buf.len = at + 5 + len;
	return b->err;
}

inline int
straw_build_header(straw_builder *b, uint8_t short_tag, uint8_t tag, uint32_t n)
{
	uint8_t *p;
	size_t at; /* len, read before the stores (which may alias it) */

	if (b->buf.cap - b->buf.len < 5) {
		if ((p = straw_builder_room(b, 5)) == NULL)
			return b->err;
	}
	at = b->buf.len;
	p = b->buf.data + at;
	if (short_tag != 0 && n <= 255) {
		p[0] = short_tag;
		p[1] = (uint8_t)n;
		b->buf.len = at + 2;
		return b->err;
	}
	p[0] = tag;
	p[1] = (uint8_t)(n >> 24);
	p[2] = (uint8_t)(n >> 16);
	p[3] = (uint8_t)(n >> 8);
	p[4] = (uint8_t)n;
	b->buf.len = at + 5;
	return b->err;
}

inline int
straw_build_tuple(straw_builder *b, uint32_t arity)
{
	return straw_build_header(b, 'h', 'i', arity); /* SMALL/LARGE_TUPLE */
}

inline int
straw_build_nil(straw_builder *b)
{
	uint8_t *p;

	if (b->buf.cap == b->buf.len) {
		if ((p = straw_builder_room(b, 1)) == NULL)
			return b->err;
	}
	b->buf.data[b->buf.len++] = 'j'; /* NIL_EXT */
	return b->err;
}

inline int
straw_build_list(straw_builder *b, uint32_t n)
{
	if (n == 0)
		return straw_build_nil(b);
	return straw_build_header(b, 0, 'l', n); /* LIST_EXT */
}

inline int
straw_build_map(straw_builder *b, uint32_t pairs)
{
	return straw_build_header(b, 0, 't', pairs); /* MAP_EXT */
}

/* The cursor is in the plain state (not inside a STRING_EXT: lim is buf
 * there) with at least n bytes left, the first being tag. */
#define STRAW_CURSOR_SLACK_ 16
#define STRAW_CURSOR_AT_(c, tag, n)                                    \
	(__builtin_expect(                                             \
	        (((n) <= STRAW_CURSOR_SLACK_ && (c)->p < (c)->safe) || \
	         (c)->p + (n) <= (c)->lim) &&                          \
	                (c)->p[0] == (tag),                            \
	        1))
/* safe for a limit lim of a cursor over buf. */
#define STRAW_CURSOR_SAFE_(buf, lim)                    \
	((size_t)((lim) - (buf)) >= STRAW_CURSOR_SLACK_ \
	         ? (lim) - (STRAW_CURSOR_SLACK_ - 1)    \
	         : (buf))

/* A big-endian 32-bit value: one load and a byte swap. */
#define STRAW_GET32_(p)                        \
	({                                     \
		uint32_t g_;                   \
		__builtin_memcpy(&g_, (p), 4); \
		__builtin_bswap32(g_);         \
	})

/*
 * Calls a general case on a copy of *c and with a local result, so that
 * neither the caller's cursor nor its result variable has its address
 * taken: an optimised caller then keeps them in registers on the inline
 * paths.  The general cases of the inline reads neither read nor write
 * scratch, so it is left out both ways (it need not live in a register
 * across the caller's loop); of the rest only the fields a read changes
 * are copied back (buf and len never change), one by one.  The result is
 * stored only on success.
 */
#define STRAW_CURSOR_COPY_(c)                      \
	((straw_cursor){.buf = (c)->buf,           \
	                .safe = (c)->safe,         \
	                .len = (c)->len,           \
	                .p = (c)->p,               \
	                .str_left = (c)->str_left, \
	                .str_tail = (c)->str_tail, \
	                .lim = (c)->lim})
#define STRAW_CURSOR_BACK_(c, t)                                   \
	((c)->p = (t).p, (c)->lim = (t).lim, (c)->safe = (t).safe, \
	 (c)->str_left = (t).str_left, (c)->str_tail = (t).str_tail)
#define STRAW_CURSOR_SLOW_(c, fn, type, out)             \
	do {                                             \
		straw_cursor t_ = STRAW_CURSOR_COPY_(c); \
		type o_;                                 \
		int rc_;                                 \
		memset(&o_, 0, sizeof(o_));              \
		rc_ = fn(&t_, &o_);                      \
		STRAW_CURSOR_BACK_(c, t_);               \
		if ((out) != NULL)                       \
			*(out) = o_;                     \
		return rc_;                              \
	} while (0)

inline int
straw_cursor_init(straw_cursor *c, const uint8_t *buf, size_t len)
{
	static const uint8_t none[1] = {0};
	straw_cursor z = {0};

	/* An empty cursor over a byte of its own (no pointer is null). */
	*c = z;
	c->p = c->lim = c->safe = c->buf = none;
	if (len == 0 || buf[0] != STRAW_ETF_VERSION)
		return STRAW_EVERSION;
	if (len >= 2 && buf[1] == 80) /* compressed */
		return STRAW_EBADTAG;
	c->buf = buf;
	c->len = len;
	c->lim = buf + len;
	c->safe = STRAW_CURSOR_SAFE_(buf, buf + len);
	c->p = buf + 1;
	return 0;
}

inline int
straw_cursor_at_end(const straw_cursor *c)
{
	return ((c->str_left | c->str_tail) == 0) &
	       ((size_t)(c->p - c->buf) >= c->len);
}

inline size_t
straw_cursor_offset(const straw_cursor *c)
{
	return (size_t)(c->p - c->buf);
}

inline int
straw_cursor_int64(straw_cursor *c, int64_t *v)
{
	if (STRAW_CURSOR_AT_(c, 'a', 2)) {
		*v = c->p[1];
		c->p += 2;
		return 0;
	}
	if (STRAW_CURSOR_AT_(c, 'b', 5)) {
		*v = (int32_t)STRAW_GET32_(c->p + 1);
		c->p += 5;
		return 0;
	}
	STRAW_CURSOR_SLOW_(c, straw_cursor_int64_general, int64_t, v);
}

inline int
straw_cursor_double(straw_cursor *c, double *v)
{
	if (STRAW_CURSOR_AT_(c, 'F', 9)) {
		const uint8_t *p = c->p + 1;
		uint64_t bits;
		/* NaN and infinities (exponent all ones: the first two
		 * bytes) are general. */
		if (__builtin_expect((p[0] & 0x7F) != 0x7F || p[1] < 0xF0, 1)) {
			__builtin_memcpy(&bits, p, 8);
			bits = __builtin_bswap64(bits);
			__builtin_memcpy(v, &bits, 8);
			c->p += 9;
			return 0;
		}
	}
	STRAW_CURSOR_SLOW_(c, straw_cursor_double_general, double, v);
}

inline int
straw_cursor_atom_is(straw_cursor *c, const char *name)
{
	if (STRAW_CURSOR_AT_(c, 'w', 2)) {
		const uint8_t *a = c->p + 2;
		size_t n = c->p[1], i;
		if (__builtin_expect((size_t)(c->lim - a) >= n, 1)) {
			/* Walks name, so that the new position comes from
			 * name's length (predicted branches) rather than
			 * from a load of the atom's length. */
			for (i = 0; name[i] != '\0'; i++)
				if (i == n || a[i] != (uint8_t)name[i])
					return 0;
			if (i != n)
				return 0;
			c->p += 2 + i;
			return 1;
		}
	}
	{
		straw_cursor t = STRAW_CURSOR_COPY_(c);
		int rc = straw_cursor_atom_is_general(&t, name);
		STRAW_CURSOR_BACK_(c, t);
		return rc;
	}
}

/* 1 if the len bytes at a are name's: the usual short atom (4 to 8 bytes)
 * in two 4-byte words, overlapping for len < 8. */
#define STRAW_NAME_EQ_(a, name, len)                                    \
	({                                                              \
		const uint8_t *a_ = (a), *w_ = (const uint8_t *)(name); \
		size_t l_ = (len);                                      \
		int eq_ = 1;                                            \
		if (l_ >= 4 && l_ <= 8) {                               \
			uint32_t x0_, x1_, y0_, y1_;                    \
			__builtin_memcpy(&x0_, a_, 4);                  \
			__builtin_memcpy(&y0_, w_, 4);                  \
			__builtin_memcpy(&x1_, a_ + l_ - 4, 4);         \
			__builtin_memcpy(&y1_, w_ + l_ - 4, 4);         \
			eq_ = ((x0_ ^ y0_) | (x1_ ^ y1_)) == 0;         \
		} else {                                                \
			for (size_t i_ = 0; i_ < l_; i_++)              \
				if (a_[i_] != w_[i_]) {                 \
					eq_ = 0;                        \
					break;                          \
				}                                       \
		}                                                       \
		eq_;                                                    \
	})

inline int
straw_cursor_atom_eq(straw_cursor *c, const char *name, size_t len)
{
	/* The bounds check uses the caller's length: the atom, if it is
	 * this one, ends within the bytes left. */
	if (len <= 255 && STRAW_CURSOR_AT_(c, 'w', 2 + len)) {
		const uint8_t *a = c->p + 2;
		if (c->p[1] != len) {
			/* Another atom, not consumed, if it is whole. */
			if (c->p[1] <= (size_t)(c->lim - a))
				return 0;
		} else {
			if (!STRAW_NAME_EQ_(a, name, len))
				return 0;
			c->p += 2 + len;
			return 1;
		}
	}
	{
		straw_cursor t = STRAW_CURSOR_COPY_(c);
		int rc = straw_cursor_atom_eq_general(&t, name, len);
		STRAW_CURSOR_BACK_(c, t);
		return rc;
	}
}

inline int
straw_cursor_tagged(straw_cursor *c, const char *tag, size_t len,
                    uint32_t *arity)
{
	/* SMALL_TUPLE_EXT, arity, SMALL_ATOM_UTF8_EXT, len, the name; the
	 * arity is bounded as by straw_cursor_tuple (a byte an element). */
	if (len <= 255 && STRAW_CURSOR_AT_(c, 'h', 4 + len) &&
	    __builtin_expect(c->p[2] == 'w' && c->p[3] == len && c->p[1] != 0 &&
	                             c->p + 2 + c->p[1] <= c->lim,
	                     1)) {
		if (!STRAW_NAME_EQ_(c->p + 4, tag, len)) {
			*arity = 0;
			return 0;
		}
		*arity = c->p[1];
		c->p += 4 + len;
		return 1;
	}
	{
		straw_cursor t = STRAW_CURSOR_COPY_(c);
		uint32_t a = 0;
		int rc = straw_cursor_tagged_general(&t, tag, len, &a);
		STRAW_CURSOR_BACK_(c, t);
		*arity = a;
		return rc;
	}
}

inline int
straw_cursor_binary(straw_cursor *c, const uint8_t **data, size_t *len)
{
	if (STRAW_CURSOR_AT_(c, 'm', 5)) {
		const uint8_t *d = c->p + 5;
		uint32_t n = STRAW_GET32_(c->p + 1);
		if (__builtin_expect((size_t)(c->lim - d) >= n, 1)) {
			*data = d;
			*len = n;
			c->p = d + n;
			return 0;
		}
	}
	{
		straw_cursor t = STRAW_CURSOR_COPY_(c);
		const uint8_t *d = NULL;
		size_t l = 0;
		int rc = straw_cursor_binary_general(&t, &d, &l);
		STRAW_CURSOR_BACK_(c, t);
		*data = d;
		*len = l;
		return rc;
	}
}

inline int
straw_cursor_tuple(straw_cursor *c, uint32_t *arity)
{
	/* Each element takes at least one byte: an arity the bytes left
	 * cannot hold is general (an error). */
	if (STRAW_CURSOR_AT_(c, 'h', 2) &&
	    __builtin_expect(c->p + 2 + c->p[1] <= c->lim, 1)) {
		*arity = c->p[1];
		c->p += 2;
		return 0;
	}
	STRAW_CURSOR_SLOW_(c, straw_cursor_tuple_general, uint32_t, arity);
}

inline int
straw_cursor_list(straw_cursor *c, uint32_t *n)
{
	/* n elements and a tail take at least n + 1 bytes after the header;
	 * n = 0 (the header stands for its tail) is general. */
	if (STRAW_CURSOR_AT_(c, 'l', 6)) {
		uint32_t k = STRAW_GET32_(c->p + 1);
		if (__builtin_expect(
		            (size_t)k - 1 < (size_t)(c->lim - c->p - 6), 1)) {
			*n = k;
			c->p += 5;
			return 0;
		}
	}
	STRAW_CURSOR_SLOW_(c, straw_cursor_list_general, uint32_t, n);
}

inline int
straw_cursor_nil(straw_cursor *c)
{
	if (STRAW_CURSOR_AT_(c, 'j', 1)) {
		c->p += 1;
		return 0;
	}
	{
		straw_cursor t = STRAW_CURSOR_COPY_(c);
		int rc = straw_cursor_nil_general(&t);
		STRAW_CURSOR_BACK_(c, t);
		return rc;
	}
}

#ifdef __cplusplus
}
#endif

/* The text form and the format directives in full, with the variants that
 * take limits or a va_list. */
#include <straw/term_text.h>

#endif /* STRAW_TERM_H */
