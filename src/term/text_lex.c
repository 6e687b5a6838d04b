/*
 * The scanner for Erlang term text (see text_lex.h).  It follows erl_scan for
 * the tokens a literal term can contain: names with Latin-1 letters, quoted
 * atoms and strings with every escape erl_scan knows, integers with `_`
 * separators and bases 2..36, floats, $c characters and the punctuation of
 * tuples, lists, maps and binaries.
 */
#define _GNU_SOURCE /* strtod_l, newlocale */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/hex.h"
#include "term/text_lex.h"

void
tl_init(struct tl_lexer *lx, const char *text, size_t len, int fmt)
{
	lx->text = text;
	lx->len = len;
	lx->pos = 0;
	lx->fmt = fmt;
	lx->err_at = 0;
}

size_t
tl_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		c = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		c = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

size_t
tl_utf8_encode(uint32_t cp, uint8_t *out)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* The value of c as a digit of base, or -1. */
static int
digit_in_base(int c, uint32_t base)
{
	int d = strawi_digit_value(c);

	return d >= 0 && (uint32_t)d < base ? d : -1;
}

/* Letters, digits, _ and @, and the Latin-1 letters, as erl_scan. */
static int
is_name_char(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit((int)c) || c == '_' || c == '@' ||
	       (c >= 0xC0 && c <= 0xFF && c != 0xD7 && c != 0xF7);
}

static int
is_atom_start(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
}

static int
is_var_start(uint32_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '_' ||
	       (c >= 0xC0 && c <= 0xDE && c != 0xD7);
}

/* The code point at pos (UTF-8), its length in *n; 0 length at the end or
 * on invalid UTF-8. */
static uint32_t
peek_cp(const struct tl_lexer *lx, size_t pos, size_t *n)
{
	uint32_t cp = 0;

	*n = tl_utf8_decode((const uint8_t *)lx->text + pos, lx->len - pos,
	                    &cp);
	return cp;
}

/*
 * Decodes one character of quoted text at s[*pos], undoing an escape;
 * returns 0 and advances, or -1 on a bad escape or bad UTF-8.
 */
static int
char_decode(const uint8_t *s, size_t end, size_t *pos, uint32_t *cp)
{
	size_t p = *pos, n;
	uint32_t c, v;
	int d, i;

	if (p >= end)
		return -1;
	if (s[p] != '\\') {
		n = tl_utf8_decode(s + p, end - p, &c);
		if (n == 0)
			return -1;
		*cp = c;
		*pos = p + n;
		return 0;
	}
	p++;
	if (p >= end)
		return -1;
	c = s[p++];
	switch (c) {
	case 'b':
		v = 8;
		break;
	case 'd':
		v = 127;
		break;
	case 'e':
		v = 27;
		break;
	case 'f':
		v = 12;
		break;
	case 'n':
		v = 10;
		break;
	case 'r':
		v = 13;
		break;
	case 's':
		v = 32;
		break;
	case 't':
		v = 9;
		break;
	case 'v':
		v = 11;
		break;
	case '^':
		n = p < end ? tl_utf8_decode(s + p, end - p, &c) : 0;
		if (n == 0)
			return -1;
		p += n;
		v = c & 31;
		break;
	case 'x':
		if (p < end && s[p] == '{') {
			p++;
			v = 0;
			for (i = 0; p < end && s[p] != '}'; i++, p++) {
				d = strawi_hex_digit(s[p]);
				if (d < 0 || i >= 8)
					return -1;
				v = v * 16 + (uint32_t)d;
			}
			if (p >= end || i == 0)
				return -1;
			p++;
		} else {
			if (end - p < 2 || strawi_hex_digit(s[p]) < 0 ||
			    strawi_hex_digit(s[p + 1]) < 0)
				return -1;
			v = (uint32_t)(strawi_hex_digit(s[p]) * 16 +
			               strawi_hex_digit(s[p + 1]));
			p += 2;
		}
		if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			return -1;
		break;
	default:
		if (c >= '0' && c <= '7') {
			v = c - '0';
			for (i = 1;
			     i < 3 && p < end && s[p] >= '0' && s[p] <= '7';
			     i++)
				v = v * 8 + (s[p++] - '0');
			break;
		}
		p--;
		n = tl_utf8_decode(s + p, end - p, &c);
		if (n == 0)
			return -1;
		p += n;
		v = c;
		break;
	}
	*cp = v;
	*pos = p;
	return 0;
}

static int
lex_error(struct tl_lexer *lx, size_t at)
{
	lx->err_at = at;
	return STRAW_ESYNTAX;
}

/* Scans quoted text from lx->pos (just past the opening quote). */
static int
lex_quoted(struct tl_lexer *lx, struct tl_token *t, uint8_t quote)
{
	const uint8_t *s = (const uint8_t *)lx->text;
	size_t p = lx->pos, count = 0;
	uint32_t cp;

	for (;;) {
		if (p >= lx->len)
			return lex_error(lx, t->start);
		if (s[p] == quote)
			break;
		if (char_decode(s, lx->len, &p, &cp) != 0)
			return lex_error(lx, p);
		count++;
	}
	if (quote == '\'' && count > TL_ATOM_MAX_CHARS)
		return lex_error(lx, t->start);
	lx->pos = p + 1;
	t->end = lx->pos;
	return 0;
}

/*
 * erl_scan's reserved words in OTP 25, by length.  `maybe` and `else`
 * (reserved from OTP 27) and `query` are read as atoms; the printer quotes
 * them.
 */
static const char *const reserved_by_len[8] = {
        NULL,
        NULL,
        "if of or ",
        "and bor bsl bsr div end fun let not rem try xor ",
        "band bnot bxor case cond when ",
        "after begin catch ",
        "orelse ",
        "andalso receive ",
};

static int
keyword_of(const char *s, size_t n)
{
	const char *w;

	if (n < 2 || n > 7)
		return TLK_NONE;
	for (w = reserved_by_len[n]; *w != '\0'; w += n + 1)
		if (w[0] == s[0] && memcmp(w, s, n) == 0)
			return n == 3 && memcmp(s, "fun", 3) == 0
			               ? TLK_FUN
			               : TLK_RESERVED;
	return TLK_NONE;
}

/* Digits of base `base` with single `_` between digits, from lx->pos. */
static int
lex_digits(struct tl_lexer *lx, uint32_t base, uint64_t *val, int *big)
{
	const char *s = lx->text;
	size_t p = lx->pos, n = 0;
	uint64_t v = 0;
	int d;

	*big = 0;
	for (;;) {
		if (p < lx->len && s[p] == '_' && n > 0 && p + 1 < lx->len &&
		    digit_in_base((uint8_t)s[p + 1], base) >= 0) {
			p++;
			continue;
		}
		if (p >= lx->len ||
		    (d = digit_in_base((uint8_t)s[p], base)) < 0)
			break;
		/* No division per digit: values below 2^59 cannot overflow
		 * with one more digit of base <= 36 (36 < 2^6). */
		if (likely(v < ((uint64_t)1 << 57)))
			v = v * base + (uint64_t)d;
		else if (v > (UINT64_MAX - (uint64_t)d) / base)
			*big = 1;
		else
			v = v * base + (uint64_t)d;
		p++;
		n++;
	}
	if (n == 0)
		return lex_error(lx, p);
	lx->pos = p;
	*val = v;
	return 0;
}

/* Floats are read in the C locale whatever the program's locale is (a
 * locale with a decimal comma must not change what "1.5" means). */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void
c_locale_init(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static double
strtod_c(const char *s, char **end)
{
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale == (locale_t)0)
		return strtod(s, end); /* no memory for it: the current one */
	return strtod_l(s, end, c_locale);
}

/* Largest float literal accepted, in bytes. */
#define TL_FLOAT_MAX_LEN 512

static int
lex_number(struct tl_lexer *lx, struct tl_token *t)
{
	const char *s = lx->text;
	uint64_t v;
	int big, rc;

	t->kind = TL_INT;
	t->base = 10;
	t->digits = lx->pos;
	if ((rc = lex_digits(lx, 10, &v, &big)) != 0)
		return rc;
	if (lx->pos < lx->len && s[lx->pos] == '#') {
		if (big || v < 2 || v > 36)
			return lex_error(lx, t->start);
		t->base = (uint32_t)v;
		lx->pos++;
		t->digits = lx->pos;
		if ((rc = lex_digits(lx, t->base, &v, &big)) != 0)
			return rc;
	} else if (lx->pos + 1 < lx->len && s[lx->pos] == '.' &&
	           is_digit(s[lx->pos + 1])) {
		char tmp[TL_FLOAT_MAX_LEN + 1], *end;
		size_t p, n = 0;

		lx->pos++;
		if ((rc = lex_digits(lx, 10, &v, &big)) != 0)
			return rc;
		if (lx->pos < lx->len &&
		    (s[lx->pos] == 'e' || s[lx->pos] == 'E')) {
			size_t save = lx->pos;
			lx->pos++;
			if (lx->pos < lx->len &&
			    (s[lx->pos] == '+' || s[lx->pos] == '-'))
				lx->pos++;
			if (lx->pos >= lx->len || !is_digit(s[lx->pos]))
				return lex_error(lx, save);
			if ((rc = lex_digits(lx, 10, &v, &big)) != 0)
				return rc;
		}
		for (p = t->start; p < lx->pos; p++) {
			if (s[p] == '_')
				continue;
			if (n >= TL_FLOAT_MAX_LEN)
				return lex_error(lx, t->start);
			tmp[n++] = s[p];
		}
		tmp[n] = '\0';
		t->f = strtod_c(tmp, &end);
		if (end != tmp + n || t->f > 1.7976931348623157e308)
			return lex_error(lx, t->start);
		t->kind = TL_FLOAT;
	}
	t->big = big || v > (uint64_t)INT64_MAX;
	t->ival = t->big ? 0 : (int64_t)v;
	t->end = lx->pos;
	/* A number runs into no name: `1e5` or `16#FFg` are errors. */
	if (lx->pos < lx->len) {
		size_t n;
		uint32_t c = peek_cp(lx, lx->pos, &n);
		if (n > 0 && is_name_char(c))
			return lex_error(lx, lx->pos);
	}
	return 0;
}

static void
skip_blank(struct tl_lexer *lx)
{
	const char *s = lx->text;

	while (lx->pos < lx->len) {
		char c = s[lx->pos];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f' || c == '\v') {
			lx->pos++;
		} else if (c == '%') {
			while (lx->pos < lx->len && s[lx->pos] != '\n')
				lx->pos++;
		} else {
			break;
		}
	}
}

/* Characters that are a whole token by themselves. */
static const uint8_t single_char_token[128] = {
        ['{'] = TL_LBRACE,   ['}'] = TL_RBRACE, ['['] = TL_LBRACKET,
        [']'] = TL_RBRACKET, ['('] = TL_LPAREN, [')'] = TL_RPAREN,
        [','] = TL_COMMA,    ['/'] = TL_SLASH,  ['+'] = TL_PLUS,
};

int
tl_next(struct tl_lexer *lx, struct tl_token *t)
{
	const char *s = lx->text;
	size_t n;
	uint32_t c;
	int rc;

	skip_blank(lx);
	t->keyword = TLK_NONE;
	t->quoted = 0;
	t->big = 0;
	t->bound = 0;
	t->ival = 0;
	t->start = lx->pos;
	if (lx->pos >= lx->len) {
		t->kind = TL_EOF;
		t->end = lx->pos;
		return 0;
	}
	if ((uint8_t)s[lx->pos] < 0x80) {
		c = (uint8_t)s[lx->pos];
		n = 1;
	} else if ((c = peek_cp(lx, lx->pos, &n)), n == 0) {
		return lex_error(lx, lx->pos);
	}
	if (c < 128 && single_char_token[c] != 0) {
		/* One-character punctuation, without the switch below. */
		t->kind = single_char_token[c];
		lx->pos++;
		t->end = lx->pos;
		return 0;
	}
	if (is_digit((int)c))
		return lex_number(lx, t);
	if (is_atom_start(c) || is_var_start(c)) {
		t->kind = is_atom_start(c) ? TL_ATOM : TL_VAR;
		for (;;) {
			lx->pos += n;
			if (lx->pos < lx->len &&
			    (uint8_t)s[lx->pos] < 0x80) { /* ASCII: inline */
				n = 1;
				c = (uint8_t)s[lx->pos];
			} else {
				c = peek_cp(lx, lx->pos, &n);
			}
			if (n == 0 || !is_name_char(c))
				break;
		}
		t->end = lx->pos;
		if (t->kind == TL_ATOM) {
			if (t->end - t->start > TL_ATOM_MAX_CHARS &&
			    (t->end - t->start > 4 * TL_ATOM_MAX_CHARS ||
			     tl_chars_count(lx, t) > TL_ATOM_MAX_CHARS))
				return lex_error(lx, t->start);
			t->keyword =
			        keyword_of(s + t->start, t->end - t->start);
		}
		return 0;
	}
	lx->pos += n;
	t->end = lx->pos;
	switch (c) {
	case '\'':
		t->kind = TL_ATOM;
		t->quoted = 1;
		return lex_quoted(lx, t, '\'');
	case '"':
		t->kind = TL_STRING;
		return lex_quoted(lx, t, '"');
	case '$': {
		size_t p = lx->pos;
		uint32_t v;
		if (char_decode((const uint8_t *)s, lx->len, &p, &v) != 0)
			return lex_error(lx, t->start);
		t->kind = TL_CHAR;
		t->ival = v;
		lx->pos = p;
		t->end = p;
		return 0;
	}
	case '{':
		t->kind = TL_LBRACE;
		return 0;
	case '}':
		t->kind = TL_RBRACE;
		return 0;
	case '[':
		t->kind = TL_LBRACKET;
		return 0;
	case ']':
		t->kind = TL_RBRACKET;
		return 0;
	case '(':
		t->kind = TL_LPAREN;
		return 0;
	case ')':
		t->kind = TL_RPAREN;
		return 0;
	case ',':
		t->kind = TL_COMMA;
		return 0;
	case '|':
		if (lx->pos < lx->len && s[lx->pos] == '|')
			return lex_error(lx, t->start);
		t->kind = TL_BAR;
		return 0;
	case '/':
		t->kind = TL_SLASH;
		return 0;
	case '+':
		t->kind = TL_PLUS;
		return 0;
	case '-':
		if (lx->pos < lx->len &&
		    (s[lx->pos] == '-' || s[lx->pos] == '>'))
			return lex_error(lx, t->start);
		t->kind = TL_MINUS;
		return 0;
	case '#':
		if (lx->pos < lx->len && s[lx->pos] == '{') {
			t->kind = TL_HASHBRACE;
			lx->pos++;
			t->end = lx->pos;
			return 0;
		}
		return lex_error(lx, t->start);
	case '=':
		if (lx->pos < lx->len && s[lx->pos] == '>') {
			t->kind = TL_ARROW;
			lx->pos++;
			t->end = lx->pos;
			return 0;
		}
		return lex_error(lx, t->start);
	case ':':
		if (lx->pos < lx->len && s[lx->pos] == '=') {
			t->kind = TL_ASSOC;
			lx->pos++;
			t->end = lx->pos;
			return 0;
		}
		t->kind = TL_COLON;
		return 0;
	case '<':
		if (lx->pos < lx->len && s[lx->pos] == '<') {
			t->kind = TL_LBIN;
			lx->pos++;
			t->end = lx->pos;
			return 0;
		}
		/* straw's pid <Container.Process[@mHEX]>, read by the parser
		 * (straw_pid_parse); here only its span. */
		if (lx->pos < lx->len && is_digit(s[lx->pos])) {
			size_t q = lx->pos;
			while (q < lx->len && q - t->start < TL_PID_MAX &&
			       (is_digit(s[q]) || s[q] == '.' || s[q] == '@' ||
			        strawi_hex_digit(s[q]) >= 0 || s[q] == 'm'))
				q++;
			if (q < lx->len && s[q] == '>') {
				t->kind = TL_PID;
				lx->pos = q + 1;
				t->end = lx->pos;
				return 0;
			}
		}
		return lex_error(lx, t->start);
	case '>':
		if (lx->pos < lx->len && s[lx->pos] == '>') {
			t->kind = TL_RBIN;
			lx->pos++;
			t->end = lx->pos;
			return 0;
		}
		return lex_error(lx, t->start);
	case '.':
		if (lx->pos >= lx->len || s[lx->pos] == ' ' ||
		    s[lx->pos] == '\t' || s[lx->pos] == '\n' ||
		    s[lx->pos] == '\r' || s[lx->pos] == '%') {
			t->kind = TL_DOT;
			return 0;
		}
		return lex_error(lx, t->start);
	case '~': {
		/* ~x, or ~=x for a bound value; x a letter. */
		size_t q = lx->pos;
		int bound = q < lx->len && s[q] == '=';
		q += (size_t)bound;
		if (lx->fmt && q < lx->len &&
		    ((s[q] >= 'a' && s[q] <= 'z') ||
		     (s[q] >= 'A' && s[q] <= 'Z'))) {
			t->kind = TL_DIRECTIVE;
			t->ival = s[q];
			t->bound = bound;
			lx->pos = q + 1;
			t->end = lx->pos;
			return 0;
		}
		return lex_error(lx, t->start);
	}
	default:
		break;
	}
	(void)rc;
	return lex_error(lx, t->start);
}

int
tl_chars_next(const struct tl_lexer *lx, const struct tl_token *t, size_t *pos,
              uint32_t *cp)
{
	const uint8_t *s = (const uint8_t *)lx->text;
	size_t p, end;

	if (t->quoted || t->kind == TL_STRING) {
		p = t->start + 1 + *pos;
		end = t->end - 1;
		if (p >= end)
			return 0;
		if (char_decode(s, end, &p, cp) != 0)
			return 0; /* can't happen: validated by tl_next */
		*pos = p - t->start - 1;
		return 1;
	}
	p = t->start + *pos;
	end = t->end;
	if (p >= end)
		return 0;
	p += tl_utf8_decode(s + p, end - p, cp);
	*pos = p - t->start;
	return 1;
}

size_t
tl_chars_count(const struct tl_lexer *lx, const struct tl_token *t)
{
	size_t pos = 0, n = 0;
	uint32_t cp;

	while (tl_chars_next(lx, t, &pos, &cp))
		n++;
	return n;
}
