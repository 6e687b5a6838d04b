/*
 * src/tube/tube_open.c - opening and accepting tubes through strawd (the
 * client half of src/tube/broker.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <straw/term.h>

#include "base/base.h"
#include "registry/client.h"
#include "tube/tube_impl.h"

/* Sends op with body and makes a tube of the side and descriptors the
 * answer carries. */
static int
broker_call(straw_reg *r, const char *op, straw_builder *b, int timeout_ms,
            straw_tube **out)
{
	uint8_t *body = NULL, *reply = NULL;
	size_t blen, rlen, nfds = STRAWI_TUBE_NFDS, i;
	int fds[STRAWI_TUBE_NFDS], rc;
	int64_t side;
	straw_cursor c;
	straw_tube *t;

	rc = straw_builder_finish(b, &body, &blen);
	if (rc < 0)
		return rc;
	/* strawd answers a call with timeout 0 at once, and one with a
	 * timeout when it is matched; the wait itself is timed here (strawd
	 * has no timers and forgets the request a little before). */
	rc = reg_client_call(r, op, body, blen, NULL, 0, &reply, &rlen, fds,
	                     &nfds, timeout_ms == 0 ? 5000 : timeout_ms);
	straw_free(body);
	if (rc < 0)
		return rc;
	rc = STRAW_EPROTOCOL;
	if (nfds == STRAWI_TUBE_NFDS &&
	    straw_cursor_init(&c, reply, rlen) == 0 &&
	    straw_cursor_int64(&c, &side) == 0 && (side == 0 || side == 1))
		rc = strawi_tube_from_fds((int)side, fds, &t);
	straw_free(reply);
	if (rc < 0) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return rc;
	}
	t->reg = r;
	*out = t;
	return 0;
}

int
straw_tube_open(straw_reg *r, const char *peer, uint32_t tid,
                enum straw_tube_mode mode, int timeout_ms, straw_tube **out)
{
	straw_builder b;

	if (r == NULL || peer == NULL || *peer == '\0' || out == NULL ||
	    (mode != STRAW_TUBE_DROP && mode != STRAW_TUBE_RELIABLE))
		return -EINVAL;
	straw_builder_init(&b);
	straw_build_tuple(&b, 4);
	straw_build_binary(&b, peer, strlen(peer));
	straw_build_uint(&b, tid);
	straw_build_int(&b, mode);
	straw_build_int(&b, timeout_ms < 0 ? -1 : timeout_ms);
	return broker_call(r, "tube_open", &b, timeout_ms, out);
}

int
straw_tube_accept(straw_reg *r, int timeout_ms, straw_tube **out)
{
	straw_builder b;

	if (r == NULL || out == NULL)
		return -EINVAL;
	straw_builder_init(&b);
	straw_build_tuple(&b, 1);
	straw_build_int(&b, timeout_ms < 0 ? -1 : timeout_ms);
	return broker_call(r, "tube_accept", &b, timeout_ms, out);
}

int
straw_tube_publish(straw_reg *r)
{
	static const uint8_t nil[] = {131, 106}; /* [] */

	if (r == NULL)
		return -EINVAL;
	return reg_client_call(r, "tube_publish", nil, sizeof(nil), NULL, 0,
	                       NULL, NULL, NULL, NULL, 5000);
}

/* Tells strawd this side closed (called by straw_tube_close). */
void
strawi_tube_broker_closed(straw_tube *t)
{
	straw_builder b;
	uint8_t *body = NULL;
	size_t blen;
	uint32_t opener = t->side == 0 ? t->self : t->peer;
	uint32_t acceptor = t->side == 0 ? t->peer : t->self;

	straw_builder_init(&b);
	straw_build_tuple(&b, 4);
	straw_build_uint(&b, opener);
	straw_build_uint(&b, acceptor);
	straw_build_uint(&b, t->tid);
	straw_build_int(&b, t->side);
	if (straw_builder_finish(&b, &body, &blen) == 0)
		/* Best effort: strawd also learns it from the closed flag
		 * or the container's end. */
		reg_client_call(t->reg, "tube_close", body, blen, NULL, 0, NULL,
		                NULL, NULL, NULL, 1000);
	straw_free(body);
}
