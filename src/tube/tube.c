/*
 * src/tube/tube.c - the data path of a tube: packet rings, wake-ups, peer
 * death.  See docs/tubes.md for the protocol; tube_shm.h for the layout.
 *
 * The hot path makes no system call: a writer copies records into its ring
 * and publishes its tail once per call; a reader re-reads the peer's tail
 * only when its cached copy says the ring is empty, and publishes its head
 * once per call.  Sleeping uses the Dekker pattern on both sides:
 *
 *   reader: reader_sleeping = 1; fence; re-read tail; sleep if still empty
 *   writer: tail = t;            fence; if reader_sleeping, clear it, wake
 *
 * so one of them always sees the other's store, and a wake-up (one eventfd
 * write) happens only when the reader really sleeps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "tube/tube_impl.h"

#define RING TUBE_RING_BYTES

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Adds one to an eventfd: wakes whoever sleeps on it. */
static void
wake_fd(int fd)
{
	uint64_t one = 1;
	ssize_t r;

	do
		r = write(fd, &one, sizeof(one));
	while (r < 0 && errno == EINTR);
	/* EAGAIN only if the counter is near 2^64: it is readable anyway. */
}

/* Empties an eventfd; returns 1 if it held a signal. */
static int
drain_fd(int fd)
{
	uint64_t v;
	ssize_t r;

	do
		r = read(fd, &v, sizeof(v));
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)sizeof(v);
}

/* 1 if the socketpair end reports the peer's end closed (or, from a
 * misbehaving peer, anything at all: a tube never sends on it). */
static int
sock_hung_up(int fd)
{
	struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};

	return poll(&p, 1, 0) > 0 && p.revents != 0;
}

/* How a tube call waits inside a coroutine (tube_impl.h); NULL: none. */
static _Atomic(const struct strawi_tube_wait_ops *) wait_ops;

void
strawi_tube_set_wait_ops(const struct strawi_tube_wait_ops *ops)
{
	STRAWI_ASSERT(ops == NULL ||
	              ops->version == STRAWI_TUBE_WAIT_OPS_VERSION);
	atomic_store(&wait_ops, ops);
}

/* The registered wait operations if the caller must yield rather than
 * block, else NULL (slow paths only). */
static const struct strawi_tube_wait_ops *
yielding(void)
{
	const struct strawi_tube_wait_ops *ops =
	        atomic_load_explicit(&wait_ops, memory_order_acquire);

	return ops != NULL && ops->yields() ? ops : NULL;
}

/*
 * Sleeps until wake_fd or the hang-up socket turns readable or the deadline
 * (absolute ns, INT64_MAX for none) passes.  set is the epoll set of both
 * (the tube's readiness fd for this direction), waited on through ops when
 * the caller yields.  Returns 1 if wake_fd held a signal (drained), 2 on
 * hang-up, 0 on timeout or a signal, or the error of ops's wait.
 */
static int
wait_fds(const struct strawi_tube_wait_ops *ops, int set, int wfd, int sock,
         int64_t deadline)
{
	struct pollfd p[2] = {{wfd, POLLIN, 0}, {sock, POLLIN | POLLRDHUP, 0}};
	struct timespec ts, *tsp = NULL;
	int r;

	if (ops != NULL) {
		r = ops->wait_readable(set, deadline);
		if (r == -ETIMEDOUT)
			return 0;
		if (r < 0)
			return r;
		if (sock_hung_up(sock))
			return 2;
		return drain_fd(wfd) ? 1 : 0;
	}

	if (deadline != INT64_MAX) {
		int64_t left = deadline - strawi_now_ns();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		tsp = &ts;
	}
	r = ppoll(p, 2, tsp, NULL);
	if (r <= 0)
		return 0;
	if (p[1].revents != 0)
		return 2;
	return drain_fd(wfd) ? 1 : 0;
}

/* A counter of one half, kept by that half's thread and read by the other
 * half's (relaxed: plain loads and stores on the usual machines). */
#define TUBE_GET(a) atomic_load_explicit(&(a), memory_order_relaxed)
#define TUBE_BUMP(a) \
	atomic_store_explicit(&(a), TUBE_GET(a) + 1, memory_order_relaxed)

/* Publishes this side's sleep count (slow path only). */
static void
publish_sleeps(straw_tube *t)
{
	atomic_store_explicit(&t->shm->stats[t->side].sleeps,
	                      TUBE_GET(t->rx.sleeps) + TUBE_GET(t->tx.sleeps),
	                      memory_order_relaxed);
}

/* How long to spin: the budget, but never longer than the timeout. */
static int64_t
spin_budget(const straw_tube *t, int timeout_ms)
{
	int64_t limit = (int64_t)timeout_ms * 1000000;

	return timeout_ms > 0 && limit < t->spin_ns ? limit : t->spin_ns;
}

static inline int64_t
deadline_of(int timeout_ms)
{
	return strawi_deadline_ms(timeout_ms);
}

/* ---------------------------------------------------------------------- */
/* Receiving */

/*
 * Finds the next packet: returns its length and points *p at it, -EAGAIN if
 * the ring is empty, STRAW_ETUBECORRUPT if the peer wrote nonsense.  Skips
 * wrap markers (consuming them locally).
 */
static inline int
rx_next(struct tube_rx *rx, const uint8_t **p)
{
	for (;;) {
		uint64_t avail = rx->tail_cache - rx->head;
		uint32_t len, rec;

		if (avail == 0) {
			rx->tail_cache = atomic_load_explicit(
			        &rx->ring->tail, memory_order_acquire);
			avail = rx->tail_cache - rx->head;
			if (avail == 0)
				return -EAGAIN;
			if (unlikely(avail > RING))
				return STRAW_ETUBECORRUPT;
		}
		len = *(const uint32_t *)(rx->data + rx->off);
		if (len == TUBE_REC_WRAP) {
			uint32_t skip = RING - rx->off;
			if (unlikely(skip > avail || rx->off == 0))
				return STRAW_ETUBECORRUPT;
			rx->head += skip;
			rx->off = 0;
			continue;
		}
		rec = TUBE_REC_BYTES(len);
		if (unlikely(len == 0 || len > STRAW_TUBE_MAX_PACKET ||
		             rec > avail || rec > RING - rx->off))
			return STRAW_ETUBECORRUPT;
		*p = rx->data + rx->off + TUBE_REC_HDR;
		return (int)len;
	}
}

static inline void
rx_advance(struct tube_rx *rx, uint32_t len)
{
	uint32_t rec = TUBE_REC_BYTES(len);

	rx->head += rec;
	rx->off += rec;
	if (rx->off == RING)
		rx->off = 0;
	rx->received++;
	rx->received_bytes += len;
}

/* Ends an armed period: the writer may have taken the flag and signalled
 * (or be about to); empty the eventfd so the user fd shows no stale
 * readiness. */
static void
rx_disarm(struct tube_rx *rx)
{
	rx->armed = 0;
	if (atomic_exchange_explicit(&rx->ring->reader_sleeping, 0,
	                             memory_order_relaxed) == 0)
		drain_fd(rx->data_fd);
}

/* Publishes the head and this side's receive counters; in reliable mode
 * wakes a writer that waits for the room now free. */
static void
rx_publish(straw_tube *t)
{
	struct tube_rx *rx = &t->rx;
	struct tube_shm_stats *st = &t->shm->stats[t->side];
	uint64_t w;

	atomic_store_explicit(&rx->ring->head, rx->head, memory_order_release);
	if (t->mode == STRAW_TUBE_RELIABLE) {
		atomic_thread_fence(memory_order_seq_cst);
		w = atomic_load_explicit(&rx->ring->writer_waiting,
		                         memory_order_relaxed);
		if (w != 0 && rx->head + 1 >= w &&
		    atomic_compare_exchange_strong(&rx->ring->writer_waiting,
		                                   &w, 0)) {
			wake_fd(rx->peer_space_fd);
			TUBE_BUMP(rx->wakeups);
		}
	}
	if (rx->armed)
		rx_disarm(rx);
	atomic_store_explicit(&st->received, rx->received,
	                      memory_order_relaxed);
	atomic_store_explicit(&st->received_bytes, rx->received_bytes,
	                      memory_order_relaxed);
	atomic_store_explicit(&st->wakeups,
	                      TUBE_GET(rx->wakeups) + TUBE_GET(t->tx.wakeups),
	                      memory_order_relaxed);
}

/* 1 if the ring holds a packet (re-reading the tail). */
static inline int
rx_ready(struct tube_rx *rx)
{
	if (rx->tail_cache != rx->head)
		return 1;
	rx->tail_cache =
	        atomic_load_explicit(&rx->ring->tail, memory_order_acquire);
	return rx->tail_cache != rx->head;
}

/* Notes that the peer is gone, for both halves. */
static void
set_peer_gone(straw_tube *t)
{
	atomic_store_explicit(&t->peer_gone, 1, memory_order_relaxed);
}

/* 1 if the peer will send nothing more: it closed or went away. */
static int
rx_peer_done(straw_tube *t)
{
	if (atomic_load_explicit(&t->peer_gone, memory_order_relaxed))
		return 1;
	if (atomic_load_explicit(&t->shm->closed[1 - t->side],
	                         memory_order_acquire)) {
		set_peer_gone(t);
		return 1;
	}
	return 0;
}

/*
 * Waits until a packet is there (returns 0) or for an error: -ETIMEDOUT
 * (also for timeout 0), -EPIPE once the peer is done and the ring empty.
 */
static int
rx_wait(straw_tube *t, int timeout_ms)
{
	const struct strawi_tube_wait_ops *ops =
	        timeout_ms != 0 ? yielding() : NULL;
	struct tube_rx *rx = &t->rx;
	int64_t deadline = 0, spin_end;
	int spun = ops != NULL, r;

	for (;;) {
		if (rx_ready(rx))
			return 0;
		if (rx_peer_done(t))
			return rx_ready(rx) ? 0 : -EPIPE;
		if (timeout_ms != 0 && !spun && t->spin_ns > 0) {
			unsigned i = 0;
			spun = 1;
			spin_end = strawi_now_ns() + spin_budget(t, timeout_ms);
			for (;;) {
				if (atomic_load_explicit(
				            &rx->ring->tail,
				            memory_order_relaxed) != rx->head)
					break;
				cpu_relax();
				if ((++i & 127) == 0) {
					if (strawi_now_ns() >= spin_end)
						break;
					if (rx_peer_done(t))
						break;
				}
			}
			continue;
		}
		if (!rx->armed) {
			atomic_store_explicit(&rx->ring->reader_sleeping, 1,
			                      memory_order_relaxed);
			rx->armed = 1;
			atomic_thread_fence(memory_order_seq_cst);
			continue; /* re-check the tail after the fence */
		}
		if (timeout_ms == 0) {
			if (sock_hung_up(t->fds[STRAWI_TUBE_FD_SOCK])) {
				set_peer_gone(t);
				continue;
			}
			return -ETIMEDOUT;
		}
		if (deadline == 0)
			deadline = deadline_of(timeout_ms);
		TUBE_BUMP(rx->sleeps);
		publish_sleeps(t);
		r = wait_fds(ops, t->epfd, rx->data_fd,
		             t->fds[STRAWI_TUBE_FD_SOCK], deadline);
		if (r < 0)
			return r;
		if (r == 2) {
			set_peer_gone(t);
			continue;
		}
		if (r == 1) {
			/* The writer cleared the flag and signalled; arm
			 * again if it turns out there is nothing. */
			rx->armed = 0;
			continue;
		}
		if (strawi_now_ns() >= deadline)
			return rx_ready(rx) ? 0 : -ETIMEDOUT;
	}
}

int
straw_tube_recv_many(straw_tube *t, struct iovec *pkts, int n, int timeout_ms)
{
	struct tube_rx *rx = &t->rx;
	const uint8_t *p;
	int i = 0, len;

	if (n <= 0)
		return 0;
	if (unlikely(rx->peeked))
		return -EINVAL;
	len = rx_next(rx, &p);
	if (len == -EAGAIN) {
		int rc = rx_wait(t, timeout_ms);
		if (rc < 0)
			return rc;
		len = rx_next(rx, &p);
	}
	while (len > 0) {
		if ((size_t)len > pkts[i].iov_len) {
			if (i == 0)
				return -EMSGSIZE;
			break;
		}
		memcpy(pkts[i].iov_base, p, (size_t)len);
		pkts[i].iov_len = (size_t)len;
		rx_advance(rx, (uint32_t)len);
		if (++i == n)
			break;
		len = rx_next(rx, &p);
	}
	if (i > 0) {
		rx_publish(t);
		return i;
	}
	return len; /* corrupt */
}

int
straw_tube_recv(straw_tube *t, void *buf, size_t cap, int timeout_ms)
{
	struct iovec v = {buf, cap};
	int rc = straw_tube_recv_many(t, &v, 1, timeout_ms);

	return rc == 1 ? (int)v.iov_len : rc;
}

int
straw_tube_peek(straw_tube *t, const void **data, int timeout_ms)
{
	struct tube_rx *rx = &t->rx;
	const uint8_t *p;
	int len = rx_next(rx, &p);

	if (len == -EAGAIN) {
		int rc = rx_wait(t, timeout_ms);
		if (rc < 0)
			return rc;
		len = rx_next(rx, &p);
	}
	if (len > 0) {
		rx->peeked = len;
		*data = p;
	}
	return len;
}

int
straw_tube_release(straw_tube *t)
{
	struct tube_rx *rx = &t->rx;

	if (rx->peeked == 0)
		return -EINVAL;
	rx_advance(rx, (uint32_t)rx->peeked);
	rx->peeked = 0;
	rx_publish(t);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Sending */

/*
 * 1 if a record of rec bytes fits (with *skip bytes of wrap padding first),
 * 0 if not, STRAW_ETUBECORRUPT if the peer's head is impossible.  Re-reads
 * the peer's head only when the cached one says full.
 */
static inline int
tx_fits(struct tube_tx *tx, uint32_t rec, uint32_t *skip)
{
	uint32_t rem = RING - tx->off;
	uint32_t sk = rem < rec ? rem : 0;
	uint64_t end = tx->tail + sk + rec;

	if (end - tx->head_cache > RING) {
		uint64_t h = atomic_load_explicit(&tx->ring->head,
		                                  memory_order_acquire);
		if (unlikely(h > tx->tail || tx->tail - h > RING ||
		             h < tx->head_cache))
			return STRAW_ETUBECORRUPT;
		tx->head_cache = h;
		if (end - h > RING)
			return 0;
	}
	*skip = sk;
	return 1;
}

/* Writes one packet of len bytes made of `parts` pieces v[0..parts). */
static inline void
tx_put(struct tube_tx *tx, const struct iovec *v, int parts, uint32_t len,
       uint32_t skip)
{
	uint32_t rec = TUBE_REC_BYTES(len);
	uint8_t *p;
	int k;

	if (skip) {
		*(uint32_t *)(tx->data + tx->off) = TUBE_REC_WRAP;
		tx->tail += skip;
		tx->off = 0;
	}
	p = tx->data + tx->off;
	*(uint64_t *)p = len; /* length, then 4 zero bytes */
	p += TUBE_REC_HDR;
	for (k = 0; k < parts; k++) {
		if (v[k].iov_len == 0)
			continue; /* its base may be NULL */
		memcpy(p, v[k].iov_base, v[k].iov_len);
		p += v[k].iov_len;
	}
	tx->tail += rec;
	tx->off += rec;
	if (tx->off == RING)
		tx->off = 0;
}

/* Publishes the tail and the send counters; wakes the reader if it sleeps. */
static void
tx_publish(straw_tube *t, int wrote)
{
	struct tube_tx *tx = &t->tx;
	struct tube_shm_stats *st = &t->shm->stats[t->side];

	if (wrote) {
		atomic_store_explicit(&tx->ring->tail, tx->tail,
		                      memory_order_release);
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&tx->ring->reader_sleeping,
		                         memory_order_relaxed) &&
		    atomic_exchange_explicit(&tx->ring->reader_sleeping, 0,
		                             memory_order_relaxed)) {
			wake_fd(tx->peer_data_fd);
			TUBE_BUMP(tx->wakeups);
		}
	}
	atomic_store_explicit(&st->sent, tx->sent, memory_order_relaxed);
	atomic_store_explicit(&st->sent_bytes, tx->sent_bytes,
	                      memory_order_relaxed);
	if (t->mode == STRAW_TUBE_DROP) {
		atomic_store_explicit(&st->dropped, tx->dropped,
		                      memory_order_relaxed);
		atomic_store_explicit(&st->dropped_bytes, tx->dropped_bytes,
		                      memory_order_relaxed);
	}
	atomic_store_explicit(&st->wakeups,
	                      TUBE_GET(tx->wakeups) + TUBE_GET(t->rx.wakeups),
	                      memory_order_relaxed);
}

/* 1 if sending is pointless: the peer closed or went away. */
static inline int
tx_peer_done(straw_tube *t)
{
	if (unlikely(atomic_load_explicit(&t->peer_gone, memory_order_relaxed)))
		return 1;
	if (unlikely(atomic_load_explicit(&t->shm->closed[1 - t->side],
	                                  memory_order_relaxed))) {
		set_peer_gone(t);
		return 1;
	}
	return 0;
}

/* Ends an armed wait for room: the reader may have taken the flag and
 * signalled (or be about to); empty the eventfd so that the write fd
 * shows no stale readiness. */
static void
tx_disarm(struct tube_tx *tx)
{
	tx->armed = 0;
	if (atomic_exchange(&tx->ring->writer_waiting, 0) == 0)
		drain_fd(tx->space_fd);
}

/*
 * Reliable mode: waits until a record of rec bytes fits.  Returns 1 (fits,
 * *skip set), -ETIMEDOUT (also for timeout 0), -EPIPE or STRAW_ETUBECORRUPT.
 * On -ETIMEDOUT the writer stays armed, so the write fd turns readable once
 * room is made (the next send disarms).
 */
static int
tx_wait(straw_tube *t, uint32_t rec, uint32_t *skip, int timeout_ms)
{
	const struct strawi_tube_wait_ops *ops =
	        timeout_ms != 0 ? yielding() : NULL;
	struct tube_tx *tx = &t->tx;
	int64_t deadline = 0;
	int spun = ops != NULL, r;

	for (;;) {
		r = tx_fits(tx, rec, skip);
		if (r != 0 || tx_peer_done(t)) {
			if (tx->armed)
				tx_disarm(tx);
			if (r == 0)
				return -EPIPE;
			return r;
		}
		if (timeout_ms != 0 && !spun && t->spin_ns > 0) {
			int64_t end =
			        strawi_now_ns() + spin_budget(t, timeout_ms);
			uint64_t h0 = tx->head_cache;
			unsigned i = 0;
			spun = 1;
			while (atomic_load_explicit(&tx->ring->head,
			                            memory_order_relaxed) ==
			       h0) {
				cpu_relax();
				if ((++i & 127) == 0 &&
				    (strawi_now_ns() >= end || tx_peer_done(t)))
					break;
			}
			continue;
		}
		if (!tx->armed) {
			/* Wait until a quarter of the ring is free (or the
			 * record fits), so that wake-ups come in batches. */
			uint32_t rem = RING - tx->off;
			uint64_t want = rec + (rem < rec ? rem : 0);
			if (want < RING / 4)
				want = RING / 4;
			atomic_store(&tx->ring->writer_waiting,
			             tx->tail + want - RING + 1);
			tx->armed = 1;
			continue; /* seq_cst store: re-check the head */
		}
		if (timeout_ms == 0) {
			if (sock_hung_up(t->fds[STRAWI_TUBE_FD_SOCK])) {
				set_peer_gone(t);
				continue;
			}
			return -ETIMEDOUT;
		}
		if (deadline == 0)
			deadline = deadline_of(timeout_ms);
		TUBE_BUMP(tx->sleeps);
		publish_sleeps(t);
		r = wait_fds(ops, t->wepfd, tx->space_fd,
		             t->fds[STRAWI_TUBE_FD_SOCK], deadline);
		if (r < 0)
			return r;
		if (r == 2) {
			set_peer_gone(t);
			continue;
		}
		if (r == 1) {
			tx->armed = 0; /* the reader cleared the flag */
			continue;
		}
		if (strawi_now_ns() >= deadline) {
			r = tx_fits(tx, rec, skip);
			if (r != 0 && tx->armed)
				tx_disarm(tx);
			return r != 0 ? r : -ETIMEDOUT;
		}
	}
}

/* The length of packet i of v, made of `parts` pieces each. */
static inline size_t
pkt_len(const struct iovec *v, int parts, int i)
{
	size_t len = 0;
	int k;

	for (k = 0; k < parts; k++)
		len += v[i * parts + k].iov_len;
	return len;
}

/* send_many, for packets made of `parts` pieces each. */
static int
send_core(straw_tube *t, const struct iovec *pkts, int parts, int n,
          int timeout_ms)
{
	struct tube_tx *tx = &t->tx;
	uint32_t skip = 0;
	int i, r;

	if (n <= 0)
		return 0;
	for (i = 0; i < n; i++)
		if (unlikely(pkt_len(pkts, parts, i) - 1 >=
		             STRAW_TUBE_MAX_PACKET))
			return -EMSGSIZE;
	if (tx_peer_done(t))
		return -EPIPE;
	if (unlikely(tx->armed))
		tx_disarm(tx); /* a send after -ETIMEDOUT: back to no wait */
	for (i = 0; i < n; i++) {
		uint32_t len = (uint32_t)pkt_len(pkts, parts, i);

		r = tx_fits(tx, TUBE_REC_BYTES(len), &skip);
		if (r == 0 && i == 0) {
			if (t->mode == STRAW_TUBE_RELIABLE)
				r = tx_wait(t, TUBE_REC_BYTES(len), &skip,
				            timeout_ms);
			else if (sock_hung_up(t->fds[STRAWI_TUBE_FD_SOCK])) {
				/* Full and nobody reads: say so rather
				 * than count drops forever. */
				set_peer_gone(t);
				return -EPIPE;
			}
		}
		if (r <= 0) {
			if (r < 0 && i == 0)
				return r;
			break;
		}
		tx_put(tx, pkts + (size_t)i * (size_t)parts, parts, len, skip);
		tx->sent++;
		tx->sent_bytes += len;
	}
	if (t->mode == STRAW_TUBE_DROP) {
		int k;
		for (k = i; k < n; k++) {
			size_t len = pkt_len(pkts, parts, k);
			tx->sent++;
			tx->sent_bytes += len;
			tx->dropped++;
			tx->dropped_bytes += len;
		}
	}
	tx_publish(t, i > 0);
	return i;
}

int
straw_tube_send_many(straw_tube *t, const struct iovec *pkts, int n,
                     int timeout_ms)
{
	return send_core(t, pkts, 1, n, timeout_ms);
}

int
strawi_tube_send_pairs(straw_tube *t, const struct iovec *pieces, int n,
                       int timeout_ms)
{
	return send_core(t, pieces, 2, n, timeout_ms);
}

int
straw_tube_send(straw_tube *t, const void *buf, size_t len, int timeout_ms)
{
	struct iovec v = {(void *)buf, len};

	return straw_tube_send_many(t, &v, 1, timeout_ms);
}

/* ---------------------------------------------------------------------- */
/* The rest of the object */

int
straw_tube_fd(const straw_tube *t)
{
	return t->epfd;
}

int
straw_tube_write_fd(const straw_tube *t)
{
	return t->wepfd;
}

int
straw_tube_set_spin(straw_tube *t, int64_t spin_ns)
{
	if (spin_ns < 0)
		return -EINVAL;
	t->spin_ns = spin_ns;
	return 0;
}

static void
side_stats(const struct tube_shm_stats *s, straw_tube_side_stats *o)
{
	o->sent = atomic_load_explicit(&s->sent, memory_order_relaxed);
	o->sent_bytes =
	        atomic_load_explicit(&s->sent_bytes, memory_order_relaxed);
	o->dropped = atomic_load_explicit(&s->dropped, memory_order_relaxed);
	o->dropped_bytes =
	        atomic_load_explicit(&s->dropped_bytes, memory_order_relaxed);
	o->received = atomic_load_explicit(&s->received, memory_order_relaxed);
	o->received_bytes =
	        atomic_load_explicit(&s->received_bytes, memory_order_relaxed);
	o->wakeups = atomic_load_explicit(&s->wakeups, memory_order_relaxed);
	o->sleeps = atomic_load_explicit(&s->sleeps, memory_order_relaxed);
}

void
straw_tube_get_stats(const straw_tube *t, straw_tube_stats *st)
{
	side_stats(&t->shm->stats[t->side], &st->self);
	side_stats(&t->shm->stats[1 - t->side], &st->peer);
}

void
straw_tube_get_info(const straw_tube *t, straw_tube_info *info)
{
	info->self = t->self;
	info->peer = t->peer;
	info->tid = t->tid;
	info->mode = (enum straw_tube_mode)t->mode;
	info->side = t->side;
}

void
straw_tube_close(straw_tube *t)
{
	int i;

	if (t == NULL)
		return;
	if (t->reg != NULL)
		strawi_tube_broker_forget(t);
	publish_sleeps(t);
	/* After the last publish: the peer, seeing this, drains and stops. */
	atomic_store_explicit(&t->shm->closed[t->side], 1,
	                      memory_order_release);
	munmap(t->shm, STRAW_TUBE_MEMORY);
	/* Closing the socket end is what wakes a peer sleeping in recv or in
	 * a reliable send: its end reports the hang-up. */
	for (i = 0; i < STRAWI_TUBE_NFDS; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	close(t->epfd);
	close(t->wepfd);
	if (t->reg != NULL) {
		close(t->memfd);
		strawi_tube_broker_closed(t);
	}
	straw_free(t);
}
