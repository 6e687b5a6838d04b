/* Hexadecimal digits: numbers and byte strings (src/base/hex.h). */
#include <errno.h>

#include "base/base.h"
#include "base/hex.h"

int
strawi_hex_u64(const char *s, size_t n, size_t wide, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || (n > 16 && n != wide))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		int d = strawi_hex_digit((unsigned char)s[i]);
		if (d < 0)
			return -EINVAL;
		if (i < 16)
			v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
strawi_hex_decode(const char *s, size_t n, straw_buf *out, size_t *bad_at)
{
	size_t i = 0, start = out->len;
	int rc;

	while (i < n) {
		int hi, lo;
		uint8_t byte;

		if (is_space(s[i])) {
			i++;
			continue;
		}
		hi = strawi_hex_digit((unsigned char)s[i]);
		lo = i + 1 < n ? strawi_hex_digit((unsigned char)s[i + 1]) : -1;
		if (hi < 0 || lo < 0) {
			/* The bad character, or a lone last digit. */
			*bad_at = hi < 0 || (i + 1 < n && !is_space(s[i + 1]))
			                  ? i + (hi >= 0)
			                  : i;
			out->len = start;
			return STRAW_ESYNTAX;
		}
		byte = (uint8_t)(hi << 4 | lo);
		if ((rc = straw_buf_append(out, &byte, 1)) != 0) {
			out->len = start;
			return rc;
		}
		i += 2;
	}
	return 0;
}

int
strawi_hex_encode(const uint8_t *in, size_t n, int lower, straw_buf *out)
{
	size_t i;
	int rc;

	if ((rc = straw_buf_reserve(out, 2 * n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		out->data[out->len++] =
		        (uint8_t)strawi_hex_char(in[i] >> 4, lower);
		out->data[out->len++] = (uint8_t)strawi_hex_char(in[i], lower);
	}
	return 0;
}
