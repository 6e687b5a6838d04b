/*
 * straw/tube.h - tubes: shared-memory packet links between two containers
 * on one machine.
 *
 * A tube carries packets of 1 to STRAW_TUBE_MAX_PACKET bytes in both
 * directions; each arrives whole, in order and intact.  Both directions
 * together live in STRAW_TUBE_MEMORY bytes of shared memory created by strawd
 * (a memfd, never a file in /dev/shm).  One side calls straw_tube_open()
 * naming the peer container and a tube id, the other straw_tube_accept(); the
 * order does not matter.
 *
 * Modes, fixed at open:
 *   STRAW_TUBE_DROP      the sender never blocks; a packet that does not fit
 *                        is dropped and counted, so that for each direction
 *                        sent == received + dropped once the reader drained
 *                        the tube.
 *   STRAW_TUBE_RELIABLE  a sender whose direction is full waits (with a
 *                        timeout) or gets -ETIMEDOUT when non-blocking.
 *
 * Timeouts are in milliseconds: < 0 waits without limit, 0 never waits
 * (non-blocking), > 0 waits at most that long (-ETIMEDOUT past it).
 *
 * Wake-ups: a reader that finds the tube empty spins for its spin budget
 * (straw_tube_set_spin()), then sleeps; the writer wakes it only when it
 * sleeps, so a busy tube costs no system call per packet.
 *
 * Readiness (straw_tube_fd()): the fd is level-triggered readable while a
 * packet waits that arrived after the last recv that returned -ETIMEDOUT (or
 * slept), and permanently once the tube is closed or the peer is gone.  Use
 * it like an edge-triggered socket: on readable, call recv until it returns
 * -ETIMEDOUT.  It may be readable once more after a wake-up whose packets were
 * already received; recv then returns -ETIMEDOUT and re-arms it.
 * straw_tube_write_fd() is the same for room to send in reliable mode: it
 * turns readable once a quarter of the direction is free again after a
 * send returned -ETIMEDOUT, and once the peer is gone.
 *
 * Inside a straw process (a coroutine of a container, <straw/straw.h>),
 * a reliable send that finds the tube full and a recv that finds it empty
 * do not spin and do not block the container's thread: the process waits
 * through the container's reactor and the other processes (and timers)
 * run meanwhile.  Elsewhere they spin for the spin budget, then sleep.
 *
 * Teardown: after straw_tube_close() by the peer or the peer's death (even by
 * SIGKILL, sensed through the kernel by a socket hang-up, never a timer) the
 * survivor receives every packet still in the tube, then -EPIPE; its fd
 * turns readable at once.  Sends to a closed tube return -EPIPE.
 *
 * Threads: one straw_tube may be used by one sending thread and one
 * receiving thread at once (send* and recv* never touch each other's state);
 * every other call must not run concurrently with either.
 */
#ifndef STRAW_TUBE_H
#define STRAW_TUBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <straw/err.h>
#include <straw/export.h>
#include <straw/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRAW_TUBE_MAX_PACKET  4096         /* largest packet, bytes */
#define STRAW_TUBE_MEMORY      (256 * 1024) /* shared memory per tube */
#define STRAW_TUBE_SERVICE_MAX 64           /* bytes of a service name */

enum straw_tube_mode {
	STRAW_TUBE_DROP = 1,     /* sender never blocks; drops are counted */
	STRAW_TUBE_RELIABLE = 2, /* sender waits for room */
};

typedef struct straw_tube straw_tube;

/* Counters of one side; straw_tube_get_stats() returns both sides. */
typedef struct straw_tube_side_stats {
	uint64_t sent;           /* packets offered to send (incl. dropped) */
	uint64_t sent_bytes;     /* their payload bytes */
	uint64_t dropped;        /* packets dropped because the tube was full */
	uint64_t dropped_bytes;  /* their payload bytes */
	uint64_t received;       /* packets received */
	uint64_t received_bytes; /* their payload bytes */
	uint64_t wakeups;        /* times this side woke the sleeping peer */
	uint64_t sleeps; /* times this side slept waiting for the peer */
} straw_tube_side_stats;

typedef struct straw_tube_stats {
	straw_tube_side_stats self; /* this side's counters */
	straw_tube_side_stats peer; /* the peer's, as last published by it */
} straw_tube_stats;

/*
 * Which opens an accept takes.  An open may name a service (for example
 * the router's straws name "straw"); an accept takes only opens that name
 * exactly its filter's service - an accept without a service takes only
 * opens without one - and whose tube id lies in [tid_min, tid_max].  So
 * acceptors with disjoint filters never take each other's tubes, and an
 * application's plain accepts never take a service's.
 */
typedef struct straw_tube_filter {
	const char *service; /* NULL or "": opens naming no service */
	uint32_t tid_min;    /* lowest tube id taken */
	uint32_t tid_max;    /* highest tube id taken (>= tid_min) */
} straw_tube_filter;

/*
 * Opens tube `tid` to the container `peer` (its decimal id or its name)
 * through the strawd r is connected to (r must have joined as a container,
 * straw_reg_join), in `mode`, and waits until the peer accepts it, at most
 * timeout_ms.  The peer must run as the same uid, unless its registry
 * entry /containers/<id>/data/tubes-from lists the caller's uid or "*".
 * On success *out owns the new tube (free with straw_tube_close(), before
 * straw_reg_close(r)).  Errors: -EINVAL (bad mode or peer, the peer is this
 * container), -ENOENT (no such container), -EACCES (other uid, not
 * allowed), -EEXIST (this tube id is open or being opened from this
 * container to that peer), -ETIMEDOUT (not accepted in time),
 * -ECONNRESET (strawd went away while the open waited: try again),
 * STRAW_ENOTJOINED, STRAW_ENODAEMON, -ENOMEM, -ENOBUFS (too many
 * requests of r in flight); *out is left unchanged.  Blocks the calling
 * thread (inside a process use straw_container_tube_open, which yields);
 * other calls on r go on meanwhile.  Any thread but a process.  A tube
 * opened or accepted through strawd announces itself again (its /tubes
 * entry) whenever r reconnects to a restarted strawd.
 */
STRAW_API int straw_tube_open(straw_reg *r, const char *peer, uint32_t tid,
                              enum straw_tube_mode mode, int timeout_ms,
                              straw_tube **out);

/*
 * straw_tube_open() for a service: only an accept whose filter names the
 * same service takes it (service NULL or "" is straw_tube_open; else 1 to
 * STRAW_TUBE_SERVICE_MAX bytes of [A-Za-z0-9_.-], -EINVAL otherwise).
 */
STRAW_API int straw_tube_open_service(straw_reg *r, const char *peer,
                                      const char *service, uint32_t tid,
                                      enum straw_tube_mode mode, int timeout_ms,
                                      straw_tube **out);

/*
 * Accepts the next tube any container opens to this one without naming a
 * service (or has opened and waits for an accept), waiting at most
 * timeout_ms: straw_tube_accept_filtered() with a NULL filter.  On success
 * *out owns the tube; straw_tube_get_info() tells the peer, the tube id
 * and the mode.  Errors: -ETIMEDOUT (also at once for timeout 0 and none
 * pending), -ECONNRESET (strawd went away meanwhile), STRAW_ENOTJOINED,
 * STRAW_ENODAEMON, -ENOMEM, -ENOBUFS; *out unchanged.  Blocks the calling
 * thread (inside a process use straw_container_tube_accept); other calls
 * on r go on meanwhile.  Any thread but a process.
 */
STRAW_API int straw_tube_accept(straw_reg *r, int timeout_ms, straw_tube **out);

/*
 * Accepts the next tube opened to this container that `filter` takes (see
 * straw_tube_filter; NULL: opens naming no service, any tube id).  As
 * straw_tube_accept() otherwise; -EINVAL for a bad service name or
 * tid_min > tid_max.
 */
STRAW_API int straw_tube_accept_filtered(straw_reg *r,
                                         const straw_tube_filter *filter,
                                         int timeout_ms, straw_tube **out);

/*
 * Inside a container (<straw/straw.h>): straw_tube_open_service() and
 * straw_tube_accept_filtered() on the container's own registry connection
 * (the container is the tube's side; no second straw_reg_join is needed).
 * Called from a process, the process waits (parked: the container's other
 * processes and timers run meanwhile) and the completion wakes it; called
 * from an attached thread (straw_attach), that thread blocks.  On success
 * *out owns the tube: close it with straw_tube_close() before the
 * container ends (straw_container_wait); a tube is not tied to the
 * process that opened it.  Errors: those of straw_tube_open_service() /
 * straw_tube_accept_filtered(), and STRAW_ENOTCONTAINER (not a process of
 * a container nor attached to one), STRAW_ENOTJOINED (the container runs
 * without strawd, STRAW_CONTAINER_LOCAL), STRAW_ENOPROC (the container is
 * shutting down); *out unchanged.  A process killed while it waits ends
 * there (nothing leaks: a tube that arrives for it is closed).
 */
STRAW_API int straw_container_tube_open(const char *peer, const char *service,
                                        uint32_t tid, enum straw_tube_mode mode,
                                        int timeout_ms, straw_tube **out);
STRAW_API int straw_container_tube_accept(const straw_tube_filter *filter,
                                          int timeout_ms, straw_tube **out);

/*
 * Asks strawd to write the current state and counters of every tube it
 * brokered to the registry (/tubes/...; `straw tubes` does this) and to
 * forget tubes both sides of which are gone.  Returns 0, STRAW_ENODAEMON or
 * -errno.  Blocks for one round trip.  Any thread.
 */
STRAW_API int straw_tube_publish(straw_reg *r);

/*
 * Closes this side: the peer receives what is still in the tube, then
 * -EPIPE.  Frees t and its descriptors; the shared memory goes away when
 * both sides closed or died.  NULL is a no-op.  For a tube opened through
 * strawd, tells strawd with an asynchronous request on the registry
 * connection (which must still be open).  Never blocks.  Must not run
 * concurrently with any other call on t.
 */
STRAW_API void straw_tube_close(straw_tube *t);

/*
 * Sends one packet of len bytes (copied).  Returns 1 when it was queued,
 * and in drop mode 0 when the tube was full and it was dropped (counted).
 * Reliable mode waits for room up to timeout_ms (inside a process, the
 * process yields meanwhile).  Errors: -EMSGSIZE (len 0 or >
 * STRAW_TUBE_MAX_PACKET; nothing sent or counted), -ETIMEDOUT (reliable
 * mode, still full when the time ran out, at once for timeout 0; the
 * write-readiness fd then turns readable when room is made), -EPIPE
 * (closed or peer gone), STRAW_ETUBECORRUPT (the peer broke the shared
 * memory), or an error of the container's reactor when waiting inside a
 * process (-EBUSY: another process waits to send on t).  The sending
 * thread.
 */
STRAW_API int straw_tube_send(straw_tube *t, const void *buf, size_t len,
                              int timeout_ms);

/*
 * Sends n packets, pkts[i] being one packet each, in order, publishing them
 * to the reader at once.  Returns how many were queued: in drop mode the
 * packets from the first that did not fit on are dropped and counted (the
 * call never waits); in reliable mode it waits (timeout_ms) only while not
 * even the first fits, and returns >= 1 or an error.  Errors as for
 * straw_tube_send(); a bad length anywhere fails the whole call with
 * -EMSGSIZE and sends nothing.  n <= 0 returns 0.  The sending thread.
 */
STRAW_API int straw_tube_send_many(straw_tube *t, const struct iovec *pkts,
                                   int n, int timeout_ms);

/*
 * Receives one packet into buf (cap bytes) and returns its length, waiting
 * up to timeout_ms for one (after spinning for the spin budget; inside a
 * process, yielding instead).  Errors:
 * -ETIMEDOUT (also for timeout 0 and empty), -EPIPE (empty and the peer closed
 * or died, or this side closed its sending half), -EMSGSIZE (the next packet
 * is longer than cap; it stays queued), STRAW_ETUBECORRUPT.  The receiving
 * thread.
 */
STRAW_API int straw_tube_recv(straw_tube *t, void *buf, size_t cap,
                              int timeout_ms);

/*
 * Receives up to n packets: packet i is copied to pkts[i].iov_base, whose
 * capacity is pkts[i].iov_len, and iov_len is set to its length.  Waits (as
 * straw_tube_recv()) only while none is there; returns how many (>= 1), or
 * the errors of straw_tube_recv() (-EMSGSIZE only if the first does not fit;
 * a later one that does not fit ends the batch and stays queued).
 * The receiving thread.
 */
STRAW_API int straw_tube_recv_many(straw_tube *t, struct iovec *pkts, int n,
                                   int timeout_ms);

/*
 * Zero-copy receive: waits like straw_tube_recv() for the next packet and
 * points *data at it inside the shared memory, returning its length.  The
 * bytes stay valid and unchanged until straw_tube_release(); the peer may
 * still be hostile, so validate what you read once.  Calling peek again
 * without release returns the same packet.  The receiving thread.
 */
STRAW_API int straw_tube_peek(straw_tube *t, const void **data, int timeout_ms);

/*
 * Consumes the packet straw_tube_peek() returned.  Returns 0, or -EINVAL if
 * no packet is peeked.  The receiving thread.
 */
STRAW_API int straw_tube_release(straw_tube *t);

/*
 * The descriptor to poll or epoll for reading (see "Readiness" above).
 * Owned by t: do not read from or close it.  Any thread.
 */
STRAW_API int straw_tube_fd(const straw_tube *t);

/*
 * The descriptor to poll for room to send in reliable mode: readable once
 * the reader freed a quarter of this direction after a send returned
 * -ETIMEDOUT, and permanently once the peer is gone (see "Readiness"
 * above; on readable, send again).  In drop mode it turns readable only
 * when the peer is gone.  Owned by t: do not read from or close it.  Any
 * thread.
 */
STRAW_API int straw_tube_write_fd(const straw_tube *t);

/*
 * Sets how long a reader (or a reliable-mode writer waiting for room) spins
 * before it sleeps, in nanoseconds; 0 sleeps at once.  Default 20000.
 * Returns 0, or -EINVAL for a negative value.  Not concurrently with
 * send/recv.
 */
STRAW_API int straw_tube_set_spin(straw_tube *t, int64_t spin_ns);

/*
 * Fills *st with this side's counters (exact) and the peer's (as published
 * by the peer at its last send or receive call).  Never blocks.  Any thread;
 * values read during concurrent traffic are each exact but not a snapshot.
 */
STRAW_API void straw_tube_get_stats(const straw_tube *t, straw_tube_stats *st);

/* What a tube connects; straw_tube_get_info() fills it. */
typedef struct straw_tube_info {
	uint32_t self;             /* this container's id (0: not brokered) */
	uint32_t peer;             /* the peer container's id */
	uint32_t tid;              /* tube id */
	enum straw_tube_mode mode; /* drop or reliable */
	int side;                  /* 0: this side opened, 1: accepted */
} straw_tube_info;

/* Fills *info.  Never blocks.  Any thread. */
STRAW_API void straw_tube_get_info(const straw_tube *t, straw_tube_info *info);

#ifdef __cplusplus
}
#endif
#endif /* STRAW_TUBE_H */
