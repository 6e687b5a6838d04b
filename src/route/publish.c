/*
 * Straws in the registry: /straws/<self>-<peer> holds this side's view of
 * the straw to peer as one line (`straw straws` prints them as a table):
 *
 *   state=open sent=12 sent_bytes=840 received=12 received_bytes=840
 *   waits=0 dropped=0 since=1733350000
 *
 * written asynchronously at most once a second while it changes, and
 * removed when the straw dies.  A straw that changed is on the router's
 * dirty list; one timer writes the list.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "base/clock.h"
#include "registry/client.h"
#include "route/route.h"

#define PUBLISH_EVERY_MS 1000

static const char *
state_name(int st)
{
	switch (st) {
	case STRAW_OPENING:
		return "opening";
	case STRAW_OPEN:
		return "open";
	default:
		return "dead";
	}
}

static void
path_of(const struct route *r, uint32_t peer, char *out, size_t cap)
{
	snprintf(out, cap, "/straws/%" PRIu32 "-%" PRIu32, r->self, peer);
}

/* Submits one asynchronous request, best effort (a full queue or no
 * memory skips this publication: the next one says the same and more). */
static void
submit(struct route *r, struct reg_async *a)
{
	if (reg_async_submit(r->reg, a, 10000, 0, NULL, NULL) < 0)
		reg_async_free(a);
}

static void
publish_one(struct route *r, struct straw *s)
{
	char path[64], val[320];
	struct reg_async *a;
	int n;

	path_of(r, s->peer, path, sizeof(path));
	n = snprintf(val, sizeof(val),
	             "state=%s sent=%" PRIu64 " sent_bytes=%" PRIu64
	             " received=%" PRIu64 " received_bytes=%" PRIu64
	             " waits=%" PRIu64 " dropped=%" PRIu64 " since=%lld",
	             state_name(s->state), s->msgs_out, s->bytes_out,
	             s->msgs_in, s->bytes_in, s->waits, s->dropped,
	             (long long)(time(NULL) - (strawi_now_ns() - s->opened_at) /
	                                              1000000000));
	if (reg_async_new_write(&a, path, val, (size_t)n) == 0)
		submit(r, a);
}

static void
publish_dirty(struct route *r)
{
	while (r->dirty != NULL) {
		struct straw *s = r->dirty;
		r->dirty = s->dnext;
		s->dirty = 0;
		s->dnext = NULL;
		publish_one(r, s);
	}
}

static void
on_timer(struct strawi_timer *t)
{
	struct route *r = t->arg;

	r->pub_armed = 0;
	publish_dirty(r);
}

void
route_publish_init(struct route *r)
{
	strawi_timer_init(&r->pub_timer, on_timer, r);
}

void
route_dirty(struct straw *s)
{
	struct route *r = s->r;

	if (s->dirty || s->state == STRAW_DEAD)
		return;
	s->dirty = 1;
	s->dnext = r->dirty;
	r->dirty = s;
	if (!r->pub_armed &&
	    strawi_timer_add(strawi_proc_sched(r->c), &r->pub_timer,
	                     strawi_now_ns() +
	                             (int64_t)PUBLISH_EVERY_MS * 1000000) == 0)
		r->pub_armed = 1;
}

void
route_undirty(struct straw *s)
{
	struct straw **pp = &s->r->dirty;

	if (!s->dirty)
		return;
	while (*pp != s)
		pp = &(*pp)->dnext;
	*pp = s->dnext;
	s->dirty = 0;
	s->dnext = NULL;
}

void
route_unpublish(struct route *r, uint32_t peer)
{
	struct reg_async *a;
	char path[64];

	path_of(r, peer, path, sizeof(path));
	if (reg_async_new_rm(&a, path) == 0)
		submit(r, a);
}

void
route_publish_idle(struct route *r)
{
	publish_dirty(r);
	if (r->pub_armed) {
		strawi_timer_cancel(strawi_proc_sched(r->c), &r->pub_timer);
		r->pub_armed = 0;
	}
}
