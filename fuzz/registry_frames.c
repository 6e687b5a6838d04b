/*
 * Fuzz target: one received packet of the registry protocol, read both as
 * strawd reads requests and as a client reads replies and events.  Every
 * byte is hostile: framing, the ETF check, request shapes, transaction
 * operations, reply values.
 */
#include <stddef.h>
#include <stdint.h>

#include "registry/msg.h"
#include "registry/path.h"

static void
read_request(const uint8_t *f, size_t n)
{
	struct reg_req rq, op;
	int known;

	if (reg_msg_decode_req(f, n, &rq, &known) < 0)
		return;
	if (rq.path != NULL)
		(void)reg_path_check(rq.path, rq.path_len);
	if (rq.op == REG_OP_TXN)
		while (rq.nops > 0 && reg_msg_txn_next(&rq, &op) == 0)
			if (op.path != NULL)
				(void)reg_path_check(op.path, op.path_len);
}

static void
read_incoming(const uint8_t *f, size_t n)
{
	struct reg_status_info st;
	struct reg_perms p;
	struct reg_in in;
	const uint8_t *d;
	straw_cursor c;
	uint32_t u32, cnt, i;
	uint64_t u64;
	size_t dl;

	if (reg_msg_decode_in(f, n, &in) < 0 || in.value == NULL || in.is_event)
		return;
	(void)reg_read_binary(in.value, in.value_len, &d, &dl);
	(void)reg_read_uint(in.value, in.value_len, &u64);
	(void)reg_read_get(in.value, in.value_len, &d, &dl, &p, &u32);
	(void)reg_read_hello(in.value, in.value_len, &u32, &u32, &u64);
	(void)reg_read_status(in.value, in.value_len, &st);
	if (reg_read_ls_begin(&c, in.value, in.value_len, &cnt) == 0)
		for (i = 0; i < cnt; i++)
			if (reg_read_ls_next(&c, &d, &dl) != 1)
				break;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *f;
	size_t off = 0, n;

	while (reg_frame_next(data, size, &off, &f, &n) == 1) {
		read_request(f, n);
		read_incoming(f, n);
	}
	return 0;
}
