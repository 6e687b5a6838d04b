/*
 * src/sched/stack.c - coroutine stacks: mapped in slabs with MAP_NORESERVE
 * (pages are backed only when touched), a PROT_NONE guard page below each
 * stack, the coroutine's struct at the top, pooled per size class.
 *
 * Layout of one stack (low to high addresses):
 *
 *     [guard page][ ... usable stack ... ][struct strawi_coro]
 *
 * A stack that ends goes to its class's hot list as it is, to be reused
 * first.  The hot stacks past cfg.pool_hot give their pages (all but the
 * top one, which holds the struct) back with MADV_DONTNEED and move to the
 * cold list when the scheduler is about to sleep (strawi_stack_trim), so a
 * burst of spawns and exits makes no syscall; past 64 times cfg.pool_hot
 * that happens at once, on exit.  The top page stays mapped and resident
 * until strawi_sched_free, so a late remote wake of an ended coroutine
 * touches valid memory.
 *
 * Guard pages are installed with madvise(MADV_GUARD_INSTALL) (Linux 6.13
 * and later), which marks the page without splitting the mapping, so any
 * number of stacks can have one.  Where the kernel lacks it (checked once:
 * a write(2) from a guard page must fail with EFAULT), mprotect(PROT_NONE)
 * does the job, but splits the mapping: two kernel map entries per stack,
 * of the vm.max_map_count (65530 by default) a process may have.  Then in
 * STRAWI_GUARD_AUTO mode stacks stop getting guard pages when half of that
 * budget, shared by every scheduler of the process, is used; from then on
 * only a check of the stack pointer at each switch (STRAWI_STACK_RED)
 * notices overflows, after the fact.
 *
 * A new slab is prepared in bulk where the kernel allows it (any advice
 * for the calling process since Linux 6.13, addressed as PIDFD_SELF,
 * which came later; checked at run time, 6.18 here): one
 * process_madvise(MADV_GUARD_INSTALL) call with one iovec per stack puts
 * every guard page of the slab in place, and one
 * process_madvise(MADV_POPULATE_WRITE) backs the top page of every stack
 * (the only page a new coroutine touches) without a page fault per stack.
 * Otherwise it is one madvise per stack and a fault on first touch.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/log.h"
#include "sched/sched_int.h"

#ifdef STRAWI_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define SLAB_BYTES      (4u << 20) /* a slab holds up to this much */
#define CORO_SPACE      ((sizeof(struct strawi_coro) + 63) & ~(size_t)63)
#define MAP_RESERVE_MIN 8192 /* map entries left for everything else */

#define SLAB_IOV_MAX    1024 /* UIO_MAXIOV: iovecs per process_madvise */

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#ifndef PIDFD_SELF_THREAD
/* The calling thread, so its memory (no fd); unlike PIDFD_SELF_PROCESS it
 * still works after the main thread has exited. */
#define PIDFD_SELF_THREAD (-10000)
#endif

static atomic_long guard_budget = -1; /* mprotect-guarded stacks allowed */
static atomic_int guard_madvise = -1; /* MADV_GUARD_INSTALL works: 1/0 */
static atomic_int guard_batch = 1;    /* process_madvise may still work */
static atomic_int populate_batch = 1; /* same, MADV_POPULATE_WRITE */

/* process_madvise(2) on this process: the bytes advised, or -1. */
static long
madvise_vec(const struct iovec *iov, size_t n, int advice)
{
#ifdef SYS_process_madvise
	return syscall(SYS_process_madvise, PIDFD_SELF_THREAD, iov, n, advice,
	               0u);
#else
	(void)iov;
	(void)n;
	(void)advice;
	errno = ENOSYS;
	return -1;
#endif
}

/* Whether MADV_GUARD_INSTALL works here (some kernels and emulators accept
 * the call and do nothing, so the result is checked). */
static int
guard_madvise_works(void)
{
	int ok = atomic_load(&guard_madvise);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *p;
	int pfd[2];

	if (ok >= 0)
		return ok;
	ok = 0;
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		if (madvise(p, page, MADV_GUARD_INSTALL) == 0 &&
		    pipe(pfd) == 0) {
			struct iovec iov = {p + page, page};

			ok = write(pfd[1], p, 1) < 0 && errno == EFAULT;
			/* the same for process_madvise, for whole slabs */
			if (!ok ||
			    madvise_vec(&iov, 1, MADV_GUARD_INSTALL) !=
			            (long)page ||
			    write(pfd[1], p + page, 1) >= 0 || errno != EFAULT)
				atomic_store(&guard_batch, 0);
			close(pfd[0]);
			close(pfd[1]);
		}
		munmap(p, 2 * page);
	}
	atomic_store(&guard_madvise, ok);
	return ok;
}

void
strawi_stack_set_batch(int on)
{
	if (!on) {
		atomic_store(&guard_batch, 0);
		atomic_store(&populate_batch, 0);
		return;
	}
	atomic_store(&populate_batch, 1);
	atomic_store(&guard_madvise, -1); /* checked again, batch included */
	atomic_store(&guard_batch, 1);
}

/* Guards every stack of a new slab (n stacks of region bytes from base)
 * with one process_madvise call per SLAB_IOV_MAX stacks: 1 when done, 0
 * when the caller must guard each stack itself. */
static int
slab_guard_batch(struct strawi_sched *s, char *base, size_t n, size_t region,
                 struct iovec *iov)
{
	size_t i, done, k;

	if (iov == NULL || !atomic_load(&guard_batch))
		return 0;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = base + i * region;
		iov[i].iov_len = s->page;
	}
	for (done = 0; done < n; done += k) {
		k = n - done < SLAB_IOV_MAX ? n - done : SLAB_IOV_MAX;
		if (madvise_vec(iov + done, k, MADV_GUARD_INSTALL) !=
		    (long)(k * s->page)) {
			if (errno == EINVAL || errno == ENOSYS ||
			    errno == EBADF || errno == EPERM)
				atomic_store(&guard_batch, 0);
			return 0; /* per stack (installing twice is harmless) */
		}
	}
	return 1;
}

/* Backs the top page of every stack of a new slab (struct and first
 * frames) in one call instead of one page fault per stack.  Best effort:
 * a page it leaves out is faulted in on first touch. */
static void
slab_populate_tops(struct strawi_sched *s, char *base, size_t n, size_t region,
                   struct iovec *iov)
{
	size_t i, done, k;

	if (iov == NULL || !atomic_load(&populate_batch))
		return;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = base + i * region + region - s->page;
		iov[i].iov_len = s->page;
	}
	for (done = 0; done < n; done += k) {
		k = n - done < SLAB_IOV_MAX ? n - done : SLAB_IOV_MAX;
		if (madvise_vec(iov + done, k, MADV_POPULATE_WRITE) !=
		    (long)(k * s->page)) {
			if (errno == EINVAL || errno == ENOSYS ||
			    errno == EBADF || errno == EPERM)
				atomic_store(&populate_batch, 0);
			return;
		}
	}
}

static long
guard_budget_init(void)
{
	long max = 65530, expected = -1, budget;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 65530;
		fclose(f);
	}
	budget = (max - MAP_RESERVE_MIN) / 2;
	if (budget < 0)
		budget = 0;
	atomic_compare_exchange_strong(&guard_budget, &expected, budget);
	return atomic_load(&guard_budget);
}

/* Takes one guarded stack from the budget; 0 when it is used up. */
static int
guard_take(void)
{
	long b = atomic_load(&guard_budget);

	if (b < 0)
		b = guard_budget_init();
	while (b > 0) {
		if (atomic_compare_exchange_weak(&guard_budget, &b, b - 1))
			return 1;
	}
	return 0;
}

static void
guard_give(void)
{
	atomic_fetch_add(&guard_budget, 1);
}

int
strawi_stack_class(size_t stack_size, size_t page)
{
	int cls = 0;
	size_t need = stack_size; /* the struct comes out of it */

	(void)page;
	while (cls < STRAWI_STACK_CLASSES - 1 &&
	       strawi_stack_class_size(cls) < need)
		cls++;
	return cls;
}

/* Usable bytes of a class, struct included. */
size_t
strawi_stack_class_size(int cls)
{
	return (size_t)STRAWI_STACK_MIN << cls;
}

/* Maps a slab of stacks of class cls onto its cold list. */
static int
slab_new(struct strawi_sched *s, int cls)
{
	size_t usable =
	        (strawi_stack_class_size(cls) + s->page - 1) & ~(s->page - 1);
	size_t region = usable + s->page;
	size_t n = SLAB_BYTES / region, i;
	struct strawi_slab *slab;
	struct strawi_stack_pool *pool = &s->pools[cls];
	struct iovec *iov;
	int batch_guarded = 0;
	char *base;

	if (n == 0)
		n = 1;
	slab = straw_malloc(sizeof(*slab));
	if (slab == NULL)
		return -ENOMEM;
	base = mmap(NULL, n * region, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1,
	            0);
	if (base == MAP_FAILED) {
		straw_free(slab);
		return -ENOMEM;
	}
	/* A huge page would make every stack of the slab resident. */
	(void)madvise(base, n * region, MADV_NOHUGEPAGE);
	iov = straw_malloc(n * sizeof(*iov)); /* NULL: one call per stack */
	if (s->cfg.guard != STRAWI_GUARD_OFF && guard_madvise_works())
		batch_guarded = slab_guard_batch(s, base, n, region, iov);
	slab_populate_tops(s, base, n, region, iov);
	straw_free(iov);
	slab->base = base;
	slab->len = n * region;
	slab->next = s->slabs;
	s->slabs = slab;
	for (i = n; i-- > 0;) {
		char *sb = base + i * region;
		struct strawi_coro *c =
		        (struct strawi_coro *)(sb + region - CORO_SPACE);
		int guarded = 0;

		if (s->cfg.guard == STRAWI_GUARD_OFF) {
			/* none */
		} else if (batch_guarded) {
			guarded = 1;
		} else if (guard_madvise_works()) {
			guarded = madvise(sb, s->page, MADV_GUARD_INSTALL) == 0;
		} else if (guard_take()) {
			if (mprotect(sb, s->page, PROT_NONE) == 0)
				guarded = 2;
			else
				guard_give();
		}
		if (!guarded && s->cfg.guard == STRAWI_GUARD_ON)
			continue; /* unusable: left mapped, never handed out */
		if (!guarded && s->cfg.guard == STRAWI_GUARD_AUTO &&
		    !s->warned_unguarded) {
			s->warned_unguarded = 1;
			strawi_log(STRAWI_LOG_WARN,
			           "coroutine stacks from now on without guard "
			           "pages (raise vm.max_map_count for more)");
		}
		c->stack_base = sb;
		c->stack_class = (uint32_t)cls;
		c->guarded = guarded != 0;
		c->state = STRAWI_CORO_DEAD;
		c->sched = s;
		atomic_init(&c->remote_queued, 0);
		atomic_init(&c->remote_wake.next, NULL);
		c->pool_next = pool->cold;
		pool->cold = c;
		pool->cold_count++;
		s->stacks_mapped++;
		s->stacks_guarded += guarded != 0;
		s->stacks_mprotected += guarded == 2;
	}
	if (pool->cold == NULL) {
		strawi_log(STRAWI_LOG_WARN,
		           "no guard page budget left (vm.max_map_count)");
		return -ENOMEM;
	}
	return 0;
}

struct strawi_coro *
strawi_stack_get(struct strawi_sched *s, int cls)
{
	struct strawi_stack_pool *pool = &s->pools[cls];
	struct strawi_coro *c;

	if (pool->hot != NULL) {
		c = pool->hot;
		pool->hot = c->pool_next;
		pool->hot_count--;
		return c;
	}
	if (pool->cold == NULL && slab_new(s, cls) < 0)
		return NULL;
	c = pool->cold;
	pool->cold = c->pool_next;
	pool->cold_count--;
	return c;
}

/* Gives c's pages back (but the top one) and files it as cold. */
static void
make_cold(struct strawi_sched *s, struct strawi_stack_pool *pool,
          struct strawi_coro *c)
{
	char *lo = c->stack_base + s->page;
	char *top_page = (char *)((uintptr_t)c & ~(uintptr_t)(s->page - 1));

#ifdef STRAWI_ASAN
	ASAN_UNPOISON_MEMORY_REGION(lo, (size_t)(top_page - lo));
#endif
	if (top_page > lo)
		(void)madvise(lo, (size_t)(top_page - lo), MADV_DONTNEED);
	c->pool_next = pool->cold;
	pool->cold = c;
	pool->cold_count++;
}

void
strawi_stack_put(struct strawi_sched *s, struct strawi_coro *c)
{
	struct strawi_stack_pool *pool = &s->pools[c->stack_class];

	c->state = STRAWI_CORO_DEAD;
#ifdef STRAWI_ASAN
	/* What the user kept there (a process) is dead with the coroutine:
	 * a late use of it is caught like a use after free. */
	ASAN_POISON_MEMORY_REGION(strawi_stack_top(s, c), s->cfg.user_space);
#endif
	/* At shutdown every slab is about to be unmapped: no madvise. */
	if (pool->hot_count >= s->cfg.pool_hot * 64 && !s->shutting_down) {
		make_cold(s, pool, c);
		return;
	}
	c->pool_next = pool->hot;
	pool->hot = c;
	pool->hot_count++;
	if (pool->hot_count > s->cfg.pool_hot)
		s->stacks_excess = 1;
}

void
strawi_stack_trim(struct strawi_sched *s)
{
	int cls;

	if (!s->stacks_excess || s->shutting_down)
		return; /* at shutdown the slabs are unmapped anyway */
	s->stacks_excess = 0;
	for (cls = 0; cls < STRAWI_STACK_CLASSES; cls++) {
		struct strawi_stack_pool *pool = &s->pools[cls];

		while (pool->hot_count > s->cfg.pool_hot) {
			struct strawi_coro *c = pool->hot;

			pool->hot = c->pool_next;
			pool->hot_count--;
			make_cold(s, pool, c);
		}
	}
}

void
strawi_stack_free_all(struct strawi_sched *s)
{
	struct strawi_slab *slab, *next;

	for (slab = s->slabs; slab != NULL; slab = next) {
		next = slab->next;
#ifdef STRAWI_ASAN
		/* no poisoned shadow left for whatever is mapped here next */
		ASAN_UNPOISON_MEMORY_REGION(slab->base, slab->len);
#endif
		munmap(slab->base, slab->len);
		straw_free(slab);
	}
	s->slabs = NULL;
	if (s->stacks_mprotected > 0)
		atomic_fetch_add(&guard_budget, (long)s->stacks_mprotected);
	s->stacks_mprotected = 0;
	s->stacks_guarded = 0;
	s->stacks_mapped = 0;
}

size_t
strawi_coro_stack_resident(const struct strawi_coro *c)
{
	struct strawi_sched *s = c->sched;
	char *lo = strawi_stack_lo(s, c);
	char *hi = (char *)c + CORO_SPACE;
	size_t pages = (size_t)(hi - lo) / s->page, i, n = 0;
	unsigned char vec[4096];
	size_t done = 0;

	while (done < pages) {
		size_t chunk =
		        pages - done < sizeof(vec) ? pages - done : sizeof(vec);

		if (mincore(lo + done * s->page, chunk * s->page, vec) < 0)
			return 0;
		for (i = 0; i < chunk; i++)
			n += vec[i] & 1;
		done += chunk;
	}
	return n * s->page;
}
