/* Messages: reference counts, aliases, the mailbox FIFO, the MPSC-free
 * queue rules, and the ETF of pids, references and system messages. */
#include <straw/straw.h>
#include <straw/term.h>

#include "proc/etf_proc.h"
#include "proc/msg.h"
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
	proc_node_init_host();
	snprintf(proc_node.name, sizeof(proc_node.name), "box");
	proc_node.container = 7;
}

CASE(pid_etf_roundtrip)
{
	straw_buf b = STRAW_BUF_INIT;
	straw_pid p = {0, 0, 42}, q, other = {0, 9, 5};
	char want_node[300];
	size_t nl;
	int n;

	set_node();
	CHECK_OK(straw_pid_encode(&b, p));
	nl = (size_t)snprintf(want_node, sizeof(want_node), "box@%s",
	                      proc_node.host);
	CHECK_EQ(b.data[0], 88);
	CHECK_EQ(b.data[1], 119);
	CHECK_EQ(b.data[2], nl);
	CHECK_MEM(b.data + 3, nl, want_node, nl);
	/* id 42, serial 0, creation = container 7 */
	{
		static const uint8_t tail[] = {0, 0, 0, 42, 0, 0,
		                               0, 0, 0, 0,  0, 7};
		CHECK_MEM(b.data + 3 + nl, 12, tail, 12);
	}
	CHECK_EQ(b.len, 3 + nl + 12);
	n = straw_pid_decode(b.data, b.len, &q);
	CHECK_EQ(n, (int)b.len);
	CHECK_EQ_U(q.machine, 0); /* our own container: short */
	CHECK_EQ(q.container, 0);
	CHECK_EQ(q.process, 42);
	CHECK_RC(straw_pid_decode(b.data, b.len - 1, &q), STRAW_ETRUNC);
	CHECK_RC(straw_pid_decode(int_42 + 1, 2, &q), STRAW_ETYPE);
	straw_buf_fini(&b);

	/* Another container of this machine: long pid, same machine. */
	CHECK_OK(straw_pid_encode(&b, other));
	n = straw_pid_decode(b.data, b.len, &q);
	CHECK_EQ(n, (int)b.len);
	CHECK_EQ_U(q.machine, proc_node.machine);
	CHECK_EQ(q.container, 9);
	CHECK_EQ(q.process, 5);
	CHECK_EQ(straw_pid_equal(q, other), 1);
	CHECK_EQ(straw_pid_equal(q, p), 0);
	straw_buf_fini(&b);

	/* Another machine: its id travels in the node's host part. */
	other.machine = 0x1234abcd5678ef00ULL;
	CHECK_OK(straw_pid_encode(&b, other));
	CHECK_OK(straw_pid_decode(b.data, b.len, &q));
	CHECK_EQ_U(q.machine, 0x1234abcd5678ef00ULL);
	CHECK_EQ(q.container, 9);
	straw_buf_fini(&b);

	/* strawd's container 0 of this machine: creation 0, stays long */
	other.machine = proc_node.machine;
	other.container = 0;
	other.process = 4;
	CHECK_OK(straw_pid_encode(&b, other));
	{
		static const uint8_t zero[4] = {0, 0, 0, 0};
		CHECK_MEM(b.data + b.len - 4, 4, zero, 4);
	}
	CHECK_OK(straw_pid_decode(b.data, b.len, &q));
	CHECK_EQ_U(q.machine, proc_node.machine);
	CHECK_EQ(q.container, 0);
	CHECK_EQ(q.process, 4);
	CHECK_EQ(straw_pid_equal(q, p), 0);
	straw_buf_fini(&b);

	proc_node.container = 0;
	CHECK_RC(straw_pid_encode(&b, p), STRAW_ENOTCONTAINER);
	CHECK_EQ(b.len, 0);
	straw_buf_fini(&b);
}

CASE(pid_from_erlang)
{
	/* term_to_binary(self()) of an OTP node nonode@nohost. */
	static const uint8_t erl[] = {88,  100, 0,  13,  110, 111, 110, 111,
	                              100, 101, 64, 110, 111, 104, 111, 115,
	                              116, 0,   0,  0,   9,   0,   0,   0,
	                              0,   0,   0,  0,   0};
	straw_pid q;

	set_node();
	CHECK_EQ(straw_pid_decode(erl, sizeof(erl), &q), (int)sizeof(erl));
	CHECK_EQ(q.process, 9);
	CHECK_EQ(q.container, 0);
	CHECK(q.machine != 0 && q.machine != proc_node.machine);
	proc_node.container = 0;
}

CASE(ref_etf_roundtrip)
{
	straw_buf b = STRAW_BUF_INIT;
	straw_ref r = {0, 0, 0, 0x123456789abcdefULL}, q;

	set_node();
	CHECK_OK(straw_ref_encode(&b, r));
	CHECK_EQ(b.data[0], 90);
	CHECK_EQ(b.data[1], 0);
	CHECK_EQ(b.data[2], 3);
	CHECK_EQ(straw_ref_decode(b.data, b.len, &q), (int)b.len);
	CHECK_EQ_U(q.id, r.id);
	CHECK_EQ(q.container, 0);
	CHECK_EQ(straw_ref_equal(q, r), 1);
	r.id++;
	CHECK_EQ(straw_ref_equal(q, r), 0);
	CHECK_RC(straw_ref_decode(b.data, 5, &q), STRAW_ETRUNC);
	b.data[2] = 9;
	CHECK_RC(straw_ref_decode(b.data, b.len, &q), STRAW_EBADTERM);
	straw_buf_fini(&b);
	proc_node.container = 0;
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
	proc_node.container = 0;
}

CHECK_MAIN(msg_new_copies_and_checks, msg_take_owns, msg_atom, msg_queue_alias,
           fifo_remove_middle_and_tail, pid_etf_roundtrip, pid_from_erlang,
           ref_etf_roundtrip, system_messages)
