/*
 * Containers: joining with a unique name and a never-reused id, their
 * entries under /containers and /names, and their end (pidfd or hang-up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "base/log.h"
#include "strawd/server_int.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int
reg_name_check(const char *name, size_t len, int container)
{
	size_t i, digits = 0;

	if (len == 0 || len > REG_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '/')
			return -EINVAL;
		digits += ch >= '0' && ch <= '9';
	}
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	/* A container name of digits only would read as an id. */
	if (container && digits == len)
		return -EINVAL;
	return 0;
}

static int write_fmt(struct reg_server *s, uint32_t id, const char *leaf,
                     const char *fmt, unsigned long long v);

int
reg_server_setup_tree(struct reg_server *s)
{
	static const char *dirs[] = {"/containers", "/names", "/tubes",
	                             "/straws"};
	char buf[64], host[256] = "";
	size_t i;
	int rc;

	s->tree.root->owner = s->owner;
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)s->machine);
	rc = reg_server_write(s, "/machine/id", buf, strlen(buf));
	if (rc == 0) {
		gethostname(host, sizeof(host) - 1);
		rc = reg_server_write(s, "/machine/hostname", host,
		                      strlen(host));
	}
	for (i = 0; i < STRAW_ARRAY_LEN(dirs) && rc == 0; i++)
		rc = reg_server_write(s, dirs[i], NULL, 0);
	/* strawd itself is container 0. */
	if (rc == 0)
		rc = reg_server_write(s, "/containers/0/name", REG_SELF_NAME,
		                      strlen(REG_SELF_NAME));
	if (rc == 0)
		rc = write_fmt(s, 0, "pid", "%llu",
		               (unsigned long long)getpid());
	if (rc == 0)
		rc = write_fmt(s, 0, "uid", "%llu",
		               (unsigned long long)s->owner);
	if (rc == 0)
		rc = write_fmt(s, 0, "started", "%llu",
		               (unsigned long long)time(NULL));
	if (rc == 0)
		rc = reg_server_write(s, "/containers/0/state", "running", 7);
	if (rc == 0)
		rc = reg_server_write(s, "/containers/0/names", NULL, 0);
	if (rc == 0)
		rc = reg_server_write(s, "/names/" REG_SELF_NAME, "0", 1);
	return rc;
}

static int
note_find(const struct reg_server *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->nnotes; i++)
		if (s->notes[i].id == id)
			return (int)i;
	return -1;
}

static void
note_drop(struct reg_server *s, size_t i)
{
	s->notes[i] = s->notes[--s->nnotes];
}

static int
pid_gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/* Writes the ids file, first forgetting ids of processes that are gone. */
static void
notes_save(struct reg_server *s)
{
	size_t i = 0;
	int rc;

	while (i < s->nnotes) {
		if (reg_cont_find(s, s->notes[i].id) == NULL &&
		    pid_gone(s->notes[i].pid))
			note_drop(s, i);
		else
			i++;
	}
	rc = reg_ids_store(s->dir, s->boot_id, s->last_id, s->notes, s->nnotes);
	if (rc < 0)
		strawi_log(STRAWI_LOG_WARN, "cannot record ids: %s",
		           straw_strerror(rc));
}

static void
note_add(struct reg_server *s, uint32_t id, pid_t pid, uid_t uid)
{
	int i = note_find(s, id);

	if (i < 0) {
		if (s->nnotes == REG_MAX_NOTES)
			notes_save(s); /* prunes */
		if (s->nnotes == REG_MAX_NOTES)
			note_drop(s, 0);
		i = (int)s->nnotes++;
	}
	s->notes[i].id = id;
	s->notes[i].pid = (int32_t)pid;
	s->notes[i].uid = (uint32_t)uid;
}

struct reg_container *
reg_cont_find(const struct reg_server *s, uint32_t id)
{
	struct reg_container *ct;

	for (ct = s->containers; ct != NULL; ct = ct->next)
		if (ct->id == id)
			return ct;
	return NULL;
}

struct reg_container *
reg_cont_by_name(const struct reg_server *s, const char *name, size_t len)
{
	struct reg_container *ct;

	for (ct = s->containers; ct != NULL; ct = ct->next)
		if (strlen(ct->name) == len && memcmp(ct->name, name, len) == 0)
			return ct;
	return NULL;
}

static int
write_fmt(struct reg_server *s, uint32_t id, const char *leaf, const char *fmt,
          unsigned long long v)
{
	char path[128], val[64];

	snprintf(path, sizeof(path), "/containers/%u/%s", id, leaf);
	snprintf(val, sizeof(val), fmt, v);
	return reg_server_write(s, path, val, strlen(val));
}

int
reg_cont_join(struct reg_server *s, struct reg_conn *c, const char *name,
              size_t nlen, uint32_t want, uint32_t *id)
{
	struct reg_container *ct;
	struct epoll_event ev = {0};
	char path[REG_NAME_MAX + 64], idbuf[16];
	struct reg_perms p = {0};
	int rc, pidfd;

	if (c->container != 0)
		return -EALREADY;
	rc = reg_name_check(name, nlen, 1);
	if (rc < 0)
		return rc;
	if (reg_cont_by_name(s, name, nlen) != NULL ||
	    (nlen == strlen(REG_SELF_NAME) &&
	     memcmp(name, REG_SELF_NAME, nlen) == 0))
		return STRAW_ENAMETAKEN;
	if (want != 0) {
		/* A container coming back (strawd restarted, or its
		 * connection broke) keeps its id: only the process that held
		 * it may claim it, and only while no one else does. */
		int i = note_find(s, want);
		if (want > s->last_id)
			return -EINVAL;
		if (reg_cont_find(s, want) != NULL)
			return -EEXIST;
		if (i < 0 || s->notes[i].pid != (int32_t)c->pid ||
		    s->notes[i].uid != (uint32_t)c->uid)
			return -EPERM;
	} else if (s->last_id == UINT32_MAX) {
		return -ENOSPC;
	}
	if (!reg_uid_room(s, c->acct, REG_RES_CONTAINERS, 1))
		return STRAW_EQUOTA;
	pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (pidfd < 0)
		return -errno;
	ct = straw_calloc(1, sizeof(*ct));
	if (ct == NULL) {
		close(pidfd);
		return -ENOMEM;
	}
	ct->kind = REG_SRC_PIDFD;
	ct->id = want != 0 ? want : s->last_id + 1;
	memcpy(ct->name, name, nlen);
	ct->pid = c->pid;
	ct->uid = c->uid;
	ct->pidfd = pidfd;
	ct->conn = c->id;
	ev.events = EPOLLIN;
	ev.data.ptr = ct;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
		rc = -errno;
		close(pidfd);
		straw_free(ct);
		return rc;
	}
	if (want == 0) {
		s->last_id++;
		note_add(s, s->last_id, c->pid, c->uid);
		notes_save(s);
	}
	ct->next = s->containers;
	s->containers = ct;
	s->ncontainers++;
	c->container = ct->id;
	reg_uid_add(c->acct, REG_RES_CONTAINERS, 1);

	snprintf(path, sizeof(path), "/containers/%u/name", ct->id);
	reg_server_write(s, path, name, nlen);
	write_fmt(s, ct->id, "pid", "%llu", (unsigned long long)ct->pid);
	write_fmt(s, ct->id, "uid", "%llu", (unsigned long long)ct->uid);
	write_fmt(s, ct->id, "started", "%llu", (unsigned long long)time(NULL));
	snprintf(path, sizeof(path), "/containers/%u/state", ct->id);
	reg_server_write(s, path, "running", 7);
	snprintf(path, sizeof(path), "/containers/%u/names", ct->id);
	reg_server_write(s, path, NULL, 0);
	/* A place of its own the container may write. */
	snprintf(path, sizeof(path), "/containers/%u/data", ct->id);
	reg_server_write(s, path, NULL, 0);
	p.owner = ct->uid;
	p.nread = 1;
	p.read[0] = REG_ANYONE;
	reg_server_set_perms(s, path, &p);
	snprintf(path, sizeof(path), "/names/%.*s", (int)nlen, name);
	snprintf(idbuf, sizeof(idbuf), "%u", ct->id);
	reg_server_write(s, path, idbuf, strlen(idbuf));
	strawi_log(STRAWI_LOG_INFO, "container %u '%s' joined (pid %d)", ct->id,
	           ct->name, (int)ct->pid);
	*id = ct->id;
	return 0;
}

void
reg_cont_gone(struct reg_server *s, struct reg_container *ct)
{
	struct reg_container **pp;
	struct reg_conn *c;
	char path[REG_NAME_MAX + 64];
	size_t i;

	for (pp = &s->containers; *pp != ct; pp = &(*pp)->next)
		STRAWI_ASSERT(*pp != NULL);
	*pp = ct->next;
	s->ncontainers--;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, ct->pidfd, NULL);
	close(ct->pidfd);
	reg_server_uncharge(s, ct->uid, REG_RES_CONTAINERS, 1);
	reg_listen_resume(s);
	c = reg_conn_find(s, ct->conn);
	if (c != NULL && c->container == ct->id)
		c->container = 0;
	/* Its id stays claimable by its process while that lives (it may
	 * only have lost its connection); gone for good otherwise. */
	if (pid_gone(ct->pid)) {
		int k = note_find(s, ct->id);
		if (k >= 0) {
			note_drop(s, (size_t)k);
			notes_save(s);
		}
	}
	snprintf(path, sizeof(path), "/containers/%u", ct->id);
	reg_server_rm(s, path);
	snprintf(path, sizeof(path), "/names/%s", ct->name);
	reg_server_rm(s, path);
	strawi_log(STRAWI_LOG_INFO, "container %u '%s' gone", ct->id, ct->name);
	for (i = 0; i < s->ngone; i++)
		s->gone[i].fn(s, s->gone[i].arg, ct->id, ct->name);
	/* An event for its pidfd may still be pending in this turn. */
	ct->dead = 1;
	ct->next = s->cgrave;
	s->cgrave = ct;
}
