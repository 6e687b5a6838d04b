/*
 * src/proc/etf_proc.h - the few ETF shapes the process layer writes and
 * reads itself: atoms, pids, references and the system messages
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

enum {
	ETFP_NEW_PID = 88,
	ETFP_NEWER_REF = 90,
	ETFP_SMALL_INTEGER = 97,
	ETFP_INTEGER = 98,
	ETFP_ATOM = 100,
	ETFP_SMALL_TUPLE = 104,
	ETFP_BINARY = 109,
	ETFP_SMALL_BIG = 110,
	ETFP_SMALL_ATOM = 115,
	ETFP_ATOM_UTF8 = 118,
	ETFP_SMALL_ATOM_UTF8 = 119,
};

/*
 * Who we are, for encoding short pids: set when a container starts, read by
 * any thread while it runs.
 */
struct proc_node {
	uint64_t machine;   /* this machine's id */
	uint32_t container; /* this container's id; 0: none running */
	char name[80];      /* the container's name */
	char host[256];     /* this host's name, as in node names */
};

extern struct proc_node proc_node;

/* Fills proc_node.machine and .host (idempotent).  Any thread. */
void proc_node_init_host(void);

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

/* The length of the term at term[0..len) (no version byte), or < 0 when it
 * is malformed; only for terms already checked. */
/* (Use straw_term_check before relying on shapes of foreign bytes.) */

/* Builds the message {'EXIT', From, Reason} (reason: a message). */
straw_msg *etfp_exit_msg(straw_pid from, const straw_msg *reason);

/* Builds the message {'DOWN', Ref, process, Pid, Reason}. */
straw_msg *etfp_down_msg(straw_ref ref, straw_pid pid, const straw_msg *reason);

/* Builds {Tag, <<Text>>} with an atom tag. */
straw_msg *etfp_tag_text_msg(const char *tag, const char *text, size_t n);

/* 1 if m is {'DOWN', ref, ...}. */
int etfp_is_down_for(const straw_msg *m, straw_ref ref);

#endif /* STRAW_PROC_ETF_H */
