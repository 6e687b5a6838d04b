/*
 * The long-run reporter: straw cannot preempt C code, so a process that
 * runs for long without giving up the CPU holds up every other process of
 * its container.  A small thread per container samples what the scheduler
 * runs (strawi_sched_running: two relaxed loads, nothing on the switch
 * path but two stores) and says in the log who ran for longer than the
 * threshold without yielding, and for how long once it yielded.
 *
 * The threshold is STRAW_LONG_RUN_MS (milliseconds; default 200; 0 turns
 * the reporter off).  The sampling period is a quarter of it, so a report
 * comes at most a quarter of the threshold late and the figure is at most
 * that much short.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "proc/proc.h"

#define LONG_RUN_DEFAULT_MS 200

struct proc_watchdog {
	pthread_t thread;     /* the sampler */
	int stop_fd;          /* eventfd: stop now */
	int64_t threshold_ns; /* report past this */
	straw_container *c;   /* watched */
};

static int
threshold_ms(void)
{
	const char *e = getenv("STRAW_LONG_RUN_MS");
	char *end;
	long v;

	if (e == NULL || *e == '\0')
		return LONG_RUN_DEFAULT_MS;
	v = strtol(e, &end, 10);
	if (*end != '\0' || v < 0 || v > 3600 * 1000)
		return LONG_RUN_DEFAULT_MS;
	return (int)v;
}

static void
say(straw_container *c, uint64_t tag, const char *what, int64_t ns)
{
	straw_pid pid = {c->machine, c->id, (uint32_t)tag};
	char text[STRAW_PID_FORMAT_MAX];

	straw_pid_format(pid, text, sizeof(text));
	strawi_log(STRAWI_LOG_WARN,
	           "process %s %s %lld ms without yielding: the container's "
	           "other processes waited",
	           text, what, (long long)(ns / 1000000));
}

static void *
watchdog_main(void *arg)
{
	struct proc_watchdog *w = arg;
	int period_ms = (int)(w->threshold_ns / 4000000);
	uint64_t last_tag = 0, last_seq = 0;
	int64_t since = strawi_now_ns();
	int reported = 0;

	if (period_ms < 1)
		period_ms = 1;
	for (;;) {
		struct pollfd p = {w->stop_fd, POLLIN, 0};
		uint64_t tag, seq;
		int64_t now;

		if (poll(&p, 1, period_ms) != 0) {
			/* stop (or an error: stop too); nothing runs now */
			if (reported)
				say(w->c, last_tag, "ran for",
				    strawi_now_ns() - since);
			break;
		}
		strawi_sched_running(w->c->sched, &tag, &seq);
		now = strawi_now_ns();
		if (tag != 0 && tag == last_tag && seq == last_seq) {
			if (!reported && now - since >= w->threshold_ns) {
				say(w->c, tag, "has run for", now - since);
				reported = 1;
			}
			continue;
		}
		if (reported)
			say(w->c, last_tag, "ran for", now - since);
		reported = 0;
		last_tag = tag;
		last_seq = seq;
		since = now;
	}
	return NULL;
}

int
proc_watchdog_start(straw_container *c)
{
	struct proc_watchdog *w;
	int ms = threshold_ms(), rc;

	if (ms == 0)
		return 0;
	w = straw_calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->c = c;
	w->threshold_ns = (int64_t)ms * 1000000;
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (w->stop_fd < 0) {
		rc = -errno;
		straw_free(w);
		return rc;
	}
	rc = pthread_create(&w->thread, NULL, watchdog_main, w);
	if (rc != 0) {
		close(w->stop_fd);
		straw_free(w);
		return -rc;
	}
	c->watchdog = w;
	return 0;
}

void
proc_watchdog_stop(straw_container *c)
{
	struct proc_watchdog *w = c->watchdog;
	uint64_t one = 1;

	if (w == NULL)
		return;
	if (write(w->stop_fd, &one, sizeof(one)) != sizeof(one))
		STRAWI_PANIC("watchdog: cannot write its eventfd");
	pthread_join(w->thread, NULL);
	close(w->stop_fd);
	straw_free(w);
	c->watchdog = NULL;
}
