/*
 * The way of an application processor from the start-up IPI to C.
 *
 * The SIPI starts an AP in real mode at CS = page >> 4, IP = 0, where smp.c copied the code
 * between smp_trampoline and smp_trampoline_end (a page below 1 MiB). It loads the boot CPU's
 * GDT, enters 32-bit protected mode through a far pointer smp.c patched with the page's address,
 * then does what entry.S did on the boot CPU: PAE, the boot page tables, EFER.LME, paging, and a
 * far jump to 64-bit code in the image. There each AP takes the next CPU number and that CPU's
 * stack, and calls smp_ap_main(index).
 */

#define SEL_CODE64	0x08
#define SEL_DATA	0x10
#define SEL_CODE32	0x18

#define CR0_PE		0x00000001
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xC0000080
#define EFER_LME	0x00000100

#define SMP_STACK_SIZE	0x4000		/* smp.c's stacks */
#define CPU_MAX		16

	/* Only copied from here: these bytes never run where they are linked. */
	.section .text.smp_trampoline, "ax"
	.code16
	.globl smp_trampoline, smp_trampoline_end, smp_trampoline_far32
smp_trampoline:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	(trampoline_gdt_ptr - smp_trampoline)
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	*(smp_trampoline_far32 - smp_trampoline)

	.code32
	.globl smp_trampoline_start32
smp_trampoline_start32:
	movl	$SEL_DATA, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$boot_pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	/* An AP comes out of INIT with caches off (CD, NW): on, and paging on. */
	movl	%cr0, %eax
	andl	$~(CR0_CD | CR0_NW), %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmp	$SEL_CODE64, $ap_start64

	.balign 8
trampoline_gdt_ptr:
	.word	3 * 8 + 7		/* four descriptors, as entry.S's boot_gdt */
	.long	boot_gdt
	/* ljmpl's m16:32 operand: smp.c writes the linear address of smp_trampoline_start32. */
smp_trampoline_far32:
	.long	0
	.word	SEL_CODE32
smp_trampoline_end:

	.text
	.code64
ap_start64:
	movl	$SEL_DATA, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorl	%eax, %eax
	movw	%ax, %fs
	movw	%ax, %gs

	/* The next CPU number; beyond CPU_MAX there is no stack, so such an AP only counts. */
	movl	$1, %eax
	lock xaddl %eax, smp_next_index(%rip)
	cmpl	$CPU_MAX, %eax
	jae	ap_too_many
	movl	%eax, %edi
	movl	%eax, %edx
	incl	%edx
	imull	$SMP_STACK_SIZE, %edx
	leaq	smp_stacks(%rip), %rsp
	addq	%rdx, %rsp
	xorl	%ebp, %ebp
	call	smp_ap_main
ap_too_many:
	lock incl smp_extra_cpus(%rip)
1:	cli
	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
