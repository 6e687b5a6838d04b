/*
 * Let it crash, cleanly: a process that crashes releases the messages it
 * holds and the timers aimed at it (RSS and fds stay flat over 20,000
 * crashes), its end is logged exactly once with its pid and reason, a
 * process that runs too long without yielding is named in the log, and
 * an attached thread sends by name without waiting for the scheduler.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <straw/straw.h>

#include "proc/proc_test_util.h"
#include "testing/check.h"

/* ---- the log, captured -------------------------------------------------- */

static int saved_stderr = -1;

static void
capture_start(const char *path)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	saved_stderr = dup(2);
	CHECK(saved_stderr >= 0);
	CHECK(dup2(fd, 2) == 2);
	close(fd);
}

static void
capture_stop(void)
{
	CHECK(dup2(saved_stderr, 2) == 2);
	close(saved_stderr);
	saved_stderr = -1;
}

/* Lines of path that contain every one of the strings (NULL-ended). */
static long
count_lines(const char *path, const char *a, const char *b)
{
	char line[2048];
	long n = 0;
	FILE *f = fopen(path, "r");

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, a) != NULL && (b == NULL || strstr(line, b)))
			n++;
	fclose(f);
	return n;
}

static long
rss_kb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	CHECK(f != NULL);
	CHECK_EQ(fscanf(f, "%ld %ld", &pages, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int
open_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 4096; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* ---- crashes release what they hold ----------------------------------- */

static uint8_t kb4[4096];

static void
holder(void *arg)
{
	straw_msg *got, *made, *later;
	straw_timer *t = arg;

	PRECV(got, 5000); /* a 4 KB message, held */
	CHECK_OK(straw_msgf(&made, "{made, ~b}", kb4, sizeof(kb4)));
	CHECK_OK(straw_msgf(&later, "{later, ~b}", kb4, sizeof(kb4)));
	CHECK_OK(straw_send_after(straw_self(), later, 3600 * 1000, t));
	straw_msg_ref(made); /* two references of its own */
	straw_panic("crash %d holding %zu bytes", 1,
	            straw_msg_len(got) + 2 * straw_msg_len(made));
}

static void
crash_many(int n)
{
	straw_msg *m, *big;
	straw_ref ref;
	straw_pid child;
	straw_timer t;
	int i;

	CHECK_OK(straw_msgf(&big, "{data, ~b}", kb4, sizeof(kb4)));
	for (i = 0; i < n; i++) {
		CHECK_OK(straw_spawn(
		        holder, &t,
		        &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
		        &child));
		CHECK_OK(straw_send(child, big));
		CHECK_OK(straw_receive_match(&m, 5000,
		                             "{'DOWN', _, process, _, _}"));
		straw_msg_unref(m);
		/* the timer aimed at it went with it */
		CHECK_RC(straw_cancel_timer(t), -ENOENT);
	}
	straw_msg_unref(big);
}

struct flat {
	long rss0, rss1; /* before and after the measured crashes, KB */
	int fds0, fds1;  /* open fds then */
};

static void
crashes_main(void *arg)
{
	struct flat *f = arg;

	crash_many(2000); /* warm: pools, caches, heap */
	f->rss0 = rss_kb();
	f->fds0 = open_fds();
	crash_many(20000);
	f->rss1 = rss_kb();
	f->fds1 = open_fds();
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_ON 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ASAN_ON 1
#endif

CASE(crashes_release_messages_and_timers)
{
	char path[] = "/tmp/straw-hygiene-XXXXXX";
	struct flat f = {0, 0, 0, 0};
	int fd;

#ifdef ASAN_ON
	/* ASan keeps freed memory in quarantine, which grows the RSS: run
	 * this case again in a child without it. */
	if (getenv("STRAW_HYGIENE_CHILD") == NULL) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			setenv("ASAN_OPTIONS", "quarantine_size_mb=0", 1);
			setenv("STRAW_HYGIENE_CHILD", "1", 1);
			execl(check_self_path(), check_self_path(),
			      "crashes_release_messages_and_timers",
			      (char *)NULL);
			_exit(127);
		}
		CHECK_EQ(check_wait_child(pid, 100000), 0);
		return;
	}
#endif
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	capture_start(path);
	CHECK_EQ(pt_run(crashes_main, &f), 0);
	capture_stop();
	fprintf(stderr,
	        "RSS %ld KB -> %ld KB over 20000 crashes, fds %d -> %d\n",
	        f.rss0, f.rss1, f.fds0, f.fds1);
	/* each held 12 KB of messages and a timer: 240 MB if they leaked */
	CHECK(f.rss1 - f.rss0 < 2048);
	CHECK_EQ(f.fds1, f.fds0);
	/* each crash logged exactly once, with its reason */
	CHECK_EQ(count_lines(path, "failed: {panic,<<\"", "holding 12"), 22000);
	unlink(path);
}

/* ---- only crashes are logged ---------------------------------------------- */

static void
victim(void *arg)
{
	straw_msg *m;

	(void)arg;
	PRECV(m, STRAW_INFINITY);
	straw_msg_unref(m);
}

static void
crasher(void *arg)
{
	straw_pid *v = arg;

	CHECK_OK(straw_link(*v));
	straw_panic("the only one");
}

static void
log_main(void *arg)
{
	straw_pid v, c;
	straw_ref r1, r2;
	char *pid_text = arg;

	CHECK_OK(straw_spawn(victim, NULL,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &r1},
	                     &v));
	CHECK_OK(straw_spawn(crasher, &v,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &r2},
	                     &c));
	straw_pid_format(c, pid_text, STRAW_PID_FORMAT_MAX);
	pt_down_reason_is(NULL);
	pt_down_reason_is(NULL);
	/* a normal end and an exit by choice are not logged either */
	CHECK_OK(straw_spawn(victim, NULL, NULL, &v));
	CHECK_OK(straw_sendf(v, "bye"));
	CHECK_OK(straw_exit_atom(v, "shutdown"));
	straw_exit_self_atom("chosen");
}

CASE(a_crash_is_logged_once_and_only_it)
{
	char path[] = "/tmp/straw-hygiene-XXXXXX";
	char pid_text[STRAW_PID_FORMAT_MAX];
	char want[128];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	capture_start(path);
	CHECK_EQ(pt_run(log_main, pid_text), 1);
	capture_stop();
	snprintf(want, sizeof(want), "error: process %s failed: {panic,<<\"",
	         pid_text);
	CHECK_EQ(count_lines(path, want, "the only one\">>}"), 1);
	CHECK_EQ(count_lines(path, "process <", NULL), 1);
	unlink(path);
}

/* ---- the long-run reporter ------------------------------------------------ */

static void
spinner(void *arg)
{
	struct timespec t0, t;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 +
	               (t.tv_nsec - t0.tv_nsec) / 1000000 <
	       300);
}

static void
spin_main(void *arg)
{
	straw_pid s;
	straw_ref ref;
	char *pid_text = arg;

	CHECK_OK(straw_spawn(spinner, NULL,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
	                     &s));
	straw_pid_format(s, pid_text, STRAW_PID_FORMAT_MAX);
	pt_down_reason_is("normal");
}

CASE(a_process_that_does_not_yield_is_named)
{
	char path[] = "/tmp/straw-hygiene-XXXXXX";
	char pid_text[STRAW_PID_FORMAT_MAX];
	char want[128];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	setenv("STRAW_LONG_RUN_MS", "40", 1);
	capture_start(path);
	CHECK_EQ(pt_run(spin_main, pid_text), 0);
	capture_stop();
	unsetenv("STRAW_LONG_RUN_MS");
	snprintf(want, sizeof(want), "process %s has run for ", pid_text);
	CHECK_EQ(count_lines(path, want, "ms without yielding"), 1);
	snprintf(want, sizeof(want), "process %s ran for ", pid_text);
	CHECK_EQ(count_lines(path, want, "ms without yielding"), 1);
	unlink(path);
}

/* ---- send by name from an attached thread -------------------------------- */

static atomic_int spin_now, sent_all;

static void
name_main(void *arg)
{
	straw_msg *m;
	struct timespec t0, t;
	int i;

	(void)arg;
	CHECK_OK(straw_register("sink", straw_self()));
	while (!atomic_load(&spin_now))
		straw_sleep(1);
	/* Hold the scheduler thread: a send by name that needed it would
	 * never complete. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load(&sent_all)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		CHECK(t.tv_sec - t0.tv_sec < 30);
	}
	for (i = 0; i < 1000; i++) {
		int64_t v = -1;
		PRECV(m, 5000);
		CHECK(pt_get_tag_int(m, "n", &v));
		CHECK_EQ(v, i);
		straw_msg_unref(m);
	}
}

CASE(attached_send_by_name_does_not_wait_for_the_scheduler)
{
	straw_container_opts o = {
	        STRAW_CONTAINER_LOCAL | STRAW_CONTAINER_NO_SIGNALS, 0, 0, 0};
	straw_container *c;
	straw_pid me, sink;
	int i;

	atomic_store(&spin_now, 0);
	atomic_store(&sent_all, 0);
	CHECK_OK(straw_container_start("names", name_main, NULL, &o, &c));
	CHECK_OK(straw_attach(c, &me));
	while (straw_whereis("sink", &sink) != 0)
		straw_sleep(1);
	atomic_store(&spin_now, 1);
	for (i = 0; i < 1000; i++) {
		straw_msg *m = pt_tag_int("n", i);
		CHECK_OK(straw_send_name("sink", m));
		straw_msg_unref(m);
	}
	CHECK_OK(straw_whereis("sink", &sink));
	{
		straw_msg *m = pt_int(1);
		CHECK_RC(straw_send_name("nobody", m), STRAW_ENONAME);
		straw_msg_unref(m);
	}
	atomic_store(&sent_all, 1);
	CHECK_OK(straw_detach());
	CHECK_EQ(straw_container_wait(c), 0);
}

CHECK_MAIN(crashes_release_messages_and_timers,
           a_crash_is_logged_once_and_only_it,
           a_process_that_does_not_yield_is_named,
           attached_send_by_name_does_not_wait_for_the_scheduler)
