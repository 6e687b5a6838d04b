/*
 * bench/term_text.c - format strings and the text form against libei, in
 * one run.
 *
 *   fmt-build   straw_build_fmt("{ping, ~p, ~i, ~s}") against
 *               ei_x_format("{ping,~p,~l,~s}")
 *   match       straw_term_match("{pong, ~i}") against the same test done
 *               with ei_decode_tuple_header, ei_decode_atom, ei_decode_long
 *   match-miss  the same on {pang, 7}, which does not match
 *   print       straw_term_to_text of a 6 KB term of 100 small tuples
 *               against ei_s_print_term
 *   parse       straw_term_from_text of that text (libei has no parser)
 *
 * Median of bench_runs() runs of CPU time per operation (the machine is
 * often shared).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <straw/term.h>
#include <straw/term_text.h>

#include "bench.h"

#ifdef STRAW_HAVE_EI
#include <ei.h>
#endif

static volatile uint64_t sink;

static void
report(const char *name, const char *who, long size, double ns)
{
	struct bench_result r = BENCH_RESULT_INIT("term_text", name, who, size);

	r.ns_per_op = ns;
	r.msgs_per_s = 1e9 / ns;
	if (size > 0)
		r.bytes_per_s = (double)size * 1e9 / ns;
	bench_report(&r);
}

static const straw_erl_pid self = {"straw@localhost", 85, 0, 3};

static void
straw_fmt_build(straw_builder *b, long k)
{
	straw_builder_reset(b);
	straw_build_fmt(b, "{ping, ~p, ~i, ~s}", &self, (int64_t)k, "hello");
}

#ifdef STRAW_HAVE_EI
static erlang_pid ei_me;

static void
ei_fmt_build(ei_x_buff *x, long k)
{
	x->index = 0;
	ei_x_format(x, "{ping,~p,~l,~s}", &ei_me, k, "hello");
}

/* {pong, N} by hand: what a receive loop written on libei does. */
static int
ei_match(const char *buf, long *n)
{
	char atom[MAXATOMLEN_UTF8];
	int idx = 0, version, arity;

	if (ei_decode_version(buf, &idx, &version) != 0 ||
	    ei_decode_tuple_header(buf, &idx, &arity) != 0 || arity != 2 ||
	    ei_decode_atom(buf, &idx, atom) != 0 || strcmp(atom, "pong") != 0 ||
	    ei_decode_long(buf, &idx, n) != 0)
		return 0;
	return 1;
}
#endif

/* The 6 KB term of bench/term.c's small shape: 100 {atom, N, <<16 B>>}. */
static void
build_small(straw_builder *b)
{
	uint8_t payload[16];
	int i;

	for (i = 0; i < 16; i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	straw_builder_reset(b);
	straw_build_list(b, 100);
	for (i = 0; i < 100; i++) {
		straw_build_tuple(b, 3);
		straw_build_atomz(b, "measurement");
		straw_build_int(b, 1000 + i);
		straw_build_binary(b, payload, sizeof(payload));
	}
	straw_build_nil(b);
}

int
main(void)
{
	straw_builder b, t;
	straw_buf text = STRAW_BUF_INIT, back = STRAW_BUF_INIT;
	long iters = bench_quick() ? 20000 : 200000;
	int64_t got = 0;
	double ns;

	bench_header("term_text");
	straw_builder_init(&b);
	straw_builder_init(&t);

	ns = BENCH_MEASURE_CPU(iters, straw_fmt_build(&b, i_));
	report("fmt-build", "straw", (long)b.buf.len, ns);
#ifdef STRAW_HAVE_EI
	ei_x_buff x;
	strcpy(ei_me.node, self.node);
	ei_me.num = self.id;
	ei_me.serial = self.serial;
	ei_me.creation = self.creation;
	ei_x_new(&x);
	ns = BENCH_MEASURE_CPU(iters, ei_fmt_build(&x, i_));
	report("fmt-build", "libei", x.index, ns);
#endif

	straw_builder_reset(&t);
	straw_build_fmt(&t, "{pong, 12345}");
	ns = BENCH_MEASURE_CPU(
	        iters, sink += (uint64_t)straw_term_match(t.buf.data, t.buf.len,
	                                                  "{pong, ~i}", &got));
	report("match", "straw", (long)t.buf.len, ns);
#ifdef STRAW_HAVE_EI
	long n = 0;
	ns = BENCH_MEASURE_CPU(iters, sink += (uint64_t)ei_match(
	                                      (const char *)t.buf.data, &n));
	report("match", "libei", (long)t.buf.len, ns);
#endif
	straw_builder_reset(&t);
	straw_build_fmt(&t, "{pang, 7}");
	ns = BENCH_MEASURE_CPU(
	        iters, sink += (uint64_t)straw_term_match(t.buf.data, t.buf.len,
	                                                  "{pong, ~i}", &got));
	report("match-miss", "straw", (long)t.buf.len, ns);
#ifdef STRAW_HAVE_EI
	ns = BENCH_MEASURE_CPU(iters, sink += (uint64_t)ei_match(
	                                      (const char *)t.buf.data, &n));
	report("match-miss", "libei", (long)t.buf.len, ns);
#endif

	build_small(&t);
	iters /= 50;
	ns = BENCH_MEASURE_CPU(iters, {
		text.len = 0;
		sink += (uint64_t)straw_term_to_text(t.buf.data, t.buf.len,
		                                     &text);
	});
	report("print", "straw", (long)t.buf.len, ns);
#ifdef STRAW_HAVE_EI
	ns = BENCH_MEASURE_CPU(iters, {
		char *s = NULL;
		int idx = 1;
		sink += (uint64_t)ei_s_print_term(&s, (const char *)t.buf.data,
		                                  &idx);
		free(s);
	});
	report("print", "libei", (long)t.buf.len, ns);
#endif
	ns = BENCH_MEASURE_CPU(iters, {
		back.len = 0;
		sink += (uint64_t)straw_term_from_text((const char *)text.data,
		                                       text.len, &back, NULL);
	});
	report("parse", "straw", (long)text.len, ns);
	if (back.len != t.buf.len || memcmp(back.data, t.buf.data, back.len))
		fprintf(stderr, "parse: bytes differ\n");

	straw_builder_fini(&b);
	straw_builder_fini(&t);
	straw_buf_fini(&text);
	straw_buf_fini(&back);
#ifdef STRAW_HAVE_EI
	ei_x_free(&x);
#endif
	return 0;
}
