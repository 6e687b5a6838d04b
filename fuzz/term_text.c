/*
 * libFuzzer target for the text form.  The input is read two ways:
 *
 *   - as Erlang text: if straw_term_from_text accepts it, the bytes are a
 *     valid term; printing them and parsing the text again gives the same
 *     bytes (and the text of those bytes is a fixed point); a refusal
 *     points inside the input;
 *   - as ETF: if it is a valid term that normalizes, its printed text
 *     parses back to a term equal to it (straw_term_equal with the
 *     normalized bytes).
 *
 * The input, with ~ replaced, is also used as a match pattern against the
 * parsed term: any result is fine, but never a crash.
 */
#include <stdlib.h>
#include <string.h>

#include <straw/term.h>
#include <straw/term_text.h>

static const straw_term_limits lim = {2000, 1 << 20, 1 << 20};

static void
must(int cond)
{
	if (!cond)
		abort();
}

/* bytes -> text -> bytes must give canon again. */
static void
round_trip(const uint8_t *etf, size_t len, const uint8_t *canon, size_t clen)
{
	straw_buf text = STRAW_BUF_INIT, back = STRAW_BUF_INIT,
	          text2 = STRAW_BUF_INIT;
	size_t off = 0;
	int rc;

	rc = straw_term_to_text_lim(etf, len, &lim, &text);
	must(rc == 0);
	rc = straw_term_from_text_lim((const char *)text.data, text.len, &lim,
	                              &back, &off);
	must(rc == 0);
	if (etf == canon)
		must(back.len == clen && memcmp(back.data, canon, clen) == 0);
	else /* canon from straw_term_normalize: the same term */
		must(straw_term_equal(back.data, back.len, canon, clen));
	/* The text of canonical bytes is a fixed point. */
	rc = straw_term_to_text_lim(back.data, back.len, &lim, &text2);
	must(rc == 0);
	if (etf == canon)
		must(text2.len == text.len &&
		     memcmp(text2.data, text.data, text.len) == 0);
	straw_buf_fini(&text);
	straw_buf_fini(&back);
	straw_buf_fini(&text2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	straw_buf a = STRAW_BUF_INIT, canon = STRAW_BUF_INIT;
	size_t off = 0;
	int rc;

	rc = straw_term_from_text_lim((const char *)data, size, &lim, &a, &off);
	if (rc == 0) {
		must(straw_term_check(a.data, a.len, &lim, NULL) == 0);
		round_trip(a.data, a.len, a.data, a.len);
		if (size < 4096) {
			char *pat = malloc(size + 1);
			size_t i;
			must(pat != NULL);
			for (i = 0; i < size; i++)
				pat[i] = data[i] == '~' || data[i] == '\0'
				                 ? '_'
				                 : (char)data[i];
			pat[size] = '\0';
			rc = straw_term_match(a.data, a.len, pat);
			must(rc == 0 || rc == 1 || rc == STRAW_EFORMAT);
			free(pat);
		}
	} else {
		must(rc < 0 && off <= size);
	}
	if (straw_term_check(data, size, &lim, NULL) == 0 &&
	    straw_term_normalize(data, size, &lim, &canon, NULL) == 0)
		round_trip(data, size, canon.data, canon.len);
	straw_buf_fini(&a);
	straw_buf_fini(&canon);
	return 0;
}
