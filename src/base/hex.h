/*
 * src/base/hex.h - hexadecimal digits, the one place libstraw reads and
 * writes them (machine ids, node names, the term text form, `straw term
 * --hex`).
 */
#ifndef STRAWI_BASE_HEX_H
#define STRAWI_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>

#include <straw/buf.h>

/* The value of one hex digit (either case), or -1. */
static inline int
strawi_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Reads n hex digits of s as a 64-bit number: at most 16 digits, or
 * exactly `wide` (> 16, e.g. 32 for a machine-id file) of which the first
 * 16 count.  Returns 0 and *out, or -EINVAL (no digits, a non-digit, too
 * many).
 */
int strawi_hex_u64(const char *s, size_t n, size_t wide, uint64_t *out);

/*
 * Decodes pairs of hex digits (either case; white space between bytes is
 * skipped), appending the bytes to out.  Returns 0, STRAW_ESYNTAX with
 * *bad_at the offset of the bad character (or of a lone last digit) and
 * out as it was, or -ENOMEM.
 */
int strawi_hex_decode(const char *s, size_t n, straw_buf *out, size_t *bad_at);

/* Appends two upper-case (lower with lower != 0) hex digits per byte of
 * in[0..n) to out.  Returns 0 or -ENOMEM (out unchanged). */
int strawi_hex_encode(const uint8_t *in, size_t n, int lower, straw_buf *out);

#endif /* STRAWI_BASE_HEX_H */
