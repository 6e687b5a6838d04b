/*
 * src/sched/stack.c - coroutine stacks: mapped in slabs with MAP_NORESERVE
 * (pages are backed only when touched), a PROT_NONE guard page below each
 * stack, the coroutine's struct at the top, pooled per size class.
 *
 * Layout of one stack (low to high addresses):
 *
 *     [guard page][ ... usable stack ... ][struct strawi_coro]
 *
 * A stack that ends goes to its class's hot list as it is; past cfg.pool_hot
 * its pages (all but the top one, which holds the struct) are given back
 * with MADV_DONTNEED and it goes to the cold list.  The top page stays
 * mapped and resident until strawi_sched_free, so a late remote wake of an
 * ended coroutine touches valid memory.
 *
 * Guard pages split the mapping, costing two kernel map entries per stack;
 * the kernel allows vm.max_map_count entries per process (65530 by
 * default), so in STRAWI_GUARD_AUTO mode stacks stop getting guard pages
 * when half of that budget, shared by every scheduler of the process, is
 * used; from then on only a check of the stack pointer at each switch
 * (STRAWI_STACK_RED) notices overflows, after the fact.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

#include "base/log.h"
#include "sched/sched_int.h"

#ifdef STRAWI_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define SLAB_BYTES      (4u << 20) /* a slab holds up to this much */
#define CORO_SPACE      ((sizeof(struct strawi_coro) + 63) & ~(size_t)63)
#define MAP_RESERVE_MIN 8192 /* map entries left for everything else */

static atomic_long guard_budget = -1; /* guarded stacks still allowed */

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
	size_t need = stack_size + CORO_SPACE;

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
	slab->base = base;
	slab->len = n * region;
	slab->next = s->slabs;
	s->slabs = slab;
	for (i = n; i-- > 0;) {
		char *sb = base + i * region;
		struct strawi_coro *c =
		        (struct strawi_coro *)(sb + region - CORO_SPACE);
		int guarded = 0;

		if (s->cfg.guard != STRAWI_GUARD_OFF && guard_take()) {
			if (mprotect(sb, s->page, PROT_NONE) == 0)
				guarded = 1;
			else
				guard_give();
		}
		if (!guarded && s->cfg.guard == STRAWI_GUARD_ON)
			continue; /* unusable: left mapped, never handed out */
		c->stack_base = sb;
		c->stack_class = (uint32_t)cls;
		c->guarded = (uint8_t)guarded;
		c->state = STRAWI_CORO_DEAD;
		c->sched = s;
		atomic_init(&c->remote_queued, 0);
		atomic_init(&c->remote_wake.next, NULL);
		c->pool_next = pool->cold;
		pool->cold = c;
		pool->cold_count++;
		s->stacks_mapped++;
		s->stacks_guarded += (uint64_t)guarded;
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

void
strawi_stack_put(struct strawi_sched *s, struct strawi_coro *c)
{
	struct strawi_stack_pool *pool = &s->pools[c->stack_class];

	c->state = STRAWI_CORO_DEAD;
	if (pool->hot_count < s->cfg.pool_hot) {
		c->pool_next = pool->hot;
		pool->hot = c;
		pool->hot_count++;
		return;
	}
	{
		char *lo = c->stack_base + s->page;
		char *top_page =
		        (char *)((uintptr_t)c & ~(uintptr_t)(s->page - 1));

#ifdef STRAWI_ASAN
		ASAN_UNPOISON_MEMORY_REGION(lo, (size_t)(top_page - lo));
#endif
		if (top_page > lo)
			(void)madvise(lo, (size_t)(top_page - lo),
			              MADV_DONTNEED);
	}
	c->pool_next = pool->cold;
	pool->cold = c;
	pool->cold_count++;
}

void
strawi_stack_free_all(struct strawi_sched *s)
{
	struct strawi_slab *slab, *next;

	for (slab = s->slabs; slab != NULL; slab = next) {
		next = slab->next;
		munmap(slab->base, slab->len);
		straw_free(slab);
	}
	s->slabs = NULL;
	if (s->stacks_guarded > 0)
		atomic_fetch_add(&guard_budget, (long)s->stacks_guarded);
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
