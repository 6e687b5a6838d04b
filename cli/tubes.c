/*
 * straw tubes - lists the tubes strawd brokered: state, mode, counters of
 * each side and their rates over a short interval.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <straw/alloc.h>
#include <straw/registry.h>

#include "base/clock.h"
#include "cli.h"
#include "cmd/tube_list.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: straw tubes [--interval MS] [--dir DIR]\n\n"
	           "Lists tubes with their state, mode, the packets each side "
	           "sent,\nreceived and dropped, and packet rates measured "
	           "over MS\nmilliseconds (default 500; 0: no rates).\n");
}

static const struct strawi_tube_row *
find(const struct strawi_tube_row *rows, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

int
tubes_main(int argc, char **argv)
{
	struct strawi_tube_row *a = NULL, *b = NULL;
	const char *dir = NULL;
	size_t na = 0, nb = 0, i;
	long interval = 500;
	int64_t t0, t1;
	straw_reg *r;
	int rc, k;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--help") == 0 ||
		    strcmp(argv[k], "-h") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[k], "--interval") == 0 && k + 1 < argc) {
			char *end;
			interval = strtol(argv[++k], &end, 10);
			if (*end != '\0' || interval < 0 || interval > 60000) {
				usage(stderr);
				return CLI_EXIT_USAGE;
			}
		} else if (strcmp(argv[k], "--dir") == 0 && k + 1 < argc) {
			dir = argv[++k];
		} else {
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	rc = straw_reg_connect(&r, dir, STRAW_REG_NO_AUTOSTART);
	if (rc < 0) {
		fprintf(stderr, "straw tubes: %s\n",
		        rc == STRAW_ENODAEMON ? straw_reg_start_hint()
		                              : straw_strerror(rc));
		return CLI_EXIT_FAIL;
	}
	t0 = strawi_now_ns();
	rc = strawi_tube_list(r, &a, &na);
	if (rc == 0 && interval > 0) {
		struct timespec ts = {interval / 1000,
		                      (interval % 1000) * 1000000};
		nanosleep(&ts, NULL); /* the rate's measuring interval */
		t1 = strawi_now_ns();
		rc = strawi_tube_list(r, &b, &nb);
	} else {
		t1 = t0;
	}
	straw_reg_close(r);
	if (rc < 0) {
		fprintf(stderr, "straw tubes: %s\n", straw_strerror(rc));
		straw_free(a);
		return CLI_EXIT_FAIL;
	}
	if (b == NULL) {
		b = a;
		nb = na;
		a = NULL;
	}
	printf("%-20s %-8s %-9s %-10s %12s %12s %12s %12s %12s\n", "TUBE",
	       "STATE", "MODE", "SIDE", "SENT", "RECEIVED", "DROPPED", "SENT/s",
	       "RECV/s");
	for (i = 0; i < nb; i++) {
		const struct strawi_tube_row *now = &b[i];
		const struct strawi_tube_row *then = find(a, na, now->name);
		double dt = (double)(t1 - t0) / 1e9;
		int s;
		for (s = 0; s < 2; s++) {
			const struct strawi_tube_side_row *x = &now->side[s];
			char side[32], rs[32] = "-", rr[32] = "-";
			snprintf(side, sizeof(side), "%u%s", now->container[s],
			         strcmp(x->state, "closed") == 0 ? "(gone)"
			                                         : "");
			if (then != NULL && dt > 0) {
				snprintf(
				        rs, sizeof(rs), "%.0f",
				        (double)(x->sent - then->side[s].sent) /
				                dt);
				snprintf(rr, sizeof(rr), "%.0f",
				         (double)(x->received -
				                  then->side[s].received) /
				                 dt);
			}
			printf("%-20s %-8s %-9s %-10s %12llu %12llu %12llu "
			       "%12s %12s\n",
			       s == 0 ? now->name : "",
			       s == 0 ? now->state : "",
			       s == 0 ? now->mode : "", side,
			       (unsigned long long)x->sent,
			       (unsigned long long)x->received,
			       (unsigned long long)x->dropped, rs, rr);
		}
	}
	straw_free(a);
	straw_free(b);
	return CLI_EXIT_OK;
}
