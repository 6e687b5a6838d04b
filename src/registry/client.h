/*
 * src/registry/client.h - the registry client's internal API for higher
 * layers of libstraw (tubes, the router): extension requests with file
 * descriptors, on the connection a straw_reg holds.
 *
 * The server side is reg_server_handle() in server.h.
 */
#ifndef STRAWI_REG_CLIENT_H
#define STRAWI_REG_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <straw/registry.h>

/*
 * Sends the request {op, Id, Body} (body: an encoded term, version byte
 * first) with nfds file descriptors (SCM_RIGHTS; the caller keeps its own),
 * and waits up to timeout_ms (< 0: forever) for the answer.
 *
 * Returns 0 with *reply (the answer's value as an encoded term, version
 * byte first, straw_malloc'd; `ok` comes back as the atom ok) and up to
 * *nfds_out received fds in fds_out (*nfds_out is in: capacity, out:
 * count; fds beyond the capacity are closed; the caller owns the rest).
 * Returns the handler's negative code, -EOPNOTSUPP when strawd has no
 * handler for op, -ETIMEDOUT, -ECONNRESET if strawd went away while the
 * request was out (it is not resent: extension requests need not be
 * idempotent), or another error; nothing is allocated or received then.
 * reply, fds_out and nfds_out may be NULL to ignore them.
 *
 * Blocks; thread-safe (serialised with every other call on r).
 */
int reg_client_call(straw_reg *r, const char *op, const uint8_t *body,
                    size_t body_len, const int *fds, size_t nfds,
                    uint8_t **reply, size_t *reply_len, int *fds_out,
                    size_t *nfds_out, int timeout_ms);

/* strawd's pid as the last handshake told it, or 0. */
uint32_t reg_client_server_pid(straw_reg *r);

/* The runtime directory r is connected to. */
const char *reg_client_dir(straw_reg *r);

/* A function called (on r's monitor thread, without r's lock held) once
 * after each reconnection of r (to a new strawd, or after losing the
 * connection), once r restored its own state, whichever thread
 * reconnected, so that a higher layer can restore its own (tubes announce
 * themselves again).  One per r; NULL removes it.  Setting the function
 * already set changes nothing. */
void reg_client_on_reconnect(straw_reg *r, void (*fn)(straw_reg *r, void *arg),
                             void *arg);

#endif /* STRAWI_REG_CLIENT_H */
