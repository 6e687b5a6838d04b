/*
 * src/tube/tube_impl.h - the tube layer's internal header: the tube object,
 * the constructors strawd's broker and the tests use, the asynchronous open
 * and accept the layers above use (the process layer, the router), and the
 * wait operations the process layer registers so that a tube call made
 * inside a process yields instead of blocking its container's thread.
 */
#ifndef STRAWI_TUBE_IMPL_H
#define STRAWI_TUBE_IMPL_H

#include <stdint.h>

#include <stdatomic.h>

#include <straw/registry.h>
#include <straw/tube.h>

#include "tube/tube_shm.h"

/*
 * The descriptors of one side of a tube, in the order they travel with
 * SCM_RIGHTS.  The memfd and the four eventfds are the same objects on both
 * sides; the socket is this side's end of a socketpair whose other end only
 * the peer holds, so that the kernel reports a hang-up when the peer closes
 * or dies.
 */
enum strawi_tube_fd {
	STRAWI_TUBE_FD_MEM = 0,    /* memfd, STRAW_TUBE_MEMORY bytes, sealed */
	STRAWI_TUBE_FD_SOCK = 1,   /* this side's socketpair end */
	STRAWI_TUBE_FD_DATA0 = 2,  /* eventfd: wakes side 0's reader */
	STRAWI_TUBE_FD_DATA1 = 3,  /* eventfd: wakes side 1's reader */
	STRAWI_TUBE_FD_SPACE0 = 4, /* eventfd: wakes side 0's waiting writer */
	STRAWI_TUBE_FD_SPACE1 = 5, /* eventfd: wakes side 1's waiting writer */
	STRAWI_TUBE_NFDS = 6,
};

/* A new tube's descriptors for both sides: fds[s] is side s's set.  The
 * memfd and eventfds are distinct descriptors (dups) in each set, so each
 * set is closed on its own. */
struct strawi_tube_pair {
	int fds[2][STRAWI_TUBE_NFDS];
};

/*
 * Creates the shared memory (header initialised for mode, tid and the two
 * container ids), the eventfds and the socketpair of a new tube.  Returns 0
 * and fills *p (the caller owns every descriptor), or -errno / -EINVAL for
 * a bad mode, with nothing left open.  Any thread.
 */
int strawi_tube_pair_create(enum straw_tube_mode mode, uint32_t tid,
                            uint32_t c0, uint32_t c1,
                            struct strawi_tube_pair *p);

/* Closes every descriptor of side s of *p that is >= 0 and sets it to -1. */
void strawi_tube_pair_close_side(struct strawi_tube_pair *p, int s);

/*
 * Makes side `side` (0 or 1) of a tube from its descriptors (enum
 * strawi_tube_fd order), checking them: the memfd's size, seals and header,
 * the socket.  On success *out owns the tube and fds[] are owned by it
 * (closed by straw_tube_close()); on failure (-EINVAL, STRAW_ETUBECORRUPT,
 * -errno) the caller still owns fds[] and *out is unchanged.  Any thread.
 */
int strawi_tube_from_fds(int side, const int fds[STRAWI_TUBE_NFDS],
                         straw_tube **out);

/*
 * Makes side `side` of a tube from its descriptors, as
 * strawi_tube_from_fds, in memory the caller provides (sizeof(straw_tube)
 * bytes, e.g. reserved before asking strawd, so that nothing needs to be
 * allocated once the answer is there).  Allocates nothing.  On failure *t
 * is garbage and the caller still owns fds[].
 */
int strawi_tube_init(straw_tube *t, int side, const int fds[STRAWI_TUBE_NFDS]);

/* ---- asynchronous open and accept (for the layers above) ----------------- */

/*
 * The completion of an asynchronous open or accept: rc 0 with t, which the
 * callback owns from then on (it closes it with straw_tube_close, before
 * the registry connection closes), or a negative code with t NULL (the
 * errors of straw_tube_open / straw_tube_accept, and -ECANCELED when the
 * connection closed first).  Runs once, on the registry connection's I/O
 * thread, with no lock held; it must not block (see reg_async_fn in
 * src/registry/client.h: it may post to a scheduler, submit registry
 * requests, close the tube).
 */
typedef void (*strawi_tube_done_fn)(void *arg, int rc, straw_tube *t);

/*
 * Asks strawd to open tube `tid` to container `peer` (name or decimal id)
 * in mode, for service (NULL or "": none; else 1..STRAW_TUBE_SERVICE_MAX
 * bytes of [A-Za-z0-9_.-]), waiting at most timeout_ms (< 0: without
 * limit) for the peer to accept it, on r (joined).  Returns 0 - fn(arg,
 * ...) will then run exactly once - or, with fn never called and nothing
 * sent: -EINVAL (bad arguments), -ENOMEM, -ENOBUFS (r's queue of
 * asynchronous requests is full), -ECANCELED (r is closing).  Everything
 * the answer needs (the tube object included) is allocated here, so a
 * tube strawd makes is never lost for want of memory.  Never blocks.  Any
 * thread (r's I/O thread included).
 */
int strawi_tube_open_async(straw_reg *r, const char *peer, const char *service,
                           uint32_t tid, enum straw_tube_mode mode,
                           int timeout_ms, strawi_tube_done_fn fn, void *arg);

/*
 * Asks strawd for the next tube opened to this container that filter
 * accepts (NULL: opens naming no service, any tid), waiting at most
 * timeout_ms (< 0: without limit).  Returns as strawi_tube_open_async
 * (-EINVAL for a bad filter).  Never blocks.  Any thread.
 */
int strawi_tube_accept_async(straw_reg *r, const straw_tube_filter *filter,
                             int timeout_ms, strawi_tube_done_fn fn, void *arg);

/*
 * straw_tube_send_many for packets made of two pieces each: packet i is
 * pieces[2i] followed by pieces[2i+1] (either may be empty), copied once
 * into the ring - a header and a body without assembling them first (the
 * router's frames).  Returns and waits as straw_tube_send_many.
 */
int strawi_tube_send_pairs(straw_tube *t, const struct iovec *pieces, int n,
                           int timeout_ms);

/* ---- waiting inside a coroutine ------------------------------------------ */

/*
 * How a tube call waits when the caller must not block its thread (a
 * process: a coroutine of its container's scheduler).  The process layer
 * registers it with strawi_tube_set_wait_ops when a container starts; the
 * tube layer calls it only from straw_tube_send* (reliable mode, full) and
 * straw_tube_recv* / peek (empty) with a timeout other than 0.  Without it
 * (or when `yields` says no) they spin for the spin budget and then sleep
 * in ppoll(2).
 */
struct strawi_tube_wait_ops {
	uint32_t version; /* STRAWI_TUBE_WAIT_OPS_VERSION; first */
	/* Nonzero if the calling thread runs a coroutine that must yield
	 * rather than block (the tube then skips spinning, too).  Any
	 * thread; never blocks; no lock held. */
	int (*yields)(void);
	/* Waits until fd (a tube's epoll set) is readable or deadline
	 * (absolute ns of CLOCK_MONOTONIC, INT64_MAX: none) passes, letting
	 * the caller's other coroutines run.  Returns > 0 when readable
	 * (possibly spuriously), -ETIMEDOUT, or another negative code (the
	 * tube call returns it).  Called only when yields() said yes, on that
	 * thread; no lock held. */
	int (*wait_readable)(int fd, int64_t deadline);
};

#define STRAWI_TUBE_WAIT_OPS_VERSION 1

/* Registers ops (static storage; NULL: none).  Registering again
 * replaces them.  Any thread; takes effect for calls that start after. */
void strawi_tube_set_wait_ops(const struct strawi_tube_wait_ops *ops);

/* Takes a brokered tube off the list of those announced again after a
 * reconnection (before its descriptors close).  Called by
 * straw_tube_close. */
void strawi_tube_broker_forget(straw_tube *t);

/* Sends tube_adopt {opener, acceptor, tid, side, peer_gone} with nfds
 * descriptors (the tube's memory) on r: after strawd restarted, a side
 * announces its tube again (docs/tubes.md).  Returns strawd's answer. */
int strawi_tube_adopt_send(straw_reg *r, uint32_t opener, uint32_t acceptor,
                           uint32_t tid, int side, int peer_gone,
                           const int *fds, size_t nfds);

/* Tells strawd that this side of a brokered tube closed (best effort: an
 * asynchronous request, never waited for).  Called by straw_tube_close. */
void strawi_tube_broker_closed(straw_tube *t);

/* The receiving half of a tube (this side reads ring[1 - side]). */
struct tube_rx {
	const uint8_t *data;        /* ring bytes */
	struct tube_shm_ring *ring; /* its control blocks */
	uint64_t head;              /* next byte to read (local) */
	uint64_t tail_cache;        /* last tail seen */
	uint32_t off;               /* head mod ring size */
	int armed;                  /* reader_sleeping set by us */
	int peeked;                 /* a peeked packet awaits release */
	uint64_t received;          /* counters, published once per call */
	uint64_t received_bytes;    /* ... */
	/* The sending thread reads these two to publish the sums of both
	 * halves: atomics, written by this half's thread only. */
	_Atomic uint64_t wakeups; /* writer wake-ups we sent */
	_Atomic uint64_t sleeps;  /* times we slept for data */
	int data_fd;              /* eventfd that wakes us */
	int peer_space_fd;        /* eventfd that wakes the peer's writer */
};

/* The sending half (this side writes ring[side]). */
struct tube_tx {
	uint8_t *data;              /* ring bytes */
	struct tube_shm_ring *ring; /* its control blocks */
	uint64_t tail;              /* next byte to write (local) */
	uint64_t head_cache;        /* last head seen */
	uint32_t off;               /* tail mod ring size */
	uint64_t sent;              /* counters, published once per call */
	uint64_t sent_bytes;        /* ... */
	uint64_t dropped;           /* ... */
	uint64_t dropped_bytes;     /* ... */
	int armed;                  /* writer_waiting set by us (reliable) */
	_Atomic uint64_t wakeups;   /* reader wake-ups we sent (as rx's) */
	_Atomic uint64_t sleeps;    /* times we waited for room */
	int space_fd;               /* eventfd that wakes us when full */
	int peer_data_fd;           /* eventfd that wakes the peer's reader */
};

struct straw_tube {
	struct tube_tx tx;         /* sending half */
	char pad_[64];             /* keeps tx and rx off a shared line */
	struct tube_rx rx;         /* receiving half */
	struct tube_shm *shm;      /* the mapping */
	int side;                  /* 0 or 1 */
	int mode;                  /* enum straw_tube_mode */
	int64_t spin_ns;           /* spin budget before sleeping */
	int fds[STRAWI_TUBE_NFDS]; /* owned; [MEM] is -1 after mmap */
	int epfd;                  /* the user-visible fd (reading) */
	int wepfd;                 /* the write-readiness fd */
	_Atomic int peer_gone;     /* hang-up or the peer's close seen */
	uint32_t self, peer, tid;  /* container ids and tube id */
	straw_reg *reg; /* the connection it was brokered on, or NULL */
	int memfd;      /* brokered: the memory, to announce it again */
	struct straw_tube *bnext; /* brokered: the next in the list */
};

#endif /* STRAWI_TUBE_IMPL_H */
