/* src/sched/ctx_test.c - the bare context switch, without a scheduler. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/ctx.h"
#include "testing/check.h"

static void *main_sp, *co_sp;
static int steps;
static double fp_kept;

static void
entry(void *arg)
{
	int *n = arg;
	volatile double x = 1.5;

	for (;;) {
		(*n)++;
		steps++;
		x = x * 2;
		strawi_ctx_switch(&co_sp, main_sp);
	}
}

CASE(switch_back_and_forth)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	int n = 0, i;
	/* Callee-saved state across switches in the main context. */
	register long r = 12345;
	double d = 2.25;

	co_sp = strawi_ctx_make(stack + sizeof(stack), entry, &n);
	for (i = 0; i < 1000; i++) {
		strawi_ctx_switch(&main_sp, co_sp);
		CHECK_EQ(n, i + 1);
		CHECK_EQ(r, 12345);
		d += 1.0;
	}
	fp_kept = d;
	CHECK(fp_kept == 1002.25);
	CHECK_EQ(steps, 1000);
}

/* Two coroutines passing control to each other directly. */
static void *a_sp, *b_sp;
static int trace[8], ntrace;

static void
a_entry(void *arg)
{
	(void)arg;
	trace[ntrace++] = 1;
	strawi_ctx_switch(&a_sp, b_sp);
	trace[ntrace++] = 3;
	strawi_ctx_switch(&a_sp, main_sp);
	abort();
}

static void
b_entry(void *arg)
{
	(void)arg;
	trace[ntrace++] = 2;
	strawi_ctx_switch(&b_sp, a_sp);
	abort();
}

CASE(chain_of_contexts)
{
	static char sa[32 * 1024] __attribute__((aligned(16)));
	static char sb[32 * 1024] __attribute__((aligned(16)));

	a_sp = strawi_ctx_make(sa + sizeof(sa), a_entry, NULL);
	b_sp = strawi_ctx_make(sb + sizeof(sb), b_entry, NULL);
	strawi_ctx_switch(&main_sp, a_sp);
	CHECK_EQ(ntrace, 3);
	CHECK_EQ(trace[0], 1);
	CHECK_EQ(trace[1], 2);
	CHECK_EQ(trace[2], 3);
}

/* The entry runs with the stack aligned as the ABI requires. */
static uintptr_t seen_align;

static void
align_entry(void *arg)
{
	char probe __attribute__((aligned(16)));

	(void)arg;
	seen_align = (uintptr_t)&probe % 16;
	strawi_ctx_switch(&co_sp, main_sp);
	abort();
}

CASE(stack_alignment)
{
	static char stack[16 * 1024] __attribute__((aligned(16)));

	seen_align = 99;
	co_sp = strawi_ctx_make(stack + sizeof(stack) - 8, align_entry, NULL);
	strawi_ctx_switch(&main_sp, co_sp);
	CHECK_EQ(seen_align, 0);
}

/*
 * Many values live across a switch: the compiler keeps them in the
 * callee-saved registers (integer and floating point), and the other side
 * fills its own with different values.  Each side checks its values after
 * every switch.
 */
static volatile long seed = 3;
static volatile double fseed = 0.5;
static int clobber_bad;

static int __attribute__((noinline))
hold_values(void **self, void **other, long base, int rounds)
{
	long a = seed * base, b = a + 1, c = a * 3, d = a ^ 0x55, e = a - 9;
	long f = a * a, g = b * 7, h = c + d, i = e * 5, j = f + g;
	double fa = fseed * (double)base, fb = fa + 1, fc = fa * 3, fd = fa - 2,
	       fe = fa * fa, ff = fb * fc, fg = fd + fe, fh = ff - fg;
	int k, bad = 0;

	for (k = 0; k < rounds; k++) {
		strawi_ctx_switch(self, *other);
		bad |= a != seed * base || b != a + 1 || c != a * 3;
		bad |= d != (a ^ 0x55) || e != a - 9 || f != a * a;
		bad |= g != b * 7 || h != c + d || i != e * 5 || j != f + g;
		bad |= fa != fseed * (double)base || fb != fa + 1;
		bad |= fc != fa * 3 || fd != fa - 2 || fe != fa * fa;
		bad |= ff != fb * fc || fg != fd + fe || fh != ff - fg;
	}
	return bad;
}

static void
clobber_entry(void *arg)
{
	(void)arg;
	clobber_bad = hold_values(&co_sp, &main_sp, 1000003, 1 << 30);
}

CASE(callee_saved_registers_survive)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));

	co_sp = strawi_ctx_make(stack + sizeof(stack), clobber_entry, NULL);
	CHECK_EQ(hold_values(&main_sp, &co_sp, 17, 1000), 0);
	CHECK_EQ(clobber_bad, 0);
}

CHECK_MAIN(switch_back_and_forth, chain_of_contexts, stack_alignment,
           callee_saved_registers_survive)
