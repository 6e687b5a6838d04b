/*
 * Tests of what format strings do with straw's own pids and references
 * (~P, ~R, the <C.P> literal), bound values (~=x), the argument-list
 * matchers a receive over several patterns uses (strawi_term_match_ap,
 * strawi_term_match_skip), and the text of a ~t capture.
 */
#include <errno.h>
#include <stdarg.h>

#include <straw/alloc.h>
#include <straw/pid.h>
#include <straw/term.h>
#include <straw/term_text.h>

#include "term/fmt.h"
#include "term/node.h"
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

/* Runs the tests as container 5 "app". */
static void
in_container(void)
{
	strawi_node_set_container(5, "app");
}

/* The term {Tag, Encoded} with Encoded given by enc (no version byte). */
static uint8_t *
tagged(const char *tag, const straw_buf *enc, size_t *len)
{
	straw_builder b;
	uint8_t *out;

	straw_builder_init(&b);
	straw_build_tuple(&b, 2);
	straw_build_atomz(&b, tag);
	straw_build_raw(&b, enc->data, enc->len);
	CHECK_OK(straw_builder_finish(&b, &out, len));
	return out;
}

CASE(build_straw_pid_and_ref)
{
	straw_pid self = {0, 0, 42}, other = {0, 9, 7};
	straw_ref ref = {0, 0, 0, 0x123456789abcdefULL};
	straw_buf enc = STRAW_BUF_INIT;
	straw_erl_pid e;
	straw_builder b;
	uint8_t *want, *got;
	size_t wl, gl;
	int k;

	in_container();
	straw_builder_init(&b);
	/* ~P writes what straw_pid_encode writes; ~p of the converted
	 * straw_erl_pid the same; ~P twice more from the compiled cache. */
	CHECK_OK(straw_pid_encode(&enc, self));
	want = tagged("a", &enc, &wl);
	for (k = 0; k < 3; k++) {
		CHECK_OK(straw_build_fmt(&b, "{a, ~P}", self));
		CHECK_OK(straw_builder_finish(&b, &got, &gl));
		CHECK_MEM(got, gl, want, wl);
		straw_free(got);
		straw_builder_init(&b);
	}
	CHECK_OK(straw_pid_to_erl(self, &e));
	CHECK_OK(straw_build_fmt(&b, "{a, ~p}", &e));
	CHECK_OK(straw_builder_finish(&b, &got, &gl));
	CHECK_MEM(got, gl, want, wl);
	straw_free(got);
	straw_free(want);
	/* Another container's pid: node c9@host, creation 9. */
	enc.len = 0;
	CHECK_OK(straw_pid_encode(&enc, other));
	want = tagged("a", &enc, &wl);
	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(&b, "{a, [~P]}", other));
	CHECK_OK(straw_builder_finish(&b, &got, &gl));
	CHECK_EQ(straw_term_match(got, gl, "{a, [~=P]}", other), 1);
	CHECK_EQ(straw_term_match(got, gl, "{a, [~=P]}", self), 0);
	straw_free(got);
	straw_free(want);
	/* ~R writes what straw_ref_encode writes. */
	enc.len = 0;
	CHECK_OK(straw_ref_encode(&enc, ref));
	want = tagged("r", &enc, &wl);
	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(&b, "{r, ~R}", ref));
	CHECK_OK(straw_builder_finish(&b, &got, &gl));
	CHECK_MEM(got, gl, want, wl);
	straw_free(got);
	straw_free(want);
	/* Outside a container a short pid names nothing. */
	strawi_node_set_container(0, NULL);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "{a, ~P}", self), STRAW_ENOTCONTAINER);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "{a, [~R]}", ref), STRAW_ENOTCONTAINER);
	straw_builder_fini(&b);
	/* Bound forms are for patterns. */
	straw_builder_init(&b);
	CHECK_RC(straw_build_fmt(&b, "{a, ~=i}", (int64_t)1), STRAW_EFORMAT);
	straw_builder_fini(&b);
	straw_buf_fini(&enc);
}

CASE(capture_straw_pid_and_ref)
{
	straw_pid self = {0, 0, 42}, got = {1, 1, 1};
	straw_ref ref = {0, 0, 0, 0xfedcba9876543210ULL}, rgot;
	straw_buf enc = STRAW_BUF_INIT;
	uint8_t *t;
	size_t len;

	in_container();
	CHECK_OK(straw_pid_encode(&enc, self));
	t = tagged("a", &enc, &len);
	CHECK_EQ(straw_term_match(t, len, "{a, ~P}", &got), 1);
	CHECK(straw_pid_equal(got, self));
	CHECK_EQ(got.machine, 0); /* short: this container's */
	straw_free(t);
	/* PID_EXT of another node: machine from its host, container from
	 * its creation. */
	t = etf("{a, erlang:binary_to_term(<<131,103,119,8,\"x@host-9\","
	        "7:32,0:32,3>>)}",
	        &len);
	CHECK_EQ(straw_term_match(t, len, "{a, ~P}", &got), 1);
	CHECK_EQ(got.container, 3);
	CHECK_EQ(got.process, 7);
	CHECK(got.machine != 0 && got.machine != strawi_node_self()->machine);
	straw_free(t);
	enc.len = 0;
	CHECK_OK(straw_ref_encode(&enc, ref));
	t = tagged("r", &enc, &len);
	CHECK_EQ(straw_term_match(t, len, "{r, ~R}", &rgot), 1);
	CHECK(straw_ref_equal(rgot, ref));
	straw_free(t);
	/* An OTP reference (a third word of 32 bits) is no straw_ref. */
	t = etf("{r, erlang:binary_to_term(<<131,90,0,3,119,3,\"a@b\",1:32,"
	        "1:32,2:32,4294967295:32>>)}",
	        &len);
	rgot.id = 77;
	CHECK_EQ(straw_term_match(t, len, "{r, ~R}", &rgot), 0);
	CHECK_EQ_U(rgot.id, 77);
	straw_free(t);
	/* A non-pid does not match ~P. */
	t = etf("{a, 1}", &len);
	CHECK_EQ(straw_term_match(t, len, "{a, ~P}", &got), 0);
	straw_free(t);
	straw_buf_fini(&enc);
	strawi_node_set_container(0, NULL);
}

/* Each row: text of a term, then whether it matches the bound pattern. */
CASE(bound_scalars)
{
	static const uint8_t bin[] = {1, 2, 3};
	size_t len;
	uint8_t *t;
	char a[16];
	int64_t n;

	t = etf("{reply, 7, 2.5, -1, hello, \"abc\", <<1,2,3>>, []}", &len);
	CHECK_EQ(straw_term_match(t, len,
	                          "{reply, ~=i, ~=f, ~=i, ~=a, ~=s, ~=b, ~=s}",
	                          (int64_t)7, 2.5, (int64_t)-1, "hello", "abc",
	                          (const void *)bin, sizeof(bin), ""),
	         1);
	/* Each value changed alone: no match. */
	CHECK_EQ(straw_term_match(t, len, "{reply, ~=i, _, _, _, _, _, _}",
	                          (int64_t)8),
	         0);
	CHECK_EQ(
	        straw_term_match(t, len, "{reply, _, ~=f, _, _, _, _, _}", 2.0),
	        0);
	CHECK_EQ(
	        straw_term_match(t, len, "{reply, ~=f, _, _, _, _, _, _}", 7.0),
	        0); /* 7 is not 7.0 */
	CHECK_EQ(straw_term_match(t, len, "{reply, _, _, ~=u, _, _, _, _}",
	                          (uint64_t)1),
	         0);
	CHECK_EQ(straw_term_match(t, len, "{reply, ~=u, _, _, _, _, _, _}",
	                          (uint64_t)7),
	         1);
	CHECK_EQ(straw_term_match(t, len, "{reply, _, _, _, ~=a, _, _, _}",
	                          "hell"),
	         0);
	CHECK_EQ(straw_term_match(t, len, "{reply, _, _, _, _, ~=s, _, _}",
	                          "abd"),
	         0);
	CHECK_EQ(straw_term_match(t, len, "{reply, _, _, _, _, ~=s, _, _}",
	                          "ab"),
	         0);
	CHECK_EQ(straw_term_match(t, len, "{reply, _, _, _, _, _, ~=b, _}",
	                          (const void *)bin, (size_t)2),
	         0);
	CHECK_EQ(
	        straw_term_match(t, len, "{reply, _, _, _, _, _, _, ~=s}", "x"),
	        0);
	/* A bound value between captures: every argument in order. */
	CHECK_EQ(straw_term_match(t, len, "{reply, ~i, _, ~=i, ~a, _, _, _}",
	                          &n, (int64_t)-1, a, sizeof(a)),
	         1);
	CHECK_EQ(n, 7);
	CHECK_STR(a, "hello");
	straw_free(t);
	/* Other encodings of the same values: INTEGER_EXT 7, Latin-1 atom,
	 * a LIST of bytes, -0.0 for 0.0. */
	{
		static const uint8_t odd[] = {
		        131, 104, 4,   98, 0, 0, 0, 7,  100, 0,  2,
		        104, 105, 108, 0,  0, 0, 2, 97, 97,  97, 98,
		        106, 70,  128, 0,  0, 0, 0, 0,  0,   0};
		CHECK_EQ(straw_term_match(odd, sizeof(odd),
		                          "{~=i, ~=a, ~=s, ~=f}", (int64_t)7,
		                          "hi", "ab", 0.0),
		         1);
	}
	/* NULL values are errors, and every argument is still taken. */
	t = etf("{a, b}", &len);
	CHECK_RC(straw_term_match(t, len, "{~=a, ~a}", (const char *)NULL, a,
	                          sizeof(a)),
	         -EINVAL);
	straw_free(t);
}

CASE(bound_terms_and_identifiers)
{
	straw_pid self = {0, 0, 42}, other = {0, 9, 42};
	straw_ref ref = {0, 0, 0, 0x123456789abcdefULL}, ref2 = ref;
	straw_erl_pid e;
	straw_erl_ref er;
	straw_erl_port port = {"a@b", 5, 1};
	straw_buf enc = STRAW_BUF_INIT;
	const uint8_t *body;
	size_t len, blen;
	uint8_t *t, *sub;

	in_container();
	/* ~=P: this pid, not another container's of the same number. */
	CHECK_OK(straw_pid_encode(&enc, self));
	t = tagged("a", &enc, &len);
	CHECK_EQ(straw_term_match(t, len, "{a, ~=P}", self), 1);
	CHECK_EQ(straw_term_match(t, len, "{a, ~=P}", other), 0);
	CHECK_OK(straw_pid_to_erl(self, &e));
	CHECK_EQ(straw_term_match(t, len, "{a, ~=p}", &e), 1);
	e.serial = 1;
	CHECK_EQ(straw_term_match(t, len, "{a, ~=p}", &e), 0);
	/* The literal <5.42> is this pid too, <5.43> is not. */
	CHECK_EQ(straw_term_match(t, len, "{a, <5.42>}"), 1);
	CHECK_EQ(straw_term_match(t, len, "{a, <5.43>}"), 0);
	CHECK_RC(straw_term_match(t, len, "{a, <5.>}"), STRAW_EFORMAT);
	straw_free(t);
	/* ~=R: the call-with-monitor reply, {reply, Ref, Body}. */
	enc.len = 0;
	CHECK_OK(straw_ref_encode(&enc, ref));
	{
		straw_builder b;
		straw_builder_init(&b);
		straw_build_fmt(&b, "{reply, ~R, {ok, 42}}", ref);
		CHECK_OK(straw_builder_finish(&b, &t, &len));
	}
	CHECK_EQ(
	        straw_term_match(t, len, "{reply, ~=R, ~t}", ref, &body, &blen),
	        1);
	{
		size_t sl;
		sub = etf("{ok, 42}", &sl);
		CHECK_MEM(body, blen, sub + 1, sl - 1);
		straw_free(sub);
	}
	ref2.id++;
	CHECK_EQ(straw_term_match(t, len, "{reply, ~=R, ~t}", ref2, &body,
	                          &blen),
	         0);
	CHECK_OK(straw_ref_to_erl(ref, &er));
	CHECK_EQ(straw_term_match(t, len, "{reply, ~=r, _}", &er), 1);
	er.id[2]++;
	CHECK_EQ(straw_term_match(t, len, "{reply, ~=r, _}", &er), 0);
	/* ~=t: the same bytes, or another encoding of the same term. */
	{
		static const uint8_t ok42[] = {104, 2,   119, 2,
		                               111, 107, 97,  42};
		static const uint8_t ok42b[] = {104, 2,  100, 0, 2, 111,
		                                107, 98, 0,   0, 0, 42};
		static const uint8_t ok43[] = {104, 2,   119, 2,
		                               111, 107, 97,  43};
		CHECK_EQ(straw_term_match(t, len, "{reply, _, ~=t}", ok42,
		                          sizeof(ok42)),
		         1);
		CHECK_EQ(straw_term_match(t, len, "{reply, _, ~=t}", ok42b,
		                          sizeof(ok42b)),
		         1);
		CHECK_EQ(straw_term_match(t, len, "{reply, _, ~=t}", ok43,
		                          sizeof(ok43)),
		         0);
	}
	straw_free(t);
	/* ~=o */
	t = etf("{p, "
	        "erlang:binary_to_term(<<131,89,119,3,\"a@b\",5:32,1:32>>)}",
	        &len);
	CHECK_EQ(straw_term_match(t, len, "{p, ~=o}", &port), 1);
	port.creation = 2;
	CHECK_EQ(straw_term_match(t, len, "{p, ~=o}", &port), 0);
	straw_free(t);
	/* In a map key pattern: the key given by value. */
	t = etf("#{alpha => 1, beta => 2, gamma => 3}", &len);
	{
		int64_t v = 0;
		CHECK_EQ(straw_term_match(t, len, "#{~=a := ~i}", "gamma", &v),
		         1);
		CHECK_EQ(v, 3);
		CHECK_EQ(straw_term_match(t, len, "#{~=a := ~i, beta := ~i}",
		                          "delta", &v, &v),
		         0);
		/* A capture in a key pattern is still refused. */
		CHECK_RC(straw_term_match(t, len, "#{~a := 1}", (char *)NULL,
		                          (size_t)0),
		         STRAW_EFORMAT);
	}
	straw_free(t);
	/* Outside a container ~=P of a short pid is an error. */
	strawi_node_set_container(0, NULL);
	t = etf("{a, <5.42>}", &len);
	CHECK_RC(straw_term_match(t, len, "{a, ~=P}", self),
	         STRAW_ENOTCONTAINER);
	straw_free(t);
	straw_buf_fini(&enc);
}

/* The receive the process layer builds: patterns and their arguments in
 * one list ending with NULL; returns the index of the first that matched,
 * -1 for none, or the error; the last argument must be the sentinel
 * 0x5EED, read after every pattern's arguments. */
static int
select_(const uint8_t *buf, size_t len, int *sentinel_ok, ...)
{
	va_list ap;
	const char *pat;
	int idx = -1, i = 0, rc = 0;

	va_start(ap, sentinel_ok);
	while ((pat = va_arg(ap, const char *)) != NULL) {
		if (idx < 0) {
			rc = strawi_term_match_ap(buf, len, pat, &ap);
			if (rc == 1)
				idx = i;
			else if (rc < 0)
				break;
		} else if ((rc = strawi_term_match_skip(pat, &ap)) != 0) {
			break;
		}
		i++;
	}
	if (pat == NULL)
		*sentinel_ok = va_arg(ap, int) == 0x5EED;
	va_end(ap);
	return rc < 0 ? rc : idx;
}

CASE(match_ap_several_patterns)
{
	straw_ref ref = {0, 0, 0, 99}, mon = {0, 0, 0, 100};
	const uint8_t *body = NULL, *reason = NULL;
	size_t blen = 0, rlen = 0, len;
	char name[16] = "";
	int64_t n = 0;
	straw_builder b;
	uint8_t *t;
	int ok = 0;

	in_container();
	straw_builder_init(&b);
	CHECK_OK(
	        straw_build_fmt(&b, "{'DOWN', ~R, process, <5.7>, boom}", mon));
	CHECK_OK(straw_builder_finish(&b, &t, &len));
	/* The second of three matches: its captures only; the third's
	 * arguments skipped; the sentinel found where it belongs. */
	CHECK_EQ(select_(t, len, &ok, "{reply, ~=R, ~t}", ref, &body, &blen,
	                 "{'DOWN', ~=R, process, _, ~t}", mon, &reason, &rlen,
	                 "{~a, ~i}", name, sizeof(name), &n, NULL, 0x5EED),
	         1);
	CHECK(ok);
	CHECK(body == NULL && blen == 0);
	CHECK(reason != NULL && rlen == 6); /* 'boom' */
	CHECK(memcmp(reason,
	             "\x77\x04"
	             "boom",
	             6) == 0);
	CHECK_STR(name, "");
	/* None matches: every pattern's arguments taken. */
	ok = 0;
	CHECK_EQ(select_(t, len, &ok, "{reply, ~=R, ~t}", ref, &body, &blen,
	                 "{'DOWN', ~=R, process, _, ~t}", ref, &reason, &rlen,
	                 NULL, 0x5EED),
	         -1);
	CHECK(ok);
	/* The first matches: the others are skipped. */
	ok = 0;
	reason = NULL;
	CHECK_EQ(select_(t, len, &ok, "{'DOWN', ~=R, _, ~P, ~t}", mon,
	                 &(straw_pid){0, 0, 0}, &reason, &rlen,
	                 "{reply, ~=R, ~t}", ref, &body, &blen, NULL, 0x5EED),
	         0);
	CHECK(ok);
	CHECK(reason != NULL);
	straw_free(t);
	/* A term fault still takes every argument of its pattern. */
	{
		static const uint8_t bad[] = {131, 104, 2, 119, 1, 'a', 200};
		ok = 0;
		CHECK_RC(select_(bad, sizeof(bad), &ok, "{~=a, ~i}", "a", &n,
		                 NULL, 0x5EED),
		         STRAW_EBADTAG);
	}
	/* A bad pattern is STRAW_EFORMAT from both. */
	{
		static const uint8_t one[] = {131, 97, 1};
		CHECK_RC(select_(one, sizeof(one), &ok, "{~=i", (int64_t)1,
		                 NULL, 0x5EED),
		         STRAW_EFORMAT);
		CHECK_RC(select_(one, sizeof(one), &ok, "~=i", (int64_t)1,
		                 "{~q}", NULL, 0x5EED),
		         STRAW_EFORMAT);
	}
	strawi_node_set_container(0, NULL);
}

CASE(text_of_capture)
{
	const uint8_t *body;
	straw_buf text = STRAW_BUF_INIT;
	size_t len, blen;
	uint8_t *t = etf("{reply, [1, {ok, \"x\"}], <<7>>}", &len);

	CHECK_EQ(straw_term_match(t, len, "{reply, ~t, _}", &body, &blen), 1);
	CHECK_OK(straw_term_to_text(body, blen, &text));
	CHECK_MEM(text.data, text.len, "[1,{ok,\"x\"}]", 12);
	/* The whole term still prints with its version byte; a body with
	 * trailing bytes is refused. */
	text.len = 0;
	CHECK_OK(straw_term_to_text(t, len, &text));
	CHECK_MEM(text.data, text.len, "{reply,[1,{ok,\"x\"}],<<7>>}", 26);
	text.len = 0;
	CHECK_RC(straw_term_to_text(body, blen + 1, &text), STRAW_ETRAILING);
	CHECK_EQ(text.len, 0);
	straw_buf_fini(&text);
	straw_free(t);
}

CASE(pid_text)
{
	straw_buf a = STRAW_BUF_INIT, want = STRAW_BUF_INIT,
	          text = STRAW_BUF_INIT;
	straw_pid p = {0, 0, 7}, other = {0, 3, 7};
	straw_pid far = {0x00112233aabbccddULL, 3, 7};
	uint8_t v = STRAW_ETF_VERSION;
	size_t off;

	/* In container 5: <5.7> is its own pid, <3.7> another's. */
	in_container();
	straw_buf_append(&want, &v, 1);
	CHECK_OK(straw_pid_encode(&want, p));
	CHECK_OK(straw_term_from_text("<5.7>", 5, &a, &off));
	CHECK_MEM(a.data, a.len, want.data, want.len);
	want.len = 1;
	a.len = 0;
	CHECK_OK(straw_pid_encode(&want, other));
	CHECK_OK(straw_term_from_text("<3.7>", 5, &a, &off));
	CHECK_MEM(a.data, a.len, want.data, want.len);
	/* Printed, it is the exact binary_to_term form. */
	CHECK_OK(straw_term_to_text(a.data, a.len, &text));
	CHECK(text.len > 22 &&
	      memcmp(text.data, "erlang:binary_to_term(<<131,88,", 30) == 0);
	/* Another machine's. */
	want.len = 1;
	a.len = 0;
	CHECK_OK(straw_pid_encode(&want, far));
	CHECK_OK(straw_term_from_text("{x, <3.7@m00112233aabbccdd>}", 28, &a,
	                              &off));
	CHECK(a.len == want.len + 5 &&
	      memcmp(a.data + 6, want.data + 1, want.len - 1) == 0);
	/* Outside a container <3.7> has node c3@host. */
	strawi_node_set_container(0, NULL);
	a.len = 0;
	CHECK_OK(straw_term_from_text("<3.7>", 5, &a, &off));
	{
		char node[300];
		snprintf(node, sizeof(node), "c3@%s", strawi_node_self()->host);
		CHECK_EQ(a.data[2], 119);
		CHECK_EQ(a.data[3], strlen(node));
		CHECK(memcmp(a.data + 4, node, strlen(node)) == 0);
	}
	/* Malformed: the offset of the pid. */
	a.len = 0;
	CHECK_RC(straw_term_from_text("{a, <3.x>}", 10, &a, &off),
	         STRAW_ESYNTAX);
	CHECK_EQ(off, 4);
	CHECK_RC(straw_term_from_text("{a, <3.7@m0011>}", 16, &a, &off),
	         STRAW_ESYNTAX);
	CHECK_EQ(off, 4);
	CHECK_RC(straw_term_from_text("<3.7", 4, &a, &off), STRAW_ESYNTAX);
	CHECK_EQ(a.len, 0);
	straw_buf_fini(&a);
	straw_buf_fini(&want);
	straw_buf_fini(&text);
}

static size_t alloc_calls;

static void *
counting_realloc(void *ctx, void *p, size_t n)
{
	(void)ctx;
	alloc_calls++;
	if (n == 0) {
		free(p);
		return NULL;
	}
	return realloc(p, n);
}

/* Bound scalars, pids and references allocate nothing. */
CASE(bound_no_alloc)
{
	straw_allocator al = {counting_realloc, NULL};
	straw_ref ref = {0, 0, 0, 12345};
	straw_pid pid = {0, 0, 8};
	straw_builder b;
	const uint8_t *body;
	size_t len, blen, before;
	uint8_t *t;
	int k;

	in_container();
	straw_builder_init(&b);
	CHECK_OK(straw_build_fmt(&b, "{reply, ~R, ~P, 7, x, \"s\", 1.5}", ref,
	                         pid));
	CHECK_OK(straw_builder_finish(&b, &t, &len));
	straw_set_allocator(&al);
	before = alloc_calls;
	for (k = 0; k < 1000; k++) {
		CHECK_EQ(straw_term_match(
		                 t, len,
		                 "{reply, ~=R, ~=P, ~=i, ~=a, ~=s, ~=f}", ref,
		                 pid, (int64_t)7, "x", "s", 1.5),
		         1);
		CHECK_EQ(
		        straw_term_match(t, len, "{reply, ~=R, ~t, _, _, _, _}",
		                         (straw_ref){0, 0, 0, 1}, &body, &blen),
		        0);
	}
	CHECK_EQ(alloc_calls - before, 0);
	straw_set_allocator(NULL);
	straw_free(t);
	strawi_node_set_container(0, NULL);
}

CHECK_MAIN(build_straw_pid_and_ref, capture_straw_pid_and_ref, bound_scalars,
           bound_terms_and_identifiers, match_ap_several_patterns,
           text_of_capture, pid_text, bound_no_alloc)
