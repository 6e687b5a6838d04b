/*
 * examples/procs.c - a container with a few lightweight processes: a
 * registered echo server, a ping-pong with selective receive, a process
 * that overruns its stack into the guard page and dies alone (its linked,
 * trapping parent gets {'EXIT', Pid, Reason}), and a monitor's DOWN message.
 *
 * Build: cc procs.c $(pkg-config --cflags --libs straw)
 * Run:   ./procs         (joins strawd, starting it if none runs)
 */
#include <stdio.h>
#include <string.h>

#include <straw/straw.h>

static void
print_msg(const char *who, straw_msg *m)
{
	straw_buf text = STRAW_BUF_INIT;

	if (straw_term_to_text(straw_msg_data(m), straw_msg_len(m), &text) == 0)
		printf("%s received %.*s\n", who, (int)text.len,
		       (const char *)text.data);
	straw_buf_fini(&text);
}

/* Answers {ping, From, N} with {pong, N} until it receives stop. */
static void
echo(void *arg)
{
	straw_erl_pid from;
	int64_t n;
	straw_msg *m;
	straw_pid to;
	int stop = 0;

	(void)arg;
	while (!stop && straw_receive(&m, STRAW_INFINITY) == 0) {
		if (straw_term_match(straw_msg_data(m), straw_msg_len(m),
		                     "{ping, ~p, ~i}", &from, &n) == 1 &&
		    straw_pid_from_erl(&from, &to) == 0)
			straw_sendf(to, "{pong, ~i}", n);
		else
			stop = straw_msg_is_atom(m, "stop");
		straw_msg_unref(m);
	}
}

static int
deep(int n)
{
	volatile char frame[512];

	frame[0] = (char)n;
	return n == 0 ? frame[0] : deep(n - 1) + frame[0];
}

/* Recurses far past its 64 KiB stack: the guard page stops it. */
static void
overflow(void *arg)
{
	(void)arg;
	printf("overflow: recursing past the end of my stack\n");
	deep(1 << 20);
}

static void
first(void *arg)
{
	straw_spawn_opts link = {STRAW_SPAWN_LINK, 0, NULL};
	straw_spawn_opts mon = {STRAW_SPAWN_MONITOR, 0, NULL};
	straw_erl_pid me;
	straw_pid echo_pid, child;
	straw_ref ref;
	straw_msg *m;
	int64_t n;
	int i;

	(void)arg;
	straw_spawn(echo, NULL, NULL, &echo_pid);
	straw_register("echo", echo_pid);
	straw_pid_to_erl(straw_self_long(), &me);

	/* Ping-pong; a stray message is skipped by the selective receive. */
	straw_sendf(straw_self(), "{unrelated, 42}");
	for (i = 1; i <= 3; i++) {
		straw_sendf(echo_pid, "{ping, ~p, ~i}", &me, (int64_t)i);
		if (straw_receivef(&m, 1000, "{pong, ~i}", &n) != 0)
			straw_panic("no pong for ping %d", i);
		print_msg("first", m);
		straw_msg_unref(m);
	}
	printf("first: mailbox still holds %ld message(s)\n",
	       straw_mailbox_len());

	/* A crash through the guard page, seen through a link. */
	straw_trap_exit(1);
	straw_spawn(overflow, NULL, &link, &child);
	if (straw_receive_match(&m, 5000, "{'EXIT', _, _}") == 0) {
		print_msg("first", m);
		straw_msg_unref(m);
	}

	/* A monitor sees the echo server stop. */
	mon.monitor = &ref;
	straw_spawn(echo, NULL, &mon, &child);
	straw_msg_atom(&m, "stop");
	straw_send_name("echo", m); /* sends a reference; ours is released */
	straw_msg_unref(m);
	straw_sendf(child, "stop");
	if (straw_receive_match(&m, 5000, "{'DOWN', _, process, _, _}") == 0) {
		print_msg("first", m);
		straw_msg_unref(m);
	}
	printf("first: done; the container exits\n");
}

int
main(void)
{
	int rc = straw_container_run("demo", first, NULL, NULL);

	if (rc < 0) {
		fprintf(stderr, "procs: %s\n", straw_strerror(rc));
		return 1;
	}
	return rc;
}
