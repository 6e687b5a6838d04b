/*
 * src/proc/msg.h - the message object behind straw_msg and the mailbox
 * queue it travels through.
 *
 * A message is one allocation: a header and the encoded term.  Its `next`
 * field links it into at most one queue at a time (a mailbox); the queue
 * owns one reference.  A message whose caller's reference is not the only
 * one (it may sit in another queue, or be held elsewhere) is queued through
 * an alias: a small header pointing at the original's bytes and holding a
 * reference to it.  So a send never copies the term.
 */
#ifndef STRAW_PROC_MSG_H
#define STRAW_PROC_MSG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <straw/straw.h>

struct proc;

struct straw_msg {
	struct straw_msg *next;  /* queue link; owned by the queue holding it
	                           (while the message is owned instead, the
	                           next one on its owner's list) */
	_Atomic uint32_t refs;   /* references */
	uint8_t kind;            /* enum proc_msg_kind */
	uint8_t small;           /* has PROC_MSG_SMALL bytes: cacheable */
	uint16_t unused_;        /* (padding) */
	size_t len;              /* bytes at data */
	const uint8_t *data;     /* the term, version byte first */
	struct straw_msg *base;  /* the aliased message (ALIAS), or NULL */
	struct proc *owner;      /* the process holding `owned` of the
	                           references, or NULL (see below) */
	struct straw_msg *oprev; /* the previous one on the owner's list */
	uint32_t owned;          /* references the owner holds */
	uint8_t bytes[];         /* the term (INLINE) */
};

/*
 * Ownership: a process owns the references it takes on the container's
 * scheduler thread - a message it received, made, or took one more
 * reference to - and when it ends, those it still holds are released
 * (proc_msgs_release), so a crash leaks no message.  The owner and its
 * list are touched only on the scheduler thread; a message in a queue is
 * never owned (a send hands the sender's reference over, or queues an
 * alias), so the receiver can own what it takes.  A release on the
 * scheduler thread of an owned message is taken as one of the owner's
 * references (by whichever process releases it).  Attached threads own
 * nothing.
 */

enum proc_msg_kind {
	PROC_MSG_INLINE = 0, /* data == bytes */
	PROC_MSG_TAKEN = 1,  /* data is a straw_malloc buffer it owns */
	PROC_MSG_ALIAS = 2,  /* data belongs to base */
};

/* Messages with up to this many bytes share one allocation size and are
 * recycled through a per-thread cache instead of malloc and free. */
#define PROC_MSG_SMALL 48

/* Frees the calling thread's cache of small messages (also done when the
 * thread exits). */
void proc_msg_cache_flush(void);

/* Makes a message of len bytes, to be filled at m->bytes (unchecked), with
 * one reference.  NULL when out of memory. */
straw_msg *proc_msg_alloc(size_t len);

/* A message holding the atom (at most 255 bytes), or NULL (too long, or
 * out of memory): straw_msg_atom for the runtime's own reasons. */
straw_msg *proc_msg_atom(const char *atom);

/*
 * Returns a message that can be linked into a queue and carries one
 * reference for it: m itself when the caller's reference is the only one
 * (taking one more reference unless consume), else a new alias (and with
 * consume, the caller's reference is released).  NULL when out of memory
 * (with consume the reference is released then too).
 */
straw_msg *proc_msg_for_queue(straw_msg *m, int consume);

/* A FIFO of messages used by one thread at a time: a mailbox. */
struct proc_fifo {
	straw_msg *head;  /* first message or NULL */
	straw_msg **tail; /* &last->next, or &head when empty */
	size_t len;       /* messages queued */
	size_t bytes;     /* their encoded bytes */
};

static inline void
proc_fifo_init(struct proc_fifo *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->len = 0;
	q->bytes = 0;
}

static inline void
proc_fifo_push(struct proc_fifo *q, straw_msg *m)
{
	m->next = NULL;
	*q->tail = m;
	q->tail = &m->next;
	q->len++;
	q->bytes += m->len;
}

/* Unlinks the message *link points at (link is &head or &prev->next). */
static inline straw_msg *
proc_fifo_remove(struct proc_fifo *q, straw_msg **link)
{
	straw_msg *m = *link;

	*link = m->next;
	if (q->tail == &m->next)
		q->tail = link;
	m->next = NULL;
	q->len--;
	q->bytes -= m->len;
	return m;
}

/* Releases every message and empties q. */
void proc_fifo_clear(struct proc_fifo *q);

#endif /* STRAW_PROC_MSG_H */
