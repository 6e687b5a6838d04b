/* src/base/clock.h - monotonic time in nanoseconds. */
#ifndef STRAWI_CLOCK_H
#define STRAWI_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC.  Any thread. */
static inline int64_t
strawi_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Converts a timeout in milliseconds (< 0: infinite) to an absolute deadline
 * in ns, INT64_MAX for infinite. */
static inline int64_t
strawi_deadline_ms(int timeout_ms)
{
	if (timeout_ms < 0)
		return INT64_MAX;
	return strawi_now_ns() + (int64_t)timeout_ms * 1000000;
}

#endif /* STRAWI_CLOCK_H */
