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
	CHECK_EQ(straw_cursor_offset(&c), 1); /* nothing consumed */
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
	CHECK_EQ(straw_cursor_offset(&c), 1);
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
	/* A NUL inside the atom matches no C string, and the comparison
	 * never reads past the name's terminator (a fuzzer's find). */
	open_hex(&c, "8373066F6B00000077");
	CHECK_EQ(straw_cursor_atom_is(&c, "ok"), 0);
	open_hex(&c, "837600036F6B00");
	CHECK_EQ(straw_cursor_atom_is(&c, "ok"), 0);
	CHECK_EQ(straw_cursor_atom_is(&c, "ok\0"), 0);
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
	{
		char m[STRAW_ATOM_MAX_BYTES + 1], f[4];
		uint8_t arity = 0;
		open_hex(&c, "83716400056C697374736400036D61706102");
		CHECK_RC(straw_cursor_export(&c, m, sizeof(m), f, 3, &arity),
		         STRAW_ERANGE);
		CHECK_EQ(straw_cursor_offset(&c), 1);
		CHECK_RC(straw_cursor_export(&c, m, sizeof(m), f, sizeof(f),
		                             &arity),
		         0);
		CHECK_STR(m, "lists");
		CHECK_STR(f, "map");
		CHECK_EQ(arity, 2);
		CHECK(straw_cursor_at_end(&c));
		open_hex(&c, "836101");
		CHECK_RC(straw_cursor_export(&c, m, sizeof(m), f, sizeof(f),
		                             &arity),
		         STRAW_ETYPE);
	}
}

CASE(unchecked_bytes)
{
	/* A cursor over bytes nobody checked reports, never overreads. */
	static const uint8_t trunc[] = {131, 'h', 1, 'a'};
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

/*
 * Unchecked bytes: each read on truncated or corrupt input returns the exact
 * code, consumes nothing and leaves straw_cursor_offset at the failing term.
 * Every buffer is allocated with its exact size, so that AddressSanitizer
 * catches any read past its end.
 */
static uint8_t *raw_;
static size_t raw_len_;

/* Starts c on a fresh exact-size copy of hex (no straw_term_check). */
static void
open_raw(straw_cursor *c, const char *hex)
{
	uint8_t *tmp = tu_unhex(hex, &raw_len_);

	CHECK(tmp != NULL);
	free(raw_);
	raw_ = malloc(raw_len_ > 0 ? raw_len_ : 1);
	CHECK(raw_ != NULL);
	memcpy(raw_, tmp, raw_len_);
	free(tmp);
	CHECK_RC(straw_cursor_init(c, raw_, raw_len_), 0);
}

CASE(unchecked_containers)
{
	straw_cursor c;
	uint32_t n = 77;
	int64_t v;

	/* A tuple of 3 with 2 bytes left: the arity cannot fit. */
	open_raw(&c, "83 6803 6101");
	CHECK_RC(straw_cursor_tuple(&c, &n), STRAW_ETRUNC);
	CHECK_EQ(n, 0); /* output zeroed */
	CHECK_EQ(straw_cursor_offset(&c), 1);
	open_raw(&c, "83 69FFFFFFFF 6A");
	CHECK_RC(straw_cursor_tuple(&c, &n), STRAW_ETRUNC);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	open_raw(&c, "83 68");
	CHECK_RC(straw_cursor_tuple(&c, &n), STRAW_ETRUNC);
	/* A list of 2 whose tail is missing: the header fits (3 bytes for
	 * 2 elements and a tail), the tail read fails. */
	open_raw(&c, "83 6C00000002 6101 6102");
	CHECK_RC(straw_cursor_list(&c, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_RC(straw_cursor_nil(&c), STRAW_ETRUNC);
	CHECK_EQ(straw_cursor_offset(&c), 10);
	/* A list of 2 and only 2 bytes: no room for its tail. */
	open_raw(&c, "83 6C00000002 6A6A");
	CHECK_RC(straw_cursor_list(&c, &n), STRAW_ETRUNC);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	open_raw(&c, "83 6CFFFFFFFF 6A");
	CHECK_RC(straw_cursor_list(&c, &n), STRAW_ETRUNC);
	open_raw(&c, "83 6C000000");
	CHECK_RC(straw_cursor_list(&c, &n), STRAW_ETRUNC);
	/* A map of 2 pairs needs 4 bytes. */
	open_raw(&c, "83 7400000002 6A6A6A");
	CHECK_RC(straw_cursor_map(&c, &n), STRAW_ETRUNC);
	open_raw(&c, "83 7400000002 6A6A6A6A");
	CHECK_RC(straw_cursor_map(&c, &n), 0);
	CHECK_EQ(n, 2);
	/* Unknown tags. */
	open_raw(&c, "83 C8");
	CHECK_RC(straw_cursor_tuple(&c, &n), STRAW_EBADTAG);
	CHECK_RC(straw_cursor_list(&c, &n), STRAW_EBADTAG);
	CHECK_RC(straw_cursor_map(&c, &n), STRAW_EBADTAG);
	CHECK_RC(straw_cursor_nil(&c), STRAW_EBADTAG);
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_EBADTAG);
	CHECK_RC(straw_cursor_atom_is(&c, "a"), STRAW_EBADTAG);
	CHECK_RC(straw_cursor_skip(&c), STRAW_EBADTAG);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	/* Trailing bytes. */
	open_raw(&c, "83 6A 6A");
	CHECK_RC(straw_cursor_nil(&c), 0);
	CHECK(!straw_cursor_at_end(&c));
	CHECK_EQ(straw_cursor_offset(&c), 2);
}

CASE(unchecked_scalars)
{
	straw_cursor c;
	int64_t v = 5;
	uint64_t u;
	double d = 1.5;
	const uint8_t *data = NULL, *mag;
	size_t len = 9, k;
	uint64_t bits;
	int neg;

	open_raw(&c, "83 61");
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ETRUNC);
	CHECK_EQ(v, 0); /* the inlined reads zero their output on failure */
	open_raw(&c, "83 62000000");
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ETRUNC);
	open_raw(&c, "83 6E0400FFFFFF");
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ETRUNC);
	CHECK_RC(straw_cursor_uint64(&c, &u), STRAW_ETRUNC);
	CHECK_RC(straw_cursor_bignum(&c, &neg, &mag, &k), STRAW_ETRUNC);
	open_raw(&c, "83 6F000000FF00");
	CHECK_RC(straw_cursor_bignum(&c, &neg, &mag, &k), STRAW_ETRUNC);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	/* Floats: NaN and infinities are malformed, as for the checker. */
	open_raw(&c, "83 467FF8000000000000");
	CHECK_RC(straw_cursor_double(&c, &d), STRAW_EBADTERM);
	CHECK(d == 0.0);
	CHECK_EQ(straw_term_check(raw_, raw_len_, NULL, NULL), STRAW_EBADTERM);
	open_raw(&c, "83 46FFF0000000000000");
	CHECK_RC(straw_cursor_double(&c, &d), STRAW_EBADTERM);
	open_raw(&c, "83 46400C0000000000");
	CHECK_RC(straw_cursor_double(&c, &d), STRAW_ETRUNC);
	open_raw(&c, "83 46400C000000000000");
	CHECK_RC(straw_cursor_double(&c, &d), 0);
	CHECK_EQ(d, 3.5);
	open_raw(&c, "83 63 312E3000");
	CHECK_RC(straw_cursor_double(&c, &d), STRAW_ETRUNC);
	/* Binaries: length past the end, header cut. */
	open_raw(&c, "83 6D00000004 616263");
	CHECK_RC(straw_cursor_binary(&c, &data, &len), STRAW_ETRUNC);
	CHECK(data == NULL);
	CHECK_EQ(len, 0);
	CHECK_RC(straw_cursor_bitstring(&c, &data, &bits), STRAW_ETRUNC);
	open_raw(&c, "83 6DFFFFFFFF");
	CHECK_RC(straw_cursor_binary(&c, &data, &len), STRAW_ETRUNC);
	open_raw(&c, "83 6D0000");
	CHECK_RC(straw_cursor_binary(&c, &data, &len), STRAW_ETRUNC);
	/* Bit binaries: bits 0 for a non-empty one, bits past 8. */
	open_raw(&c, "83 4D0000000100 FF");
	CHECK_RC(straw_cursor_bitstring(&c, &data, &bits), STRAW_EBADTERM);
	CHECK_RC(straw_cursor_binary(&c, &data, &len), STRAW_EBADTERM);
	open_raw(&c, "83 4D0000000109 FF");
	CHECK_RC(straw_cursor_bitstring(&c, &data, &bits), STRAW_EBADTERM);
	open_raw(&c, "83 4D0000000103 E0");
	CHECK_RC(straw_cursor_binary(&c, &data, &len), STRAW_ETYPE);
	CHECK_RC(straw_cursor_bitstring(&c, &data, &bits), 0);
	CHECK_EQ(bits, 3);
	CHECK(straw_cursor_at_end(&c));
}

CASE(unchecked_atoms)
{
	char name[STRAW_ATOM_MAX_BYTES + 1];
	char *hex;
	straw_cursor c;
	size_t len;

	open_raw(&c, "83 7705 6974");
	CHECK_RC(straw_cursor_atom(&c, name, sizeof(name), &len), STRAW_ETRUNC);
	CHECK_RC(straw_cursor_atom_is(&c, "it"), STRAW_ETRUNC);
	open_raw(&c, "83 77");
	CHECK_RC(straw_cursor_atom_is(&c, "it"), STRAW_ETRUNC);
	open_raw(&c, "83 760005 6974");
	CHECK_RC(straw_cursor_atom_is(&c, "it"), STRAW_ETRUNC);
	/* An overlong form of '\0' and a lone continuation byte. */
	open_raw(&c, "83 7702 C080");
	CHECK_RC(straw_cursor_atom(&c, name, sizeof(name), &len),
	         STRAW_EBADATOM);
	CHECK_RC(straw_cursor_skip(&c), STRAW_EBADATOM);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	open_raw(&c, "83 760001 80");
	CHECK_RC(straw_cursor_atom(&c, name, sizeof(name), &len),
	         STRAW_EBADATOM);
	CHECK_RC(straw_cursor_atom_is(&c, "x"), STRAW_EBADATOM);
	/* 256 Latin-1 characters: one too many. */
	hex = malloc(8 + 2 * 256 + 1);
	CHECK(hex != NULL);
	strcpy(hex, "83640100");
	for (int i = 0; i < 256; i++)
		strcat(hex, "61");
	open_raw(&c, hex);
	CHECK_RC(straw_cursor_atom(&c, name, sizeof(name), &len),
	         STRAW_EBADATOM);
	CHECK_RC(straw_cursor_atom_is(&c, "a"), STRAW_EBADATOM);
	memcpy(hex + 4, "00FF", 4); /* 255 of them: fine */
	hex[8 + 2 * 255] = '\0';
	open_raw(&c, hex);
	CHECK_RC(straw_cursor_atom(&c, name, sizeof(name), &len), 0);
	CHECK_EQ(len, 255);
	free(hex);
	/* Latin-1 read as UTF-8. */
	open_raw(&c, "83 7301 E9");
	CHECK_RC(straw_cursor_atom_is(&c, "\xC3\xA9"), 1);
	CHECK(straw_cursor_at_end(&c));
	open_raw(&c, "83 7301 E9");
	CHECK_RC(straw_cursor_atom_eq(&c, "\xC3", 1), 0);
	CHECK_RC(straw_cursor_atom_eq(&c, "\xC3\xA9", 2), 1);
	CHECK(straw_cursor_at_end(&c));
}

CASE(atom_eq)
{
	straw_cursor c;

	open_raw(&c, "83 7704 6974656D");
	CHECK_RC(straw_cursor_atom_eq(&c, "itex", 4), 0);
	CHECK_RC(straw_cursor_atom_eq(&c, "xtem", 4), 0);
	CHECK_RC(straw_cursor_atom_eq(&c, "ite", 3), 0);
	CHECK_RC(straw_cursor_atom_eq(&c, "items", 5), 0);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	CHECK_RC(straw_cursor_atom_eq(&c, "item", 4), 1);
	CHECK(straw_cursor_at_end(&c));
	/* Every length up to 9 (word compares for 4..8, bytes otherwise),
	 * a difference at each position. */
	for (size_t len = 0; len <= 9; len++) {
		char hex[64], name[10] = "abcdefghi";
		snprintf(hex, sizeof(hex), "83 77%02zX", len);
		for (size_t i = 0; i < len; i++)
			snprintf(hex + strlen(hex), 3, "%02X", 'a' + (int)i);
		for (size_t i = 0; i < len; i++) {
			open_raw(&c, hex);
			name[i] = 'z';
			CHECK_RC(straw_cursor_atom_eq(&c, name, len), 0);
			name[i] = (char)('a' + i);
		}
		open_raw(&c, hex);
		CHECK_RC(straw_cursor_atom_eq(&c, name, len), 1);
		CHECK(straw_cursor_at_end(&c));
	}
	open_raw(&c, "83 7702 6100");
	CHECK_RC(straw_cursor_atom_eq(&c, "a", 1), 0);
	CHECK_RC(straw_cursor_atom_eq(&c, "a\0", 2), 1);
	open_raw(&c, "83 64000269 74");
	CHECK_RC(straw_cursor_atom_eq(&c, "it", 2), 1);
	open_raw(&c, "83 6101");
	CHECK_RC(straw_cursor_atom_eq(&c, "a", 1), 0);
	open_raw(&c, "83 7705 6974");
	CHECK_RC(straw_cursor_atom_eq(&c, "it", 2), STRAW_ETRUNC);
	open_raw(&c, "83 760001 80");
	CHECK_RC(straw_cursor_atom_eq(&c, "\x80", 1), STRAW_EBADATOM);
	open_raw(&c, "83 C8");
	CHECK_RC(straw_cursor_atom_eq(&c, "a", 1), STRAW_EBADTAG);
}

CASE(tagged)
{
	straw_cursor c;
	const uint8_t *d;
	size_t dl;
	uint32_t arity = 99;
	int64_t v;

	/* {item, 1, <<20 bytes>>}: more than 16 bytes, then the last ones. */
	open_hex(&c, "83 6803 7704 6974656D 6101 6D00000014 "
	             "0102030405060708090A0B0C0D0E0F1011121314");
	CHECK_RC(straw_cursor_tagged(&c, "itex", 4, &arity), 0);
	CHECK_EQ(arity, 0);
	CHECK_RC(straw_cursor_tagged(&c, "ite", 3, &arity), 0);
	CHECK_RC(straw_cursor_tagged(&c, "items", 5, &arity), 0);
	CHECK_RC(straw_cursor_tagged(&c, "", 0, &arity), 0);
	CHECK_EQ(straw_cursor_offset(&c), 1); /* nothing consumed */
	CHECK_RC(straw_cursor_tagged(&c, "item", 4, &arity), 1);
	CHECK_EQ(arity, 3);
	CHECK_EQ(straw_cursor_offset(&c), 9);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 1);
	CHECK_RC(straw_cursor_binary(&c, &d, &dl), 0);
	CHECK_EQ(dl, 20);
	CHECK(straw_cursor_at_end(&c));
	/* Short terms, within 16 bytes of the end: {a}, {a, b}. */
	open_hex(&c, "83 6801 770161");
	CHECK_RC(straw_cursor_tagged(&c, "a", 1, &arity), 1);
	CHECK_EQ(arity, 1);
	CHECK(straw_cursor_at_end(&c));
	open_hex(&c, "83 6802 770161 770162");
	CHECK_RC(straw_cursor_tagged(&c, "b", 1, &arity), 0);
	CHECK_RC(straw_cursor_tagged(&c, "a", 1, &arity), 1);
	CHECK_EQ(arity, 2);
	CHECK_RC(straw_cursor_atom_eq(&c, "b", 1), 1);
	CHECK(straw_cursor_at_end(&c));
	/* The general cases: LARGE_TUPLE_EXT, a Latin-1 ATOM_EXT tag, an
	 * ATOM_UTF8_EXT tag. */
	open_hex(&c, "83 6900000002 7704 6974656D 6107");
	CHECK_RC(straw_cursor_tagged(&c, "item", 4, &arity), 1);
	CHECK_EQ(arity, 2);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 7);
	open_hex(&c, "83 6802 640002 E974 6107");
	CHECK_RC(straw_cursor_tagged(&c, "\xC3\xA9t", 3, &arity), 1);
	CHECK_EQ(arity, 2);
	open_hex(&c, "83 6802 760002 6974 6107");
	CHECK_RC(straw_cursor_tagged(&c, "it", 2, &arity), 1);
	/* Not a tagged tuple: nothing consumed, 0. */
	open_hex(&c, "83 6800");
	CHECK_RC(straw_cursor_tagged(&c, "a", 1, &arity), 0);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	open_hex(&c, "83 6802 6101 6102");
	CHECK_RC(straw_cursor_tagged(&c, "a", 1, &arity), 0);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	open_hex(&c, "83 770161");
	CHECK_RC(straw_cursor_tagged(&c, "a", 1, &arity), 0);
	CHECK_RC(straw_cursor_atom_eq(&c, "a", 1), 1);
	/* Inside a STRING_EXT the elements are integers. */
	open_hex(&c, "83 6B0002 6162");
	CHECK_RC(straw_cursor_list(&c, &arity), 0);
	CHECK_RC(straw_cursor_tagged(&c, "a", 1, &arity), 0);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 'a');
	/* Malformed: an arity the bytes cannot hold, a cut atom, a bad tag,
	 * a bad UTF-8 tag; nothing consumed. */
	open_raw(&c, "83 6809 7704 6974656D");
	CHECK_RC(straw_cursor_tagged(&c, "item", 4, &arity), STRAW_ETRUNC);
	CHECK_EQ(arity, 0);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	open_raw(&c, "83 6802 7704 6974");
	CHECK_RC(straw_cursor_tagged(&c, "item", 4, &arity), STRAW_ETRUNC);
	open_raw(&c, "83 C8");
	CHECK_RC(straw_cursor_tagged(&c, "a", 1, &arity), STRAW_EBADTAG);
	open_raw(&c, "83 6801 C8");
	CHECK_RC(straw_cursor_tagged(&c, "a", 1, &arity), STRAW_EBADTAG);
	open_raw(&c, "83 6801 760001 80");
	CHECK_RC(straw_cursor_tagged(&c, "\x80", 1, &arity), STRAW_EBADATOM);
	CHECK_EQ(straw_cursor_offset(&c), 1);
}

CASE(unchecked_identifiers)
{
	straw_erl_pid pid;
	straw_erl_ref ref;
	straw_erl_port port;
	char m[16], f[16];
	uint8_t arity;
	straw_cursor c;

	/* A pid cut in its fixed part, with a node that is not an atom,
	 * with an invalid node atom. */
	open_raw(&c, "83 58 770161 00000001 00000002 000000");
	CHECK_RC(straw_cursor_pid(&c, &pid), STRAW_ETRUNC);
	open_raw(&c, "83 58 6A 00000001 00000002 00000003");
	CHECK_RC(straw_cursor_pid(&c, &pid), STRAW_EBADTERM);
	open_raw(&c, "83 58 7701FF 00000001 00000002 00000003");
	CHECK_RC(straw_cursor_pid(&c, &pid), STRAW_EBADATOM);
	open_raw(&c, "83 58 770161 00000001 00000002 00000003");
	CHECK_RC(straw_cursor_pid(&c, &pid), 0);
	CHECK_STR(pid.node, "a");
	CHECK_EQ(pid.creation, 3);
	/* A reference of 6 words. */
	open_raw(&c, "83 5A0006 770161 00000001 00000001 00000002 00000003 "
	             "00000004 00000005 00000006");
	CHECK_RC(straw_cursor_ref(&c, &ref), STRAW_EBADTERM);
	open_raw(&c, "83 5A0001 770161 00000001");
	CHECK_RC(straw_cursor_ref(&c, &ref), STRAW_ETRUNC);
	open_raw(&c, "83 59 770161 00000001");
	CHECK_RC(straw_cursor_port(&c, &port), STRAW_ETRUNC);
	/* What OTP 25 refuses: references of no id words, old forms with a
	 * creation above 3 or a first reference word of 2^18 or more; the
	 * reads, skip and term refuse them and consume nothing. */
	{
		static const char *refused[] = {
		        "83 5A0000 770161 00000000",
		        "83 720000 770161 00",
		        "83 65 770161 00040000 00",
		        "83 65 770161 00000001 04",
		        "83 720001 770161 04 00000001",
		        "83 720002 770161 00 00040000 00000000",
		        "83 67 770161 00000001 00000002 04",
		        "83 66 770161 00000001 04",
		};
		const uint8_t *t;
		size_t i, tn;
		for (i = 0; i < TU_LEN(refused); i++) {
			int type;
			open_raw(&c, refused[i]);
			type = straw_cursor_type(&c);
			if (type == STRAW_TERM_REF)
				CHECK_RC(straw_cursor_ref(&c, &ref),
				         STRAW_EBADTERM);
			else if (type == STRAW_TERM_PID)
				CHECK_RC(straw_cursor_pid(&c, &pid),
				         STRAW_EBADTERM);
			else
				CHECK_RC(straw_cursor_port(&c, &port),
				         STRAW_EBADTERM);
			CHECK_RC(straw_cursor_skip(&c), STRAW_EBADTERM);
			CHECK_RC(straw_cursor_term(&c, &t, &tn),
			         STRAW_EBADTERM);
			CHECK_EQ(straw_cursor_offset(&c), 1);
		}
	}
	/* Their edges are read. */
	open_raw(&c, "83 65 770161 0003FFFF 03");
	CHECK_RC(straw_cursor_ref(&c, &ref), 0);
	CHECK_EQ(ref.len, 1);
	CHECK_EQ_U(ref.id[0], 0x3FFFF);
	CHECK_EQ(ref.creation, 3);
	open_raw(&c, "83 67 770161 00000001 00000002 03");
	CHECK_RC(straw_cursor_pid(&c, &pid), 0);
	CHECK_EQ(pid.creation, 3);
	/* fun M:F/A: arity not a small integer; module not an atom. */
	open_raw(&c, "83 71 77016D 770166 6200000001");
	CHECK_RC(straw_cursor_export(&c, m, sizeof(m), f, sizeof(f), &arity),
	         STRAW_EBADTERM);
	open_raw(&c, "83 71 6A 770166 6101");
	CHECK_RC(straw_cursor_export(&c, m, sizeof(m), f, sizeof(f), &arity),
	         STRAW_EBADTERM);
	open_raw(&c, "83 71 77016D 770166 61");
	CHECK_RC(straw_cursor_export(&c, m, sizeof(m), f, sizeof(f), &arity),
	         STRAW_ETRUNC);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	open_raw(&c, "83 71 77016D 770166 6101");
	CHECK_RC(straw_cursor_export(&c, m, sizeof(m), f, sizeof(f), &arity),
	         0);
	CHECK_EQ(arity, 1);
}

CASE(unchecked_strings)
{
	/* Inside a STRING_EXT the element bytes are not tags: "a\5" reads
	 * as 97 then 5, never as SMALL_INTEGER 5. */
	straw_cursor c;
	uint32_t n;
	int64_t v;

	open_raw(&c, "83 6B0002 6105");
	CHECK_RC(straw_cursor_list(&c, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_RC(straw_cursor_tuple(&c, &n), STRAW_ETYPE);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 97);
	CHECK_EQ(straw_cursor_offset(&c), 5);
	CHECK_RC(straw_cursor_int64(&c, &v), 0);
	CHECK_EQ(v, 5);
	CHECK_RC(straw_cursor_int64(&c, &v), STRAW_ETYPE);
	CHECK(!straw_cursor_at_end(&c));
	CHECK_RC(straw_cursor_nil(&c), 0);
	CHECK(straw_cursor_at_end(&c));
	open_raw(&c, "83 6B0003 6105");
	CHECK_RC(straw_cursor_list(&c, &n), STRAW_ETRUNC);
}

CASE(unchecked_skip)
{
	/* skip and term validate what they step over. */
	straw_cursor c;
	const uint8_t *t;
	size_t len;

	open_raw(&c, "83 6802 46FFF0000000000000 6A");
	CHECK_RC(straw_cursor_skip(&c), STRAW_EBADTERM);
	CHECK_RC(straw_cursor_term(&c, &t, &len), STRAW_EBADTERM);
	CHECK_EQ(straw_cursor_offset(&c), 1);
	open_raw(&c, "83 6802 6A");
	CHECK_RC(straw_cursor_skip(&c), STRAW_ETRUNC);
	open_raw(&c, "83 6802 6A6A");
	CHECK_RC(straw_cursor_term(&c, &t, &len), 0);
	CHECK_EQ(len, 4);
	CHECK(t == raw_ + 1);
	CHECK(straw_cursor_at_end(&c));
}

/* The reads a decoder of the bench's shape makes; returns 0 or a code. */
static int
walk_items(const uint8_t *buf, size_t len)
{
	straw_cursor c;
	uint32_t n, arity;
	int rc;

	if ((rc = straw_cursor_init(&c, buf, len)) != 0 ||
	    (rc = straw_cursor_list(&c, &n)) != 0)
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *d;
		size_t dl;
		int64_t v;
		double f;
		if ((rc = straw_cursor_tuple(&c, &arity)) != 0)
			return rc;
		if ((rc = straw_cursor_atom_is(&c, "item")) != 1)
			return rc == 0 ? STRAW_ETYPE : rc;
		if ((rc = straw_cursor_int64(&c, &v)) != 0 ||
		    (rc = straw_cursor_binary(&c, &d, &dl)) != 0 ||
		    (rc = straw_cursor_double(&c, &f)) != 0)
			return rc;
	}
	if ((rc = straw_cursor_nil(&c)) != 0)
		return rc;
	return straw_cursor_at_end(&c) ? 0 : STRAW_ETRAILING;
}

CASE(unchecked_prefixes)
{
	/* Every proper prefix of a valid term, in an exact-size buffer:
	 * the shaped walk and the generic walk give STRAW_ETRUNC, as
	 * straw_term_check does; the whole term reads. */
	straw_builder b;
	uint8_t *out, *cut;
	size_t len;

	straw_builder_init(&b);
	straw_build_list(&b, 3);
	for (int i = 0; i < 3; i++) {
		straw_build_tuple(&b, 4);
		straw_build_atomz(&b, "item");
		straw_build_int(&b, i == 1 ? 100000 : i);
		straw_build_binary(&b, "0123456789", 10);
		straw_build_double(&b, 4.5);
	}
	straw_build_nil(&b);
	CHECK_RC(straw_builder_finish(&b, &out, &len), 0);
	CHECK_RC(walk_items(out, len), 0);
	CHECK_RC(tu_walk(out, len), 0);
	for (size_t k = 1; k < len; k++) {
		cut = malloc(k);
		CHECK(cut != NULL);
		memcpy(cut, out, k);
		CHECK_RC(straw_term_check(cut, k, NULL, NULL), STRAW_ETRUNC);
		CHECK_RC(walk_items(cut, k), STRAW_ETRUNC);
		CHECK_RC(tu_walk(cut, k), STRAW_ETRUNC);
		free(cut);
	}
	/* One trailing byte. */
	cut = malloc(len + 1);
	CHECK(cut != NULL);
	memcpy(cut, out, len);
	cut[len] = 'j';
	CHECK_RC(walk_items(cut, len + 1), STRAW_ETRAILING);
	free(cut);
	straw_free(out);
	free(raw_);
	raw_ = NULL;
}

CHECK_MAIN(integers, bignums, floats, atoms, binaries, tuples_lists_maps,
           identifiers, unchecked_bytes, unchecked_containers,
           unchecked_scalars, unchecked_atoms, atom_eq, tagged,
           unchecked_identifiers, unchecked_strings, unchecked_skip,
           unchecked_prefixes)
