/* The node identity and the pid and reference codec: ETF both ways, the
 * short and long forms, the human form. */
#include <stdio.h>
#include <string.h>

#include <straw/pid.h>

#include "term/node.h"
#include "testing/check.h"

static const uint8_t int_42[] = {131, 97, 42};

static void
set_node(void)
{
	strawi_node_set_container(7, "box");
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
	                      strawi_node_self()->host);
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
	CHECK_EQ_U(q.machine, strawi_node_self()->machine);
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
	other.machine = strawi_node_self()->machine;
	other.container = 0;
	other.process = 4;
	CHECK_OK(straw_pid_encode(&b, other));
	{
		static const uint8_t zero[4] = {0, 0, 0, 0};
		CHECK_MEM(b.data + b.len - 4, 4, zero, 4);
	}
	CHECK_OK(straw_pid_decode(b.data, b.len, &q));
	CHECK_EQ_U(q.machine, strawi_node_self()->machine);
	CHECK_EQ(q.container, 0);
	CHECK_EQ(q.process, 4);
	CHECK_EQ(straw_pid_equal(q, p), 0);
	straw_buf_fini(&b);

	strawi_node_set_container(0, NULL);
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
	CHECK(q.machine != 0 && q.machine != strawi_node_self()->machine);
	/* The old PID_EXT: a creation of 0..3, as OTP 25 reads it. */
	{
		uint8_t old[] = {103, 119, 1, 'a', 0, 0, 0, 7, 0, 0, 0, 0, 3};
		CHECK_EQ(straw_pid_decode(old, sizeof(old), &q),
		         (int)sizeof(old));
		CHECK_EQ(q.process, 7);
		CHECK_EQ(q.container, 3);
		old[12] = 4;
		CHECK_RC(straw_pid_decode(old, sizeof(old), &q),
		         STRAW_EBADTERM);
	}
	strawi_node_set_container(0, NULL);
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
	b.data[2] = 0; /* no id words: OTP would read past it */
	CHECK_RC(straw_ref_decode(b.data, b.len, &q), STRAW_EBADTERM);
	straw_buf_fini(&b);
	strawi_node_set_container(0, NULL);
}

/* A reference of OTP (more id words than straw's) reads as a term but not
 * as a straw_ref; zero words is refused. */
CASE(ref_from_erl_range)
{
	straw_erl_ref e;
	straw_ref r;

	set_node();
	memset(&e, 0, sizeof(e));
	snprintf(e.node, sizeof(e.node), "c9@%s", strawi_node_self()->host);
	e.creation = 9;
	e.len = 3;
	e.id[0] = 5;
	CHECK_OK(straw_ref_from_erl(&e, &r));
	CHECK_EQ_U(r.id, 5);
	CHECK_EQ(r.container, 9);
	/* Every bit of the 64-bit id, and one bit more in either end word. */
	e.id[0] = 0x3ffff;
	e.id[1] = 0xffffffff;
	e.id[2] = 0x3fff;
	CHECK_OK(straw_ref_from_erl(&e, &r));
	CHECK_EQ_U(r.id, UINT64_MAX);
	e.id[0] = 0x40000;
	CHECK_RC(straw_ref_from_erl(&e, &r), STRAW_ERANGE);
	e.id[0] = 5;
	e.id[2] = 0x4000;
	CHECK_RC(straw_ref_from_erl(&e, &r), STRAW_ERANGE);
	e.id[2] = 0;
	e.len = 5;
	CHECK_RC(straw_ref_from_erl(&e, &r), STRAW_ERANGE);
	e.len = 0;
	CHECK_RC(straw_ref_from_erl(&e, &r), STRAW_ERANGE);
	strawi_node_set_container(0, NULL);
}

/* The one human form: <C.P> on this machine, <C.P@mHEX> elsewhere, and
 * straw_pid_parse reads exactly what straw_pid_format writes. */
CASE(pid_human_form)
{
	char out[STRAW_PID_FORMAT_MAX];
	straw_pid p = {0, 0, 42}, q, other = {0, 9, 5};
	straw_pid far = {0x1234abcd5678ef00ULL, 3, 7};

	set_node();
	CHECK_EQ(straw_pid_format(p, out, sizeof(out)), 6);
	CHECK_STR(out, "<7.42>");
	CHECK_EQ(straw_pid_format(other, out, sizeof(out)), 5);
	CHECK_STR(out, "<9.5>");
	CHECK_EQ(straw_pid_format(far, out, sizeof(out)), 23);
	CHECK_STR(out, "<3.7@m1234abcd5678ef00>");
	CHECK_OK(straw_pid_parse(out, strlen(out), &q));
	CHECK_EQ(straw_pid_equal(q, far), 1);
	CHECK_OK(straw_pid_parse("<7.42>", 6, &q));
	CHECK_EQ_U(q.machine, 0); /* our own: short */
	CHECK_EQ(q.container, 0);
	CHECK_EQ(q.process, 42);
	CHECK_OK(straw_pid_parse("<9.5>", 5, &q));
	CHECK_EQ(straw_pid_equal(q, other), 1);
	CHECK_EQ(q.container, 9);
	/* truncation says what it needed */
	CHECK_EQ(straw_pid_format(far, out, 4), 23);
	CHECK_STR(out, "<3.");
	CHECK_RC(straw_pid_parse("<9.5", 4, &q), STRAW_ESYNTAX);
	CHECK_RC(straw_pid_parse("<9..5>", 6, &q), STRAW_ESYNTAX);
	CHECK_RC(straw_pid_parse("<0.9.5>", 7, &q), STRAW_ESYNTAX);
	CHECK_RC(straw_pid_parse("<9.5@m12>", 9, &q), STRAW_ESYNTAX);
	CHECK_RC(straw_pid_parse("<9.5@x1234abcd5678ef00>", 23, &q),
	         STRAW_ESYNTAX);
	CHECK_RC(straw_pid_parse("<4294967296.1>", 14, &q), STRAW_ESYNTAX);
	CHECK_RC(straw_pid_parse("< 9.5>", 6, &q), STRAW_ESYNTAX);
	/* outside a container a short pid prints with container 0 */
	strawi_node_set_container(0, NULL);
	CHECK_EQ(straw_pid_format(p, out, sizeof(out)), 6);
	CHECK_STR(out, "<0.42>");
}

/* The long form and the machine and container of a pid. */
CASE(pid_long_form)
{
	straw_pid p = {0, 0, 42}, l;

	set_node();
	l = straw_pid_long(p);
	CHECK_EQ_U(l.machine, strawi_node_self()->machine);
	CHECK_EQ(l.container, 7);
	CHECK_EQ(l.process, 42);
	CHECK_EQ(straw_pid_container(p), 7);
	CHECK_EQ_U(straw_pid_machine(p), strawi_node_self()->machine);
	CHECK_EQ(straw_pid_equal(l, p), 1);
	strawi_node_set_container(0, NULL);
}

/* $STRAW_MACHINE_ID: up to 16 hex digits, or 32 of which 16 count. */
CASE(machine_id_from_env)
{
	uint64_t mid;

	setenv("STRAW_MACHINE_ID", "00112233445566778899aabbccddeeff", 1);
	CHECK_OK(straw_machine_id(&mid));
	CHECK_EQ_U(mid, 0x0011223344556677ULL);
	setenv("STRAW_MACHINE_ID", "ff", 1);
	CHECK_OK(straw_machine_id(&mid));
	CHECK_EQ_U(mid, 0xff);
	setenv("STRAW_MACHINE_ID", "00112233445566778", 1); /* 17 digits */
	CHECK_RC(straw_machine_id(&mid), -EINVAL);
	setenv("STRAW_MACHINE_ID", "00g1", 1);
	CHECK_RC(straw_machine_id(&mid), -EINVAL);
	unsetenv("STRAW_MACHINE_ID");
}

CHECK_MAIN(pid_etf_roundtrip, pid_from_erlang, ref_etf_roundtrip,
           ref_from_erl_range, pid_human_form, pid_long_form,
           machine_id_from_env)
