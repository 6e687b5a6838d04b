/*
 * src/sched/ctx.h - the machine context switch (ctx_x86_64.S,
 * ctx_aarch64.S).  A context is a saved stack pointer: switching pushes the
 * callee-saved registers of the ABI on the current stack, stores the stack
 * pointer in *from_sp, loads to_sp and pops the registers saved there.
 * Nothing else (no signal mask, no syscall): a switch costs a few ns.
 */
#ifndef STRAWI_CTX_H
#define STRAWI_CTX_H

#include <stddef.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "straw's context switch exists for x86-64 and aarch64 only"
#endif

/* Saves the running context into *from_sp and resumes the one at to_sp.
 * Returns when something switches back to *from_sp. */
void strawi_ctx_switch(void **from_sp, void *to_sp);

/* The first code a new context runs: calls entry(arg) (which must never
 * return) with a correctly aligned stack. */
void strawi_ctx_trampoline(void);

/* Bytes of the frame strawi_ctx_switch saves. */
#if defined(__x86_64__)
#define STRAWI_CTX_FRAME 64
#else
#define STRAWI_CTX_FRAME 176
#endif

/*
 * Prepares a stack whose highest usable address is top so that switching
 * to the returned stack pointer calls entry(arg) on it.  entry must never
 * return.
 */
static inline void *
strawi_ctx_make(void *top, void (*entry)(void *), void *arg)
{
	unsigned long t = (unsigned long)top & ~15UL;
	void **f = (void **)(t - STRAWI_CTX_FRAME);
	size_t i;

	for (i = 0; i < STRAWI_CTX_FRAME / sizeof(void *); i++)
		f[i] = NULL;
#if defined(__x86_64__)
	/* [0] mxcsr | x87 cw, [1] r15, [2] r14, [3] r13, [4] r12, [5] rbx,
	 * [6] rbp, [7] return address. */
	f[0] = (void *)(0x1F80UL | (0x037FUL << 32));
	f[3] = arg;
	f[4] = (void *)entry;
	f[7] = (void *)strawi_ctx_trampoline;
#else
	/* [0] x19 [1] x20 ... [10] x29 [11] x30, [12..19] d8..d15,
	 * [20] fpcr. */
	f[0] = (void *)entry;
	f[1] = arg;
	f[11] = (void *)strawi_ctx_trampoline;
#endif
	return f;
}

#endif /* STRAWI_CTX_H */
