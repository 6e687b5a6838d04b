/*
 * What each uid holds in strawd: one record per uid that holds anything
 * (connections, containers, tube ends, watches, nodes and their bytes,
 * queued output), checked against its quotas before strawd gives it more.
 * Root (uid 0) is counted but never refused: it owns the machine.  The
 * `usage` request shows the records: all of them to root, its own to any
 * other uid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "base/base.h"
#include "base/log.h"
#include "strawd/server_int.h"

_Static_assert(REG_RES_COUNT == REG_USAGE_NRES, "usage replies list each");

/* Entries of a usage reply at most (so that it fits in one packet). */
#define USAGE_MAX_UIDS 2048

static size_t
uid_bucket(uint32_t uid)
{
	return (uid ^ (uid >> 8) ^ (uid >> 16)) % REG_UID_BUCKETS;
}

struct reg_uid *
reg_uid_find(const struct reg_server *s, uint32_t uid)
{
	struct reg_uid *u = s->uid_hash[uid_bucket(uid)];

	while (u != NULL && u->uid != uid)
		u = u->hnext;
	return u;
}

struct reg_uid *
reg_uid_get(struct reg_server *s, uint32_t uid)
{
	struct reg_uid *u = reg_uid_find(s, uid);
	size_t b;

	if (u != NULL)
		return u;
	u = straw_calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	b = uid_bucket(uid);
	u->uid = uid;
	u->hnext = s->uid_hash[b];
	s->uid_hash[b] = u;
	return u;
}

int
reg_uid_room(const struct reg_server *s, const struct reg_uid *u,
             enum reg_res res, uint64_t n)
{
	return u->uid == 0 || u->use[res] + n <= s->limit[res];
}

void
reg_uid_add(struct reg_uid *u, enum reg_res res, uint64_t n)
{
	u->use[res] += n;
}

void
reg_uid_put(struct reg_server *s, struct reg_uid *u)
{
	struct reg_uid **pp;
	size_t i;

	for (i = 0; i < REG_RES_COUNT; i++)
		if (u->use[i] != 0)
			return;
	for (pp = &s->uid_hash[uid_bucket(u->uid)]; *pp != u;
	     pp = &(*pp)->hnext)
		STRAWI_ASSERT(*pp != NULL);
	*pp = u->hnext;
	straw_free(u);
}

void
reg_uid_sub(struct reg_server *s, struct reg_uid *u, enum reg_res res,
            uint64_t n)
{
	STRAWI_ASSERT(u->use[res] >= n);
	u->use[res] -= n;
	reg_uid_put(s, u);
}

int
reg_server_charge(struct reg_server *s, uid_t uid, enum reg_res res, uint64_t n)
{
	struct reg_uid *u;

	if ((unsigned)res >= REG_RES_COUNT)
		return -EINVAL;
	u = reg_uid_get(s, (uint32_t)uid);
	if (u == NULL)
		return -ENOMEM;
	if (!reg_uid_room(s, u, res, n)) {
		reg_uid_put(s, u);
		return STRAW_EQUOTA;
	}
	reg_uid_add(u, res, n);
	return 0;
}

void
reg_server_uncharge(struct reg_server *s, uid_t uid, enum reg_res res,
                    uint64_t n)
{
	struct reg_uid *u = reg_uid_find(s, (uint32_t)uid);

	if ((unsigned)res >= REG_RES_COUNT || u == NULL)
		return;
	reg_uid_sub(s, u, res, n < u->use[res] ? n : u->use[res]);
}

void
reg_quota_tree_charge(void *arg, uint64_t payer, int64_t nodes, int64_t bytes)
{
	struct reg_server *s = arg;
	struct reg_uid *u = reg_uid_get(s, (uint32_t)(payer - 1));

	/* A payer that is charged more is acting (its connection holds its
	 * record) or already pays for nodes: the record exists. */
	if (NEVER(u == NULL))
		STRAWI_PANIC("no record for uid %llu",
		             (unsigned long long)payer - 1);
	if (nodes >= 0)
		reg_uid_add(u, REG_RES_NODES, (uint64_t)nodes);
	if (bytes >= 0)
		reg_uid_add(u, REG_RES_BYTES, (uint64_t)bytes);
	if (nodes < 0)
		reg_uid_sub(s, u, REG_RES_NODES, (uint64_t)-nodes);
	if (bytes < 0 && (u = reg_uid_find(s, (uint32_t)(payer - 1))) != NULL)
		reg_uid_sub(s, u, REG_RES_BYTES, (uint64_t)-bytes);
}

/* The descriptors strawd may have open (raising its soft limit to the
 * hard one first). */
static uint64_t
fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? (1u << 20) : rl.rlim_cur;
}

void
reg_quota_setup(struct reg_server *s)
{
	struct reg_server_opts *o = &s->opts;
	uint64_t nofile = fd_limit();

	if (o->max_conns == 0) {
		/* A joined connection costs two descriptors (its socket and
		 * its container's pidfd). */
		uint64_t m = nofile > 2 * REG_FD_RESERVE
		                     ? (nofile - REG_FD_RESERVE) / 2
		                     : nofile / 4;
		o->max_conns = (uint32_t)(m < 16           ? 16
		                          : m > UINT32_MAX ? UINT32_MAX
		                                           : m);
	}
	/* One uid never fills strawd alone. */
	if (o->quota_conns == 0 || o->quota_conns >= o->max_conns) {
		o->quota_conns =
		        o->max_conns / 2 < 1024 ? o->max_conns / 2 : 1024;
		if (o->quota_conns == 0)
			o->quota_conns = 1;
	}
	if (o->quota_containers == 0)
		o->quota_containers = 512;
	if (o->quota_tubes == 0)
		o->quota_tubes = 8192;
	if (o->quota_watches == 0)
		o->quota_watches = 4096;
	if (o->quota_nodes == 0)
		o->quota_nodes = 65536;
	if (o->quota_bytes == 0)
		o->quota_bytes = (uint64_t)64 << 20;
	if (o->quota_outq_uid == 0)
		o->quota_outq_uid = (size_t)16 << 20;
	if (o->quota_value == 0 || o->quota_value > REG_MAX_VALUE)
		o->quota_value =
		        o->quota_value > REG_MAX_VALUE ? REG_MAX_VALUE : 65536;
	if (o->quota_outq == 0)
		o->quota_outq = (size_t)4 << 20;
	if (o->max_outq == 0)
		o->max_outq = (size_t)64 << 20;
	s->limit[REG_RES_CONNS] = o->quota_conns;
	s->limit[REG_RES_CONTAINERS] = o->quota_containers;
	s->limit[REG_RES_TUBES] = o->quota_tubes;
	s->limit[REG_RES_WATCHES] = o->quota_watches;
	s->limit[REG_RES_NODES] = o->quota_nodes;
	s->limit[REG_RES_BYTES] = o->quota_bytes;
	s->limit[REG_RES_OUTQ] = o->quota_outq_uid;
}

int
reg_quota_usage_fn(struct reg_server *s, void *arg,
                   const struct reg_request *req, struct reg_reply *reply)
{
	struct reg_usage_entry *e;
	struct reg_usage_info info;
	const struct reg_uid *u;
	straw_builder b;
	size_t i, n = 0;
	int rc;

	(void)arg;
	memset(&info, 0, sizeof(info));
	info.max_conns = s->opts.max_conns;
	info.conns = s->nconns;
	info.max_outq = s->opts.max_outq;
	info.outq = s->outq_total;
	info.refused = s->refused;
	memcpy(info.limit, s->limit, sizeof(info.limit));
	e = straw_calloc(USAGE_MAX_UIDS, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	/* Root sees every uid; any other uid only itself. */
	for (i = 0; i < REG_UID_BUCKETS; i++)
		for (u = s->uid_hash[i]; u != NULL; u = u->hnext)
			if ((req->uid == 0 || u->uid == req->uid) &&
			    n < USAGE_MAX_UIDS) {
				e[n].uid = u->uid;
				memcpy(e[n].use, u->use, sizeof(e[n].use));
				n++;
			}
	straw_builder_init(&b);
	rc = reg_val_usage(&b, &info, e, n);
	if (rc == 0)
		rc = reg_reply_term(reply, b.buf.data, b.buf.len);
	straw_builder_fini(&b);
	straw_free(e);
	return rc;
}

void
reg_quota_fini(struct reg_server *s)
{
	size_t i;

	for (i = 0; i < REG_UID_BUCKETS; i++)
		while (s->uid_hash[i] != NULL) {
			struct reg_uid *u = s->uid_hash[i];
			s->uid_hash[i] = u->hnext;
			straw_free(u);
		}
}
