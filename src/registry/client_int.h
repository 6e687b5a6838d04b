/*
 * src/registry/client_int.h - the registry client's state, shared by
 * client_conn.c (connecting, autostart, sending and receiving, reconnection,
 * the event queue) and client.c (the operations).
 *
 * Locking: `mu` serialises every call and all socket I/O: whoever holds it
 * may read the socket and dispatches what arrives (replies to the call in
 * progress or to pipelined writes, events into the queue).  `evmu` guards
 * the event queue only, so a thread can take events while another waits on
 * strawd.  The monitor thread holds neither while it sleeps.
 */
#ifndef STRAWI_REG_CLIENT_INT_H
#define STRAWI_REG_CLIENT_INT_H

#include <pthread.h>
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
	uint64_t gen;                     /* connections made so far */
	int epfd;                         /* the watch fd: fd and evfd */
	int evfd;                         /* readable while events are queued */
	int kickfd;                       /* wakes the monitor thread */
	int stopping;                     /* straw_reg_close has begun */
	pthread_t monitor;                /* notices hang-ups, reconnects */
	int monitor_started;              /* monitor is running */
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
	void (*on_reconnect)(straw_reg *r, void *arg); /* higher layer hook */
	void *on_reconnect_arg;                        /* passed back */
	uint64_t hook_gen; /* the connection it last ran for (gen) */
	/* The reply the current call waits for, filled by the dispatcher. */
	uint64_t want_id;      /* request id waited for */
	int got_reply;         /* it arrived */
	struct reg_in reply;   /* it (value points into rbuf) */
	int rfds[REG_MAX_FDS]; /* fds that came with it */
	size_t nrfds;          /* their number */
};

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

#endif /* STRAWI_REG_CLIENT_INT_H */
