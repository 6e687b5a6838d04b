/* Messages: immutable, reference-counted ETF buffers. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <straw/term.h>

#include "base/base.h"
#include "base/log.h"
#include "proc/etf_proc.h"
#include "proc/msg.h"
#include "proc/proc.h"

/*
 * The per-thread cache of small messages: most messages are a few bytes,
 * made and freed on the container's scheduler thread, so recycling them
 * there saves a malloc and a free per message.  Bounded; emptied when the
 * thread exits (a pthread key destructor) or on request.
 */
#define CACHE_MAX 4096

static __thread straw_msg *cache; /* free small messages */
static __thread unsigned cache_n; /* how many */
static pthread_key_t cache_key;   /* runs the flush at thread exit */
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void
cache_destroy(void *unused)
{
	(void)unused;
	proc_msg_cache_flush();
}

static void
cache_key_init(void)
{
	if (pthread_key_create(&cache_key, cache_destroy) != 0)
		STRAWI_PANIC("pthread_key_create failed");
}

void
proc_msg_cache_flush(void)
{
	while (cache != NULL) {
		straw_msg *m = cache;
		cache = m->next;
		straw_free(m);
	}
	cache_n = 0;
}

static void
cache_put(straw_msg *m)
{
	if (cache_n == 0) {
		pthread_once(&cache_once, cache_key_init);
		pthread_setspecific(cache_key,
		                    &cache); /* nonzero: destructor */
	}
	m->next = cache;
	cache = m;
	cache_n++;
}

/* proc_msg_alloc, inlined into the constructors of this file. */
static inline straw_msg *
msg_alloc(size_t len)
{
	straw_msg *m;

	if (len <= PROC_MSG_SMALL) {
		m = cache;
		if (m != NULL) {
			cache = m->next;
			cache_n--;
		} else {
			m = straw_malloc(sizeof(*m) + PROC_MSG_SMALL);
			if (m == NULL)
				return NULL;
		}
		m->small = 1;
	} else {
		if (len > SIZE_MAX - sizeof(*m))
			return NULL;
		m = straw_malloc(sizeof(*m) + len);
		if (m == NULL)
			return NULL;
		m->small = 0;
	}
	m->next = NULL;
	atomic_init(&m->refs, 1);
	m->kind = PROC_MSG_INLINE;
	m->len = len;
	m->data = m->bytes;
	m->base = NULL;
	m->owner = NULL;
	m->owned = 0;
	return m;
}

straw_msg *
proc_msg_alloc(size_t len)
{
	return msg_alloc(len);
}

/* ---- ownership (see msg.h) ------------------------------------------- */

/*
 * A process holds most often one message at a time (it received it, or
 * made it to send it): that one sits in p->held_hot, set and cleared with
 * one store; the others are on the list p->held.
 */
static void
held_push(struct proc *p, straw_msg *m)
{
	m->oprev = NULL;
	m->next = p->held;
	if (p->held != NULL)
		p->held->oprev = m;
	p->held = m;
}

void
proc_msg_own_slow(struct proc *p, straw_msg *m)
{
	if (m->owner == p) {
		m->owned++;
		return;
	}
	if (m->owner != NULL)
		return; /* another process's: this reference is not tracked */
	m->owner = p;
	m->owned = 1;
	if (p->held_hot != NULL)
		held_push(p, p->held_hot);
	p->held_hot = m;
}

static inline void
msg_unlink(straw_msg *m)
{
	struct proc *p = m->owner;

	if (p->held_hot == m) {
		p->held_hot = NULL;
	} else {
		if (m->oprev != NULL)
			m->oprev->next = m->next;
		else
			p->held = m->next;
		if (m->next != NULL)
			m->next->oprev = m->oprev;
	}
	m->owner = NULL;
	m->owned = 0;
}

/* One owned reference of m is released (or handed over): scheduler
 * thread, m owned. */
static inline void
msg_disown_one(straw_msg *m)
{
	if (--m->owned == 0)
		msg_unlink(m);
}

/* Takes ownership of a message the calling process made. */
static inline straw_msg *
own_if_process(straw_msg *m)
{
	struct proc *p = proc_current();

	if (p != NULL)
		proc_msg_own(p, m);
	return m;
}

void
proc_msgs_release(struct proc *p)
{
	if (p->held_hot != NULL)
		held_push(p, p->held_hot);
	p->held_hot = NULL;
	while (p->held != NULL) {
		straw_msg *m = p->held;
		uint32_t n = m->owned;
		msg_unlink(m);
		while (n-- > 0)
			straw_msg_unref(m);
	}
}

static int
msg_check(const void *etf, size_t len)
{
	if (etf == NULL || len == 0)
		return -EINVAL;
	return straw_term_check(etf, len, NULL, NULL);
}

int
straw_msg_new(straw_msg **out, const void *etf, size_t len)
{
	straw_msg *m;
	int rc = msg_check(etf, len);

	if (rc < 0)
		return rc;
	m = msg_alloc(len);
	if (m == NULL)
		return -ENOMEM;
	memcpy(m->bytes, etf, len);
	*out = own_if_process(m);
	return 0;
}

int
straw_msg_take(straw_msg **out, uint8_t *etf, size_t len)
{
	straw_msg *m;
	int rc = msg_check(etf, len);

	if (rc < 0)
		goto fail;
	m = msg_alloc(0);
	if (m == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	m->kind = PROC_MSG_TAKEN;
	m->len = len;
	m->data = etf;
	*out = own_if_process(m);
	return 0;
fail:
	straw_free(etf);
	return rc;
}

straw_msg *
proc_msg_atom(const char *atom)
{
	size_t n = strlen(atom);
	straw_msg *m;

	if (n > 255)
		return NULL;
	m = msg_alloc(3 + n);
	if (m == NULL)
		return NULL;
	m->bytes[0] = 131;
	m->bytes[1] = ETF_SMALL_ATOM_UTF8;
	m->bytes[2] = (uint8_t)n;
	memcpy(m->bytes + 3, atom, n);
	return m;
}

int
straw_msg_atom(straw_msg **out, const char *atom)
{
	straw_msg *m;

	if (atom == NULL || strlen(atom) > 255)
		return STRAW_EBADATOM;
	m = proc_msg_atom(atom);
	if (m == NULL)
		return -ENOMEM;
	*out = own_if_process(m);
	return 0;
}

straw_msg *
straw_msg_ref(straw_msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	if (proc_tls_container != NULL && m->owner != NULL &&
	    m->owner == proc_current())
		m->owned++;
	return m;
}

straw_msg *
proc_msg_made(straw_msg *m)
{
	return own_if_process(m);
}

void
straw_msg_disown(straw_msg *m)
{
	if (m != NULL && proc_tls_container != NULL && m->owner != NULL)
		msg_disown_one(m);
}

void
straw_msg_unref(straw_msg *m)
{
	if (m != NULL && proc_tls_container != NULL && m->owner != NULL)
		msg_disown_one(m);
	while (m != NULL) {
		straw_msg *base;

		if (atomic_load_explicit(&m->refs, memory_order_acquire) != 1 &&
		    atomic_fetch_sub_explicit(&m->refs, 1,
		                              memory_order_acq_rel) != 1)
			return;
		if (NEVER(m->owner != NULL)) {
			/* Its last reference went on another thread while a
			 * process still holds it: it was handed over without
			 * a reference of its own (see straw_msg_disown).
			 * Kept, rather than freed under the process's list. */
			strawi_log(STRAWI_LOG_ERROR,
			           "a message owned by a process was released "
			           "by another thread; it is leaked");
			return;
		}
		base = m->base;
		if (m->kind == PROC_MSG_TAKEN)
			straw_free((void *)m->data);
		if (m->small && cache_n < CACHE_MAX)
			cache_put(m);
		else
			straw_free(m);
		m = base; /* an alias held one reference to its base */
	}
}

const uint8_t *
straw_msg_data(const straw_msg *m)
{
	return m->data;
}

size_t
straw_msg_len(const straw_msg *m)
{
	return m->len;
}

int
straw_msg_is_atom(const straw_msg *m, const char *name)
{
	if (m == NULL || m->len < 1)
		return 0;
	return etfp_is_atom(m->data + 1, m->len - 1, name);
}

straw_msg *
proc_msg_for_queue(straw_msg *m, int consume)
{
	straw_msg *a;

	/* When the caller's reference is the only one, no queue holds m (a
	 * queue owns a reference) and nobody else can take one: its link is
	 * free.  A queued message is never owned: one whose owner keeps its
	 * reference goes as an alias. */
	if (atomic_load_explicit(&m->refs, memory_order_acquire) == 1) {
		if (consume) {
			if (proc_tls_container != NULL && m->owner != NULL)
				msg_unlink(m);
			return m;
		}
		if (proc_tls_container == NULL || m->owner == NULL) {
			atomic_store_explicit(&m->refs, 2,
			                      memory_order_relaxed);
			return m;
		}
	}
	a = proc_msg_alloc(0);
	if (a == NULL) {
		if (consume)
			straw_msg_unref(m);
		return NULL;
	}
	a->kind = PROC_MSG_ALIAS;
	a->len = m->len;
	a->data = m->data;
	a->base = m; /* the caller's reference moves to the alias ... */
	if (!consume)
		atomic_fetch_add_explicit(&m->refs, 1, /* ... or a new one */
		                          memory_order_relaxed);
	else if (proc_tls_container != NULL && m->owner != NULL)
		msg_disown_one(m);
	return a;
}

void
proc_fifo_clear(struct proc_fifo *q)
{
	straw_msg *m = q->head;

	while (m != NULL) {
		straw_msg *next = m->next;
		straw_msg_unref(m);
		m = next;
	}
	proc_fifo_init(q);
}
