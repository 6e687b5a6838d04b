/*
 * src/tube/tube_list.c - reading the tubes strawd publishes under /tubes
 * (what `straw tubes` prints).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cmd/tube_list.h"

static uint64_t
read_u64(straw_reg *r, const char *path)
{
	char *v = NULL;
	size_t len;
	uint64_t x = 0;

	if (straw_reg_read(r, path, &v, &len) == 0) {
		x = strtoull(v, NULL, 10);
		straw_free(v);
	}
	return x;
}

static void
read_str(straw_reg *r, const char *path, char *out, size_t cap)
{
	char *v = NULL;
	size_t len;

	out[0] = '\0';
	if (straw_reg_read(r, path, &v, &len) == 0) {
		snprintf(out, cap, "%.*s", (int)len, v);
		straw_free(v);
	}
}

/* Fills row from /tubes/<name>; 0, or -ENOENT if it went away meanwhile or
 * is not a tube entry. */
static int
read_row(straw_reg *r, const char *name, struct strawi_tube_row *row)
{
	char base[300], path[400];
	unsigned a, b, tid;
	int i;

	if (sscanf(name, "%u-%u-%u", &a, &b, &tid) != 3)
		return -ENOENT;
	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->container[0] = a;
	row->container[1] = b;
	row->tid = tid;
	snprintf(base, sizeof(base), "/tubes/%s", name);
	snprintf(path, sizeof(path), "%s/state", base);
	read_str(r, path, row->state, sizeof(row->state));
	if (row->state[0] == '\0')
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/mode", base);
	read_str(r, path, row->mode, sizeof(row->mode));
	for (i = 0; i < 2; i++) {
		struct strawi_tube_side_row *s = &row->side[i];
		const char *leaf[] = {"sent",           "received",
		                      "dropped",        "sent_bytes",
		                      "received_bytes", "wakeups"};
		uint64_t *dst[] = {&s->sent,           &s->received,
		                   &s->dropped,        &s->sent_bytes,
		                   &s->received_bytes, &s->wakeups};
		size_t k;
		for (k = 0; k < STRAW_ARRAY_LEN(leaf); k++) {
			snprintf(path, sizeof(path), "%s/%u/%s", base,
			         row->container[i], leaf[k]);
			*dst[k] = read_u64(r, path);
		}
		snprintf(path, sizeof(path), "%s/%u/state", base,
		         row->container[i]);
		read_str(r, path, s->state, sizeof(s->state));
	}
	return 0;
}

int
strawi_tube_list(straw_reg *r, struct strawi_tube_row **rows, size_t *n)
{
	struct strawi_tube_row *out;
	char **names;
	size_t count, i, k = 0;
	int rc;

	rc = straw_tube_publish(r);
	if (rc < 0 && rc != -EOPNOTSUPP)
		return rc;
	rc = straw_reg_ls(r, "/tubes", &names, &count);
	if (rc == -ENOENT) {
		*rows = NULL;
		*n = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	out = straw_calloc(count ? count : 1, sizeof(*out));
	if (out == NULL) {
		straw_reg_free_names(names, count);
		return -ENOMEM;
	}
	for (i = 0; i < count; i++)
		if (read_row(r, names[i], &out[k]) == 0)
			k++;
	straw_reg_free_names(names, count);
	*rows = out;
	*n = k;
	return 0;
}
