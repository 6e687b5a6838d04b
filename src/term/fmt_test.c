/*
 * Tests of format strings: straw_build_fmt (every directive, literals,
 * errors, stickiness) and straw_term_match (captures, literals of every
 * kind, wildcards, list tails, maps, errors, and that it never allocates).
 */
#include <math.h>

#include <straw/alloc.h>
#include <straw/term.h>
#include <straw/term_text.h>

#include "term/etf.h"
#include "term/fmt.h"
#include "term/testutil.h"
#include "testing/check.h"

/* The canonical bytes of text (version byte first), malloc'd. */
static uint8_t *
etf(const char *text, size_t *len)
{
	straw_buf b = STRAW_BUF_INIT;
	size_t off;

	if (straw_term_from_text(text, strlen(text), &b, &off) != 0) {
		fprintf(stderr, "  bad test text at %zu: %s\n", off, text);
		return NULL;
	}
	return straw_buf_take(&b, len);
}

/* Checks that the builder holds exactly the term of `text`. */
static void
check_built(straw_builder *b, const char *text)
{
	uint8_t *got, *want;
	size_t glen, wlen;

	want = etf(text, &wlen);
	CHECK(want != NULL);
	CHECK_OK(straw_builder_finish(b, &got, &glen));
	if (glen != wlen || memcmp(got, want, glen) != 0)
		fprintf(stderr, "  want %s\n", text);
	CHECK_MEM(got, glen, want, wlen);
	straw_free(got);
	straw_free(want);
}

static const straw_erl_pid test_pid = {"nonode@nohost", 85, 0, 0};

CASE(build_basic)
{
	straw_builder b;

	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(&b, "{ping, ~p, ~i, ~s}", &test_pid,
	                         (int64_t)7, "hi"));
	check_built(&b, "{ping, erlang:binary_to_term(<<131,88,119,13,"
	                "\"nonode@nohost\",85:32,0:32,0:32>>), 7, \"hi\"}");
	straw_builder_fini(&b);
}

CASE(build_directives)
{
	static const uint8_t bin[] = {1, 2, 3};
	static const uint8_t raw[] = {'h', 2, 'a', 1, 'j'}; /* {1,[]} */
	straw_erl_port port = {"n@h", 5, 2};
	straw_erl_port port4 = {"n@h", (uint64_t)1 << 40, 3};
	straw_erl_ref ref = {"n@h", 9, 3, {1, 2, 3, 0, 0}};
	straw_builder b;

	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(
	        &b,
	        "[~i, ~i, ~i, ~u, ~u, ~f, ~f, ~a, ~a, ~a, ~s, ~s, ~b, ~b, "
	        "~t, ~o, ~o, ~r]",
	        (int64_t)-1, INT64_MIN, INT64_MAX, (uint64_t)255, UINT64_MAX,
	        1.5, -0.0, "ok", "日本", "", "", "abc", bin, sizeof(bin),
	        (const void *)"", (size_t)0, raw, sizeof(raw), &port, &port4,
	        &ref));
	check_built(&b, "[-1, -9223372036854775808, 9223372036854775807, 255,"
	                " 18446744073709551615, 1.5, -0.0, ok, '日本', '', [],"
	                " \"abc\", <<1,2,3>>, <<>>, {1,[]},"
	                " erlang:binary_to_term(<<131,89,119,3,\"n@h\",5:32,"
	                "2:32>>),"
	                " erlang:binary_to_term(<<131,120,119,3,\"n@h\","
	                "1099511627776:64,3:32>>),"
	                " erlang:binary_to_term(<<131,90,0,3,119,3,\"n@h\","
	                "9:32,1:32,2:32,3:32>>)]");
	/* A list of small integers built from directives is a string. */
	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(&b, "[~i, ~i | \"c\"]", (int64_t)'a',
	                         (int64_t)'b'));
	check_built(&b, "\"abc\"");
	/* Map keys from directives: sorted, duplicates merged. */
	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(&b, "#{~a => 1, b => 2, a => ~i}", "b",
	                         (int64_t)3));
	check_built(&b, "#{a => 3, b => 2}");
	straw_builder_fini(&b);
}

/* Literals of every kind, no directive: same bytes as the text parser. */
CASE(build_literals)
{
	static const char *const texts[] = {
	        "0",
	        "-7",
	        "16#FFFFFFFFFFFFFFFFFFFF",
	        "1.0e300",
	        "$a",
	        "ok",
	        "'Hello'",
	        "\"abc\"",
	        "[1,2|3]",
	        "{a,{b,[c]}}",
	        "#{k => v, 1 => 2}",
	        "<<1,2:3>>",
	        "<<\"ü\"/utf8>>",
	        "fun lists:map/2",
	        "[]",
	        "{}",
	        "#{}",
	        "<<>>",
	};
	size_t i;

	for (i = 0; i < TU_LEN(texts); i++) {
		straw_builder b;
		straw_builder_init(&b);
		CHECK_OK(straw_build_fmt(&b, texts[i]));
		check_built(&b, texts[i]);
		straw_builder_fini(&b);
	}
}

/* Builds text as a format and checks the bytes equal the text parser's
 * (which always normalizes). */
static void
check_same_as_parser(const char *text, size_t len)
{
	straw_buf want = STRAW_BUF_INIT;
	straw_builder b;
	char *fmt = malloc(len + 1);

	memcpy(fmt, text, len);
	fmt[len] = '\0';
	CHECK_OK(straw_term_from_text(text, len, &want, NULL));
	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(&b, fmt));
	if (b.buf.len != want.len || memcmp(b.buf.data, want.data, want.len))
		fprintf(stderr, "  format %.200s\n", fmt);
	CHECK_MEM(b.buf.data, b.buf.len, want.data, want.len);
	straw_builder_fini(&b);
	straw_buf_fini(&want);
	free(fmt);
}

/* Containers shrunk as they close give canonical bytes without
 * normalizing: compared with the parser on tricky shapes and on every
 * literal line of the OTP vectors. */
CASE(build_canonical_shapes)
{
	static const char *const texts[] = {
	        "{[1,2],{3,[4]}}",
	        "[[1,2],[3|4]]",
	        "[1,2|[]]",
	        "[[]]",
	        "{[]}",
	        "[\"ab\", \"cd\"]",
	        "[1, 256]",
	        "[1, -1]",
	        "[a, 1]",
	        "[1 | 2]",
	        "[1 | \"a\"]",
	        "#{a => [1,2]}",
	        "[#{b => 1, a => 2}]",
	        "{{{}}}",
	        "[{1}, [2], \"3\"]",
	        "<<1,2:3>>",
	        "{-1, 255, 256}",
	        "[0, 255]",
	        "\"日本\"",
	        "[$a, 1000]",
	};
	straw_buf big = STRAW_BUF_INIT;
	FILE *f;
	char *line = NULL;
	size_t cap = 0, i;
	ssize_t n;
	int literal = 0;

	for (i = 0; i < TU_LEN(texts); i++)
		check_same_as_parser(texts[i], strlen(texts[i]));
	/* 256- and 255-element tuples, a 65535- and a 65536-byte list. */
	CHECK_OK(straw_buf_puts(&big, "{0"));
	for (i = 1; i < 256; i++)
		CHECK_OK(straw_buf_puts(&big, ",1"));
	CHECK_OK(straw_buf_puts(&big, "}"));
	check_same_as_parser((char *)big.data, big.len);
	big.len = 0;
	CHECK_OK(straw_buf_puts(&big, "{0"));
	for (i = 1; i < 255; i++)
		CHECK_OK(straw_buf_puts(&big, ",1"));
	CHECK_OK(straw_buf_puts(&big, "}"));
	check_same_as_parser((char *)big.data, big.len);
	big.len = 0;
	CHECK_OK(straw_buf_puts(&big, "[7"));
	for (i = 1; i < 65535; i++)
		CHECK_OK(straw_buf_puts(&big, ",7"));
	CHECK_OK(straw_buf_puts(&big, "]"));
	check_same_as_parser((char *)big.data, big.len);
	big.len--;
	CHECK_OK(straw_buf_puts(&big, ",7]"));
	check_same_as_parser((char *)big.data, big.len);
	straw_buf_fini(&big);
	f = fopen(STRAW_SOURCE_DIR "/tests/data/otp25-vectors.txt", "r");
	CHECK(f != NULL);
	while ((n = getline(&line, &cap, f)) > 0) {
		char *tab = strchr(line, '\t');
		straw_buf probe = STRAW_BUF_INIT;
		if (line[0] == '%' || tab == NULL)
			continue;
		if (straw_term_from_text(line, (size_t)(tab - line), &probe,
		                         NULL) == 0) {
			check_same_as_parser(line, (size_t)(tab - line));
			literal++;
		}
		straw_buf_fini(&probe);
	}
	free(line);
	fclose(f);
	CHECK_EQ(literal, 46);
}

/* Inside a term being built: the format writes one term at the end. */
CASE(build_nested)
{
	straw_builder b;

	straw_builder_init(&b);
	CHECK_OK(straw_build_tuple(&b, 3));
	CHECK_OK(straw_build_fmt(&b, "[~i]", (int64_t)1));
	CHECK_OK(straw_build_atomz(&b, "x"));
	CHECK_OK(straw_build_fmt(&b, "#{b => 1, a => 2}"));
	check_built(&b, "{[1], x, #{a => 2, b => 1}}");
	straw_builder_fini(&b);
}

/* Errors: the code, nothing written, and the error sticks. */
CASE(build_errors)
{
	static const uint8_t bad[] = {'h', 2, 'a'};
	straw_erl_ref ref = {"n", 1, 0, {0}};
	uint8_t *out;
	size_t len;
	straw_builder b;

	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "{a, ~z}", (int64_t)1), STRAW_EFORMAT);
	CHECK_EQ(b.buf.len, 1);
	CHECK_RC(straw_build_int(&b, 1), STRAW_EFORMAT);
	CHECK_RC(straw_build_fmt(&b, "1"), STRAW_EFORMAT);
	CHECK_RC(straw_builder_finish(&b, &out, &len), STRAW_EFORMAT);
	CHECK(out == NULL);
	straw_builder_fini(&b);

	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "{a, "), STRAW_EFORMAT);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "~f", NAN), STRAW_ERANGE);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "~f", INFINITY), STRAW_ERANGE);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "~a", "\xff"), STRAW_EBADATOM);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "~a", (const char *)NULL), -EINVAL);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "~t", bad, sizeof(bad)), STRAW_ETRUNC);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "~r", &ref), STRAW_ERANGE);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "X"), STRAW_EFORMAT);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, NULL), STRAW_EFORMAT);
	straw_builder_fini(&b);
}

/* Formats of tuples, atoms, numbers and scalar directives run compiled
 * from a per-thread cache after their first use: the same bytes as the
 * parser, for new values every time, for more formats than the cache
 * holds, for a format whose text changed at the same address, and the
 * same errors. */
CASE(build_cache)
{
	static const int64_t values[] = {5, -70000, INT64_MAX, 0};
	static const char *const atoms[] = {"x", "x y", "日本", "ok"};
	char texts[12][40], want[160];
	uint64_t runs = strawi_fmt_cached_runs();
	straw_builder b;
	int i, k;

	for (k = 0; k < 12; k++)
		snprintf(texts[k], sizeof(texts[k]),
		         "{t%d, ~i, {~a, 2.5}, -%d}", k, k);
	for (i = 0; i < 4; i++) {
		for (k = 0; k < 12; k++) {
			straw_builder_init(&b);
			CHECK_OK(straw_build_fmt(&b, texts[k], values[i],
			                         atoms[i]));
			snprintf(want, sizeof(want),
			         "{t%d, %" PRId64 ", {'%s', 2.5}, -%d}", k,
			         values[i], atoms[i], k);
			check_built(&b, want);
		}
	}
	/* Compiled on first use, then run from the cache: 12 formats in 8
	 * slots are compiled again when they come back, but every build,
	 * the compiling one included, ran compiled. */
	CHECK_EQ(strawi_fmt_cached_runs() - runs, 48);
	/* Not compiled: a list, a map, ~t; built by the parser. */
	runs = strawi_fmt_cached_runs();
	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(&b, "{l, [~i]}", (int64_t)1));
	check_built(&b, "{l, [1]}");
	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(&b, "#{~a => 1}", "k"));
	check_built(&b, "#{k => 1}");
	CHECK_EQ(strawi_fmt_cached_runs(), runs);
	/* The text at the same address changes. */
	for (k = 0; k < 3; k++) {
		snprintf(texts[0], sizeof(texts[0]), "{%c, ~i}", 'a' + k);
		straw_builder_init(&b);
		CHECK_OK(straw_build_fmt(&b, texts[0], (int64_t)k));
		snprintf(want, sizeof(want), "{%c, %d}", 'a' + k, k);
		check_built(&b, want);
	}
	/* Every directive the compiled form takes, twice. */
	for (i = 0; i < 2; i++) {
		straw_erl_ref ref = {"n@h", 9, 1, {7, 0, 0, 0, 0}};
		straw_builder_init(&b);
		CHECK_OK(straw_build_fmt(&b, "{ping, ~p, ~u, ~f, ~s, ~b, ~r}",
		                         &test_pid, UINT64_MAX, -0.5, "hi", "z",
		                         (size_t)1, &ref));
		check_built(&b,
		            "{ping, erlang:binary_to_term(<<131,88,119,13,"
		            "\"nonode@nohost\",85:32,0:32,0:32>>), "
		            "18446744073709551615, -0.5, \"hi\", <<\"z\">>, "
		            "erlang:binary_to_term(<<131,90,0,1,119,3,"
		            "\"n@h\",9:32,7:32>>)}");
	}
	/* Errors: the builder keeps its bytes and the error, and the next
	 * call with the same format is fine. */
	for (i = 0; i < 2; i++) {
		straw_builder_init(&b);
		CHECK_OK(straw_build_atomz(&b, "first"));
		CHECK_RC(straw_build_fmt(&b, "{e, ~a, ~f}", (const char *)NULL,
		                         1.0),
		         -EINVAL);
		CHECK_EQ(b.buf.len, 8); /* 131 and 'first' */
		CHECK_RC(straw_build_int(&b, 1), -EINVAL);
		straw_builder_fini(&b);
		straw_builder_init(&b);
		CHECK_RC(straw_build_fmt(&b, "{e, ~a, ~f}", "ok", NAN),
		         STRAW_ERANGE);
		CHECK_EQ(b.buf.len, 1);
		straw_builder_fini(&b);
		straw_builder_init(&b);
		CHECK_OK(straw_build_fmt(&b, "{e, ~a, ~f}", "ok", 1.0));
		check_built(&b, "{e, ok, 1.0}");
	}
}

/* Matches text's term against pattern; returns the result. */
static int
match_text(const char *text, const char *pattern)
{
	size_t len;
	uint8_t *t = etf(text, &len);
	int rc;

	if (t == NULL)
		return -9999;
	rc = straw_term_match(t, len, pattern);
	straw_free(t);
	return rc;
}

CASE(match_basic)
{
	size_t len;
	uint8_t *t = etf("{pong, 42}", &len);
	int64_t i = -5;

	CHECK_EQ(straw_term_match(t, len, "{pong, ~i}", &i), 1);
	CHECK_EQ(i, 42);
	i = -5;
	CHECK_EQ(straw_term_match(t, len, "{ping, ~i}", &i), 0);
	CHECK_EQ(i, -5);
	CHECK_EQ(straw_term_match(t, len, "{pong, ~i, _}", &i), 0);
	CHECK_EQ(straw_term_match(t, len, "{pong}", &i), 0);
	CHECK_EQ(straw_term_match(t, len, "{_, _}"), 1);
	CHECK_EQ(straw_term_match(t, len, "_"), 1);
	CHECK_EQ(straw_term_match(t, len, "{pong, 42}"), 1);
	CHECK_EQ(straw_term_match(t, len, "{pong, 42.0}"), 0);
	CHECK_EQ(straw_term_match(t, len, "[pong, 42]"), 0);
	CHECK_EQ(i, -5);
	straw_free(t);
	/* Values that do not fit make the match fail. */
	t = etf("{pong, 16#1_0000_0000_0000_0000}", &len);
	CHECK_EQ(straw_term_match(t, len, "{pong, ~i}", &i), 0);
	CHECK_EQ(straw_term_match(t, len, "{pong, ~u}", &i), 0);
	CHECK_EQ(straw_term_match(t, len, "{pong, 16#10000000000000000}"), 1);
	CHECK_EQ(straw_term_match(t, len, "{pong, 18446744073709551616}"), 1);
	CHECK_EQ(straw_term_match(t, len, "{pong, -18446744073709551616}"), 0);
	CHECK_EQ(straw_term_match(t, len, "{pong, 18446744073709551617}"), 0);
	straw_free(t);
}

CASE(match_captures)
{
	size_t len, blen, tlen;
	uint8_t *t = etf("{-3, 18446744073709551615, 2.5, 'héllo', \"str\", "
	                 "<<1,2>>, {x, [y]}, "
	                 "erlang:binary_to_term(<<131,88,119,3,\"a@b\","
	                 "1:32,2:32,3:32>>), "
	                 "erlang:binary_to_term(<<131,89,119,3,\"a@b\","
	                 "7:32,3:32>>), "
	                 "erlang:binary_to_term(<<131,90,0,2,119,3,\"a@b\","
	                 "3:32,10:32,11:32>>), []}",
	                 &len);
	int64_t i;
	uint64_t u;
	double d;
	char atom[16], str[8], empty[1];
	const uint8_t *bp, *tp;
	straw_erl_pid pid;
	straw_erl_port port;
	straw_erl_ref ref;

	CHECK_EQ(straw_term_match(
	                 t, len, "{~i, ~u, ~f, ~a, ~s, ~b, ~t, ~p, ~o, ~r, ~s}",
	                 &i, &u, &d, atom, sizeof(atom), str, sizeof(str), &bp,
	                 &blen, &tp, &tlen, &pid, &port, &ref, empty,
	                 sizeof(empty)),
	         1);
	CHECK_EQ(i, -3);
	CHECK_EQ_U(u, UINT64_MAX);
	CHECK(d == 2.5);
	CHECK_STR(atom, "héllo");
	CHECK_STR(str, "str");
	CHECK_MEM(bp, blen, "\1\2", 2);
	CHECK(bp > t && bp < t + len); /* in place */
	CHECK_MEM(tp, tlen, "\x68\x02\x77\x01x\x6C\0\0\0\x01\x77\x01y\x6A", 14);
	CHECK_STR(pid.node, "a@b");
	CHECK_EQ(pid.id, 1);
	CHECK_EQ(pid.serial, 2);
	CHECK_EQ(pid.creation, 3);
	CHECK_STR(port.node, "a@b");
	CHECK_EQ_U(port.id, 7);
	CHECK_EQ(port.creation, 3);
	CHECK_EQ(ref.len, 2);
	CHECK_EQ(ref.creation, 3);
	CHECK_EQ(ref.id[0], 10);
	CHECK_EQ(ref.id[1], 11);
	CHECK_STR(empty, "");
	/* Buffers too small: STRAW_ERANGE, nothing written. */
	i = 99;
	CHECK_RC(straw_term_match(t, len, "{~i, _, _, ~a, _, _, _, _, _, _, _}",
	                          &i, atom, (size_t)6),
	         STRAW_ERANGE);
	CHECK_EQ(i, 99);
	CHECK_RC(straw_term_match(t, len, "{_, _, _, _, ~s, _, _, _, _, _, _}",
	                          str, (size_t)3),
	         STRAW_ERANGE);
	/* Type mismatches fail the match. */
	CHECK_EQ(straw_term_match(t, len, "{~f, _, _, _, _, _, _, _, _, _, _}",
	                          &d),
	         0);
	CHECK_EQ(straw_term_match(t, len, "{_, _, _, ~s, _, _, _, _, _, _, _}",
	                          str, sizeof(str)),
	         0);
	CHECK_EQ(straw_term_match(t, len, "{_, _, _, _, _, _, ~p, _, _, _, _}",
	                          &pid),
	         0);
	straw_free(t);
	/* ~s on a list that is not of bytes, ~b on a bit binary. */
	CHECK_EQ(match_text("[256]", "~s"), 0);
	CHECK_EQ(match_text("<<1:3>>", "~b"), 0);
}

CASE(match_literals)
{
	static const struct {
		const char *term, *pattern;
		int want;
	} t[] = {
	        {"ok", "ok", 1},
	        {"ok", "'ok'", 1},
	        {"ok", "okay", 0},
	        {"'日本'", "'日本'", 1},
	        {"'a\\nb'", "'a\\nb'", 1},
	        {"-5", "-5", 1},
	        {"-5", "5", 0},
	        {"97", "$a", 1},
	        {"-97", "-$a", 1},
	        {"255", "16#FF", 1},
	        {"1.5", "1.5", 1},
	        {"-1.5", "-1.5", 1},
	        {"1.0", "1", 0},
	        {"\"abc\"", "\"abc\"", 1},
	        {"\"abc\"", "\"ab\" \"c\"", 1},
	        {"\"abc\"", "[$a, $b, $c]", 1},
	        {"[97,98,99]", "\"abc\"", 1},
	        {"\"abc\"", "\"abd\"", 0},
	        {"\"abc\"", "\"ab\"", 0},
	        {"\"ab\"", "\"abc\"", 0},
	        {"[]", "\"\"", 1},
	        {"[]", "[]", 1},
	        {"[a]", "[]", 0},
	        {"\"日本\"", "\"日本\"", 1},
	        {"[1,2,3]", "[1|[2,3]]", 1},
	        {"[1,2,3]", "[1|\"\\2\\3\"]", 1},
	        {"[1,2,3]", "[~i|_]", -1}, /* no capture argument: see below */
	        {"[1,2,3]", "[_|_]", 1},
	        {"[1,2,3]", "[_,_,_|_]", 1},
	        {"[1,2,3]", "[_,_,_,_|_]", 0},
	        {"[1,2|3]", "[1,2|3]", 1},
	        {"[1,2|3]", "[1,2|4]", 0},
	        {"[1,2|3]", "[1,2]", 0},
	        {"[1,2|3]", "[1|_]", 1},
	        {"{}", "{}", 1},
	        {"{a}", "{}", 0},
	        {"{a,{b,c}}", "{a,{b,_}}", 1},
	        {"{a,{b,c}}", "{a,{b}}", 0},
	        {"#{a => 1, b => 2}", "#{a => 1}", 1},
	        {"#{a => 1, b => 2}", "#{b := 2, a := 1}", 1},
	        {"#{a => 1, b => 2}", "#{a => 2}", 0},
	        {"#{a => 1, b => 2}", "#{c => _}", 0},
	        {"#{a => 1}", "#{}", 1},
	        {"[]", "#{}", 0},
	        {"#{{k,1} => [x]}", "#{{k,_} => [_]}", 1},
	        {"<<1,2,3>>", "<<1,2,3>>", 1},
	        {"<<1,2,3>>", "<<1,2>>", 0},
	        {"<<1,2>>", "<<1,2,3>>", 0},
	        {"<<\"abc\">>", "<<\"abc\">>", 1},
	        {"<<\"ü\"/utf8>>", "<<\"ü\"/utf8>>", 1},
	        {"<<1,2:3>>", "<<1,2:3>>", 1},
	        {"<<1,2:3>>", "<<1,2:4>>", 0},
	        {"<<>>", "<<>>", 1},
	        {"<<1:3, -1:30>>", "<<1:3, -1:30>>", 1},
	        {"<<1:3, -1:30>>", "<<1:3, -1:29, 0:1>>", 0},
	        {"<<3:2, -1:100, 1:1>>", "<<3:2, -1:100, 1:1>>", 1},
	        {"<<3:2, -1:100, 1:1>>", "<<3:2, -1:100, 1:1, 0:1>>", 0},
	        {"fun lists:map/2", "_", 1},
	        {"{a, b}", "{a, _Ignored}", 1},
	};
	size_t i;

	for (i = 0; i < TU_LEN(t); i++) {
		int rc;
		if (t[i].want < 0)
			continue;
		rc = match_text(t[i].term, t[i].pattern);
		if (rc != t[i].want)
			fprintf(stderr, "  %s ~ %s\n", t[i].term, t[i].pattern);
		CHECK_EQ(rc, t[i].want);
	}
}

CASE(match_lists_and_maps)
{
	size_t len, tl;
	uint8_t *t = etf("[1,2,x|y]", &len);
	const uint8_t *tp;
	int64_t a = 0, b = 0;

	CHECK_EQ(straw_term_match(t, len, "[~i, ~i | _]", &a, &b), 1);
	CHECK_EQ(a, 1);
	CHECK_EQ(b, 2);
	CHECK_EQ(straw_term_match(t, len, "[_, _, _ | ~t]", &tp, &tl), 1);
	CHECK_MEM(tp, tl, "\x77\x01y", 3);
	CHECK_EQ(straw_term_match(t, len, "[_, _ | ~t]", &tp, &tl), 0);
	straw_free(t);
	t = etf("#{a => 1, b => [2]}", &len);
	CHECK_EQ(straw_term_match(t, len, "#{b => [~i]}", &a), 1);
	CHECK_EQ(a, 2);
	CHECK_EQ(straw_term_match(t, len, "#{a := ~i, b := _}", &a), 1);
	CHECK_EQ(a, 1);
	CHECK_RC(straw_term_match(t, len, "#{~i => 1}", &a), STRAW_EFORMAT);
	straw_free(t);
	/* ~t of an element of a list stored as a string has no bytes. */
	t = etf("\"ab\"", &len);
	CHECK_RC(straw_term_match(t, len, "[~t | _]", &tp, &tl), STRAW_ETYPE);
	straw_free(t);
}

CASE(match_errors)
{
	size_t len;
	uint8_t *t = etf("{pong, 1}", &len);
	static const uint8_t compressed[] = {131, 80, 0, 0, 0,  1, 120, 156,
	                                     75,  4,  0, 0, 98, 0, 98};
	static const uint8_t truncated[] = {131, 104, 2, 97};
	char deep[200];
	int64_t i = 7;
	int k;

	/* Bad patterns are errors whatever the term. */
	CHECK_RC(straw_term_match(t, len, "{pong, ~i", &i), STRAW_EFORMAT);
	CHECK_RC(straw_term_match(t, len, "{ping, ~i", &i), STRAW_EFORMAT);
	CHECK_RC(straw_term_match(t, len, "{ping, ~z}"), STRAW_EFORMAT);
	CHECK_RC(straw_term_match(t, len, "{pong, X}"), STRAW_EFORMAT);
	CHECK_RC(straw_term_match(t, len, "[a, b] c"), STRAW_EFORMAT);
	CHECK_RC(straw_term_match(t, len, ""), STRAW_EFORMAT);
	CHECK_RC(straw_term_match(t, len, NULL), STRAW_EFORMAT);
	CHECK_RC(straw_term_match(t, len,
	                          "{ping, 1234567890123456789012345678901234567"
	                          "890123456789012345678901234567890123456789"
	                          "0123456789012345678901234567890123456789012"
	                          "3456789012345678901234567890123456789012345"
	                          "678901234567890123456789012345678901234567"
	                          "8901234567890123456789012345678901234567890"
	                          "12345678901234567890}"),
	         STRAW_EFORMAT);
	CHECK_EQ(i, 7);
	/* Nesting: 32 levels (31 tuples around `_`) are fine, 33 not. */
	for (k = 0; k < 32; k++) {
		deep[k] = '{';
		deep[33 + k] = '}';
	}
	deep[32] = '_';
	deep[65] = '\0';
	CHECK_RC(straw_term_match(t, len, deep), STRAW_EFORMAT);
	deep[64] = '\0';
	CHECK_EQ(straw_term_match(t, len, deep + 1), 0);
	/* More than STRAW_MATCH_MAX_CAPTURES directives. */
	{
		char many[200];
		int o = 0;
		many[o++] = '[';
		for (k = 0; k < 33; k++)
			o += sprintf(many + o, k ? ",~i" : "~i");
		many[o++] = ']';
		many[o] = '\0';
		/* The arguments of the 32 that fit: taken before the 33rd
		 * is refused. */
#define I4_  &i, &i, &i, &i
#define I32_ I4_, I4_, I4_, I4_, I4_, I4_, I4_, I4_
		CHECK_RC(straw_term_match(t, len, many, I32_), STRAW_EFORMAT);
#undef I32_
#undef I4_
	}
	/* Bad terms. */
	CHECK_RC(straw_term_match(compressed, sizeof(compressed), "_"),
	         STRAW_EBADTAG);
	CHECK(straw_term_match(truncated, sizeof(truncated), "{_, _}") < 0);
	CHECK_RC(straw_term_match(t, 0, "_"), STRAW_EVERSION);
	straw_free(t);
}

static size_t alloc_calls;

static void *
counting_realloc(void *ctx, void *p, size_t n)
{
	alloc_calls++;
	if (n == 0) {
		free(p);
		return NULL;
	}
	return realloc(p, n);
}

/* Matching allocates nothing, whether it matches, fails or errs. */
CASE(match_no_alloc)
{
	straw_allocator a = {counting_realloc, NULL};
	size_t len, before;
	uint8_t *t = etf("{msg, #{a => [1,2,3], b => <<\"xyz\">>}, "
	                 "16#123456789ABCDEF0123, \"text\", 2.5}",
	                 &len);
	int64_t i;
	char s[16];
	const uint8_t *bp;
	size_t bl;
	int k;

	straw_set_allocator(&a);
	before = alloc_calls;
	for (k = 0; k < 1000; k++) {
		CHECK_EQ(straw_term_match(t, len,
		                          "{msg, #{a := [_, ~i | _], b := ~b}, "
		                          "16#123456789ABCDEF0123, ~s, 2.5}",
		                          &i, &bp, &bl, s, sizeof(s)),
		         1);
		CHECK_EQ(straw_term_match(t, len, "{msg, #{c := _}, _, _, _}"),
		         0);
		CHECK_RC(straw_term_match(t, len, "{msg, ~q}"), STRAW_EFORMAT);
	}
	CHECK_EQ(alloc_calls, before);
	straw_set_allocator(NULL);
	CHECK_EQ(i, 2);
	CHECK_STR(s, "text");
	CHECK_MEM(bp, bl, "xyz", 3);
	straw_free(t);
}

CHECK_MAIN(build_basic, build_directives, build_literals,
           build_canonical_shapes, build_nested, build_errors, build_cache,
           match_basic, match_captures, match_literals, match_lists_and_maps,
           match_errors, match_no_alloc)
