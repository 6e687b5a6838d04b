/*
 * src/testing/check.h - the one test harness of straw's C tests (header only).
 *
 * A test file defines cases with CASE(name) { ... } and lists them in
 *
 *     CHECK_MAIN(case_a, case_b, ...)
 *
 * Running the binary runs every case in order, or only those named on the
 * command line.  A failed CHECK prints the expression and both values and
 * ends the case; the binary exits 1 if any case failed.  Each case runs in
 * the test's own process; multi-process tests fork or re-run the binary
 * (check_self_path()) and must reap what they start.
 *
 * The same CHECKs work everywhere a case's code runs: on the thread that
 * runs the case they end the case; inside a straw process they end that
 * process (reason check_failed) and the case is failed when it returns;
 * on any other thread (an attached thread, a helper thread) they abort the
 * test binary after printing, since that thread cannot be unwound.  Tests
 * built without the process layer (the scheduler's, cross-compiled)
 * define STRAW_CHECK_SCHED_ONLY: a check failing in a coroutine aborts.
 */
#ifndef STRAW_CHECK_H
#define STRAW_CHECK_H

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <stdatomic.h>

#include <straw/err.h>
#include <straw/io.h>
#include <straw/straw.h>

typedef void (*check_case_fn)(void);

static jmp_buf check_jmp_;
static atomic_int check_failed_;
static const char *check_case_name_;
static pthread_t check_case_thread_;

#define CASE(name) static void name(void)

static inline void
check_fail_(const char *file, int line)
{
	fprintf(stderr, "  at %s:%d in %s\n", file, line, check_case_name_);
	atomic_store(&check_failed_, 1);
#ifndef STRAW_CHECK_SCHED_ONLY
	if (straw_in_process())
		straw_exit_self_atom("check_failed");
#else
	/* the scheduler's own tests, built without the process layer: a
	 * coroutine's stack cannot be unwound to the case */
	if (straw_in_process()) {
		fprintf(stderr, "  (in a coroutine: the test stops)\n");
		abort();
	}
#endif
	if (!pthread_equal(pthread_self(), check_case_thread_)) {
		fprintf(stderr, "  (on another thread: the test stops)\n");
		abort();
	}
	longjmp(check_jmp_, 1);
}

/* A condition. */
#define CHECK(cond)                                                  \
	do {                                                         \
		if (!(cond)) {                                       \
			fprintf(stderr, "FAIL: CHECK(%s)\n", #cond); \
			check_fail_(__FILE__, __LINE__);             \
		}                                                    \
	} while (0)

/* Two signed integers. */
#define CHECK_EQ(a, b)                                                        \
	do {                                                                  \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		if (a_ != b_) {                                               \
			fprintf(stderr, "FAIL: %s == %s: %lld != %lld\n", #a, \
			        #b, a_, b_);                                  \
			check_fail_(__FILE__, __LINE__);                      \
		}                                                             \
	} while (0)

/* Two unsigned 64-bit integers. */
#define CHECK_EQ_U(a, b)                                                      \
	do {                                                                  \
		unsigned long long a_ = (unsigned long long)(a);              \
		unsigned long long b_ = (unsigned long long)(b);              \
		if (a_ != b_) {                                               \
			fprintf(stderr, "FAIL: %s == %s: %llu != %llu\n", #a, \
			        #b, a_, b_);                                  \
			check_fail_(__FILE__, __LINE__);                      \
		}                                                             \
	} while (0)

/* A straw return code against the expected one, printed by name. */
#define CHECK_RC(a, b)                                                        \
	do {                                                                  \
		int a_ = (int)(a), b_ = (int)(b);                             \
		if (a_ != b_) {                                               \
			fprintf(stderr,                                       \
			        "FAIL: %s == %s: %s (%d) != %s (%d)\n", #a,   \
			        #b, straw_errname(a_), a_, straw_errname(b_), \
			        b_);                                          \
			check_fail_(__FILE__, __LINE__);                      \
		}                                                             \
	} while (0)

/* A call that must succeed (return >= 0). */
#define CHECK_OK(a)                                                  \
	do {                                                         \
		long long a_ = (long long)(a);                       \
		if (a_ < 0) {                                        \
			fprintf(stderr, "FAIL: %s: %s (%lld)\n", #a, \
			        straw_strerror((int)a_), a_);        \
			check_fail_(__FILE__, __LINE__);             \
		}                                                    \
	} while (0)

/* Two NUL-terminated strings. */
#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {       \
			fprintf(stderr,                                      \
			        "FAIL: %s == %s:\n  \"%s\"\n  \"%s\"\n", #a, \
			        #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
			check_fail_(__FILE__, __LINE__);                     \
		}                                                            \
	} while (0)

static inline void
check_hexdump_(const char *label, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	fprintf(stderr, "  %s (%zu bytes): ", label, n);
	for (i = 0; i < n && i < 256; i++)
		fprintf(stderr, "%02X", s[i]);
	fprintf(stderr, "%s\n", n > 256 ? "..." : "");
}

/* Two byte ranges. */
#define CHECK_MEM(a, alen, b, blen)                                      \
	do {                                                             \
		size_t al_ = (alen), bl_ = (blen);                       \
		if (al_ != bl_ || (al_ && memcmp((a), (b), al_) != 0)) { \
			fprintf(stderr, "FAIL: %s == %s\n", #a, #b);     \
			check_hexdump_(#a, (a), al_);                    \
			check_hexdump_(#b, (b), bl_);                    \
			check_fail_(__FILE__, __LINE__);                 \
		}                                                        \
	} while (0)

/* The path of the running test binary, to re-run it as a helper process. */
static inline const char *
check_self_path(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n < 0)
		return NULL;
	path[n] = '\0';
	return path;
}

/*
 * Waits for child pid for at most timeout_ms; kills it with SIGKILL past
 * that.  Returns its wait status, or -1 if it had to be killed.  The wait
 * is on the child's pidfd (readable once it exited), not a polling loop.
 */
static inline int
check_wait_child(pid_t pid, int timeout_ms)
{
	struct timespec now;
	int64_t end;
	int status, fd = (int)syscall(SYS_pidfd_open, pid, 0);
	int fd_err = fd < 0 ? errno : 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	end = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + timeout_ms;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR)) {
			if (fd >= 0)
				close(fd);
			return r == pid ? status : -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = end -
		       ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
		if (left <= 0 || fd < 0) {
			/* Out of time, or no pidfd (it cannot be waited for
			 * with a bound then): kill it. */
			if (fd < 0)
				fprintf(stderr, "pidfd_open(%d): %s\n",
				        (int)pid, strerror(fd_err));
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
	}
}

/*
 * For out-of-memory tests: a straw_allocator realloc function that fails
 * once check_allocs_left allocations have been made (< 0: never fails).
 * Use: straw_allocator a = {check_failing_realloc, NULL};
 * straw_set_allocator(&a); check_allocs_left = n; ...
 */
static inline long *
check_allocs_left_(void)
{
	static long left = -1;
	return &left;
}
#define check_allocs_left (*check_allocs_left_())

static inline void *
check_failing_realloc(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	if (size == 0) {
		free(ptr);
		return NULL;
	}
	if (check_allocs_left == 0)
		return NULL;
	if (check_allocs_left > 0)
		check_allocs_left--;
	return realloc(ptr, size);
}

/* The pid strawd wrote in its lock file, dir/strawd.lock, or -1. */
static inline pid_t
check_strawd_pid(const char *dir)
{
	char path[512];
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/strawd.lock", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%d", &pid) != 1 || pid <= 1)
		pid = -1;
	fclose(f);
	return (pid_t)pid;
}

static inline int
check_run_(const char *name, check_case_fn fn, int argc, char **argv)
{
	int i, selected = argc <= 1;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			selected = 1;
	if (!selected)
		return 0;
	check_case_name_ = name;
	check_case_thread_ = pthread_self();
	atomic_store(&check_failed_, 0);
	fprintf(stderr, "-- %s\n", name);
	if (setjmp(check_jmp_) == 0)
		fn();
	fprintf(stderr, "%s %s\n",
	        atomic_load(&check_failed_) ? "FAILED" : "ok", name);
	return atomic_load(&check_failed_);
}

/* Defines main() running the listed cases; see the top of this file. */
#define CHECK_MAIN(...)                                                    \
	int main(int argc, char **argv)                                    \
	{                                                                  \
		check_case_fn fns_[] = {__VA_ARGS__};                      \
		const char *names_ = #__VA_ARGS__;                         \
		int failed = 0, total = 0;                                 \
		size_t i_;                                                 \
		char name_[128];                                           \
		const char *p_ = names_;                                   \
		setvbuf(stdout, NULL, _IONBF, 0);                          \
		for (i_ = 0; i_ < sizeof(fns_) / sizeof(fns_[0]); i_++) {  \
			size_t n_ = 0;                                     \
			while (*p_ == ' ' || *p_ == ',' || *p_ == '\n' ||  \
			       *p_ == '\t')                                \
				p_++;                                      \
			while (p_[n_] && p_[n_] != ',' && p_[n_] != ' ' && \
			       n_ < sizeof(name_) - 1)                     \
				n_++;                                      \
			memcpy(name_, p_, n_);                             \
			name_[n_] = '\0';                                  \
			p_ += n_;                                          \
			failed += check_run_(name_, fns_[i_], argc, argv); \
			total++;                                           \
		}                                                          \
		fprintf(stderr, "%d cases, %d failed\n", total, failed);   \
		return failed ? 1 : 0;                                     \
	}

#endif /* STRAW_CHECK_H */
