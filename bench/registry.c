/*
 * bench/registry.c - registry reads and writes per second against a real
 * strawd (started from this build in a private directory and stopped at
 * the end), from 1 and from 8 clients (threads, one connection each):
 *
 *   straw        plain calls: one request, wait for its reply
 *   straw-async  pipelined writes (straw_reg_write_async + straw_reg_sync)
 *   uds-seqpacket  the transport alone: a 32-byte request/reply round trip
 *                  to an echo thread, the ceiling of any one-at-a-time call
 *
 * LING's xenstore managed 23.5k writes/s at best (a figure from its
 * authors, not measured here).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <straw/alloc.h>
#include <straw/registry.h>

#include "bench.h"

#define KEYS 1000 /* distinct keys per client */

static char dir[256];
static pid_t strawd_pid;

/* Starts `strawd --daemon` (it returns once it serves) and reads its pid
 * from the lock file. */
static int
start_strawd(void)
{
	char self[PATH_MAX], bin[PATH_MAX + 32], cmd[PATH_MAX + 400], p[300];
	const char *env = getenv("STRAW_STRAWD");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *f;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	if (env != NULL)
		snprintf(bin, sizeof(bin), "%s", env);
	else
		snprintf(bin, sizeof(bin), "%s/../daemon/strawd", self);
	snprintf(dir, sizeof(dir), "/tmp/straw-bench-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	setenv("STRAW_DIR", dir, 1);
	setenv("STRAW_AUTOSTART", "0", 1);
	snprintf(cmd, sizeof(cmd), "'%s' --daemon --quota-nodes 100000", bin);
	if (system(cmd) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/strawd.lock", dir);
	f = fopen(p, "r");
	if (f == NULL || fscanf(f, "%d", &strawd_pid) != 1)
		return -1;
	fclose(f);
	return 0;
}

/* Stops strawd and waits until it let go of its lock. */
static void
stop_strawd(void)
{
	char p[300];
	int fd;

	snprintf(p, sizeof(p), "%s/strawd.lock", dir);
	fd = open(p, O_RDONLY);
	kill(strawd_pid, SIGTERM);
	if (fd >= 0) {
		flock(fd, LOCK_EX);
		close(fd);
	}
	unlink(p);
	snprintf(p, sizeof(p), "%s/ids", dir);
	unlink(p);
	rmdir(dir);
}

enum op { OP_WRITE, OP_WRITE_ASYNC, OP_READ };

struct job {
	straw_reg *r;             /* its connection */
	int k;                    /* client number */
	long n;                   /* operations */
	enum op op;               /* which */
	pthread_barrier_t *start; /* all start together */
	int err;                  /* first error */
};

static void *
run_job(void *arg)
{
	struct job *j = arg;
	char path[64], val[17] = "0123456789abcdef";
	long i;
	int rc = 0;

	pthread_barrier_wait(j->start);
	for (i = 0; i < j->n && rc == 0; i++) {
		snprintf(path, sizeof(path), "/bench/c%d/k%ld", j->k, i % KEYS);
		if (j->op == OP_READ) {
			char *v;
			size_t len;
			rc = straw_reg_read(j->r, path, &v, &len);
			if (rc == 0)
				straw_free(v);
		} else if (j->op == OP_WRITE) {
			rc = straw_reg_write(j->r, path, val, 16);
		} else {
			rc = straw_reg_write_async(j->r, path, val, 16);
		}
	}
	if (rc == 0 && j->op == OP_WRITE_ASYNC)
		rc = straw_reg_sync(j->r);
	j->err = rc;
	return NULL;
}

/* Runs nclients jobs at once; returns operations per second. */
static double
measure(straw_reg **conns, int nclients, long per, enum op op)
{
	pthread_t th[8];
	struct job jobs[8];
	pthread_barrier_t start;
	int64_t t0, t1;
	int i;

	pthread_barrier_init(&start, NULL, (unsigned)nclients + 1);
	for (i = 0; i < nclients; i++) {
		jobs[i].r = conns[i];
		jobs[i].k = i;
		jobs[i].n = per;
		jobs[i].op = op;
		jobs[i].start = &start;
		jobs[i].err = 0;
		pthread_create(&th[i], NULL, run_job, &jobs[i]);
	}
	pthread_barrier_wait(&start);
	t0 = bench_now_ns();
	for (i = 0; i < nclients; i++)
		pthread_join(th[i], NULL);
	t1 = bench_now_ns();
	pthread_barrier_destroy(&start);
	for (i = 0; i < nclients; i++) {
		if (jobs[i].err != 0) {
			fprintf(stderr, "bench_registry: %s\n",
			        straw_strerror(jobs[i].err));
			exit(1);
		}
	}
	return (double)per * nclients / ((double)(t1 - t0) / 1e9);
}

static void
report(const char *name, const char *c, int clients, double *v, int runs)
{
	struct bench_result r = BENCH_RESULT_INIT("registry", name, c, 16);
	char n[32];

	snprintf(n, sizeof(n), "%s-%dc", name, clients);
	r.name = n;
	r.msgs_per_s = bench_median(v, runs);
	r.ns_per_op = 1e9 / r.msgs_per_s;
	bench_report(&r);
}

static void
run_case(straw_reg **conns, const char *name, const char *c, int clients,
         long per, enum op op)
{
	double v[16];
	int i, runs = bench_runs();

	for (i = 0; i < runs; i++)
		v[i] = measure(conns, clients, per, op);
	report(name, c, clients, v, runs);
}

static void *
echo_main(void *arg)
{
	int fd = *(int *)arg;
	char buf[64];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		if (send(fd, buf, (size_t)n, 0) != n)
			break;
	return NULL;
}

/* The transport alone: request/reply round trips on a socketpair. */
static void
seqpacket_peer(long per)
{
	double v[16];
	int sv[2], i, runs = bench_runs();
	char buf[32] = {0};
	pthread_t th;

	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	pthread_create(&th, NULL, echo_main, &sv[1]);
	for (i = 0; i < runs; i++) {
		int64_t t0 = bench_now_ns();
		long k;
		for (k = 0; k < per; k++) {
			if (send(sv[0], buf, sizeof(buf), 0) < 0 ||
			    recv(sv[0], buf, sizeof(buf), 0) < 0)
				exit(1);
		}
		v[i] = (double)per / ((double)(bench_now_ns() - t0) / 1e9);
	}
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	report("roundtrip", "uds-seqpacket", 1, v, runs);
}

int
main(void)
{
	long sync_n = bench_quick() ? 20000 : 100000;
	long async_n = bench_quick() ? 100000 : 500000;
	straw_reg *conns[8];
	int i;

	if (start_strawd() < 0) {
		fprintf(stderr, "bench_registry: cannot start strawd\n");
		return 1;
	}
	for (i = 0; i < 8; i++) {
		if (straw_reg_connect(&conns[i], NULL, 0) < 0)
			return 1;
	}
	bench_header("registry");
	/* Keys exist before reads; writes then overwrite them. */
	measure(conns, 8, KEYS, OP_WRITE_ASYNC);
	run_case(conns, "write", "straw", 1, sync_n, OP_WRITE);
	run_case(conns, "write", "straw", 8, sync_n / 8, OP_WRITE);
	run_case(conns, "write", "straw-async", 1, async_n, OP_WRITE_ASYNC);
	run_case(conns, "write", "straw-async", 8, async_n / 8, OP_WRITE_ASYNC);
	run_case(conns, "read", "straw", 1, sync_n, OP_READ);
	run_case(conns, "read", "straw", 8, sync_n / 8, OP_READ);
	seqpacket_peer(sync_n);
	printf("(LING xenstore, by its authors: 23.5k writes/s at best)\n");
	for (i = 0; i < 8; i++)
		straw_reg_close(conns[i]);
	stop_strawd();
	return 0;
}
