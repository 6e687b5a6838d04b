/* A 64-bit multiply-mix hash over 8-byte words. */
#include <string.h>

#include "hash.h"

static inline uint64_t
hash_fold(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t
strawi_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *s = p;
	uint64_t h = seed ^ 0xa0761d6478bd642fULL ^ (uint64_t)n;
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = hash_fold(h ^ w, 0xe7037ed1a0b428dbULL);
		s += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, s, n);
	h = hash_fold(h ^ w, 0x8ebc6af09c88c6e3ULL);
	return hash_fold(h, 0x589965cc75374cc3ULL);
}
