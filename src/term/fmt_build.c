/*
 * Building terms from format strings in Erlang syntax: straw_build_fmt
 * writes a term from a pattern and C values.
 *
 * Building reuses the text parser (text_parse.c) with a hook for the
 * directives, writing straight into the builder with containers shrunk to
 * their canonical form as they close; only maps of several keys and
 * foreign bytes (~t, ~o, binary_to_term) send the result through
 * straw_term_normalize.  The usual message formats (tuples of atoms,
 * numbers and scalar directives) are first looked up in the thread's cache
 * of compiled formats (fmt_cache.c).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <straw/pid.h>
#include <straw/term_text.h>

#include "base/base.h"
#include "term/etf.h"
#include "term/fmt.h"
#include "term/text_parse.h"

static int
emit_atom_utf8(struct tp_parser *p, const char *s, size_t n)
{
	uint8_t h[3];
	size_t chars;
	int rc;

	if (strawi_utf8_count((const uint8_t *)s, n, &chars) != 0 ||
	    chars > STRAW_ATOM_MAX_CHARS)
		return STRAW_EBADATOM;
	if (n <= 255) {
		h[0] = ETF_SMALL_ATOM_UTF8;
		h[1] = (uint8_t)n;
		rc = tp_emit(p, h, 2);
	} else {
		h[0] = ETF_ATOM_UTF8;
		etf_put16(h + 1, (uint16_t)n);
		rc = tp_emit(p, h, 3);
	}
	return rc != 0 ? rc : tp_emit(p, s, n);
}

/* The node atom of a pid, port or reference. */
static int
emit_node(struct tp_parser *p, const char *node)
{
	return emit_atom_utf8(p, node, strnlen(node, 256));
}

static int
emit_u32(struct tp_parser *p, uint32_t v)
{
	uint8_t b[4];

	etf_put32(b, v);
	return tp_emit(p, b, 4);
}

/* A pid (NEW_PID_EXT). */
static int
emit_erl_pid(struct tp_parser *p, const straw_erl_pid *pid)
{
	uint8_t h = ETF_NEW_PID;
	int rc;

	if ((rc = tp_emit(p, &h, 1)) != 0 ||
	    (rc = emit_node(p, pid->node)) != 0 ||
	    (rc = emit_u32(p, pid->id)) != 0 ||
	    (rc = emit_u32(p, pid->serial)) != 0)
		return rc;
	return emit_u32(p, pid->creation);
}

/* A reference (NEWER_REFERENCE_EXT) of 1..5 words. */
static int
emit_erl_ref(struct tp_parser *p, const straw_erl_ref *ref)
{
	uint8_t h[3];
	uint32_t i;
	int rc;

	if (ref->len < 1 || ref->len > STRAW_REF_MAX_WORDS)
		return STRAW_ERANGE;
	h[0] = ETF_NEWER_REF;
	etf_put16(h + 1, (uint16_t)ref->len);
	if ((rc = tp_emit(p, h, 3)) != 0 ||
	    (rc = emit_node(p, ref->node)) != 0 ||
	    (rc = emit_u32(p, ref->creation)) != 0)
		return rc;
	for (i = 0; i < ref->len; i++)
		if ((rc = emit_u32(p, ref->id[i])) != 0)
			return rc;
	return 0;
}

int
strawi_fmt_build_directive(struct tp_parser *p, const struct tl_token *t)
{
	struct strawi_fmt_args *ctx = p->ctx;
	uint8_t h[6];
	int rc;

	if (t->bound)
		return STRAW_EFORMAT; /* ~=x is for patterns */
	switch (t->ival) {
	case 'i':
		return tp_emit_int(p, va_arg(ctx->ap, int64_t));
	case 'u': {
		uint64_t v = va_arg(ctx->ap, uint64_t);
		uint8_t mag[8];
		int i;
		if (v <= INT64_MAX)
			return tp_emit_int(p, (int64_t)v);
		for (i = 0; i < 8; i++)
			mag[i] = (uint8_t)(v >> (8 * i));
		return tp_emit_bignum(p, 0, mag, 8);
	}
	case 'f': {
		double d = va_arg(ctx->ap, double);
		if (!isfinite(d))
			return STRAW_ERANGE;
		return tp_emit_double(p, d);
	}
	case 'a': {
		const char *s = va_arg(ctx->ap, const char *);
		if (s == NULL)
			return -EINVAL;
		return emit_atom_utf8(p, s, strlen(s));
	}
	case 's': {
		const char *s = va_arg(ctx->ap, const char *);
		size_t n, i;
		if (s == NULL)
			return -EINVAL;
		n = strlen(s);
		if (n == 0) {
			h[0] = ETF_NIL;
			return tp_emit(p, h, 1);
		}
		if (n <= 0xFFFF) {
			h[0] = ETF_STRING;
			etf_put16(h + 1, (uint16_t)n);
			if ((rc = tp_emit(p, h, 3)) != 0)
				return rc;
			return tp_emit(p, s, n);
		}
		if (n > UINT32_MAX)
			return STRAW_ETOOBIG;
		h[0] = ETF_LIST;
		etf_put32(h + 1, (uint32_t)n);
		if ((rc = tp_emit(p, h, 5)) != 0)
			return rc;
		for (i = 0; i < n; i++)
			if ((rc = tp_emit_int(p, (uint8_t)s[i])) != 0)
				return rc;
		h[0] = ETF_NIL;
		return tp_emit(p, h, 1);
	}
	case 'b': {
		const void *d = va_arg(ctx->ap, const void *);
		size_t n = va_arg(ctx->ap, size_t);
		if (d == NULL && n != 0)
			return -EINVAL;
		if (n > UINT32_MAX)
			return STRAW_ETOOBIG;
		h[0] = ETF_BINARY;
		etf_put32(h + 1, (uint32_t)n);
		if ((rc = tp_emit(p, h, 5)) != 0)
			return rc;
		return tp_emit(p, d, n);
	}
	case 't': {
		const uint8_t *d = va_arg(ctx->ap, const uint8_t *);
		size_t n = va_arg(ctx->ap, size_t), off;
		if (d == NULL)
			return -EINVAL;
		if ((rc = straw_term_check_body(d, n, NULL, &off)) != 0)
			return rc;
		p->noncanon = 1; /* any encoding */
		return tp_emit(p, d, n);
	}
	case 'p': {
		const straw_erl_pid *pid =
		        va_arg(ctx->ap, const straw_erl_pid *);
		if (pid == NULL)
			return -EINVAL;
		return emit_erl_pid(p, pid);
	}
	case 'P': {
		straw_pid pid = va_arg(ctx->ap, straw_pid);
		straw_erl_pid e;
		if ((rc = straw_pid_to_erl(pid, &e)) != 0)
			return rc;
		return emit_erl_pid(p, &e);
	}
	case 'o': {
		const straw_erl_port *port =
		        va_arg(ctx->ap, const straw_erl_port *);
		if (port == NULL)
			return -EINVAL;
		p->noncanon = 1; /* OTP's choice of NEW_PORT or V4_PORT */
		h[0] = port->id > UINT32_MAX ? ETF_V4_PORT : ETF_NEW_PORT;
		if ((rc = tp_emit(p, h, 1)) != 0 ||
		    (rc = emit_node(p, port->node)) != 0)
			return rc;
		if (port->id > UINT32_MAX) {
			uint8_t b[8];
			etf_put64(b, port->id);
			rc = tp_emit(p, b, 8);
		} else {
			rc = emit_u32(p, (uint32_t)port->id);
		}
		return rc != 0 ? rc : emit_u32(p, port->creation);
	}
	case 'r': {
		const straw_erl_ref *ref =
		        va_arg(ctx->ap, const straw_erl_ref *);
		if (ref == NULL)
			return -EINVAL;
		return emit_erl_ref(p, ref);
	}
	case 'R': {
		straw_ref ref = va_arg(ctx->ap, straw_ref);
		straw_erl_ref e;
		if ((rc = straw_ref_to_erl(ref, &e)) != 0)
			return rc;
		return emit_erl_ref(p, &e);
	}
	default:
		return STRAW_EFORMAT;
	}
}

static int
build_directive_hook(struct tp_parser *p, const struct tl_token *t)
{
	int rc = strawi_fmt_build_directive(p, t);

	if (rc != 0)
		p->err_at = t->start;
	return rc;
}

int
straw_build_vfmt(straw_builder *b, const char *fmt, va_list ap)
{
	straw_buf raw = STRAW_BUF_INIT, canon = STRAW_BUF_INIT;
	uint8_t version = STRAW_ETF_VERSION;
	size_t start = b->buf.len;
	struct strawi_fmt_args ctx;
	struct tp_parser p;
	int rc;

	if (b->err != 0)
		return b->err;
	if (fmt == NULL)
		return b->err = STRAW_EFORMAT;
	if ((rc = strawi_fmt_cached_build(b, fmt, ap)) <= 0)
		return rc;
	/* The term goes straight after the builder's bytes, containers in
	 * their smallest form; only maps of several keys, ~t and ports, or
	 * embedded binary_to_term need straw_term_normalize. */
	va_copy(ctx.ap, ap);
	tp_init(&p, fmt, strlen(fmt), 1, NULL, &b->buf);
	p.directive = build_directive_hook;
	p.ctx = &ctx;
	p.canonical = 1;
	rc = tp_parse(&p);
	if (rc == STRAW_ESYNTAX)
		rc = STRAW_EFORMAT;
	if (rc != 0 || !p.noncanon)
		goto out;
	if ((rc = straw_buf_append(&raw, &version, 1)) != 0 ||
	    (rc = straw_buf_append(&raw, b->buf.data + start,
	                           b->buf.len - start)) != 0 ||
	    (rc = straw_term_normalize(raw.data, raw.len, NULL, &canon,
	                               NULL)) != 0)
		goto out;
	b->buf.len = start;
	rc = straw_buf_append(&b->buf, canon.data + 1, canon.len - 1);
out:
	va_end(ctx.ap);
	tp_fini(&p);
	straw_buf_fini(&raw);
	straw_buf_fini(&canon);
	if (rc != 0) {
		b->buf.len = start;
		b->err = rc;
	}
	return rc;
}

int
straw_build_fmt(straw_builder *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = straw_build_vfmt(b, fmt, ap);
	va_end(ap);
	return rc;
}
