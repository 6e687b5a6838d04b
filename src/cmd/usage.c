/*
 * src/cmd/usage.c - printing what each uid holds in strawd (for `straw
 * status`).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cmd/usage.h"
#include "registry/client.h"
#include "registry/msg.h"

#define USAGE_ROWS 4096

/* Names of the counts, in the protocol's order. */
static const char *const res_names[REG_USAGE_NRES] = {
        "connections", "containers", "tube_ends", "watches",
        "nodes",       "bytes",      "queued",
};
static const char *const res_heads[REG_USAGE_NRES] = {
        "CONNECTIONS", "CONTAINERS", "TUBE ENDS", "WATCHES",
        "NODES",       "BYTES",      "QUEUED",
};
static const int res_widths[REG_USAGE_NRES] = {13, 12, 13, 12, 14, 22, 20};

static void
print_table(FILE *out, const struct reg_usage_info *info,
            const struct reg_usage_entry *e, size_t n)
{
	char cell[48];
	size_t i, k;

	fprintf(out, "  %-10s", "UID");
	for (k = 0; k < REG_USAGE_NRES; k++)
		fprintf(out, " %-*s",
		        k + 1 < REG_USAGE_NRES ? res_widths[k] : 0,
		        res_heads[k]);
	fprintf(out, "\n");
	for (i = 0; i < n; i++) {
		fprintf(out, "  %-10" PRIu32, e[i].uid);
		for (k = 0; k < REG_USAGE_NRES; k++) {
			/* Root has no quota. */
			if (e[i].uid == 0)
				snprintf(cell, sizeof(cell), "%" PRIu64 "/-",
				         e[i].use[k]);
			else
				snprintf(cell, sizeof(cell),
				         "%" PRIu64 "/%" PRIu64, e[i].use[k],
				         info->limit[k]);
			fprintf(out, " %-*s",
			        k + 1 < REG_USAGE_NRES ? res_widths[k] : 0,
			        cell);
		}
		fprintf(out, "\n");
	}
	fprintf(out,
	        "  in all: %" PRIu32 "/%" PRIu32 " connections, %" PRIu64
	        "/%" PRIu64 " bytes queued, %" PRIu64 " connections refused\n",
	        info->conns, info->max_conns, info->outq, info->max_outq,
	        info->refused);
}

static void
print_json(FILE *out, const struct reg_usage_info *info,
           const struct reg_usage_entry *e, size_t n)
{
	size_t i, k;

	fprintf(out,
	        "\"usage\":{\"connections\":%" PRIu32
	        ",\"max_connections\":%" PRIu32 ",\"queued\":%" PRIu64
	        ",\"max_queued\":%" PRIu64 ",\"refused\":%" PRIu64
	        ",\"quotas\":{",
	        info->conns, info->max_conns, info->outq, info->max_outq,
	        info->refused);
	for (k = 0; k < REG_USAGE_NRES; k++)
		fprintf(out, "%s\"%s\":%" PRIu64, k ? "," : "", res_names[k],
		        info->limit[k]);
	fprintf(out, "},\"uids\":[");
	for (i = 0; i < n; i++) {
		fprintf(out, "%s{\"uid\":%" PRIu32, i ? "," : "", e[i].uid);
		for (k = 0; k < REG_USAGE_NRES; k++)
			fprintf(out, ",\"%s\":%" PRIu64, res_names[k],
			        e[i].use[k]);
		fprintf(out, "}");
	}
	fprintf(out, "]}");
}

int
strawi_usage_print(straw_reg *r, int json, FILE *out)
{
	static const uint8_t nil[] = {131, 106}; /* [] */
	struct reg_usage_entry *e;
	struct reg_usage_info info;
	uint8_t *reply = NULL;
	size_t rlen = 0, n = 0;
	int rc;

	rc = reg_client_call(r, "usage", nil, sizeof(nil), NULL, 0, &reply,
	                     &rlen, NULL, NULL, 5000);
	if (rc < 0)
		return rc;
	e = straw_calloc(USAGE_ROWS, sizeof(*e));
	if (e == NULL) {
		straw_free(reply);
		return -ENOMEM;
	}
	rc = rlen < 2 ? STRAW_EPROTOCOL
	              : reg_read_usage(reply + 1, rlen - 1, &info, e,
	                               USAGE_ROWS, &n);
	if (rc == 0 && json)
		print_json(out, &info, e, n);
	else if (rc == 0)
		print_table(out, &info, e, n);
	straw_free(e);
	straw_free(reply);
	return rc;
}
