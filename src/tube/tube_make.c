/*
 * src/tube/tube_make.c - creating a tube's shared memory and wake-up
 * descriptors, and making one side's tube object from them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "tube/tube_impl.h"

#define TUBE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static int
dup_cloexec(int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	return d < 0 ? -errno : d;
}

void
strawi_tube_pair_close_side(struct strawi_tube_pair *p, int s)
{
	int i;

	for (i = 0; i < STRAWI_TUBE_NFDS; i++) {
		if (p->fds[s][i] >= 0)
			close(p->fds[s][i]);
		p->fds[s][i] = -1;
	}
}

int
strawi_tube_pair_create(enum straw_tube_mode mode, uint32_t tid, uint32_t c0,
                        uint32_t c1, struct strawi_tube_pair *out)
{
	struct strawi_tube_pair p;
	struct tube_shm *shm;
	int i, rc, sv[2];

	if (mode != STRAW_TUBE_DROP && mode != STRAW_TUBE_RELIABLE)
		return -EINVAL;
	for (i = 0; i < STRAWI_TUBE_NFDS; i++)
		p.fds[0][i] = p.fds[1][i] = -1;

	p.fds[0][STRAWI_TUBE_FD_MEM] =
	        memfd_create("straw-tube", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (p.fds[0][STRAWI_TUBE_FD_MEM] < 0)
		goto fail_errno;
	if (ftruncate(p.fds[0][STRAWI_TUBE_FD_MEM], STRAW_TUBE_MEMORY) < 0 ||
	    fcntl(p.fds[0][STRAWI_TUBE_FD_MEM], F_ADD_SEALS, TUBE_SEALS) < 0)
		goto fail_errno;
	shm = mmap(NULL, TUBE_HDR_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
	           p.fds[0][STRAWI_TUBE_FD_MEM], 0);
	if (shm == MAP_FAILED)
		goto fail_errno;
	/* The memfd is zero-filled: only the identity needs writing. */
	shm->magic = TUBE_MAGIC;
	shm->version = TUBE_VERSION;
	shm->mode = (uint32_t)mode;
	shm->ring_bytes = TUBE_RING_BYTES;
	shm->tid = tid;
	shm->container[0] = c0;
	shm->container[1] = c1;
	munmap(shm, TUBE_HDR_BYTES);

	for (i = STRAWI_TUBE_FD_DATA0; i <= STRAWI_TUBE_FD_SPACE1; i++) {
		p.fds[0][i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p.fds[0][i] < 0)
			goto fail_errno;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail_errno;
	p.fds[0][STRAWI_TUBE_FD_SOCK] = sv[0];
	p.fds[1][STRAWI_TUBE_FD_SOCK] = sv[1];
	for (i = 0; i < STRAWI_TUBE_NFDS; i++) {
		if (i == STRAWI_TUBE_FD_SOCK)
			continue;
		rc = dup_cloexec(p.fds[0][i]);
		if (rc < 0)
			goto fail;
		p.fds[1][i] = rc;
	}
	*out = p;
	return 0;

fail_errno:
	rc = -errno;
fail:
	strawi_tube_pair_close_side(&p, 0);
	strawi_tube_pair_close_side(&p, 1);
	return rc;
}

/* Checks that fd is a sealed memfd of the right size holding a tube header
 * and maps it.  Returns 0 and sets *shm, or a negative code. */
static int
map_checked(int fd, struct tube_shm **out)
{
	struct stat st;
	struct tube_shm *shm;
	int seals;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size != STRAW_TUBE_MEMORY)
		return -EINVAL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return -errno == -EINVAL ? -EINVAL : -errno;
	/* Without these the peer could shrink the file under us (SIGBUS). */
	if ((seals & (F_SEAL_SHRINK | F_SEAL_SEAL)) !=
	    (F_SEAL_SHRINK | F_SEAL_SEAL))
		return -EINVAL;
	shm = mmap(NULL, STRAW_TUBE_MEMORY, PROT_READ | PROT_WRITE, MAP_SHARED,
	           fd, 0);
	if (shm == MAP_FAILED)
		return -errno;
	if (shm->magic != TUBE_MAGIC || shm->version != TUBE_VERSION ||
	    shm->ring_bytes != TUBE_RING_BYTES ||
	    (shm->mode != STRAW_TUBE_DROP &&
	     shm->mode != STRAW_TUBE_RELIABLE)) {
		munmap(shm, STRAW_TUBE_MEMORY);
		return STRAW_ETUBECORRUPT;
	}
	*out = shm;
	return 0;
}

/* Adds fd to the epoll set epfd for input (with hang-up for a socket). */
static int
ep_add(int epfd, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u32 = tag;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* An epoll set of wake (this side's data or space eventfd) and the
 * socket end, for the readiness fds. */
static int
ready_set(int wake, int sock)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC), rc;

	if (epfd < 0)
		return -errno;
	rc = ep_add(epfd, wake, EPOLLIN, 0);
	if (rc == 0)
		rc = ep_add(epfd, sock, EPOLLIN | EPOLLRDHUP, 1);
	if (rc < 0) {
		close(epfd);
		return rc;
	}
	return epfd;
}

int
strawi_tube_init(straw_tube *t, int side, const int fds[STRAWI_TUBE_NFDS])
{
	struct tube_shm *shm = NULL;
	struct stat st;
	int i, rc, peer = 1 - side;

	if (side != 0 && side != 1)
		return -EINVAL;
	for (i = 0; i < STRAWI_TUBE_NFDS; i++)
		if (fds[i] < 0)
			return -EBADF;
	if (fstat(fds[STRAWI_TUBE_FD_SOCK], &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EINVAL;
	rc = map_checked(fds[STRAWI_TUBE_FD_MEM], &shm);
	if (rc < 0)
		return rc;
	memset(t, 0, sizeof(*t));
	t->epfd = ready_set(fds[STRAWI_TUBE_FD_DATA0 + side],
	                    fds[STRAWI_TUBE_FD_SOCK]);
	if (t->epfd < 0) {
		rc = t->epfd;
		goto fail_map;
	}
	t->wepfd = ready_set(fds[STRAWI_TUBE_FD_SPACE0 + side],
	                     fds[STRAWI_TUBE_FD_SOCK]);
	if (t->wepfd < 0) {
		rc = t->wepfd;
		goto fail_ep;
	}

	t->shm = shm;
	t->side = side;
	t->mode = (int)shm->mode;
	t->spin_ns = 20000;
	t->memfd = -1;
	t->self = shm->container[side];
	t->peer = shm->container[peer];
	t->tid = shm->tid;

	t->tx.data = tube_shm_ring_data(shm, side);
	t->tx.ring = &shm->ring[side];
	t->tx.tail = atomic_load(&shm->ring[side].tail);
	t->tx.head_cache = atomic_load(&shm->ring[side].head);
	if (t->tx.tail != 0 || t->tx.head_cache != 0) {
		/* A tube is handed out once, before any traffic. */
		rc = STRAW_ETUBECORRUPT;
		goto fail_wep;
	}
	t->tx.space_fd = fds[STRAWI_TUBE_FD_SPACE0 + side];
	t->tx.peer_data_fd = fds[STRAWI_TUBE_FD_DATA0 + peer];

	t->rx.data = tube_shm_ring_data(shm, peer);
	t->rx.ring = &shm->ring[peer];
	t->rx.data_fd = fds[STRAWI_TUBE_FD_DATA0 + side];
	t->rx.peer_space_fd = fds[STRAWI_TUBE_FD_SPACE0 + peer];

	/* The mapping keeps the memory; the memfd is no longer needed. */
	close(fds[STRAWI_TUBE_FD_MEM]);
	for (i = 0; i < STRAWI_TUBE_NFDS; i++)
		t->fds[i] = i == STRAWI_TUBE_FD_MEM ? -1 : fds[i];
	return 0;

fail_wep:
	close(t->wepfd);
fail_ep:
	close(t->epfd);
fail_map:
	munmap(shm, STRAW_TUBE_MEMORY);
	return rc;
}

int
strawi_tube_from_fds(int side, const int fds[STRAWI_TUBE_NFDS],
                     straw_tube **out)
{
	straw_tube *t = straw_malloc(sizeof(*t));
	int rc;

	if (t == NULL)
		return -ENOMEM;
	rc = strawi_tube_init(t, side, fds);
	if (rc < 0) {
		straw_free(t);
		return rc;
	}
	*out = t;
	return 0;
}
