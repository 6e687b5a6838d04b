/*
 * bench/bench.h - the benchmark harness every suite uses (header only).
 *
 * A suite measures each case several times, keeps the median, prints one
 * table row per case and appends one JSON object per case to the file named
 * by $STRAW_BENCH_JSON (bench/results/latest.json under `make bench`).
 * $STRAW_BENCH_QUICK=1 asks for a shorter run (fewer, smaller repetitions).
 */
#ifndef STRAW_BENCH_H
#define STRAW_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time of the calling thread, ns: the machine running the suites is
 * often shared, and time spent preempted is not time spent working. */
static inline int64_t
bench_cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int
bench_quick(void)
{
	const char *q = getenv("STRAW_BENCH_QUICK");
	return q != NULL && *q != '\0' && strcmp(q, "0") != 0;
}

/* How many times to repeat each measurement (median of these). */
static inline int
bench_runs(void)
{
	return bench_quick() ? 3 : 7;
}

static int
bench_cmp_double_(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of n values (sorts v in place). */
static inline double
bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), bench_cmp_double_);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Percentile p (0..100) of n values (sorts v in place). */
static inline double
bench_percentile(double *v, size_t n, double p)
{
	size_t i;

	qsort(v, n, sizeof(double), bench_cmp_double_);
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* One run: the CPU time of the calling thread per execution of the
 * statement what, executed iters times. */
#define BENCH_TIME_CPU_(iters, what)                                  \
	({                                                            \
		int64_t t0_ = bench_cpu_now_ns();                     \
		for (long i_ = 0; i_ < (iters); i_++) {               \
			what;                                         \
		}                                                     \
		(double)(bench_cpu_now_ns() - t0_) / (double)(iters); \
	})

/* Times iters executions of the statement what, bench_runs() times, in CPU
 * time of the calling thread; evaluates to the median ns per execution. */
#define BENCH_MEASURE_CPU(iters, what)                            \
	({                                                        \
		double runs_[16];                                 \
		int nr_ = bench_runs();                           \
		for (int r_ = 0; r_ < nr_; r_++)                  \
			runs_[r_] = BENCH_TIME_CPU_(iters, what); \
		bench_median(runs_, nr_);                         \
	})

/*
 * As BENCH_MEASURE_CPU for two statements measured side by side: their
 * runs alternate (a, b, a, b, ...), so that a change of the machine's speed
 * during the measurement touches both alike.  Sets *ns_a and *ns_b to the
 * medians.
 */
#define BENCH_MEASURE_CPU2(iters, what_a, what_b, ns_a, ns_b)     \
	do {                                                      \
		double ra_[16], rb_[16];                          \
		int nr_ = bench_runs();                           \
		for (int r_ = 0; r_ < nr_; r_++) {                \
			ra_[r_] = BENCH_TIME_CPU_(iters, what_a); \
			rb_[r_] = BENCH_TIME_CPU_(iters, what_b); \
		}                                                 \
		*(ns_a) = bench_median(ra_, nr_);                 \
		*(ns_b) = bench_median(rb_, nr_);                 \
	} while (0)

/* One result row.  Fields < 0 were not measured and are left out. */
struct bench_result {
	const char *suite;  /* "term", "tube", ... */
	const char *name;   /* the operation: "encode-small", "throughput" */
	const char *case_;  /* "straw", "straw-spin", "pipe", "libei", ... */
	long size;          /* message or term size in bytes */
	double msgs_per_s;  /* messages (or operations) per second */
	double bytes_per_s; /* payload bytes per second */
	double rtt_p50_ns;  /* round trip, median */
	double rtt_p99_ns;  /* round trip, 99th percentile */
	double ns_per_op;   /* time per operation */
};

#define BENCH_RESULT_INIT(s, n, c, sz)                  \
	{                                               \
		(s), (n), (c), (sz), -1, -1, -1, -1, -1 \
	}

static inline void
bench_header(const char *suite)
{
	printf("\n== suite %s (%s, median of %d runs) ==\n", suite,
	       bench_quick() ? "quick" : "full", bench_runs());
	printf("%-18s %-16s %8s %14s %14s %11s %11s %11s\n", "name", "case",
	       "size", "msgs/s", "MB/s", "p50 ns", "p99 ns", "ns/op");
}

static inline void
bench_report(const struct bench_result *r)
{
	const char *path = getenv("STRAW_BENCH_JSON");
	char f[6][32];
	double v[6] = {r->msgs_per_s, r->bytes_per_s / 1e6, r->rtt_p50_ns,
	               r->rtt_p99_ns, r->ns_per_op,         0};
	int i;

	for (i = 0; i < 5; i++) {
		if (v[i] < 0)
			snprintf(f[i], sizeof(f[i]), "-");
		else if (i == 0)
			snprintf(f[i], sizeof(f[i]), "%.0f", v[i]);
		else
			snprintf(f[i], sizeof(f[i]), "%.1f", v[i]);
	}
	printf("%-18s %-16s %8ld %14s %14s %11s %11s %11s\n", r->name, r->case_,
	       r->size, f[0], f[1], f[2], f[3], f[4]);
	fflush(stdout);
	if (path != NULL && *path != '\0') {
		FILE *out = fopen(path, "a");
		if (out == NULL)
			return;
		fprintf(out,
		        "{\"suite\":\"%s\",\"name\":\"%s\",\"case\":\"%s\","
		        "\"size\":%ld",
		        r->suite, r->name, r->case_, r->size);
		if (r->msgs_per_s >= 0)
			fprintf(out, ",\"msgs_per_s\":%.0f", r->msgs_per_s);
		if (r->bytes_per_s >= 0)
			fprintf(out, ",\"bytes_per_s\":%.0f", r->bytes_per_s);
		if (r->rtt_p50_ns >= 0)
			fprintf(out, ",\"rtt_p50_ns\":%.0f", r->rtt_p50_ns);
		if (r->rtt_p99_ns >= 0)
			fprintf(out, ",\"rtt_p99_ns\":%.0f", r->rtt_p99_ns);
		if (r->ns_per_op >= 0)
			fprintf(out, ",\"ns_per_op\":%.2f", r->ns_per_op);
		fprintf(out, "}\n");
		fclose(out);
	}
}

#endif /* STRAW_BENCH_H */
