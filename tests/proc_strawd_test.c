/*
 * Containers as real OS processes: joining a private strawd (autostarted,
 * STRAW_DIR from mkdtemp, stopped by its pid at the end), names mirrored in
 * the registry and released, `straw ps CONTAINER`, the error without strawd
 * when autostart is off, and the exit status after SIGTERM from outside.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <straw/registry.h>
#include <straw/straw.h>

#include "cmd/ps.h"
#include "testing/check.h"

static char dir[] = "/tmp/straw-proc-test-XXXXXX";
static sem_t ready;

static void
child_wait(void *arg)
{
	straw_msg *m;

	(void)arg;
	straw_receive(&m, STRAW_INFINITY);
	straw_msg_unref(m);
}

static void
main_proc(void *arg)
{
	straw_pid child;
	straw_msg *m;

	(void)arg;
	if (straw_register("svc", straw_self()) != 0)
		straw_exit_self_atom("register_failed");
	/* The mirror is asynchronous: wait until strawd has it. */
	if (straw_container_sync(10000) != 0)
		straw_exit_self_atom("sync_failed");
	straw_spawn(child_wait, NULL, NULL, &child);
	sem_post(&ready);
	if (straw_receive(&m, 10000) != 0) /* stop */
		straw_exit_self_atom("no_stop");
	straw_send(child, m);
	straw_msg_unref(m);
}

/* Removes dir and the files strawd left in it (one level). */
static void
remove_dir(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *e;
	char path[512];

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(d);
}

/* Stops the strawd serving dir by its pid, bounded in time. */
static void
stop_strawd(straw_reg *r)
{
	straw_reg_status st;
	struct pollfd p;
	int fd;

	CHECK_OK(straw_reg_status_get(r, &st));
	straw_reg_close(r);
	CHECK(st.pid > 1);
	/* Not our child: its pidfd turns readable when it exits. */
	fd = (int)syscall(SYS_pidfd_open, (pid_t)st.pid, 0);
	CHECK(fd >= 0);
	CHECK_OK(kill((pid_t)st.pid, SIGTERM));
	p = (struct pollfd){fd, POLLIN, 0};
	if (poll(&p, 1, 5000) != 1) {
		kill((pid_t)st.pid, SIGKILL);
		close(fd);
		CHECK(!"strawd did not stop on SIGTERM");
	}
	close(fd);
}

CASE(container_joins_strawd)
{
	straw_container_opts o = {STRAW_CONTAINER_NO_SIGNALS, 0, 0, 0};
	straw_container *c;
	straw_reg *r;
	char path[128], *v = NULL, *out = NULL;
	size_t vl = 0, outlen = 0;
	uint32_t id, proc;
	FILE *mem;
	straw_msg *stop;

	CHECK(mkdtemp(dir) != NULL);
	setenv("STRAW_DIR", dir, 1);
	unsetenv("STRAW_LOCAL");
	unsetenv("STRAW_AUTOSTART");
	sem_init(&ready, 0, 0);
	CHECK_OK(straw_container_start("ptest", main_proc, NULL, &o, &c));
	id = straw_container_id(c);
	CHECK(id != 0 && (id & 0x80000000u) == 0);
	CHECK_OK(straw_reg_connect(&r, dir, STRAW_REG_NO_AUTOSTART));
	snprintf(path, sizeof(path), "/containers/%u/name", id);
	CHECK_OK(straw_reg_read(r, path, &v, &vl));
	CHECK_MEM(v, vl, "ptest", 5);
	straw_free(v);
	while (sem_wait(&ready) != 0)
		;
	CHECK_OK(straw_reg_lookup(r, "ptest", "svc", &proc));
	CHECK_EQ(proc, 1);
	/* ps: both processes, with the name */
	mem = open_memstream(&out, &outlen);
	CHECK_EQ(strawi_ps_container(r, "ptest", mem, 5000), 2);
	fclose(mem);
	CHECK(strstr(out, "name=svc") != NULL);
	CHECK(strstr(out, "state=waiting") != NULL);
	free(out);
	CHECK_RC(strawi_ps_container(r, "nosuch", stderr, 100), -ENOENT);
	/* stop it from an attached thread, by name */
	{
		straw_pid me;
		CHECK_OK(straw_attach(c, &me));
		CHECK_OK(straw_msg_atom(&stop, "stop"));
		CHECK_OK(straw_send_name("svc", stop));
		straw_msg_unref(stop);
		CHECK_OK(straw_detach());
	}
	CHECK_EQ(straw_container_wait(c), 0);
	/* gone: its name and its entries */
	CHECK_RC(straw_reg_lookup(r, "ptest", "svc", &proc),
	         STRAW_ENOCONTAINER);
	CHECK_RC(straw_reg_read(r, path, &v, &vl), -ENOENT);
	/* Periodic publication: no request, the list appears by itself. */
	{
		straw_container_opts po = {STRAW_CONTAINER_NO_SIGNALS, 0, 20,
		                           0};
		straw_reg_event ev;
		uint32_t wid;
		char **names = NULL;
		size_t n = 0;
		straw_pid me;
		CHECK_OK(straw_container_start("ptick", child_wait, NULL, &po,
		                               &c));
		id = straw_container_id(c);
		snprintf(path, sizeof(path), "/containers/%u/procs-at", id);
		CHECK_OK(straw_reg_watch(r, path, &wid));
		CHECK_OK(straw_reg_next_event(r, &ev, 5000));
		snprintf(path, sizeof(path), "/containers/%u/procs", id);
		CHECK_OK(straw_reg_ls(r, path, &names, &n));
		CHECK_EQ(n, 1);
		CHECK_STR(names[0], "1");
		straw_reg_free_names(names, n);
		CHECK_OK(straw_reg_unwatch(r, wid));
		CHECK_OK(straw_attach(c, &me));
		CHECK_OK(straw_msg_atom(&stop, "stop"));
		CHECK_OK(straw_send((straw_pid){0, 0, 1}, stop));
		straw_msg_unref(stop);
		CHECK_OK(straw_detach());
		CHECK_EQ(straw_container_wait(c), 0);
	}
	stop_strawd(r);
	sem_destroy(&ready);
	remove_dir(dir);
}

CASE(no_strawd_autostart_off)
{
	char empty[] = "/tmp/straw-proc-empty-XXXXXX";
	straw_container_opts o = {STRAW_CONTAINER_NO_AUTOSTART, 0, 0, 0};

	CHECK(mkdtemp(empty) != NULL);
	setenv("STRAW_DIR", empty, 1);
	CHECK_RC(straw_container_run("lonely", child_wait, NULL, &o),
	         STRAW_ENODAEMON);
	o.flags = 0;
	setenv("STRAW_AUTOSTART", "0", 1);
	CHECK_RC(straw_container_run("lonely", child_wait, NULL, &o),
	         STRAW_ENODAEMON);
	unsetenv("STRAW_AUTOSTART");
	rmdir(empty);
}

static void
forever(void *arg)
{
	straw_msg *m;

	straw_receive(&m, STRAW_INFINITY);
	(void)arg;
}

static void
announce(void *arg)
{
	int fd = *(int *)arg;

	straw_spawn(forever, NULL, NULL, NULL);
	if (write(fd, "r", 1) != 1)
		straw_exit_self_atom("pipe");
	forever(NULL);
}

/* A container in its own OS process ends with 128 + 15 on SIGTERM. */
CASE(sigterm_exit_status)
{
	int p[2], status;
	pid_t pid;
	char ch;

	CHECK_OK(pipe(p));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		straw_container_opts o = {STRAW_CONTAINER_LOCAL, 0, 0, 0};
		close(p[0]);
		_exit(straw_container_run("victim", announce, &p[1], &o));
	}
	close(p[1]);
	CHECK_EQ(read(p[0], &ch, 1), 1);
	close(p[0]);
	CHECK_OK(kill(pid, SIGTERM));
	status = check_wait_child(pid, 10000);
	CHECK(status != -1 && WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 143);
}

/* Runs `straw status` with dir as STRAW_DIR; returns its exit status and
 * its output (stdout and stderr) in out. */
static int
run_status(char *out, size_t cap)
{
	char cmd[600];
	size_t got;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s/cli/straw status 2>&1",
	         getenv("STRAW_TEST_BUILD"));
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	got = fread(out, 1, cap - 1, f);
	out[got] = '\0';
	return pclose(f);
}

/* The container of autostarted_strawd_stays: leaves a note in the
 * registry and tells the test its id. */
static void
leave_note(void *arg)
{
	int fd = *(int *)arg;
	uint32_t id = straw_container_id(straw_container_self());
	straw_reg *r;

	if (straw_reg_connect(&r, NULL, STRAW_REG_NO_AUTOSTART) < 0 ||
	    straw_reg_write(r, "/note", "was here", 8) < 0)
		straw_exit_self_atom("no_note");
	straw_reg_close(r);
	if (write(fd, &id, sizeof(id)) != (ssize_t)sizeof(id))
		straw_exit_self_atom("pipe");
}

/*
 * A container that starts strawd (autostart) and exits leaves strawd
 * running, with what it knew: the note, the container id given out.
 * `straw status` reports on strawd and never starts one.
 */
CASE(autostarted_strawd_stays)
{
	char d[] = "/tmp/straw-proc-auto-XXXXXX", out[2048], want[64];
	char lock[128], *v = NULL;
	straw_reg_status st;
	straw_reg *r;
	uint32_t id = 0;
	size_t vl = 0;
	int p[2], status, spid = 0;
	pid_t pid;

	CHECK(getenv("STRAW_TEST_BUILD") != NULL);
	CHECK(mkdtemp(d) != NULL);
	setenv("STRAW_DIR", d, 1);
	unsetenv("STRAW_AUTOSTART"); /* autostart on */
	status = run_status(out, sizeof(out));
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 1);
	CHECK(strstr(out, "strawd is not running") != NULL);
	snprintf(lock, sizeof(lock), "%s/strawd.sock", d);
	CHECK_RC(access(lock, F_OK) == 0 ? 0 : -errno, -ENOENT);

	CHECK_OK(pipe2(p, O_CLOEXEC));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		straw_container_opts o = {STRAW_CONTAINER_NO_SIGNALS, 0, 0, 0};
		close(p[0]);
		_exit(straw_container_run("starter", leave_note, &p[1], &o));
	}
	close(p[1]);
	CHECK_EQ(read(p[0], &id, sizeof(id)), (ssize_t)sizeof(id));
	close(p[0]);
	status = check_wait_child(pid, 10000);
	CHECK(status != -1 && WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK(id != 0);

	/* The strawd it started (the lock names it) serves on. */
	spid = check_strawd_pid(d);
	CHECK(spid > 1);
	CHECK_OK(straw_reg_connect(&r, d, STRAW_REG_NO_AUTOSTART));
	CHECK_OK(straw_reg_status_get(r, &st));
	CHECK_EQ(st.pid, (uint32_t)spid);
	CHECK_EQ(st.containers, 0); /* the container left */
	CHECK_EQ(st.next_id, id + 1);
	CHECK_OK(straw_reg_read(r, "/note", &v, &vl));
	CHECK_MEM(v, vl, "was here", 8);
	straw_free(v);
	status = run_status(out, sizeof(out));
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	snprintf(want, sizeof(want), "pid          %d\n", spid);
	CHECK(strstr(out, want) != NULL);
	stop_strawd(r);
	remove_dir(d);
}

CHECK_MAIN(container_joins_strawd, no_strawd_autostart_off, sigterm_exit_status,
           autostarted_strawd_stays)
