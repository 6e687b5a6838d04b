/*
 * src/sched/ctx_aarch64.S - context switch for aarch64, AAPCS64.
 * Callee-saved: x19-x28, fp (x29), lr (x30), sp, d8-d15, and FPCR.
 * See ctx.h.
 */
#if defined(__aarch64__)
	.text

/* void strawi_ctx_switch(void **from_sp, void *to_sp) */
	.globl	strawi_ctx_switch
	.hidden	strawi_ctx_switch
	.type	strawi_ctx_switch, %function
	.p2align 4
strawi_ctx_switch:
	.cfi_startproc
	sub	sp, sp, #176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x9, sp
	str	x9, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldr	x9, [sp, #160]
	msr	fpcr, x9
	add	sp, sp, #176
	ret
	.cfi_endproc
	.size	strawi_ctx_switch, .-strawi_ctx_switch

/* First code of a new context: x19 = entry, x20 = arg. */
	.globl	strawi_ctx_trampoline
	.hidden	strawi_ctx_trampoline
	.type	strawi_ctx_trampoline, %function
	.p2align 4
strawi_ctx_trampoline:
	.cfi_startproc
	.cfi_undefined x30
	mov	x29, #0
	mov	x0, x20
	blr	x19
	brk	#0
	.cfi_endproc
	.size	strawi_ctx_trampoline, .-strawi_ctx_trampoline
#endif
	.section .note.GNU-stack,"",%progbits
