/* The runtime directory, its lock and id file; machine and boot ids. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "rundir.h"

int
reg_rundir_path(const char *dir, char *out, size_t cap)
{
	const char *env = dir != NULL ? dir : getenv("STRAW_DIR");
	int n;

	if (cap > REG_DIR_MAX + 1)
		cap = REG_DIR_MAX + 1;
	if (env != NULL && *env != '\0')
		n = snprintf(out, cap, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(out, cap, "/run/straw");
	else if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env != '\0')
		n = snprintf(out, cap, "%s/straw", env);
	else
		n = snprintf(out, cap, "/tmp/straw-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}

int
reg_rundir_create(const char *dir)
{
	char tmp[REG_DIR_MAX + 1];
	size_t i, n = strlen(dir);
	struct stat st;

	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		tmp[i] = i < n ? '/' : '\0';
	}
	if (stat(dir, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int
reg_rundir_file(const char *dir, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int
reg_rundir_lock(const char *dir, int *holder)
{
	char path[REG_DIR_MAX + 32], buf[32];
	int fd, rc;
	ssize_t n;

	*holder = 0;
	rc = reg_rundir_file(dir, "strawd.lock", path, sizeof(path));
	if (rc < 0)
		return rc;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			*holder = atoi(buf);
		}
		close(fd);
		return rc;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int
reg_boot_id(char *out, size_t cap)
{
	ssize_t n;
	int fd;

	if (cap < 37)
		return -ENOSPC;
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, out, 36);
	close(fd);
	if (n != 36)
		return -EIO;
	out[36] = '\0';
	return 0;
}

uint32_t
reg_ids_load(const char *dir, const char *boot_id, struct reg_id_note *notes,
             size_t cap, size_t *n)
{
	char path[REG_DIR_MAX + 32], bid[40];
	unsigned long last, id, uid;
	long pid;
	FILE *f;

	*n = 0;
	if (reg_rundir_file(dir, "ids", path, sizeof(path)) < 0)
		return 0;
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%36s %lu", bid, &last) != 2 ||
	    strcmp(bid, boot_id) != 0 || last > UINT32_MAX) {
		fclose(f);
		return 0;
	}
	while (*n < cap && fscanf(f, "%lu %ld %lu", &id, &pid, &uid) == 3) {
		if (id == 0 || id > last || pid <= 0 || pid > INT32_MAX ||
		    uid > UINT32_MAX)
			continue;
		notes[*n].id = (uint32_t)id;
		notes[*n].pid = (int32_t)pid;
		notes[*n].uid = (uint32_t)uid;
		(*n)++;
	}
	fclose(f);
	return (uint32_t)last;
}

int
reg_ids_store(const char *dir, const char *boot_id, uint32_t last,
              const struct reg_id_note *notes, size_t n)
{
	char path[REG_DIR_MAX + 32], tmp[REG_DIR_MAX + 32];
	size_t i;
	FILE *f;
	int rc = 0;

	if (reg_rundir_file(dir, "ids", path, sizeof(path)) < 0 ||
	    reg_rundir_file(dir, "ids.tmp", tmp, sizeof(tmp)) < 0)
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (f == NULL)
		return -errno;
	fprintf(f, "%s %u\n", boot_id, last);
	for (i = 0; i < n; i++)
		fprintf(f, "%u %d %u\n", notes[i].id, (int)notes[i].pid,
		        notes[i].uid);
	if (fclose(f) != 0)
		rc = -EIO;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	return rc;
}
