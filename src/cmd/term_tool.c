/*
 * The logic of `straw term encode|decode|check`: hex, validation, the text
 * form, and the messages the command prints.
 */
#include <errno.h>
#include <string.h>

#include <straw/term.h>
#include <straw/term_text.h>

#include "base/base.h"
#include "base/hex.h"
#include "cmd/term_tool.h"

static const char *const op_names[] = {"", "encode", "decode", "check"};

/*
 * The fault of a term that failed straw_term_check: "malformed term at
 * byte N: MESSAGE" (plus the tag for an unknown tag, plus the code name).
 */
static void
describe_fault(straw_buf *to, const uint8_t *buf, size_t len, int rc,
               size_t off, int with_name)
{
	straw_buf flat = STRAW_BUF_INIT;
	const uint8_t *bytes = buf;
	size_t n = len, foff;
	const char *where = "";

	if (straw_term_is_compressed(buf, len) && rc != STRAW_EZLIB &&
	    straw_term_decompress(buf, len, NULL, &flat, &foff) == 0) {
		bytes = flat.data;
		n = flat.len;
		where = " of the inflated term";
	}
	straw_buf_printf(to, "malformed term at byte %zu%s: %s", off, where,
	                 straw_strerror(rc));
	if (rc == STRAW_EBADTAG && off < n)
		straw_buf_printf(to, " 0x%02X", bytes[off]);
	if (with_name)
		straw_buf_printf(to, " (%s)", straw_errname(rc));
	straw_buf_puts(to, "\n");
	straw_buf_fini(&flat);
}

/* Makes `bytes` the ETF input: in itself, or decoded from hex. */
static int
etf_input(int op, int hex, const uint8_t *in, size_t len, straw_buf *bin,
          const uint8_t **bytes, size_t *n, straw_buf *report)
{
	size_t bad;
	int rc;

	if (!hex) {
		*bytes = in;
		*n = len;
		return 0;
	}
	rc = strawi_hex_decode((const char *)in, len, bin, &bad);
	if (rc == STRAW_ESYNTAX) {
		straw_buf_printf(
		        report, "straw term %s: invalid hex at character %zu\n",
		        op_names[op], bad);
		return 1;
	}
	if (rc != 0) {
		straw_buf_printf(report, "straw term %s: %s\n", op_names[op],
		                 straw_strerror(rc));
		return 1;
	}
	*bytes = bin->data != NULL ? bin->data : (const uint8_t *)"";
	*n = bin->len;
	return 0;
}

int
strawi_term_tool(int op, int hex, const uint8_t *in, size_t len, straw_buf *out,
                 straw_buf *msg)
{
	straw_buf bin = STRAW_BUF_INIT, etf = STRAW_BUF_INIT;
	const uint8_t *bytes;
	size_t n, off = 0;
	int rc, status = 1;

	if (op == TERM_TOOL_ENCODE) {
		rc = straw_term_from_text((const char *)in, len, &etf, &off);
		if (rc == STRAW_ESYNTAX || rc == STRAW_EDEPTH ||
		    rc == STRAW_ETOOBIG) {
			straw_buf_printf(msg,
			                 "straw term encode: %s at byte %zu\n",
			                 straw_strerror(rc), off);
			goto out;
		}
		if (rc != 0) {
			straw_buf_printf(msg, "straw term encode: %s\n",
			                 straw_strerror(rc));
			goto out;
		}
		if (hex) {
			if (strawi_hex_encode(etf.data, etf.len, 0, out) != 0 ||
			    straw_buf_puts(out, "\n") != 0)
				goto nomem;
		} else if (straw_buf_append(out, etf.data, etf.len) != 0) {
			goto nomem;
		}
		status = 0;
		goto out;
	}
	if (etf_input(op, hex, in, len, &bin, &bytes, &n,
	              op == TERM_TOOL_CHECK ? out : msg) != 0)
		goto out;
	rc = straw_term_check(bytes, n, NULL, &off);
	if (op == TERM_TOOL_CHECK) {
		straw_buf_puts(out, "straw term check: ");
		if (rc != 0) {
			describe_fault(out, bytes, n, rc, off, 1);
			goto out;
		}
		straw_buf_printf(out, "valid term, %zu bytes\n", n);
		status = 0;
		goto out;
	}
	if (rc != 0) {
		straw_buf_puts(msg, "straw term decode: ");
		describe_fault(msg, bytes, n, rc, off, 0);
		goto out;
	}
	if ((rc = straw_term_to_text(bytes, n, out)) != 0 ||
	    straw_buf_puts(out, "\n") != 0) {
		straw_buf_printf(msg, "straw term decode: %s\n",
		                 straw_strerror(rc != 0 ? rc : -ENOMEM));
		goto out;
	}
	status = 0;
	goto out;
nomem:
	straw_buf_printf(msg, "straw term %s: %s\n", op_names[op],
	                 straw_strerror(-ENOMEM));
out:
	straw_buf_fini(&bin);
	straw_buf_fini(&etf);
	return status;
}
