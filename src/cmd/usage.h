/*
 * src/cmd/usage.h - what each uid holds in strawd against its quotas, as
 * `straw status` prints it (the registry's `usage` request,
 * docs/registry-protocol.md).
 */
#ifndef STRAWI_CMD_USAGE_H
#define STRAWI_CMD_USAGE_H

#include <stdio.h>

#include <straw/registry.h>

/*
 * Asks strawd what each uid holds and prints it to out: a table of one
 * line per uid ("used/quota", "-" for root's), then strawd's totals; with
 * json, the member `"usage":{...}` of an object instead.  Root sees every
 * uid, another uid only its own line.  Returns 0, -EOPNOTSUPP when strawd
 * is older and does not know the request (nothing printed), or another
 * error.  Blocks for one round trip.
 */
int strawi_usage_print(straw_reg *r, int json, FILE *out);

#endif /* STRAWI_CMD_USAGE_H */
