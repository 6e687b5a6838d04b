/*
 * src/base/hex.h - hexadecimal (and other bases') digits, the one place
 * straw reads and writes them (machine ids, node names, the term text
 * form's integers and escapes, `straw term --hex`, the tests).
 */
#ifndef STRAWI_BASE_HEX_H
#define STRAWI_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>

#include <straw/buf.h>

/* The value of a digit of a base up to 36: 0-9, then a-z or A-Z as
 * 10..35; -1 for any other character (Erlang's Base#Digits, the text
 * form's integers). */
static inline int
strawi_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	return -1;
}

/* The value of one hex digit (either case), or -1. */
static inline int
strawi_hex_digit(int c)
{
	int d = strawi_digit_value(c);

	return d < 16 ? d : -1;
}

/* The hex digit of v (0..15): upper case, or lower with lower != 0. */
static inline char
strawi_hex_char(unsigned v, int lower)
{
	return (lower ? "0123456789abcdef" : "0123456789ABCDEF")[v & 15];
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
