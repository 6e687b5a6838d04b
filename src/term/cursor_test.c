/* Tests of the cursor: reading every type in place. */
#include <straw/alloc.h>
#include <straw/term.h>

#include "testing/check.h"
#include "term/testutil.h"

static uint8_t *bytes_;
static size_t len_;

static void
open_hex(straw_cursor *c, const char *hex)
{
	free(bytes_);
	bytes_ = tu_unhex(hex, &len_);
	CHECK(bytes_ != NULL);
	CHECK_RC(straw_term_check(bytes_, len_, NULL, NULL), 0);
	CHECK_RC(straw_cursor_init(c, bytes_, len_), 0);
}

CASE(integers)
{
	straw_cursor c;
	int64_t v;
	uint64_t u;

	open_hex(&c, "8361FF");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_INTEGER);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 255);
	CHECK(straw_cursor_at_end(&c));
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ETRUNC);
	open_hex(&c, "836280000000");
	CHECK_RC(straw_cursor_uint64(&c, &u), STRAW_ERANGE);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, INT32_MIN);
	open_hex(&c, "836E0800FFFFFFFFFFFFFFFF");
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ERANGE);
	CHECK_EQ(c.pos, 1); /* nothing consumed */
	CHECK_RC(straw_cursor_uint64(&c, &u), 0);
	CHECK_EQ_U(u, UINT64_MAX);
	CHECK(straw_cursor_at_end(&c));
	/* -2^63 fits, -2^63-1 does not. */
	open_hex(&c, "836E08010000000000000080");
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK(v == INT64_MIN);
	/* High zero digits, negative zero, no digits. */
	open_hex(&c, "836E040005000000");
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 5);
	open_hex(&c, "836E02010000");
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 0);
	open_hex(&c, "836E0000");
	CHECK_RC(straw_cursor_uint64(&c, &u), 0);
	CHECK_EQ(u, 0);
	/* Not an integer: nothing consumed. */
	open_hex(&c, "836400026F6B");
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ETYPE);
	CHECK_RC(straw_cursor_double(&c, NULL), STRAW_ETYPE);
	CHECK_EQ(c.pos, 1);
}

CASE(bignums)
{
	straw_cursor c;
	char hex[600];
	const uint8_t *mag;
	size_t n, i;
	int neg;
	int64_t v;
	uint64_t u;

	open_hex(&c, "836E08010100000000000080");
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ERANGE);
	CHECK_RC(straw_cursor_uint64(&c, &u), STRAW_ERANGE);
	CHECK_RC(straw_cursor_bignum(&c, &neg, &mag, &n), 0);
	CHECK_EQ(neg, 1);
	CHECK_EQ(n, 8);
	CHECK_EQ(mag[0], 1);
	CHECK_EQ(mag[7], 0x80);
	/* 1 bsl 2040 */
	i = (size_t)sprintf(hex, "836F0000010000");
	for (n = 0; n < 255; n++)
		i += (size_t)sprintf(hex + i, "00");
	sprintf(hex + i, "01");
	open_hex(&c, hex);
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ERANGE);
	CHECK_RC(straw_cursor_bignum(&c, &neg, &mag, &n), 0);
	CHECK_EQ(neg, 0);
	CHECK_EQ(n, 256);
	CHECK_EQ(mag[255], 1);
	CHECK(mag == bytes_ + 7); /* in place */
	/* Small integers through the same call. */
	open_hex(&c, "8362FFFFFF85");
	CHECK_RC(straw_cursor_bignum(&c, &neg, &mag, &n), 0);
	CHECK_EQ(neg, 1);
	CHECK_EQ(mag[0], 123);
	CHECK_EQ(mag[1], 0);
}

CASE(floats)
{
	straw_cursor c;
	double d;

	open_hex(&c, "83463FF8000000000000");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_FLOAT);
	CHECK_RC(straw_cursor_double(&c, &d), 0);
	CHECK(d == 1.5);
	open_hex(&c,
	         "8363312E3530303030303030303030303030303030303030652B30300000"
	         "000000");
	CHECK_RC(straw_cursor_double(&c, &d), 0);
	CHECK(d == 1.5);
	open_hex(&c, "836101");
	CHECK_RC(straw_cursor_double(&c, &d), STRAW_ETYPE);
}

CASE(atoms)
{
	straw_cursor c;
	char name[STRAW_ATOM_MAX_BYTES + 1];
	size_t n;

	open_hex(&c, "836400026F6B");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_ATOM);
	CHECK_EQ(straw_cursor_atom_is(&c, "o"), 0);
	CHECK_EQ(straw_cursor_atom_is(&c, "okay"), 0);
	CHECK_RC(straw_cursor_atom(&c, name, 2, &n), STRAW_ERANGE);
	CHECK_EQ(n, 2);
	CHECK_EQ(straw_cursor_atom_is(&c, "ok"), 1);
	CHECK(straw_cursor_at_end(&c));
	/* Latin-1 is converted to UTF-8. */
	open_hex(&c, "83640007FC6EEF63F664E9");
	CHECK_EQ(straw_cursor_atom_is(&c, "\xc3\xbcn\xc3\xaf"
	                                  "c\xc3\xb6"
	                                  "d\xc3\xa9"),
	         1);
	open_hex(&c, "83640007FC6EEF63F664E9");
	CHECK_RC(straw_cursor_atom(&c, name, sizeof(name), &n), 0);
	CHECK_STR(name, "\xc3\xbcn\xc3\xaf"
	                "c\xc3\xb6"
	                "d\xc3\xa9");
	CHECK_EQ(n, 11);
	open_hex(&c, "837709E697A5E69CACE8AA9E");
	CHECK_RC(straw_cursor_atom(&c, name, sizeof(name), NULL), 0);
	CHECK_STR(name, "日本語");
	open_hex(&c, "836101");
	CHECK_EQ(straw_cursor_atom_is(&c, "a"), 0);
	CHECK_RC(straw_cursor_atom(&c, name, sizeof(name), &n), STRAW_ETYPE);
}

CASE(binaries)
{
	straw_cursor c;
	const uint8_t *d;
	size_t n;
	uint64_t bits;

	open_hex(&c, "836D00000003010203");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_BINARY);
	CHECK_RC(straw_cursor_binary(&c, &d, &n), 0);
	CHECK_EQ(n, 3);
	CHECK(d == bytes_ + 6);
	open_hex(&c, "834D00000002030140");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_BINARY);
	CHECK_RC(straw_cursor_binary(&c, &d, &n), STRAW_ETYPE);
	CHECK_RC(straw_cursor_bitstring(&c, &d, &bits), 0);
	CHECK_EQ(bits, 11);
	CHECK_EQ(d[0], 1);
	CHECK_EQ(d[1], 0x40);
	open_hex(&c, "834D0000000108AB");
	CHECK_RC(straw_cursor_binary(&c, &d, &n), 0);
	CHECK_EQ(n, 1);
}

CASE(tuples_lists_maps)
{
	straw_cursor c;
	uint32_t n;
	int64_t v;
	const uint8_t *d;
	size_t len;

	open_hex(&c, "8368036400016161016D0000000162");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_TUPLE);
	CHECK_RC(straw_cursor_list(&c, &n), STRAW_ETYPE);
	CHECK_RC(straw_cursor_tuple(&c, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(straw_cursor_atom_is(&c, "a"), 1);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 1);
	CHECK_RC(straw_cursor_binary(&c, &d, &len), 0);
	CHECK_EQ(d[0], 'b');
	CHECK(straw_cursor_at_end(&c));
	/* "abc" reads as [97,98,99]. */
	open_hex(&c, "836B0003616263");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_LIST);
	CHECK_RC(straw_cursor_list(&c, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_INTEGER);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 'a');
	CHECK_RC(straw_cursor_term(&c, &d, &len), 0);
	CHECK_EQ(len, 2);
	CHECK_EQ(d[0], 'a');
	CHECK_EQ(d[1], 'b');
	CHECK_RC(straw_cursor_skip(&c), 0);
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_NIL);
	CHECK(!straw_cursor_at_end(&c));
	CHECK_RC(straw_cursor_nil(&c), 0);
	CHECK(straw_cursor_at_end(&c));
	/* [1,2|3] */
	open_hex(&c, "836C00000002610161026103");
	CHECK_RC(straw_cursor_list(&c, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_RC(straw_cursor_skip(&c), 0);
	CHECK_RC(straw_cursor_skip(&c), 0);
	CHECK_RC(straw_cursor_nil(&c), STRAW_ETYPE);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 3);
	/* [] */
	open_hex(&c, "836A");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_NIL);
	CHECK_RC(straw_cursor_list(&c, &n), 0);
	CHECK_EQ(n, 0);
	CHECK(straw_cursor_at_end(&c));
	/* A LIST_EXT of no elements stands for its tail. */
	open_hex(&c, "836C000000006101");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_INTEGER);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 1);
	/* #{a => 1, <<"k">> => [x]} */
	open_hex(&c,
	         "8374000000026400016161016D000000016B6C00000001640001786A");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_MAP);
	CHECK_RC(straw_cursor_map(&c, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(straw_cursor_atom_is(&c, "a"), 1);
	CHECK_RC(straw_cursor_skip(&c), 0);
	CHECK_RC(straw_cursor_binary(&c, &d, &len), 0);
	CHECK_RC(straw_cursor_term(&c, &d, &len), 0);
	CHECK_EQ(len, 10);
	CHECK_EQ(d[0], 'l');
	CHECK(straw_cursor_at_end(&c));
}

CASE(identifiers)
{
	straw_cursor c;
	straw_erl_pid pid;
	straw_erl_ref ref;
	straw_erl_port port;

	open_hex(
	        &c,
	        "835864000D6E6F6E6F6465406E6F686F7374000000550000000000000000");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_PID);
	CHECK_RC(straw_cursor_ref(&c, &ref), STRAW_ETYPE);
	CHECK_RC(straw_cursor_pid(&c, &pid), 0);
	CHECK_STR(pid.node, "nonode@nohost");
	CHECK_EQ(pid.id, 0x55);
	CHECK_EQ(pid.serial, 0);
	CHECK_EQ(pid.creation, 0);
	open_hex(&c, "836764000161000000010000000203");
	CHECK_RC(straw_cursor_pid(&c, &pid), 0);
	CHECK_STR(pid.node, "a");
	CHECK_EQ(pid.id, 1);
	CHECK_EQ(pid.serial, 2);
	CHECK_EQ(pid.creation, 3);
	open_hex(&c,
	         "835A000364000D6E6F6E6F6465406E6F686F737400000000000000030000"
	         "000200000001");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_REF);
	CHECK_RC(straw_cursor_ref(&c, &ref), 0);
	CHECK_EQ(ref.len, 3);
	CHECK_EQ(ref.id[0], 3);
	CHECK_EQ(ref.id[2], 1);
	open_hex(&c, "8372000164000161030000002A");
	CHECK_RC(straw_cursor_ref(&c, &ref), 0);
	CHECK_EQ(ref.len, 1);
	CHECK_EQ(ref.creation, 3);
	CHECK_EQ(ref.id[0], 42);
	open_hex(&c, "835964000D6E6F6E6F6465406E6F686F73740000000500000000");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_PORT);
	CHECK_RC(straw_cursor_port(&c, &port), 0);
	CHECK_EQ(port.id, 5);
	open_hex(&c, "8378770161000000010000000200000003");
	CHECK_RC(straw_cursor_port(&c, &port), 0);
	CHECK_EQ_U(port.id, 0x100000002ULL);
	CHECK_EQ(port.creation, 3);
	open_hex(&c, "83716400056C697374736400036D61706102");
	CHECK_EQ(straw_cursor_type(&c), STRAW_TERM_FUN);
	CHECK_RC(straw_cursor_skip(&c), 0);
	CHECK(straw_cursor_at_end(&c));
}

CASE(unchecked_bytes)
{
	/* A cursor over bytes nobody checked reports, never overreads. */
	static const uint8_t trunc[] = {131, 'h', 2, 'a'};
	static const uint8_t bad[] = {131, 'l', 0xFF, 0xFF, 0xFF, 0xFF};
	straw_cursor c;
	uint32_t n;
	int64_t v;

	CHECK_RC(straw_cursor_init(&c, trunc, sizeof(trunc)), 0);
	CHECK_RC(straw_cursor_tuple(&c, &n), 0);
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ETRUNC);
	CHECK_RC(straw_cursor_init(&c, trunc, sizeof(trunc)), 0);
	CHECK_RC(straw_cursor_skip(&c), STRAW_ETRUNC);
	CHECK_RC(straw_cursor_init(&c, bad, sizeof(bad)), 0);
	CHECK_RC(straw_cursor_skip(&c), STRAW_ETRUNC);
	CHECK_RC(straw_cursor_init(&c, bad, 1), 0);
	CHECK_RC(straw_cursor_type(&c), STRAW_ETRUNC);
	CHECK_RC(straw_cursor_init(&c, bad, 0), STRAW_EVERSION);
	CHECK_RC(straw_cursor_init(&c, (const uint8_t *)"\x83P", 2),
	         STRAW_EBADTAG);
}

CHECK_MAIN(integers, bignums, floats, atoms, binaries, tuples_lists_maps,
           identifiers, unchecked_bytes)
