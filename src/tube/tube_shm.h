/*
 * src/tube/tube_shm.h - the layout of a tube's shared memory.
 *
 * One memfd of STRAW_TUBE_MEMORY bytes: a 4 KiB header page, then ring 0
 * (side 0 writes, side 1 reads), then ring 1 (side 1 writes, side 0 reads),
 * each TUBE_RING_BYTES long.  Every field that one side writes often sits on
 * its own 128-byte block (two cache lines, so that the adjacent-line
 * prefetcher does not pull a line the other side is writing).
 *
 * A ring holds records back to back: an 8-byte header (u32 payload length,
 * u32 zero) and the payload padded to 8 bytes.  A record never wraps: when
 * one does not fit before the end, the writer stores TUBE_REC_WRAP as the
 * length and continues at offset 0, the skipped bytes counting as used.
 * `tail` and `head` count bytes written and consumed since the start
 * (never wrap in practice: 2^64 bytes); a byte position p is at offset
 * p mod TUBE_RING_BYTES, which each side tracks incrementally.
 *
 * Everything here is written by a possibly hostile peer: a reader checks
 * every length and position before using it (STRAW_ETUBECORRUPT).
 */
#ifndef STRAWI_TUBE_SHM_H
#define STRAWI_TUBE_SHM_H

#include <stdalign.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include <straw/tube.h>

#define TUBE_MAGIC      0x4255545741525453ull /* "STRAWTUB", little-endian */
#define TUBE_VERSION    1u
#define TUBE_HDR_BYTES  4096u
#define TUBE_RING_BYTES ((STRAW_TUBE_MEMORY - TUBE_HDR_BYTES) / 2)
#define TUBE_REC_HDR    8u
#define TUBE_REC_WRAP   0xFFFFFFFFu
#define TUBE_BLOCK      128 /* false-sharing distance */

/* Bytes a packet of len bytes takes in a ring. */
#define TUBE_REC_BYTES(len) ((TUBE_REC_HDR + (uint32_t)(len) + 7u) & ~7u)

/* Shared counters of one side, written only by that side (relaxed stores,
 * once per call, never per packet), read by the peer and by strawd. */
struct tube_shm_stats {
	_Atomic uint64_t sent;           /* packets offered */
	_Atomic uint64_t sent_bytes;     /* their bytes */
	_Atomic uint64_t dropped;        /* packets dropped (drop mode) */
	_Atomic uint64_t dropped_bytes;  /* their bytes */
	_Atomic uint64_t received;       /* packets received */
	_Atomic uint64_t received_bytes; /* their bytes */
	_Atomic uint64_t wakeups;        /* wake-ups sent to the peer */
	_Atomic uint64_t sleeps;         /* sleeps waiting for the peer */
};

/* The control blocks of one ring (one direction). */
struct tube_shm_ring {
	alignas(TUBE_BLOCK) _Atomic uint64_t tail; /* bytes published; writer */
	alignas(TUBE_BLOCK) _Atomic uint64_t head; /* bytes consumed; reader */
	/* 1 while the reader sleeps (or armed the fd) and wants a wake-up on
	 * the next publish; set by the reader, cleared by whoever wakes. */
	alignas(TUBE_BLOCK) _Atomic uint32_t reader_sleeping;
	/* 0, or 1 + the head position a writer waiting for room needs; set by
	 * the writer, cleared by whoever wakes (reliable mode). */
	alignas(TUBE_BLOCK) _Atomic uint64_t writer_waiting;
};

struct tube_shm {
	uint64_t magic;             /* TUBE_MAGIC */
	uint32_t version;           /* TUBE_VERSION */
	uint32_t mode;              /* enum straw_tube_mode */
	uint32_t ring_bytes;        /* TUBE_RING_BYTES */
	uint32_t tid;               /* tube id */
	uint32_t container[2];      /* container id of side 0 and 1 */
	_Atomic uint32_t closed[2]; /* side s closed its end (graceful) */
	/* Written by strawd when it makes the tube, read by strawd when a
	 * side announces the tube after a restart (src/strawd/tube_key.c):
	 * a random nonce and an HMAC over the identity, the nonce and the
	 * memfd's inode, so that strawd adopts only tubes it brokered.  The
	 * sides never read them. */
	uint8_t nonce[16];            /* random */
	uint8_t mac[32];              /* HMAC-SHA256 with strawd's key */
	struct tube_shm_ring ring[2]; /* ring s: s writes */
	alignas(TUBE_BLOCK) struct tube_shm_stats stats[2]; /* per side */
	alignas(TUBE_BLOCK) char pad_[];
};

_Static_assert(sizeof(struct tube_shm) <= TUBE_HDR_BYTES, "header page");
_Static_assert(offsetof(struct tube_shm, ring) == TUBE_BLOCK,
               "the identity, nonce and MAC fit before the rings");
_Static_assert(TUBE_RING_BYTES % TUBE_BLOCK == 0, "ring alignment");

/* Ring s's bytes inside the mapping. */
static inline uint8_t *
tube_shm_ring_data(struct tube_shm *shm, int s)
{
	return (uint8_t *)shm + TUBE_HDR_BYTES + (size_t)s * TUBE_RING_BYTES;
}

#endif /* STRAWI_TUBE_SHM_H */
