/*
 * The node identity of this OS process (src/term/node.h) and the pid and
 * reference codec of <straw/pid.h>: how straw's {machine, container,
 * process} maps to Erlang's node names and NEW_PID_EXT / NEWER_REFERENCE
 * _EXT, and the one human form of a pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/hash.h"
#include "base/hex.h"
#include "term/etf.h"
#include "term/node.h"

static struct strawi_node node;
static pthread_once_t node_once = PTHREAD_ONCE_INIT;

int
straw_machine_id(uint64_t *out)
{
	const char *env = getenv("STRAW_MACHINE_ID");
	char buf[64];
	ssize_t n;
	int fd;

	if (env != NULL && *env != '\0')
		return strawi_hex_u64(env, strlen(env), 32, out);
	fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 32)
		return -EINVAL;
	return strawi_hex_u64(buf, 32, 32, out);
}

static void
node_init_once(void)
{
	uint64_t id = 0;

	if (gethostname(node.host, sizeof(node.host) - 1) != 0 ||
	    node.host[0] == '\0')
		snprintf(node.host, sizeof(node.host), "localhost");
	node.host[sizeof(node.host) - 1] = '\0';
	/* No machine id: the host name's hash stands in for it. */
	if (straw_machine_id(&id) < 0 || id == 0)
		id = strawi_hash_bytes(node.host, strlen(node.host), 0);
	node.machine = id != 0 ? id : 1;
}

const struct strawi_node *
strawi_node_self(void)
{
	pthread_once(&node_once, node_init_once);
	return &node;
}

void
strawi_node_set_container(uint32_t id, const char *name)
{
	pthread_once(&node_once, node_init_once);
	snprintf(node.name, sizeof(node.name), "%s", name != NULL ? name : "");
	node.container = id;
	node.creation = id;
}

int
strawi_node_name(char *out, size_t cap, uint64_t machine, uint32_t container)
{
	const struct strawi_node *me = strawi_node_self();
	int n;

	if (machine == 0 && container == 0) {
		if (me->container == 0)
			return STRAW_ENOTCONTAINER;
		container = me->container;
	}
	if (machine == 0)
		machine = me->machine;
	if (machine == me->machine && container == me->container)
		n = snprintf(out, cap, "%s@%s", me->name, me->host);
	else if (machine == me->machine)
		n = snprintf(out, cap, "c%" PRIu32 "@%s", container, me->host);
	else
		n = snprintf(out, cap, "c%" PRIu32 "@m%016" PRIx64, container,
		             machine);
	if (n < 0 || n > 255 || (size_t)n >= cap)
		return STRAW_EBADATOM;
	return 0;
}

uint64_t
strawi_node_machine_of(const uint8_t *s, size_t n)
{
	const struct strawi_node *me = strawi_node_self();
	const uint8_t *at = memchr(s, '@', n);
	uint64_t v;
	size_t hn;

	if (at == NULL)
		return strawi_hash_bytes(s, n, 0);
	at++;
	hn = n - (size_t)(at - s);
	if (hn == strlen(me->host) && memcmp(at, me->host, hn) == 0)
		return me->machine;
	if (hn == 17 && at[0] == 'm' &&
	    strawi_hex_u64((const char *)at + 1, 16, 16, &v) == 0)
		return v;
	return strawi_hash_bytes(at, hn, 0);
}

void
strawi_node_shorten(uint64_t *machine, uint32_t *container)
{
	const struct strawi_node *me = strawi_node_self();

	if (*machine == me->machine && *container != 0 &&
	    *container == me->container) {
		*machine = 0;
		*container = 0;
	}
}

/* ---- pids and references ---------------------------------------------- */

straw_pid
straw_pid_long(straw_pid pid)
{
	const struct strawi_node *me = strawi_node_self();

	if (pid.machine == 0 && pid.container == 0)
		pid.container = me->container;
	if (pid.machine == 0)
		pid.machine = me->machine;
	return pid;
}

uint64_t
straw_pid_machine(straw_pid pid)
{
	return straw_pid_long(pid).machine;
}

uint32_t
straw_pid_container(straw_pid pid)
{
	return straw_pid_long(pid).container;
}

static int
put_u8(straw_buf *b, uint8_t v)
{
	return straw_buf_append(b, &v, 1);
}

static int
put_u32(straw_buf *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	                (uint8_t)(v >> 8), (uint8_t)v};
	return straw_buf_append(b, p, 4);
}

/* Appends the node atom of (machine, container). */
static int
put_node(straw_buf *b, uint64_t machine, uint32_t container)
{
	char name[300];
	size_t n;
	int rc = strawi_node_name(name, sizeof(name), machine, container);

	if (rc < 0)
		return rc;
	n = strlen(name);
	rc = put_u8(b, ETF_SMALL_ATOM_UTF8);
	if (rc == 0)
		rc = put_u8(b, (uint8_t)n);
	return rc == 0 ? straw_buf_append(b, name, n) : rc;
}

/* The creation that pids and references of (machine, container) carry. */
static uint32_t
creation_of(uint64_t machine, uint32_t container)
{
	return machine == 0 && container == 0 ? strawi_node_self()->creation
	                                      : container;
}

/* Reads a node atom at p: its text in *name and *n; returns its size or
 * < 0 (STRAW_EBADTERM when it is not an atom). */
static int
get_node(const uint8_t *p, size_t len, const uint8_t **name, size_t *n)
{
	size_t hdr;

	if (len < 2)
		return STRAW_ETRUNC;
	switch (p[0]) {
	case ETF_SMALL_ATOM:
	case ETF_SMALL_ATOM_UTF8:
		hdr = 2;
		*n = p[1];
		break;
	case ETF_ATOM:
	case ETF_ATOM_UTF8:
		if (len < 3)
			return STRAW_ETRUNC;
		hdr = 3;
		*n = (size_t)p[1] << 8 | p[2];
		break;
	default:
		return STRAW_EBADTERM;
	}
	if (len - hdr < *n)
		return STRAW_ETRUNC;
	*name = p + hdr;
	return (int)(hdr + *n);
}

int
straw_pid_encode(straw_buf *b, straw_pid pid)
{
	size_t old = b->len;
	int rc = put_u8(b, ETF_NEW_PID);

	if (rc == 0)
		rc = put_node(b, pid.machine, pid.container);
	if (rc == 0)
		rc = put_u32(b, pid.process);
	if (rc == 0)
		rc = put_u32(b, 0);
	if (rc == 0)
		rc = put_u32(b, creation_of(pid.machine, pid.container));
	if (rc < 0)
		b->len = old;
	return rc;
}

int
straw_pid_decode(const uint8_t *t, size_t len, straw_pid *pid)
{
	const uint8_t *name;
	size_t nlen, off, need;
	straw_pid p;
	int an;

	if (len < 1)
		return STRAW_ETRUNC;
	if (t[0] != ETF_NEW_PID && t[0] != ETF_PID)
		return STRAW_ETYPE;
	an = get_node(t + 1, len - 1, &name, &nlen);
	if (an < 0)
		return an;
	off = 1 + (size_t)an;
	need = t[0] == ETF_NEW_PID ? 12 : 9;
	if (len - off < need)
		return STRAW_ETRUNC;
	if (t[0] == ETF_PID && t[off + 8] > ETF_OLD_CREATION_MAX)
		return STRAW_EBADTERM; /* as OTP 25 */
	p.process = etf_get32(t + off);
	p.container = t[0] == ETF_NEW_PID ? etf_get32(t + off + 8) : t[off + 8];
	p.machine = strawi_node_machine_of(name, nlen);
	strawi_node_shorten(&p.machine, &p.container);
	*pid = p;
	return (int)(off + need);
}

int
straw_ref_encode(straw_buf *b, straw_ref ref)
{
	size_t old = b->len;
	uint8_t hdr[3] = {ETF_NEWER_REF, 0, 3};
	int rc = straw_buf_append(b, hdr, sizeof(hdr));

	if (rc == 0)
		rc = put_node(b, ref.machine, ref.container);
	if (rc == 0)
		rc = put_u32(b, creation_of(ref.machine, ref.container));
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
	const uint8_t *name;
	size_t nlen, off, words, i;
	uint32_t w[STRAW_REF_MAX_WORDS] = {0};
	straw_ref r;
	int an;

	if (len < 1)
		return STRAW_ETRUNC;
	if (t[0] != ETF_NEWER_REF)
		return STRAW_ETYPE;
	if (len < 3)
		return STRAW_ETRUNC;
	words = etf_get16(t + 1);
	if (words < 1 || words > STRAW_REF_MAX_WORDS)
		return STRAW_EBADTERM;
	an = get_node(t + 3, len - 3, &name, &nlen);
	if (an < 0)
		return an;
	off = 3 + (size_t)an;
	if (len - off < 4 + 4 * words)
		return STRAW_ETRUNC;
	r.container = etf_get32(t + off);
	for (i = 0; i < words; i++)
		w[i] = etf_get32(t + off + 4 + 4 * i);
	r.id = (uint64_t)(w[0] & 0x3ffff) | (uint64_t)w[1] << 18 |
	       (uint64_t)w[2] << 50;
	r.reserved = 0;
	r.machine = strawi_node_machine_of(name, nlen);
	strawi_node_shorten(&r.machine, &r.container);
	*ref = r;
	return (int)(off + 4 + 4 * words);
}

int
straw_pid_to_erl(straw_pid pid, straw_erl_pid *out)
{
	int rc = strawi_node_name(out->node, sizeof(out->node), pid.machine,
	                          pid.container);

	if (rc < 0)
		return rc;
	out->id = pid.process;
	out->serial = 0;
	out->creation = creation_of(pid.machine, pid.container);
	return 0;
}

int
straw_pid_from_erl(const straw_erl_pid *in, straw_pid *out)
{
	straw_pid p;

	p.process = in->id;
	p.container = in->creation;
	p.machine = strawi_node_machine_of((const uint8_t *)in->node,
	                                   strlen(in->node));
	strawi_node_shorten(&p.machine, &p.container);
	*out = p;
	return 0;
}

int
straw_ref_to_erl(straw_ref ref, straw_erl_ref *out)
{
	int rc = strawi_node_name(out->node, sizeof(out->node), ref.machine,
	                          ref.container);

	if (rc < 0)
		return rc;
	out->creation = creation_of(ref.machine, ref.container);
	out->len = 3;
	out->id[0] = (uint32_t)(ref.id & 0x3ffff);
	out->id[1] = (uint32_t)(ref.id >> 18);
	out->id[2] = (uint32_t)(ref.id >> 50);
	out->id[3] = out->id[4] = 0;
	return 0;
}

int
straw_ref_from_erl(const straw_erl_ref *in, straw_ref *out)
{
	straw_ref r;
	uint32_t w[3] = {0, 0, 0};
	uint32_t i;

	if (in->len > 3 || in->len == 0)
		return STRAW_ERANGE;
	for (i = 0; i < in->len; i++)
		w[i] = in->id[i];
	/* 18, 32 and 14 bits make the 64-bit id; more is an OTP reference. */
	if (w[0] > 0x3ffff || w[2] > 0x3fff)
		return STRAW_ERANGE;
	r.id = (uint64_t)(w[0] & 0x3ffff) | (uint64_t)w[1] << 18 |
	       (uint64_t)w[2] << 50;
	r.container = in->creation;
	r.reserved = 0;
	r.machine = strawi_node_machine_of((const uint8_t *)in->node,
	                                   strlen(in->node));
	strawi_node_shorten(&r.machine, &r.container);
	*out = r;
	return 0;
}

int
straw_pid_equal(straw_pid a, straw_pid b)
{
	a = straw_pid_long(a);
	b = straw_pid_long(b);
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
	const struct strawi_node *me = strawi_node_self();

	pid = straw_pid_long(pid);
	if (pid.machine == me->machine)
		return snprintf(out, cap, "<%" PRIu32 ".%" PRIu32 ">",
		                pid.container, pid.process);
	return snprintf(out, cap, "<%" PRIu32 ".%" PRIu32 "@m%016" PRIx64 ">",
	                pid.container, pid.process, pid.machine);
}

/* Reads a decimal uint32 at s[*i..n); 0 or STRAW_ESYNTAX. */
static int
get_dec32(const char *s, size_t n, size_t *i, uint32_t *out)
{
	uint64_t v = 0;
	size_t start = *i;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (uint64_t)(s[*i] - '0');
		if (v > UINT32_MAX)
			return STRAW_ESYNTAX;
		(*i)++;
	}
	if (*i == start)
		return STRAW_ESYNTAX;
	*out = (uint32_t)v;
	return 0;
}

int
straw_pid_parse(const char *s, size_t n, straw_pid *pid)
{
	straw_pid p = {0, 0, 0};
	size_t i = 1;

	if (n < 5 || s[0] != '<' || s[n - 1] != '>')
		return STRAW_ESYNTAX;
	if (get_dec32(s, n, &i, &p.container) < 0 || i >= n || s[i] != '.')
		return STRAW_ESYNTAX;
	i++;
	if (get_dec32(s, n, &i, &p.process) < 0)
		return STRAW_ESYNTAX;
	if (s[i] == '@') {
		/* "@m" and 16 hex digits, then '>' */
		if (n - i != 19 || s[i + 1] != 'm' ||
		    strawi_hex_u64(s + i + 2, 16, 16, &p.machine) < 0)
			return STRAW_ESYNTAX;
		i += 18;
	} else {
		p.machine = strawi_node_self()->machine;
	}
	if (i != n - 1)
		return STRAW_ESYNTAX;
	strawi_node_shorten(&p.machine, &p.container);
	*pid = p;
	return 0;
}
