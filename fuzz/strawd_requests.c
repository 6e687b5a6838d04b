/*
 * Fuzz target: strawd's whole request path, not only its frame parser.
 * Each input is a conversation with a real server run in this process (a
 * fresh one per input, in a private runtime directory, with the tube
 * broker): two connections of uid 0 or 65534 (reg_server_add_conn), and
 * packets sent on them in turn, each served to the end by the server's own
 * loop (reg_server_run_once): the handshake, every request and its checks
 * (paths, permissions, quotas, transactions, watches and their events,
 * joins, the extension handlers: tube open/accept/close/publish/adopt with
 * hostile memory, usage), output and its limits, hang-ups.  Replies are
 * read back and checked as a client reads them.
 *
 * Input: byte 0 chooses the uids (bit 0: connection 0 is root, bit 1:
 * connection 1 is).  Then records of
 *
 *     [flags] [len high] [len low] ([hlen] [hlen bytes])? [len bytes]
 *
 * flags bit 0: which connection sends the packet; bit 1: a sealed memfd of
 * a tube's size travels with it, whose header is the hlen bytes; bit 2: it
 * is unsealed instead; bit 3: the client does not read its replies after
 * this packet; bit 4: the client hangs up after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <straw/tube.h>

#include "base/log.h"
#include "registry/msg.h"
#include "strawd/server.h"

#define MAX_RECORDS 64

static char dir[64];

/* A runtime directory for this process's servers, removed at exit. */
static void
cleanup(void)
{
	static const char *const files[] = {"strawd.sock", "strawd.lock", "ids",
	                                    "ids.tmp", "tube.key"};
	char p[128];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void
setup_once(void)
{
	if (dir[0] != '\0')
		return;
	snprintf(dir, sizeof(dir), "/tmp/straw-fuzz-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	setenv("STRAW_LOG", "error", 0); /* quiet unless asked */
	strawi_log_level_init();
}

/* Reads what the server sent to fd, as a client would, closing any
 * descriptors that came. */
static void
drain(int fd, uint8_t *buf)
{
	for (;;) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int) * REG_MAX_FDS)];
		} cm;
		struct iovec iov = {buf, REG_MAX_PACKET};
		struct msghdr mh = {0};
		int fds[REG_MAX_FDS];
		const uint8_t *frame;
		size_t off = 0, flen, nfds, i;
		struct reg_in in;
		ssize_t n;

		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n <= 0)
			return;
		nfds = reg_take_fds(&mh, fds, 0);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		while (reg_frame_next(buf, (size_t)n, &off, &frame, &flen) == 1)
			if (reg_msg_decode_in(frame, flen, &in) < 0)
				abort(); /* strawd sent something malformed */
	}
}

/* A memfd of a tube's size holding hdr, sealed unless told not to. */
static int
make_memfd(const uint8_t *hdr, size_t len, int unsealed)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, STRAW_TUBE_MEMORY) < 0 ||
	    (len > 0 && pwrite(fd, hdr, len, 0) != (ssize_t)len) ||
	    (!unsealed &&
	     fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) <
	             0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
send_packet(int fd, const uint8_t *data, size_t len, int memfd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {(void *)data, len};
	struct msghdr mh = {0};

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (memfd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int));
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &memfd, sizeof(int));
	}
	(void)sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Runs the server until it has nothing more to do (bounded). */
static void
settle(struct reg_server *s)
{
	int i;

	for (i = 0; i < 64 && reg_server_run_once(s, 0) > 0; i++)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *buf;
	struct reg_server_opts opts;
	struct reg_server *s;
	char ids[128];
	int cl[2] = {-1, -1}, i, holder, records;
	size_t off = 1;

	if (size < 1)
		return 0;
	setup_once();
	if (buf == NULL && (buf = malloc(REG_MAX_PACKET)) == NULL)
		abort();
	/* A fresh server each time: inputs do not depend on each other. */
	snprintf(ids, sizeof(ids), "%s/ids", dir);
	unlink(ids);
	memset(&opts, 0, sizeof(opts));
	opts.dir = dir;
	opts.listen_fd = -1;
	opts.modules = strawd_modules;
	/* Small enough that inputs reach them. */
	opts.quota_nodes = 64;
	opts.quota_bytes = 1 << 16;
	opts.quota_watches = 8;
	opts.quota_tubes = 8;
	opts.quota_containers = 2;
	opts.quota_outq = 1 << 14;
	opts.quota_outq_uid = 1 << 15;
	opts.max_outq = 1 << 16;
	if (reg_server_create(&opts, &s, &holder) < 0)
		abort();
	for (i = 0; i < 2; i++) {
		int sv[2];
		uid_t uid = (data[0] >> i) & 1 ? 0 : 65534;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) <
		    0)
			abort();
		if (reg_server_add_conn(s, sv[1], uid, uid, getpid()) == 0)
			cl[i] = sv[0];
		else
			close(sv[0]);
	}
	for (records = 0; records < MAX_RECORDS && off + 3 <= size; records++) {
		uint8_t flags = data[off];
		size_t len = ((size_t)data[off + 1] << 8) | data[off + 2];
		const uint8_t *hdr = NULL;
		size_t hlen = 0;
		int c = flags & 1, memfd = -1;

		off += 3;
		if (flags & 2) {
			if (off >= size)
				break;
			hlen = data[off++];
			if (hlen > size - off)
				hlen = size - off;
			hdr = data + off;
			off += hlen;
		}
		if (len > size - off)
			len = size - off;
		if (cl[c] < 0) {
			off += len;
			continue;
		}
		if (flags & 2)
			memfd = make_memfd(hdr, hlen, flags & 4);
		send_packet(cl[c], data + off, len, memfd);
		if (memfd >= 0)
			close(memfd);
		off += len;
		settle(s);
		for (i = 0; i < 2 && !(flags & 8); i++)
			if (cl[i] >= 0)
				drain(cl[i], buf);
		if (flags & 16) {
			close(cl[c]);
			cl[c] = -1;
			settle(s);
		}
	}
	for (i = 0; i < 2; i++)
		if (cl[i] >= 0)
			close(cl[i]);
	settle(s);
	reg_server_destroy(s);
	return 0;
}
