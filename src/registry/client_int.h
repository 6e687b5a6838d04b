/*
 * src/registry/client_int.h - the registry client's state, shared by
 * client_conn.c (connecting, autostart, sending and receiving, reconnection,
 * the event queue) and client.c (the operations).
 *
 * Locking: `mu` serialises every call and all socket I/O: whoever holds it
 * may read the socket and dispatches what arrives (replies to the call in
 * progress, to pipelined writes and to asynchronous requests, events into
 * the queue).  Callers take it with reg_client_lock (counted in `calls`);
 * the I/O thread only ever tries it (reg_client_trylock), so it is never
 * stuck behind a call that waits on strawd: when a call holds it, the I/O
 * thread leaves the socket to that call, which kicks it when it is done.
 * `amu` guards the asynchronous queues and the hooks, `evmu` the event
 * queue; both are held only briefly, never around I/O.  Order: mu, then
 * amu, then evmu.  The I/O thread holds none while it sleeps or runs a
 * callback or a hook.
 */
#ifndef STRAWI_REG_CLIENT_INT_H
#define STRAWI_REG_CLIENT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <straw/registry.h>
#include <straw/term.h>

#include "client.h"
#include "msg.h"
#include "rundir.h"

#define REG_CALL_TIMEOUT_MS 10000 /* a call waits this long for strawd */
#define REG_RECONNECT_MS \
	3000                     /* a call waits this long for strawd to
                                      come back */
#define REG_ASYNC_WINDOW    4096 /* pipelined writes awaiting their ack */
#define REG_ASYNC_BATCH     (32 * 1024)  /* bytes queued before a send */
#define REG_EVENT_QUEUE_MAX 65536        /* events kept for the application */
#define REG_RECV_TIMEOUT_NS 1000000000LL /* SO_RCVTIMEO of the socket */
#define REG_CLOSE_FLUSH_MS  1000 /* straw_reg_close sends queued requests */
#define REG_RETRY_MS        100  /* reconnection attempts when no inotify */

/* Request ids of asynchronous requests have this bit set (the others
 * count from 1), so that a reply finds its kind without a search. */
#define REG_ASYNC_ID_BIT (UINT64_C(1) << 62)

/* Kinds of asynchronous requests. */
enum reg_async_kind {
	REG_ASYNC_PLAIN,      /* write, rm, lookup: resent after a loss */
	REG_ASYNC_REGISTER,   /* register: also records the name */
	REG_ASYNC_UNREGISTER, /* unregister: also forgets the name */
	REG_ASYNC_CALL,       /* extension request: not resent */
};

/* One asynchronous request (client.h).  Everything its answer needs was
 * allocated with it. */
struct reg_async {
	struct reg_async *next;     /* queue link */
	uint64_t id;                /* request id (REG_ASYNC_ID_BIT set) */
	int kind;                   /* enum reg_async_kind */
	int64_t deadline;           /* ns; INT64_MAX: none */
	reg_async_fn fn;            /* completion, or NULL */
	void *arg;                  /* passed back */
	struct reg_client_rec *rec; /* (un)register: the name, kept */
	int fds[REG_MAX_FDS];       /* to send (owned duplicates) */
	size_t nfds;                /* their number */
	int rc;                     /* result */
	int rfds[REG_MAX_FDS];      /* received with the answer */
	size_t nrfds;               /* their number */
	size_t reply_max;           /* room at reply */
	size_t reply_len;           /* bytes of the answer's value there */
	uint8_t *reply;             /* version byte, then the value */
	size_t frame_len;           /* bytes of frame */
	uint8_t frame[];            /* the framed request, then the reply */
};

/* A reconnection hook (client.h). */
struct reg_client_hook {
	struct reg_client_hook *next;        /* later hook */
	void (*fn)(straw_reg *r, void *arg); /* the hook */
	void *arg;                           /* passed back */
	uint64_t ran_gen;                    /* connection it last ran for */
};

struct reg_client_event {
	struct reg_client_event *next; /* later event */
	uint32_t watch;                /* watch id */
	unsigned flags;                /* STRAW_REG_EVENT_* */
	size_t len;                    /* bytes of path */
	char path[];                   /* NUL-terminated */
};

/* A watch or a registered name to restore after a reconnection. */
struct reg_client_rec {
	struct reg_client_rec *next; /* next record */
	uint32_t num;                /* watch id or process id */
	char text[];                 /* watched path or name */
};

struct straw_reg {
	pthread_mutex_t mu;               /* calls and socket I/O */
	pthread_mutex_t evmu;             /* the event queue */
	char dir[REG_DIR_MAX + 1];        /* runtime directory */
	char sock_path[REG_DIR_MAX + 32]; /* dir/strawd.sock */
	int autostart;                    /* start strawd when none runs */
	int fd;                           /* connected socket, -1 when down */
	_Atomic uint64_t gen;             /* connections made so far */
	int epfd;                         /* the watch fd: fd and evfd */
	int evfd;                         /* readable while events are queued */
	int kickfd;                       /* wakes the monitor thread */
	int stopping;                     /* straw_reg_close has begun */
	pthread_t monitor;                /* the I/O thread (client_io.c) */
	int monitor_started;              /* it is running */
	_Atomic int calls;                /* callers holding or awaiting mu */
	_Atomic int io_wants;             /* the I/O thread awaits mu */
	_Atomic int io_reads;             /* the I/O thread reads the socket */
	int64_t next_spawn;               /* no autostart before this time */
	uint64_t next_req;                /* last request id used */
	straw_builder b;                  /* scratch builder */
	straw_buf out;                    /* frames not sent yet (pipelined) */
	straw_buf req;                    /* the current request's frame */
	straw_buf hreq;                   /* a handshake request's frame */
	uint8_t *rbuf;                    /* receive buffer, REG_MAX_PACKET */
	uint32_t async_outstanding;      /* pipelined writes not acknowledged */
	uint64_t async_first;            /* lowest request id still pipelined */
	int async_err;                   /* first error of pipelined writes */
	int refused;                     /* code strawd gave when it refused
	                                    this connection, or 0 */
	uint32_t server_pid;             /* strawd's pid from the handshake */
	uint64_t machine;                /* machine id from the handshake */
	uint32_t container;              /* joined container id, or 0 */
	char *container_name;            /* joined name, or NULL */
	struct reg_client_rec *names;    /* registered process names */
	struct reg_client_rec *watches;  /* watches */
	uint32_t next_watch;             /* last watch id used */
	struct reg_client_event *evhead; /* queued events */
	struct reg_client_event *evtail; /* last of them */
	size_t nev;                      /* their number */
	int ev_overflow;                 /* events were dropped: resync due */
	uint64_t hook_gen; /* the connection the hooks last ran for */
	/* Asynchronous requests and hooks, under amu (client_async.c). */
	pthread_mutex_t amu;             /* the queues and the hooks */
	pthread_cond_t acv;              /* a hook finished running */
	struct reg_async *aq_head;       /* submitted, not sent (FIFO) */
	struct reg_async *aq_tail;       /* its last */
	struct reg_async *af_head;       /* sent, unanswered (send order) */
	struct reg_async *af_tail;       /* its last */
	struct reg_async *ad_head;       /* answered, callback not run */
	struct reg_async *ad_tail;       /* its last */
	uint32_t a_pending;              /* queued or in flight */
	int a_closing;                   /* no more submissions */
	int a_blocked;                   /* the socket was full: POLLOUT */
	int64_t a_next_deadline;         /* earliest deadline, or more */
	struct reg_client_hook *hooks;   /* reconnection hooks */
	struct reg_client_hook *hook_on; /* the hook running now */
	uint8_t *abuf;                   /* I/O thread's packet to send */
	/* The reply the current call waits for, filled by the dispatcher. */
	uint64_t want_id;      /* request id waited for */
	int got_reply;         /* it arrived */
	struct reg_in reply;   /* it (value points into rbuf) */
	int rfds[REG_MAX_FDS]; /* fds that came with it */
	size_t nrfds;          /* their number */
};

/* 0 if path (name: a container or process name) is acceptable, else
 * STRAW_EBADPATH (-EINVAL).  client.c. */
int reg_client_path_ok(const char *path);
int reg_client_name_ok(const char *name);

/* A record of a watch or a name (client.c): new one, NULL without memory;
 * unlinks the one with text (text NULL: with num) from list, or NULL. */
struct reg_client_rec *reg_client_rec_new(const char *text, uint32_t num);
struct reg_client_rec *reg_client_rec_unlink(struct reg_client_rec **list,
                                             const char *text, uint32_t num);

/* Takes mu as a caller (a call, close) and releases it; the release
 * wakes the I/O thread if it waited for mu.  client_io.c. */
void reg_client_lock(straw_reg *r);
void reg_client_unlock(straw_reg *r);

/* client_conn.c */
int reg_client_open(straw_reg *r, int64_t deadline);
void reg_client_teardown(straw_reg *r);
/* Makes sure r is connected (reconnecting until deadline).  Under mu. */
int reg_client_ensure(straw_reg *r, int64_t deadline);
/* Sends r->out (pipelined frames) and then req (may be NULL) with fds.
 * Under mu. */
int reg_client_send(straw_reg *r, const straw_buf *req, const int *fds,
                    size_t nfds);
/*
 * Sends r->req (after any pipelined frames) and waits for the reply to id;
 * when strawd went away meanwhile and retry is set, reconnects and sends it
 * again once.  On success r->reply holds the reply (its value valid until
 * the next I/O on r).  Under mu.
 */
int reg_client_call_locked(straw_reg *r, uint64_t id, int retry, const int *fds,
                           size_t nfds, int64_t deadline);
/* Reads and dispatches whatever has arrived, without waiting.  Under mu. */
int reg_client_pump(straw_reg *r);
/* Waits until every pipelined write is acknowledged.  Under mu. */
int reg_client_drain(straw_reg *r, int64_t deadline);
/* Queues an event for the application (takes evmu). */
void reg_client_push_event(straw_reg *r, uint32_t watch, unsigned flags,
                           const char *path, size_t len);
/* Closes any fds a reply brought that nobody took.  Under mu. */
void reg_client_drop_rfds(straw_reg *r);
/* One connection attempt (no waiting between attempts); see
 * reg_client_ensure.  Under mu. */
int reg_client_attempt(straw_reg *r, int64_t deadline);
/* Drops the connection (anyone who saw it fail).  Under mu. */
void reg_client_disconnect(straw_reg *r);
/* Writes one to an eventfd. */
void reg_client_kick(int fd);
/* Watches the runtime directory for a new socket (inotify fd or -1). */
int reg_client_watch_dir(straw_reg *r);

/* client_io.c: the I/O thread. */
int reg_client_io_start(straw_reg *r);
/* Ends it: it sends what is queued (REG_CLOSE_FLUSH_MS at most), cancels
 * the rest and runs the last callbacks first.  The closing thread. */
void reg_client_io_stop(straw_reg *r);

/* client_async.c, for the dispatcher and the I/O thread. */
/* Completes the asynchronous request id with the answer in (fds: nfds
 * received with it, taken over).  Under mu. */
void reg_async_answer(straw_reg *r, const struct reg_in *in, int *fds,
                      size_t nfds);
/* After a lost connection: in-flight requests go back to the head of the
 * queue, or complete with -ECONNRESET (extension requests).  Under mu. */
void reg_async_requeue(straw_reg *r);
/* Sends queued requests without blocking: 0, or -ECONNRESET (r is then
 * disconnected).  Sets a_blocked when the socket is full.  Under mu. */
int reg_async_send(straw_reg *r);
/* Completes requests whose deadline passed with -ETIMEDOUT; returns the
 * earliest deadline left (INT64_MAX: none). */
int64_t reg_async_expire(straw_reg *r, int64_t now);
/* Runs pending callbacks (no lock held).  Returns how many ran. */
int reg_async_run_callbacks(straw_reg *r);
/* Completes every queued and in-flight request with rc. */
void reg_async_cancel_all(straw_reg *r, int rc);
/* Whether requests wait to be sent (answered 0) or callbacks wait to run
 * (answered 1). */
int reg_async_have(straw_reg *r, int answered);
/* Runs the hooks due for connection gen (no lock held). */
void reg_client_run_hooks(straw_reg *r, uint64_t gen);
/* Frees hooks and anything left (straw_reg_close, after the I/O thread
 * ended). */
void reg_async_fini(straw_reg *r);

#endif /* STRAWI_REG_CLIENT_INT_H */
