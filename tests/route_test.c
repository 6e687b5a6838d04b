/*
 * The router between containers of one machine (docs/straws.md), checked
 * with real OS processes against a strawd that the test starts:
 *
 *   - a ping-pong by {Container, Name} and by pid, the first message
 *     opening the straw, from a process and from an attached thread;
 *   - order and content of many messages of mixed sizes, the largest many
 *     times a tube packet (split into frames and put back together);
 *   - the errors: an unknown container, an unknown name, a message over
 *     the container's limit;
 *   - SIGKILL of a container: a monitor's DOWN and a link's EXIT (trapped)
 *     with reason noconnection, each exactly once.
 *
 * Each container runs in its own forked OS process; children report by
 * their exit status, and tell the test they are ready through a pipe.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <straw/alloc.h>
#include <straw/straw.h>
#include <straw/term.h>

#include "base/clock.h"
#include "registry_util.h"

/* ---- children ---------------------------------------------------------- */

static int ready_fd = -1; /* the child's end of the ready pipe */

static void
say_ready(void)
{
	char c = 'r';

	if (write(ready_fd, &c, 1) != 1)
		_exit(3);
}

/* Registers name for the caller and waits until strawd has it. */
static void
register_synced(const char *name)
{
	CHECK_OK(straw_register(name, straw_self()));
	CHECK_OK(straw_container_sync(10000));
}

/* "echo": answers {ping, From, N} with {pong, N, Self} until {stop}. */
static void
echo_main(void *arg)
{
	(void)arg;
	register_synced("echo");
	say_ready();
	for (;;) {
		straw_pid from;
		int64_t n;
		straw_msg *m;

		CHECK_OK(straw_receive(&m, 30000));
		if (straw_term_match(straw_msg_data(m), straw_msg_len(m),
		                     "{ping, ~P, ~i}", &from, &n) == 1) {
			CHECK_OK(straw_sendf(from, "{pong, ~i, ~P}", n,
			                     straw_self()));
		} else {
			CHECK_EQ(straw_term_match(straw_msg_data(m),
			                          straw_msg_len(m), "{stop}"),
			         1);
			straw_msg_unref(m);
			return;
		}
		straw_msg_unref(m);
	}
}

/* The size of message i of the stream: mostly small, some of a few
 * kilobytes, every 1000th 3 MiB (many tube packets). */
static size_t
stream_size(int64_t i)
{
	if (i % 1000 == 999)
		return (size_t)3 << 20;
	if (i % 10 == 3)
		return 4000 + (size_t)(i % 5000);
	return (size_t)(i % 64);
}

static uint8_t
stream_byte(int64_t i, size_t k)
{
	return (uint8_t)(i * 31 + (int64_t)k * 7);
}

/* "sink": takes {seq, From, I, Bin} in order, checks each, and answers
 * {done, Count} to From at {seq_end, From}. */
static void
sink_main(void *arg)
{
	int64_t want = 0;

	(void)arg;
	register_synced("sink");
	say_ready();
	for (;;) {
		const uint8_t *bin;
		size_t len, k;
		straw_pid from;
		int64_t i;
		straw_msg *m;

		CHECK_OK(straw_receive(&m, 60000));
		if (straw_term_match(straw_msg_data(m), straw_msg_len(m),
		                     "{seq_end, ~P}", &from) == 1) {
			CHECK_OK(straw_sendf(from, "{done, ~i}", want));
			straw_msg_unref(m);
			return;
		}
		CHECK_EQ(straw_term_match(straw_msg_data(m), straw_msg_len(m),
		                          "{seq, ~P, ~i, ~b}", &from, &i, &bin,
		                          &len),
		         1);
		CHECK_EQ(i, want);
		CHECK_EQ(len, stream_size(i));
		for (k = 0; k < len; k++)
			if (bin[k] != stream_byte(i, k))
				break;
		CHECK_EQ(k, len);
		want++;
		straw_msg_unref(m);
	}
}

/* "victim": registers, then takes messages until the test kills it. */
static void
victim_main(void *arg)
{
	straw_msg *m;

	(void)arg;
	register_synced("victim");
	say_ready();
	for (;;)
		if (straw_receive(&m, STRAW_INFINITY) == 0)
			straw_msg_unref(m);
}

/* Forks a container named name whose first process runs fn; waits until
 * it says it is ready.  Returns its pid. */
static pid_t
start_child(const char *name, straw_proc_fn fn)
{
	int p[2];
	pid_t pid;
	struct pollfd pf;
	char c;

	CHECK_OK(pipe2(p, O_CLOEXEC));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int rc;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		ready_fd = p[1];
		rc = straw_container_run(name, fn, NULL, NULL);
		_exit(atomic_load(&check_failed_) ? 2 : rc == 0 ? 0 : 10);
	}
	close(p[1]);
	pf.fd = p[0];
	pf.events = POLLIN;
	CHECK_EQ(poll(&pf, 1, 20000), 1);
	CHECK_EQ(read(p[0], &c, 1), 1);
	close(p[0]);
	tu_track_helper(pid);
	return pid;
}

/* Waits for a child's exit status (at most timeout_ms). */
static int
child_status(pid_t pid, int timeout_ms)
{
	int s = check_wait_child(pid, timeout_ms);

	if (s < 0)
		return -1;
	return WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
}

/* Runs fn as the first process of container "A" in this OS process and
 * checks it ended normally. */
static void
run_a(straw_proc_fn fn)
{
	CHECK_EQ(straw_container_run("A", fn, NULL, NULL), 0);
	CHECK(!atomic_load(&check_failed_));
}

/* ---- cases ------------------------------------------------------------- */

static void
ping_pong_a(void *arg)
{
	straw_pid echo, from;
	int64_t n, i;
	straw_msg *m;

	(void)arg;
	/* By {Container, Name}: the first send opens the straw. */
	CHECK_OK(straw_sendf_to("B", "echo", "{ping, ~P, ~i}", straw_self(),
	                        (int64_t)0));
	CHECK_OK(straw_receive(&m, 10000));
	CHECK_EQ(straw_term_match(straw_msg_data(m), straw_msg_len(m),
	                          "{pong, ~i, ~P}", &n, &echo),
	         1);
	CHECK_EQ(n, 0);
	CHECK(straw_pid_container(echo) != straw_pid_container(straw_self()));
	straw_msg_unref(m);
	/* Then by pid, as to a neighbour; and whereis_in agrees. */
	CHECK_OK(straw_whereis_in("B", "echo", &from));
	CHECK(straw_pid_equal(from, echo));
	for (i = 1; i <= 1000; i++) {
		CHECK_OK(straw_sendf(echo, "{ping, ~P, ~i}", straw_self(), i));
		CHECK_OK(straw_receive(&m, 10000));
		CHECK_EQ(straw_term_match(straw_msg_data(m), straw_msg_len(m),
		                          "{pong, ~i, ~P}", &n, &from),
		         1);
		CHECK_EQ(n, i);
		straw_msg_unref(m);
	}
	CHECK_OK(straw_sendf(echo, "{stop}"));
}

CASE(ping_pong)
{
	pid_t strawd, b;

	tu_setup();
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	b = start_child("B", echo_main);
	run_a(ping_pong_a);
	CHECK_EQ(child_status(b, 20000), 0);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

enum { STREAM_N = 20000 };

static void
stream_a(void *arg)
{
	straw_pid sink;
	size_t cap = (size_t)3 << 20, k;
	uint8_t *buf = straw_malloc(cap);
	int64_t i, n;
	straw_msg *m;

	(void)arg;
	CHECK(buf != NULL);
	CHECK_OK(straw_whereis_in("B", "sink", &sink));
	for (i = 0; i < STREAM_N; i++) {
		size_t len = stream_size(i);
		for (k = 0; k < len; k++)
			buf[k] = stream_byte(i, k);
		CHECK_OK(straw_sendf(sink, "{seq, ~P, ~i, ~b}", straw_self(), i,
		                     (const void *)buf, len));
	}
	CHECK_OK(straw_sendf(sink, "{seq_end, ~P}", straw_self()));
	CHECK_OK(straw_receive(&m, 60000));
	CHECK_EQ(straw_term_match(straw_msg_data(m), straw_msg_len(m),
	                          "{done, ~i}", &n),
	         1);
	CHECK_EQ(n, STREAM_N);
	straw_msg_unref(m);
	straw_free(buf);
}

CASE(stream_in_order)
{
	pid_t strawd, b;

	tu_setup();
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	b = start_child("B", sink_main);
	run_a(stream_a);
	CHECK_EQ(child_status(b, 60000), 0);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

static void
errors_a(void *arg)
{
	straw_pid pid;
	straw_msg *m;
	uint8_t *big;
	size_t n = STRAW_MAX_MESSAGE_DEFAULT + 1;

	(void)arg;
	CHECK_RC(straw_sendf_to("nosuch", "echo", "x"), STRAW_ENOCONTAINER);
	CHECK_RC(straw_whereis_in("nosuch", "echo", &pid), STRAW_ENOCONTAINER);
	CHECK_RC(straw_whereis_in("B", "nosuch", &pid), STRAW_ENONAME);
	/* As in Erlang: a name not registered in a live container drops
	 * the message. */
	CHECK_OK(straw_sendf_to("B", "nosuch", "x"));
	/* Over the limit: nothing sent. */
	CHECK_OK(straw_whereis_in("B", "echo", &pid));
	big = straw_calloc(1, n);
	CHECK(big != NULL);
	CHECK_OK(straw_msgf(&m, "~b", (const void *)big, n));
	straw_free(big);
	CHECK_RC(straw_send(pid, m), -EMSGSIZE);
	straw_msg_unref(m);
	/* The straw still works after. */
	CHECK_OK(straw_sendf(pid, "{ping, ~P, ~i}", straw_self(), (int64_t)7));
	CHECK_OK(straw_receivef(&m, 10000, "{pong, 7, _}"));
	straw_msg_unref(m);
	CHECK_OK(straw_sendf(pid, "{stop}"));
}

CASE(errors)
{
	pid_t strawd, b;

	tu_setup();
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	b = start_child("B", echo_main);
	run_a(errors_a);
	CHECK_EQ(child_status(b, 20000), 0);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

static pid_t victim_os_pid;

static void
kill_a(void *arg)
{
	straw_pid victim, who;
	straw_ref ref, got;
	char reason[32];
	straw_msg *m;
	int64_t t0;

	(void)arg;
	CHECK_OK(straw_trap_exit(1));
	CHECK_OK(straw_whereis_in("C", "victim", &victim));
	CHECK_OK(straw_monitor(victim, &ref));
	CHECK_OK(straw_link(victim));
	/* A round trip, so that both are in place in C before the kill. */
	CHECK_OK(straw_sendf(victim, "hello"));
	CHECK_OK(straw_container_sync(10000));
	t0 = strawi_now_ns();
	CHECK_OK(kill(victim_os_pid, SIGKILL));
	CHECK_OK(straw_receivef(&m, 10000, "{'DOWN', ~R, process, ~P, ~a}",
	                        &got, &who, reason, sizeof(reason)));
	fprintf(stderr, "  DOWN %.3f ms after SIGKILL\n",
	        (double)(strawi_now_ns() - t0) / 1e6);
	CHECK(straw_ref_equal(got, ref));
	CHECK(straw_pid_equal(who, victim));
	CHECK_STR(reason, "noconnection");
	straw_msg_unref(m);
	CHECK_OK(straw_receivef(&m, 10000, "{'EXIT', ~P, ~a}", &who, reason,
	                        sizeof(reason)));
	CHECK(straw_pid_equal(who, victim));
	CHECK_STR(reason, "noconnection");
	straw_msg_unref(m);
	/* Exactly once each. */
	CHECK_RC(straw_receive(&m, 300), -ETIMEDOUT);
	/* The container is gone: sends to it drop, by name it is unknown
	 * once strawd has seen it go. */
	CHECK_OK(straw_sendf(victim, "late"));
}

CASE(kill_gives_noconnection)
{
	pid_t strawd;

	tu_setup();
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	victim_os_pid = start_child("C", victim_main);
	run_a(kill_a);
	CHECK_EQ(child_status(victim_os_pid, 10000), 128 + SIGKILL);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

/* The first process of A for attached_thread: waits for the end. */
static void
idle_a(void *arg)
{
	straw_msg *m;

	(void)arg;
	CHECK_OK(straw_register("idle", straw_self()));
	CHECK_OK(straw_receive(&m, 60000));
	straw_msg_unref(m);
}

CASE(attached_thread)
{
	straw_container *c;
	pid_t strawd, b;
	straw_pid self, echo, from;
	straw_msg *m;
	int64_t i, n;

	tu_setup();
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	b = start_child("B", echo_main);
	CHECK_OK(straw_container_start("A", idle_a, NULL, NULL, &c));
	/* A thread that is not a process sends across as a process does:
	 * the first send by {Container, Name} opens the straw. */
	CHECK_OK(straw_attach(c, &self));
	CHECK_OK(straw_sendf_to("B", "echo", "{ping, ~P, ~i}", self,
	                        (int64_t)0));
	CHECK_OK(straw_receive(&m, 10000));
	CHECK_EQ(straw_term_match(straw_msg_data(m), straw_msg_len(m),
	                          "{pong, 0, ~P}", &echo),
	         1);
	straw_msg_unref(m);
	for (i = 1; i <= 2000; i++) {
		CHECK_OK(straw_sendf(echo, "{ping, ~P, ~i}", self, i));
		CHECK_OK(straw_receive(&m, 10000));
		CHECK_EQ(straw_term_match(straw_msg_data(m), straw_msg_len(m),
		                          "{pong, ~i, ~P}", &n, &from),
		         1);
		CHECK_EQ(n, i);
		straw_msg_unref(m);
	}
	CHECK_OK(straw_sendf(echo, "{stop}"));
	CHECK_OK(straw_sendf_name("idle", "done"));
	CHECK_OK(straw_detach());
	CHECK_EQ(straw_container_wait(c), 0);
	CHECK_EQ(child_status(b, 20000), 0);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

CHECK_MAIN(ping_pong, stream_in_order, errors, kill_gives_noconnection,
           attached_thread)
