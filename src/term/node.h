/*
 * src/term/node.h - who this container is, as Erlang node names and pids
 * see it: the one node-identity module of straw (machine id, container id,
 * node name, host, creation).  The process layer sets it when a container
 * starts; the pid and reference codec (node.c, <straw/pid.h>), the router
 * and the distribution layer read it.
 *
 * Threads: strawi_node_set_container runs while the container starts and
 * after it ended (no other thread of it runs); everything else is any
 * thread, reading what was set then.
 */
#ifndef STRAWI_TERM_NODE_H
#define STRAWI_TERM_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <straw/pid.h>

/* The identity of this OS process as a straw node. */
struct strawi_node {
	uint64_t machine;   /* this machine's id (never 0) */
	uint32_t container; /* the running container's id; 0: none runs */
	uint32_t creation;  /* what its pids carry as creation (= container) */
	char name[80];      /* the container's name, "" when none runs */
	char host[256];     /* this host's name, as in node names */
};

/* The identity (machine and host filled on first use).  Any thread. */
const struct strawi_node *strawi_node_self(void);

/* Sets (id != 0) or clears (id 0, name NULL) the running container. */
void strawi_node_set_container(uint32_t id, const char *name);

/* The node name of container `container` of machine `machine` (0 and 0:
 * this container) into node[cap]: "name@host", "c<id>@host" or
 * "c<id>@m<hex>".  Returns 0, STRAW_ENOTCONTAINER (this container, none
 * runs) or STRAW_EBADATOM (over 255 bytes or cap). */
int strawi_node_name(char *node, size_t cap, uint64_t machine,
                     uint32_t container);

/* The machine a node name's text (atom bytes s[0..n)) names. */
uint64_t strawi_node_machine_of(const uint8_t *s, size_t n);

/* Makes a long (machine, container) short when it names this container. */
void strawi_node_shorten(uint64_t *machine, uint32_t *container);

#endif /* STRAWI_TERM_NODE_H */
