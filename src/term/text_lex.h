/*
 * src/term/text_lex.h - the scanner for Erlang term text, shared by the text
 * parser (straw_term_from_text), the format builder (straw_build_fmt) and the
 * matcher (straw_term_match).
 *
 * It reads UTF-8 text in place and never allocates: a token is a kind plus
 * its byte span; the characters of quoted atoms and strings are read back
 * with tl_chars_next(), which undoes the escapes.  Numbers that fit 64 bits
 * carry their value; longer integers are converted by the parser from the
 * span.  Format directives (~i, ~P, and ~=i for a bound value) are tokens
 * only when the lexer is made with fmt = 1.
 */
#ifndef STRAWI_TEXT_LEX_H
#define STRAWI_TEXT_LEX_H

#include <stddef.h>
#include <stdint.h>

enum tl_kind {
	TL_EOF = 0,
	TL_ATOM,      /* unquoted name or 'quoted' atom; keyword says which */
	TL_VAR,       /* variable name: only `_...` is used (wildcards) */
	TL_INT,       /* integer, incl. 16#FF; see tl_token.big */
	TL_FLOAT,     /* float; value in f */
	TL_CHAR,      /* $c; value in ival */
	TL_STRING,    /* "..." */
	TL_DIRECTIVE, /* ~x or ~=x in format strings; the letter in ival */
	TL_LBRACE,    /* { */
	TL_RBRACE,    /* } */
	TL_LBRACKET,  /* [ */
	TL_RBRACKET,  /* ] */
	TL_LPAREN,    /* ( */
	TL_RPAREN,    /* ) */
	TL_COMMA,     /* , */
	TL_BAR,       /* | */
	TL_HASHBRACE, /* #{ */
	TL_ARROW,     /* => */
	TL_ASSOC,     /* := */
	TL_LBIN,      /* << */
	TL_RBIN,      /* >> */
	TL_SLASH,     /* / */
	TL_COLON,     /* : */
	TL_MINUS,     /* - */
	TL_PLUS,      /* + */
	TL_DOT,       /* . followed by white space or the end */
	TL_PID,       /* <3.7> or <3.7@m0011...>: straw's human form of a pid */
};

/* The longest TL_PID token the scanner reads. */
#define TL_PID_MAX 48

/* Keywords the grammar needs to tell apart from plain atoms. */
enum tl_keyword {
	TLK_NONE = 0, /* an ordinary (or quoted) atom */
	TLK_FUN,      /* fun */
	TLK_RESERVED, /* any other reserved word: not a valid bare atom */
};

struct tl_token {
	int kind;      /* enum tl_kind */
	int keyword;   /* enum tl_keyword, for TL_ATOM */
	int quoted;    /* TL_ATOM: written in quotes */
	int big;       /* TL_INT: does not fit in ival; read the span */
	int bound;     /* TL_DIRECTIVE: written ~=x (a bound value) */
	size_t start;  /* byte offset of the first byte */
	size_t end;    /* byte offset just past the token */
	int64_t ival;  /* TL_INT (if !big), TL_CHAR, TL_DIRECTIVE */
	double f;      /* TL_FLOAT */
	uint32_t base; /* TL_INT: 10 or the base of B#digits */
	size_t digits; /* TL_INT: offset where the digits start */
};

struct tl_lexer {
	const char *text; /* not owned; need not be NUL-terminated */
	size_t len;       /* bytes of text */
	size_t pos;       /* next byte to scan */
	int fmt;          /* 1: ~x directives are tokens */
	size_t err_at;    /* offset of the last error */
};

void tl_init(struct tl_lexer *lx, const char *text, size_t len, int fmt);

/* Scans the next token into *t.  Returns 0, or STRAW_ESYNTAX with the offset
 * of the fault in lx->err_at. */
int tl_next(struct tl_lexer *lx, struct tl_token *t);

/*
 * Reads the characters of a TL_ATOM or TL_STRING token one at a time:
 * start with *pos = 0; each call stores the next code point in *cp and
 * returns 1, or returns 0 at the end.  The token was validated by tl_next.
 */
int tl_chars_next(const struct tl_lexer *lx, const struct tl_token *t,
                  size_t *pos, uint32_t *cp);

/* Number of characters of a TL_ATOM or TL_STRING token. */
size_t tl_chars_count(const struct tl_lexer *lx, const struct tl_token *t);

/* Decodes one UTF-8 sequence at s[0..n); returns its length (>0) and the
 * code point, or 0 if it is invalid (overlong, surrogate, > U+10FFFF). */
size_t tl_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);

/* Encodes cp (<= U+10FFFF) as UTF-8 into out (4 bytes); returns the length. */
size_t tl_utf8_encode(uint32_t cp, uint8_t *out);

/* Longest atom, in characters, as in Erlang. */
#define TL_ATOM_MAX_CHARS 255

#endif /* STRAWI_TEXT_LEX_H */
