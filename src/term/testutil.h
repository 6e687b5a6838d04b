/* src/term/testutil.h - helpers for the term layer's tests (not built into
 * libstraw). */
#ifndef STRAWI_TERM_TESTUTIL_H
#define STRAWI_TERM_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TU_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Decodes hex into a malloc'd buffer; returns NULL on bad hex. */
static inline uint8_t *
tu_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	uint8_t *out;

	if (n % 2 != 0)
		return NULL;
	out = malloc(n / 2 + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			free(out);
			return NULL;
		}
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return out;
}

/* Writes n bytes as upper-case hex into a malloc'd string. */
static inline char *
tu_hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02X", p[i]);
	s[2 * n] = '\0';
	return s;
}

#endif /* STRAWI_TERM_TESTUTIL_H */
