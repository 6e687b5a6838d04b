/*
 * straw/buf.h - a growable byte buffer, the output of term builders and of
 * the text printer.
 */
#ifndef STRAW_BUF_H
#define STRAW_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <straw/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct straw_buf {
	uint8_t *data; /* owned; NULL until the first byte is written */
	size_t len;    /* bytes in use */
	size_t cap;    /* bytes allocated */
} straw_buf;

#define STRAW_BUF_INIT     \
	{                  \
		NULL, 0, 0 \
	}

/* Makes b an empty buffer.  Never fails. */
STRAW_API void straw_buf_init(straw_buf *b);

/* Frees b's memory and leaves it empty and reusable.  Accepts NULL. */
STRAW_API void straw_buf_fini(straw_buf *b);

/*
 * Makes room for at least extra more bytes.  Returns 0 or -ENOMEM (b is then
 * unchanged).  May move b->data: earlier pointers into it become invalid.
 */
STRAW_API int straw_buf_reserve(straw_buf *b, size_t extra);

/* Appends n bytes.  Returns 0 or -ENOMEM (b unchanged).  May move b->data. */
STRAW_API int straw_buf_append(straw_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string without its NUL.  As straw_buf_append. */
STRAW_API int straw_buf_puts(straw_buf *b, const char *s);

/* Appends printf-style text without a NUL.  As straw_buf_append. */
STRAW_API int straw_buf_printf(straw_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/*
 * Hands the bytes to the caller, who frees them with straw_free(); b is left
 * empty.  Returns NULL (and *len = 0) for an empty buffer.
 */
STRAW_API uint8_t *straw_buf_take(straw_buf *b, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* STRAW_BUF_H */
