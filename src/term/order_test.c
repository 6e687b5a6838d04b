/* Tests of straw_term_normalize, compare, equal and hash on edge cases. */
#include <straw/alloc.h>
#include <straw/term.h>

#include "testing/check.h"
#include "term/testutil.h"

static int
cmp_hex(const char *x, const char *y)
{
	size_t xl, yl;
	uint8_t *a = tu_unhex(x, &xl), *b = tu_unhex(y, &yl);
	int r = straw_term_compare(a, xl, b, yl);

	free(a);
	free(b);
	return (r > 0) - (r < 0);
}

static int
eq_hex(const char *x, const char *y)
{
	size_t xl, yl;
	uint8_t *a = tu_unhex(x, &xl), *b = tu_unhex(y, &yl);
	int r = straw_term_equal(a, xl, b, yl);

	free(a);
	free(b);
	return r;
}

static int
hash_eq_hex(const char *x, const char *y)
{
	size_t xl, yl;
	uint8_t *a = tu_unhex(x, &xl), *b = tu_unhex(y, &yl);
	int r = straw_term_hash(a, xl) == straw_term_hash(b, yl);

	free(a);
	free(b);
	return r;
}

/* Non-canonical encodings and what OTP 25's term_to_binary(binary_to_term
 * (In), [{minor_version,2}]) gives for them. */
static const char *const norm_table[][2] = {
        {"8363312E3530303030303030303030303030303030303030652B3030"
         "0000000000",
         "83463FF8000000000000"},
        {"83640007FC6EEF63F664E9", "83770BC3BC6EC3AF63C3B664C3A9"},
        {"837302AAAA", "837704C2AAC2AA"},
        {"836E0400FF000000", "8361FF"},
        {"836E0401FF000000", "8362FFFFFF01"},
        {"836E010100", "836100"},
        {"836200000005", "836105"},
        {"836F000000040000000080", "836E040000000080"},
        {"836C0000000161016C0000000161026C0000000161036A", "836B0003010203"},
        {"836C00000002610161026B0003616263", "836B00050102616263"},
        {"836C0000000161016C000000016102770178", "836C0000000261016102770178"},
        {"836C000000006105", "836105"},
        {"836C000000006A", "836A"},
        {"836B0000", "836A"},
        {"836C00000002620000000162000000026A", "836B00020102"},
        {"834D0000000208AABB", "836D00000002AABB"},
        {"834D0000000103FF", "834D0000000103E0"},
        {"834D0000000000", "836D00000000"},
        {"836764000161000000010000000203",
         "8358770161000000010000000200000003"},
        {"8366640001610000000503", "83597701610000000500000003"},
        {"8365640001610000002A03", "835A0001770161000000030000002A"},
        {"8372000264000161030000000100000002",
         "835A0002770161000000030000000100000002"},
        {"83740000000277016261017701616102",
         "83740000000277016161027701626101"},
        {"83716400056C697374736400036D61706102",
         "837177056C6973747377036D61706102"},
        {"8378770161000000000000000500000001", "83597701610000000500000001"},
        {"8374000000026A77017974000000017701616101770178",
         "837400000002740000000177016161017701786A770179"},
        {"836400C8E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9"
         "E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9"
         "E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9"
         "E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9"
         "E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9"
         "E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9"
         "E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9E9"
         "E9E9E9E9E9E9E9E9",
         "83760190C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
         "C3A9C3A9C3A9C3A9C3A9C3A9"},
};

CASE(normalize_encodings)
{
	size_t i;

	for (i = 0; i < TU_LEN(norm_table); i++) {
		straw_buf out = STRAW_BUF_INIT;
		size_t len, wlen;
		uint8_t *b = tu_unhex(norm_table[i][0], &len);
		uint8_t *w = tu_unhex(norm_table[i][1], &wlen);
		CHECK(b != NULL && w != NULL);
		fprintf(stderr, "  %zu\n", i);
		CHECK_RC(straw_term_normalize(b, len, NULL, &out, NULL), 0);
		CHECK_MEM(out.data, out.len, w, wlen);
		CHECK(straw_term_equal(b, len, w, wlen));
		CHECK_EQ(straw_term_compare(b, len, w, wlen), 0);
		CHECK_EQ_U(straw_term_hash(b, len), straw_term_hash(w, wlen));
		straw_buf_fini(&out);
		free(b);
		free(w);
	}
}

CASE(normalize_errors)
{
	straw_buf out = STRAW_BUF_INIT;
	size_t len, f = 0;
	/* #{a => 1, a => 2}: the same key as ATOM_EXT and SMALL_ATOM_UTF8. */
	uint8_t *b = tu_unhex("837400000002640001616101770161610200", &len);

	CHECK_RC(straw_term_normalize(b, len - 1, NULL, &out, &f),
	         STRAW_EDUPKEY);
	CHECK_EQ(f, 1);
	CHECK_EQ(out.len, 0);
	/* Checked first: the fault of the check. */
	CHECK_RC(straw_term_normalize(b, len, NULL, &out, &f), STRAW_ETRAILING);
	CHECK_EQ(f, len - 1);
	free(b);
	/* Nested: the inner map's offset. */
	b = tu_unhex("836802610174000000026101610162000000016101", &len);
	CHECK_RC(straw_term_normalize(b, len, NULL, &out, &f), STRAW_EDUPKEY);
	CHECK_EQ(f, 5);
	free(b);
	straw_buf_fini(&out);
}

CASE(numbers)
{
	/* 1 == 1.0 but not =:=. */
	CHECK_EQ(cmp_hex("836101", "83463FF0000000000000"), 0);
	CHECK_EQ(eq_hex("836101", "83463FF0000000000000"), 0);
	/* 0.0 =:= -0.0 in OTP 25; one hash. */
	CHECK_EQ(eq_hex("83460000000000000000", "83468000000000000000"), 1);
	CHECK(hash_eq_hex("83460000000000000000", "83468000000000000000"));
	/* Also inside a list, a map and a closure's free variables. */
	CHECK(hash_eq_hex("836C00000001 460000000000000000 6A",
	                  "836C00000001 468000000000000000 6A"));
	CHECK(hash_eq_hex("837400000001770161 460000000000000000",
	                  "837400000001770161 468000000000000000"));
	CHECK(hash_eq_hex("8370 0000003D 01 00000000000000000000000000000000 "
	                  "00000000 00000001 770161 6100 6100 "
	                  "58770161000000010000000000000000 "
	                  "460000000000000000",
	                  "8370 0000003D 01 00000000000000000000000000000000 "
	                  "00000000 00000001 770161 6100 6100 "
	                  "58770161000000010000000000000000 "
	                  "468000000000000000"));
	CHECK_EQ(eq_hex("8370 0000003D 01 00000000000000000000000000000000 "
	                "00000000 00000001 770161 6100 6100 "
	                "58770161000000010000000000000000 "
	                "460000000000000000",
	                "8370 0000003D 01 00000000000000000000000000000000 "
	                "00000000 00000001 770161 6100 6100 "
	                "58770161000000010000000000000000 "
	                "468000000000000000"),
	         1);
	/* 2^53 + 1 > 2^53 as a float; 2^53 == 2^53.0. */
	CHECK_EQ(cmp_hex("836E070001000000000020", "83464340000000000000"), 1);
	CHECK_EQ(cmp_hex("836E070000000000000020", "83464340000000000000"), 0);
	/* 2^64 == 1.8446744073709552e19; 2^64 - 1 < it. */
	CHECK_EQ(cmp_hex("836E0900000000000000000001", "834643F0000000000000"),
	         0);
	CHECK_EQ(cmp_hex("836E0800FFFFFFFFFFFFFFFF", "834643F0000000000000"),
	         -1);
	/* 0.5 < 1 < 1.5; -1.5 < -1; 2^2040 > 1.0e300 > -2^2040. */
	CHECK_EQ(cmp_hex("83463FE0000000000000", "836101"), -1);
	CHECK_EQ(cmp_hex("836101", "83463FF8000000000000"), -1);
	CHECK_EQ(cmp_hex("8346BFF8000000000000", "8362FFFFFFFF"), -1);
	{
		/* 2^2040 > 1.0e300 > -2^2040 */
		uint8_t mag[256] = {0}, *big;
		size_t blen, flen;
		uint8_t *f = tu_unhex("83467E37E43C8800759C", &flen);
		straw_builder b;
		mag[255] = 1;
		straw_builder_init(&b);
		straw_build_bignum(&b, 0, mag, sizeof(mag));
		CHECK_RC(straw_builder_finish(&b, &big, &blen), 0);
		CHECK_RC(straw_term_check(big, blen, NULL, NULL), 0);
		CHECK_EQ(straw_term_compare(big, blen, f, flen), 1);
		CHECK_EQ(straw_term_compare(f, flen, big, blen), -1);
		big[2 + 4] = 1; /* LARGE_BIG sign byte: negative */
		CHECK_EQ(straw_term_compare(big, blen, f, flen), -1);
		straw_free(big);
		free(f);
	}
	CHECK_EQ(cmp_hex("836E0101FF", "836E0100FF"), -1);
	CHECK_EQ(cmp_hex("836E0201FFFF", "836E0101FF"), -1);
	CHECK_EQ(cmp_hex("836E0200FFFF", "836E0100FF"), 1);
	/* Integers sort before atoms. */
	CHECK_EQ(cmp_hex("836E0200FFFF", "83770161"), -1);
}

CASE(type_order)
{
	/* number < atom < reference < fun < port < pid < tuple < map < nil <
	 * list < bit string, each by a representative. */
	static const char *const order[] = {
	        "836101",
	        "83770161",
	        "835A0001770161000000010000000A",
	        "8370 00000034 00 00000000000000000000000000000000 00000000 "
	        "00000000 770161 6100 6100 58770161000000010000000000000000"
	        "",
	        "837177016D7701666100",
	        "83597701610000000100000000",
	        "8358770161000000010000000000000000",
	        "836800",
	        "837400000000",
	        "836A",
	        "836B000161",
	        "836D00000000",
	};
	size_t i, j;

	for (i = 0; i < TU_LEN(order); i++)
		for (j = 0; j < TU_LEN(order); j++) {
			int want = (i > j) - (i < j);
			if (cmp_hex(order[i], order[j]) != want)
				fprintf(stderr, "  %zu vs %zu\n", i, j);
			CHECK_EQ(cmp_hex(order[i], order[j]), want);
		}
}

CASE(containers)
{
	/* Tuples by size first: {b} < {a,a}. */
	CHECK_EQ(cmp_hex("836801770162", "8368027701617701 61"), -1);
	/* Lists element by element, STRING_EXT against LIST_EXT. */
	CHECK_EQ(cmp_hex("836B00020102", "836C00000003610161026103 6A"), -1);
	CHECK_EQ(cmp_hex("836B00020103", "836C00000003610161026103 6A"), 1);
	CHECK_EQ(cmp_hex("836B00020102", "836C0000000261016102 6A"), 0);
	CHECK_EQ(eq_hex("836B00020102", "836C0000000261016102 6A"), 1);
	CHECK(hash_eq_hex("836B00020102", "836C0000000261016102 6A"));
	/* [1|a] < [1,2] (a tail atom before a cons); [1] < [1|a]? no:
	 * [] (nil) < a? atoms come before nil, so [1|a] < [1]. */
	CHECK_EQ(cmp_hex("836C000000016101770161", "836B00020102"), -1);
	CHECK_EQ(cmp_hex("836C000000016101770161", "836B000101"), -1);
	/* "ab" < "abc" < "b" */
	CHECK_EQ(cmp_hex("836B00026162", "836B0003616263"), -1);
	CHECK_EQ(cmp_hex("836B0003616263", "836B000162"), -1);
	/* Maps: size, then keys in order, then values:
	 * #{a=>2,b=>1} < #{a=>1,c=>1}. */
	CHECK_EQ(cmp_hex("83740000000277016161027701626101",
	                 "83740000000277016161017701636101"),
	         -1);
	/* Keys compare exactly: #{1 => a} < #{1.0 => a}, not equal. */
	CHECK_EQ(cmp_hex("8374000000016101770161",
	                 "83740000000146 3FF0000000000000 770161"),
	         -1);
	/* Values compare by value: #{a => 1} == #{a => 1.0}, not =:=. */
	CHECK_EQ(cmp_hex("8374000000017701616101",
	                 "837400000001770161 463FF0000000000000"),
	         0);
	CHECK_EQ(eq_hex("8374000000017701616101",
	                "837400000001770161 463FF0000000000000"),
	         0);
	/* Maps in any key order are equal and hash alike. */
	CHECK_EQ(eq_hex("83740000000277016261017701616102",
	                "83740000000277016161027701626101"),
	         1);
	CHECK(hash_eq_hex("83740000000277016261017701616102",
	                  "83740000000277016161027701626101"));
	/* Bit strings: bytes, then length. */
	CHECK_EQ(cmp_hex("836D00000000", "834D0000000103A0"), -1);
	CHECK_EQ(cmp_hex("836D0000000100", "834D0000000103A0"), -1);
	CHECK_EQ(cmp_hex("834D0000000103A0", "836D00000001A0"), -1);
	CHECK_EQ(cmp_hex("836D00000001A0", "836D00000001A1"), -1);
}

CASE(identifiers)
{
	/* Pids by serial, then number, then node, then creation. */
	CHECK_EQ(cmp_hex("8358770162000000020000000100000001",
	                 "8358770161000000010000000200000001"),
	         -1);
	CHECK_EQ(cmp_hex("8358770162000000010000000100000001",
	                 "8358770161000000010000000100000002"),
	         1);
	/* Ports by node, creation, number. */
	CHECK_EQ(cmp_hex("83597701610000000200000001",
	                 "83597701610000000100000002"),
	         -1);
	/* References by node, creation, length, then words from the last. */
	CHECK_EQ(cmp_hex("835A0002770161000000010000000200000001",
	                 "835A0002770161000000010000000100000002"),
	         -1);
	CHECK_EQ(cmp_hex("835A0001770161000000010000000A",
	                 "835A0002770161000000010000000100000001"),
	         -1);
	/* Closures before exports; exports by module, function, arity. */
	CHECK_EQ(cmp_hex("837177016D7701666101", "837177016D7701666102"), -1);
	CHECK_EQ(cmp_hex("837177016D7701676101", "837177016D7701666102"), 1);
}

CASE(invalid_terms)
{
	/* Invalid bytes order after valid terms; equal only to themselves. */
	CHECK_EQ(cmp_hex("8368", "836101"), 1);
	CHECK_EQ(cmp_hex("836101", "8368"), -1);
	CHECK_EQ(cmp_hex("8368", "8369"), -1);
	CHECK_EQ(eq_hex("8368", "8368"), 1);
	CHECK_EQ(eq_hex("8368", "836101"), 0);
	CHECK(hash_eq_hex("8368", "8368"));
}

CASE(deep_terms)
{
	/* 2,000,000 nested lists: refused by default, normalized when the
	 * limit allows, all without recursion. */
	straw_term_limits lim = {3000000, 0, 0};
	straw_buf out = STRAW_BUF_INIT;
	size_t len, clen, f = 0;
	uint8_t *b = tu_deep_list(2000000, &len), *c;

	CHECK(b != NULL);
	CHECK_RC(straw_term_normalize(b, len, NULL, &out, &f), STRAW_EDEPTH);
	CHECK_EQ(f, 1 + 5 * (size_t)1000000);
	CHECK_RC(straw_term_normalize(b, len, &lim, &out, &f), 0);
	CHECK_MEM(out.data, out.len, b, len);
	free(b);
	/* Order, equality and hash at 200,000 levels (a recursive walk
	 * would need far more than the C stack); kept smaller so that the
	 * test stays quick under sanitizers. */
	b = tu_deep_list(200000, &len);
	c = tu_deep_list(199999, &clen);
	CHECK(b != NULL && c != NULL);
	CHECK_RC(straw_term_normalize(b, len, NULL, &out, &f), 0);
	CHECK_EQ(straw_term_compare(b, len, out.data, out.len), 0);
	CHECK_EQ(straw_term_equal(b, len, out.data, out.len), 1);
	CHECK_EQ_U(straw_term_hash(b, len), straw_term_hash(out.data, out.len));
	/* One level less: the innermost [] against [[]]. */
	CHECK_EQ(straw_term_compare(c, clen, b, len), -1);
	CHECK_EQ(straw_term_compare(b, len, c, clen), 1);
	CHECK_EQ(straw_term_equal(c, clen, b, len), 0);
	free(b);
	free(c);
	straw_buf_fini(&out);
}

CHECK_MAIN(normalize_encodings, normalize_errors, numbers, type_order,
           containers, identifiers, invalid_terms, deep_terms)
