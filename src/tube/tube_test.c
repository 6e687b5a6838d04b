/*
 * Unit tests of the tube data path: both sides in one process, made with
 * strawi_tube_from_fds().  Multi-process behaviour is in tests/tube_*.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "testing/check.h"
#include "tube/tube_impl.h"

static straw_tube *a, *b; /* side 0 and side 1 */

static void
make(enum straw_tube_mode mode)
{
	struct strawi_tube_pair p;

	CHECK_OK(strawi_tube_pair_create(mode, 7, 11, 12, &p));
	CHECK_OK(strawi_tube_from_fds(0, p.fds[0], &a));
	CHECK_OK(strawi_tube_from_fds(1, p.fds[1], &b));
	straw_tube_set_spin(a, 0);
	straw_tube_set_spin(b, 0);
}

static void
done(void)
{
	straw_tube_close(a);
	straw_tube_close(b);
	a = b = NULL;
}

static int
readable(straw_tube *t)
{
	struct pollfd p = {straw_tube_fd(t), POLLIN, 0};

	return poll(&p, 1, 0);
}

static void
fill(uint8_t *buf, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + (seed >> 8) + i * 7);
}

CASE(create_bad_mode)
{
	struct strawi_tube_pair p;

	CHECK_RC(strawi_tube_pair_create((enum straw_tube_mode)0, 1, 1, 2, &p),
	         -EINVAL);
	CHECK_RC(strawi_tube_pair_create((enum straw_tube_mode)3, 1, 1, 2, &p),
	         -EINVAL);
}

CASE(info_and_defaults)
{
	straw_tube_info i;

	make(STRAW_TUBE_RELIABLE);
	straw_tube_get_info(a, &i);
	CHECK_EQ(i.self, 11);
	CHECK_EQ(i.peer, 12);
	CHECK_EQ(i.tid, 7);
	CHECK_EQ(i.mode, STRAW_TUBE_RELIABLE);
	CHECK_EQ(i.side, 0);
	straw_tube_get_info(b, &i);
	CHECK_EQ(i.self, 12);
	CHECK_EQ(i.peer, 11);
	CHECK_EQ(i.side, 1);
	CHECK_RC(straw_tube_set_spin(a, -1), -EINVAL);
	CHECK_RC(straw_tube_set_spin(a, 5), 0);
	done();
}

CASE(packet_sizes)
{
	static uint8_t big[STRAW_TUBE_MAX_PACKET + 1], out[5000];
	straw_tube_stats st;

	make(STRAW_TUBE_DROP);
	fill(big, sizeof(big), 3);
	CHECK_RC(straw_tube_send(a, big, 0, 0), -EMSGSIZE);
	CHECK_RC(straw_tube_send(a, big, STRAW_TUBE_MAX_PACKET + 1, 0),
	         -EMSGSIZE);
	CHECK_RC(straw_tube_send(a, big, (size_t)-1, 0), -EMSGSIZE);
	straw_tube_get_stats(a, &st);
	CHECK_EQ_U(st.self.sent, 0);
	CHECK_EQ_U(st.self.dropped, 0);
	CHECK_RC(straw_tube_recv(b, out, sizeof(out), 0), -ETIMEDOUT);

	CHECK_EQ(straw_tube_send(a, big, 1, 0), 1);
	CHECK_EQ(straw_tube_send(a, big, STRAW_TUBE_MAX_PACKET, 0), 1);
	CHECK_EQ(straw_tube_recv(b, out, sizeof(out), 0), 1);
	CHECK_EQ(out[0], big[0]);
	CHECK_EQ(straw_tube_recv(b, out, sizeof(out), 0),
	         STRAW_TUBE_MAX_PACKET);
	CHECK_MEM(out, STRAW_TUBE_MAX_PACKET, big, STRAW_TUBE_MAX_PACKET);
	CHECK_RC(straw_tube_recv(b, out, sizeof(out), 0), -ETIMEDOUT);

	/* A batch with one bad length sends nothing. */
	{
		struct iovec v[3] = {{big, 10}, {big, 0}, {big, 10}};
		CHECK_RC(straw_tube_send_many(a, v, 3, 0), -EMSGSIZE);
		v[1].iov_len = 4097;
		CHECK_RC(straw_tube_send_many(a, v, 3, 0), -EMSGSIZE);
		CHECK_RC(straw_tube_recv(b, out, sizeof(out), 0), -ETIMEDOUT);
	}
	straw_tube_get_stats(a, &st);
	CHECK_EQ_U(st.self.sent, 2);
	CHECK_EQ_U(st.self.sent_bytes, 1 + STRAW_TUBE_MAX_PACKET);
	done();
}

CASE(recv_too_small_keeps_packet)
{
	uint8_t in[100], out[100];

	make(STRAW_TUBE_RELIABLE);
	fill(in, sizeof(in), 9);
	CHECK_EQ(straw_tube_send(a, in, 100, 0), 1);
	CHECK_RC(straw_tube_recv(b, out, 99, 0), -EMSGSIZE);
	CHECK_EQ(straw_tube_recv(b, out, 100, 0), 100);
	CHECK_MEM(out, 100, in, 100);
	done();
}

/* Random sizes through many wrap-arounds, interleaved, both directions. */
CASE(wrap_and_order)
{
	static uint8_t in[STRAW_TUBE_MAX_PACKET], out[STRAW_TUBE_MAX_PACKET];
	uint32_t rnd = 12345, sseq[2] = {0, 0}, rseq[2] = {0, 0};
	int round, k;

	make(STRAW_TUBE_RELIABLE);
	for (round = 0; round < 3000; round++) {
		for (k = 0; k < 2; k++) {
			straw_tube *tx = k ? b : a, *rx = k ? a : b;
			int n = 1 + (int)(rnd % 40), j;
			for (j = 0; j < n; j++) {
				size_t len;
				rnd = rnd * 1103515245 + 12345;
				len = 1 + (rnd >> 8) % STRAW_TUBE_MAX_PACKET;
				if (rnd & 1)
					len = 1 + len % 100;
				fill(in, len, sseq[k]);
				if (straw_tube_send(tx, in, len, 0) != 1)
					break;
				sseq[k]++;
			}
			while (rseq[k] != sseq[k]) {
				int got = straw_tube_recv(rx, out, sizeof(out),
				                          0);
				CHECK(got > 0);
				/* The pattern depends on the sequence number:
				 * checks content and order. */
				fill(in, (size_t)got, rseq[k]);
				CHECK_MEM(out, (size_t)got, in, (size_t)got);
				rseq[k]++;
			}
		}
	}
	CHECK(sseq[0] > 30000);
	done();
}

CASE(drop_accounting)
{
	uint8_t buf[64] = {1};
	straw_tube_stats sa, sb;
	int i, queued = 0, dropped = 0, r;

	make(STRAW_TUBE_DROP);
	for (i = 0; i < 5000; i++) {
		r = straw_tube_send(a, buf, sizeof(buf), -1);
		CHECK(r == 0 || r == 1);
		queued += r;
		dropped += !r;
	}
	/* 72-byte records in a ring of TUBE_RING_BYTES. */
	CHECK_EQ(queued, TUBE_RING_BYTES / TUBE_REC_BYTES(64));
	CHECK_EQ(dropped, 5000 - queued);
	while (straw_tube_recv(b, buf, sizeof(buf), 0) == 64)
		;
	straw_tube_get_stats(a, &sa);
	straw_tube_get_stats(b, &sb);
	CHECK_EQ_U(sa.self.sent, 5000);
	CHECK_EQ_U(sa.self.dropped, (uint64_t)dropped);
	CHECK_EQ_U(sa.self.dropped_bytes, (uint64_t)dropped * 64);
	CHECK_EQ_U(sb.self.received, (uint64_t)queued);
	CHECK_EQ_U(sb.self.received_bytes, (uint64_t)queued * 64);
	CHECK_EQ_U(sa.self.sent, sb.self.received + sa.self.dropped);
	CHECK_EQ_U(sb.peer.sent, 5000); /* the peer's view */

	/* A batch: the prefix that fits is queued, the rest dropped. */
	{
		struct iovec v[2000];
		for (i = 0; i < 2000; i++)
			v[i] = (struct iovec){buf, 64};
		r = straw_tube_send_many(a, v, 2000, 0);
		CHECK_EQ(r, queued);
		straw_tube_get_stats(a, &sa);
		CHECK_EQ_U(sa.self.sent, 7000);
		CHECK_EQ_U(sa.self.dropped, (uint64_t)dropped + 2000 - r);
	}
	done();
}

CASE(reliable_full)
{
	uint8_t buf[4096] = {0};
	int i, n = 0;
	int64_t t0;

	make(STRAW_TUBE_RELIABLE);
	while (straw_tube_send(a, buf, sizeof(buf), 0) == 1)
		n++;
	CHECK_EQ(n, TUBE_RING_BYTES / TUBE_REC_BYTES(4096));
	CHECK_RC(straw_tube_send(a, buf, sizeof(buf), 0), -ETIMEDOUT);
	t0 = strawi_now_ns();
	CHECK_RC(straw_tube_send(a, buf, sizeof(buf), 30), -ETIMEDOUT);
	CHECK(strawi_now_ns() - t0 >= 30000000);
	/* 64 bytes still fit in the tail of the ring. */
	CHECK_EQ(straw_tube_send(a, buf, 64, 0), 1);
	for (i = 0; i < n; i++)
		CHECK_EQ(straw_tube_recv(b, buf, sizeof(buf), 0), 4096);
	CHECK_EQ(straw_tube_recv(b, buf, sizeof(buf), 0), 64);
	CHECK_EQ(straw_tube_send(a, buf, sizeof(buf), 0), 1);
	done();
}

/* The fd is readable exactly while packets wait (after -EAGAIN) or once
 * the tube is closed. */
CASE(fd_readiness)
{
	uint8_t buf[64] = {0};

	make(STRAW_TUBE_DROP);
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), -ETIMEDOUT);
	CHECK_EQ(readable(b), 0);
	CHECK_EQ(straw_tube_send(a, buf, 10, 0), 1);
	CHECK_EQ(readable(b), 1);
	CHECK_EQ(readable(b), 1); /* level-triggered */
	CHECK_EQ(straw_tube_send(a, buf, 10, 0), 1);
	CHECK_EQ(straw_tube_recv(b, buf, sizeof(buf), 0), 10);
	CHECK_EQ(straw_tube_recv(b, buf, sizeof(buf), 0), 10);
	CHECK_EQ(readable(b), 0);
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), -ETIMEDOUT);
	CHECK_EQ(readable(b), 0);
	CHECK_EQ(straw_tube_send(a, buf, 10, 0), 1);
	CHECK_EQ(readable(b), 1);
	CHECK_EQ(straw_tube_recv(b, buf, sizeof(buf), 0), 10);
	CHECK_EQ(readable(b), 0);
	straw_tube_close(a);
	a = NULL;
	CHECK_EQ(readable(b), 1);
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), -EPIPE);
	CHECK_EQ(readable(b), 1);
	straw_tube_close(b);
	b = NULL;
}

CASE(close_then_drain_then_epipe)
{
	uint8_t buf[64];
	int i;

	make(STRAW_TUBE_RELIABLE);
	for (i = 0; i < 10; i++) {
		buf[0] = (uint8_t)i;
		CHECK_EQ(straw_tube_send(a, buf, 1 + (size_t)i, 0), 1);
	}
	straw_tube_close(a);
	a = NULL;
	for (i = 0; i < 10; i++) {
		CHECK_EQ(straw_tube_recv(b, buf, sizeof(buf), -1), 1 + i);
		CHECK_EQ(buf[0], i);
	}
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), -1), -EPIPE);
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), -EPIPE);
	CHECK_RC(straw_tube_send(b, buf, 1, 0), -EPIPE);
	done();
}

CASE(recv_timeout)
{
	uint8_t buf[8];
	int64_t t0 = strawi_now_ns();

	make(STRAW_TUBE_DROP);
	straw_tube_set_spin(b, 100000);
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 20), -ETIMEDOUT);
	CHECK(strawi_now_ns() - t0 >= 20000000);
	done();
}

CASE(peek_release)
{
	const void *p;
	uint8_t buf[32];
	struct iovec v[4];
	uint8_t m[4][32];
	int i;

	make(STRAW_TUBE_RELIABLE);
	CHECK_RC(straw_tube_release(b), -EINVAL);
	CHECK_RC(straw_tube_peek(b, &p, 0), -ETIMEDOUT);
	for (i = 0; i < 3; i++) {
		memset(buf, 'a' + i, sizeof(buf));
		CHECK_EQ(straw_tube_send(a, buf, 5 + (size_t)i, 0), 1);
	}
	CHECK_EQ(straw_tube_peek(b, &p, 0), 5);
	CHECK_MEM(p, 5, "aaaaa", 5);
	CHECK_EQ(straw_tube_peek(b, &p, 0), 5);
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), -EINVAL);
	CHECK_OK(straw_tube_release(b));
	CHECK_RC(straw_tube_release(b), -EINVAL);
	for (i = 0; i < 4; i++)
		v[i] = (struct iovec){m[i], sizeof(m[i])};
	CHECK_EQ(straw_tube_recv_many(b, v, 4, 0), 2);
	CHECK_MEM(v[0].iov_base, v[0].iov_len, "bbbbbb", 6);
	CHECK_MEM(v[1].iov_base, v[1].iov_len, "ccccccc", 7);
	done();
}

CASE(batch_recv_stops_at_small_buffer)
{
	uint8_t big[200] = {0}, m[3][100];
	struct iovec v[3];
	int i;

	make(STRAW_TUBE_RELIABLE);
	CHECK_EQ(straw_tube_send(a, big, 50, 0), 1);
	CHECK_EQ(straw_tube_send(a, big, 150, 0), 1);
	for (i = 0; i < 3; i++)
		v[i] = (struct iovec){m[i], sizeof(m[i])};
	CHECK_EQ(straw_tube_recv_many(b, v, 3, 0), 1);
	CHECK_EQ(v[0].iov_len, 50);
	v[0].iov_len = 100;
	CHECK_RC(straw_tube_recv_many(b, v, 3, 0), -EMSGSIZE);
	v[0] = (struct iovec){big, sizeof(big)};
	CHECK_EQ(straw_tube_recv_many(b, v, 3, 0), 1);
	CHECK_EQ(v[0].iov_len, 150);
	done();
}

/* A hostile peer scribbling over the control blocks gets an error, never an
 * out-of-bounds access. */
CASE(corrupt_indexes)
{
	uint8_t buf[64] = {0};

	make(STRAW_TUBE_RELIABLE);
	atomic_store(&a->shm->ring[0].tail, (uint64_t)TUBE_RING_BYTES + 8);
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), STRAW_ETUBECORRUPT);
	done();

	make(STRAW_TUBE_RELIABLE);
	CHECK_EQ(straw_tube_send(a, buf, 8, 0), 1);
	*(uint32_t *)tube_shm_ring_data(a->shm, 0) = 5000; /* bad length */
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), STRAW_ETUBECORRUPT);
	*(uint32_t *)tube_shm_ring_data(a->shm, 0) = 0;
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), STRAW_ETUBECORRUPT);
	*(uint32_t *)tube_shm_ring_data(a->shm, 0) = 16; /* past the tail */
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), STRAW_ETUBECORRUPT);
	*(uint32_t *)tube_shm_ring_data(a->shm, 0) = TUBE_REC_WRAP;
	CHECK_RC(straw_tube_recv(b, buf, sizeof(buf), 0), STRAW_ETUBECORRUPT);
	done();

	make(STRAW_TUBE_RELIABLE);
	atomic_store(&b->shm->ring[0].head, (uint64_t)1 << 40); /* > tail */
	while (straw_tube_send(a, buf, 64, 0) == 1)
		;
	CHECK_RC(straw_tube_send(a, buf, 64, 0), STRAW_ETUBECORRUPT);
	done();
}

/* from_fds refuses descriptors that are not a tube's. */
CASE(from_fds_checks)
{
	struct strawi_tube_pair p;
	straw_tube *t = NULL;
	int fds[STRAWI_TUBE_NFDS], mfd, i;

	CHECK_OK(strawi_tube_pair_create(STRAW_TUBE_DROP, 1, 1, 2, &p));
	memcpy(fds, p.fds[0], sizeof(fds));
	CHECK_RC(strawi_tube_from_fds(2, fds, &t), -EINVAL);
	fds[STRAWI_TUBE_FD_SOCK] = fds[STRAWI_TUBE_FD_DATA0];
	CHECK_RC(strawi_tube_from_fds(0, fds, &t), -EINVAL); /* no socket */
	memcpy(fds, p.fds[0], sizeof(fds));
	fds[STRAWI_TUBE_FD_MEM] = -1;
	CHECK_RC(strawi_tube_from_fds(0, fds, &t), -EBADF);

	/* An unsealed memfd of the right size. */
	mfd = memfd_create("x", MFD_CLOEXEC);
	CHECK(mfd >= 0);
	CHECK_OK(ftruncate(mfd, STRAW_TUBE_MEMORY));
	memcpy(fds, p.fds[0], sizeof(fds));
	fds[STRAWI_TUBE_FD_MEM] = mfd;
	CHECK_RC(strawi_tube_from_fds(0, fds, &t), -EINVAL);
	close(mfd);
	/* Sealed, right size, no header. */
	mfd = memfd_create("x", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK_OK(ftruncate(mfd, STRAW_TUBE_MEMORY));
	CHECK_OK(fcntl(mfd, F_ADD_SEALS,
	               F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	fds[STRAWI_TUBE_FD_MEM] = mfd;
	CHECK_RC(strawi_tube_from_fds(0, fds, &t), STRAW_ETUBECORRUPT);
	close(mfd);
	/* Wrong size. */
	mfd = memfd_create("x", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK_OK(ftruncate(mfd, 4096));
	fds[STRAWI_TUBE_FD_MEM] = mfd;
	CHECK_RC(strawi_tube_from_fds(0, fds, &t), -EINVAL);
	close(mfd);
	CHECK(t == NULL);
	/* The caller still owns every descriptor after a failure. */
	for (i = 0; i < STRAWI_TUBE_NFDS; i++)
		CHECK(fcntl(p.fds[0][i], F_GETFD) >= 0);
	strawi_tube_pair_close_side(&p, 0);
	strawi_tube_pair_close_side(&p, 1);
	for (i = 0; i < STRAWI_TUBE_NFDS; i++)
		CHECK_EQ(p.fds[1][i], -1);
}

CHECK_MAIN(create_bad_mode, info_and_defaults, packet_sizes,
           recv_too_small_keeps_packet, wrap_and_order, drop_accounting,
           reliable_full, fd_readiness, close_then_drain_then_epipe,
           recv_timeout, peek_release, batch_recv_stops_at_small_buffer,
           corrupt_indexes, from_fds_checks)
