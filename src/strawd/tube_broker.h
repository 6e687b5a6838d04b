/*
 * src/strawd/tube_broker.h - what the tube broker's files share:
 * tube_broker.c (requests, records, the registry entries), tube_key.c
 * (strawd's secret key and the MAC that proves strawd brokered a tube)
 * and tube_peek.c (reading a tube's header without keeping it mapped).
 * All of it runs on strawd's loop thread.
 */
#ifndef STRAWI_TUBE_BROKER_H
#define STRAWI_TUBE_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "tube/tube_shm.h"

#define TUBE_KEY_BYTES 32 /* strawd's secret key */
#define TUBE_KEY_FILE  "tube.key"

/* What a MAC covers: a tube's identity and its memory. */
struct tube_ident {
	uint32_t opener, acceptor, tid, mode; /* as in the header */
	uint8_t nonce[16];                    /* the header's nonce */
	uint64_t dev, ino;                    /* the memfd's fstat */
};

/*
 * Loads strawd's key from dir/tube.key, making it (32 random bytes, mode
 * 0600, strawd's uid) when missing; a key file that is not strawd's alone
 * (another owner, group or other access, another size, not a regular
 * file) is replaced.  The key survives restarts of strawd, so that a new
 * strawd can check tubes an earlier one made.  Returns 0 or -errno.
 */
int tube_key_load(const char *dir, uint8_t key[TUBE_KEY_BYTES]);

/* HMAC-SHA256 of id under key. */
void tube_key_mac(const uint8_t key[TUBE_KEY_BYTES],
                  const struct tube_ident *id, uint8_t mac[32]);

/* 1 if mac is id's MAC under key (constant time). */
int tube_key_check(const uint8_t key[TUBE_KEY_BYTES],
                   const struct tube_ident *id, const uint8_t mac[32]);

/*
 * Reads the header of the memfd fd into *h (a copy; nothing stays
 * mapped) after checking that fd is a sealed memfd (shrink, grow and
 * seal sealed) of a tube's size, and fills *st.  Returns 0, -EINVAL for
 * anything else, or -errno.
 */
int tube_peek_memfd(int fd, struct stat *st, struct tube_shm *h);

/* A process's descriptors that could be tube memory, by inode. */
struct tube_fdmap {
	struct tube_fdmap_entry {
		uint64_t dev, ino; /* the file's identity */
		int fd;            /* its number in the process */
	} * e;                     /* entries */
	size_t n, cap;             /* used, allocated */
};

/* Lists pid's descriptors that are regular files of a tube's size
 * (/proc/<pid>/fd).  Returns 0 or -errno; m is safe to fini either way. */
int tube_fdmap_scan(pid_t pid, struct tube_fdmap *m);

/* The descriptor number of (dev, ino) in the map, or -1. */
int tube_fdmap_find(const struct tube_fdmap *m, uint64_t dev, uint64_t ino);

void tube_fdmap_fini(struct tube_fdmap *m);

/*
 * Reads the header of the tube memory (dev, ino) that the process behind
 * pidfd holds as descriptor fd, taking a copy of the descriptor
 * (pidfd_getfd) only for as long as the read takes.  Returns 0 with *h,
 * -ENOENT when fd is not that memory (any more), or -errno (-EPERM when
 * strawd may not look into that process).
 */
int tube_peek_proc(int pidfd, int fd, uint64_t dev, uint64_t ino,
                   struct tube_shm *h);

#endif /* STRAWI_TUBE_BROKER_H */
