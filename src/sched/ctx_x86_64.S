/*
 * src/sched/ctx_x86_64.S - context switch for x86-64, System V ABI.
 * Callee-saved: rbx, rbp, r12-r15, the MXCSR control bits and the x87
 * control word.  See ctx.h.
 */
#if defined(__x86_64__)
	.text

/* void strawi_ctx_switch(void **from_sp, void *to_sp) */
	.globl	strawi_ctx_switch
	.hidden	strawi_ctx_switch
	.type	strawi_ctx_switch, @function
	.p2align 4
strawi_ctx_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	strawi_ctx_switch, .-strawi_ctx_switch

/* First code of a new context: r12 = entry, r13 = arg; rsp is 16-byte
 * aligned here, as a call needs. */
	.globl	strawi_ctx_trampoline
	.hidden	strawi_ctx_trampoline
	.type	strawi_ctx_trampoline, @function
	.p2align 4
strawi_ctx_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%r13, %rdi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	strawi_ctx_trampoline, .-strawi_ctx_trampoline
#endif
	.section .note.GNU-stack,"",@progbits
