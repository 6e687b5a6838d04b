/*
 * src/proc/ps.h - `straw ps CONTAINER`: the process list of one container,
 * read from the registry.  For the CLI's ps command (cli/ owns argument
 * handling).
 */
#ifndef STRAW_PROC_PS_H
#define STRAW_PROC_PS_H

#include <stdio.h>

#include <straw/registry.h>

/*
 * Asks container (a name or a decimal id) to publish its processes in the
 * registry, waits up to timeout_ms for it, and prints one line per process
 * to out: "<container.process> state=... mailbox=... switches=...
 * received=... memory=... links=... monitors=... trap_exit=... name=...".
 * Returns the number of processes, -ENOENT (no such container),
 * -ETIMEDOUT (it did not answer), or a registry error.  Blocks.
 */
int strawi_ps_container(straw_reg *r, const char *container, FILE *out,
                        int timeout_ms);

#endif /* STRAW_PROC_PS_H */
