/*
 * Tests of the text form: printer (straw_term_to_text), parser
 * (straw_term_from_text), float layout, errors with offsets, limits, and
 * every line of the OTP 25 vectors in both directions (the file is given
 * as the first argument).
 */
#include <math.h>

#include <straw/term.h>
#include <straw/term_text.h>

#include "term/testutil.h"
#include "term/text_int.h"
#include "testing/check.h"

static const char *vectors_path =
        STRAW_SOURCE_DIR "/tests/data/otp25-vectors.txt";

/* Parses text; returns hex of the ETF (malloc'd) or "E<name>@<offset>". */
static char *
parse_hex(const char *text, size_t len)
{
	straw_buf b = STRAW_BUF_INIT;
	size_t off = 12345;
	int rc = straw_term_from_text(text, len, &b, &off);
	char *h;

	if (rc != 0) {
		h = malloc(64);
		snprintf(h, 64, "%s@%zu", straw_errname(rc), off);
		return h;
	}
	h = tu_hex(b.data, b.len);
	straw_buf_fini(&b);
	return h;
}

static char *
parse_hexz(const char *text)
{
	return parse_hex(text, strlen(text));
}

/* Prints the term given in hex; returns the text (malloc'd) or
 * "E<name>". */
static char *
print_hex(const char *hex)
{
	straw_buf b = STRAW_BUF_INIT;
	size_t n;
	uint8_t *bin = tu_unhex(hex, &n);
	char *s;
	int rc;

	if (bin == NULL)
		return strdup("Ebadhex");
	rc = straw_term_to_text(bin, n, &b);
	free(bin);
	if (rc != 0) {
		s = malloc(64);
		snprintf(s, 64, "E%s", straw_errname(rc));
		straw_buf_fini(&b);
		return s;
	}
	s = malloc(b.len + 1);
	memcpy(s, b.data, b.len);
	s[b.len] = '\0';
	straw_buf_fini(&b);
	return s;
}

/* Canonical hex of the term in hex (straw_term_normalize). */
static char *
canon_hex(const uint8_t *bin, size_t n)
{
	straw_buf b = STRAW_BUF_INIT;
	char *h;

	if (straw_term_normalize(bin, n, NULL, &b, NULL) != 0)
		return strdup("Enormalize");
	h = tu_hex(b.data, b.len);
	straw_buf_fini(&b);
	return h;
}

struct pair {
	const char *a, *b;
};

/* ETF (hex) -> exact text. */
CASE(print_exact)
{
	static const struct pair t[] = {
	        {"836100", "0"},
	        {"8361FF", "255"},
	        {"8362FFFFFFFF", "-1"},
	        {"836280000000", "-2147483648"},
	        {"836E0800FFFFFFFFFFFFFFFF", "18446744073709551615"},
	        {"836E0901000000000000000001", "-18446744073709551616"},
	        {"836E0900000000000000000001", "18446744073709551616"},
	        {"836E040000000000", "0"}, /* non-canonical zero */
	        {"83463FF8000000000000", "1.5"},
	        {"83468000000000000000", "-0.0"},
	        {"83460000000000000000", "0.0"},
	        {"8346400921FB54442D18", "3.141592653589793"},
	        {"83467E37E43C8800759C", "1.0e300"},
	        {"83460000000000000001", "5.0e-324"},
	        {"83463FB999999999999A", "0.1"},
	        {"83464059000000000000", "100.0"},
	        {"8346408F400000000000", "1.0e3"},
	        {"83463F1A36E2EB1C432D", "1.0e-4"},
	        {"8363312E3530303030303030303030303030303030303030652B30300000"
	         "000000",
	         "1.5"},
	        {"836400026F6B", "ok"},
	        {"8377026F6B", "ok"},
	        {"83640000", "''"},
	        {"8364000B68656C6C6F20776F726C64", "'hello world'"},
	        {"837703616E64", "'and'"},
	        {"837703656E64", "'end'"},
	        {"8377056D61796265", "'maybe'"},
	        {"8377024F6B", "'Ok'"},
	        {"8377025F78", "'_x'"},
	        {"837703612D62", "'a-b'"},
	        {"837703697427", "'it\\''"},
	        {"837703610A62", "'a\\nb'"},
	        {"837703615C62", "'a\\\\b'"},
	        {"837703610162", "'a\\x{1}b'"},
	        {"83770461406232", "a@b2"},
	        {"83640007FC6EEF63F664E9", "'ünïcödé'"},
	        {"837709E697A5E69CACE8AA9E", "'日本語'"},
	        {"836A", "[]"},
	        {"836B0003616263", "\"abc\""},
	        {"836B0003010203", "[1,2,3]"},
	        {"836B000522615C630A", "\"\\\"a\\\\c\\n\""},
	        {"836B00020909", "\"\\t\\t\""},
	        {"836B00017F", "[127]"},
	        {"836B0001A0", "\"\xC2\xA0\""},
	        {"836C0000000262000065E5620000672C6A", "\"日本\""},
	        {"836C000000026101620000D8006A", "[1,55296]"},
	        {"836C0000000262000003E862000007D06A", "\"Ϩߐ\""},
	        {"836C000000016400016164000162", "[a|b]"},
	        {"836C00000002610161026103", "[1,2|3]"},
	        {"836C0000000161016B00026162", "[1|\"ab\"]"},
	        {"836C000000016C000000016A6A6A", "[[[]]]"},
	        {"836800", "{}"},
	        {"8368036400016161016D0000000162", "{a,1,<<\"b\">>}"},
	        {"836D00000000", "<<>>"},
	        {"836D00000003010203", "<<1,2,3>>"},
	        {"836D00000003616263", "<<\"abc\">>"},
	        {"836D00000002C8C9", "<<200,201>>"},
	        {"836D00000006E697A5E69CAC", "<<\"日本\"/utf8>>"},
	        {"834D00000002030140", "<<1,2:3>>"},
	        {"834D0000000103A0", "<<5:3>>"},
	        {"834D00000003036162E0", "<<\"ab\",7:3>>"},
	        {"837400000000", "#{}"},
	        {"8374000000026400016161016D000000016B6C00000001640001786A",
	         "#{a => 1,<<\"k\">> => [x]}"},
	        {"8374000000016101740000000161027400000000",
	         "#{1 => #{2 => #{}}}"},
	        {"83716400056C697374736400036D61706102", "fun lists:map/2"},
	        {"837164000665726C616E676400012B6102", "fun erlang:'+'/2"},
	        {"835864000D6E6F6E6F6465406E6F686F7374000000550000000000000000",
	         "erlang:binary_to_term(<<131,88,119,13,\"nonode@nohost\","
	         "85:32,0:32,0:32>>)"},
	        {"835A000364000D6E6F6E6F6465406E6F686F737400000000000000030000"
	         "000200000001",
	         "erlang:binary_to_term(<<131,90,0,3,119,13,\"nonode@nohost\","
	         "0:32,3:32,2:32,1:32>>)"},
	        {"835964000D6E6F6E6F6465406E6F686F73740000000500000000",
	         "erlang:binary_to_term(<<131,89,119,13,\"nonode@nohost\","
	         "5:32,0:32>>)"},
	        {"837877016100000001000000020000002A",
	         "erlang:binary_to_term(<<131,120,119,1,\"a\",4294967298:64,"
	         "42:32>>)"},
	        {"8367640001610000000100000002"
	         "03",
	         "erlang:binary_to_term(<<131,88,119,1,\"a\",1:32,2:32,"
	         "3:32>>)"},
	};
	size_t i;

	for (i = 0; i < TU_LEN(t); i++) {
		char *s = print_hex(t[i].a);
		if (strcmp(s, t[i].b) != 0)
			fprintf(stderr, "  print %s\n", t[i].a);
		CHECK_STR(s, t[i].b);
		free(s);
	}
}

/* Malformed or unacceptable ETF is refused, out unchanged. */
CASE(print_errors)
{
	static const struct pair t[] = {
	        {"", "ESTRAW_EVERSION"},
	        {"82", "ESTRAW_EVERSION"},
	        {"83", "ESTRAW_ETRUNC"},
	        {"8399", "ESTRAW_EBADTAG"},
	        {"836100FF", "ESTRAW_ETRAILING"},
	        {"836C00000002610161", "ESTRAW_ETRUNC"},
	};
	straw_buf b = STRAW_BUF_INIT;
	uint8_t bad[] = {131, 104, 2, 97, 1};
	size_t i;

	for (i = 0; i < TU_LEN(t); i++) {
		char *s = print_hex(t[i].a);
		if (strncmp(s, t[i].b, strlen(t[i].b)) != 0)
			fprintf(stderr, "  print %s\n", t[i].a);
		CHECK(strncmp(s, "E", 1) == 0);
		free(s);
	}
	CHECK_OK(straw_buf_puts(&b, "keep"));
	CHECK(straw_term_to_text(bad, sizeof(bad), &b) < 0);
	CHECK_MEM(b.data, b.len, "keep", 4);
	straw_buf_fini(&b);
}

/* Text -> exact canonical ETF (hex). */
CASE(parse_exact)
{
	static const struct pair t[] = {
	        {"0", "836100"},
	        {"255", "8361FF"},
	        {"256", "836200000100"},
	        {"-1", "8362FFFFFFFF"},
	        {"+7", "836107"},
	        {"- 7", "8362FFFFFFF9"},
	        {"1_000", "8362000003E8"},
	        {"16#FF", "8361FF"},
	        {"16#ff", "8361FF"},
	        {"-16#80000000", "836280000000"},
	        {"2#1010", "83610A"},
	        {"36#Z", "836123"},
	        {"16#1_0000_0000", "836E050000000000"
	                           "01"},
	        {"9223372036854775808", "836E08000000000000000080"},
	        {"-9223372036854775808", "836E08010000000000000080"},
	        {"$a", "836161"},
	        {"$\\n", "83610A"},
	        {"$\\x{1F600}", "83620001F600"},
	        {"$\\101", "836141"},
	        {"$\\^A", "836101"},
	        {"$ ", "836120"},
	        {"-$a", "8362FFFFFF9F"},
	        {"$ü", "8361FC"},
	        {"1.5", "83463FF8000000000000"},
	        {"-0.0", "83468000000000000000"},
	        {"1.0e300", "83467E37E43C8800759C"},
	        {"1.5e-3", "83463F589374BC6A7EFA"},
	        {"1.0E3", "83464"
	                  "08F400000000000"},
	        {"ok", "8377026F6B"},
	        {"'ok'", "8377026F6B"},
	        {"''", "837700"},
	        {"'hello world'", "83770B68656C6C6F20776F726C64"},
	        {"'\\x41\\102\\s'", "837703414220"},
	        {"ünïcödé", "83770BC3BC6EC3AF63C3B664C3A9"},
	        {"a@b_C9", "83770661406"
	                   "25F4339"},
	        {"true", "83770474727565"},
	        {"maybe", "837705"
	                  "6D61796265"},
	        {"else", "837704656C7365"},
	        {"[]", "836A"},
	        {"\"\"", "836A"},
	        {"\"abc\"", "836B0003616263"},
	        {"\"ab\" \"c\"", "836B0003616263"},
	        {"\"a\\tb\\\"\\\\\"", "836B0005610962225C"},
	        {"\"日本\"", "836C0000000262000065E5620000672C6A"},
	        {"[1,2,3]", "836B0003010203"},
	        {"[1000,2000]", "836C0000000262000003E862000007D06A"},
	        {"[a|b]", "836C000000017701617701"
	                  "62"},
	        {"[1|[2,3]]", "836B0003010203"},
	        {"[1|[2|[3|[]]]]", "836B0003010203"},
	        {"[1|\"ab\"]", "836B0003016162"},
	        {"[1|\"\"]", "836B000101"},
	        {"[\"\"]", "836C000000016A6A"},
	        {"[1,2|3]", "836C00000002610161026103"},
	        {"[[[]]]", "836C000000016C000000016A6A6A"},
	        {"{}", "836800"},
	        {"{a,1,<<\"b\">>}", "836803770161610"
	                            "16D0000000162"},
	        {"{ {} }", "8368016800"},
	        {"<<>>", "836D00000000"},
	        {"<<1,2,3>>", "836D00000003010203"},
	        {"<<\"abc\">>", "836D00000003616263"},
	        {"<<\"ab\" \"c\">>", "836D00000003616263"},
	        {"<<\"ü\">>", "836D00000001FC"},
	        {"<<\"ü\"/utf8>>", "836D00000002C3BC"},
	        {"<<\"日本\"/utf8>>", "836D00000006E697A5E69CAC"},
	        {"<<1,2:3>>", "834D00000002030140"},
	        {"<<5:3>>", "834D0000000103A0"},
	        {"<<1:16>>", "836D000000020001"},
	        {"<<-1:16/little>>", "836D00000002FFFF"},
	        {"<<258:16/little-unsigned>>", "836D000000020201"},
	        {"<<256>>", "836D0000000100"},
	        {"<<-1>>", "836D00000001FF"},
	        {"<<1.5/float>>", "836D000000083FF8000000000000"},
	        {"<<1.5:32/float>>", "836D000000043FC00000"},
	        {"<<$a, \"b\":16>>", "836D00000003610062"},
	        {"<<16#0102030405060708090A:80>>",
	         "836D0000000A0102030405060708090A"},
	        {"<<-2:72>>", "836D00000009FFFFFFFFFFFFFFFFFE"},
	        {"<<1:3, -1:30>>", "834D00000005013FFFFFFF80"},
	        {"<<5:3, -2:70>>", "834D0000000A01BFFFFFFFFFFFFFFFFF00"},
	        {"<<1:1, 0:40, -1:20>>", "834D000000080580000000007FFFF8"},
	        {"<<3:2, -1:100, 1:1>>",
	         "834D0000000D07FFFFFFFFFFFFFFFFFFFFFFFFFE"},
	        {"<<-3:66>>", "834D0000000902FFFFFFFFFFFFFFFF40"},
	        {"<<1:3, 16#123456789ABCDEF012:80>>",
	         "834D0000000B032002468ACF13579BDE0240"},
	        {"<<65/utf16, 16#1F600/utf32-little>>",
	         "836D00000006004100F60100"},
	        {"#{}", "837400000000"},
	        {"#{a => 1, <<\"k\">> => [x]}",
	         "8374000000027701616101"
	         "6D000000016B6C000000017701786A"},
	        {"#{<<\"k\">> => [x], a => 1}",
	         "8374000000027701616101"
	         "6D000000016B6C000000017701786A"},
	        {"#{a => 1, a => 2}", "8374000000017701616102"},
	        {"#{0.0 => a, -0.0 => b}",
	         "837400000001460000000000000000770162"},
	        {"#{1 => a, 1.0 => b, 1 => c}",
	         "8374000000026101770163463FF0000000000000770162"},
	        {"#{[1.0,1] => x, [1,1.0] => y, [1.0,1] => z}",
	         "8374000000026C000000026101463FF00000000000006A7701796C000000"
	         "02463FF000000000000061016A77017A"},
	        {"#{b => 2, a => 1, c => 3}",
	         "8374000000037701616101770162610277016361"
	         "03"},
	        {"fun lists:map/2", "837177056C6973747377036D61706102"},
	        {"fun erlang:'+'/2", "837177066572"
	                             "6C616E6777012B6102"},
	        {"erlang:binary_to_term(<<131,88,119,13,\"nonode@nohost\","
	         "85:32,0:32,0:32>>)",
	         "835877"
	         "0D6E6F6E6F6465406E6F686F7374000000550000000000000000"},
	        {"binary_to_term(<<131,88,100,0,13,\"nonode@nohost\","
	         "85:32,0:32,0:32>>)",
	         "835877"
	         "0D6E6F6E6F6465406E6F686F7374000000550000000000000000"},
	        {"{a, b}. % done", "836802770161770162"},
	        {"% c\n{a, %x\n b}\n", "836802770161770162"},
	};
	size_t i;

	for (i = 0; i < TU_LEN(t); i++) {
		char *h = parse_hexz(t[i].a);
		if (strcmp(h, t[i].b) != 0)
			fprintf(stderr, "  parse %s\n", t[i].a);
		CHECK_STR(h, t[i].b);
		free(h);
	}
}

/* Bad text: the code and the byte offset of the fault. */
CASE(parse_errors)
{
	static const struct pair t[] = {
	        {"", "STRAW_ESYNTAX@0"},
	        {"   ", "STRAW_ESYNTAX@3"},
	        {"{", "STRAW_ESYNTAX@1"},
	        {"{a,", "STRAW_ESYNTAX@3"},
	        {"{a b}", "STRAW_ESYNTAX@3"},
	        {"[1,2", "STRAW_ESYNTAX@4"},
	        {"[1|2|3]", "STRAW_ESYNTAX@4"},
	        {"[|2]", "STRAW_ESYNTAX@1"},
	        {"1 2", "STRAW_ESYNTAX@2"},
	        {"1e5", "STRAW_ESYNTAX@1"},
	        {"1.e5", "STRAW_ESYNTAX@1"},
	        {"1.0e", "STRAW_ESYNTAX@3"},
	        {"1.0e400", "STRAW_ESYNTAX@0"},
	        {"16#", "STRAW_ESYNTAX@3"},
	        {"16#FG", "STRAW_ESYNTAX@4"},
	        {"37#1", "STRAW_ESYNTAX@0"},
	        {"1__0", "STRAW_ESYNTAX@1"},
	        {"'abc", "STRAW_ESYNTAX@0"},
	        {"\"abc", "STRAW_ESYNTAX@0"},
	        {"\"\\x{110000}\"", "STRAW_ESYNTAX@1"},
	        {"\"\\xZZ\"", "STRAW_ESYNTAX@1"},
	        {"\"\xff\"", "STRAW_ESYNTAX@1"},
	        {"#", "STRAW_ESYNTAX@0"},
	        {"#{a}", "STRAW_ESYNTAX@3"},
	        {"#{a => }", "STRAW_ESYNTAX@7"},
	        {"#{a := 1}", "STRAW_ESYNTAX@4"},
	        {"and", "STRAW_ESYNTAX@0"},
	        {"X", "STRAW_ESYNTAX@0"},
	        {"_", "STRAW_ESYNTAX@0"},
	        {"~i", "STRAW_ESYNTAX@0"},
	        {"foo(1)", "STRAW_ESYNTAX@0"},
	        {"lists:seq(1,3)", "STRAW_ESYNTAX@5"},
	        {"fun", "STRAW_ESYNTAX@3"},
	        {"fun a:b/256", "STRAW_ESYNTAX@8"},
	        {"fun a:b", "STRAW_ESYNTAX@7"},
	        {"<<1:>>", "STRAW_ESYNTAX@4"},
	        {"<<a>>", "STRAW_ESYNTAX@2"},
	        {"<<1/foo>>", "STRAW_ESYNTAX@4"},
	        {"<<1:3/little>>", "STRAW_ESYNTAX@2"},
	        {"<<1:134217729>>", "STRAW_ESYNTAX@4"},
	        {"<<\"a\"/utf8:8>>", "STRAW_ESYNTAX@10"},
	        {"binary_to_term(<<131,97,1>>)", "STRAW_ESYNTAX@0"},
	        {"binary_to_term(<<1,2>>)", "STRAW_ESYNTAX@0"},
	        {"erlang:foo(<<>>)", "STRAW_ESYNTAX@7"},
	        {"'\x61\x00'", "STRAW_ESYNTAX@0"},
	        {"- a", "STRAW_ESYNTAX@2"},
	        {"{a}.x", "STRAW_ESYNTAX@3"},
	        {"a || b", "STRAW_ESYNTAX@2"},
	};
	size_t i;

	for (i = 0; i < TU_LEN(t); i++) {
		char *h = parse_hexz(t[i].a);
		if (strcmp(h, t[i].b) != 0)
			fprintf(stderr, "  parse '%s'\n", t[i].a);
		CHECK_STR(h, t[i].b);
		free(h);
	}
	/* A NUL inside the text is a bad character, not the end. */
	{
		char *h = parse_hex("[1,\0]", 5);
		CHECK_STR(h, "STRAW_ESYNTAX@3");
		free(h);
	}
}

/* A long atom: 255 characters are fine, 256 are not. */
CASE(atom_length)
{
	char text[2000];
	char *h;
	int i, o = 0;

	text[o++] = '\'';
	for (i = 0; i < 255; i++) {
		memcpy(text + o, "日", 3);
		o += 3;
	}
	text[o++] = '\'';
	h = parse_hex(text, (size_t)o);
	CHECK(strncmp(h,
	              "8376"
	              "02FD",
	              8) == 0);
	free(h);
	memmove(text + 4, text + 1, (size_t)o - 1);
	memcpy(text + 1, "日", 3);
	h = parse_hex(text, (size_t)o + 3);
	CHECK_STR(h, "STRAW_ESYNTAX@0");
	free(h);
	memset(text, 'a', 256);
	h = parse_hex(text, 256);
	CHECK_STR(h, "STRAW_ESYNTAX@0");
	free(h);
	h = parse_hex(text, 255);
	CHECK(strncmp(h, "8377FF", 6) == 0);
	free(h);
}

/* Failure leaves out unchanged; success appends. */
CASE(parse_appends)
{
	straw_buf b = STRAW_BUF_INIT;
	size_t off = 0;

	CHECK_OK(straw_buf_puts(&b, "xy"));
	CHECK_RC(straw_term_from_text("{a,", 3, &b, &off), STRAW_ESYNTAX);
	CHECK_EQ(off, 3);
	CHECK_MEM(b.data, b.len, "xy", 2);
	CHECK_OK(straw_term_from_text("1", 1, &b, NULL));
	CHECK_MEM(b.data, b.len, "xy\x83\x61\x01", 5);
	CHECK_OK(straw_term_to_text(b.data + 2, 3, &b));
	CHECK_MEM(b.data, b.len,
	          "xy\x83\x61\x01"
	          "1",
	          6);
	straw_buf_fini(&b);
}

/* Nesting: iterative both ways; max_depth refused with EDEPTH. */
CASE(deep_nesting)
{
	size_t depth = 200000, i, off = 0;
	char *text = malloc(2 * depth + 16);
	straw_buf b = STRAW_BUF_INIT, t = STRAW_BUF_INIT;
	straw_term_limits lim = {1000, 0, 0};

	for (i = 0; i < depth; i++) {
		text[i] = '[';
		text[depth + i] = ']';
	}
	CHECK_OK(straw_term_from_text(text, 2 * depth, &b, NULL));
	CHECK_EQ(b.len, 1 + 5 * (depth - 1) + 1 + (depth - 1));
	CHECK_OK(straw_term_to_text(b.data, b.len, &t));
	CHECK_MEM(t.data, t.len, text, 2 * depth);
	/* Tuples too. */
	for (i = 0; i < depth; i++) {
		text[i] = '{';
		text[depth + i] = '}';
	}
	b.len = 0;
	CHECK_OK(straw_term_from_text(text, 2 * depth, &b, NULL));
	t.len = 0;
	CHECK_OK(straw_term_to_text(b.data, b.len, &t));
	CHECK_MEM(t.data, t.len, text, 2 * depth);
	/* Limits: [[...[]...]] with 1001 brackets opens 1000 lists (the
	 * innermost [] is a value); one more is refused at its `[`. */
	b.len = 0;
	CHECK_OK(straw_term_from_text_lim(text + depth - 1001, 2002, &lim, &b,
	                                  &off));
	CHECK_RC(straw_term_from_text_lim(text + depth - 1002, 2004, &lim, &b,
	                                  &off),
	         STRAW_EDEPTH);
	CHECK_EQ(off, 1000);
	free(text);
	/* 2,000,000 levels: refused at the default depth, with the offset of
	 * the first bracket past it. */
	depth = 2000000;
	text = malloc(2 * depth);
	memset(text, '[', depth);
	memset(text + depth, ']', depth);
	b.len = 0;
	CHECK_RC(straw_term_from_text(text, 2 * depth, &b, &off), STRAW_EDEPTH);
	CHECK_EQ(off, STRAW_TERM_DEFAULT_MAX_DEPTH);
	CHECK_EQ(b.len, 0);
	lim.max_depth = 0;
	lim.max_size = 100;
	CHECK_RC(straw_term_from_text_lim("<<0:1000>>", 10, &lim, &b, &off),
	         STRAW_ETOOBIG);
	CHECK_EQ(off, 2);
	/* Big segments cost their size in bytes, not in bits: 100 segments
	 * of 2^27 bits (16 MiB each) stop at max_size quickly. */
	{
		straw_buf big = STRAW_BUF_INIT;
		int k;
		straw_term_limits lim2 = {0, 64 << 20, 0};
		CHECK_OK(straw_buf_puts(&big, "<<\"ab\":3"));
		for (k = 0; k < 100; k++)
			CHECK_OK(straw_buf_puts(&big, ", -1:134217728"));
		CHECK_OK(straw_buf_puts(&big, ">>"));
		CHECK_RC(straw_term_from_text_lim((char *)big.data, big.len,
		                                  &lim2, &b, &off),
		         STRAW_ETOOBIG);
		CHECK_EQ(off, 8 + 3 * 14 + 2); /* the 4th reaches 64 MiB */
		straw_buf_fini(&big);
	}
	memset(text, 'a', 62);
	text[0] = text[61] = '"';
	CHECK_RC(straw_term_from_text_lim(text, 62, &lim, &b, &off),
	         STRAW_ETOOBIG);
	CHECK_EQ(off, 0);
	free(text);
	straw_buf_fini(&b);
	straw_buf_fini(&t);
}

/* Big integers: decimal and hex round trips; 16# past 8192 bytes. */
CASE(bignums)
{
	uint8_t *t = malloc(7 + 9000);
	straw_buf txt = STRAW_BUF_INIT, back = STRAW_BUF_INIT;
	char *h, *dec;
	size_t i;

	/* 1 bsl 2040 prints in decimal and reads back. */
	{
		char lit[600];
		memcpy(lit, "16#1", 4);
		memset(lit + 4, '0', 510);
		lit[514] = '\0';
		h = parse_hexz(lit);
	}
	CHECK(strncmp(h, "836F00000100000000", 18) == 0);
	dec = print_hex(h);
	CHECK(strncmp(dec,
	              "1262383049660586222684174870651169998454847760535"
	              "761095005091618262681",
	              70) == 0);
	{
		char *h2 = parse_hexz(dec);
		CHECK_STR(h2, h);
		free(h2);
	}
	free(h);
	free(dec);
	/* A 9000-byte magnitude: printed as -16#..., read back. */
	t[0] = 131;
	t[1] = 'o';
	t[2] = 0;
	t[3] = 0;
	t[4] = 0x23;
	t[5] = 0x28;
	t[6] = 1;
	for (i = 0; i < 9000; i++)
		t[7 + i] = (uint8_t)(i * 7 + 1);
	CHECK_OK(straw_term_to_text(t, 6 + 1 + 9000, &txt));
	CHECK(txt.len > 4 && memcmp(txt.data, "-16#", 4) == 0);
	CHECK_OK(straw_term_from_text((char *)txt.data, txt.len, &back, NULL));
	CHECK_MEM(back.data, back.len, t, 6 + 1 + 9000);
	/* Decimal at 8192 bytes, read back. */
	t[4] = 0x20;
	t[5] = 0x00;
	t[6] = 0;
	txt.len = 0;
	back.len = 0;
	CHECK_OK(straw_term_to_text(t, 6 + 1 + 8192, &txt));
	CHECK(txt.data[0] >= '1' && txt.data[0] <= '9');
	CHECK_OK(straw_term_from_text((char *)txt.data, txt.len, &back, NULL));
	CHECK_MEM(back.data, back.len, t, 6 + 1 + 8192);
	straw_buf_fini(&txt);
	straw_buf_fini(&back);
	free(t);
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Shortest floats: every text reads back (strtod and our parser) to the
 * same double, and one digit fewer would not. */
CASE(float_shortest)
{
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	int i, n = 0;

	for (i = 0; i < 200000; i++) {
		uint64_t bits = xorshift(&seed);
		double d, back;
		char text[40], want[40];
		uint8_t etf[9];
		straw_buf b = STRAW_BUF_INIT;

		if (i % 3 == 0) /* also plain values near 1 */
			bits = (bits & 0x000FFFFFFFFFFFFFull) |
			       0x3FF0000000000000ull;
		memcpy(&d, &bits, 8);
		if (!isfinite(d))
			continue;
		strawi_float_text(d, text);
		back = strtod(text, NULL);
		CHECK(memcmp(&back, &d, 8) == 0);
		CHECK(strchr(text, '.') != NULL);
		CHECK(strchr(text, '.')[1] >= '0' &&
		      strchr(text, '.')[1] <= '9');
		CHECK(strchr(text, '.') > text && strchr(text, '.')[-1] >= '0');
		etf[0] = 'F';
		for (int k = 0; k < 8; k++)
			etf[1 + k] = (uint8_t)(bits >> (56 - 8 * k));
		CHECK_OK(straw_term_from_text(text, strlen(text), &b, NULL));
		CHECK_MEM(b.data + 1, b.len - 1, etf, 9);
		straw_buf_fini(&b);
		/* Shortest: with one significant digit fewer, no %e text
		 * reads back to d. */
		{
			int digits = 0, last = 0;
			const char *p = text;
			while (*p && *p != 'e' && !(*p >= '1' && *p <= '9'))
				p++;
			for (; *p && *p != 'e'; p++) {
				if (*p < '0' || *p > '9')
					continue;
				digits++;
				if (*p != '0')
					last = digits;
			}
			if (last > 1) {
				snprintf(want, sizeof(want), "%.*e", last - 2,
				         d);
				CHECK(strtod(want, NULL) != d);
			}
		}
		n++;
	}
	CHECK(n > 190000);
}

/* Reads tests/data/otp25-vectors.txt: every line in both directions. */
CASE(vectors)
{
	FILE *f = fopen(vectors_path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lines = 0, literal = 0, non_literal = 0;

	CHECK(f != NULL);
	while ((n = getline(&line, &cap, f)) > 0) {
		char *tab, *text, *hex, *canon, *printed, *back, *parsed;
		uint8_t *bin;
		size_t blen;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || strncmp(line, "%%", 2) == 0)
			continue;
		tab = strchr(line, '\t');
		CHECK(tab != NULL);
		*tab = '\0';
		text = line;
		hex = tab + 1;
		bin = tu_unhex(hex, &blen);
		CHECK(bin != NULL);
		canon = canon_hex(bin, blen);
		/* ETF -> text -> ETF gives the canonical bytes. */
		printed = print_hex(hex);
		CHECK(printed[0] != 'E');
		back = parse_hexz(printed);
		if (strcmp(back, canon) != 0)
			fprintf(stderr, "  line %s: printed %s\n", text,
			        printed);
		CHECK_STR(back, canon);
		/* Text -> ETF: literal lines give the canonical bytes;
		 * expressions (1 bsl 2040, list_to_pid(...)) are refused. */
		parsed = parse_hexz(text);
		if (strncmp(parsed, "STRAW_ESYNTAX@", 14) == 0) {
			non_literal++;
		} else {
			if (strcmp(parsed, canon) != 0)
				fprintf(stderr, "  line %s\n", text);
			CHECK_STR(parsed, canon);
			literal++;
		}
		lines++;
		free(bin);
		free(canon);
		free(printed);
		free(back);
		free(parsed);
	}
	free(line);
	fclose(f);
	CHECK_EQ(lines, 63);
	/* 17 lines are expressions or node-specific shell forms. */
	CHECK_EQ(non_literal, 17);
	CHECK_EQ(literal, 46);
}

/* Many keys that are == but not =:= (every list of 1 and 1.0): the
 * duplicate check stays O(n log n); the repeated key takes its last value. */
CASE(map_many_equal_keys)
{
	straw_buf text = STRAW_BUF_INIT, b = STRAW_BUF_INIT, t = STRAW_BUF_INIT;
	unsigned i, k, n = 1u << 13;

	CHECK_OK(straw_buf_puts(&text, "#{"));
	for (i = 0; i < n; i++) {
		CHECK_OK(straw_buf_puts(&text, "["));
		for (k = 0; k < 13; k++)
			CHECK_OK(straw_buf_puts(&text,
			                        (i >> k) & 1 ? "1.0," : "1,"));
		text.len--;
		CHECK_OK(straw_buf_printf(&text, "] => %u,", i));
	}
	CHECK_OK(straw_buf_puts(&text, "[1,1,1,1,1,1,1,1,1,1,1,1,1] => last}"));
	CHECK_OK(straw_term_from_text((char *)text.data, text.len, &b, NULL));
	CHECK_EQ(b.data[1], 't');
	CHECK_EQ(b.data[2] << 24 | b.data[3] << 16 | b.data[4] << 8 | b.data[5],
	         n);
	CHECK_OK(straw_term_to_text(b.data, b.len, &t));
	CHECK(t.len > 20 &&
	      memcmp(t.data, "#{[1,1,1,1,1,1,1,1,1,1,1,1,1] => last,", 38) ==
	              0);
	straw_buf_fini(&text);
	straw_buf_fini(&b);
	straw_buf_fini(&t);
}

CHECK_MAIN(print_exact, print_errors, parse_exact, parse_errors, atom_length,
           parse_appends, deep_nesting, bignums, float_shortest,
           map_many_equal_keys, vectors)
