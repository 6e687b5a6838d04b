/* The ETF shapes of the process layer: pids, references, system messages. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <straw/registry.h>

#include "base/base.h"
#include "base/hash.h"
#include "proc/etf_proc.h"
#include "proc/msg.h"

struct proc_node proc_node;

static pthread_once_t node_once = PTHREAD_ONCE_INIT;

static uint64_t
parse_machine_id(const char *s)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 16 && s[i] != '\0'; i++) {
		int c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		v = v << 4 | (uint64_t)d;
	}
	return v;
}

static void
node_init_once(void)
{
	uint64_t id = 0;

	/* the registry's definition: $STRAW_MACHINE_ID, /etc/machine-id */
	if (straw_machine_id(&id) < 0 || id == 0)
		id = 1; /* none: the host name's hash, below */
	proc_node.machine = id;
	if (gethostname(proc_node.host, sizeof(proc_node.host) - 1) != 0 ||
	    proc_node.host[0] == '\0')
		snprintf(proc_node.host, sizeof(proc_node.host), "localhost");
	proc_node.host[sizeof(proc_node.host) - 1] = '\0';
	if (proc_node.machine == 1)
		proc_node.machine = strawi_hash_bytes(
		        proc_node.host, strlen(proc_node.host), 0);
}

void
proc_node_init_host(void)
{
	pthread_once(&node_once, node_init_once);
}

static int
put_u8(straw_buf *b, uint8_t v)
{
	return straw_buf_append(b, &v, 1);
}

static int
put_u16(straw_buf *b, uint16_t v)
{
	uint8_t p[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	return straw_buf_append(b, p, 2);
}

static int
put_u32(straw_buf *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	                (uint8_t)(v >> 8), (uint8_t)v};
	return straw_buf_append(b, p, 4);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int
etfp_put_atom(straw_buf *b, const char *name)
{
	size_t n = strlen(name);
	int rc;

	if (n > 255)
		return STRAW_EBADATOM;
	rc = straw_buf_reserve(b, 2 + n);
	if (rc < 0)
		return rc;
	put_u8(b, ETFP_SMALL_ATOM_UTF8);
	put_u8(b, (uint8_t)n);
	return straw_buf_append(b, name, n);
}

int
etfp_put_tuple(straw_buf *b, uint8_t arity)
{
	uint8_t p[2] = {ETFP_SMALL_TUPLE, arity};
	return straw_buf_append(b, p, 2);
}

int
etfp_put_int(straw_buf *b, int64_t v)
{
	uint8_t p[11];
	uint64_t mag;
	int n = 0;

	if (v >= 0 && v <= 255) {
		p[0] = ETFP_SMALL_INTEGER;
		p[1] = (uint8_t)v;
		return straw_buf_append(b, p, 2);
	}
	if (v >= INT32_MIN && v <= INT32_MAX) {
		int rc = put_u8(b, ETFP_INTEGER);
		return rc < 0 ? rc : put_u32(b, (uint32_t)(int32_t)v);
	}
	mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	p[0] = ETFP_SMALL_BIG;
	p[2] = v < 0;
	while (mag != 0) {
		p[3 + n++] = (uint8_t)mag;
		mag >>= 8;
	}
	p[1] = (uint8_t)n;
	return straw_buf_append(b, p, 3 + (size_t)n);
}

int
etfp_put_binary(straw_buf *b, const void *p, size_t n)
{
	int rc;

	if (n > UINT32_MAX)
		return -EINVAL;
	rc = straw_buf_reserve(b, 5 + n);
	if (rc < 0)
		return rc;
	put_u8(b, ETFP_BINARY);
	put_u32(b, (uint32_t)n);
	return straw_buf_append(b, p, n);
}

/* Reads an atom at p: its text in *name and *n; returns its size or < 0. */
static int
get_atom(const uint8_t *p, size_t len, const uint8_t **name, size_t *n)
{
	size_t hdr;

	if (len < 2)
		return STRAW_ETRUNC;
	switch (p[0]) {
	case ETFP_SMALL_ATOM:
	case ETFP_SMALL_ATOM_UTF8:
		hdr = 2;
		*n = p[1];
		break;
	case ETFP_ATOM:
	case ETFP_ATOM_UTF8:
		if (len < 3)
			return STRAW_ETRUNC;
		hdr = 3;
		*n = (size_t)p[1] << 8 | p[2];
		break;
	default:
		return STRAW_ETYPE;
	}
	if (len - hdr < *n)
		return STRAW_ETRUNC;
	*name = p + hdr;
	return (int)(hdr + *n);
}

int
etfp_is_atom(const uint8_t *term, size_t len, const char *name)
{
	const uint8_t *s;
	size_t n;

	if (get_atom(term, len, &s, &n) < 0)
		return 0;
	return n == strlen(name) && memcmp(s, name, n) == 0;
}

/* Writes the node name of container c of machine m into node[cap]. */
static int
node_name(char *node, size_t cap, uint64_t machine, uint32_t container)
{
	int n;

	proc_node_init_host();
	if (machine == 0 && container == 0) {
		if (proc_node.container == 0)
			return STRAW_ENOTCONTAINER;
		machine = proc_node.machine;
		container = proc_node.container;
	}
	if (machine == 0)
		machine = proc_node.machine;
	if (machine == proc_node.machine && container == proc_node.container)
		n = snprintf(node, cap, "%s@%s", proc_node.name,
		             proc_node.host);
	else if (machine == proc_node.machine)
		n = snprintf(node, cap, "c%" PRIu32 "@%s", container,
		             proc_node.host);
	else
		n = snprintf(node, cap, "c%" PRIu32 "@m%016" PRIx64, container,
		             machine);
	if (n < 0 || n > 255 || (size_t)n >= cap)
		return STRAW_EBADATOM;
	return 0;
}

/* Appends the node atom naming container c of machine m. */
static int
put_node(straw_buf *b, uint64_t machine, uint32_t container)
{
	char node[400];
	int rc = node_name(node, sizeof(node), machine, container);

	return rc < 0 ? rc : etfp_put_atom(b, node);
}

/* The machine named by a node atom's text, and whether it is this
 * container's node. */
static uint64_t
node_machine(const uint8_t *s, size_t n)
{
	const uint8_t *at = memchr(s, '@', n);
	size_t hn;

	proc_node_init_host();
	if (at == NULL)
		return strawi_hash_bytes(s, n, 0);
	at++;
	hn = n - (size_t)(at - s);
	if (hn == strlen(proc_node.host) && memcmp(at, proc_node.host, hn) == 0)
		return proc_node.machine;
	if (hn == 17 && at[0] == 'm') {
		char hex[17];
		memcpy(hex, at + 1, 16);
		hex[16] = '\0';
		if (strspn(hex, "0123456789abcdef") == 16)
			return parse_machine_id(hex);
	}
	return strawi_hash_bytes(at, hn, 0);
}

static void
shorten(uint64_t *machine, uint32_t *container)
{
	if (*machine == proc_node.machine && *container != 0 &&
	    *container == proc_node.container) {
		*machine = 0;
		*container = 0;
	}
}

int
straw_pid_encode(straw_buf *b, straw_pid pid)
{
	size_t old = b->len;
	int rc = put_u8(b, ETFP_NEW_PID);

	if (rc == 0)
		rc = put_node(b, pid.machine, pid.container);
	if (rc == 0)
		rc = put_u32(b, pid.process);
	if (rc == 0)
		rc = put_u32(b, 0);
	if (rc == 0)
		rc = put_u32(b, pid.machine == 0 && pid.container == 0
		                        ? proc_node.container
		                        : pid.container);
	if (rc < 0)
		b->len = old;
	return rc;
}

int
straw_pid_decode(const uint8_t *t, size_t len, straw_pid *pid)
{
	const uint8_t *node;
	size_t nlen, off, need;
	int an;

	if (len < 1)
		return STRAW_ETRUNC;
	if (t[0] != ETFP_NEW_PID && t[0] != 103 /* PID_EXT */)
		return STRAW_ETYPE;
	an = get_atom(t + 1, len - 1, &node, &nlen);
	if (an == STRAW_ETYPE)
		return STRAW_EBADTERM;
	if (an < 0)
		return an;
	off = 1 + (size_t)an;
	need = t[0] == ETFP_NEW_PID ? 12 : 9;
	if (len - off < need)
		return STRAW_ETRUNC;
	pid->process = get_u32(t + off);
	pid->container =
	        t[0] == ETFP_NEW_PID ? get_u32(t + off + 8) : t[off + 8];
	pid->machine = node_machine(node, nlen);
	shorten(&pid->machine, &pid->container);
	return (int)(off + need);
}

int
straw_pid_to_erl(straw_pid pid, straw_erl_pid *out)
{
	int rc = node_name(out->node, sizeof(out->node), pid.machine,
	                   pid.container);

	if (rc < 0)
		return rc;
	out->id = pid.process;
	out->serial = 0;
	out->creation = pid.machine == 0 && pid.container == 0
	                        ? proc_node.container
	                        : pid.container;
	return 0;
}

int
straw_pid_from_erl(const straw_erl_pid *in, straw_pid *out)
{
	out->process = in->id;
	out->container = in->creation;
	out->machine =
	        node_machine((const uint8_t *)in->node, strlen(in->node));
	shorten(&out->machine, &out->container);
	return 0;
}

int
straw_ref_encode(straw_buf *b, straw_ref ref)
{
	size_t old = b->len;
	int rc = put_u8(b, ETFP_NEWER_REF);

	if (rc == 0)
		rc = put_u16(b, 3);
	if (rc == 0)
		rc = put_node(b, ref.machine, ref.container);
	if (rc == 0)
		rc = put_u32(b, ref.machine == 0 && ref.container == 0
		                        ? proc_node.container
		                        : ref.container);
	if (rc == 0)
		rc = put_u32(b, (uint32_t)(ref.id & 0x3ffff));
	if (rc == 0)
		rc = put_u32(b, (uint32_t)(ref.id >> 18));
	if (rc == 0)
		rc = put_u32(b, (uint32_t)(ref.id >> 50));
	if (rc < 0)
		b->len = old;
	return rc;
}

int
straw_ref_decode(const uint8_t *t, size_t len, straw_ref *ref)
{
	const uint8_t *node;
	size_t nlen, off, words;
	uint32_t w[5] = {0};
	size_t i;
	int an;

	if (len < 3)
		return len < 1 || t[0] == ETFP_NEWER_REF ? STRAW_ETRUNC
		                                         : STRAW_ETYPE;
	if (t[0] != ETFP_NEWER_REF)
		return STRAW_ETYPE;
	words = (size_t)t[1] << 8 | t[2];
	if (words < 1 || words > 5)
		return STRAW_EBADTERM;
	an = get_atom(t + 3, len - 3, &node, &nlen);
	if (an == STRAW_ETYPE)
		return STRAW_EBADTERM;
	if (an < 0)
		return an;
	off = 3 + (size_t)an;
	if (len - off < 4 + 4 * words)
		return STRAW_ETRUNC;
	ref->container = get_u32(t + off);
	for (i = 0; i < words; i++)
		w[i] = get_u32(t + off + 4 + 4 * i);
	ref->id = (uint64_t)(w[0] & 0x3ffff) | (uint64_t)w[1] << 18 |
	          (uint64_t)w[2] << 50;
	ref->reserved = 0;
	ref->machine = node_machine(node, nlen);
	shorten(&ref->machine, &ref->container);
	return (int)(off + 4 + 4 * words);
}

static void
pid_long(straw_pid *p)
{
	if (p->machine == 0 && p->container == 0) {
		p->machine = proc_node.machine;
		p->container = proc_node.container;
	}
	if (p->machine == 0)
		p->machine = proc_node.machine;
}

int
straw_pid_equal(straw_pid a, straw_pid b)
{
	proc_node_init_host();
	pid_long(&a);
	pid_long(&b);
	return a.machine == b.machine && a.container == b.container &&
	       a.process == b.process;
}

int
straw_ref_equal(straw_ref a, straw_ref b)
{
	straw_pid pa = {a.machine, a.container, 0};
	straw_pid pb = {b.machine, b.container, 0};

	return a.id == b.id && straw_pid_equal(pa, pb);
}

int
straw_pid_format(straw_pid pid, char *out, size_t cap)
{
	if (pid.machine == 0)
		return snprintf(out, cap, "<%" PRIu32 ".%" PRIu32 ">",
		                pid.container, pid.process);
	return snprintf(out, cap, "<%016" PRIx64 ".%" PRIu32 ".%" PRIu32 ">",
	                pid.machine, pid.container, pid.process);
}

static straw_msg *
buf_to_msg(straw_buf *b, int rc)
{
	straw_msg *m = NULL;

	if (rc == 0) {
		m = proc_msg_alloc(b->len);
		if (m != NULL)
			memcpy(m->bytes, b->data, b->len);
	}
	straw_buf_fini(b);
	return m;
}

straw_msg *
etfp_exit_msg(straw_pid from, const straw_msg *reason)
{
	straw_buf b = STRAW_BUF_INIT;
	uint8_t v = 131;
	int rc = straw_buf_reserve(&b, 64 + reason->len);

	if (rc == 0)
		rc = straw_buf_append(&b, &v, 1);
	if (rc == 0)
		rc = etfp_put_tuple(&b, 3);
	if (rc == 0)
		rc = etfp_put_atom(&b, "EXIT");
	if (rc == 0)
		rc = straw_pid_encode(&b, from);
	if (rc == 0)
		rc = straw_buf_append(&b, reason->data + 1, reason->len - 1);
	return buf_to_msg(&b, rc);
}

straw_msg *
etfp_down_msg(straw_ref ref, straw_pid pid, const straw_msg *reason)
{
	straw_buf b = STRAW_BUF_INIT;
	uint8_t v = 131;
	int rc = straw_buf_reserve(&b, 128 + reason->len);

	if (rc == 0)
		rc = straw_buf_append(&b, &v, 1);
	if (rc == 0)
		rc = etfp_put_tuple(&b, 5);
	if (rc == 0)
		rc = etfp_put_atom(&b, "DOWN");
	if (rc == 0)
		rc = straw_ref_encode(&b, ref);
	if (rc == 0)
		rc = etfp_put_atom(&b, "process");
	if (rc == 0)
		rc = straw_pid_encode(&b, pid);
	if (rc == 0)
		rc = straw_buf_append(&b, reason->data + 1, reason->len - 1);
	return buf_to_msg(&b, rc);
}

straw_msg *
etfp_tag_text_msg(const char *tag, const char *text, size_t n)
{
	straw_buf b = STRAW_BUF_INIT;
	uint8_t v = 131;
	int rc = straw_buf_append(&b, &v, 1);

	if (rc == 0)
		rc = etfp_put_tuple(&b, 2);
	if (rc == 0)
		rc = etfp_put_atom(&b, tag);
	if (rc == 0)
		rc = etfp_put_binary(&b, text, n);
	return buf_to_msg(&b, rc);
}

int
etfp_is_down_for(const straw_msg *m, straw_ref ref)
{
	const uint8_t *p = m->data;
	size_t len = m->len;
	straw_ref got;

	if (len < 9 || p[0] != 131 || p[1] != ETFP_SMALL_TUPLE || p[2] != 5 ||
	    !etfp_is_atom(p + 3, len - 3, "DOWN"))
		return 0;
	/* the atom is 'DOWN' in any of the atom encodings */
	{
		const uint8_t *s;
		size_t n;
		int an = get_atom(p + 3, len - 3, &s, &n);
		if (an < 0)
			return 0;
		if (straw_ref_decode(p + 3 + an, len - 3 - (size_t)an, &got) <
		    0)
			return 0;
	}
	return straw_ref_equal(got, ref);
}
