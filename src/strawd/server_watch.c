/*
 * Watches: a hash table of watched paths.  A change of /a/b/c looks up
 * "/", "/a", "/a/b" and "/a/b/c" (O(depth)) and appends one event frame per
 * matching watch to the watcher's output, so each watcher sees changes in
 * the order they were applied.
 *
 * A watcher hears only of changes of nodes it may read, under ancestors it
 * may all read (the tree says who may: struct reg_vis), removals included,
 * so that a watch never reveals a node or the name of a child that the
 * watcher could not read or list itself (xenstore's XSA-115).  Watches
 * count against their uid's quota.
 */
#include <errno.h>
#include <string.h>

#include "base/base.h"
#include "base/hash.h"
#include "registry/path.h"
#include "strawd/server_int.h"

static uint64_t
watch_hash(const char *p, size_t len)
{
	return strawi_hash_bytes(p, len, 0x7761746368ULL);
}

int
reg_watch_add(struct reg_server *s, struct reg_conn *c, const char *path,
              size_t len, uint64_t token)
{
	struct reg_watch *w;
	size_t b;

	for (w = c->watches; w != NULL; w = w->cnext)
		if (w->token == token)
			return -EEXIST;
	if (!reg_uid_room(s, c->acct, REG_RES_WATCHES, 1))
		return STRAW_EQUOTA;
	w = straw_malloc(sizeof(*w) + len + 1);
	if (w == NULL)
		return -ENOMEM;
	reg_uid_add(c->acct, REG_RES_WATCHES, 1);
	w->conn = c;
	w->token = token;
	w->hash = watch_hash(path, len);
	w->len = (uint32_t)len;
	memcpy(w->path, path, len);
	w->path[len] = '\0';
	b = w->hash % REG_WATCH_BUCKETS;
	w->hnext = s->watch_hash[b];
	s->watch_hash[b] = w;
	w->cnext = c->watches;
	c->watches = w;
	c->nwatches++;
	s->nwatches++;
	return 0;
}

static void
unhash(struct reg_server *s, struct reg_watch *w)
{
	struct reg_watch **pp = &s->watch_hash[w->hash % REG_WATCH_BUCKETS];

	while (*pp != w)
		pp = &(*pp)->hnext;
	*pp = w->hnext;
	s->nwatches--;
}

int
reg_watch_del(struct reg_server *s, struct reg_conn *c, uint64_t token)
{
	struct reg_watch **pp, *w;

	for (pp = &c->watches; (w = *pp) != NULL; pp = &w->cnext) {
		if (w->token == token) {
			*pp = w->cnext;
			unhash(s, w);
			c->nwatches--;
			reg_uid_sub(s, c->acct, REG_RES_WATCHES, 1);
			straw_free(w);
			return 0;
		}
	}
	return -ENOENT;
}

void
reg_watch_drop_conn(struct reg_server *s, struct reg_conn *c)
{
	while (c->watches != NULL) {
		struct reg_watch *w = c->watches;
		c->watches = w->cnext;
		unhash(s, w);
		straw_free(w);
	}
	if (c->nwatches > 0)
		reg_uid_sub(s, c->acct, REG_RES_WATCHES, c->nwatches);
	c->nwatches = 0;
}

static void
fire_prefix(struct reg_server *s, const char *path, size_t plen,
            const char *changed, size_t len, const struct reg_vis *vis)
{
	uint64_t h = watch_hash(path, plen);
	struct reg_watch *w = s->watch_hash[h % REG_WATCH_BUCKETS];

	for (; w != NULL; w = w->hnext) {
		struct reg_conn *c = w->conn;
		size_t start;
		if (w->hash != h || w->len != plen ||
		    memcmp(w->path, path, plen) != 0 || c->dead ||
		    c->kill_reason != NULL || !reg_vis_allows(vis, c->uid))
			continue;
		start = c->out.len;
		if (reg_enc_event(&c->out, &s->b, w->token, changed, len) < 0 ||
		    reg_conn_appended(s, c, start) < 0) {
			/* Closing here would free watches being walked. */
			c->kill_reason = "out of memory for events";
			reg_conn_dirty(s, c);
		}
	}
}

void
reg_watch_fire(void *arg, const char *path, size_t len,
               const struct reg_vis *vis)
{
	struct reg_server *s = arg;
	size_t i;

	if (s->nwatches == 0)
		return;
	fire_prefix(s, "/", 1, path, len, vis);
	for (i = 2; i <= len; i++)
		if (i == len || path[i] == '/')
			fire_prefix(s, path, i, path, len, vis);
}
