/*
 * The boot vCPU's registers for ACRN_IOCTL_SET_VCPU_REGS.
 *
 * ACRN's set_vcpu_regs() takes the selectors from the request, gives every data segment base 0,
 * limit 4 GiB and the flat data access rights (0xC093) when CR0.PE is set, and takes CS's base,
 * limit and access rights from cs_base / cs_limit / cs_ar. Access rights use the VMX layout:
 * type in bits 0-3, S 4, DPL 5-6, P 7, AVL 12, L 13, D/B 14, G 15. The HSM refuses the request
 * (EINVAL) when any reserved field is non-zero, hence the memset.
 */
#include <errno.h>
#include <string.h>

#include "vmm_hsm_priv.h"

#define CR0_PE		0x00000001ull
#define CR0_ET		0x00000010ull
#define CR0_NE		0x00000020ull
#define CR0_PG		0x80000000ull
#define CR4_PAE		0x00000020ull
#define EFER_LME	0x00000100ull
#define EFER_LMA	0x00000400ull
#define RFLAGS_FIXED	0x00000002ull

#define SEL_CODE	0x08	/* the loader's GDT: 0x08 code, 0x10 data (vmm.h) */
#define SEL_DATA	0x10

#define AR_CODE32	0xC09Bu	/* G, D/B, P, S, execute/read/accessed */
#define AR_CODE64	0xA09Bu	/* G, L, P, S, execute/read/accessed */

int hsm_fill_vcpu_regs(const struct vcpu_boot_state *boot, struct acrn_vcpu_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
	regs->vcpu_id = 0;

	struct acrn_regs *r = &regs->vcpu_regs;
	switch (boot->mode) {
	case VCPU_START_PROTECTED32:
		/* Multiboot: flat 32-bit protected mode, paging off. */
		r->cr0 = CR0_PE | CR0_ET | CR0_NE;
		r->cs_ar = AR_CODE32;
		break;
	case VCPU_START_LONG64:
		r->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
		r->cr4 = CR4_PAE;
		r->cr3 = boot->cr3;
		r->ia32_efer = EFER_LME | EFER_LMA;
		r->cs_ar = AR_CODE64;
		break;
	default:
		return -EINVAL;
	}
	/* The Multiboot spec lets the GDTR be anything; give the loader's when there is one. */
	r->gdt.base = boot->gdt_base;
	r->gdt.limit = boot->gdt_limit;

	r->cs_base = 0;
	r->cs_limit = 0xFFFFFFFFu;
	r->cs_sel = SEL_CODE;
	r->ss_sel = SEL_DATA;
	r->ds_sel = SEL_DATA;
	r->es_sel = SEL_DATA;
	r->fs_sel = SEL_DATA;
	r->gs_sel = SEL_DATA;

	r->rip = boot->rip;
	r->rflags = RFLAGS_FIXED;
	r->gprs.rsp = boot->rsp;
	r->gprs.rax = boot->rax;
	r->gprs.rbx = boot->rbx;
	r->gprs.rsi = boot->rsi;
	return 0;
}
