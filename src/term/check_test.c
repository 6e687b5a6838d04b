/* Tests of straw_term_check: valid terms, and every error with its exact
 * code and offset. */
#include <straw/alloc.h>
#include <straw/term.h>
#include <zlib.h>

#include "testing/check.h"
#include "term/testutil.h"

/* Checks hex; expects rc and (for errors) the fault offset. */
static int
check_hex(const char *hex, size_t *fault)
{
	size_t len;
	uint8_t *b = tu_unhex(hex, &len);
	int rc;

	if (b == NULL)
		return -9999;
	*fault = (size_t)-1;
	rc = straw_term_check(b, len, NULL, fault);
	free(b);
	return rc;
}

#define EXPECT(hex, code, off)                         \
	do {                                           \
		size_t f_;                             \
		CHECK_RC(check_hex((hex), &f_), code); \
		if ((code) != 0)                       \
			CHECK_EQ(f_, (off));           \
	} while (0)

CASE(valid_terms)
{
	static const char *ok[] = {
	        "836100",
	        "8361FF",
	        "836200000100",
	        "836E040000000080",
	        "836E0901000000000000000001",
	        "83463FF8000000000000",
	        "836400026F6B",
	        "83640000",
	        "837709E697A5E69CACE8AA9E",
	        "836A",
	        "836B0003616263",
	        "836C000000016400016164000162",
	        "836C000000016C000000016C000000016C000000016A6A6A6A6A",
	        "836800",
	        "8368036400016161016D0000000162",
	        "836D00000000",
	        "834D00000002030140",
	        "837400000000",
	        "8374000000026400016161016D000000016B6C00000001640001786A",
	        "83716400056C697374736400036D61706102",
	        "835864000D6E6F6E6F6465406E6F686F7374000000550000000000000000",
	        "835A000364000D6E6F6E6F6465406E6F686F73740000000000000003000000"
	        "0200000001",
	        "835964000D6E6F6E6F6465406E6F686F73740000000500000000",
	        "8363312E3530303030303030303030303030303030303030652B30300000"
	        "000000",
	        "835000000646789CCB6160603891C2C09A919A93933F4A8FD2A3F4283D4A8F"
	        "D2A4D059009A5CF356",
	        /* A closure from OTP 25, NEW_FUN_EXT with one free variable. */
	        "83700000004C01A7CE600A7270E56B2EE4961C3D0D5C2E00000000000000"
	        "0164000676656367656E610062053E73005864000D6E6F6E6F6465406E6F"
	        "686F73740000000900000000000000006107",
	        /* PID_EXT, PORT_EXT, REFERENCE_EXT, NEW_REFERENCE_EXT. */
	        "836764000161000000010000000203",
	        "8366640001610000000103",
	        "8365640001610000000103",
	        "8372000164000161030000002A",
	        /* The old forms at the edges of what OTP 25 accepts:
	         * creation 3, a first reference word of 2^18 - 1. */
	        "8367770161FFFFFFFFFFFFFFFF03",
	        "8366770161FFFFFFFF03",
	        "83657701610003FFFF03",
	        "83720002770161030003FFFFFFFFFFFF",
	        /* V4_PORT_EXT; the newer forms take any values. */
	        "8378770161000000010000000200000003",
	        "835A0002770161FFFFFFFFFFFFFFFFFFFFFFFF",
	};
	size_t i, f;

	for (i = 0; i < TU_LEN(ok); i++) {
		int rc = check_hex(ok[i], &f);
		if (rc != 0)
			fprintf(stderr, "vector %zu: %s at %zu\n", i, ok[i], f);
		CHECK_RC(rc, 0);
	}
	EXPECT("836C000000006101", 0, 0);
}

CASE(identifiers_otp_refuses)
{
	/* A reference with no id words, in both forms: OTP reads the next
	 * word as its id (so {Ref, 5} is another term there). */
	EXPECT("835A000077016100000000", STRAW_EBADTERM, 1);
	EXPECT("837200007701610003", STRAW_EBADTERM, 1);
	EXPECT("8368025A0000770361406200000000"
	       "6105",
	       STRAW_EBADTERM, 3);
	EXPECT("83680272000077036140620061"
	       "05",
	       STRAW_EBADTERM, 3);
	/* One-byte creations above 3 (old pid, port, references). */
	EXPECT("8367770161000000010000000204", STRAW_EBADTERM, 1);
	EXPECT("83677701610000000100000002FF", STRAW_EBADTERM, 1);
	EXPECT("83667701610000000104", STRAW_EBADTERM, 1);
	EXPECT("83657701610000000104", STRAW_EBADTERM, 1);
	EXPECT("837200017701610400000001", STRAW_EBADTERM, 1);
	/* A first reference word of 2^18 or more. */
	EXPECT("83657701610004000001", STRAW_EBADTERM, 1);
	EXPECT("8365770161FFFFFFFF01", STRAW_EBADTERM, 1);
	EXPECT("83720002770161010004000000000000", STRAW_EBADTERM, 1);
	/* Deeper in: the offset is the identifier's tag. */
	EXPECT("836C00000001667701610000000104"
	       "6A",
	       STRAW_EBADTERM, 6);
	/* Truncation is reported before a field is looked at. */
	EXPECT("8365770161FFFFFFFF", STRAW_ETRUNC, 1);
	/* A closure whose creator is an old pid: creation 3, then 4. */
	EXPECT("83700000004901A7CE600A7270E56B2EE4961C3D0D5C2E0000000000000001"
	       "64000676656367656E610062053E73006764000D6E6F6E6F6465406E6F68"
	       "6F73740000000900000000036107",
	       0, 0);
	EXPECT("83700000004901A7CE600A7270E56B2EE4961C3D0D5C2E0000000000000001"
	       "64000676656367656E610062053E73006764000D6E6F6E6F6465406E6F68"
	       "6F73740000000900000000046107",
	       STRAW_EBADTERM, 1);
}

CASE(version_and_tag)
{
	size_t f = 7;

	CHECK_RC(straw_term_check(NULL, 0, NULL, &f), STRAW_EVERSION);
	CHECK_EQ(f, 0);
	EXPECT("826100", STRAW_EVERSION, 0);
	EXPECT("83", STRAW_ETRUNC, 1);
	EXPECT("8300", STRAW_EBADTAG, 1);
	EXPECT("8368026100FF", STRAW_EBADTAG, 5);
	EXPECT("8352", STRAW_EBADTAG, 1);     /* ATOM_CACHE_REF */
	EXPECT("83680150", STRAW_EBADTAG, 3); /* compressed inside */
}

CASE(trailing)
{
	EXPECT("83610000", STRAW_ETRAILING, 3);
	EXPECT("836A6A", STRAW_ETRAILING, 2);
	EXPECT("8368026101610200", STRAW_ETRAILING, 7);
}

CASE(truncated_everything)
{
	/* Every proper prefix of each term is truncated at the innermost
	 * term that runs past the end, never beyond the buffer. */
	static const char *terms[] = {
	        "836200000100",
	        "836E040000000080",
	        "836F000000040100000001",
	        "83463FF8000000000000",
	        "8363312E3530303030303030303030303030303030303030652B303000000"
	        "00000",
	        "836400026F6B",
	        "837302AAAA",
	        "837709E697A5E69CACE8AA9E",
	        "8376000161",
	        "836B0003616263",
	        "836C00000002610161026103",
	        "8368036400016161016D0000000162",
	        "836900000001610A",
	        "834D0000000103A0",
	        "8374000000016101740000000161027400000000",
	        "83716400056C697374736400036D61706102",
	        "835864000D6E6F6E6F6465406E6F686F7374000000550000000000000000",
	        "835A000364000D6E6F6E6F6465406E6F686F73740000000000000003000000"
	        "0200000001",
	        "8378770161000000010000000200000003",
	        "83700000004C01A7CE600A7270E56B2EE4961C3D0D5C2E00000000000000"
	        "0164000676656367656E610062053E73005864000D6E6F6E6F6465406E6F"
	        "686F73740000000900000000000000006107",
	};
	size_t t, cut;

	for (t = 0; t < TU_LEN(terms); t++) {
		size_t len, f;
		uint8_t *b = tu_unhex(terms[t], &len);
		CHECK(b != NULL);
		CHECK_RC(straw_term_check(b, len, NULL, &f), 0);
		for (cut = 1; cut < len; cut++) {
			uint8_t *copy = malloc(cut);
			int rc;
			memcpy(copy, b, cut);
			f = (size_t)-1;
			rc = straw_term_check(copy, cut, NULL, &f);
			free(copy);
			if (rc != STRAW_ETRUNC && rc != STRAW_EBADTERM)
				fprintf(stderr, "term %zu cut %zu\n", t, cut);
			/* A fun's size field then points past the end. */
			CHECK(rc == STRAW_ETRUNC ||
			      (rc == STRAW_EBADTERM && t == TU_LEN(terms) - 1));
			CHECK(f <= cut);
		}
		free(b);
	}
	/* Exact offsets. */
	EXPECT("83620000", STRAW_ETRUNC, 1);
	EXPECT("836802610161", STRAW_ETRUNC, 5);
	EXPECT("8368026101", STRAW_ETRUNC, 5); /* missing 2nd element */
	EXPECT("8368026101640005616263", STRAW_ETRUNC, 5);
	EXPECT("836D0000000561", STRAW_ETRUNC, 1);
	EXPECT("836C0000000161016A6A", STRAW_ETRAILING, 9);
}

CASE(wrong_arities)
{
	/* A tuple, list or map holding fewer terms than its count. */
	EXPECT("83680361016102", STRAW_ETRUNC, 7);
	EXPECT("836803610161", STRAW_ETRUNC, 5);
	EXPECT("8368036101", STRAW_ETRUNC, 1); /* 3 cannot fit in 2 bytes */
	EXPECT("83690000000361016102", STRAW_ETRUNC, 10);
	EXPECT("836C0000000261016102", STRAW_ETRUNC, 10); /* no tail */
	EXPECT("837400000001610161", STRAW_ETRUNC, 8);
	EXPECT("8374000000016101", STRAW_ETRUNC, 8);
	EXPECT("83740000000261016102", STRAW_ETRUNC, 10);
	EXPECT("837400000002610161", STRAW_ETRUNC, 1); /* 4 in 3 bytes */
	/* More terms than the count: trailing bytes. */
	EXPECT("836801610161", STRAW_ETRAILING, 5);
	EXPECT("8374000000016101610261", STRAW_ETRAILING, 10);
}

CASE(huge_length_fields)
{
	/* Counts that the remaining bytes cannot hold fail at once. */
	EXPECT("836CFFFFFFFF6A", STRAW_ETRUNC, 1);
	EXPECT("8369FFFFFFFF", STRAW_ETRUNC, 1);
	EXPECT("8374FFFFFFFF6101", STRAW_ETRUNC, 1);
	EXPECT("836DFFFFFFFF00", STRAW_ETRUNC, 1);
	EXPECT("834DFFFFFFFF0100", STRAW_ETRUNC, 1);
	EXPECT("836FFFFFFFFF00", STRAW_ETRUNC, 1);
	EXPECT("836BFFFF00", STRAW_ETRUNC, 1);
	EXPECT("8376FFFF61", STRAW_ETRUNC, 1);
	EXPECT("8370FFFFFFFF", STRAW_ETRUNC, 1);
	EXPECT("835AFFFF", STRAW_EBADTERM, 1);
}

CASE(atoms)
{
	char hex[2048];
	size_t i, n;

	/* 255 Latin-1 characters are fine, 256 are not. */
	n = (size_t)sprintf(hex, "836400FF");
	for (i = 0; i < 255; i++)
		n += (size_t)sprintf(hex + n, "E9");
	EXPECT(hex, 0, 0);
	n = (size_t)sprintf(hex, "83640100");
	for (i = 0; i < 256; i++)
		n += (size_t)sprintf(hex + n, "61");
	EXPECT(hex, STRAW_EBADATOM, 1);
	/* 255 three-byte characters in UTF-8 (765 bytes) are fine, 256 not. */
	n = (size_t)sprintf(hex, "837602FD");
	for (i = 0; i < 255; i++)
		n += (size_t)sprintf(hex + n, "E697A5");
	EXPECT(hex, 0, 0);
	n = (size_t)sprintf(hex, "83760300");
	for (i = 0; i < 256; i++)
		n += (size_t)sprintf(hex + n, "E697A5");
	EXPECT(hex, STRAW_EBADATOM, 1);
	/* Invalid UTF-8: a lone continuation, an overlong form, a surrogate,
	 * past U+10FFFF, a truncated sequence. */
	EXPECT("83770180", STRAW_EBADATOM, 1);
	EXPECT("837702C0AF", STRAW_EBADATOM, 1);
	EXPECT("837703EDA080", STRAW_EBADATOM, 1);
	EXPECT("837704F4908080", STRAW_EBADATOM, 1);
	EXPECT("837702E697", STRAW_EBADATOM, 1);
	EXPECT("83760002C3A9", 0, 0);
	EXPECT("8376000280C3", STRAW_EBADATOM, 1);
	/* Inside a tuple: the offset is the atom's. */
	EXPECT("83680261017701FF", STRAW_EBADATOM, 5);
	/* A pid whose node is not an atom. */
	EXPECT("8358610100000001000000020000000300", STRAW_EBADTERM, 2);
	EXPECT("8358770161FF", STRAW_ETRUNC, 1);
}

CASE(bad_fields)
{
	/* Bit binaries: bits 1..8, 0 only for an empty one. */
	EXPECT("834D000000010900", STRAW_EBADTERM, 1);
	EXPECT("834D000000010000", STRAW_EBADTERM, 1);
	EXPECT("834D0000000001", STRAW_EBADTERM, 1);
	EXPECT("834D0000000000", 0, 0);
	/* NaN and infinity floats. */
	EXPECT("83467FF8000000000000", STRAW_EBADTERM, 1);
	EXPECT("8346FFF0000000000000", STRAW_EBADTERM, 1);
	/* Old float text that is not a float. */
	EXPECT("8363"
	       "78000000000000000000000000000000000000000000000000000000000000",
	       STRAW_EBADTERM, 1);
	EXPECT("8363"
	       "312E3500000000000000000000000000000000000000000000000000000031",
	       STRAW_EBADTERM, 1);
	/* Export arity must be a SMALL_INTEGER_EXT. */
	EXPECT("837177016D770166620000000200", STRAW_EBADTERM, 8);
	EXPECT("837177016D6101620000000200", STRAW_EBADTERM, 5);
	/* References carry at most 5 id words. */
	EXPECT("835A0006770161000000000000000100000001000000010000000100000001"
	       "00000001",
	       STRAW_EBADTERM, 1);
}

CASE(funs)
{
	/* A closure whose size field is one too small, one too large. */
	EXPECT("83700000004B01A7CE600A7270E56B2EE4961C3D0D5C2E00000000000000"
	       "0164000676656367656E610062053E73005864000D6E6F6E6F6465406E6F"
	       "686F73740000000900000000000000006107",
	       STRAW_EBADTERM, 1);
	EXPECT("83700000004D01A7CE600A7270E56B2EE4961C3D0D5C2E00000000000000"
	       "0164000676656367656E610062053E73005864000D6E6F6E6F6465406E6F"
	       "686F7374000000090000000000000000610700",
	       STRAW_EBADTERM, 1);
	/* Module not an atom. */
	EXPECT("83700000004C01A7CE600A7270E56B2EE4961C3D0D5C2E00000000000000"
	       "016A00066676656367656E610062053E73005864000D6E6F6E6F6465406E6F"
	       "686F73740000000900000000000000006107",
	       STRAW_EBADTERM, 31);
}

/* A map of n pairs {Key i => 1} with integer keys as INTEGER_EXT from
 * 1000 (plain keys), key dup_of written again at position n - 1 when
 * dup_of >= 0, as hex with a version byte. */
static char *
int_map(size_t n, long dup_of)
{
	char *h = malloc(16 + 16 * n), *o = h;
	size_t i;

	o += sprintf(o, "8374%08zX", n);
	for (i = 0; i < n; i++) {
		long k = dup_of >= 0 && i == n - 1 ? 1000 + dup_of
		                                   : 1000 + (long)i;
		o += sprintf(o, "62%08lX6101", (unsigned long)k);
	}
	return h;
}

CASE(duplicate_map_keys)
{
	size_t len, f = 0, i;
	uint8_t *b;
	char *h;

	/* #{1 => 1, 1 => 2}: the offset is the map's tag. */
	EXPECT("83740000000261016101"
	       "61016102",
	       STRAW_EDUPKEY, 1);
	/* Plain keys of every kind, compared by bytes. */
	EXPECT("8374000000026D00000002616261016D0000000261626102",
	       STRAW_EDUPKEY, 1);
	EXPECT("8374000000026B0002616261016B000261626102", STRAW_EDUPKEY, 1);
	EXPECT("837400000002"
	       "6A6101"
	       "6A6102",
	       STRAW_EDUPKEY, 1);
	EXPECT("837400000002"
	       "463FF80000000000006101"
	       "463FF80000000000006102",
	       STRAW_EDUPKEY, 1);
	EXPECT("837400000002"
	       "68027701616101"
	       "6101"
	       "68027701616101"
	       "6102",
	       STRAW_EDUPKEY, 1);
	EXPECT("837400000002"
	       "717701617701626101"
	       "6101"
	       "717701617701626101"
	       "6102",
	       STRAW_EDUPKEY, 1);
	EXPECT("837400000002"
	       "5877016100000001000000000000000"
	       "16101"
	       "58770161000000010000000000000001"
	       "6102",
	       STRAW_EDUPKEY, 1);
	/* Different plain keys, and keys that differ only in the value. */
	EXPECT("83740000000361016101"
	       "61026101"
	       "62FFFFFFFF6101",
	       0, 0);
	EXPECT("837400000002"
	       "68027701616101"
	       "6101"
	       "68027701616102"
	       "6101",
	       0, 0);
	/* One term in two encodings: found through canonical forms. */
	EXPECT("837400000002"
	       "6101"
	       "6101"
	       "6200000001"
	       "6102",
	       STRAW_EDUPKEY, 1);
	EXPECT("837400000002"
	       "6400016161"
	       "01"
	       "770161"
	       "6102",
	       STRAW_EDUPKEY, 1);
	EXPECT("837400000002"
	       "460000000000000000"
	       "6101"
	       "468000000000000000"
	       "6102",
	       STRAW_EDUPKEY, 1);
	EXPECT("837400000002"
	       "6C000000016101"
	       "6A"
	       "6101"
	       "6B000101"
	       "6102",
	       STRAW_EDUPKEY, 1);
	EXPECT("837400000002"
	       "6E010001"
	       "6101"
	       "6101"
	       "6102",
	       STRAW_EDUPKEY, 1);
	/* ... and different terms that look alike: 1 and 1.0, [1] and
	 * [1|[]] of another length. */
	EXPECT("837400000002"
	       "6101"
	       "6101"
	       "463FF0000000000000"
	       "6102",
	       0, 0);
	EXPECT("837400000002"
	       "6C000000016101"
	       "6A"
	       "6101"
	       "6B00020101"
	       "6102",
	       0, 0);
	/* Keys that are maps, nested maps, maps inside tuples and lists:
	 * the offset is the innermost map with equal keys. */
	EXPECT("837400000002"
	       "740000000161016101"
	       "6101"
	       "740000000161016101"
	       "6102",
	       STRAW_EDUPKEY, 1);
	EXPECT("836802"
	       "6101"
	       "74000000026101610161016102",
	       STRAW_EDUPKEY, 5);
	EXPECT("836C00000001"
	       "7400000002"
	       "6101"
	       "740000000261016101"
	       "61016102"
	       "6102"
	       "6101"
	       "6A",
	       STRAW_EDUPKEY, 13);
	EXPECT("83740000000261016101"
	       "6102"
	       "7400000002"
	       "770161"
	       "6101"
	       "64000161"
	       "6102",
	       STRAW_EDUPKEY, 12);
	/* A map that is a closure's free variable. */
	EXPECT("83700000005701A7CE600A7270E56B2EE4961C3D0D5C2E0000000000000001"
	       "64000676656367656E610062053E73005864000D6E6F6E6F6465406E6F68"
	       "6F7374000000090000000000000000"
	       "740000000261016101"
	       "61016102",
	       STRAW_EDUPKEY, 76);
	/* Large maps: keys compared by hash, then bytes. */
	for (i = 2; i <= 200; i += 9) {
		h = int_map(i, -1);
		EXPECT(h, 0, 0);
		free(h);
		h = int_map(i, (long)((i - 1) / 2));
		EXPECT(h, STRAW_EDUPKEY, 1);
		free(h);
		h = int_map(i, 0);
		EXPECT(h, STRAW_EDUPKEY, 1);
		free(h);
	}
	/* Without the version byte (compressed terms: CASE(compressed)). */
	b = tu_unhex("6802740000000261016101610161026A", &len);
	CHECK(b != NULL);
	CHECK_RC(straw_term_check_body(b, len, NULL, &f), STRAW_EDUPKEY);
	CHECK_EQ(f, 2);
	b[12] = 2; /* 1 => 1, 2 => 2 */
	CHECK_RC(straw_term_check_body(b, len, NULL, &f), 0);
	free(b);
	b = tu_unhex("6802740000000277016161016400016161026A", &len);
	CHECK_RC(straw_term_check_body(b, len, NULL, &f), STRAW_EDUPKEY);
	CHECK_EQ(f, 2);
	free(b);
}

/* A map nested depth deep, each level #{a => Inner, b => 1}. */
static uint8_t *
deep_maps(size_t depth, size_t *len)
{
	static const uint8_t open[] = {'t', 0, 0, 0, 2, 'w', 1, 'a'};
	static const uint8_t close[] = {'w', 1, 'b', 'a', 1};
	size_t n = 1 + depth * (sizeof(open) + sizeof(close)) + 1, i, o = 0;
	uint8_t *b = malloc(n);

	if (b == NULL)
		return NULL;
	b[o++] = 131;
	for (i = 0; i < depth; i++) {
		memcpy(b + o, open, sizeof(open));
		o += sizeof(open);
	}
	b[o++] = 'j';
	for (i = 0; i < depth; i++) {
		memcpy(b + o, close, sizeof(close));
		o += sizeof(close);
	}
	*len = o;
	return b;
}

CASE(duplicate_map_keys_deep)
{
	const size_t d = 900000;
	size_t len, f = 0;
	uint8_t *b = deep_maps(d, &len);
	size_t inner_b = 1 + 8 * d + 1 + 2, outer_b = len - 3;

	/* 900,000 levels of two-key maps: one linear pass, no recursion. */
	CHECK(b != NULL);
	CHECK_RC(straw_term_check(b, len, NULL, &f), 0);
	/* The innermost map's second key made equal to its first. */
	b[inner_b] = 'a';
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EDUPKEY);
	CHECK_EQ(f, 1 + 8 * (d - 1));
	b[inner_b] = 'b';
	/* The outermost map's. */
	b[outer_b] = 'a';
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EDUPKEY);
	CHECK_EQ(f, 1);
	/* A Latin-1 key: the general comparison finds the same. */
	b[outer_b - 2] = 's';
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EDUPKEY);
	CHECK_EQ(f, 1);
	b[outer_b] = 'b';
	CHECK_RC(straw_term_check(b, len, NULL, &f), 0);
	b[outer_b - 2] = 'w';
	b[inner_b - 2] = 's';
	b[inner_b] = 'a';
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EDUPKEY);
	CHECK_EQ(f, 1 + 8 * (d - 1));
	free(b);
}

CASE(depth)
{
	straw_term_limits lim = {0, 0, 0};
	size_t len, f = 0;
	uint8_t *b = tu_deep_list(2000000, &len);

	CHECK(b != NULL);
	/* The default allows 1,000,000 open containers. */
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EDEPTH);
	CHECK_EQ(f, 1 + 5 * (size_t)1000000);
	lim.max_depth = 3000000;
	CHECK_RC(straw_term_check(b, len, &lim, &f), 0);
	lim.max_depth = 2000000;
	CHECK_RC(straw_term_check(b, len, &lim, &f), 0);
	lim.max_depth = 1999999;
	CHECK_RC(straw_term_check(b, len, &lim, &f), STRAW_EDEPTH);
	CHECK_EQ(f, 1 + 5 * (size_t)1999999);
	free(b);
	/* Small limits count tuples and maps too. */
	lim.max_depth = 2;
	{
		size_t l2;
		uint8_t *t = tu_unhex("836801680168016101", &l2);
		CHECK_RC(straw_term_check(t, l2, &lim, &f), STRAW_EDEPTH);
		CHECK_EQ(f, 5);
		lim.max_depth = 3;
		CHECK_RC(straw_term_check(t, l2, &lim, &f), 0);
		free(t);
	}
}

static uint8_t *
compress_term(const char *hex, size_t *len, int declared_delta,
              const char *append_hex)
{
	size_t rawlen = 0, alen = 0;
	uint8_t *raw = tu_unhex(hex, &rawlen);
	uint8_t *extra = append_hex ? tu_unhex(append_hex, &alen) : NULL;
	uLongf zlen = compressBound(rawlen) + 16;
	uint8_t *out = malloc(6 + zlen + alen);
	uint32_t size = (uint32_t)(rawlen - 1 + declared_delta);

	out[0] = 131;
	out[1] = 'P';
	out[2] = (uint8_t)(size >> 24);
	out[3] = (uint8_t)(size >> 16);
	out[4] = (uint8_t)(size >> 8);
	out[5] = (uint8_t)size;
	compress(out + 6, &zlen, raw + 1, rawlen - 1);
	if (alen)
		memcpy(out + 6 + zlen, extra, alen);
	*len = 6 + zlen + alen;
	free(raw);
	free(extra);
	return out;
}

CASE(compressed)
{
	straw_term_limits lim = {0, 0, 0};
	straw_buf out = STRAW_BUF_INIT;
	size_t len, f = 0;
	uint8_t *b;

	/* Duplicate map keys inside: the offset is in the inflated term. */
	b = compress_term("836802610174000000026101610161016102", &len, 0,
	                  NULL);
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EDUPKEY);
	CHECK_EQ(f, 5);
	free(b);
	b = compress_term("83680261016102", &len, 0, NULL);
	CHECK_RC(straw_term_check(b, len, NULL, &f), 0);
	CHECK_RC(straw_term_decompress(b, len, NULL, &out, &f), 0);
	CHECK_EQ(out.len, 7);
	CHECK_EQ(out.data[0], 131);
	CHECK_EQ(out.data[1], 'h');
	/* A fault inside: offsets in the decompressed term. */
	free(b);
	b = compress_term("8368026101FF00", &len, 0, NULL);
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EBADTAG);
	CHECK_EQ(f, 5);
	free(b);
	/* Declared size too small, too large. */
	b = compress_term("83680261016102", &len, -1, NULL);
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EZLIB);
	CHECK_EQ(f, 1);
	free(b);
	b = compress_term("83680261016102", &len, 1, NULL);
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EZLIB);
	CHECK_EQ(f, 1);
	free(b);
	/* Bytes after the zlib stream. */
	b = compress_term("83680261016102", &len, 0, "AA");
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_ETRAILING);
	CHECK_EQ(f, len - 1);
	free(b);
	/* Corrupt stream. */
	b = compress_term("83680261016102", &len, 0, NULL);
	b[8] ^= 0x55;
	b[9] ^= 0x55;
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_EZLIB);
	CHECK_EQ(f, 1);
	/* Truncated stream and header. */
	CHECK_RC(straw_term_check(b, len - 3, NULL, &f), STRAW_EZLIB);
	CHECK_RC(straw_term_check(b, 5, NULL, &f), STRAW_ETRUNC);
	CHECK_EQ(f, 1);
	free(b);
	/* Decompressed-size limit: refused before inflating. */
	lim.max_decompressed = 5;
	b = compress_term("83680261016102", &len, 0, NULL);
	CHECK_RC(straw_term_check(b, len, &lim, &f), STRAW_ETOOBIG);
	CHECK_EQ(f, 1);
	CHECK_RC(straw_term_decompress(b, len, &lim, &out, &f), STRAW_ETOOBIG);
	CHECK_EQ(out.len, 0);
	lim.max_decompressed = 6;
	CHECK_RC(straw_term_check(b, len, &lim, &f), 0);
	free(b);
	/* A 4 GB bomb claim fails at once with the defaults. */
	b = tu_unhex("8350FFFFFFFF789C", &len);
	CHECK_RC(straw_term_check(b, len, NULL, &f), STRAW_ETOOBIG);
	free(b);
	straw_buf_fini(&out);
}

CASE(size_limit)
{
	straw_term_limits lim = {0, 8, 0};
	size_t f;
	size_t len;
	uint8_t *b = tu_unhex("836D00000004AABBCCDD", &len);

	CHECK_RC(straw_term_check(b, len, &lim, &f), STRAW_ETOOBIG);
	CHECK_EQ(f, 8);
	lim.max_size = len;
	CHECK_RC(straw_term_check(b, len, &lim, &f), 0);
	free(b);
}

CASE(body)
{
	size_t len, f;
	uint8_t *b = tu_unhex("68026101610200", &len);

	CHECK_RC(straw_term_check_body(b, len - 1, NULL, &f), 0);
	CHECK_RC(straw_term_check_body(b, len, NULL, &f), STRAW_ETRAILING);
	CHECK_EQ(f, 6);
	CHECK_RC(straw_term_check_body(b, 3, NULL, &f), STRAW_ETRUNC);
	CHECK_EQ(f, 0); /* two elements cannot fit in one byte */
	CHECK_RC(straw_term_check_body(b, 5, NULL, &f), STRAW_ETRUNC);
	CHECK_EQ(f, 4);
	free(b);
}

CHECK_MAIN(valid_terms, identifiers_otp_refuses, duplicate_map_keys,
           duplicate_map_keys_deep, version_and_tag, trailing,
           truncated_everything, wrong_arities, huge_length_fields, atoms,
           bad_fields, funs, depth, compressed, size_limit, body)
