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
		memcpy(out, signbit(v) ? "-0.0" : "0.0", 5);
		return strlen(out);
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
		size_t i;
		for (i = n; i > 0; i--)
			v = v << 8 | mag[i - 1];
		snprintf(tmp, sizeof(tmp), "%s%llu", negative && v ? "-" : "",
		         (unsigned long long)v);
		puts_(pr, tmp);
		return;
	}
	if (negative)
		putc_(pr, '-');
	if (n > TEXT_DECIMAL_MAX) {
		static const char hex[] = "0123456789ABCDEF";
		size_t i = n;
		puts_(pr, "16#");
		if ((mag[n - 1] >> 4) == 0) {
			putc_(pr, hex[mag[n - 1]]);
			i--;
		}
		for (; i > 0; i--) {
			putc_(pr, hex[mag[i - 1] >> 4]);
			putc_(pr, hex[mag[i - 1] & 15]);
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
	for (i = 0; reserved[i] != NULL; i++)
		if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0)
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
	char tmp[8];
	size_t i;

	if (n == 0)
		return 0;
	if (ascii_text(d, n) || utf8_text(d, n)) {
		int utf8 = !ascii_text(d, n);
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
	for (i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), i ? ",%u" : "%u", d[i]);
		puts_(pr, tmp);
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

/* `119,Len,"node"` (or 118,Hi,Lo,... past 255 bytes) inside a binary. */
static void
print_node(struct printer *pr, const char *node)
{
	size_t n = strlen(node);
	char tmp[24];

	if (n <= 255)
		snprintf(tmp, sizeof(tmp), "119,%zu", n);
	else
		snprintf(tmp, sizeof(tmp), "118,%zu,%zu", n >> 8, n & 255);
	puts_(pr, tmp);
	if (n > 0) {
		putc_(pr, ',');
		print_bytes(pr, (const uint8_t *)node, n);
	}
}

static void
print_pid(struct printer *pr, const straw_erl_pid *pid)
{
	char tmp[64];

	puts_(pr, "erlang:binary_to_term(<<131,88,");
	print_node(pr, pid->node);
	snprintf(tmp, sizeof(tmp), ",%u:32,%u:32,%u:32>>)", pid->id,
	         pid->serial, pid->creation);
	puts_(pr, tmp);
}

static void
print_port(struct printer *pr, const straw_erl_port *port)
{
	char tmp[64];
	int v4 = port->id > UINT32_MAX;

	puts_(pr, v4 ? "erlang:binary_to_term(<<131,120,"
	             : "erlang:binary_to_term(<<131,89,");
	print_node(pr, port->node);
	snprintf(tmp, sizeof(tmp), ",%llu:%d,%u:32>>)",
	         (unsigned long long)port->id, v4 ? 64 : 32, port->creation);
	puts_(pr, tmp);
}

static void
print_ref(struct printer *pr, const straw_erl_ref *ref)
{
	char tmp[32];
	uint32_t i;

	snprintf(tmp, sizeof(tmp), "erlang:binary_to_term(<<131,90,0,%u,",
	         ref->len);
	puts_(pr, tmp);
	print_node(pr, ref->node);
	snprintf(tmp, sizeof(tmp), ",%u:32", ref->creation);
	puts_(pr, tmp);
	for (i = 0; i < ref->len; i++) {
		snprintf(tmp, sizeof(tmp), ",%u:32", ref->id[i]);
		puts_(pr, tmp);
	}
	puts_(pr, ">>)");
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
	uint32_t n, i;
	int64_t v;

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
	case STRAW_TERM_REF: {
		straw_erl_ref r;
		if ((rc = straw_cursor_ref(c, &r)) != 0)
			return rc;
		print_ref(pr, &r);
		return 0;
	}
	case STRAW_TERM_FUN: {
		const uint8_t *t;
		size_t n;
		if ((rc = straw_cursor_term(c, &t, &n)) != 0)
			return rc;
		print_fun(pr, t, n);
		return 0;
	}
	case STRAW_TERM_PORT: {
		straw_erl_port port;
		if ((rc = straw_cursor_port(c, &port)) != 0)
			return rc;
		print_port(pr, &port);
		return 0;
	}
	case STRAW_TERM_PID: {
		straw_erl_pid pid;
		if ((rc = straw_cursor_pid(c, &pid)) != 0)
			return rc;
		print_pid(pr, &pid);
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
	if ((rc = straw_term_check(buf, len, lim, &off)) != 0 ||
	    (rc = straw_cursor_init(&c, buf, len)) != 0)
		goto out;
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
