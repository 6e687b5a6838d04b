/* Tests of the builder: its bytes against OTP 25's term_to_binary with
 * minor_version 2, and its sticky errors. */
#include <math.h>

#include <straw/alloc.h>
#include <straw/term.h>

#include "testing/check.h"
#include "term/testutil.h"

/* Finishes b and compares with the expected hex. */
static void
expect_hex(straw_builder *b, const char *hex)
{
	uint8_t *out, *want;
	size_t len, wlen = 0;

	CHECK_RC(straw_builder_finish(b, &out, &len), 0);
	want = tu_unhex(hex, &wlen);
	CHECK_MEM(out, len, want, wlen);
	CHECK_RC(straw_term_check(out, len, NULL, NULL), 0);
	straw_free(out);
	free(want);
	straw_builder_init(b);
}

CASE(integers)
{
	straw_builder b;
	static const uint8_t mag[] = {0, 0, 0, 0x80, 0, 0};
	uint8_t big[256] = {0};

	straw_builder_init(&b);
	straw_build_int(&b, 0);
	expect_hex(&b, "836100");
	straw_build_int(&b, 255);
	expect_hex(&b, "8361FF");
	straw_build_int(&b, 256);
	expect_hex(&b, "836200000100");
	straw_build_int(&b, -1);
	expect_hex(&b, "8362FFFFFFFF");
	straw_build_int(&b, INT32_MAX);
	expect_hex(&b, "83627FFFFFFF");
	straw_build_int(&b, INT32_MIN);
	expect_hex(&b, "836280000000");
	straw_build_int(&b, 2147483648LL);
	expect_hex(&b, "836E040000000080");
	straw_build_int(&b, -2147483649LL);
	expect_hex(&b, "836E040101000080");
	straw_build_uint(&b, UINT64_MAX);
	expect_hex(&b, "836E0800FFFFFFFFFFFFFFFF");
	straw_build_int(&b, INT64_MIN);
	expect_hex(&b, "836E08010000000000000080");
	/* Magnitudes with high zeros shrink to the smallest encoding. */
	straw_build_bignum(&b, 1, mag, sizeof(mag));
	expect_hex(&b, "836280000000");
	straw_build_bignum(&b, 0, mag, sizeof(mag));
	expect_hex(&b, "836E040000000080");
	straw_build_bignum(&b, 1, mag, 0);
	expect_hex(&b, "836100");
	big[255] = 1;
	straw_build_bignum(&b, 0, big, sizeof(big));
	{
		char hex[600];
		size_t i = (size_t)sprintf(hex, "836F0000010000");
		for (int k = 0; k < 255; k++)
			i += (size_t)sprintf(hex + i, "00");
		sprintf(hex + i, "01");
		expect_hex(&b, hex);
	}
	straw_builder_fini(&b);
}

CASE(floats_atoms_binaries)
{
	straw_builder b;
	char name[400];

	straw_builder_init(&b);
	straw_build_double(&b, 1.5);
	expect_hex(&b, "83463FF8000000000000");
	straw_build_double(&b, -0.0);
	expect_hex(&b, "83468000000000000000");
	straw_build_atomz(&b, "ok");
	expect_hex(&b, "8377026F6B");
	straw_build_atomz(&b, "\xc3\xbcn\xc3\xaf"
	                      "c\xc3\xb6"
	                      "d\xc3\xa9");
	expect_hex(&b, "83770BC3BC6EC3AF63C3B664C3A9");
	straw_build_atom(&b, "", 0);
	expect_hex(&b, "837700");
	/* 100 x U+65E5: 300 bytes, ATOM_UTF8. */
	for (int i = 0; i < 100; i++)
		memcpy(name + 3 * i, "\xe6\x97\xa5", 3);
	straw_build_atom(&b, name, 300);
	{
		char hex[700];
		size_t o = (size_t)sprintf(hex, "8376012C");
		for (int i = 0; i < 100; i++)
			o += (size_t)sprintf(hex + o, "E697A5");
		expect_hex(&b, hex);
	}
	straw_build_binary(&b, "\1\2\3", 3);
	expect_hex(&b, "836D00000003010203");
	straw_build_binary(&b, NULL, 0);
	expect_hex(&b, "836D00000000");
	/* <<1,2:3>>, garbage low bits cleared; <<5:3>>. */
	straw_build_bitstring(&b, "\x01\x5F", 11);
	expect_hex(&b, "834D00000002030140");
	straw_build_bitstring(&b, "\xA0", 3);
	expect_hex(&b, "834D0000000103A0");
	straw_build_bitstring(&b, "\xAB", 8);
	expect_hex(&b, "836D00000001AB");
	straw_builder_fini(&b);
}

CASE(containers)
{
	straw_builder b;
	char *big = malloc(70000);

	straw_builder_init(&b);
	straw_build_tuple(&b, 3);
	straw_build_atomz(&b, "a");
	straw_build_int(&b, 1);
	straw_build_binary(&b, "b", 1);
	expect_hex(&b, "8368037701616101"
	               "6D0000000162");
	straw_build_tuple(&b, 0);
	expect_hex(&b, "836800");
	straw_build_string(&b, "abc", 3);
	expect_hex(&b, "836B0003616263");
	straw_build_string(&b, "", 0);
	expect_hex(&b, "836A");
	straw_build_list(&b, 0);
	expect_hex(&b, "836A");
	/* [a|b] */
	straw_build_list(&b, 1);
	straw_build_atomz(&b, "a");
	straw_build_atomz(&b, "b");
	expect_hex(&b, "836C00000001770161770162");
	/* #{a => 1} */
	straw_build_map(&b, 1);
	straw_build_atomz(&b, "a");
	straw_build_int(&b, 1);
	expect_hex(&b, "8374000000017701616101");
	/* Strings past 65535 bytes become lists of integers, like OTP. */
	memset(big, 'x', 70000);
	straw_build_string(&b, big, 70000);
	{
		uint8_t *out;
		size_t len;
		CHECK_RC(straw_builder_finish(&b, &out, &len), 0);
		CHECK_EQ(len, 1 + 5 + 2 * 70000 + 1);
		CHECK_EQ(out[1], 'l');
		CHECK_EQ(out[len - 1], 'j');
		CHECK_RC(straw_term_check(out, len, NULL, NULL), 0);
		straw_free(out);
	}
	straw_builder_init(&b);
	/* Large tuple. */
	straw_build_tuple(&b, 256);
	for (int i = 0; i < 256; i++)
		straw_build_int(&b, i + 1);
	{
		uint8_t *out;
		size_t len;
		CHECK_RC(straw_builder_finish(&b, &out, &len), 0);
		CHECK_EQ(out[1], 'i');
		CHECK_RC(straw_term_check(out, len, NULL, NULL), 0);
		straw_free(out);
	}
	free(big);
}

CASE(identifiers)
{
	straw_builder b;
	straw_erl_pid pid = {"nonode@nohost", 0x55, 0, 0};
	straw_erl_port port = {"nonode@nohost", 5, 0};
	straw_erl_ref ref = {"nonode@nohost", 0, 3, {3, 2, 1, 0, 0}};

	straw_builder_init(&b);
	straw_build_pid(&b, &pid);
	expect_hex(&b, "8358770D"
	               "6E6F6E6F6465406E6F686F7374000000550000000000000000");
	CHECK(1);
	straw_build_port(&b, &port);
	expect_hex(&b, "8359770D6E6F6E6F6465406E6F686F73740000000500000000");
	straw_build_ref(&b, &ref);
	expect_hex(&b,
	           "835A0003770D6E6F6E6F6465406E6F686F7374000000000000000300"
	           "00000200000001");
	/* No id words: a reference OTP would read past (STRAW_ERANGE). */
	ref.len = 0;
	CHECK_RC(straw_build_ref(&b, &ref), STRAW_ERANGE);
	straw_builder_fini(&b);
	straw_builder_init(&b);
	ref.len = 3;
	port.id = 0x100000002ULL;
	strcpy(port.node, "a");
	port.creation = 3;
	straw_build_port(&b, &port);
	expect_hex(&b, "8378770161000000010000000200000003");
	/* OTP 25 writes V4_PORT_EXT past 28 bits. */
	port.id = 0xFFFFFFF;
	straw_build_port(&b, &port);
	expect_hex(&b, "8359770161"
	               "0FFFFFFF"
	               "00000003");
	port.id = 0x10000000;
	straw_build_port(&b, &port);
	expect_hex(&b, "8378770161"
	               "0000000010000000"
	               "00000003");
	straw_build_export(&b, "lists", "map", 2);
	expect_hex(&b, "837177056C6973747377036D61706102");
	straw_builder_fini(&b);
}

CASE(sticky_errors)
{
	straw_builder b;
	uint8_t *out = (uint8_t *)&b;
	size_t len = 99;
	static const uint8_t raw_ok[] = {'a', 7};
	static const uint8_t raw_bad[] = {'h', 2, 'a'};

	straw_builder_init(&b);
	CHECK_RC(straw_build_tuple(&b, 2), 0);
	CHECK_RC(straw_build_double(&b, NAN), STRAW_ERANGE);
	CHECK_RC(straw_build_int(&b, 1), STRAW_ERANGE);
	CHECK_RC(straw_build_atomz(&b, "x"), STRAW_ERANGE);
	CHECK_RC(straw_builder_finish(&b, &out, &len), STRAW_ERANGE);
	CHECK(out == NULL);
	CHECK_EQ(len, 0);
	straw_builder_init(&b);
	CHECK_RC(straw_build_atom(&b, "\xff", 1), STRAW_EBADATOM);
	straw_builder_reset(&b);
	CHECK_RC(straw_build_double(&b, INFINITY), STRAW_ERANGE);
	straw_builder_reset(&b);
	CHECK_RC(straw_build_raw(&b, raw_bad, sizeof(raw_bad)), STRAW_ETRUNC);
	straw_builder_reset(&b);
	{
		char name[300];
		memset(name, 'a', sizeof(name));
		CHECK_RC(straw_build_atom(&b, name, 256), STRAW_EBADATOM);
		straw_builder_reset(&b);
		CHECK_RC(straw_build_atom(&b, name, 255), 0);
		straw_builder_reset(&b);
	}
	CHECK_RC(straw_build_raw(&b, raw_ok, sizeof(raw_ok)), 0);
	expect_hex(&b, "836107");
	straw_builder_fini(&b);
	straw_builder_fini(NULL);
}

CHECK_MAIN(integers, floats_atoms_binaries, containers, identifiers,
           sticky_errors)
