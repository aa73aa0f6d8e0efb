/*
 * Every IDT vector's entry, and the continuation that interrupt handlers resume.
 *
 * This is the one place that knows how interrupts end. On the development machines'
 * paravirtual KVM, an iretq out of an interrupt handler after an MSI triple-faults, so no
 * handler here ever returns with iretq. Interrupts are enabled only inside irq_halt(), which
 * saves a continuation (callee-saved registers and the stack pointer, like setjmp) and halts
 * with IF=1. An interrupt's stub calls irq_record() (records the vector, sends EOI) and then
 * restores the continuation, so irq_halt() returns the vector to its caller with IF=0 (like
 * longjmp). The frame the CPU pushed is simply dropped with the rest of the halt loop's stack.
 *
 * Exceptions (vectors 0..31) save the general registers and call exception_report(), which
 * prints them and ends the VM: a test guest never resumes after a fault.
 *
 * Each CPU keeps its continuation in its own struct cpu, which %gs points at (cpu.h), so every
 * CPU of an SMP guest can wait for interrupts at the same time.
 */

#include "cpu.h"

/* Vectors for which the CPU pushes an error code itself. */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
			   (v) == 29 || (v) == 30)

	.text
	.code64

	/* Each stub is 16 bytes, so idt.c finds vector v's stub at isr_stubs + 16 * v. */
	.altmacro
	.macro ISR_STUB v
	.balign 16
	.if HAS_ERROR_CODE(\v)
	pushq	$\v
	.else
	pushq	$0
	pushq	$\v
	.endif
	jmp	isr_common
	.endm

	.balign 16
	.globl isr_stubs
isr_stubs:
	.set	vec, 0
	.rept	256
	ISR_STUB %vec
	.set	vec, vec + 1
	.endr

/* Stack here: vector, error code, then the CPU's rip, cs, rflags, rsp, ss. */
isr_common:
	cld
	cmpq	$32, (%rsp)
	jae	irq_entry

	/* Exception: push the registers in struct exc_frame order (rax highest) and report. */
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	andq	$-16, %rsp
	call	exception_report
1:	cli
	hlt
	jmp	1b

irq_entry:
	movq	(%rsp), %rdi
	andq	$-16, %rsp
	call	irq_record		/* returns the vector in %eax, or ends the VM */
	movb	$0, %gs:CPU_HALT_ARMED
	movq	%gs:CPU_HALT_CONT + 48, %rsp
	movq	%gs:CPU_HALT_CONT + 0, %rbx
	movq	%gs:CPU_HALT_CONT + 8, %rbp
	movq	%gs:CPU_HALT_CONT + 16, %r12
	movq	%gs:CPU_HALT_CONT + 24, %r13
	movq	%gs:CPU_HALT_CONT + 32, %r14
	movq	%gs:CPU_HALT_CONT + 40, %r15
	ret				/* = return from irq_halt() with the vector */

/*
 * int irq_halt(void): call with interrupts off. Halts with interrupts on until one arrives,
 * then returns its vector with interrupts off again. sti's one-instruction shadow makes
 * "sti; hlt" atomic: an interrupt already pending is taken at the hlt, never lost before it.
 */
	.globl irq_halt
irq_halt:
	movq	%rbx, %gs:CPU_HALT_CONT + 0
	movq	%rbp, %gs:CPU_HALT_CONT + 8
	movq	%r12, %gs:CPU_HALT_CONT + 16
	movq	%r13, %gs:CPU_HALT_CONT + 24
	movq	%r14, %gs:CPU_HALT_CONT + 32
	movq	%r15, %gs:CPU_HALT_CONT + 40
	movq	%rsp, %gs:CPU_HALT_CONT + 48	/* points at our return address */
	movb	$1, %gs:CPU_HALT_ARMED
2:	sti
	hlt
	/* Woken without an interrupt handler taking over (e.g. by an SMI): halt again. */
	cli
	jmp	2b

	.section .note.GNU-stack, "", @progbits
