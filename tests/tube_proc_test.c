/*
 * Tubes between real processes (fork, the descriptors of each side handed
 * to its process as strawd would): stress with sequence numbers and
 * checksums in both directions at once, exact drop accounting, SIGKILL of
 * the peer mid-stream in both modes, close while the peer is blocked.
 *
 * STRAW_TUBE_STRESS sets the number of packets per direction of the
 * stress case (default 5000000 per direction: 10^7 in all, about 15 s
 * under ASan on two busy cores).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/clock.h"
#include "testing/check.h"
#include "tube/tube_impl.h"

/* Forks a child that runs fn on side 1 and exits with its result; the
 * parent gets side 0 in *t.  The child's end of the socketpair is only in
 * the child, the parent's only in the parent. */
static pid_t
spawn(enum straw_tube_mode mode, int (*fn)(straw_tube *, void *), void *arg,
      straw_tube **t)
{
	struct strawi_tube_pair p;
	straw_tube *c;
	pid_t pid;

	if (strawi_tube_pair_create(mode, 1, 1, 2, &p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		strawi_tube_pair_close_side(&p, 0);
		if (strawi_tube_from_fds(1, p.fds[1], &c) < 0)
			_exit(100);
		_exit(fn(c, arg));
	}
	strawi_tube_pair_close_side(&p, 1);
	if (pid < 0 || strawi_tube_from_fds(0, p.fds[0], t) < 0) {
		strawi_tube_pair_close_side(&p, 0);
		return -1;
	}
	return pid;
}

/* ---- stress ---------------------------------------------------------- */

static uint64_t
mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* Packet seq: length from the sequence number, then [seq:8][sum:4][bytes]
 * where bytes derive from seq and sum is a checksum of them. */
static size_t
pkt_len(uint64_t seq)
{
	uint64_t r = mix(seq);

	if ((r & 63) == 0)
		return 1 + (r >> 8) % STRAW_TUBE_MAX_PACKET;
	return 12 + (r >> 8) % 116;
}

static uint32_t
pkt_sum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void
pkt_make(uint64_t seq, uint8_t *buf, size_t len)
{
	uint64_t w = mix(seq ^ 0x5555);
	uint32_t sum;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((i & 7) == 0)
			w = mix(w);
		buf[i] = (uint8_t)(w >> (8 * (i & 7)));
	}
	if (len >= 12) {
		memcpy(buf, &seq, 8);
		sum = pkt_sum(buf + 12, len - 12);
		memcpy(buf + 8, &sum, 4);
	}
}

/* 0 if buf is packet seq intact. */
static int
pkt_check(uint64_t seq, const uint8_t *buf, size_t len)
{
	static __thread uint8_t want[STRAW_TUBE_MAX_PACKET];
	uint64_t s;
	uint32_t sum;

	if (len != pkt_len(seq))
		return 1;
	if (len >= 12) {
		memcpy(&s, buf, 8);
		memcpy(&sum, buf + 8, 4);
		if (s != seq || sum != pkt_sum(buf + 12, len - 12))
			return 2;
		return 0;
	}
	pkt_make(seq, want, len);
	return memcmp(want, buf, len) != 0 ? 3 : 0;
}

static long
stress_count(void)
{
	const char *e = getenv("STRAW_TUBE_STRESS");
	return e != NULL ? atol(e) : 5000000;
}

struct stress_arg {
	straw_tube *t;
	long n;
	int rc;
};

static void *
stress_send(void *p)
{
	struct stress_arg *a = p;
	static __thread uint8_t bufs[32][STRAW_TUBE_MAX_PACKET];
	struct iovec v[32];
	uint64_t seq = 0;

	while ((long)seq < a->n) {
		int k = 1 + (int)(mix(seq * 7) % 32), j, r;
		if ((long)seq + k > a->n)
			k = (int)(a->n - (long)seq);
		for (j = 0; j < k; j++) {
			v[j].iov_len = pkt_len(seq + (uint64_t)j);
			v[j].iov_base = bufs[j];
			pkt_make(seq + (uint64_t)j, bufs[j], v[j].iov_len);
		}
		r = straw_tube_send_many(a->t, v, k, 10000);
		if (r <= 0) {
			a->rc = r;
			return NULL;
		}
		seq += (uint64_t)r;
	}
	return NULL;
}

static void *
stress_recv(void *p)
{
	struct stress_arg *a = p;
	static __thread uint8_t bufs[16][STRAW_TUBE_MAX_PACKET];
	struct iovec v[16];
	uint64_t seq = 0;

	while ((long)seq < a->n) {
		int j, r;
		for (j = 0; j < 16; j++)
			v[j] = (struct iovec){bufs[j], sizeof(bufs[j])};
		r = seq % 3 ? straw_tube_recv_many(a->t, v, 16, 10000)
		            : straw_tube_recv_many(a->t, v, 1, 10000);
		if (r <= 0) {
			a->rc = r;
			return NULL;
		}
		for (j = 0; j < r; j++, seq++)
			if (pkt_check(seq, v[j].iov_base, v[j].iov_len) != 0) {
				fprintf(stderr, "bad packet %llu\n",
				        (unsigned long long)seq);
				a->rc = -1;
				return NULL;
			}
	}
	return NULL;
}

/* Sends n and receives n at once on t; 0 if all arrived intact. */
static int
stress_side(straw_tube *t, void *arg)
{
	struct stress_arg s = {t, *(long *)arg, 0}, r = {t, *(long *)arg, 0};
	pthread_t ts, tr;
	straw_tube_stats st;

	straw_tube_set_spin(t, 50000);
	pthread_create(&ts, NULL, stress_send, &s);
	pthread_create(&tr, NULL, stress_recv, &r);
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	straw_tube_get_stats(t, &st);
	if (s.rc != 0 || r.rc != 0) {
		fprintf(stderr, "side %d: send %d recv %d\n",
		        straw_tube_fd(t) >= 0, s.rc, r.rc);
		return 1;
	}
	if (st.self.sent != (uint64_t)s.n || st.self.received != (uint64_t)r.n)
		return 2;
	return 0;
}

static int
stress_child(straw_tube *t, void *arg)
{
	int rc = stress_side(t, arg);
	straw_tube_close(t);
	return rc;
}

CASE(stress_both_directions)
{
	long n = stress_count();
	straw_tube *t;
	int64_t t0 = strawi_now_ns();
	pid_t pid = spawn(STRAW_TUBE_RELIABLE, stress_child, &n, &t);
	int st;

	CHECK(pid > 0);
	CHECK_EQ(stress_side(t, &n), 0);
	st = check_wait_child(pid, 120000);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	fprintf(stderr, "  %ld packets each way in %.2f s\n", n,
	        (double)(strawi_now_ns() - t0) / 1e9);
	straw_tube_close(t);
}

/* ---- drop accounting --------------------------------------------------- */

static int ctl[2]; /* child -> parent control pipe */

/* Reads n bytes from the control pipe within 10 s: n, or -1. */
static ssize_t
ctl_read(void *buf, size_t n)
{
	struct pollfd p = {ctl[0], POLLIN, 0};

	if (poll(&p, 1, 10000) != 1)
		return -1;
	return read(ctl[0], buf, n);
}

/* Sends n packets in drop mode as fast as possible, in batches, then
 * reports and closes. */
static int
drop_child(straw_tube *t, void *arg)
{
	long n = *(long *)arg;
	static uint8_t bufs[8][STRAW_TUBE_MAX_PACKET];
	struct iovec v[8];
	uint64_t seq = 0;
	char c = 'D';

	while ((long)seq < n) {
		int j, r;
		for (j = 0; j < 8; j++) {
			v[j].iov_len = pkt_len(seq + (uint64_t)j);
			v[j].iov_base = bufs[j];
			pkt_make(seq + (uint64_t)j, bufs[j], v[j].iov_len);
		}
		r = straw_tube_send_many(t, v, 8, 0);
		if (r < 0)
			return 1;
		seq += 8;
	}
	if (write(ctl[1], &c, 1) != 1)
		return 2;
	straw_tube_close(t);
	return 0;
}

CASE(drop_accounting_exact)
{
	long n = 200000;
	straw_tube *t;
	straw_tube_stats st;
	uint8_t buf[STRAW_TUBE_MAX_PACKET];
	uint64_t got = 0, last = 0, bytes = 0;
	int r, s, first = 1;
	char c;
	pid_t pid;

	CHECK_OK(pipe2(ctl, O_CLOEXEC));
	pid = spawn(STRAW_TUBE_DROP, drop_child, &n, &t);
	CHECK(pid > 0);
	/* Read a little while the child sends, then nothing until it is
	 * done: it must drop. */
	for (r = 0; r < 1000; r++) {
		int len = straw_tube_recv(t, buf, sizeof(buf), 10000);
		uint64_t seq;
		CHECK(len > 0);
		got++;
		bytes += (uint64_t)len;
		if (len < 12)
			continue; /* short packets carry no sequence */
		memcpy(&seq, buf, 8);
		CHECK(first || seq > last); /* in order, gaps where dropped */
		CHECK_EQ(pkt_check(seq, buf, (size_t)len), 0);
		first = 0;
		last = seq;
	}
	CHECK_EQ(ctl_read(&c, 1), 1);
	for (;;) {
		int len = straw_tube_recv(t, buf, sizeof(buf), 10000);
		if (len == -EPIPE)
			break;
		CHECK(len > 0);
		got++;
		bytes += (uint64_t)len;
	}
	s = check_wait_child(pid, 10000);
	CHECK(WIFEXITED(s));
	CHECK_EQ(WEXITSTATUS(s), 0);
	straw_tube_get_stats(t, &st);
	CHECK_EQ_U(st.self.received, got);
	CHECK_EQ_U(st.self.received_bytes, bytes);
	CHECK_EQ_U(st.peer.sent, (uint64_t)n);
	CHECK(st.peer.dropped > 0);
	CHECK_EQ_U(st.peer.sent, st.self.received + st.peer.dropped);
	CHECK_EQ_U(st.peer.sent_bytes,
	           st.self.received_bytes + st.peer.dropped_bytes);
	fprintf(stderr, "  sent %llu received %llu dropped %llu\n",
	        (unsigned long long)st.peer.sent,
	        (unsigned long long)st.self.received,
	        (unsigned long long)st.peer.dropped);
	straw_tube_close(t);
	close(ctl[0]);
	close(ctl[1]);
}

/* ---- peer death and close ------------------------------------------------ */

/* Fills the tube with 100-byte packets numbered from 0 until it is full,
 * reports how many it queued, then blocks: in a send (reliable) or in
 * pause() (drop) - until it is killed. */
static int
fill_and_block(straw_tube *t, void *arg)
{
	uint8_t buf[100] = {0};
	uint32_t n = 0;

	(void)arg;
	for (;;) {
		int r;
		memcpy(buf, &n, 4);
		r = straw_tube_send(t, buf, sizeof(buf), 0);
		if (r != 1)
			break;
		n++;
	}
	if (write(ctl[1], &n, 4) != 4)
		return 1;
	if (t->mode == STRAW_TUBE_RELIABLE)
		straw_tube_send(t, buf, sizeof(buf), -1);
	for (;;)
		pause(); /* until SIGKILL */
}

static void
kill9_midstream(enum straw_tube_mode mode)
{
	straw_tube *t;
	uint8_t buf[200];
	uint32_t n, i, seq;
	int64_t t0, dt;
	struct pollfd p;
	pid_t pid;
	int s;

	CHECK_OK(pipe2(ctl, O_CLOEXEC));
	pid = spawn(mode, fill_and_block, NULL, &t);
	CHECK(pid > 0);
	CHECK_EQ(ctl_read(&n, 4), 4);
	CHECK_EQ(n, TUBE_RING_BYTES / TUBE_REC_BYTES(100));
	t0 = strawi_now_ns();
	CHECK_OK(kill(pid, SIGKILL));
	for (i = 0; i < n; i++) {
		CHECK_EQ(straw_tube_recv(t, buf, sizeof(buf), 5000), 100);
		memcpy(&seq, buf, 4);
		CHECK_EQ(seq, i);
	}
	CHECK_RC(straw_tube_recv(t, buf, sizeof(buf), 5000), -EPIPE);
	dt = strawi_now_ns() - t0;
	fprintf(stderr, "  rest (%u packets) then EPIPE %.3f ms after kill\n",
	        n, (double)dt / 1e6);
	CHECK(dt < 50000000);
	p = (struct pollfd){straw_tube_fd(t), POLLIN, 0};
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_RC(straw_tube_send(t, buf, 10, 0), -EPIPE);
	s = check_wait_child(pid, 5000);
	CHECK(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
	straw_tube_close(t);
	close(ctl[0]);
	close(ctl[1]);
}

CASE(kill9_midstream_reliable)
{
	kill9_midstream(STRAW_TUBE_RELIABLE);
}

CASE(kill9_midstream_drop)
{
	kill9_midstream(STRAW_TUBE_DROP);
}

/* Sends 10 packets, then blocks until killed. */
static int
send10_and_block(straw_tube *t, void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 10; i++)
		if (straw_tube_send(t, "abc", 3, 0) != 1)
			return 1;
	if (write(ctl[1], "F", 1) != 1)
		return 1;
	for (;;)
		pause(); /* until SIGKILL */
}

/* With nothing left to read, the fd turns readable on the peer's SIGKILL
 * alone, within 50 ms. */
static void
kill9_wakes_poll(enum straw_tube_mode mode)
{
	straw_tube *t;
	uint8_t buf[16];
	struct pollfd p;
	int64_t t0, dt;
	pid_t pid;
	char c;
	int i;

	CHECK_OK(pipe2(ctl, O_CLOEXEC));
	pid = spawn(mode, send10_and_block, NULL, &t);
	CHECK(pid > 0);
	CHECK_EQ(ctl_read(&c, 1), 1);
	for (i = 0; i < 10; i++)
		CHECK_EQ(straw_tube_recv(t, buf, sizeof(buf), 0), 3);
	CHECK_RC(straw_tube_recv(t, buf, sizeof(buf), 0), -ETIMEDOUT);
	p = (struct pollfd){straw_tube_fd(t), POLLIN, 0};
	CHECK_EQ(poll(&p, 1, 0), 0);
	t0 = strawi_now_ns();
	CHECK_OK(kill(pid, SIGKILL));
	CHECK_EQ(poll(&p, 1, 5000), 1);
	dt = strawi_now_ns() - t0;
	fprintf(stderr, "  fd readable %.3f ms after kill\n", (double)dt / 1e6);
	CHECK(dt < 50000000);
	CHECK_RC(straw_tube_recv(t, buf, sizeof(buf), 0), -EPIPE);
	i = check_wait_child(pid, 5000);
	CHECK(WIFSIGNALED(i));
	straw_tube_close(t);
	close(ctl[0]);
	close(ctl[1]);
}

CASE(kill9_wakes_poll_reliable)
{
	kill9_wakes_poll(STRAW_TUBE_RELIABLE);
}

CASE(kill9_wakes_poll_drop)
{
	kill9_wakes_poll(STRAW_TUBE_DROP);
}

/* Blocks in recv without limit; exits 0 if it returns -EPIPE within 50 ms
 * of the close (the parent's time is passed back through the pipe). */
static int
blocked_recv(straw_tube *t, void *arg)
{
	uint8_t buf[16];
	int64_t now;
	int r;

	(void)arg;
	straw_tube_set_spin(t, 0);
	r = straw_tube_recv(t, buf, sizeof(buf), -1);
	now = strawi_now_ns();
	if (write(ctl[1], &now, sizeof(now)) != sizeof(now))
		return 3;
	return r == -EPIPE ? 0 : 1;
}

CASE(close_while_peer_blocked_in_recv)
{
	straw_tube *t;
	straw_tube_stats st;
	int64_t t0, t1, end;
	pid_t pid;
	int s;

	CHECK_OK(pipe2(ctl, O_CLOEXEC));
	pid = spawn(STRAW_TUBE_RELIABLE, blocked_recv, NULL, &t);
	CHECK(pid > 0);
	/* The peer publishes its sleep count just before it sleeps. */
	end = strawi_deadline_ms(10000);
	do
		straw_tube_get_stats(t, &st);
	while (st.peer.sleeps == 0 && strawi_now_ns() < end);
	CHECK(st.peer.sleeps != 0);
	t0 = strawi_now_ns();
	straw_tube_close(t);
	CHECK_EQ(ctl_read(&t1, sizeof(t1)), sizeof(t1));
	fprintf(stderr, "  blocked recv returned %.3f ms after close\n",
	        (double)(t1 - t0) / 1e6);
	CHECK(t1 - t0 < 50000000);
	s = check_wait_child(pid, 5000);
	CHECK(WIFEXITED(s));
	CHECK_EQ(WEXITSTATUS(s), 0);
	close(ctl[0]);
	close(ctl[1]);
}

/* Fills the tube, then blocks in a reliable send; exits 0 if that returns
 * -EPIPE. */
static int
blocked_send(straw_tube *t, void *arg)
{
	uint8_t buf[1000] = {0};

	(void)arg;
	straw_tube_set_spin(t, 0);
	while (straw_tube_send(t, buf, sizeof(buf), 0) == 1)
		;
	return straw_tube_send(t, buf, sizeof(buf), -1) == -EPIPE ? 0 : 1;
}

CASE(close_while_peer_blocked_in_send)
{
	straw_tube *t;
	straw_tube_stats st;
	int64_t end;
	pid_t pid;
	int s;

	pid = spawn(STRAW_TUBE_RELIABLE, blocked_send, NULL, &t);
	CHECK(pid > 0);
	end = strawi_deadline_ms(10000);
	do
		straw_tube_get_stats(t, &st);
	while (st.peer.sleeps == 0 && strawi_now_ns() < end);
	CHECK(st.peer.sleeps != 0);
	straw_tube_close(t);
	s = check_wait_child(pid, 5000);
	CHECK(WIFEXITED(s));
	CHECK_EQ(WEXITSTATUS(s), 0);
}

/* A reliable sender blocked on a full tube is woken by the reader and
 * nothing is lost: 20000 packets through a slow reader with sleeps. */
static int
reliable_sender(straw_tube *t, void *arg)
{
	uint8_t buf[2000];
	uint32_t i;

	(void)arg;
	straw_tube_set_spin(t, 0);
	for (i = 0; i < 20000; i++) {
		memset(buf, (int)(i & 0xff), sizeof(buf));
		memcpy(buf, &i, 4);
		if (straw_tube_send(t, buf, 100 + i % 1900, 10000) != 1)
			return 1;
	}
	straw_tube_close(t);
	return 0;
}

CASE(reliable_sender_wakes)
{
	straw_tube *t;
	straw_tube_stats st;
	uint8_t buf[2000];
	uint32_t i, seq;
	pid_t pid;
	int s;

	pid = spawn(STRAW_TUBE_RELIABLE, reliable_sender, NULL, &t);
	CHECK(pid > 0);
	straw_tube_set_spin(t, 0);
	for (i = 0; i < 20000; i++) {
		CHECK_EQ(straw_tube_recv(t, buf, sizeof(buf), 10000),
		         100 + i % 1900);
		memcpy(&seq, buf, 4);
		CHECK_EQ(seq, i);
		CHECK_EQ(buf[99], i & 0xff);
	}
	CHECK_RC(straw_tube_recv(t, buf, sizeof(buf), 10000), -EPIPE);
	straw_tube_get_stats(t, &st);
	CHECK_EQ_U(st.peer.sent, 20000);
	CHECK_EQ_U(st.peer.dropped, 0);
	CHECK_EQ_U(st.self.received, 20000);
	s = check_wait_child(pid, 5000);
	CHECK(WIFEXITED(s));
	CHECK_EQ(WEXITSTATUS(s), 0);
	straw_tube_close(t);
}

CHECK_MAIN(stress_both_directions, drop_accounting_exact,
           kill9_midstream_reliable, kill9_midstream_drop,
           kill9_wakes_poll_reliable, kill9_wakes_poll_drop,
           close_while_peer_blocked_in_recv, close_while_peer_blocked_in_send,
           reliable_sender_wakes)
