/* src/base/hash.h - a fast 64-bit hash of bytes (not cryptographic). */
#ifndef STRAWI_HASH_H
#define STRAWI_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Hashes n bytes at p, continuing from seed.  Deterministic across runs and
 * machines of one byte order.  Any thread. */
uint64_t strawi_hash_bytes(const void *p, size_t n, uint64_t seed);

/* Mixes a 64-bit value into h. */
static inline uint64_t
strawi_hash_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

#endif /* STRAWI_HASH_H */
