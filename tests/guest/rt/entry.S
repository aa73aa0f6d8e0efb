/*
 * Multiboot v1 header and the way from the loader's 32-bit protected mode into 64-bit C.
 *
 * The loader (acrn-dm -E, QEMU -kernel) enters _start with paging off, flat 32-bit segments,
 * EAX = 0x2BADB002 and EBX = physical address of the Multiboot info. We identity-map the low
 * 4 GiB with 2 MiB pages (the PCI hole at 3..4 GiB uncached), switch to long mode and call
 * rt_start(magic, info). Everything here is assembled into a 64-bit object; the 32-bit part
 * uses .code32 and only addresses below 4 GiB, which the link at 1 MiB guarantees.
 */

#define MB_HEADER_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003	/* bit 0: page-align modules, bit 1: memory info; no video */

#define PTE_P		0x001
#define PTE_RW		0x002
#define PTE_PWT		0x008
#define PTE_PCD		0x010
#define PTE_PS		0x080

#define CR0_PE		0x00000001
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xC0000080
#define EFER_LME	0x00000100

#define SEL_CODE64	0x08
#define SEL_DATA	0x10

#define BOOT_STACK_SIZE	0x10000

	/* The loader looks for this in the first 8 KiB of the file; guest.ld puts it first. */
	.section .multiboot, "a"
	.balign 4
	.long MB_HEADER_MAGIC
	.long MB_FLAGS
	.long -(MB_HEADER_MAGIC + MB_FLAGS)

	.section .text.boot32, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	/* Keep the loader's registers out of the way of rep stosl. */
	movl	%eax, %esi
	movl	%ebx, %ebp

	/* Zero .bss ourselves: a loader that forgets would leave garbage in the page tables. */
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl

	movl	%esi, boot_magic
	movl	%ebp, boot_info
	movl	$boot_stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories of the low 4 GiB. */
	movl	$boot_pdpt, %eax
	orl	$(PTE_P | PTE_RW), %eax
	movl	%eax, boot_pml4

	movl	$boot_pd, %eax
	orl	$(PTE_P | PTE_RW), %eax
	xorl	%ecx, %ecx
1:	movl	%eax, boot_pdpt(, %ecx, 8)
	addl	$0x1000, %eax
	incl	%ecx
	cmpl	$4, %ecx
	jb	1b

	/*
	 * 2048 entries of 2 MiB each. From 3 GiB up lies the PCI hole (BARs, IOAPIC, LAPIC):
	 * map it uncached so register accesses are never cached or combined.
	 */
	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$(PTE_P | PTE_RW | PTE_PS), %eax
	cmpl	$1536, %ecx
	jb	3f
	orl	$(PTE_PCD | PTE_PWT), %eax
3:	movl	%eax, boot_pd(, %ecx, 8)
	incl	%ecx
	cmpl	$2048, %ecx
	jb	2b

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4

	movl	$boot_pml4, %eax
	movl	%eax, %cr3

	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr

	lgdt	boot_gdt_ptr

	/* Caches on (a loader may leave CD/NW set), paging on: we are now in compatibility mode. */
	movl	%cr0, %eax
	andl	$~(CR0_CD | CR0_NW), %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0

	ljmp	$SEL_CODE64, $start64

	.code64
start64:
	movl	$SEL_DATA, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorl	%eax, %eax
	movw	%ax, %fs
	movw	%ax, %gs

	movq	$boot_stack_top, %rsp
	xorl	%ebp, %ebp
	movl	boot_magic(%rip), %edi
	movl	boot_info(%rip), %esi
	call	rt_start
	/* rt_start does not return; if it ever did, stop here rather than run off. */
4:	cli
	hlt
	jmp	4b

	.section .data
	.balign 16
	/*
	 * Access bits preset so the CPU never needs to write the descriptors. 0x18 is for the
	 * application processors' way up from real mode (smp_boot.S).
	 */
	.globl boot_gdt, boot_gdt_ptr
boot_gdt:
	.quad	0
	.quad	0x00AF9B000000FFFF	/* 0x08: 64-bit code, DPL 0 */
	.quad	0x00CF93000000FFFF	/* 0x10: flat data */
	.quad	0x00CF9B000000FFFF	/* 0x18: flat 32-bit code */
boot_gdt_end:
	/* 32-bit lgdt reads limit + 4 bytes of base; the 8-byte base suits a 64-bit reload too. */
boot_gdt_ptr:
	.word	boot_gdt_end - boot_gdt - 1
	.quad	boot_gdt

	.balign 4
boot_magic:
	.long	0
boot_info:
	.long	0

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip	4096
boot_pdpt:
	.skip	4096
boot_pd:
	.skip	4 * 4096
	.balign 16
boot_stack:
	.skip	BOOT_STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
