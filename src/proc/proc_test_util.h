/*
 * src/proc/proc_test_util.h - helpers of the process layer's tests: a
 * local container to run a case in, small messages, and readers for
 * {'EXIT', ...} and {'DOWN', ...}.  Checks are testing/check.h's, which
 * work inside processes too.
 */
#ifndef STRAW_PROC_TEST_UTIL_H
#define STRAW_PROC_TEST_UTIL_H

#include <stdio.h>
#include <string.h>

#include <straw/straw.h>

#include "proc/etf_proc.h"
#include "proc/msg.h"
#include "testing/check.h"

/* Runs body(arg) as the first process of a local container; returns the
 * container's exit status. */
static inline int
pt_run(straw_proc_fn body, void *arg)
{
	straw_container_opts o = {
	        STRAW_CONTAINER_LOCAL | STRAW_CONTAINER_NO_SIGNALS, 0, 0, 0};
	return straw_container_run("proc-test", body, arg, &o);
}

static inline straw_msg *
pt_build(straw_buf *b)
{
	straw_msg *m = NULL;
	int rc = straw_msg_new(&m, b->data, b->len);

	straw_buf_fini(b);
	CHECK_OK(rc);
	return m;
}

/* The integer v. */
static inline straw_msg *
pt_int(int64_t v)
{
	straw_buf b = STRAW_BUF_INIT;
	uint8_t ver = 131;

	straw_buf_append(&b, &ver, 1);
	etfp_put_int(&b, v);
	return pt_build(&b);
}

/* {Tag, V}. */
static inline straw_msg *
pt_tag_int(const char *tag, int64_t v)
{
	straw_buf b = STRAW_BUF_INIT;
	uint8_t ver = 131;

	straw_buf_append(&b, &ver, 1);
	etfp_put_tuple(&b, 2);
	etfp_put_atom(&b, tag);
	etfp_put_int(&b, v);
	return pt_build(&b);
}

/* {Tag, Pid}. */
static inline straw_msg *
pt_tag_pid(const char *tag, straw_pid pid)
{
	straw_buf b = STRAW_BUF_INIT;
	uint8_t ver = 131;

	straw_buf_append(&b, &ver, 1);
	etfp_put_tuple(&b, 2);
	etfp_put_atom(&b, tag);
	straw_pid_encode(&b, pid);
	return pt_build(&b);
}

/* Reads an integer term at p (SMALL_INTEGER or INTEGER); returns its size
 * or 0. */
static inline size_t
pt_read_int(const uint8_t *p, size_t n, int64_t *v)
{
	if (n >= 2 && p[0] == ETF_SMALL_INTEGER) {
		*v = p[1];
		return 2;
	}
	if (n >= 5 && p[0] == ETF_INTEGER) {
		*v = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		               (uint32_t)p[3] << 8 | p[4]);
		return 5;
	}
	return 0;
}

/* 1 and *v if m is an integer. */
static inline int
pt_get_int(const straw_msg *m, int64_t *v)
{
	return m->len > 1 &&
	       pt_read_int(m->data + 1, m->len - 1, v) == m->len - 1;
}

/* The size of the atom at p, or 0. */
static inline size_t
pt_atom_size(const uint8_t *p, size_t n)
{
	if (n >= 2 && (p[0] == ETF_SMALL_ATOM_UTF8 || p[0] == ETF_SMALL_ATOM))
		return 2 + (size_t)p[1];
	if (n >= 3 && (p[0] == ETF_ATOM_UTF8 || p[0] == ETF_ATOM))
		return 3 + ((size_t)p[1] << 8 | p[2]);
	return 0;
}

/* 1 if m is a tuple whose first element is the atom tag; *rest and *rlen get
 * the bytes after the tag. */
static inline int
pt_is_tagged(const straw_msg *m, const char *tag, const uint8_t **rest,
             size_t *rlen)
{
	const uint8_t *p = m->data;
	size_t n = m->len, a;

	if (n < 4 || p[1] != ETF_SMALL_TUPLE)
		return 0;
	if (!etfp_is_atom(p + 3, n - 3, tag))
		return 0;
	a = pt_atom_size(p + 3, n - 3);
	if (rest != NULL) {
		*rest = p + 3 + a;
		*rlen = n - 3 - a;
	}
	return 1;
}

/* {Tag, Int}: 1 and *v. */
static inline int
pt_get_tag_int(const straw_msg *m, const char *tag, int64_t *v)
{
	const uint8_t *r;
	size_t rl;

	return pt_is_tagged(m, tag, &r, &rl) && pt_read_int(r, rl, v) == rl;
}

/* {Tag, Pid}: 1 and *pid. */
static inline int
pt_get_tag_pid(const straw_msg *m, const char *tag, straw_pid *pid)
{
	const uint8_t *r;
	size_t rl;

	return pt_is_tagged(m, tag, &r, &rl) &&
	       straw_pid_decode(r, rl, pid) == (int)rl;
}

/* {'EXIT', From, Reason}: 1, *from, and whether Reason is the atom. */
static inline int
pt_is_exit(const straw_msg *m, straw_pid *from, const char *reason_atom)
{
	const uint8_t *r;
	size_t rl;
	int n;

	if (!pt_is_tagged(m, "EXIT", &r, &rl) || m->data[2] != 3)
		return 0;
	n = straw_pid_decode(r, rl, from);
	if (n <= 0)
		return 0;
	return reason_atom == NULL ||
	       etfp_is_atom(r + n, rl - (size_t)n, reason_atom);
}

/* {'DOWN', Ref, process, Pid, Reason}: 1, *ref, *pid, and the reason's
 * bytes. */
static inline int
pt_is_down(const straw_msg *m, straw_ref *ref, straw_pid *pid,
           const uint8_t **reason, size_t *rlen)
{
	const uint8_t *r;
	size_t rl, a;
	int n;

	if (!pt_is_tagged(m, "DOWN", &r, &rl) || m->data[2] != 5)
		return 0;
	n = straw_ref_decode(r, rl, ref);
	if (n <= 0)
		return 0;
	r += n;
	rl -= (size_t)n;
	if (!etfp_is_atom(r, rl, "process"))
		return 0;
	a = pt_atom_size(r, rl);
	r += a;
	rl -= a;
	n = straw_pid_decode(r, rl, pid);
	if (n <= 0)
		return 0;
	*reason = r + n;
	*rlen = rl - (size_t)n;
	return 1;
}

/* Receives one message within ms or fails the check. */
#define PRECV(m, ms) CHECK_EQ(straw_receive(&(m), (ms)), 0)

/* Takes the next message, which must be a DOWN whose reason is atom (any
 * reason for NULL). */
static inline void
pt_down_reason_is(const char *atom)
{
	straw_msg *m;
	straw_ref ref;
	straw_pid pid;
	const uint8_t *r;
	size_t rl;

	PRECV(m, 5000);
	CHECK(pt_is_down(m, &ref, &pid, &r, &rl));
	CHECK(atom == NULL || etfp_is_atom(r, rl, atom));
	straw_msg_unref(m);
}

#endif /* STRAW_PROC_TEST_UTIL_H */
