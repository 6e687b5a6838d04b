/*
 * src/term/term_tool.h - what `straw term encode|decode|check` do, apart
 * from reading their input and writing their output (cli/term.c).
 */
#ifndef STRAWI_TERM_TOOL_H
#define STRAWI_TERM_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include <straw/buf.h>

enum term_tool_op {
	TERM_TOOL_ENCODE = 1, /* Erlang text -> ETF */
	TERM_TOOL_DECODE,     /* ETF -> Erlang text */
	TERM_TOOL_CHECK,      /* validate ETF */
};

/*
 * Runs op on the input in[0..len) (hex: ETF given, or wanted, as hex
 * text).  Appends what goes to standard output to out and a one-line
 * message for standard error (with its newline) to msg.  Returns the exit
 * status: 0 success, 1 invalid input (or no memory).  Any thread.
 */
int strawi_term_tool(int op, int hex, const uint8_t *in, size_t len,
                     straw_buf *out, straw_buf *msg);

#endif /* STRAWI_TERM_TOOL_H */
