/*
 * straw_term_to_text: any term in Erlang syntax that erl_scan and erl_parse
 * read back (and erl_eval evaluates) to an equal term.  The rules, also in
 * docs/term-text.md:
 *
 *   - integers in decimal; magnitudes past TEXT_DECIMAL_MAX bytes in
 *     hexadecimal (16#...), which is linear to print and to parse;
 *   - floats in the shortest form that reads back to the same double, laid
 *     out as OTP's float_to_list(F, [short]) does (1.5, 1.0e300, 5.0e-324);
 *   - atoms bare when erl_scan reads them bare ([a-z][A-Za-z0-9_@]*, not a
 *     reserved word), else quoted with escapes; UTF-8 text as is;
 *   - a proper list of printable code points as "..." (see printable_cp),
 *     other lists as [a,b|c];
 *   - binaries as <<"...">> when every byte is printable ASCII, as
 *     <<"..."/utf8>> when they are valid UTF-8 of printable characters,
 *     else <<1,2,3>>; bit binaries end with a Value:Bits segment;
 *   - fun M:F/A as itself; pids, ports, references and closures as
 *     erlang:binary_to_term(<<131,...>>) of their canonical bytes, which
 *     carries node and creation exactly and evaluates in erl.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <straw/term_text.h>

#include "base/base.h"
#include "base/hex.h"
#include "term/etf.h"
#include "term/text_int.h"
#include "term/text_lex.h"

/* Integer magnitudes up to this many bytes are printed in decimal. */
#define TEXT_DECIMAL_MAX 8192

struct printer {
	straw_buf *out;    /* text is appended here */
	straw_buf scratch; /* bignum limbs */
	int rc;            /* first error (sticky) */
};

static void
put(struct printer *pr, const void *s, size_t n)
{
	if (pr->rc == 0)
		pr->rc = straw_buf_append(pr->out, s, n);
}

static void
puts_(struct printer *pr, const char *s)
{
	put(pr, s, strlen(s));
}

static void
putc_(struct printer *pr, char c)
{
	put(pr, &c, 1);
}

/* ---- floats ---- */

size_t
strawi_float_text(double v, char *out)
{
	char e[40], digits[20];
	int prec, exp10, nd = 0, i;
	size_t o = 0;
	const char *p;
	double a = v < 0 ? -v : v;

	if (v == 0) {
		const char *z = signbit(v) ? "-0.0" : "0.0";
		memcpy(out, z, strlen(z) + 1);
		return strlen(z);
	}
	/* The fewest significant digits that read back to v. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, a);
		if (strtod(e, NULL) == a)
			break;
	}
	for (p = e; *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	exp10 = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (v < 0)
		out[o++] = '-';
	/*
	 * digits d1..dn with value d1.d2..dn * 10^exp10.  Plain notation
	 * when it is not longer than the exponent form (for integers below
	 * 2^53 only, as OTP does), else d1.d2..dneX.
	 */
	{
		int place = exp10 - nd + 1; /* exponent of the last digit */
		char expstr[8];
		int explen = snprintf(expstr, sizeof(expstr), "%d", exp10);
		int expcost = explen + 2;
		int plain;

		if (place < 0) {
			if (exp10 >= 0) {
				for (i = 0; i < nd; i++) {
					out[o++] = digits[i];
					if (i == exp10)
						out[o++] = '.';
				}
				out[o] = '\0';
				return o;
			}
			plain = 2 - place - nd <= expcost;
			if (plain) {
				out[o++] = '0';
				out[o++] = '.';
				for (i = 0; i < -place - nd; i++)
					out[o++] = '0';
				for (i = 0; i < nd; i++)
					out[o++] = digits[i];
				out[o] = '\0';
				return o;
			}
		} else {
			int dot = nd == 1;
			plain = expcost + dot >= place + 2 &&
			        a < 9007199254740992.0;
			if (plain) {
				for (i = 0; i < nd; i++)
					out[o++] = digits[i];
				for (i = 0; i < place; i++)
					out[o++] = '0';
				out[o++] = '.';
				out[o++] = '0';
				out[o] = '\0';
				return o;
			}
		}
		out[o++] = digits[0];
		out[o++] = '.';
		if (nd == 1)
			out[o++] = '0';
		for (i = 1; i < nd; i++)
			out[o++] = digits[i];
		out[o++] = 'e';
		memcpy(out + o, expstr, (size_t)explen + 1);
		return o + (size_t)explen;
	}
}

/* ---- integers ---- */

static void
print_bignum(struct printer *pr, int negative, const uint8_t *mag, size_t n)
{
	char tmp[32];

	while (n > 0 && mag[n - 1] == 0)
		n--;
	if (n <= 8) {
		uint64_t v = 0;
		size_t i, o = sizeof(tmp);
		for (i = n; i > 0; i--)
			v = v << 8 | mag[i - 1];
		do {
			tmp[--o] = (char)('0' + v % 10);
			v /= 10;
		} while (v != 0);
		if (negative && !(o == sizeof(tmp) - 1 && tmp[o] == '0'))
			tmp[--o] = '-';
		put(pr, tmp + o, sizeof(tmp) - o);
		return;
	}
	if (negative)
		putc_(pr, '-');
	if (n > TEXT_DECIMAL_MAX) {
		size_t i = n;
		puts_(pr, "16#");
		if ((mag[n - 1] >> 4) == 0) {
			putc_(pr, strawi_hex_char(mag[n - 1], 0));
			i--;
		}
		for (; i > 0; i--) {
			putc_(pr, strawi_hex_char(mag[i - 1] >> 4, 0));
			putc_(pr, strawi_hex_char(mag[i - 1], 0));
		}
		return;
	}
	/* Decimal: divide 32-bit limbs by 10^9 repeatedly. */
	{
		size_t nl = (n + 3) / 4, i, nchunks = 0;
		uint32_t *limb, *chunk;

		pr->scratch.len = 0;
		if (pr->rc == 0 &&
		    (pr->rc = straw_buf_reserve(
		             &pr->scratch, nl * 4 + (n * 3 / 9 + 2) * 4)) != 0)
			return;
		if (pr->rc != 0)
			return;
		limb = (uint32_t *)(void *)pr->scratch.data;
		chunk = limb + nl;
		memset(limb, 0, nl * 4);
		for (i = 0; i < n; i++)
			limb[i / 4] |= (uint32_t)mag[i] << (8 * (i % 4));
		while (nl > 0) {
			uint64_t rem = 0;
			for (i = nl; i > 0; i--) {
				uint64_t cur = rem << 32 | limb[i - 1];
				limb[i - 1] = (uint32_t)(cur / 1000000000u);
				rem = cur % 1000000000u;
			}
			chunk[nchunks++] = (uint32_t)rem;
			while (nl > 0 && limb[nl - 1] == 0)
				nl--;
		}
		snprintf(tmp, sizeof(tmp), "%u", chunk[nchunks - 1]);
		puts_(pr, tmp);
		for (i = nchunks - 1; i > 0; i--) {
			snprintf(tmp, sizeof(tmp), "%09u", chunk[i - 1]);
			puts_(pr, tmp);
		}
	}
}

/* ---- atoms and strings ---- */

int
strawi_printable_cp(uint32_t c)
{
	return (c >= 0x20 && c <= 0x7E) || (c >= 8 && c <= 13) || c == 27 ||
	       (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
	       (c >= 0x10000 && c <= 0x10FFFF);
}

/* Writes code point c inside quotes q, escaped as needed. */
static void
put_quoted_cp(struct printer *pr, uint32_t c, char q)
{
	char tmp[16];
	uint8_t u[4];

	switch (c) {
	case '\\':
		puts_(pr, "\\\\");
		return;
	case '\n':
		puts_(pr, "\\n");
		return;
	case '\t':
		puts_(pr, "\\t");
		return;
	case '\r':
		puts_(pr, "\\r");
		return;
	case '\v':
		puts_(pr, "\\v");
		return;
	case '\f':
		puts_(pr, "\\f");
		return;
	case '\b':
		puts_(pr, "\\b");
		return;
	case 27:
		puts_(pr, "\\e");
		return;
	default:
		break;
	}
	if (c == (uint32_t)q) {
		putc_(pr, '\\');
		putc_(pr, q);
		return;
	}
	if (!strawi_printable_cp(c)) {
		snprintf(tmp, sizeof(tmp), "\\x{%X}", c);
		puts_(pr, tmp);
		return;
	}
	put(pr, u, tl_utf8_encode(c, u));
}

/* Words erl_scan reserves in OTP 25 or 27 (maybe, else), and query. */
static const char *const reserved[] = {
        "after", "and", "andalso", "band",  "begin",   "bnot",  "bor",
        "bsl",   "bsr", "bxor",    "case",  "catch",   "cond",  "div",
        "else",  "end", "fun",     "if",    "let",     "maybe", "not",
        "of",    "or",  "orelse",  "query", "receive", "rem",   "try",
        "when",  "xor", NULL,
};

int
strawi_atom_needs_quotes(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !(s[0] >= 'a' && s[0] <= 'z'))
		return 1;
	for (i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '@'))
			return 1;
	}
	if (n < 2 || n > 7) /* reserved words have 2..7 letters */
		return 0;
	for (i = 0; reserved[i] != NULL; i++)
		if (reserved[i][0] == s[0] && strncmp(reserved[i], s, n) == 0 &&
		    reserved[i][n] == '\0')
			return 1;
	return 0;
}

/* An atom from its UTF-8 name (validated by straw_term_check). */
static void
print_atom(struct printer *pr, const char *s, size_t n)
{
	size_t i = 0;

	if (!strawi_atom_needs_quotes(s, n)) {
		put(pr, s, n);
		return;
	}
	putc_(pr, '\'');
	while (i < n) {
		uint32_t c;
		size_t k = tl_utf8_decode((const uint8_t *)s + i, n - i, &c);
		if (k == 0) { /* can't happen after check; keep going */
			c = (uint8_t)s[i];
			k = 1;
		}
		put_quoted_cp(pr, c, '\'');
		i += k;
	}
	putc_(pr, '\'');
}

/* ---- binaries ---- */

static int
ascii_text(const uint8_t *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(d[i] >= 0x20 && d[i] <= 0x7E) &&
		    !(d[i] >= 8 && d[i] <= 13) && d[i] != 27)
			return 0;
	return 1;
}

static int
utf8_text(const uint8_t *d, size_t n)
{
	size_t i = 0;
	uint32_t c;

	while (i < n) {
		size_t k = tl_utf8_decode(d + i, n - i, &c);
		if (k == 0 || !strawi_printable_cp(c))
			return 0;
		i += k;
	}
	return 1;
}

/* The whole bytes of a binary as segments (no << >>); returns whether
 * anything was written. */
static int
print_bytes(struct printer *pr, const uint8_t *d, size_t n)
{
	int ascii, utf8;
	size_t i;

	if (n == 0)
		return 0;
	ascii = ascii_text(d, n);
	utf8 = !ascii && utf8_text(d, n);
	if (ascii || utf8) {
		i = 0;
		putc_(pr, '"');
		while (i < n) {
			uint32_t c;
			size_t k = tl_utf8_decode(d + i, n - i, &c);
			put_quoted_cp(pr, c, '"');
			i += k;
		}
		putc_(pr, '"');
		if (utf8)
			puts_(pr, "/utf8");
		return 1;
	}
	/* Decimal bytes, written straight into the output buffer. */
	if (pr->rc == 0 && (pr->rc = straw_buf_reserve(pr->out, 4 * n)) == 0) {
		char *o = (char *)pr->out->data + pr->out->len, *start = o;
		for (i = 0; i < n; i++) {
			unsigned v = d[i];
			if (i)
				*o++ = ',';
			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
		}
		pr->out->len += (size_t)(o - start);
	}
	return 1;
}

static void
print_bitstring(struct printer *pr, const uint8_t *d, uint64_t bits)
{
	size_t whole = (size_t)(bits / 8);
	unsigned rest = (unsigned)(bits & 7);
	char tmp[16];

	puts_(pr, "<<");
	if (print_bytes(pr, d, whole) && rest)
		putc_(pr, ',');
	if (rest) {
		snprintf(tmp, sizeof(tmp), "%u:%u", d[whole] >> (8 - rest),
		         rest);
		puts_(pr, tmp);
	}
	puts_(pr, ">>");
}

/* ---- pids, ports, references, closures ---- */

/*
 * A pid, port or reference from its canonical bytes t[0..n) (tag first):
 * erlang:binary_to_term(<<131,Tag,119,Len,"node",Field:Bits,...>>), the
 * node's bytes as a string when printable, the numbers with their sizes.
 */
static void
print_ident(struct printer *pr, const uint8_t *t, size_t n)
{
	char tmp[64];
	size_t pos = 1, nlen, i;

	snprintf(tmp, sizeof(tmp), "erlang:binary_to_term(<<131,%u,", t[0]);
	puts_(pr, tmp);
	if (t[0] == ETF_NEWER_REF) {
		snprintf(tmp, sizeof(tmp), "%u,%u,", t[1], t[2]);
		puts_(pr, tmp);
		pos = 3;
	}
	if (t[pos] == ETF_SMALL_ATOM_UTF8) {
		nlen = t[pos + 1];
		snprintf(tmp, sizeof(tmp), "%u,%zu", t[pos], nlen);
		pos += 2;
	} else {
		nlen = etf_get16(t + pos + 1);
		snprintf(tmp, sizeof(tmp), "%u,%zu,%zu", t[pos], nlen >> 8,
		         nlen & 255);
		pos += 3;
	}
	puts_(pr, tmp);
	if (nlen > 0) {
		putc_(pr, ',');
		print_bytes(pr, t + pos, nlen);
	}
	pos += nlen;
	/* The rest: 32-bit fields, except a V4 port's 64-bit id. */
	if (t[0] == ETF_V4_PORT && pos + 8 <= n) {
		snprintf(tmp, sizeof(tmp), ",%llu:64",
		         (unsigned long long)etf_get64(t + pos));
		puts_(pr, tmp);
		pos += 8;
	}
	for (i = pos; i + 4 <= n; i += 4) {
		snprintf(tmp, sizeof(tmp), ",%u:32", etf_get32(t + i));
		puts_(pr, tmp);
	}
	puts_(pr, ">>)");
}

/* Prints the pid, port or reference whose bytes are t[0..n) (any of their
 * encodings) through its canonical form. */
static int
print_ident_term(struct printer *pr, const uint8_t *t, size_t n)
{
	straw_buf raw = STRAW_BUF_INIT, canon = STRAW_BUF_INIT;
	uint8_t v = STRAW_ETF_VERSION;
	int rc;

	if ((rc = straw_buf_append(&raw, &v, 1)) != 0 ||
	    (rc = straw_buf_append(&raw, t, n)) != 0 ||
	    (rc = straw_term_normalize(raw.data, raw.len, NULL, &canon,
	                               NULL)) != 0)
		goto out;
	if (NEVER(canon.len < 4))
		rc = STRAW_EBADTERM;
	else
		print_ident(pr, canon.data + 1, canon.len - 1);
out:
	straw_buf_fini(&raw);
	straw_buf_fini(&canon);
	return rc;
}

/* A fun: `fun M:F/A` for EXPORT_EXT, else the bytes of the closure. */
static void
print_fun(struct printer *pr, const uint8_t *t, size_t n)
{
	char name[STRAW_ATOM_MAX_BYTES + 1], tmp[16];
	straw_cursor sub;
	size_t len;
	int64_t arity;

	if (t[0] == ETF_EXPORT) {
		straw_cursor_init_body(&sub, t + 1, n - 1);
		puts_(pr, "fun ");
		if (straw_cursor_atom(&sub, name, sizeof(name), &len) == 0)
			print_atom(pr, name, len);
		putc_(pr, ':');
		if (straw_cursor_atom(&sub, name, sizeof(name), &len) == 0)
			print_atom(pr, name, len);
		if (straw_cursor_int64(&sub, &arity) == 0) {
			snprintf(tmp, sizeof(tmp), "/%lld", (long long)arity);
			puts_(pr, tmp);
		}
		return;
	}
	puts_(pr, "erlang:binary_to_term(<<131,");
	print_bytes(pr, t, n);
	puts_(pr, ">>)");
}

/* ---- the walk ---- */

enum pframe_kind {
	PF_TUPLE = 1, /* remaining elements */
	PF_LIST,      /* remaining elements, then the tail */
	PF_TAIL,      /* the tail was printed */
	PF_MAP_KEY,   /* a key was printed */
	PF_MAP_VALUE, /* a value was printed */
};

struct pframe {
	uint32_t kind;      /* enum pframe_kind */
	uint32_t remaining; /* elements or pairs left after the current */
};

/* 1 if the list at c is a proper list of printable code points. */
static int
list_is_text(const straw_cursor *c)
{
	straw_cursor s = *c;
	uint32_t n, i;
	int64_t v;

	if (straw_cursor_list(&s, &n) != 0 || n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (straw_cursor_int64(&s, &v) != 0 || v < 0 || v > 0x10FFFF ||
		    !strawi_printable_cp((uint32_t)v))
			return 0;
	return straw_cursor_nil(&s) == 0;
}

static void
print_text_list(struct printer *pr, straw_cursor *c)
{
	uint32_t n = 0, i;
	int64_t v = 0;

	/* list_is_text() has read this list already: these reads succeed. */
	straw_cursor_list(c, &n);
	putc_(pr, '"');
	for (i = 0; i < n; i++) {
		straw_cursor_int64(c, &v);
		put_quoted_cp(pr, (uint32_t)v, '"');
	}
	straw_cursor_nil(c);
	putc_(pr, '"');
}

/*
 * Prints the next term's scalar, or opens a container: *push gets the
 * frame to push (kind 0 for none).  Returns 0 or a negative code.
 */
static int
print_one(struct printer *pr, straw_cursor *c, struct pframe *push)
{
	char tmp[40];
	int rc, type = straw_cursor_type(c);

	push->kind = 0;
	switch (type) {
	case STRAW_TERM_INTEGER: {
		const uint8_t *mag;
		size_t n;
		int neg;
		if ((rc = straw_cursor_bignum(c, &neg, &mag, &n)) != 0)
			return rc;
		print_bignum(pr, neg, mag, n);
		return 0;
	}
	case STRAW_TERM_FLOAT: {
		double d;
		if ((rc = straw_cursor_double(c, &d)) != 0)
			return rc;
		put(pr, tmp, strawi_float_text(d, tmp));
		return 0;
	}
	case STRAW_TERM_ATOM: {
		char name[STRAW_ATOM_MAX_BYTES + 1];
		size_t n;
		if ((rc = straw_cursor_atom(c, name, sizeof(name), &n)) != 0)
			return rc;
		print_atom(pr, name, n);
		return 0;
	}
	case STRAW_TERM_REF:
	case STRAW_TERM_PORT:
	case STRAW_TERM_PID: {
		const uint8_t *t;
		size_t n;
		if ((rc = straw_cursor_term(c, &t, &n)) != 0)
			return rc;
		return print_ident_term(pr, t, n);
	}
	case STRAW_TERM_FUN: {
		const uint8_t *t;
		size_t n;
		if ((rc = straw_cursor_term(c, &t, &n)) != 0)
			return rc;
		print_fun(pr, t, n);
		return 0;
	}
	case STRAW_TERM_TUPLE: {
		uint32_t n;
		if ((rc = straw_cursor_tuple(c, &n)) != 0)
			return rc;
		if (n == 0) {
			puts_(pr, "{}");
			return 0;
		}
		putc_(pr, '{');
		push->kind = PF_TUPLE;
		push->remaining = n - 1;
		return 0;
	}
	case STRAW_TERM_MAP: {
		uint32_t n;
		if ((rc = straw_cursor_map(c, &n)) != 0)
			return rc;
		if (n == 0) {
			puts_(pr, "#{}");
			return 0;
		}
		puts_(pr, "#{");
		push->kind = PF_MAP_KEY;
		push->remaining = n - 1;
		return 0;
	}
	case STRAW_TERM_NIL:
		if ((rc = straw_cursor_nil(c)) != 0)
			return rc;
		puts_(pr, "[]");
		return 0;
	case STRAW_TERM_LIST: {
		uint32_t n;
		if (list_is_text(c)) {
			print_text_list(pr, c);
			return 0;
		}
		if ((rc = straw_cursor_list(c, &n)) != 0)
			return rc;
		putc_(pr, '[');
		push->kind = PF_LIST;
		push->remaining = n - 1;
		return 0;
	}
	case STRAW_TERM_BINARY: {
		const uint8_t *d;
		uint64_t bits;
		if ((rc = straw_cursor_bitstring(c, &d, &bits)) != 0)
			return rc;
		print_bitstring(pr, d, bits);
		return 0;
	}
	default:
		return type < 0 ? type : STRAW_EBADTERM;
	}
}

static int
print_term(struct printer *pr, straw_cursor *c)
{
	straw_buf stack = STRAW_BUF_INIT;
	struct pframe f, *t;
	int rc;

	for (;;) {
		if ((rc = print_one(pr, c, &f)) != 0)
			goto out;
		if (f.kind != 0) {
			if ((rc = straw_buf_append(&stack, &f, sizeof(f))) != 0)
				goto out;
			continue;
		}
		/* A value ended: separators and closes. */
		for (;;) {
			if (stack.len == 0)
				goto out;
			t = (struct pframe *)(void *)(stack.data + stack.len -
			                              sizeof(f));
			if (t->kind == PF_TUPLE) {
				if (t->remaining > 0) {
					t->remaining--;
					putc_(pr, ',');
					break;
				}
				putc_(pr, '}');
			} else if (t->kind == PF_LIST) {
				if (t->remaining > 0) {
					t->remaining--;
					putc_(pr, ',');
					break;
				}
				if (straw_cursor_type(c) == STRAW_TERM_NIL) {
					straw_cursor_nil(c);
					putc_(pr, ']');
				} else {
					t->kind = PF_TAIL;
					putc_(pr, '|');
					break;
				}
			} else if (t->kind == PF_TAIL) {
				putc_(pr, ']');
			} else if (t->kind == PF_MAP_KEY) {
				t->kind = PF_MAP_VALUE;
				puts_(pr, " => ");
				break;
			} else {
				if (t->remaining > 0) {
					t->remaining--;
					t->kind = PF_MAP_KEY;
					putc_(pr, ',');
					break;
				}
				putc_(pr, '}');
			}
			stack.len -= sizeof(f);
		}
	}
out:
	straw_buf_fini(&stack);
	return rc != 0 ? rc : pr->rc;
}

int
straw_term_to_text_lim(const uint8_t *buf, size_t len,
                       const straw_term_limits *lim, straw_buf *out)
{
	straw_buf flat = STRAW_BUF_INIT;
	struct printer pr;
	straw_cursor c;
	size_t start = out->len, off;
	int rc;

	pr.out = out;
	pr.rc = 0;
	straw_buf_init(&pr.scratch);
	if (straw_term_is_compressed(buf, len)) {
		if ((rc = straw_term_decompress(buf, len, lim, &flat, &off)) !=
		    0)
			goto out;
		buf = flat.data;
		len = flat.len;
	}
	if (len > 0 && buf[0] != STRAW_ETF_VERSION) {
		/* A term without its version byte (a ~t capture): no tag is
		 * 131, so the first byte tells. */
		if ((rc = straw_term_check_body(buf, len, lim, &off)) != 0)
			goto out;
		straw_cursor_init_body(&c, buf, len);
	} else if ((rc = straw_term_check(buf, len, lim, &off)) != 0 ||
	           (rc = straw_cursor_init(&c, buf, len)) != 0) {
		goto out;
	}
	rc = print_term(&pr, &c);
out:
	if (rc != 0)
		out->len = start;
	straw_buf_fini(&flat);
	straw_buf_fini(&pr.scratch);
	return rc;
}

int
straw_term_to_text(const uint8_t *buf, size_t len, straw_buf *out)
{
	return straw_term_to_text_lim(buf, len, NULL, out);
}
