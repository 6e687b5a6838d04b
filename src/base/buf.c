/* Growable byte buffers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <straw/alloc.h>
#include <straw/buf.h>

void
straw_buf_init(straw_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
straw_buf_fini(straw_buf *b)
{
	if (b == NULL)
		return;
	straw_free(b->data);
	straw_buf_init(b);
}

int
straw_buf_reserve(straw_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (__builtin_add_overflow(b->len, extra, &need))
		return -ENOMEM;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	p = straw_realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
straw_buf_append(straw_buf *b, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	if ((rc = straw_buf_reserve(b, n)) != 0)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
straw_buf_puts(straw_buf *b, const char *s)
{
	return straw_buf_append(b, s, strlen(s));
}

int
straw_buf_printf(straw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	/* One extra byte for vsnprintf's NUL, which len does not count. */
	if ((rc = straw_buf_reserve(b, (size_t)n + 1)) != 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

uint8_t *
straw_buf_take(straw_buf *b, size_t *len)
{
	uint8_t *p = b->data;

	*len = b->len;
	if (b->len == 0) {
		straw_free(p);
		p = NULL;
	}
	straw_buf_init(b);
	return p;
}
