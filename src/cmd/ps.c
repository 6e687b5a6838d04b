/*
 * The reading side of `straw ps CONTAINER`: asks a container to publish its
 * process list in the registry and prints it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <straw/registry.h>

#include "base/base.h"
#include "cmd/ps.h"

/* The id of container (a name or a decimal id) into idbuf. */
static int
resolve(straw_reg *r, const char *container, char *idbuf, size_t cap)
{
	char **ids = NULL, path[600];
	size_t n = 0, i;
	int rc;

	if (container[0] != '\0' &&
	    strspn(container, "0123456789") == strlen(container)) {
		snprintf(idbuf, cap, "%s", container);
		return 0;
	}
	rc = straw_reg_ls(r, "/containers", &ids, &n);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (i = 0; i < n && rc < 0; i++) {
		char *v = NULL;
		size_t vl = 0;
		snprintf(path, sizeof(path), "/containers/%s/name", ids[i]);
		if (straw_reg_read(r, path, &v, &vl) == 0) {
			if (vl == strlen(container) &&
			    memcmp(v, container, vl) == 0) {
				snprintf(idbuf, cap, "%s", ids[i]);
				rc = 0;
			}
			straw_free(v);
		}
	}
	straw_reg_free_names(ids, n);
	return rc;
}

static int
cmp_num(const void *a, const void *b)
{
	unsigned long x = strtoul(*(char *const *)a, NULL, 10);
	unsigned long y = strtoul(*(char *const *)b, NULL, 10);
	return (x > y) - (x < y);
}

int
strawi_ps_container(straw_reg *r, const char *container, FILE *out,
                    int timeout_ms)
{
	char id[32], path[600], pid[80];
	char **procs = NULL;
	size_t n = 0, i;
	uint32_t wid;
	straw_reg_event ev;
	int rc;

	if (container == NULL || *container == '\0')
		return -EINVAL;
	rc = resolve(r, container, id, sizeof(id));
	if (rc < 0)
		return rc;
	/* Watch for the end of the publication, then ask for it. */
	snprintf(path, sizeof(path), "/containers/%s/procs-at", id);
	rc = straw_reg_watch(r, path, &wid);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "/containers/%s/ps-request", id);
	rc = straw_reg_write(r, path, "1", 1);
	if (rc < 0)
		goto out;
	rc = straw_reg_next_event(r, &ev, timeout_ms);
	if (rc < 0)
		goto out;
	snprintf(path, sizeof(path), "/containers/%s/procs", id);
	rc = straw_reg_ls(r, path, &procs, &n);
	if (rc == -ENOENT) {
		procs = NULL;
		n = 0;
		rc = 0;
	}
	if (rc < 0)
		goto out;
	qsort(procs, n, sizeof(*procs), cmp_num);
	fprintf(out, "%-18s %s\n", "PROCESS", "INFO");
	for (i = 0; i < n; i++) {
		char *v = NULL;
		size_t vl = 0;
		snprintf(path, sizeof(path), "/containers/%s/procs/%s", id,
		         procs[i]);
		if (straw_reg_read(r, path, &v, &vl) < 0)
			continue;
		snprintf(pid, sizeof(pid), "<%s.%s>", id, procs[i]);
		fprintf(out, "%-18s %.*s\n", pid, (int)vl, v);
		straw_free(v);
	}
	straw_reg_free_names(procs, n);
	rc = (int)n;
out:
	(void)straw_reg_unwatch(r, wid);
	return rc;
}
