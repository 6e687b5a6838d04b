/*
 * src/registry/client.h - the registry client's internal API for higher
 * layers of libstraw (tubes, the process layer, the router): extension
 * requests with file descriptors, asynchronous requests whose completion
 * is a callback, reconnection hooks, and the event queue without I/O, all
 * on the connection a straw_reg holds.
 *
 * The server side is reg_server_handle() in src/strawd/server.h.
 *
 * Threads.  Every straw_reg has one I/O thread of its own (started by
 * straw_reg_connect, ended by straw_reg_close).  It notices hang-ups and
 * reconnects, sends asynchronous requests, reads what strawd sends once
 * asynchronous requests were used (or reg_client_event_fd was called), and
 * runs the completion callbacks and the reconnection hooks.  A synchronous
 * call (include/straw/registry.h, reg_client_call) holds the connection
 * while it waits: asynchronous requests submitted meanwhile are queued and
 * sent as soon as it returns (the replies it reads meanwhile still complete
 * theirs).
 */
#ifndef STRAWI_REG_CLIENT_H
#define STRAWI_REG_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <straw/registry.h>

/*
 * Sends the request {op, Id, Body} (body: an encoded term, version byte
 * first) with nfds file descriptors (SCM_RIGHTS; the caller keeps its own),
 * and waits up to timeout_ms (< 0: forever) for the answer.
 *
 * Returns 0 with *reply (the answer's value as an encoded term, version
 * byte first, straw_malloc'd; `ok` comes back as the atom ok) and up to
 * *nfds_out received fds in fds_out (*nfds_out is in: capacity, out:
 * count; fds beyond the capacity are closed; the caller owns the rest).
 * Returns the handler's negative code, -EOPNOTSUPP when strawd has no
 * handler for op, -ETIMEDOUT, -ECONNRESET if strawd went away while the
 * request was out (it is not resent: extension requests need not be
 * idempotent), or another error; nothing is allocated or received then.
 * reply, fds_out and nfds_out may be NULL to ignore them.
 *
 * Blocks; thread-safe (serialised with every other call on r).  Never from
 * r's I/O thread (a callback or a hook): use reg_async_new_call there.
 */
int reg_client_call(straw_reg *r, const char *op, const uint8_t *body,
                    size_t body_len, const int *fds, size_t nfds,
                    uint8_t **reply, size_t *reply_len, int *fds_out,
                    size_t *nfds_out, int timeout_ms);

/* strawd's pid as the last handshake told it, or 0. */
uint32_t reg_client_server_pid(straw_reg *r);

/* The runtime directory r is connected to. */
const char *reg_client_dir(straw_reg *r);

/* ---- asynchronous requests ---------------------------------------------- */

/*
 * An asynchronous request goes through two steps:
 *
 *   1. reg_async_new_*() builds it (encodes it, and reserves everything its
 *      answer will need).  This is the only step that allocates: it returns
 *      0 with *out, or -ENOMEM / -EINVAL / STRAW_EBADPATH /
 *      STRAW_EVALUESIZE, with nothing allocated.  A request is not tied to
 *      a connection until it is submitted; reg_async_free() discards one
 *      that was not (NULL is fine).  Any thread.
 *
 *   2. reg_async_submit() hands it to a connection and returns at once: it
 *      never blocks (on strawd or on a synchronous call in progress) and
 *      never allocates.  On success the request belongs to r and its
 *      callback runs exactly once; on failure it is still the caller's and
 *      the callback never runs.
 *
 * Order: requests submitted to one connection are sent in the order they
 * were submitted, and strawd applies a connection's requests in the order
 * it receives them, so the effects of a connection's asynchronous requests
 * happen in submission order.  Their answers come back in that order too,
 * except for extension requests that strawd answers later (an accept
 * waiting for its open), which complete whenever they are answered.
 *
 * Bound: at most REG_ASYNC_MAX requests of one connection may be queued or
 * in flight; past that reg_async_submit() fails at once with -ENOBUFS
 * (nothing changes), unless the request is submitted with
 * REG_ASYNC_RESERVED (for a request prepared in advance that must not
 * fail, such as releasing a registered name; the caller bounds how many of
 * those it makes).
 *
 * strawd away or restarting: requests wait in the queue, in order, until
 * the connection is back (autostart and reconnection as for synchronous
 * calls; there is no 3-second limit: only the request's own timeout ends
 * the wait).  A request that was sent but not answered when the
 * connection was lost is, for the built-in operations (write, rm,
 * register, unregister, lookup: idempotent, or harmless to repeat), sent
 * again after the reconnection, before any request submitted later - so an
 * unregister submitted after a register is never applied before it; rm may
 * then report -ENOENT.  An extension request (reg_async_new_call) in
 * flight then completes with -ECONNRESET instead (it may or may not have
 * taken effect).  Registered names are restored after a reconnection as
 * for straw_reg_register (the connection records them when strawd
 * confirms them).
 *
 * Closing: straw_reg_close() sends what is queued (for up to a second),
 * then completes every request still unanswered with -ECANCELED (strawd
 * still serves those it received: a connection's requests are served
 * before its end); submitting to a connection whose close has begun fails
 * with -ECANCELED.
 */
struct reg_async;

#define REG_ASYNC_MAX 4096 /* requests queued or in flight per connection */

/* reg_async_submit flags. */
#define REG_ASYNC_RESERVED \
	0x1 /* exempt from REG_ASYNC_MAX (prepared in advance) */

/* What a completed request hands its callback (valid during the call). */
struct reg_async_result {
	/*
	 * 0; strawd's negative code (-ENOENT, STRAW_ENAMETAKEN, ...);
	 * -ETIMEDOUT (no answer within the request's timeout); -ECONNRESET
	 * (an extension request in flight when the connection was lost);
	 * -ECANCELED (straw_reg_close); -EMSGSIZE (the answer's value was
	 * longer than reg_async_new_call's reply_max; its fds are closed).
	 */
	int rc;
	/* The value V of an answer {ok, V} as an encoded term (version byte
	 * first); NULL for a plain `ok` and for errors. */
	const uint8_t *value;
	size_t value_len; /* its bytes */
	/* V when it is a non-negative integer (a lookup's process id), else
	 * 0. */
	uint64_t num;
	/* Descriptors that came with the answer.  The callback takes those
	 * it keeps by setting their entries to -1; the others are closed
	 * when it returns. */
	int *fds;
	size_t nfds; /* their number */
};

/*
 * A completion callback.  Runs once per submitted request, on r's I/O
 * thread, without any lock of r held.  It must not block: no synchronous
 * call on r or any other straw_reg (it may submit asynchronous requests to
 * any connection, post to a scheduler, close a tube).  While it runs, no
 * other callback or hook of r runs.
 */
typedef void (*reg_async_fn)(void *arg, struct reg_async_result *res);

/* Built-in operations, as straw_reg_write, straw_reg_rm,
 * straw_reg_register, straw_reg_unregister and straw_reg_lookup (same
 * arguments, same errors in the result). */
int reg_async_new_write(struct reg_async **out, const char *path,
                        const void *val, size_t len);
int reg_async_new_rm(struct reg_async **out, const char *path);
/* As straw_reg_read: the value (a binary term) comes as the result's
 * value; reply_max bounds its encoded bytes (room reserved now; a longer
 * value completes with -EMSGSIZE). */
int reg_async_new_read(struct reg_async **out, const char *path,
                       size_t reply_max);
int reg_async_new_register(struct reg_async **out, const char *name,
                           uint32_t process);
int reg_async_new_unregister(struct reg_async **out, const char *name);
int reg_async_new_lookup(struct reg_async **out, const char *container,
                         const char *name);

/*
 * An extension request {op, Id, Body} (as reg_client_call) with nfds
 * descriptors, which are duplicated now (the caller keeps its own; -EMFILE
 * and the like are returned here) and sent with it.  reply_max bounds the
 * bytes of the answer's value (version byte included) the result can
 * carry: room for it is reserved now.
 */
int reg_async_new_call(struct reg_async **out, const char *op,
                       const uint8_t *body, size_t body_len, const int *fds,
                       size_t nfds, size_t reply_max);

/* Frees a request that was not submitted (closing its descriptors).
 * Accepts NULL.  Any thread. */
void reg_async_free(struct reg_async *a);

/*
 * Submits a to r: fn(arg, result) will run once (fn may be NULL: nothing
 * is called, received descriptors are closed).  timeout_ms < 0: no time
 * limit; otherwise the request completes with -ETIMEDOUT if no answer came
 * within timeout_ms of now (queued time included; a late answer is then
 * dropped).  flags: REG_ASYNC_RESERVED or 0.  Returns 0, -ENOBUFS (queue
 * full) or -ECANCELED (r is closing).  Never blocks, never allocates.  Any
 * thread, r's I/O thread included.
 */
int reg_async_submit(straw_reg *r, struct reg_async *a, int timeout_ms,
                     unsigned flags, reg_async_fn fn, void *arg);

/* ---- reconnection hooks -------------------------------------------------- */

/*
 * Adds fn(r, arg) to r's reconnection hooks: after each reconnection of r
 * (to a new strawd, or after losing the connection), once r restored its
 * own state (container id, names, watches), r's I/O thread calls every
 * hook once, in the order they were added, without any lock of r held, so
 * that each higher layer restores its own state (the tube layer announces
 * its tubes again).  A hook added now runs from the next reconnection on.
 * Several layers may add hooks to one connection; adding a (fn, arg) pair
 * that is already there changes nothing.  A hook must not block (submit
 * asynchronous requests rather than synchronous calls).  Returns 0 or
 * -ENOMEM.  Any thread.
 */
int reg_client_hook_add(straw_reg *r, void (*fn)(straw_reg *r, void *arg),
                        void *arg);

/*
 * Removes the hook (fn, arg): it does not run again.  If it is running on
 * the I/O thread, waits until it has returned (unless called from that
 * hook or another callback of r).  Returns 0, or -ENOENT when it is not
 * there.  Any thread.
 */
int reg_client_hook_remove(straw_reg *r, void (*fn)(straw_reg *r, void *arg),
                           void *arg);

/* ---- events without I/O -------------------------------------------------- */

/*
 * An eventfd that is readable while watch events are queued on r (unlike
 * straw_reg_watch_fd, which includes the socket).  From this call on, r's
 * I/O thread reads everything strawd sends as it arrives, so events are
 * queued without anyone calling into r.  Owned by r; stable across
 * reconnections.  Any thread.
 */
int reg_client_event_fd(straw_reg *r);

/*
 * Takes the next queued event into *ev without doing any I/O and without
 * waiting for a synchronous call in progress: 1 with an event, 0 when none
 * is queued.  Any thread.
 */
int reg_client_event_pop(straw_reg *r, straw_reg_event *ev);

#endif /* STRAWI_REG_CLIENT_H */
