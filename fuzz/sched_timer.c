/*
 * fuzz/sched_timer.c - the timer heap against a reference model.  Each
 * input byte pair is an operation on one of 64 timers: add (or move) with
 * a deadline, cancel, or fire everything due at a time; the heap must fire
 * exactly what the model says, in (deadline, order of adding) order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched_int.h"

#define NTIMERS 64

static struct strawi_sched *S;
static struct strawi_timer timers[NTIMERS];
static int64_t model_deadline[NTIMERS]; /* -1: idle */
static uint64_t model_seq[NTIMERS];
static uint64_t next_seq;
static int fired[NTIMERS * 4], nfired;

static void
cb(struct strawi_timer *t)
{
	fired[nfired++] = (int)(t - timers);
}

/* The model's next due timer at now, or -1. */
static int
model_min(int64_t now)
{
	int i, best = -1;

	for (i = 0; i < NTIMERS; i++) {
		if (model_deadline[i] < 0 || model_deadline[i] > now)
			continue;
		if (best < 0 || model_deadline[i] < model_deadline[best] ||
		    (model_deadline[i] == model_deadline[best] &&
		     model_seq[i] < model_seq[best]))
			best = i;
	}
	return best;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t k;
	int i;

	if (S == NULL) {
		if (strawi_sched_new(NULL, &S) < 0)
			abort();
		for (i = 0; i < NTIMERS; i++)
			strawi_timer_init(&timers[i], cb, NULL);
	}
	for (i = 0; i < NTIMERS; i++) {
		strawi_timer_cancel(S, &timers[i]);
		strawi_timer_init(&timers[i], cb, NULL);
		model_deadline[i] = -1;
	}
	for (k = 0; k + 1 < size; k += 2) {
		int op = data[k] >> 6, t = data[k] & (NTIMERS - 1);
		int64_t v = data[k + 1];

		switch (op) {
		case 0:
		case 1: /* add or move */
			if (strawi_timer_add(S, &timers[t], v) < 0)
				abort();
			model_deadline[t] = v;
			model_seq[t] = next_seq++;
			break;
		case 2: /* cancel */
			if (strawi_timer_cancel(S, &timers[t]) !=
			    (model_deadline[t] >= 0))
				abort();
			model_deadline[t] = -1;
			break;
		default: /* fire what is due at v */
			nfired = 0;
			strawi_timers_fire(S, v);
			for (i = 0; i < nfired; i++) {
				int want = model_min(v);

				if (want != fired[i])
					abort();
				model_deadline[want] = -1;
			}
			if (model_min(v) >= 0) /* something due was left */
				abort();
			break;
		}
		for (i = 0; i < NTIMERS; i++)
			if (strawi_timer_pending(&timers[i]) !=
			    (model_deadline[i] >= 0))
				abort();
	}
	return 0;
}
