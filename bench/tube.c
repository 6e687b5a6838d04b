/*
 * bench/tube.c - tubes against the kernel transports and ZeroMQ / nng, in
 * one run, the two processes pinned to two different CPUs.
 *
 * For every transport: one-way throughput of 64, 1024 and 4096-byte
 * messages (the receiver counts them and acknowledges the whole run on a
 * control pipe; the sender's clock measures start to acknowledgement), and a
 * 64-byte ping-pong round trip (p50, p99 of every single round trip).
 *
 *   straw-spin     tube, reliable mode, reader spins (budget 1 s) before
 *                  sleeping; send_many/recv_many batches of 64 for
 *                  throughput, send/recv for the round trip
 *   straw-sleep    the same with spin budget 0: the reader sleeps at once
 *                  (eventfd wake-up) whenever the tube is empty
 *   pipe           a pipe each way; one write per message, reads of up to
 *                  64 KiB counted in bytes
 *   uds-seqpacket  AF_UNIX SOCK_SEQPACKET socketpair, one message per call
 *   tcp            TCP over 127.0.0.1, TCP_NODELAY, like pipe
 *   zmq-ipc        ZeroMQ ipc://, PUSH/PULL throughput, REQ/REP round trip
 *   nng-ipc        nng ipc://, push0/pull0 and req0/rep0
 *
 * The tubes are opened and accepted through a strawd the suite starts in a
 * temporary directory (the strawd built beside it); if none can be started,
 * they are made by strawi_tube_from_fds() over fork() instead, and the
 * output says which.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <zmq.h>

#include "bench.h"
#include "tube/tube_impl.h"

enum kind { K_SPIN, K_SLEEP, K_PIPE, K_UDS, K_TCP, K_ZMQ, K_NNG, K_COUNT };

static const char *const kind_name[K_COUNT] = {
        "straw-spin", "straw-sleep", "pipe",    "uds-seqpacket",
        "tcp",        "zmq-ipc",     "nng-ipc",
};

#define BATCH  64
#define WARMUP 10000 /* messages before the measured runs */

static int use_strawd;      /* tubes through strawd */
static char strawd_dir[64]; /* its directory */

/* What both processes set up before fork. */
struct pre {
	enum kind k;
	int sync[2]; /* tube: the child's container id to the parent */
	struct strawi_tube_pair tube;
	int p2c[2], c2p[2]; /* pipes, parent to child and back */
	int sp[2];          /* socketpair */
	int lsock;          /* tcp listener */
	int port;           /* its port */
	char endpoint[128]; /* zmq / nng */
};

/* One process's end. */
struct ep {
	enum kind k;
	straw_tube *t;
	straw_reg *reg;
	int rfd, wfd;
	void *zctx, *zsock;
	nng_socket ns;
};

static void
die(const char *what)
{
	fprintf(stderr, "bench_tube: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

static void
pre_setup(struct pre *p, enum kind k, int rtt)
{
	memset(p, 0, sizeof(*p));
	p->k = k;
	p->lsock = -1;
	switch (k) {
	case K_SPIN:
	case K_SLEEP:
		if (use_strawd) {
			if (pipe(p->sync) < 0)
				die("pipe");
		} else if (strawi_tube_pair_create(STRAW_TUBE_RELIABLE, 1, 1, 2,
		                                   &p->tube) < 0) {
			die("tube");
		}
		break;
	case K_PIPE:
		if (pipe(p->p2c) < 0 || pipe(p->c2p) < 0)
			die("pipe");
		break;
	case K_UDS:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p->sp) < 0)
			die("socketpair");
		break;
	case K_TCP: {
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		int one = 1;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		p->lsock = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(p->lsock, SOL_SOCKET, SO_REUSEADDR, &one,
		           sizeof(one));
		if (bind(p->lsock, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    listen(p->lsock, 1) < 0 ||
		    getsockname(p->lsock, (struct sockaddr *)&a, &al) < 0)
			die("tcp listen");
		p->port = ntohs(a.sin_port);
		break;
	}
	case K_ZMQ:
	case K_NNG:
		snprintf(p->endpoint, sizeof(p->endpoint),
		         "ipc:///tmp/straw-bench-%d-%d-%d.ipc", (int)getpid(),
		         (int)k, rtt);
		break;
	default:
		break;
	}
}

static void
zcheck(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "bench_tube: %s: %s\n", what,
		        zmq_strerror(zmq_errno()));
		exit(1);
	}
}

static void
ncheck(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "bench_tube: %s: %s\n", what, nng_strerror(rc));
		exit(1);
	}
}

/* Joins the bench's strawd; the child accepts, the parent opens a tube to
 * the child's container id, which the child sends over p->sync. */
static void
tube_through_strawd(struct pre *p, int child, struct ep *e)
{
	char name[64];
	uint32_t id;
	int rc;

	snprintf(name, sizeof(name), "bench-%d", (int)getpid());
	if (straw_reg_connect(&e->reg, strawd_dir, STRAW_REG_NO_AUTOSTART) <
	            0 ||
	    straw_reg_join(e->reg, name, &id) < 0)
		die("joining strawd");
	if (child) {
		close(p->sync[0]);
		if (write(p->sync[1], &id, sizeof(id)) != sizeof(id))
			die("write");
		close(p->sync[1]);
		rc = straw_tube_accept(e->reg, 10000, &e->t);
	} else {
		close(p->sync[1]);
		if (read(p->sync[0], &id, sizeof(id)) != sizeof(id))
			die("read");
		close(p->sync[0]);
		snprintf(name, sizeof(name), "%u", id);
		rc = straw_tube_open(e->reg, name, 1, STRAW_TUBE_RELIABLE,
		                     10000, &e->t);
	}
	if (rc < 0) {
		fprintf(stderr, "bench_tube: tube: %s\n", straw_strerror(rc));
		exit(1);
	}
}

/* Makes side `child` (0 parent, 1 child) of the transport; rtt selects
 * REQ/REP over PUSH/PULL for the message libraries. */
static void
ep_setup(struct pre *p, int child, int rtt, struct ep *e)
{
	memset(e, 0, sizeof(*e));
	e->k = p->k;
	switch (p->k) {
	case K_SPIN:
	case K_SLEEP:
		if (use_strawd) {
			tube_through_strawd(p, child, e);
		} else {
			strawi_tube_pair_close_side(&p->tube, 1 - child);
			if (strawi_tube_from_fds(child, p->tube.fds[child],
			                         &e->t) < 0)
				die("tube from fds");
		}
		/* straw-sleep: the reader (and both sides of the round
		 * trip) sleep at once; the throughput sender keeps the
		 * default budget for waiting for room. */
		if (p->k == K_SPIN)
			straw_tube_set_spin(e->t, 1000000000);
		else if (child || rtt)
			straw_tube_set_spin(e->t, 0);
		break;
	case K_PIPE:
		e->rfd = child ? p->p2c[0] : p->c2p[0];
		e->wfd = child ? p->c2p[1] : p->p2c[1];
		close(child ? p->p2c[1] : p->c2p[1]);
		close(child ? p->c2p[0] : p->p2c[0]);
		break;
	case K_UDS:
		e->rfd = e->wfd = p->sp[child];
		close(p->sp[1 - child]);
		break;
	case K_TCP: {
		int one = 1, fd;
		if (child) {
			struct sockaddr_in a = {.sin_family = AF_INET};
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			a.sin_port = htons((uint16_t)p->port);
			close(p->lsock);
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
				die("connect");
		} else {
			fd = accept(p->lsock, NULL, NULL);
			if (fd < 0)
				die("accept");
			close(p->lsock);
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		e->rfd = e->wfd = fd;
		break;
	}
	case K_ZMQ: {
		int type = rtt ? (child ? ZMQ_REP : ZMQ_REQ)
		               : (child ? ZMQ_PULL : ZMQ_PUSH);
		e->zctx = zmq_ctx_new();
		e->zsock = zmq_socket(e->zctx, type);
		if (e->zsock == NULL)
			zcheck(-1, "zmq_socket");
		if (child)
			zcheck(zmq_bind(e->zsock, p->endpoint), "zmq_bind");
		else
			zcheck(zmq_connect(e->zsock, p->endpoint),
			       "zmq_connect");
		break;
	}
	case K_NNG:
		if (rtt)
			ncheck(child ? nng_rep0_open(&e->ns)
			             : nng_req0_open(&e->ns),
			       "nng open");
		else
			ncheck(child ? nng_pull0_open(&e->ns)
			             : nng_push0_open(&e->ns),
			       "nng open");
		if (child)
			ncheck(nng_listen(e->ns, p->endpoint, NULL, 0),
			       "nng_listen");
		else
			ncheck(nng_dial(e->ns, p->endpoint, NULL,
			                NNG_FLAG_NONBLOCK),
			       "nng_dial");
		break;
	default:
		break;
	}
}

static void
ep_close(struct ep *e)
{
	switch (e->k) {
	case K_SPIN:
	case K_SLEEP:
		straw_tube_close(e->t);
		straw_reg_close(e->reg);
		break;
	case K_ZMQ: {
		int zero = 0;
		zmq_setsockopt(e->zsock, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_close(e->zsock);
		zmq_ctx_term(e->zctx);
		break;
	}
	case K_NNG:
		nng_close(e->ns);
		break;
	case K_PIPE:
		close(e->rfd);
		close(e->wfd);
		break;
	default:
		close(e->rfd);
		break;
	}
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += r;
		len -= (size_t)r;
	}
}

static void
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t r = read(fd, p, len);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			die("read");
		}
		p += r;
		len -= (size_t)r;
	}
}

/* One message, whole. */
static void
ep_send(struct ep *e, const void *buf, size_t len)
{
	switch (e->k) {
	case K_SPIN:
	case K_SLEEP:
		if (straw_tube_send(e->t, buf, len, -1) != 1)
			die("tube send");
		break;
	case K_ZMQ:
		if (zmq_send(e->zsock, buf, len, 0) < 0)
			zcheck(-1, "zmq_send");
		break;
	case K_NNG:
		ncheck(nng_send(e->ns, (void *)buf, len, 0), "nng_send");
		break;
	case K_UDS:
		if (send(e->wfd, buf, len, 0) != (ssize_t)len)
			die("send");
		break;
	default:
		write_all(e->wfd, buf, len);
		break;
	}
}

/* One message of exactly len bytes. */
static void
ep_recv(struct ep *e, void *buf, size_t len)
{
	switch (e->k) {
	case K_SPIN:
	case K_SLEEP:
		if (straw_tube_recv(e->t, buf, len, -1) != (int)len)
			die("tube recv");
		break;
	case K_ZMQ:
		if (zmq_recv(e->zsock, buf, len, 0) != (int)len)
			zcheck(-1, "zmq_recv");
		break;
	case K_NNG: {
		size_t n = len;
		ncheck(nng_recv(e->ns, buf, &n, 0), "nng_recv");
		break;
	}
	case K_UDS:
		if (recv(e->rfd, buf, len, 0) != (ssize_t)len)
			die("recv");
		break;
	default:
		read_all(e->rfd, buf, len);
		break;
	}
}

/* The throughput sender: n messages of size bytes. */
static void
thr_send(struct ep *e, size_t size, long n)
{
	static char buf[4096];
	long i;

	if (e->k == K_SPIN || e->k == K_SLEEP) {
		struct iovec v[BATCH];
		for (i = 0; i < BATCH; i++)
			v[i] = (struct iovec){buf, size};
		for (i = 0; i < n;) {
			int want = n - i < BATCH ? (int)(n - i) : BATCH;
			int r = straw_tube_send_many(e->t, v, want, -1);
			if (r <= 0)
				die("tube send_many");
			i += r;
		}
		return;
	}
	for (i = 0; i < n; i++)
		ep_send(e, buf, size);
}

/* The throughput receiver: n messages of size bytes. */
static void
thr_recv(struct ep *e, size_t size, long n)
{
	static char buf[65536];
	long i;

	if (e->k == K_SPIN || e->k == K_SLEEP) {
		static char m[BATCH][4096];
		struct iovec v[BATCH];
		for (i = 0; i < n;) {
			int j, r;
			for (j = 0; j < BATCH; j++)
				v[j] = (struct iovec){m[j], sizeof(m[j])};
			r = straw_tube_recv_many(e->t, v, BATCH, -1);
			if (r <= 0)
				die("tube recv_many");
			i += r;
		}
		return;
	}
	if (e->k == K_PIPE || e->k == K_TCP) {
		size_t left = size * (size_t)n;
		while (left > 0) {
			ssize_t r =
			        read(e->rfd, buf,
			             left < sizeof(buf) ? left : sizeof(buf));
			if (r <= 0) {
				if (r < 0 && errno == EINTR)
					continue;
				die("read");
			}
			left -= (size_t)r;
		}
		return;
	}
	for (i = 0; i < n; i++)
		ep_recv(e, buf, size);
}

static long
thr_count(enum kind k, size_t size)
{
	long n;

	if (k == K_SPIN)
		n = size == 64 ? 20000000 : size == 1024 ? 4000000 : 1000000;
	else if (k == K_SLEEP)
		n = size == 64 ? 10000000 : size == 1024 ? 2000000 : 500000;
	else if (k == K_ZMQ)
		n = size == 64 ? 2000000 : size == 1024 ? 500000 : 100000;
	else if (k == K_NNG) /* about 30 k/s here */
		n = 30000;
	else
		n = size == 64 ? 300000 : 100000;
	return bench_quick() ? n / 5 : n;
}

static void
run_throughput(enum kind k, size_t size)
{
	struct pre p;
	struct ep e;
	int ctl[2], ack[2], runs = bench_runs(), r, status;
	long n = thr_count(k, size);
	double rate[16];
	pid_t pid;
	char c = 0;

	pre_setup(&p, k, 0);
	if (pipe(ctl) < 0 || pipe(ack) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		pin(1);
		ep_setup(&p, 1, 0, &e);
		for (r = -1; r < runs; r++) {    /* -1: warm-up */
			read_all(ctl[0], &c, 1); /* go */
			thr_recv(&e, size, r < 0 ? WARMUP : n);
			write_all(ack[1], &c, 1);
		}
		read_all(ctl[0], &c, 1); /* the parent is done */
		ep_close(&e);
		_exit(0);
	}
	ep_setup(&p, 0, 0, &e);
	for (r = -1; r < runs; r++) {
		int64_t t0 = bench_now_ns();
		write_all(ctl[1], &c, 1);
		thr_send(&e, size, r < 0 ? WARMUP : n);
		read_all(ack[0], &c, 1);
		if (r >= 0)
			rate[r] =
			        (double)n * 1e9 / (double)(bench_now_ns() - t0);
	}
	write_all(ctl[1], &c, 1);
	waitpid(pid, &status, 0);
	ep_close(&e);
	close(ctl[0]);
	close(ctl[1]);
	close(ack[0]);
	close(ack[1]);
	{
		struct bench_result res = BENCH_RESULT_INIT(
		        "tube", "throughput", kind_name[k], (long)size);
		res.msgs_per_s = bench_median(rate, runs);
		res.bytes_per_s = res.msgs_per_s * (double)size;
		res.ns_per_op = 1e9 / res.msgs_per_s;
		bench_report(&res);
	}
}

static void
run_rtt(enum kind k)
{
	struct pre p;
	struct ep e;
	int runs = bench_runs(), r, status;
	long i, n = bench_quick() ? 20000 : 100000;
	double p50[16], p99[16], *rtt;
	char buf[64];
	pid_t pid;

	if (k == K_SLEEP || k > K_SPIN)
		n /= 4; /* each round trip costs micro-seconds */
	memset(buf, 1, sizeof(buf));
	pre_setup(&p, k, 1);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		pin(1);
		ep_setup(&p, 1, 1, &e);
		for (i = 0; i < (n + WARMUP / 10) * runs; i++) {
			ep_recv(&e, buf, sizeof(buf));
			ep_send(&e, buf, sizeof(buf));
		}
		ep_close(&e);
		_exit(0);
	}
	ep_setup(&p, 0, 1, &e);
	rtt = malloc(sizeof(double) * (size_t)n);
	if (rtt == NULL)
		die("malloc");
	for (r = 0; r < runs; r++) {
		for (i = -WARMUP / 10; i < n; i++) {
			int64_t t0 = bench_now_ns();
			ep_send(&e, buf, sizeof(buf));
			ep_recv(&e, buf, sizeof(buf));
			if (i >= 0)
				rtt[i] = (double)(bench_now_ns() - t0);
		}
		p50[r] = bench_percentile(rtt, (size_t)n, 50);
		p99[r] = bench_percentile(rtt, (size_t)n, 99);
	}
	free(rtt);
	waitpid(pid, &status, 0);
	ep_close(&e);
	{
		struct bench_result res = BENCH_RESULT_INIT(
		        "tube", "roundtrip", kind_name[k], (long)sizeof(buf));
		res.rtt_p50_ns = bench_median(p50, runs);
		res.rtt_p99_ns = bench_median(p99, runs);
		bench_report(&res);
	}
}

/* Runs one case in a fresh process, so that no library (nng, ZeroMQ) is
 * ever initialised in a process that forks later.  size 0: round trip. */
static void
run_case(enum kind k, size_t size)
{
	int status;
	pid_t pid;

	fflush(stdout); /* or every child prints the buffer again */
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char path[160];
		if (size != 0)
			run_throughput(k, size);
		else
			run_rtt(k);
		snprintf(path, sizeof(path), "/tmp/straw-bench-%d-%d-%d.ipc",
		         (int)getpid(), (int)k, size == 0);
		unlink(path);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		fprintf(stderr, "bench_tube: case %s %zu failed\n",
		        kind_name[k], size);
}

/* Starts strawd (the one built beside this program) in a temporary
 * directory; 0 or -1. */
static int
strawd_start(void)
{
	char bin[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", bin, sizeof(bin) - 32);
	int status;
	pid_t pid;

	if (n < 0)
		return -1;
	bin[n] = '\0';
	slash = strrchr(bin, '/');
	if (slash == NULL)
		return -1;
	strcpy(slash, "/../daemon/strawd");
	snprintf(strawd_dir, sizeof(strawd_dir), "/tmp/straw-bench-XXXXXX");
	if (mkdtemp(strawd_dir) == NULL)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(bin, "strawd", "--daemon", "--dir", strawd_dir,
		      (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		rmdir(strawd_dir);
		return -1;
	}
	return 0;
}

static void
strawd_stop(void)
{
	straw_reg_status st;
	straw_reg *r;
	char cmd[128];

	if (straw_reg_connect(&r, strawd_dir, STRAW_REG_NO_AUTOSTART) == 0) {
		if (straw_reg_status_get(r, &st) == 0 && st.pid > 0)
			kill((pid_t)st.pid, SIGTERM);
		straw_reg_close(r);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", strawd_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_tube: cannot remove %s\n", strawd_dir);
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = {64, 1024, 4096};
	int k, s;

	signal(SIGPIPE, SIG_IGN);
	pin(0);
	/* STRAW_BENCH_TUBE_DIRECT=1: skip strawd (for comparison). */
	use_strawd = getenv("STRAW_BENCH_TUBE_DIRECT") == NULL &&
	             strawd_start() == 0;
	bench_header("tube");
	printf("(tubes %s, reliable mode; processes pinned to CPUs 0 and "
	       "1)\n",
	       use_strawd ? "opened and accepted through strawd"
	                  : "made with strawi_tube_from_fds over fork: no "
	                    "strawd");
	for (s = 0; s <= 3; s++)
		for (k = 0; k < K_COUNT; k++)
			if (argc < 2 || strcmp(argv[1], kind_name[k]) == 0)
				run_case((enum kind)k, s < 3 ? sizes[s] : 0);
	if (use_strawd)
		strawd_stop();
	return 0;
}
