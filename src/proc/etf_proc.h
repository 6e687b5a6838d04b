/*
 * src/proc/etf_proc.h - the few ETF shapes the process layer writes and
 * reads itself (pids and references are the term layer's, <straw/pid.h>):
 * atoms and the system messages
 * {'EXIT', Pid, Reason} and {'DOWN', Ref, process, Pid, Reason}.  They are
 * written directly (no builder) because they sit on the exit path and must
 * not depend on anything that can fail besides memory.
 */
#ifndef STRAW_PROC_ETF_H
#define STRAW_PROC_ETF_H

#include <stddef.h>
#include <stdint.h>

#include <straw/buf.h>
#include <straw/straw.h>

#include "term/etf.h"

/* 1 if term[0..len) (no version byte) is the atom name. */
int etfp_is_atom(const uint8_t *term, size_t len, const char *name);

/* Appends an atom (SMALL_ATOM_UTF8, name up to 255 bytes). */
int etfp_put_atom(straw_buf *b, const char *name);

/* Appends a small tuple header. */
int etfp_put_tuple(straw_buf *b, uint8_t arity);

/* Appends an integer (SMALL_INTEGER, INTEGER or SMALL_BIG). */
int etfp_put_int(straw_buf *b, int64_t v);

/* Appends a binary. */
int etfp_put_binary(straw_buf *b, const void *p, size_t n);

/* Builds the message {'EXIT', From, Reason} (reason: a message). */
straw_msg *etfp_exit_msg(straw_pid from, const straw_msg *reason);

/* Builds the message {'DOWN', Ref, process, Pid, Reason}. */
straw_msg *etfp_down_msg(straw_ref ref, straw_pid pid, const straw_msg *reason);

/*
 * Reserves: the messages a link or a monitor holds so that its EXIT or
 * DOWN arrives even when memory has run out.  A reserve is the message's
 * fixed part (*fixed bytes: version byte, tuple, tag, pid or reference)
 * and ETFP_RESERVE_REASON bytes of room for the reason.  etfp_reserve_fill
 * writes the reason's body after the fixed part and returns 0, or
 * -ENOSPC when it does not fit (r unchanged); fill a reserve once.
 */
#define ETFP_RESERVE_REASON 64
straw_msg *etfp_exit_reserve(straw_pid from, size_t *fixed);
straw_msg *etfp_down_reserve(straw_ref ref, straw_pid pid, size_t *fixed);
int etfp_reserve_fill(straw_msg *r, size_t fixed, const straw_msg *reason);

/* Builds {Tag, <<Text>>} with an atom tag. */
straw_msg *etfp_tag_text_msg(const char *tag, const char *text, size_t n);

/* 1 if m is {'DOWN', ref, ...}. */
int etfp_is_down_for(const straw_msg *m, straw_ref ref);

#endif /* STRAW_PROC_ETF_H */
