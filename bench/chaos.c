/*
 * straw_chaos SCENARIO - one fault scenario of `make chaos` (scripts/
 * chaos.sh) against the strawd named by $STRAW_TEST_STRAWD, in a private
 * runtime directory.  Prints one line with the scenario's figure and exits
 * 0 if it held, 1 if not, 2 for a bad argument.  Scenarios:
 *
 *   strawd-kill      kill -9 of strawd three times during a reliable tube
 *                    stream of 10^7 packets: lost, duplicated, reordered;
 *                    how long the containers and the tube take to come back
 *   container-kill   kill -9 of the sender mid-stream: how long until the
 *                    receiver sees it; memfds and registry entries left
 *   drop-accounting  a drop-mode tube with a slower reader: sent =
 *                    received + dropped, exactly
 *   stalled-receiver a reliable tube whose reader stops: the sender's memory
 *   flood            uid 65534: 16 containers x 4096 tube requests and
 *                    forgeries; strawd's RSS and maps, root's service
 *   watch-leak       uid 65534 watches "/" while root changes /secret
 *   slow-watchers    100 watchers that never read, 300000 writes: peak RSS
 *   fd-limit         strawd at its descriptor limit: the refusal, its CPU
 *
 * The last four need root (they run the attacker as uid 65534).  Built with
 * the benchmarks, never run as a test (it may take minutes).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sys/uio.h>

#include "strawd_util.h"

#define STREAM      10000000ull /* packets of the strawd-kill stream */
#define STREAM_KILL 3           /* times strawd is killed meanwhile */
#define MAX_PKT     256

static pid_t strawd;

/* What the processes of a scenario share (MAP_SHARED). */
struct shared {
	uint64_t received, lost, duplicated, reordered, corrupt; /* stream */
	int64_t kill_ns;             /* when the sender was killed */
	int64_t epipe_ns;            /* when the receiver saw -EPIPE */
	uint64_t after;              /* packets received after the kill */
	uint64_t sent, dropped, got; /* drop accounting */
	long rss_filled, rss_end;    /* stalled sender, KiB */
	uint64_t queued, refused;    /* stalled sender */
	uint8_t seen[STREAM / 8];    /* stream: each sequence */
};

static struct shared *sh;

static void
fill(uint8_t *p, uint64_t seq, size_t len)
{
	size_t i;

	memcpy(p, &seq, 8);
	for (i = 8; i < len; i++)
		p[i] = (uint8_t)(seq * 31 + i);
}

static size_t
len_of(uint64_t seq)
{
	return 16 + (size_t)((seq * 2654435761u) % (MAX_PKT - 15));
}

static straw_reg *
join(const char *name, uint32_t *id)
{
	straw_reg *r;

	if (straw_reg_connect(&r, NULL, 0) < 0)
		return NULL;
	if (straw_reg_join(r, name, id) < 0) {
		straw_reg_close(r);
		return NULL;
	}
	return r;
}

static uint32_t
id_of(straw_reg *r, const char *name)
{
	char path[128], *v;
	size_t len;
	uint32_t id = 0;

	snprintf(path, sizeof(path), "/names/%s", name);
	if (straw_reg_read(r, path, &v, &len) == 0) {
		id = (uint32_t)strtoul(v, NULL, 10);
		straw_free(v);
	}
	return id;
}

/* Starts strawd in the runtime directory; 0 or -1. */
static int
start_strawd(void)
{
	strawd = tu_start_strawd();
	return strawd > 0 ? 0 : -1;
}

static int
fail(const char *what)
{
	printf("%s\n", what);
	return 1;
}

/* ---- strawd-kill --------------------------------------------------------- */

/* The receiver: checks every packet, says 'p' every 10^6. */
static void
stream_receiver(int progress, int quit)
{
	uint8_t buf[MAX_PKT], want[MAX_PKT];
	uint64_t max = 0, n = 0;
	straw_tube *t;
	straw_reg *r;
	uint32_t id;

	r = join("chaos-b", &id);
	if (r == NULL)
		_exit(2);
	say(progress, 'j');
	if (straw_tube_accept(r, 20000, &t) < 0)
		_exit(2);
	say(progress, 'a');
	while (n < STREAM) {
		int k = straw_tube_recv(t, buf, sizeof(buf), 30000);
		uint64_t seq;
		if (k < 8)
			_exit(3);
		memcpy(&seq, buf, 8);
		fill(want, seq, (size_t)k);
		if (seq >= STREAM || (size_t)k != len_of(seq) ||
		    memcmp(buf, want, (size_t)k) != 0) {
			sh->corrupt++;
			continue;
		}
		if (sh->seen[seq / 8] & (1 << (seq % 8))) {
			sh->duplicated++;
			continue;
		}
		sh->seen[seq / 8] |= (uint8_t)(1 << (seq % 8));
		if (seq < max)
			sh->reordered++;
		if (seq > max)
			max = seq;
		n++;
		sh->received = n;
		if (n % 1000000 == 0)
			say(progress, 'p');
	}
	hear(quit, 600000);
	straw_tube_close(t);
	straw_reg_close(r);
	_exit(0);
}

static void
stream_sender(int quit)
{
	uint8_t buf[32][MAX_PKT];
	struct iovec iov[32];
	straw_tube *t;
	straw_reg *r;
	uint64_t seq = 0;
	uint32_t id;

	r = join("chaos-a", &id);
	if (r == NULL || straw_tube_open(r, "chaos-b", 1, STRAW_TUBE_RELIABLE,
	                                 20000, &t) < 0)
		_exit(2);
	while (seq < STREAM) {
		int n = 0, k;
		while (n < 32 && seq + (uint64_t)n < STREAM) {
			size_t len = len_of(seq + (uint64_t)n);
			fill(buf[n], seq + (uint64_t)n, len);
			iov[n].iov_base = buf[n];
			iov[n].iov_len = len;
			n++;
		}
		k = straw_tube_send_many(t, iov, n, 30000);
		if (k <= 0)
			_exit(3);
		seq += (uint64_t)k;
	}
	hear(quit, 600000);
	straw_tube_close(t);
	straw_reg_close(r);
	_exit(0);
}

static int
strawd_kill(void)
{
	int prog[2], qa[2], qb[2], kills = 0, i;
	double back_c = 0, back_t = 0;
	uint32_t a, b;
	straw_reg *r;
	pid_t pa, pb;
	char line[400];

	if (start_strawd() < 0 || pipe2(prog, O_CLOEXEC) < 0 ||
	    pipe2(qa, O_CLOEXEC) < 0 || pipe2(qb, O_CLOEXEC) < 0)
		return fail("strawd-kill: cannot set up");
	if ((pb = fork()) == 0)
		stream_receiver(prog[1], qb[0]);
	tu_track_helper(pb);
	if (hear(prog[0], 20000) != 'j')
		return fail("strawd-kill: the receiver did not join");
	if ((pa = fork()) == 0)
		stream_sender(qa[0]);
	tu_track_helper(pa);
	if (hear(prog[0], 20000) != 'a')
		return fail("strawd-kill: the tube did not open");
	if (tu_connect_wait(&r, 10000) < 0)
		return fail("strawd-kill: cannot connect");
	a = id_of(r, "chaos-a");
	b = id_of(r, "chaos-b");
	straw_reg_close(r);
	/* Kill at 2, 5 and 8 million packets received. */
	for (i = 1; i <= (int)(STREAM / 1000000); i++) {
		char ca[64], cb[64], ta[128], tb[128];
		int64_t t0;
		if (hear(prog[0], 120000) != 'p')
			return fail("strawd-kill: the stream stopped");
		if (i != 2 && i != 5 && i != 8)
			continue;
		tu_kill9(strawd);
		if (start_strawd() < 0)
			return fail("strawd-kill: strawd did not start again");
		t0 = strawi_now_ns();
		if (tu_connect_wait(&r, 10000) < 0)
			return fail("strawd-kill: cannot connect");
		snprintf(ca, sizeof(ca), "/containers/%u/name", a);
		snprintf(cb, sizeof(cb), "/containers/%u/name", b);
		snprintf(ta, sizeof(ta), "/tubes/%u-%u-1/%u/state", a, b, a);
		snprintf(tb, sizeof(tb), "/tubes/%u-%u-1/%u/state", a, b, b);
		if (!wait_path(r, "/containers", ca, 1) ||
		    !wait_path(r, "/containers", cb, 1))
			return fail(
			        "strawd-kill: a container did not come back");
		if ((double)(strawi_now_ns() - t0) / 1e6 > back_c)
			back_c = (double)(strawi_now_ns() - t0) / 1e6;
		if (!wait_path(r, "/tubes", ta, 1) ||
		    !wait_path(r, "/tubes", tb, 1))
			return fail("strawd-kill: the tube did not come back");
		if ((double)(strawi_now_ns() - t0) / 1e6 > back_t)
			back_t = (double)(strawi_now_ns() - t0) / 1e6;
		straw_reg_close(r);
		kills++;
	}
	say(qa[1], 'q');
	say(qb[1], 'q');
	if (check_wait_child(pa, 60000) != 0 ||
	    check_wait_child(pb, 60000) != 0)
		return fail("strawd-kill: a container failed");
	sh->lost = STREAM - sh->received;
	snprintf(line, sizeof(line),
	         "strawd kill -9 x%d during a reliable stream of %llu "
	         "packets: %llu lost, %llu duplicated, %llu reordered, %llu "
	         "corrupt; containers back within %.1f ms, the tube within "
	         "%.1f ms of the new strawd serving",
	         kills, (unsigned long long)STREAM,
	         (unsigned long long)sh->lost,
	         (unsigned long long)sh->duplicated,
	         (unsigned long long)sh->reordered,
	         (unsigned long long)sh->corrupt, back_c, back_t);
	printf("%s\n", line);
	return kills == STREAM_KILL && sh->lost == 0 && sh->duplicated == 0 &&
	                       sh->reordered == 0 && sh->corrupt == 0 &&
	                       back_t < 1000
	               ? 0
	               : 1;
}

/* ---- container-kill ------------------------------------------------------ */

/* Entries of strawd's descriptors and maps that are memfds. */
static int
strawd_memfds(void)
{
	char path[64], link[256], line[512];
	struct dirent *e;
	int n = 0;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)strawd);
	d = opendir(path);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char p[384];
			ssize_t k;
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			k = readlink(p, link, sizeof(link) - 1);
			if (k > 0) {
				link[k] = '\0';
				n += strstr(link, "memfd:") != NULL;
			}
		}
		closedir(d);
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)strawd);
	f = fopen(path, "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			n += strstr(line, "memfd:") != NULL;
		fclose(f);
	}
	return n;
}

static void
kill_receiver(int progress, int quit)
{
	uint8_t buf[MAX_PKT];
	straw_tube *t;
	straw_reg *r;
	uint32_t id;
	uint64_t n = 0;
	int k;

	r = join("chaos-b", &id);
	if (r == NULL)
		_exit(2);
	say(progress, 'j');
	if (straw_tube_accept(r, 20000, &t) < 0)
		_exit(2);
	while ((k = straw_tube_recv(t, buf, sizeof(buf), 30000)) > 0) {
		if (++n == 100000)
			say(progress, 'p');
		if (sh->kill_ns != 0)
			sh->after++;
	}
	if (k != -EPIPE)
		_exit(3);
	sh->epipe_ns = strawi_now_ns();
	say(progress, 'e');
	hear(quit, 60000);
	straw_tube_close(t);
	straw_reg_close(r);
	_exit(0);
}

static void
kill_sender(void)
{
	uint8_t buf[MAX_PKT];
	straw_tube *t;
	straw_reg *r;
	uint64_t seq = 0;
	uint32_t id;

	r = join("chaos-a", &id);
	if (r == NULL || straw_tube_open(r, "chaos-b", 1, STRAW_TUBE_RELIABLE,
	                                 20000, &t) < 0)
		_exit(2);
	for (;;) {
		fill(buf, seq, len_of(seq));
		if (straw_tube_send(t, buf, len_of(seq), 30000) != 1)
			_exit(3);
		seq++;
	}
}

static int
container_kill(void)
{
	int prog[2], quit[2], left = 0, memfds;
	char pa_path[64], pb_path[64], tube[96];
	double seen, gone;
	uint32_t a, b;
	straw_reg *r;
	pid_t pa, pb;
	int64_t t0;
	char **names;
	size_t n;

	if (start_strawd() < 0 || pipe2(prog, O_CLOEXEC) < 0 ||
	    pipe2(quit, O_CLOEXEC) < 0)
		return fail("container-kill: cannot set up");
	if ((pb = fork()) == 0)
		kill_receiver(prog[1], quit[0]);
	tu_track_helper(pb);
	if (hear(prog[0], 20000) != 'j')
		return fail("container-kill: the receiver did not join");
	if ((pa = fork()) == 0)
		kill_sender();
	tu_track_helper(pa);
	if (hear(prog[0], 30000) != 'p')
		return fail("container-kill: the stream did not start");
	if (tu_connect_wait(&r, 10000) < 0)
		return fail("container-kill: cannot connect");
	a = id_of(r, "chaos-a");
	b = id_of(r, "chaos-b");
	snprintf(pa_path, sizeof(pa_path), "/containers/%u", a);
	snprintf(pb_path, sizeof(pb_path), "/containers/%u", b);
	snprintf(tube, sizeof(tube), "/tubes/%u-%u-1", a, b);
	sh->kill_ns = t0 = strawi_now_ns();
	kill(pa, SIGKILL);
	if (hear(prog[0], 10000) != 'e')
		return fail("container-kill: the receiver never saw it");
	seen = (double)(sh->epipe_ns - sh->kill_ns) / 1e6;
	if (!wait_path(r, "/containers", pa_path, 0))
		return fail("container-kill: strawd kept the container");
	gone = (double)(strawi_now_ns() - t0) / 1e6;
	check_wait_child(pa, 10000);
	say(quit[1], 'q');
	if (check_wait_child(pb, 30000) != 0)
		return fail("container-kill: the receiver failed");
	/* Both gone: nothing of them may be left. */
	left += !wait_path(r, "/containers", pb_path, 0);
	left += !wait_path(r, "/tubes", tube, 0);
	if (straw_reg_ls(r, "/tubes", &names, &n) == 0) {
		left += (int)n;
		straw_reg_free_names(names, n);
	}
	memfds = strawd_memfds();
	straw_reg_close(r);
	printf("container kill -9 mid-stream: the peer saw it %.2f ms after "
	       "the kill (-EPIPE after %llu more packets), strawd removed it "
	       "in %.2f ms; %d memfds and %d registry entries left\n",
	       seen, (unsigned long long)sh->after, gone, memfds, left);
	return seen < 1000 && memfds == 0 && left == 0 ? 0 : 1;
}

/* ---- drop-accounting ----------------------------------------------------- */

#define DROP_SEND 1000000

static int
drop_accounting(void)
{
	straw_tube_stats st;
	straw_tube *t;
	uint8_t buf[64] = {0};
	straw_reg *r;
	uint32_t id;
	int prog[2];
	pid_t pb;
	uint64_t i;

	if (start_strawd() < 0 || pipe2(prog, O_CLOEXEC) < 0)
		return fail("drop-accounting: cannot set up");
	if ((pb = fork()) == 0) {
		straw_reg *rb = join("chaos-b", &id);
		straw_tube *tb;
		int k;
		if (rb == NULL)
			_exit(2);
		say(prog[1], 'j');
		if (straw_tube_accept(rb, 20000, &tb) < 0)
			_exit(2);
		say(prog[1], 'a');
		/* A reader slower than the writer: a little work a packet. */
		while ((k = straw_tube_recv(tb, buf, sizeof(buf), 30000)) > 0) {
			volatile unsigned spin = 0;
			while (spin < 200)
				spin++;
			sh->got++;
		}
		straw_tube_close(tb);
		straw_reg_close(rb);
		_exit(k == -EPIPE ? 0 : 3);
	}
	tu_track_helper(pb);
	r = hear(prog[0], 20000) == 'j' ? join("chaos-a", &id) : NULL;
	if (r == NULL ||
	    straw_tube_open(r, "chaos-b", 1, STRAW_TUBE_DROP, 20000, &t) < 0 ||
	    hear(prog[0], 20000) != 'a')
		return fail("drop-accounting: the tube did not open");
	for (i = 0; i < DROP_SEND; i++)
		if (straw_tube_send(t, buf, sizeof(buf), 0) < 0)
			return fail("drop-accounting: send failed");
	straw_tube_get_stats(t, &st);
	straw_tube_close(t);
	if (check_wait_child(pb, 60000) != 0)
		return fail("drop-accounting: the reader failed");
	straw_reg_close(r);
	printf("drop accounting: %llu sent = %llu received + %llu dropped "
	       "(%s)\n",
	       (unsigned long long)st.self.sent, (unsigned long long)sh->got,
	       (unsigned long long)st.self.dropped,
	       st.self.sent == sh->got + st.self.dropped ? "exact"
	                                                 : "MISMATCH");
	return st.self.sent == DROP_SEND &&
	                       st.self.sent == sh->got + st.self.dropped &&
	                       st.self.dropped > 0
	               ? 0
	               : 1;
}

/* ---- stalled-receiver ---------------------------------------------------- */

#define STALL_TRIES 1000000

static int
stalled_receiver(void)
{
	uint8_t buf[1024] = {0};
	straw_tube *t;
	straw_reg *r;
	uint32_t id;
	int prog[2], quit[2], rc;
	long rss0;
	pid_t pb;
	uint64_t i;

	if (start_strawd() < 0 || pipe2(prog, O_CLOEXEC) < 0 ||
	    pipe2(quit, O_CLOEXEC) < 0)
		return fail("stalled-receiver: cannot set up");
	if ((pb = fork()) == 0) {
		straw_reg *rb = join("chaos-b", &id);
		straw_tube *tb;
		if (rb == NULL)
			_exit(2);
		say(prog[1], 'j');
		if (straw_tube_accept(rb, 20000, &tb) < 0)
			_exit(2);
		say(prog[1], 'a');
		hear(quit[0], 120000); /* never reads */
		straw_tube_close(tb);
		straw_reg_close(rb);
		_exit(0);
	}
	tu_track_helper(pb);
	r = hear(prog[0], 20000) == 'j' ? join("chaos-a", &id) : NULL;
	if (r == NULL ||
	    straw_tube_open(r, "chaos-b", 1, STRAW_TUBE_RELIABLE, 20000, &t) <
	            0 ||
	    hear(prog[0], 20000) != 'a')
		return fail("stalled-receiver: the tube did not open");
	rss0 = proc_kb(getpid(), "VmRSS");
	while ((rc = straw_tube_send(t, buf, sizeof(buf), 0)) == 1)
		sh->queued++;
	sh->rss_filled = proc_kb(getpid(), "VmRSS");
	for (i = 0; i < STALL_TRIES; i++)
		sh->refused +=
		        straw_tube_send(t, buf, sizeof(buf), 0) == -ETIMEDOUT;
	rc = straw_tube_send(t, buf, sizeof(buf), 200);
	sh->rss_end = proc_kb(getpid(), "VmRSS");
	straw_tube_close(t);
	say(quit[1], 'q');
	check_wait_child(pb, 30000);
	straw_reg_close(r);
	printf("stalled receiver: the sender queued %llu packets of 1024 "
	       "bytes (RSS +%ld KiB: the tube's shared memory), then %llu "
	       "sends got -ETIMEDOUT and one waiting 200 ms %s; its RSS grew "
	       "%ld KiB meanwhile\n",
	       (unsigned long long)sh->queued, sh->rss_filled - rss0,
	       (unsigned long long)sh->refused,
	       rc == -ETIMEDOUT ? "-ETIMEDOUT" : straw_errname(rc),
	       sh->rss_end - sh->rss_filled);
	return sh->refused == STALL_TRIES && rc == -ETIMEDOUT &&
	                       sh->rss_end - sh->rss_filled < 256
	               ? 0
	               : 1;
}

/* ---- the attacks of uid 65534 ------------------------------------------- */

static int
need_root(const char *name)
{
	if (geteuid() == 0)
		return 0;
	printf("%s: needs root (the attacker runs as uid 65534)\n", name);
	return -1;
}

static int
flood(void)
{
	struct root_probe probe = {0};
	uint64_t use[REG_USAGE_NRES];
	struct reg_usage_info info;
	struct flood_arg fa;
	long rss0, hwm, rss_after;
	int maps0, maps1, p1[2], p2[2], st, ok;
	straw_reg *r;
	pthread_t th;
	pid_t child;

	if (need_root("flood") < 0)
		return 1;
	if (start_strawd() < 0 || pipe2(p1, O_CLOEXEC) < 0 ||
	    pipe2(p2, O_CLOEXEC) < 0 ||
	    (r = join("root-c", &fa.root_id)) == NULL)
		return fail("flood: cannot set up");
	fa.to_parent = p1[1];
	fa.from_parent = p2[0];
	fa.res = mmap(NULL, sizeof(*fa.res), PROT_READ | PROT_WRITE,
	              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	rss0 = proc_kb(strawd, "VmRSS");
	maps0 = proc_maps(strawd);
	child = nobody_fork(flood_child, &fa);
	tu_track_helper(child);
	pthread_create(&th, NULL, root_probe_main, &probe);
	ok = hear(p1[0], 600000) == 'q';
	atomic_store(&probe.stop, 1);
	pthread_join(th, NULL);
	hwm = proc_kb(strawd, "VmHWM");
	maps1 = proc_maps(strawd);
	ok = ok && usage_of(r, NOBODY, use, &info) == 0 &&
	     use[REG_RES_TUBES] == info.limit[REG_RES_TUBES];
	say(p2[1], 'x');
	st = check_wait_child(child, 60000);
	ok = ok && st == 0 && wait_path(r, "/names", "/names/flood-15", 0);
	rss_after = proc_kb(strawd, "VmRSS");
	straw_reg_close(r);
	printf("flood by uid 65534 (16 containers x 4096 tube requests and "
	       "x 4096 forged adoptions): %d forgeries adopted, %d tubes made "
	       "(its quota: 8192 ends), %d refused STRAW_EQUOTA; strawd RSS "
	       "%ld -> peak %ld KiB (%ld after), maps %d -> %d; root: %d "
	       "rounds of status/write/read/join, %d failed, slowest %.1f "
	       "ms\n",
	       fa.res->adopted, fa.res->made, fa.res->quota, rss0, hwm,
	       rss_after, maps0, maps1, probe.rounds, probe.failures,
	       (double)probe.worst_ns / 1e6);
	return ok && fa.res->adopted == 0 && probe.failures == 0 &&
	                       maps1 - maps0 <= 64 && hwm - rss0 <= 64 * 1024
	               ? 0
	               : 1;
}

static int
watch_leak(void)
{
	int ready[2], st;
	straw_reg *r;
	pid_t child;

	if (need_root("watch-leak") < 0)
		return 1;
	if (start_strawd() < 0 || pipe2(ready, O_CLOEXEC) < 0 ||
	    straw_reg_connect(&r, NULL, 0) < 0 || watch_leak_setup(r) < 0)
		return fail("watch-leak: cannot set up");
	child = nobody_fork(watch_leak_child, &ready[1]);
	tu_track_helper(child);
	if (hear(ready[0], 20000) != 'r' || watch_leak_changes(r) < 0)
		return fail("watch-leak: the watcher did not start");
	st = check_wait_child(child, 30000);
	straw_reg_close(r);
	printf("watch leak: a watch on / by uid 65534 while root made 9 "
	       "changes under /secret (writes, new permissions, a transaction, "
	       "removals): %s\n",
	       st == 0 ? "no event about /secret, the 4 of /public it may read "
	                 "arrived"
	       : WIFEXITED(st) && WEXITSTATUS(st) == 5 ? "it heard of /secret"
	                                               : "the watcher failed");
	return st == 0 ? 0 : 1;
}

static int
slow_watchers(void)
{
	static struct raw w[WATCHERS];
	straw_reg_perms mine = {0};
	struct conns_arg ca;
	int p1[2], p2[2], ok;
	long rss0, hwm;
	straw_reg *r;
	pid_t child;

	if (need_root("slow-watchers") < 0)
		return 1;
	mine.owner = NOBODY;
	if (start_strawd() < 0 || straw_reg_connect(&r, NULL, 0) < 0 ||
	    straw_reg_mkdir(r, "/flood") < 0 ||
	    straw_reg_set_perms(r, "/flood", &mine) < 0 ||
	    lazy_watchers(w, WATCHERS) < 0 || pipe2(p1, O_CLOEXEC) < 0 ||
	    pipe2(p2, O_CLOEXEC) < 0)
		return fail("slow-watchers: cannot set up");
	rss0 = proc_kb(strawd, "VmRSS");
	ca.to_parent = p1[1];
	ca.from_parent = p2[0];
	child = nobody_fork(slow_child, &ca);
	tu_track_helper(child);
	ok = hear(p1[0], 600000) == 'w';
	hwm = proc_kb(strawd, "VmHWM");
	ok = ok && all_cut_off(w, WATCHERS);
	say(p2[1], 'x');
	ok = ok && check_wait_child(child, 120000) == 0;
	straw_reg_close(r);
	printf("slow watchers: 100 watchers (50 of root, 50 of uid 65534) "
	       "not reading through 300000 writes: all cut off; strawd RSS %ld "
	       "KiB before, peak %ld KiB (limit of queued output: 64 MiB)\n",
	       rss0, hwm);
	return ok && hwm - rss0 <= 96 * 1024 ? 0 : 1;
}

static int
fd_limit(void)
{
	static const char *const args[] = {"--max-connections", "100000",
	                                   "--quota-connections", "99999",
	                                   NULL};
	long t0, t1, hz = sysconf(_SC_CLK_TCK);
	struct conns_arg ca;
	int p1[2], p2[2], ok;
	pid_t child;

	if (need_root("fd-limit") < 0)
		return 1;
	tu_strawd_nofile = FD_LIMIT;
	strawd = tu_start_strawd_args(args);
	if (strawd <= 0 || pipe2(p1, O_CLOEXEC) < 0 || pipe2(p2, O_CLOEXEC) < 0)
		return fail("fd-limit: cannot set up");
	ca.to_parent = p1[1];
	ca.from_parent = p2[0];
	child = nobody_fork(fdlimit_child, &ca);
	tu_track_helper(child);
	ok = hear(p1[0], 60000) == 'f';
	t0 = proc_cpu_ticks(strawd);
	poll(NULL, 0, 2000); /* the interval measured */
	t1 = proc_cpu_ticks(strawd);
	say(p2[1], 'x');
	ok = ok && check_wait_child(child, 60000) == 0;
	printf("fd limit: strawd with %d descriptors refuses the clients past "
	       "it with STRAW_ESERVERFULL (\"%s\"), and used %ld ms of CPU in "
	       "2000 ms there\n",
	       FD_LIMIT, straw_strerror(STRAW_ESERVERFULL),
	       (t1 - t0) * 1000 / hz);
	return ok && (t1 - t0) * 1000 / hz <= 100 ? 0 : 1;
}

static const struct {
	const char *name;
	int (*fn)(void);
} scenarios[] = {
        {"strawd-kill", strawd_kill},
        {"container-kill", container_kill},
        {"drop-accounting", drop_accounting},
        {"stalled-receiver", stalled_receiver},
        {"flood", flood},
        {"watch-leak", watch_leak},
        {"slow-watchers", slow_watchers},
        {"fd-limit", fd_limit},
};

int
main(int argc, char **argv)
{
	size_t i;
	int rc;

	for (i = 0; argc == 2 && i < sizeof(scenarios) / sizeof(scenarios[0]);
	     i++)
		if (strcmp(argv[1], scenarios[i].name) == 0)
			break;
	if (argc != 2 || i == sizeof(scenarios) / sizeof(scenarios[0]) ||
	    getenv("STRAW_TEST_STRAWD") == NULL) {
		fprintf(stderr, "usage: STRAW_TEST_STRAWD=strawd straw_chaos "
		                "SCENARIO\nscenarios:");
		for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			fprintf(stderr, " %s", scenarios[i].name);
		fprintf(stderr, "\n");
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	tu_setup();
	rc = scenarios[i].fn();
	fflush(stdout);
	if (strawd > 0)
		tu_stop_strawd(strawd);
	tu_reap_leftovers();
	return rc;
}
