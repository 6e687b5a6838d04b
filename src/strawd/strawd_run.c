/* strawd as a program: activation, detaching, signals. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "base/log.h"
#include "registry/rundir.h"
#include "strawd/strawd_run.h"

static struct reg_server *running;

static void
on_signal(int sig)
{
	(void)sig;
	if (running != NULL)
		reg_server_stop(running);
}

/* The listening socket systemd passed, or -1. */
static int
activation_fd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int fd = -1;

	if (pid != NULL && fds != NULL && atol(pid) == (long)getpid() &&
	    atoi(fds) >= 1)
		fd = 3; /* SD_LISTEN_FDS_START */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return fd;
}

/* Detaches; returns the fd to write readiness to (in the detached
 * process), or does not return (in the original one). */
static int
detach(void)
{
	int p[2], status;
	char c = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		/* 'R': serving; anything else or EOF: it failed. */
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		waitpid(pid, &status, 0);
		_exit(c == 'R' ? 0 : 1);
	}
	close(p[0]);
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	return p[1];
}

int
reg_strawd_run(struct reg_server_opts *opts, int daemonize)
{
	struct sigaction sa;
	struct reg_server *s;
	int ready = -1, holder, rc, lfd;

	strawi_log_set_prefix("strawd");
	lfd = activation_fd();
	if (lfd >= 0) {
		opts->listen_fd = lfd;
		opts->listen_fd_set = 1;
	}
	if (daemonize) {
		ready = detach();
		if (ready < 0) {
			fprintf(stderr, "strawd: cannot detach: %s\n",
			        strerror(errno));
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (opts->modules == NULL)
		opts->modules = strawd_modules;
	rc = reg_server_create(opts, &s, &holder);
	if (rc == -EBUSY) {
		char dir[REG_DIR_MAX + 1] = "";
		reg_rundir_path(opts->dir, dir, sizeof(dir));
		fprintf(stderr,
		        "strawd: already running as pid %d, serving %s\n",
		        holder, dir);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "strawd: cannot start: %s\n",
		        straw_strerror(rc));
		return 1;
	}
	running = s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGINT);
	sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
	strawi_log(STRAWI_LOG_INFO, "serving %s (pid %d)", reg_server_dir(s),
	           (int)getpid());
	if (ready >= 0) {
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			close(nul);
		}
		(void)!write(ready, "R", 1);
		close(ready);
	}
	rc = reg_server_run(s);
	running = NULL;
	reg_server_destroy(s);
	if (rc < 0) {
		fprintf(stderr, "strawd: %s\n", straw_strerror(rc));
		return 1;
	}
	strawi_log(STRAWI_LOG_INFO, "stopped");
	return 0;
}
