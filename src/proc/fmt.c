/*
 * Messages from format strings: straw_msgf, straw_sendf, straw_receivef.
 * Terms are built with the term layer's format builder into a per-thread
 * builder that is reused (freed when the thread exits), then copied into a
 * (usually recycled) message:
 * no allocation in the steady state, and no second validation, since the
 * builder only writes well-formed terms.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <straw/term_text.h>

#include "base/base.h"
#include "proc/proc.h"

static __thread straw_builder fmt_b; /* reused; buf grows once */
static __thread int fmt_b_ready;     /* fmt_b initialised */
static pthread_key_t fmt_key;        /* frees fmt_b at thread exit */
static pthread_once_t fmt_once = PTHREAD_ONCE_INIT;

static void
fmt_b_fini(void *unused)
{
	(void)unused;
	if (fmt_b_ready) {
		straw_builder_fini(&fmt_b);
		fmt_b_ready = 0;
	}
}

static void
fmt_key_init(void)
{
	if (pthread_key_create(&fmt_key, fmt_b_fini) != 0)
		STRAWI_PANIC("pthread_key_create failed");
}

static int
vmsgf(straw_msg **out, const char *fmt, va_list ap)
{
	straw_msg *m;
	int rc;

	if (fmt == NULL) {
		rc = -EINVAL;
		goto fail;
	}
	if (!fmt_b_ready) {
		pthread_once(&fmt_once, fmt_key_init);
		pthread_setspecific(fmt_key, &fmt_b); /* nonzero: destructor */
		straw_builder_init(&fmt_b);
		fmt_b_ready = 1;
	}
	straw_builder_reset(&fmt_b); /* keeps its memory */
	rc = straw_build_vfmt(&fmt_b, fmt, ap);
	if (rc == 0)
		rc = fmt_b.err;
	if (rc < 0)
		goto fail;
	m = proc_msg_alloc(fmt_b.buf.len);
	if (m == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(m->bytes, fmt_b.buf.data, fmt_b.buf.len);
	if (fmt_b.buf.cap > 4096) { /* do not keep a huge buffer around */
		straw_builder_fini(&fmt_b);
		fmt_b_ready = 0;
	}
	*out = m;
	return 0;
fail:
	if (fmt_b_ready && fmt_b.err != 0) {
		straw_builder_fini(&fmt_b);
		fmt_b_ready = 0;
	}
	return rc;
}

int
straw_msgf(straw_msg **out, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (out == NULL)
		return -EINVAL;
	va_start(ap, fmt);
	rc = vmsgf(out, fmt, ap);
	va_end(ap);
	if (rc == 0)
		proc_msg_made(*out);
	return rc;
}

int
straw_sendf(straw_pid pid, const char *fmt, ...)
{
	va_list ap;
	straw_msg *m;
	int rc;

	va_start(ap, fmt);
	rc = vmsgf(&m, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	return straw_send_take(pid, m);
}

int
straw_sendf_name(const char *name, const char *fmt, ...)
{
	va_list ap;
	straw_msg *m;
	int rc;

	va_start(ap, fmt);
	rc = vmsgf(&m, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	rc = straw_send_name(name, m);
	straw_msg_unref(m);
	return rc;
}

int
straw_sendf_to(const char *container, const char *name, const char *fmt, ...)
{
	va_list ap;
	straw_msg *m;
	int rc;

	va_start(ap, fmt);
	rc = vmsgf(&m, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	rc = straw_send_to(container, name, m);
	straw_msg_unref(m);
	return rc;
}

struct vmatch_arg {
	const char *pattern; /* with captures */
	va_list *ap;         /* the caller's captures */
	int err;             /* the matcher's error */
};

static int
vmatch_pred(const straw_msg *m, void *arg)
{
	struct vmatch_arg *a = arg;
	va_list cp;
	int rc;

	if (a->err < 0)
		return 1;
	va_copy(cp, *a->ap);
	rc = straw_term_vmatch(m->data, m->len, a->pattern, cp);
	va_end(cp);
	if (rc < 0 && rc != STRAW_EBADTERM) {
		a->err = rc;
		return 1;
	}
	return rc == 1;
}

int
straw_receivef(straw_msg **out, int timeout_ms, const char *pattern, ...)
{
	static const uint8_t nil[] = {131, 106};
	struct vmatch_arg a;
	straw_msg *m = NULL;
	va_list ap;
	int rc;

	if (out == NULL || pattern == NULL)
		return -EINVAL;
	/* A bad pattern fails even with an empty mailbox: checked here when
	 * it has no captures; one with captures fails on the first message
	 * (matching it against a dummy term could write through them). */
	if (strchr(pattern, '~') == NULL) {
		rc = straw_term_match(nil, sizeof(nil), pattern);
		if (rc < 0)
			return rc;
	}
	va_start(ap, pattern);
	a.pattern = pattern;
	a.ap = &ap;
	a.err = 0;
	rc = straw_receive_if(&m, timeout_ms, vmatch_pred, &a);
	va_end(ap);
	if (rc == 0 && a.err < 0) {
		straw_msg_unref(m); /* cannot happen after the check above */
		return a.err;
	}
	if (rc == 0)
		*out = m;
	return rc;
}
