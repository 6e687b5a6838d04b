/* The ETF shapes the process layer writes itself: atoms and the system
 * messages {'EXIT', ...} and {'DOWN', ...}. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "proc/etf_proc.h"
#include "term/etf.h"
#include "proc/msg.h"

static int
put_u8(straw_buf *b, uint8_t v)
{
	return straw_buf_append(b, &v, 1);
}

static int
put_u32(straw_buf *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	                (uint8_t)(v >> 8), (uint8_t)v};
	return straw_buf_append(b, p, 4);
}

int
etfp_put_atom(straw_buf *b, const char *name)
{
	size_t n = strlen(name);
	int rc;

	if (n > 255)
		return STRAW_EBADATOM;
	rc = straw_buf_reserve(b, 2 + n);
	if (rc < 0)
		return rc;
	put_u8(b, ETF_SMALL_ATOM_UTF8);
	put_u8(b, (uint8_t)n);
	return straw_buf_append(b, name, n);
}

int
etfp_put_tuple(straw_buf *b, uint8_t arity)
{
	uint8_t p[2] = {ETF_SMALL_TUPLE, arity};
	return straw_buf_append(b, p, 2);
}

int
etfp_put_int(straw_buf *b, int64_t v)
{
	uint8_t p[11];
	uint64_t mag;
	int n = 0;

	if (v >= 0 && v <= 255) {
		p[0] = ETF_SMALL_INTEGER;
		p[1] = (uint8_t)v;
		return straw_buf_append(b, p, 2);
	}
	if (v >= INT32_MIN && v <= INT32_MAX) {
		int rc = put_u8(b, ETF_INTEGER);
		return rc < 0 ? rc : put_u32(b, (uint32_t)(int32_t)v);
	}
	mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	p[0] = ETF_SMALL_BIG;
	p[2] = v < 0;
	while (mag != 0) {
		p[3 + n++] = (uint8_t)mag;
		mag >>= 8;
	}
	p[1] = (uint8_t)n;
	return straw_buf_append(b, p, 3 + (size_t)n);
}

int
etfp_put_binary(straw_buf *b, const void *p, size_t n)
{
	int rc;

	if (n > UINT32_MAX)
		return -EINVAL;
	rc = straw_buf_reserve(b, 5 + n);
	if (rc < 0)
		return rc;
	put_u8(b, ETF_BINARY);
	put_u32(b, (uint32_t)n);
	return straw_buf_append(b, p, n);
}

/* Reads an atom at p: its text in *name and *n; returns its size or < 0. */
static int
get_atom(const uint8_t *p, size_t len, const uint8_t **name, size_t *n)
{
	size_t hdr;

	if (len < 2)
		return STRAW_ETRUNC;
	switch (p[0]) {
	case ETF_SMALL_ATOM:
	case ETF_SMALL_ATOM_UTF8:
		hdr = 2;
		*n = p[1];
		break;
	case ETF_ATOM:
	case ETF_ATOM_UTF8:
		if (len < 3)
			return STRAW_ETRUNC;
		hdr = 3;
		*n = (size_t)p[1] << 8 | p[2];
		break;
	default:
		return STRAW_ETYPE;
	}
	if (len - hdr < *n)
		return STRAW_ETRUNC;
	*name = p + hdr;
	return (int)(hdr + *n);
}

int
etfp_is_atom(const uint8_t *term, size_t len, const char *name)
{
	const uint8_t *s;
	size_t n;

	if (get_atom(term, len, &s, &n) < 0)
		return 0;
	return n == strlen(name) && memcmp(s, name, n) == 0;
}

/* Appends {'EXIT', From, without its reason. */
static int
exit_prefix(straw_buf *b, straw_pid from)
{
	uint8_t v = 131;
	int rc = straw_buf_append(b, &v, 1);

	if (rc == 0)
		rc = etfp_put_tuple(b, 3);
	if (rc == 0)
		rc = etfp_put_atom(b, "EXIT");
	return rc == 0 ? straw_pid_encode(b, from) : rc;
}

/* Appends {'DOWN', Ref, process, Pid, without its reason. */
static int
down_prefix(straw_buf *b, straw_ref ref, straw_pid pid)
{
	uint8_t v = 131;
	int rc = straw_buf_append(b, &v, 1);

	if (rc == 0)
		rc = etfp_put_tuple(b, 5);
	if (rc == 0)
		rc = etfp_put_atom(b, "DOWN");
	if (rc == 0)
		rc = straw_ref_encode(b, ref);
	if (rc == 0)
		rc = etfp_put_atom(b, "process");
	return rc == 0 ? straw_pid_encode(b, pid) : rc;
}

/* The prefix in b (if rc is 0) and then `extra` bytes: a message holding
 * them, or NULL; b is freed.  With reason, its body follows; without, the
 * room is left for etfp_reserve_fill (and len says the capacity). */
static straw_msg *
prefix_to_msg(straw_buf *b, int rc, const straw_msg *reason, size_t extra,
              size_t *fixed)
{
	straw_msg *m = NULL;

	if (rc == 0) {
		m = proc_msg_alloc(b->len + extra);
		if (m != NULL) {
			memcpy(m->bytes, b->data, b->len);
			if (reason != NULL)
				memcpy(m->bytes + b->len, reason->data + 1,
				       reason->len - 1);
			if (fixed != NULL)
				*fixed = b->len;
		}
	}
	straw_buf_fini(b);
	return m;
}

straw_msg *
etfp_exit_msg(straw_pid from, const straw_msg *reason)
{
	straw_buf b = STRAW_BUF_INIT;
	int rc = exit_prefix(&b, from);

	return prefix_to_msg(&b, rc, reason, reason->len - 1, NULL);
}

straw_msg *
etfp_down_msg(straw_ref ref, straw_pid pid, const straw_msg *reason)
{
	straw_buf b = STRAW_BUF_INIT;
	int rc = down_prefix(&b, ref, pid);

	return prefix_to_msg(&b, rc, reason, reason->len - 1, NULL);
}

straw_msg *
etfp_exit_reserve(straw_pid from, size_t *fixed)
{
	straw_buf b = STRAW_BUF_INIT;
	int rc = exit_prefix(&b, from);

	return prefix_to_msg(&b, rc, NULL, ETFP_RESERVE_REASON, fixed);
}

straw_msg *
etfp_down_reserve(straw_ref ref, straw_pid pid, size_t *fixed)
{
	straw_buf b = STRAW_BUF_INIT;
	int rc = down_prefix(&b, ref, pid);

	return prefix_to_msg(&b, rc, NULL, ETFP_RESERVE_REASON, fixed);
}

int
etfp_reserve_fill(straw_msg *r, size_t fixed, const straw_msg *reason)
{
	size_t body = reason->len - 1;

	/* r->len is the capacity until the reserve is filled */
	if (r->kind != PROC_MSG_INLINE || body > r->len - fixed)
		return -ENOSPC;
	memcpy(r->bytes + fixed, reason->data + 1, body);
	r->len = fixed + body;
	return 0;
}

/* One buffer as a message (copied), or NULL; b is freed. */
static straw_msg *
buf_to_msg(straw_buf *b, int rc)
{
	return prefix_to_msg(b, rc, NULL, 0, NULL);
}

straw_msg *
etfp_tag_text_msg(const char *tag, const char *text, size_t n)
{
	straw_buf b = STRAW_BUF_INIT;
	uint8_t v = 131;
	int rc = straw_buf_append(&b, &v, 1);

	if (rc == 0)
		rc = etfp_put_tuple(&b, 2);
	if (rc == 0)
		rc = etfp_put_atom(&b, tag);
	if (rc == 0)
		rc = etfp_put_binary(&b, text, n);
	return buf_to_msg(&b, rc);
}

int
etfp_is_down_for(const straw_msg *m, straw_ref ref)
{
	const uint8_t *p = m->data;
	size_t len = m->len;
	straw_ref got;

	if (len < 9 || p[0] != 131 || p[1] != ETF_SMALL_TUPLE || p[2] != 5 ||
	    !etfp_is_atom(p + 3, len - 3, "DOWN"))
		return 0;
	/* the atom is 'DOWN' in any of the atom encodings */
	{
		const uint8_t *s;
		size_t n;
		int an = get_atom(p + 3, len - 3, &s, &n);
		if (an < 0)
			return 0;
		if (straw_ref_decode(p + 3 + an, len - 3 - (size_t)an, &got) <
		    0)
			return 0;
	}
	return straw_ref_equal(got, ref);
}
