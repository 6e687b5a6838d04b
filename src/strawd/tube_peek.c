/*
 * Reading a tube's header without keeping it mapped: strawd brokers tubes
 * but holds neither a descriptor nor a mapping of them once handed out
 * (a mapping each would let one uid fill strawd's address space and
 * vm.max_map_count).  The header is read with pread from a memfd a side
 * sent (tube_adopt), or from a side's own descriptor, copied out of its
 * process with pidfd_getfd for the time of one read (tube_publish: the
 * counters).  Finding which descriptor of a process is a tube's memory
 * takes one walk of /proc/<pid>/fd, after which the broker remembers it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/base.h"
#include "strawd/tube_broker.h"

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#define TUBE_SEALS_NEEDED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int
tube_peek_memfd(int fd, struct stat *st, struct tube_shm *h)
{
	int seals;
	ssize_t n;

	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode) || st->st_size != STRAW_TUBE_MEMORY)
		return -EINVAL;
	/* Sealable files are memfds; these seals keep its size fixed. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & TUBE_SEALS_NEEDED) != TUBE_SEALS_NEEDED)
		return -EINVAL;
	n = pread(fd, h, sizeof(*h), 0);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*h) ? 0 : -EINVAL;
}

static int
fdmap_add(struct tube_fdmap *m, const struct stat *st, int fd)
{
	if (m->n == m->cap) {
		size_t ncap = m->cap ? 2 * m->cap : 64;
		struct tube_fdmap_entry *ne =
		        straw_realloc(m->e, ncap * sizeof(*ne));
		if (ne == NULL)
			return -ENOMEM;
		m->e = ne;
		m->cap = ncap;
	}
	m->e[m->n].dev = st->st_dev;
	m->e[m->n].ino = st->st_ino;
	m->e[m->n].fd = fd;
	m->n++;
	return 0;
}

int
tube_fdmap_scan(pid_t pid, struct tube_fdmap *m)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	m->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return -errno;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		/* stat follows the link to the file itself, without
		 * opening it. */
		if (*end != '\0' || fd < 0 ||
		    fstatat(dirfd(d), de->d_name, &st, 0) < 0)
			continue;
		if (S_ISREG(st.st_mode) && st.st_size == STRAW_TUBE_MEMORY)
			rc = fdmap_add(m, &st, (int)fd);
	}
	closedir(d);
	return rc;
}

int
tube_fdmap_find(const struct tube_fdmap *m, uint64_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].dev == dev && m->e[i].ino == ino)
			return m->e[i].fd;
	return -1;
}

void
tube_fdmap_fini(struct tube_fdmap *m)
{
	straw_free(m->e);
	memset(m, 0, sizeof(*m));
}

int
tube_peek_proc(int pidfd, int fd, uint64_t dev, uint64_t ino,
               struct tube_shm *h)
{
	struct stat st;
	int mine, rc;

	mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (mine < 0)
		return errno == EBADF ? -ENOENT : -errno;
	/* The process may have put anything at that number meanwhile:
	 * only the tube's own memory is read. */
	rc = tube_peek_memfd(mine, &st, h);
	if (rc == 0 && (st.st_dev != dev || st.st_ino != ino))
		rc = -ENOENT;
	else if (rc == -EINVAL)
		rc = -ENOENT;
	close(mine);
	return rc;
}
