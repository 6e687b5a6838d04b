/*
 * tests/tsan_race_control.c - a deliberate data race: two threads add to one
 * counter without a lock or an atomic.  Built only in a ThreadSanitizer tree
 * (STRAW_SANITIZE=thread); the tsan_threads test runs it and requires the
 * report, so that a quiet run of the real tests means TSan was watching.
 */
#include <pthread.h>
#include <stdio.h>

static long counter; /* unguarded on purpose */

static void *
add(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 100000; i++)
		counter++;
	return NULL;
}

int
main(void)
{
	pthread_t a, b;

	if (pthread_create(&a, NULL, add, NULL) != 0)
		return 2;
	if (pthread_create(&b, NULL, add, NULL) != 0)
		return 2;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("counter %ld\n", counter);
	return 0;
}
