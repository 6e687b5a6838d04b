/*
 * tests/tube_util.h - what the tests of brokered tubes share: both ends of
 * a tube in one process (the accept runs in a thread), and sealed memfds
 * of a tube's size holding a given header, as a forger makes them.
 */
#ifndef STRAW_TESTS_TUBE_UTIL_H
#define STRAW_TESTS_TUBE_UTIL_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <straw/registry.h>
#include <straw/tube.h>

#include "testing/check.h"
#include "tube/tube_impl.h"

/* Accepts on r in a thread, so that one process can hold both ends. */
struct tu_accepter {
	straw_reg *r;  /* joined connection */
	straw_tube *t; /* the tube accepted */
	int rc;        /* straw_tube_accept's result */
	pthread_t th;  /* the thread */
};

static inline void *
tu_accepter_main(void *arg)
{
	struct tu_accepter *a = arg;

	a->rc = straw_tube_accept(a->r, 10000, &a->t);
	return NULL;
}

/* Opens tube tid from ra to the container `peer` that rb joined as, in
 * this process.  Returns 0 with both ends, or the first error. */
static inline int
tu_open_pair(straw_reg *ra, straw_reg *rb, const char *peer, uint32_t tid,
             straw_tube **ta, straw_tube **tb)
{
	struct tu_accepter acc = {rb, NULL, 0, 0};
	int rc;

	if (pthread_create(&acc.th, NULL, tu_accepter_main, &acc) != 0)
		return -EAGAIN;
	rc = straw_tube_open(ra, peer, tid, STRAW_TUBE_RELIABLE, 10000, ta);
	pthread_join(acc.th, NULL);
	if (rc == 0 && acc.rc < 0) {
		straw_tube_close(*ta);
		rc = acc.rc;
	}
	if (rc < 0) {
		if (acc.rc == 0)
			straw_tube_close(acc.t);
		return rc;
	}
	*tb = acc.t;
	return 0;
}

/* A sealed memfd of a tube's size holding the first len bytes of hdr, or
 * -1. */
static inline int
tu_memfd_with(const void *hdr, size_t len)
{
	int fd = memfd_create("forged", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, STRAW_TUBE_MEMORY) < 0 ||
	    pwrite(fd, hdr, len, 0) != (ssize_t)len ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) <
	            0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A header such as a forger writes: the identity of tube (c0, c1, tid),
 * and a nonce and MAC of its own invention. */
static inline void
tu_forged_header(struct tube_shm *h, uint32_t c0, uint32_t c1, uint32_t tid)
{
	memset(h, 0, sizeof(*h));
	h->magic = TUBE_MAGIC;
	h->version = TUBE_VERSION;
	h->mode = STRAW_TUBE_RELIABLE;
	h->ring_bytes = TUBE_RING_BYTES;
	h->tid = tid;
	h->container[0] = c0;
	h->container[1] = c1;
	memset(h->nonce, 0x5a, sizeof(h->nonce));
	memset(h->mac, 0xa5, sizeof(h->mac));
}

#endif /* STRAW_TESTS_TUBE_UTIL_H */
