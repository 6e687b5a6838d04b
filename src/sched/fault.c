/*
 * src/sched/fault.c - crash isolation.  A fault (SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE, SIGTRAP raised by the kernel) or an abort() in a running coroutine ends
 * that coroutine and leaves the thread running.
 *
 * The handler runs on the scheduler thread's alternate signal stack (the
 * coroutine's own stack may be the thing that overflowed).  It does not
 * jump out of signal context: it rewrites the interrupted context so that
 * returning from the handler (through sigreturn, which restores the signal
 * mask) resumes the coroutine at a fresh frame at the top of its own stack,
 * in a function that runs on_exit and ends it.  The faulting frames are
 * discarded.  Faults outside coroutines go to the handler that was
 * installed before (a sanitizer's, or the default action: the process
 * dies as it would without straw).
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "sched/ctx.h"
#include "sched/sched_int.h"

#ifdef STRAWI_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* SIGTRAP: __builtin_trap() raises it on aarch64 (SIGILL on x86-64). */
static const int fault_signals[] = {SIGSEGV, SIGBUS,  SIGILL,
                                    SIGFPE,  SIGTRAP, SIGABRT};
static struct sigaction old_actions[NSIG];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_rc;

/* Hands a signal that is not a coroutine's to whoever had it before. */
static void
chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *old = &old_actions[sig];

	if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) {
		old->sa_sigaction(sig, si, uc);
		return;
	}
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	/* Default action: uninstall and let it happen.  A fault re-executes
	 * the instruction; a sent signal is sent again. */
	signal(sig, SIG_DFL);
	if (sig == SIGABRT || si->si_code <= 0)
		raise(sig);
}

static void
fault_handler(int sig, siginfo_t *si, void *ucv)
{
	struct strawi_sched *s = strawi_tls_sched;
	struct strawi_coro *c = s != NULL ? s->current : NULL;
	ucontext_t *uc = ucv;
	int saved_errno = errno;
	uintptr_t top;
	int ours;

	if (sig == SIGABRT)
		ours = si->si_code == SI_TKILL && si->si_pid == getpid();
	else
		ours = si->si_code > 0; /* from the kernel, not kill(2) */
	if (c == NULL || !ours) {
		chain(sig, si, ucv);
		errno = saved_errno;
		return;
	}
	if (c->state != STRAWI_CORO_EXITING) {
		char *a = si->si_addr;

		memset(&c->exit, 0, sizeof(c->exit));
		c->exit.signo = sig;
		if (sig == SIGABRT) {
			c->exit.reason = STRAWI_EXIT_ABORT;
		} else if ((sig == SIGSEGV || sig == SIGBUS) &&
		           a >= c->stack_base && a < c->stack_base + s->page) {
			c->exit.reason = STRAWI_EXIT_OVERFLOW;
			c->exit.addr = a;
		} else {
			c->exit.reason = STRAWI_EXIT_FAULT;
			c->exit.addr = a;
		}
	}
#ifdef STRAWI_ASAN
	ASAN_UNPOISON_MEMORY_REGION(strawi_stack_lo(s, c),
	                            strawi_stack_len(s, c));
#endif
	top = (uintptr_t)strawi_stack_top(s, c) & ~(uintptr_t)15;
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)strawi_ctx_trampoline;
	uc->uc_mcontext.gregs[REG_RSP] = (greg_t)top;
	uc->uc_mcontext.gregs[REG_RBP] = 0;
	uc->uc_mcontext.gregs[REG_R12] = (greg_t)strawi_coro_fault_entry;
	uc->uc_mcontext.gregs[REG_R13] = (greg_t)c;
#else
	uc->uc_mcontext.pc = (uintptr_t)strawi_ctx_trampoline;
	uc->uc_mcontext.sp = top;
	uc->uc_mcontext.regs[29] = 0;
	uc->uc_mcontext.regs[19] = (uintptr_t)strawi_coro_fault_entry;
	uc->uc_mcontext.regs[20] = (uintptr_t)c;
#endif
	errno = saved_errno;
}

static void
install(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < STRAW_ARRAY_LEN(fault_signals); i++) {
		int sig = fault_signals[i];

		if (sigaction(sig, &sa, &old_actions[sig]) < 0) {
			install_rc = -errno;
			return;
		}
	}
}

int
strawi_fault_install(void)
{
	pthread_once(&install_once, install);
	return install_rc;
}

int
strawi_fault_thread_enter(struct strawi_sched *s)
{
	stack_t ss;

	if (s->altstack == NULL) {
		size_t len = 64 * 1024 + (size_t)SIGSTKSZ;
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return -ENOMEM;
		s->altstack = p;
		s->altstack_len = len;
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = s->altstack;
	ss.ss_size = s->altstack_len;
	if (sigaltstack(&ss, &s->old_altstack) < 0)
		return -errno;
	return 0;
}

void
strawi_fault_thread_leave(struct strawi_sched *s)
{
	stack_t ss = s->old_altstack;

	if (ss.ss_sp == NULL || ss.ss_size == 0)
		ss.ss_flags = SS_DISABLE;
	(void)sigaltstack(&ss, NULL);
}

void
strawi_fault_free(struct strawi_sched *s)
{
	if (s->altstack != NULL)
		munmap(s->altstack, s->altstack_len);
	s->altstack = NULL;
}
