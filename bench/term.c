/*
 * bench/term.c - the term codec against libei (erl_interface), in one run.
 *
 * (a) "6k": a list of 100 tuples {item, N, <<36 bytes>>, 4.5};
 * (b) "1m": a list of 256 tuples {blob, N, <<4096 bytes>>}.
 * encode: straw's builder against ei_x_encode_*; decode: a walk with the
 * cursor, which validates what it reads (bounds, counts against the bytes
 * left, floats, trailing bytes), against ei_decode_* (binaries in place
 * with ei_decode_bitstring, as the cursor does), which does no bounds
 * checking at all.  Both encoders and both walks get the atom as a
 * literal.  Case straw reads
 * each {item, ...} with straw_cursor_tagged; straw-tuple with
 * straw_cursor_tuple then straw_cursor_atom_eq; straw-atomz with
 * straw_cursor_atom_is; straw-checked runs straw_term_check, then the
 * walk.  check: straw_term_check against ei_skip_term.  Both sides reuse
 * their output buffer.  Median of bench_runs() runs each, in CPU time of
 * the benchmark thread; for encode and decode the runs of straw and libei
 * alternate.
 *
 * Maps, for the cost of straw_term_check's duplicate-key pass: "maps-6k",
 * a list of 100 maps #{id => N, kind => item, name => <<36 bytes>>,
 * score => 4.5}, and "map-200", one map of 200 integer keys.  check:
 * straw_term_check (structure, then keys), straw-nokeys: a cursor skip of
 * the whole term (the same structural validation, keys not compared:
 * what straw_term_check did before it compared them), and ei_skip_term.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <straw/alloc.h>
#include <straw/term.h>

#include "bench.h"

#ifdef STRAW_HAVE_EI
#include <ei.h>
#endif

typedef uint64_t decode_fn(const uint8_t *buf, size_t len);
struct shape;
typedef void straw_encode_fn(straw_builder *b, const struct shape *s);
#ifdef STRAW_HAVE_EI
typedef void ei_encode_fn(ei_x_buff *x, const struct shape *s);
#else
typedef void ei_encode_fn(void);
#endif

struct shape {
	const char *name; /* "6k", "1m" */
	const char *atom; /* first tuple element */
	int tuples;       /* list length */
	int bin;          /* binary size */
	int with_float;   /* 4-tuples with a float, or 3-tuples */
	straw_encode_fn *straw_encode;
	ei_encode_fn *ei_encode;
	decode_fn *straw_decode, *straw_decode_tuple, *straw_decode_atomz;
	decode_fn *ei_decode;
};

static uint8_t payload[4096];
static volatile uint64_t sink;

/* The encoders get the atom as a literal too (see the walks below). */
static inline __attribute__((always_inline)) void
straw_encode_with(straw_builder *b, const struct shape *s, const char *atom)
{
	straw_builder_reset(b);
	straw_build_list(b, (uint32_t)s->tuples);
	for (int i = 0; i < s->tuples; i++) {
		straw_build_tuple(b, s->with_float ? 4 : 3);
		straw_build_atomz(b, atom);
		straw_build_int(b, 1000 + i);
		straw_build_binary(b, payload, (size_t)s->bin);
		if (s->with_float)
			straw_build_double(b, 4.5);
	}
	straw_build_nil(b);
}

/* How the walk reads each {Tag, ...}. */
enum walk_how {
	WALK_TAGGED, /* straw_cursor_tagged: header and tag at once */
	WALK_TUPLE,  /* straw_cursor_tuple, then straw_cursor_atom_eq */
	WALK_ATOMZ,  /* straw_cursor_tuple, then straw_cursor_atom_is */
};

/*
 * The walk; returns a checksum so that nothing is optimised away.  The
 * atom is a literal, as in a program that reads its own messages, given
 * with its length (straw_cursor_tagged, straw_cursor_atom_eq) or
 * NUL-terminated (straw_cursor_atom_is).  libei's walk below gets the same
 * literal.
 */
static inline __attribute__((always_inline)) uint64_t
straw_walk(const uint8_t *buf, size_t len, const char *atom, size_t alen,
           enum walk_how how)
{
	straw_cursor c;
	uint32_t n, arity;
	uint64_t sum = 0;

	if (straw_cursor_init(&c, buf, len) != 0 ||
	    straw_cursor_list(&c, &n) != 0)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *d;
		size_t dl;
		int64_t v;
		double f = 0;
		if ((how == WALK_TAGGED
		             ? straw_cursor_tagged(&c, atom, alen, &arity) != 1
		             : straw_cursor_tuple(&c, &arity) != 0 ||
		                       (how == WALK_ATOMZ
		                                ? straw_cursor_atom_is(&c, atom)
		                                : straw_cursor_atom_eq(&c, atom,
		                                                       alen)) !=
		                               1) ||
		    straw_cursor_int64(&c, &v) != 0 ||
		    straw_cursor_binary(&c, &d, &dl) != 0 ||
		    (arity == 4 && straw_cursor_double(&c, &f) != 0))
			abort();
		sum += (uint64_t)v + dl + (uint64_t)(int64_t)f + d[0];
	}
	if (straw_cursor_nil(&c) != 0 || !straw_cursor_at_end(&c))
		abort();
	return sum;
}

#ifdef STRAW_HAVE_EI
static inline __attribute__((always_inline)) void
ei_encode_with(ei_x_buff *x, const struct shape *s, const char *atom)
{
	x->index = 0;
	ei_x_encode_version(x);
	ei_x_encode_list_header(x, s->tuples);
	for (int i = 0; i < s->tuples; i++) {
		ei_x_encode_tuple_header(x, s->with_float ? 4 : 3);
		ei_x_encode_atom(x, atom);
		ei_x_encode_long(x, 1000 + i);
		ei_x_encode_binary(x, payload, s->bin);
		if (s->with_float)
			ei_x_encode_double(x, 4.5);
	}
	ei_x_encode_empty_list(x);
}

static inline __attribute__((always_inline)) uint64_t
ei_walk(const char *buf, const char *atom_name)
{
	int idx = 0, version, n, arity;
	uint64_t sum = 0;

	if (ei_decode_version(buf, &idx, &version) != 0 ||
	    ei_decode_list_header(buf, &idx, &n) != 0)
		abort();
	for (int i = 0; i < n; i++) {
		char atom[MAXATOMLEN_UTF8];
		const char *d;
		unsigned int bitoff;
		size_t bits;
		long v;
		double f = 0;
		if (ei_decode_tuple_header(buf, &idx, &arity) != 0 ||
		    ei_decode_atom(buf, &idx, atom) != 0 ||
		    strcmp(atom, atom_name) != 0 ||
		    ei_decode_long(buf, &idx, &v) != 0 ||
		    ei_decode_bitstring(buf, &idx, &d, &bitoff, &bits) != 0 ||
		    (arity == 4 && ei_decode_double(buf, &idx, &f) != 0))
			abort();
		sum += (uint64_t)v + bits / 8 + (uint64_t)(int64_t)f +
		       (uint8_t)d[0];
	}
	if (ei_decode_list_header(buf, &idx, &n) != 0 || n != 0)
		abort();
	return sum;
}
#endif

/* One set of encoders and walks per shape, each with its atom as a
 * literal. */
#ifdef STRAW_HAVE_EI
#define EI_WALK_(name, atom)                                              \
	static void ei_encode_##name(ei_x_buff *x, const struct shape *s) \
	{                                                                 \
		ei_encode_with(x, s, atom);                               \
	}                                                                 \
	static uint64_t ei_decode_##name(const uint8_t *buf, size_t len)  \
	{                                                                 \
		(void)len;                                                \
		return ei_walk((const char *)buf, atom);                  \
	}
#define EI_ENCODE_(name) ei_encode_##name
#define EI_DECODE_(name) ei_decode_##name
#else
#define EI_WALK_(name, atom)
#define EI_ENCODE_(name) NULL
#define EI_DECODE_(name) NULL
#endif
#define WALK_(fn, atom, how)                                              \
	static uint64_t fn(const uint8_t *buf, size_t len)                \
	{                                                                 \
		return straw_walk(buf, len, atom, sizeof(atom) - 1, how); \
	}
#define WALKS_(name, atom)                                     \
	static void straw_encode_##name(straw_builder *b,      \
	                                const struct shape *s) \
	{                                                      \
		straw_encode_with(b, s, atom);                 \
	}                                                      \
	WALK_(straw_decode_##name, atom, WALK_TAGGED)          \
	WALK_(straw_decode_tuple_##name, atom, WALK_TUPLE)     \
	WALK_(straw_decode_atomz_##name, atom, WALK_ATOMZ)     \
	EI_WALK_(name, atom)

WALKS_(item, "item")
WALKS_(blob, "blob")

static const struct shape shapes[] = {
        {"6k", "item", 100, 36, 1, straw_encode_item, EI_ENCODE_(item),
         straw_decode_item, straw_decode_tuple_item, straw_decode_atomz_item,
         EI_DECODE_(item)},
        {"1m", "blob", 256, 4096, 0, straw_encode_blob, EI_ENCODE_(blob),
         straw_decode_blob, straw_decode_tuple_blob, straw_decode_atomz_blob,
         EI_DECODE_(blob)},
};

#ifdef STRAW_HAVE_EI
static uint64_t
ei_skip(const char *buf)
{
	int idx = 0, ver;

	if (ei_decode_version(buf, &idx, &ver) != 0 ||
	    ei_skip_term(buf, &idx) != 0)
		abort();
	return (uint64_t)idx;
}
#endif

static void
report(const char *op, const struct shape *s, const char *who, long size,
       double ns)
{
	char name[32];
	struct bench_result r = BENCH_RESULT_INIT("term", name, who, size);

	snprintf(name, sizeof(name), "%s-%s", op, s->name);
	r.ns_per_op = ns;
	r.msgs_per_s = 1e9 / ns;
	r.bytes_per_s = (double)size * 1e9 / ns;
	bench_report(&r);
}

static void
encode_maps(straw_builder *b, int which)
{
	straw_builder_reset(b);
	if (which == 0) {
		straw_build_list(b, 100);
		for (int i = 0; i < 100; i++) {
			straw_build_map(b, 4);
			straw_build_atomz(b, "id");
			straw_build_int(b, 1000 + i);
			straw_build_atomz(b, "kind");
			straw_build_atomz(b, "item");
			straw_build_atomz(b, "name");
			straw_build_binary(b, payload, 36);
			straw_build_atomz(b, "score");
			straw_build_double(b, 4.5);
		}
		straw_build_nil(b);
	} else {
		straw_build_map(b, 200);
		for (int i = 0; i < 200; i++) {
			straw_build_int(b, 1000 + i);
			straw_build_int(b, i);
		}
	}
	if (b->err != 0)
		abort();
}

/* The whole term validated by the cursor: structure, no key comparison. */
static uint64_t
skip_nokeys(const uint8_t *buf, size_t len)
{
	straw_cursor c;

	if (straw_cursor_init(&c, buf, len) != 0 ||
	    straw_cursor_skip(&c) != 0 || !straw_cursor_at_end(&c))
		abort();
	return straw_cursor_offset(&c);
}

static void
bench_maps(straw_builder *b)
{
	static const struct shape ms[] = {{.name = "maps-6k"},
	                                  {.name = "map-200"}};

	for (int k = 0; k < 2; k++) {
		long iters = bench_quick() ? 4000 : 40000;
		double ns;
		long size;

		encode_maps(b, k);
		size = (long)b->buf.len;
		if (straw_term_check(b->buf.data, b->buf.len, NULL, NULL) != 0)
			abort();
		ns = BENCH_MEASURE_CPU(
		        iters, sink += (uint64_t)straw_term_check(
		                       b->buf.data, b->buf.len, NULL, NULL));
		report("check", &ms[k], "straw", size, ns);
		ns = BENCH_MEASURE_CPU(
		        iters, sink += skip_nokeys(b->buf.data, b->buf.len));
		report("check", &ms[k], "straw-nokeys", size, ns);
#ifdef STRAW_HAVE_EI
		ns = BENCH_MEASURE_CPU(
		        iters, sink += ei_skip((const char *)b->buf.data));
		report("check", &ms[k], "libei", size, ns);
#endif
	}
}

int
main(void)
{
	straw_builder b;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	bench_header("term");
	straw_builder_init(&b);
	for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		const struct shape *s = &shapes[k];
		long iters = s->bin > 1000 ? 400 : 40000;
		double ns, ns_ei = 0;
		long size;

		if (bench_quick())
			iters /= 10;
		s->straw_encode(&b, s);
		if (b.err != 0)
			abort();
		size = (long)b.buf.len;
#ifdef STRAW_HAVE_EI
		ei_x_buff x;
		ei_x_new(&x);
		s->ei_encode(&x, s);
		if (x.index != size ||
		    memcmp(x.buff, b.buf.data, (size_t)size) != 0)
			fprintf(stderr, "note: libei writes other bytes (%d)\n",
			        x.index);
#endif
#ifdef STRAW_HAVE_EI
		/* straw and libei side by side, their runs alternating. */
		BENCH_MEASURE_CPU2(iters, s->straw_encode(&b, s),
		                   s->ei_encode(&x, s), &ns, &ns_ei);
		report("encode", s, "straw", size, ns);
		report("encode", s, "libei", size, ns_ei);
		BENCH_MEASURE_CPU2(
		        iters, sink += s->straw_decode(b.buf.data, b.buf.len),
		        sink += s->ei_decode((const uint8_t *)x.buff, 0), &ns,
		        &ns_ei);
#else
		ns = BENCH_MEASURE_CPU(iters, s->straw_encode(&b, s));
		report("encode", s, "straw", size, ns);
		ns = BENCH_MEASURE_CPU(
		        iters, sink += s->straw_decode(b.buf.data, b.buf.len));
#endif
		report("decode", s, "straw", size, ns);
		ns = BENCH_MEASURE_CPU(iters, sink += s->straw_decode_tuple(
		                                      b.buf.data, b.buf.len));
		report("decode", s, "straw-tuple", size, ns);
		ns = BENCH_MEASURE_CPU(iters, sink += s->straw_decode_atomz(
		                                      b.buf.data, b.buf.len));
		report("decode", s, "straw-atomz", size, ns);
		ns = BENCH_MEASURE_CPU(
		        iters, sink +=
		               (uint64_t)straw_term_check(b.buf.data, b.buf.len,
		                                          NULL, NULL) +
		               s->straw_decode(b.buf.data, b.buf.len));
		report("decode", s, "straw-checked", size, ns);
#ifdef STRAW_HAVE_EI
		report("decode", s, "libei", size, ns_ei);
#endif
		ns = BENCH_MEASURE_CPU(
		        iters, sink += (uint64_t)straw_term_check(
		                       b.buf.data, b.buf.len, NULL, NULL));
		report("check", s, "straw", size, ns);
#ifdef STRAW_HAVE_EI
		ns = BENCH_MEASURE_CPU(iters, sink += ei_skip(x.buff));
		report("check", s, "libei", size, ns);
		ei_x_free(&x);
#endif
	}
	bench_maps(&b);
	straw_builder_fini(&b);
	return 0;
}
