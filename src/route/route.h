/*
 * src/route/route.h - the router (the seeds' strawman): the internal header
 * of src/route.  One router per container joined to strawd: it registers
 * its ops table with the process layer (src/proc/router.h) and carries
 * messages, links, monitors and exit signals to the other containers of
 * the machine over straws - one reliable-mode tube per pair of containers,
 * used both ways, opened on the first need and kept while both live.
 *
 * Threads: everything here runs on the container's scheduler thread - the
 * ops (in the calling process, or in the scheduler context), the fd
 * watches, the tasks posted by the registry connection's I/O thread when
 * an asynchronous request completes.  An attached thread's send is posted
 * to the scheduler thread as a task and the thread waits for it.
 *
 * Sending: a straw has one queue of items to write (messages, signals,
 * in the order they were sent); a sender writes its item itself when the
 * queue is empty and the tube has room, else the item is queued and the
 * sender (a process) parks until the flusher - run when the tube's write
 * fd says there is room - wrote it.  So the only buffers are the tube's
 * rings, the queued items (a reference to each waiting sender's message,
 * and small signal frames), and one reassembly buffer per tube read.
 * docs/straws.md describes the whole design and the frames.
 */
#ifndef STRAWI_ROUTE_H
#define STRAWI_ROUTE_H

#include <stdatomic.h>
#include <stdint.h>

#include <straw/straw.h>
#include <straw/tube.h>

#include "proc/container_ext.h"
#include "proc/map.h"
#include "proc/router.h"
#include "route/frame.h"
#include "sched/sched.h"

/* The service name a straw's tube is opened for (tube accept filter). */
#define ROUTE_SERVICE "straw"

/* How long an open waits for the peer to accept (then the peer counts as
 * unreachable: its messages are dropped, links and monitors see
 * noconnection). */
#define ROUTE_OPEN_TIMEOUT_MS 10000

/* Packets one tube is read for before the others get their turn. */
#define ROUTE_RX_BUDGET 64

/* Frames one flush writes before the others get their turn. */
#define ROUTE_TX_BUDGET 256

/* Dead peers remembered (so that sends to them are dropped at once). */
#define ROUTE_DEAD_MAX 4096

struct route;
struct straw;

/* One item of a straw's send queue. */
struct route_out {
	struct route_out *next;  /* later item */
	uint8_t type;            /* frame type of its first frame */
	uint8_t kind;            /* ROUTE_EXIT: the signal's kind */
	uint8_t started;         /* its first frame is written */
	uint32_t to, from;       /* process ids */
	uint64_t ref;            /* MONITOR, DEMONITOR, DOWN */
	straw_msg *term;         /* the message or reason, or NULL */
	size_t off;              /* bytes of term written so far */
	char *name;              /* ROUTE_MSG_NAME: the name (owned) */
	struct strawi_waiter *w; /* the sender waiting for it, or NULL */
	int rc;                  /* its result, for w */
};

/* One tube read (normally one per straw; two when both sides opened one
 * at the same time). */
struct route_rx {
	struct straw *s;           /* whose */
	straw_tube *t;             /* the tube */
	struct strawi_watch watch; /* its readiness */
	int watching;              /* watch is in the reactor */
	int hello;                 /* the peer's HELLO came */
	struct strawi_task more;   /* reads on after a full budget */
	int more_posted;           /* more is queued */
	/* the term in flight */
	int active;         /* a term is being put together */
	uint8_t type, kind; /* its frame */
	uint32_t to, from;  /* ... */
	uint64_t ref;       /* ... */
	char name[256];     /* ROUTE_MSG_NAME */
	uint8_t *buf;       /* its bytes (total) */
	size_t total, got;  /* its length, bytes so far */
};

enum straw_state {
	STRAW_OPENING = 1, /* the open is under way; sends queue */
	STRAW_OPEN = 2,    /* the tube is there */
	STRAW_DEAD = 3,    /* the peer is gone (being torn down) */
};

/* The link with one other container. */
struct straw {
	struct route *r;            /* owner */
	uint32_t peer;              /* its container id */
	int state;                  /* enum straw_state */
	straw_tube *tx;             /* the tube this side sends on */
	struct route_rx *rx[2];     /* tubes read */
	struct route_out *qhead;    /* send queue */
	struct route_out **qtail;   /* ... */
	size_t qlen;                /* items queued */
	struct strawi_watch wwatch; /* write readiness of tx */
	int wwatching;              /* wwatch is in the reactor */
	uint64_t peer_max;          /* the peer's limit (HELLO), 0: unknown */
	uint32_t next_tid;          /* tube id of the next open */
	int64_t opened_at;          /* CLOCK_MONOTONIC ns */
	int err;                    /* why it died (0: the peer went) */
	/* counters, for /straws and `straw straws` */
	uint64_t msgs_out, bytes_out, msgs_in, bytes_in;
	uint64_t waits;      /* times a sender waited for room */
	uint64_t dropped;    /* messages dropped: the peer was gone */
	int published;       /* /straws/<a>-<b> written since the last change */
	struct straw *dnext; /* on the router's list of dirty straws */
	int dirty;           /* on it */
	struct strawi_task gone; /* the end's second half (straw.c) */
};

/* A container name resolved to its id, for sends to {Container, Name}. */
struct route_cname {
	struct route_cname *next; /* same hash */
	uint32_t id;              /* its container id */
	char name[];              /* NUL-terminated */
};

struct route {
	straw_container *c;     /* the container */
	straw_reg *reg;         /* its registry connection */
	uint32_t self;          /* its id */
	uint64_t machine;       /* this machine */
	size_t max_message;     /* its limit */
	struct proc_map straws; /* peer id + 1 -> struct straw */
	struct proc_map dead;   /* peer id + 1 -> (void *)(err or 1) */
	uint32_t dead_ring[ROUTE_DEAD_MAX]; /* to forget the oldest */
	uint32_t dead_next;                 /* next slot of dead_ring */
	struct proc_map cnames;             /* hash -> struct route_cname */
	int accepting;                      /* an accept is out */
	int stopped;                        /* stop ran: completions dispose */
	_Atomic int refs;              /* 1 for the container, 1 per request */
	struct straw *dirty;           /* straws to publish */
	struct strawi_timer pub_timer; /* publishes the dirty straws */
	int pub_armed;                 /* pub_timer is pending */
	uint64_t dropped;              /* messages to gone containers */
};

/* ---- route.c ----------------------------------------------------------- */

/* The container's router extension (src/runtime uses it). */
extern const struct strawi_container_ext strawi_route_ext;

/* Takes (drops) a reference of r; the last frees it.  Any thread. */
void route_hold(struct route *r);
void route_release(struct route *r);

/* The straw to peer, made (and opened) if needed; NULL with *err when the
 * peer is known to be gone (*err 0: drop silently) or out of memory. */
struct straw *route_straw_get(struct route *r, uint32_t peer, int *err);

/* The straw to peer if there is one. */
struct straw *route_straw_find(struct route *r, uint32_t peer);

/* Remembers that peer is gone (err: what sends to it return; 0 drop). */
void route_dead_add(struct route *r, uint32_t peer, int err);

/* s died: off the table (and the dirty list, and the registry), peer
 * remembered as gone with err. */
void route_straw_forget(struct route *r, struct straw *s, int err);

/* Marks s for the next publication in the registry. */
void route_dirty(struct straw *s);

/* ---- names.c: containers by name, {Container, Name} ------------------------ */

void route_names_init(struct route *r);
void route_names_fini(struct route *r);
/* Forgets the names that led to peer (its straw died: a new container
 * may take the name). */
void route_names_forget(struct route *r, uint32_t peer);
/*
 * The id of container (a decimal id or a name): 0 and *id, or
 * STRAW_ENOCONTAINER, -ETIMEDOUT.  A name not seen before is read from
 * the registry (/names/<name>): the calling process parks, an attached
 * thread blocks, until deadline.
 */
int route_container_id(struct route *r, const char *container, uint32_t *id,
                       int64_t deadline);
/* The router op whereis (src/proc/router.h). */
int route_whereis(void *rt, const char *container, const char *name,
                  straw_pid *out, int64_t deadline);

/* ---- publish.c: /straws/<self>-<peer> in the registry -------------------- */

void route_publish_init(struct route *r);
/* Writes the dirty straws at once and cancels the timer (no process is
 * left, or the router stops). */
void route_publish_idle(struct route *r);
/* Takes s off the dirty list. */
void route_undirty(struct straw *s);
/* Removes the registry entry of the straw to peer. */
void route_unpublish(struct route *r, uint32_t peer);

/* ---- straw.c ----------------------------------------------------------- */

/* A new straw to peer (OPENING, nothing sent yet); NULL if out of memory. */
struct straw *straw_new(struct route *r, uint32_t peer);

/* Starts opening s's tube (an asynchronous open). 0 or a negative code. */
int straw_open(struct straw *s);

/* A tube the peer opened was accepted: s reads it (and sends on it when it
 * has no tube of its own yet). */
void straw_accepted(struct straw *s, straw_tube *t);

/* The open of s's tube completed. */
void straw_opened(struct straw *s, int rc, straw_tube *t);

/* Queues out (owned by s from then on) and writes what it can. */
void straw_queue(struct straw *s, struct route_out *out);

/*
 * Writes out at once if the queue is empty and it fits: returns 1 (written;
 * out is the caller's still), 0 (not written: queue it), or a negative
 * code (the straw is dead).
 */
int straw_try_direct(struct straw *s, struct route_out *out);

/* The peer is gone (err: why; 0 the peer went away): fails the queue,
 * tells the process layer (noconnection), frees s. */
void straw_kill(struct straw *s, int err);

/* Frees an item (its term reference, its name); completes its waiter with
 * rc if it has one. */
void route_out_done(struct route_out *out, int rc);

#endif /* STRAWI_ROUTE_H */
