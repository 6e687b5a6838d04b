/*
 * The straw side of the live text oracle (tests/term_text_oracle.erl).
 * Files hold one item per line, everything hex-encoded so that any byte
 * survives.
 *
 *   term_text_oracle_driver print IN OUT
 *       IN: ETF (hex) as term_to_binary wrote it, with any options.
 *       OUT: "ok TEXT" with the UTF-8 text straw prints (hex), after
 *       checking that straw parses that text back to exactly the
 *       canonical bytes (straw_term_normalize of the input); else
 *       "error WHAT".
 *   term_text_oracle_driver parse IN OUT
 *       IN: "MODE TEXT ETF": Erlang's text of a term (hex) and
 *       term_to_binary(T, [{minor_version,2}]) (hex); MODE b: straw's
 *       bytes must be identical, e: straw_term_equal must hold (maps of
 *       more than 32 keys, which OTP orders by hash).
 *       OUT: "ok ETF" (straw's bytes, hex) or "error WHAT".
 * Exits 0 when every line was processed (the verdicts are in OUT), 2 on
 * bad usage or unreadable files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <straw/term.h>
#include <straw/term_text.h>

#include "base/hex.h"
#include "cmd/term_tool.h"

static void
put_hex(FILE *f, const uint8_t *p, size_t n)
{
	straw_buf h = STRAW_BUF_INIT;

	if (strawi_hex_encode(p, n, 0, &h) == 0)
		fwrite(h.data, 1, h.len, f);
	straw_buf_fini(&h);
}

static int
unhex(const char *s, size_t n, straw_buf *out)
{
	size_t bad;

	out->len = 0;
	return strawi_hex_decode(s, n, out, &bad);
}

static void
do_print(const char *line, size_t n, FILE *out)
{
	straw_buf etf = STRAW_BUF_INIT, canon = STRAW_BUF_INIT,
	          text = STRAW_BUF_INIT, back = STRAW_BUF_INIT;
	size_t off = 0;
	int rc;

	if (unhex(line, n, &etf) != 0) {
		fprintf(out, "error bad-hex-input\n");
		goto out;
	}
	if ((rc = straw_term_to_text(etf.data, etf.len, &text)) != 0) {
		fprintf(out, "error print %s\n", straw_errname(rc));
		goto out;
	}
	if ((rc = straw_term_normalize(etf.data, etf.len, NULL, &canon,
	                               NULL)) != 0) {
		fprintf(out, "error normalize %s\n", straw_errname(rc));
		goto out;
	}
	if ((rc = straw_term_from_text((const char *)text.data, text.len, &back,
	                               &off)) != 0) {
		fprintf(out, "error parse-back %s at %zu: %.*s\n",
		        straw_errname(rc), off, (int)text.len, text.data);
		goto out;
	}
	if (back.len != canon.len || memcmp(back.data, canon.data, back.len)) {
		fprintf(out, "error parse-back-differs ");
		put_hex(out, back.data, back.len);
		fprintf(out, "\n");
		goto out;
	}
	fprintf(out, "ok ");
	put_hex(out, text.data, text.len);
	fprintf(out, "\n");
out:
	straw_buf_fini(&etf);
	straw_buf_fini(&canon);
	straw_buf_fini(&text);
	straw_buf_fini(&back);
}

static void
do_parse(const char *line, size_t n, FILE *out)
{
	straw_buf text = STRAW_BUF_INIT, want = STRAW_BUF_INIT,
	          got = STRAW_BUF_INIT;
	const char *sp1 = memchr(line, ' ', n), *sp2;
	size_t off = 0;
	int rc;

	if (n < 2 || sp1 != line + 1 ||
	    (sp2 = memchr(sp1 + 1, ' ', n - 2)) == NULL ||
	    unhex(sp1 + 1, (size_t)(sp2 - sp1 - 1), &text) != 0 ||
	    unhex(sp2 + 1, n - (size_t)(sp2 + 1 - line), &want) != 0) {
		fprintf(out, "error bad-input-line\n");
		goto out;
	}
	if ((rc = straw_term_from_text((const char *)text.data, text.len, &got,
	                               &off)) != 0) {
		fprintf(out, "error parse %s at %zu\n", straw_errname(rc), off);
		goto out;
	}
	if (line[0] == 'b' &&
	    (got.len != want.len || memcmp(got.data, want.data, got.len))) {
		fprintf(out, "error bytes-differ ");
		put_hex(out, got.data, got.len);
		fprintf(out, "\n");
		goto out;
	}
	if (!straw_term_equal(got.data, got.len, want.data, want.len)) {
		fprintf(out, "error not-equal ");
		put_hex(out, got.data, got.len);
		fprintf(out, "\n");
		goto out;
	}
	fprintf(out, "ok ");
	put_hex(out, got.data, got.len);
	fprintf(out, "\n");
out:
	straw_buf_fini(&text);
	straw_buf_fini(&want);
	straw_buf_fini(&got);
}

int
main(int argc, char **argv)
{
	FILE *in, *out;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int print;

	if (argc != 4 ||
	    (strcmp(argv[1], "print") != 0 && strcmp(argv[1], "parse") != 0)) {
		fprintf(stderr, "usage: %s print|parse IN OUT\n", argv[0]);
		return 2;
	}
	print = strcmp(argv[1], "print") == 0;
	if ((in = fopen(argv[2], "r")) == NULL ||
	    (out = fopen(argv[3], "w")) == NULL) {
		perror("term_text_oracle_driver");
		return 2;
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (print)
			do_print(line, (size_t)n, out);
		else
			do_parse(line, (size_t)n, out);
	}
	free(line);
	fclose(in);
	if (fclose(out) != 0)
		return 2;
	return 0;
}
