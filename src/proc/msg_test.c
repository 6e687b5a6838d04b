/* Messages: reference counts, aliases, the mailbox FIFO, and the ETF of
 * the system messages. */
#include <straw/straw.h>
#include <straw/term.h>

#include "proc/etf_proc.h"
#include "proc/msg.h"
#include "term/node.h"
#include "testing/check.h"

static const uint8_t int_42[] = {131, 97, 42};

CASE(msg_new_copies_and_checks)
{
	straw_msg *m = NULL, *none = NULL;
	static const uint8_t bad[] = {131, 97};
	static const uint8_t trailing[] = {131, 97, 1, 2};

	CHECK_OK(straw_msg_new(&m, int_42, sizeof(int_42)));
	CHECK(m != NULL);
	CHECK(straw_msg_data(m) != int_42);
	CHECK_MEM(straw_msg_data(m), straw_msg_len(m), int_42, sizeof(int_42));
	straw_msg_unref(m);
	CHECK_RC(straw_msg_new(&none, bad, sizeof(bad)), STRAW_ETRUNC);
	CHECK_RC(straw_msg_new(&none, trailing, sizeof(trailing)),
	         STRAW_ETRAILING);
	CHECK_RC(straw_msg_new(&none, NULL, 0), -EINVAL);
	CHECK(none == NULL); /* untouched on failure */
	straw_msg_unref(NULL);
}

CASE(msg_take_owns)
{
	uint8_t *buf = straw_malloc(sizeof(int_42));
	uint8_t *bad = straw_malloc(1);
	straw_msg *m = NULL, *none = NULL;

	memcpy(buf, int_42, sizeof(int_42));
	CHECK_OK(straw_msg_take(&m, buf, sizeof(int_42)));
	CHECK(m != NULL);
	CHECK(straw_msg_data(m) == buf); /* no copy */
	straw_msg_unref(m);
	bad[0] = 7; /* freed on failure too (ASan would report a leak) */
	CHECK_RC(straw_msg_take(&none, bad, 1), STRAW_EVERSION);
	CHECK(none == NULL);
}

CASE(msg_atom)
{
	straw_msg *m = NULL, *none = NULL;
	static const uint8_t want[] = {131, 119, 6,   'n', 'o',
	                               'r', 'm', 'a', 'l'};
	char big[300];

	CHECK_OK(straw_msg_atom(&m, "normal"));
	CHECK(m != NULL);
	CHECK_MEM(straw_msg_data(m), straw_msg_len(m), want, sizeof(want));
	CHECK_EQ(straw_msg_is_atom(m, "normal"), 1);
	CHECK_EQ(straw_msg_is_atom(m, "norma"), 0);
	CHECK_EQ(straw_msg_is_atom(m, "normal2"), 0);
	straw_msg_unref(m);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_RC(straw_msg_atom(&none, big), STRAW_EBADATOM);
	CHECK_RC(straw_msg_atom(&none, NULL), STRAW_EBADATOM);
	CHECK(none == NULL);
	/* An old-style ATOM_EXT 'normal' is the same atom. */
	{
		static const uint8_t old[] = {131, 100, 0,   6,   'n',
		                              'o', 'r', 'm', 'a', 'l'};
		straw_msg *o = NULL;
		CHECK_OK(straw_msg_new(&o, old, sizeof(old)));
		CHECK_EQ(straw_msg_is_atom(o, "normal"), 1);
		straw_msg_unref(o);
	}
}

/* The only reference: queued as itself.  Shared: queued as an alias over
 * the same bytes; the base lives until the alias goes. */
CASE(msg_queue_alias)
{
	straw_msg *m = NULL, *q1, *q2;

	CHECK_OK(straw_msg_new(&m, int_42, sizeof(int_42)));
	q1 = proc_msg_for_queue(m, 0);
	CHECK(q1 == m);
	CHECK_EQ(atomic_load(&m->refs), 2);
	q2 = proc_msg_for_queue(m, 0);
	CHECK(q2 != m);
	CHECK_EQ(q2->kind, PROC_MSG_ALIAS);
	CHECK(straw_msg_data(q2) == straw_msg_data(m));
	CHECK_EQ(atomic_load(&m->refs), 3);
	straw_msg_unref(m);
	straw_msg_unref(q1);
	CHECK_EQ(atomic_load(&m->refs), 1); /* held by the alias */
	CHECK_MEM(straw_msg_data(q2), straw_msg_len(q2), int_42,
	          sizeof(int_42));
	straw_msg_unref(q2); /* frees both (ASan checks) */

	CHECK_OK(straw_msg_new(&m, int_42, sizeof(int_42)));
	q1 = proc_msg_for_queue(m, 1); /* consume the only reference */
	CHECK(q1 == m);
	CHECK_EQ(atomic_load(&m->refs), 1);
	straw_msg_ref(m);
	q2 = proc_msg_for_queue(m, 1); /* consume one of two */
	CHECK(q2 != m);
	CHECK_EQ(atomic_load(&m->refs), 2);
	straw_msg_unref(q1);
	straw_msg_unref(q2);
}

CASE(fifo_remove_middle_and_tail)
{
	struct proc_fifo q;
	straw_msg *m[4];
	int i;

	proc_fifo_init(&q);
	for (i = 0; i < 4; i++) {
		CHECK_OK(straw_msg_new(&m[i], int_42, sizeof(int_42)));
		proc_fifo_push(&q, m[i]);
	}
	CHECK_EQ(q.len, 4);
	CHECK_EQ(q.bytes, 4 * sizeof(int_42));
	CHECK(proc_fifo_remove(&q, &m[0]->next) == m[1]); /* middle */
	CHECK(proc_fifo_remove(&q, &m[2]->next) == m[3]); /* tail */
	CHECK(q.tail == &m[2]->next);
	proc_fifo_push(&q, m[3]);
	CHECK(m[2]->next == m[3]);
	CHECK(proc_fifo_remove(&q, &q.head) == m[0]);
	CHECK(q.head == m[2]);
	CHECK_EQ(q.len, 2);
	straw_msg_unref(m[0]);
	straw_msg_unref(m[1]);
	proc_fifo_clear(&q);
	CHECK_EQ(q.len, 0);
	CHECK(q.head == NULL && q.tail == &q.head);
}

static void
set_node(void)
{
	strawi_node_set_container(7, "box");
}

/* {'EXIT', Pid, Reason} and {'DOWN', Ref, process, Pid, Reason} are valid
 * terms with the expected shape. */
CASE(system_messages)
{
	straw_pid p = {0, 0, 3};
	straw_ref r = {0, 0, 0, 77};
	straw_msg *reason = NULL, *e, *d;

	CHECK_OK(straw_msg_atom(&reason, "boom"));
	set_node();
	e = etfp_exit_msg(p, reason);
	d = etfp_down_msg(r, p, reason);
	CHECK(e != NULL && d != NULL);
	CHECK_OK(straw_term_check(e->data, e->len, NULL, NULL));
	CHECK_OK(straw_term_check(d->data, d->len, NULL, NULL));
	CHECK_EQ(e->data[1], 104);
	CHECK_EQ(e->data[2], 3);
	CHECK_EQ(etfp_is_atom(e->data + 3, e->len - 3, "EXIT"), 1);
	CHECK_EQ(d->data[2], 5);
	CHECK_EQ(etfp_is_down_for(d, r), 1);
	r.id = 78;
	CHECK_EQ(etfp_is_down_for(d, r), 0);
	CHECK_EQ(etfp_is_down_for(e, r), 0);
	straw_msg_unref(e);
	straw_msg_unref(d);
	straw_msg_unref(reason);
	strawi_node_set_container(0, NULL);
}

CHECK_MAIN(msg_new_copies_and_checks, msg_take_owns, msg_atom, msg_queue_alias,
           fifo_remove_middle_and_tail, system_messages)
