/*
 * src/tube/tube_list.h - the tubes strawd publishes under /tubes, read back
 * as rows (for `straw tubes`).
 */
#ifndef STRAWI_TUBE_LIST_H
#define STRAWI_TUBE_LIST_H

#include <stddef.h>
#include <stdint.h>

#include <straw/registry.h>
#include <straw/tube.h>

struct strawi_tube_side_row {
	char state[16];          /* open | closed */
	uint64_t sent;           /* packets offered */
	uint64_t received;       /* packets received */
	uint64_t dropped;        /* packets dropped */
	uint64_t sent_bytes;     /* bytes offered */
	uint64_t received_bytes; /* bytes received */
	uint64_t wakeups;        /* wake-ups sent */
};

struct strawi_tube_row {
	char name[64];                       /* <opener>-<acceptor>-<tid> */
	uint32_t container[2];               /* opener, acceptor */
	uint32_t tid;                        /* tube id */
	char state[16];                      /* open | closing */
	char mode[16];                       /* drop | reliable */
	struct strawi_tube_side_row side[2]; /* opener's, acceptor's */
};

/*
 * Asks strawd to publish fresh counters, then reads every tube under
 * /tubes.  Returns 0 with *rows (straw_free it) and *n, or an error
 * (nothing allocated).  Blocks.
 */
int strawi_tube_list(straw_reg *r, struct strawi_tube_row **rows, size_t *n);

#endif /* STRAWI_TUBE_LIST_H */
