/*
 * straw/registry.h - strawd's registry: a per-machine tree of keys and byte
 * values with permissions, watches and transactions; containers joining the
 * machine; registered process names; the machine id.
 *
 * A straw_reg is one connection to the strawd serving a runtime directory
 * (see docs/registry-protocol.md).  Every call on it is thread-safe (calls
 * are serialised on the connection) and blocks until strawd answers, except
 * straw_reg_write_async.  When strawd goes away (killed, restarted) the
 * connection notices by itself (its own I/O thread watches the socket for
 * a hang-up), reconnects - starting strawd again unless autostart is off -
 * and restores its container id, its registered names and its watches
 * within a second; calls made meanwhile wait for that.  (libstraw's own
 * layers also use an asynchronous path on the same connection that never
 * waits; see docs/registry-protocol.md.)
 * A straw_reg belongs to the process that connected: a child made by fork
 * connects anew.
 */
#ifndef STRAW_REGISTRY_H
#define STRAW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <straw/err.h>
#include <straw/export.h>
#include <straw/pid.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct straw_reg straw_reg;

/* straw_reg_connect flags. */
#define STRAW_REG_NO_AUTOSTART \
	0x1 /* never start strawd (as STRAW_AUTOSTART=0) */

/*
 * Connects to the strawd serving dir (NULL: $STRAW_DIR, else /run/straw for
 * root, else $XDG_RUNTIME_DIR/straw, else /tmp/straw-$UID).  When none runs
 * and autostart is on (the default; STRAW_AUTOSTART=0 or
 * STRAW_REG_NO_AUTOSTART turn it off), starts one detached - the strawd
 * binary named by $STRAW_STRAWD, else the one next to the running program,
 * else the first in $PATH - and waits (up to 5 s) until it serves.
 * Returns 0 with *out (free with straw_reg_close), STRAW_ENODAEMON when
 * none runs and autostart is off or failed, STRAW_EPROTOCOL for a strawd of
 * another protocol version, or -errno.  Blocks.  Any thread.
 */
STRAW_API int straw_reg_connect(straw_reg **out, const char *dir,
                                unsigned flags);

/* Closes the connection (a joined container leaves the machine: its entries
 * go away).  Accepts NULL.  No call on r may be running or follow. */
STRAW_API void straw_reg_close(straw_reg *r);

/* A message telling how to start strawd, for STRAW_ENODAEMON (static). */
STRAW_API const char *straw_reg_start_hint(void);

/*
 * Reads a value.  Returns 0 with *val (straw_malloc'd, NUL-terminated past
 * *len; free with straw_free) and *len, or -ENOENT, -EACCES,
 * STRAW_EBADPATH, ...  Nothing is allocated on failure.
 */
STRAW_API int straw_reg_read(straw_reg *r, const char *path, char **val,
                             size_t *len);

/* Sets a value, creating the node and its missing parents (the caller then
 * owns them; by default only their owner may read or write them).  Returns
 * 0, -EACCES, STRAW_EQUOTA (too many nodes), STRAW_EVALUESIZE,
 * STRAW_EBADPATH, ... */
STRAW_API int straw_reg_write(straw_reg *r, const char *path, const void *val,
                              size_t len);

/*
 * Pipelined write: queues the request and returns at once (0, or an error
 * for an invalid path or when a previous pipelined write failed); requests
 * are sent in batches and acknowledged later.  straw_reg_sync sends what is
 * queued, waits for every acknowledgement and returns the first error of
 * the pipelined writes since the last sync (then clears it).  Any other call
 * on r syncs first, so order is kept.
 */
STRAW_API int straw_reg_write_async(straw_reg *r, const char *path,
                                    const void *val, size_t len);
STRAW_API int straw_reg_sync(straw_reg *r);

/* Creates a node (and parents) with an empty value; 0 if it exists. */
STRAW_API int straw_reg_mkdir(straw_reg *r, const char *path);

/* Removes a node and everything below it.  -ENOENT, -EACCES, -EINVAL for
 * "/". */
STRAW_API int straw_reg_rm(straw_reg *r, const char *path);

/*
 * Lists the names of a node's children, in creation order.  Returns 0 with
 * *names (an array of *n NUL-terminated strings; free it with
 * straw_reg_free_names), or an error (nothing allocated).
 */
STRAW_API int straw_reg_ls(straw_reg *r, const char *path, char ***names,
                           size_t *n);
STRAW_API void straw_reg_free_names(char **names, size_t n);

/* In a read or write set: every uid. */
#define STRAW_REG_ANYONE  0xffffffffu
#define STRAW_REG_ACL_MAX 16

/* A node's permissions: its owner and root may do everything; others may
 * read (write) it if their uid, or STRAW_REG_ANYONE, is in read (write). */
typedef struct straw_reg_perms {
	uint32_t owner;                    /* owner uid */
	uint32_t nread;                    /* used entries of read */
	uint32_t nwrite;                   /* used entries of write */
	uint32_t read[STRAW_REG_ACL_MAX];  /* uids allowed to read */
	uint32_t write[STRAW_REG_ACL_MAX]; /* uids allowed to write */
} straw_reg_perms;

/* Gets a node's permissions and number of children (either pointer may be
 * NULL).  Needs read permission. */
STRAW_API int straw_reg_get_perms(straw_reg *r, const char *path,
                                  straw_reg_perms *perms, size_t *nchildren);

/* Sets a node's permissions: its owner or root may; only root may change
 * the owner.  -EINVAL for more than STRAW_REG_ACL_MAX entries. */
STRAW_API int straw_reg_set_perms(straw_reg *r, const char *path,
                                  const straw_reg_perms *perms);

/*
 * Transactions: operations collected on the client and applied by strawd
 * atomically, all or none.  A check makes the commit fail with
 * STRAW_ETXNCONFLICT unless the node's value is as given (val NULL: unless
 * the node does not exist).  straw_reg_txn_commit frees t and returns 0 or
 * the error of the first operation that failed (nothing is then applied).
 * straw_reg_txn_abort frees t (accepts NULL).  The op calls return 0 or
 * -ENOMEM / STRAW_EBADPATH (t is then still usable).
 */
typedef struct straw_reg_txn straw_reg_txn;
STRAW_API int straw_reg_txn_begin(straw_reg *r, straw_reg_txn **t);
STRAW_API int straw_reg_txn_write(straw_reg_txn *t, const char *path,
                                  const void *val, size_t len);
STRAW_API int straw_reg_txn_mkdir(straw_reg_txn *t, const char *path);
STRAW_API int straw_reg_txn_rm(straw_reg_txn *t, const char *path);
STRAW_API int straw_reg_txn_check(straw_reg_txn *t, const char *path,
                                  const void *val, size_t len);
STRAW_API int straw_reg_txn_commit(straw_reg_txn *t);
STRAW_API void straw_reg_txn_abort(straw_reg_txn *t);

/*
 * Watches: every change (write, create, removal, new permissions) of the
 * node at path or below it is reported as one event naming the changed
 * path, in the order strawd applied them, none missed while connected.
 * straw_reg_watch returns 0 with *id.  Needs read permission on path if it
 * exists.  STRAW_EQUOTA past the connection's watch quota.
 */
STRAW_API int straw_reg_watch(straw_reg *r, const char *path, uint32_t *id);
STRAW_API int straw_reg_unwatch(straw_reg *r, uint32_t id);

/* Event flag: the connection was re-established; changes may have been
 * missed, re-read what the watch covers (path is the watched path). */
#define STRAW_REG_EVENT_RESYNC 0x1

typedef struct straw_reg_event {
	uint32_t watch;  /* the id straw_reg_watch gave */
	unsigned flags;  /* STRAW_REG_EVENT_* */
	char path[1025]; /* the changed path, NUL-terminated */
} straw_reg_event;

/*
 * Takes the next event, waiting up to timeout_ms (< 0: forever, 0: not at
 * all).  Returns 0, -ETIMEDOUT, or an error.  Any thread.
 */
STRAW_API int straw_reg_next_event(straw_reg *r, straw_reg_event *ev,
                                   int timeout_ms);

/* An fd that poll(2) reports readable while events may be waiting (stable
 * across reconnections; owned by r). */
STRAW_API int straw_reg_watch_fd(straw_reg *r);

/*
 * Joins the machine as a container named name (1..255 printable bytes, no
 * '/', not all digits; unique on the machine).  Returns 0 with *id, a
 * 32-bit id never reused during this boot, STRAW_ENAMETAKEN, -EINVAL,
 * -EALREADY if r already joined.  strawd removes the container's entries
 * when its process exits.
 */
STRAW_API int straw_reg_join(straw_reg *r, const char *name, uint32_t *id);

/* The container id r joined as, or 0. */
STRAW_API uint32_t straw_reg_container_id(straw_reg *r);

/* Registers (unregisters) a process name of the joined container.
 * STRAW_ENAMETAKEN, STRAW_ENONAME (unregister: not registered),
 * STRAW_ENOTJOINED, -EINVAL. */
STRAW_API int straw_reg_register(straw_reg *r, const char *name,
                                 uint32_t process);
STRAW_API int straw_reg_unregister(straw_reg *r, const char *name);

/* Looks a registered name up by container name or decimal id: 0 with
 * *process, STRAW_ENONAME when the name is not registered there,
 * STRAW_ENOCONTAINER when no such container is joined. */
STRAW_API int straw_reg_lookup(straw_reg *r, const char *container,
                               const char *name, uint32_t *process);

/* What strawd reports about itself. */
typedef struct straw_reg_status {
	uint32_t pid;         /* strawd's pid */
	uint64_t machine;     /* machine id */
	uint32_t containers;  /* joined containers */
	uint32_t nodes;       /* registry nodes */
	uint32_t connections; /* open connections */
	uint32_t watches;     /* watches set */
	uint64_t uptime_ms;   /* since strawd started */
	uint32_t next_id;     /* the container id it will assign next */
} straw_reg_status;

STRAW_API int straw_reg_status_get(straw_reg *r, straw_reg_status *st);

/* straw_machine_id(), the machine's 64-bit id, is in <straw/pid.h>. */

#ifdef __cplusplus
}
#endif
#endif /* STRAW_REGISTRY_H */
