/*
 * src/registry/strawd_run.h - running strawd as a program: socket
 * activation, detaching, signals, the "already running" message.
 * daemon/strawd.c parses the command line and calls reg_strawd_run.
 */
#ifndef STRAWI_REG_STRAWD_RUN_H
#define STRAWI_REG_STRAWD_RUN_H

#include "strawd/server.h"

/*
 * Serves opts->dir until SIGTERM or SIGINT.  With daemonize, detaches
 * (setsid, stdio to /dev/null except stderr) and lets the calling process
 * exit 0 only once the socket accepts connections.  A listening socket
 * passed by systemd (LISTEN_PID/LISTEN_FDS, fd 3) is used instead of
 * binding one.  Returns the process exit status: 0 after a clean stop, 1
 * when another strawd serves the directory (said on stderr with its pid) or
 * on an error.
 */
int reg_strawd_run(struct reg_server_opts *opts, int daemonize);

#endif /* STRAWI_REG_STRAWD_RUN_H */
