/*
 * tests/registry_util.h - what the registry's multi-process tests share: a
 * private runtime directory per test, starting and stopping strawd by pid,
 * waiting for files with inotify, and a raw protocol socket for hostile
 * input.  Nothing here sleeps to synchronise: every wait is on an event
 * (inotify, a pipe, a child's exit) with a timeout.
 */
#ifndef STRAW_TESTS_REGISTRY_UTIL_H
#define STRAW_TESTS_REGISTRY_UTIL_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <straw/registry.h>

#include "base/clock.h"
#include "testing/check.h"

static char tu_dir[64];     /* the test's runtime directory */
static char tu_strawd[512]; /* the strawd binary */
/* For the next tu_start_strawd_args: the descriptor limit strawd starts
 * with (0: inherited) and ASAN_OPTIONS for it (NULL: inherited). */
static long tu_strawd_nofile;
static const char *tu_strawd_asan;

static inline void tu_cleanup(void);

/* Helper processes of the current case, killed if the case fails. */
static pid_t tu_helpers[16];
static int tu_nhelpers;

static inline void
tu_track_helper(pid_t pid)
{
	if (pid > 0 && tu_nhelpers < 16)
		tu_helpers[tu_nhelpers++] = pid;
}

/* Stops the strawd a failed case left running in tu_dir (by the pid in its
 * lock file, only if that lock is still held) and removes the directory. */
static inline void
tu_reap_leftovers(void)
{
	char p[128];
	int fd, pid = 0, tries;
	FILE *f;

	/* First the helpers (they could start strawd again), then strawd. */
	while (tu_nhelpers > 0) {
		pid_t h = tu_helpers[--tu_nhelpers];
		if (kill(h, SIGKILL) == 0)
			waitpid(h, NULL, 0);
	}
	setenv("STRAW_AUTOSTART", "0", 1);
	if (tu_dir[0] == '\0')
		return;
	snprintf(p, sizeof(p), "%s/strawd.lock", tu_dir);
	/* A connection a failed case left open may start strawd again once:
	 * repeat while someone holds the lock. */
	for (tries = 0; tries < 5; tries++) {
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			close(fd);
			break;
		}
		if ((f = fopen(p, "r")) != NULL) {
			if (fscanf(f, "%d", &pid) == 1 && pid > 0) {
				kill(pid, SIGTERM);
				flock(fd, LOCK_EX); /* until it has let go */
			}
			fclose(f);
		}
		close(fd);
	}
	tu_cleanup();
}

/* Makes a fresh runtime directory (0711 so that other uids reach the
 * socket) and points STRAW_DIR at it; autostart off unless a test wants
 * it. */
static inline void
tu_setup(void)
{
	static int registered;
	const char *b = getenv("STRAW_TEST_BUILD");

	tu_reap_leftovers();
	if (!registered) {
		atexit(tu_reap_leftovers);
		registered = 1;
	}
	snprintf(tu_dir, sizeof(tu_dir), "/tmp/straw-regtest-XXXXXX");
	if (mkdtemp(tu_dir) == NULL || chmod(tu_dir, 0711) < 0) {
		perror("mkdtemp");
		exit(1);
	}
	/* STRAW_TEST_STRAWD runs the tests against another strawd (an older
	 * build, to see a test fail without the fix it checks). */
	if (getenv("STRAW_TEST_STRAWD") != NULL)
		snprintf(tu_strawd, sizeof(tu_strawd), "%s",
		         getenv("STRAW_TEST_STRAWD"));
	else
		snprintf(tu_strawd, sizeof(tu_strawd), "%s/daemon/strawd",
		         b ? b : ".");
	setenv("STRAW_DIR", tu_dir, 1);
	setenv("STRAW_STRAWD", tu_strawd, 1);
	setenv("STRAW_AUTOSTART", "0", 1);
}

/* Removes the directory's files and the directory. */
static inline void
tu_cleanup(void)
{
	static const char *files[] = {"strawd.sock",    "strawd.lock", "ids",
	                              "strawd.log",     "ids.tmp",     "err",
	                              "autostart.lock", "tube.key"};
	char p[400];
	size_t i;

	if (tu_dir[0] == '\0')
		return;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tu_dir, files[i]);
		unlink(p);
	}
	rmdir(tu_dir);
	tu_dir[0] = '\0';
	tu_nhelpers = 0;
}

/* Waits for the next change the inotify descriptor in reports, until
 * deadline (ns): 0, or -ETIMEDOUT once it has passed. */
static inline int
tu_dir_changed(int in, int64_t deadline)
{
	struct pollfd pf = {in, POLLIN, 0};
	char buf[4096];
	int64_t left = (deadline - strawi_now_ns()) / 1000000;

	if (left <= 0)
		return -ETIMEDOUT;
	if (poll(&pf, 1, (int)left) > 0)
		while (read(in, buf, sizeof(buf)) > 0)
			;
	return 0;
}

/* Waits until dir/name exists (inotify, no polling).  0 or -ETIMEDOUT. */
static inline int
tu_wait_file(const char *name, int timeout_ms)
{
	int64_t deadline = strawi_deadline_ms(timeout_ms);
	char p[400];
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), rc = -ETIMEDOUT;

	snprintf(p, sizeof(p), "%s/%s", tu_dir, name);
	inotify_add_watch(in, tu_dir, IN_CREATE | IN_MOVED_TO | IN_ATTRIB);
	for (;;) {
		if (access(p, F_OK) == 0) {
			rc = 0;
			break;
		}
		if (tu_dir_changed(in, deadline) != 0)
			break;
	}
	close(in);
	return rc;
}

/* Connects without ever starting strawd, waiting up to timeout_ms for one
 * to serve (woken by inotify when its socket is renamed into place). */
static inline int
tu_connect_wait(straw_reg **r, int timeout_ms)
{
	int64_t deadline = strawi_deadline_ms(timeout_ms);
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), rc;

	inotify_add_watch(in, tu_dir, IN_CREATE | IN_MOVED_TO);
	for (;;) {
		rc = straw_reg_connect(r, NULL, STRAW_REG_NO_AUTOSTART);
		if (rc != STRAW_ENODAEMON || tu_dir_changed(in, deadline) != 0)
			break;
	}
	close(in);
	return rc;
}

/* Starts strawd in the foreground (stderr to dir/err) with extra args,
 * waits until its socket is in place, returns its pid. */
static inline pid_t
tu_start_strawd_args(const char *const *extra)
{
	char sock[400], err[400];
	const char *argv[16];
	int n = 0, i;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/strawd.sock", tu_dir);
	snprintf(err, sizeof(err), "%s/err", tu_dir);
	unlink(sock); /* a stale one from a killed strawd */
	argv[n++] = tu_strawd;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 14; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
		/* Even if the test dies, its strawd does not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (tu_strawd_nofile > 0) {
			struct rlimit rl = {(rlim_t)tu_strawd_nofile,
			                    (rlim_t)tu_strawd_nofile};
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				_exit(126);
		}
		if (tu_strawd_asan != NULL)
			setenv("ASAN_OPTIONS", tu_strawd_asan, 1);
		if (fd >= 0)
			dup2(fd, 2);
		execv(tu_strawd, (char **)argv);
		_exit(127);
	}
	if (pid < 0 || tu_wait_file("strawd.sock", 10000) < 0) {
		fprintf(stderr, "strawd did not start\n");
		if (pid > 0)
			check_wait_child(pid, 1);
		return -1;
	}
	return pid;
}

static inline pid_t
tu_start_strawd(void)
{
	return tu_start_strawd_args(NULL);
}

/* Stops strawd with SIGTERM; returns its exit status (0 expected). */
static inline int
tu_stop_strawd(pid_t pid)
{
	int st;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	st = check_wait_child(pid, 10000);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline void
tu_kill9(pid_t pid)
{
	kill(pid, SIGKILL);
	check_wait_child(pid, 10000);
}

/* Waits for a process that is not our child to exit (pidfd). */
static inline int
tu_wait_gone(pid_t pid, int timeout_ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p;
	int rc;

	if (fd < 0)
		return errno == ESRCH ? 0 : -errno;
	p.fd = fd;
	p.events = POLLIN;
	rc = poll(&p, 1, timeout_ms);
	close(fd);
	return rc == 1 ? 0 : -ETIMEDOUT;
}

/* A raw SOCK_SEQPACKET connection to strawd, for hostile input. */
static inline int
tu_raw_connect(void)
{
	struct sockaddr_un sa = {0};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/strawd.sock", tu_dir);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Receives one packet within timeout_ms: its length, 0 at EOF, -1 on
 * timeout or error. */
static inline ssize_t
tu_raw_recv(int fd, void *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return recv(fd, buf, cap, 0);
}

/* Reads a line (up to cap-1 bytes) from fd within timeout_ms. */
static inline int
tu_read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
	int64_t deadline = strawi_deadline_ms(timeout_ms);
	size_t n = 0;

	while (n + 1 < cap) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = (deadline - strawi_now_ns()) / 1000000;
		char c;
		if (left <= 0 || poll(&p, 1, (int)left) != 1 ||
		    read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return (int)n;
}

#endif /* STRAW_TESTS_REGISTRY_UTIL_H */
