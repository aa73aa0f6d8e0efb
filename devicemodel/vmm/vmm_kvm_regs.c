/*
 * Initial vCPU state for the KVM backend: the CPUID table each vCPU sees and the register state
 * the boot vCPU starts with (Multiboot's 32-bit protected mode or a direct 64-bit long mode start).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vmm_kvm_priv.h"

/* Architectural bits (Intel SDM vol. 3, 2.5 and 2.2.1). */
#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_MP	(1ULL << 1)
#define X86_CR0_ET	(1ULL << 4)
#define X86_CR0_NE	(1ULL << 5)
#define X86_CR0_WP	(1ULL << 16)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define X86_CR4_OSFXSR	(1ULL << 9)
#define X86_CR4_OSXMMEXCPT (1ULL << 10)
#define X86_EFER_LME	(1ULL << 8)
#define X86_EFER_LMA	(1ULL << 10)
#define X86_RFLAGS_FIXED (1ULL << 1)	/* bit 1 always reads as one */

#define SEG_TYPE_CODE_RX_ACCESSED 0xb
#define SEG_TYPE_DATA_RW_ACCESSED 0x3
#define SEL_CODE	0x08
#define SEL_DATA	0x10

#define CPUID_HYPERVISOR_BIT (1U << 31)	/* leaf 1 ECX: running under a hypervisor */

int kvm_vcpu_set_cpuid(struct kvm_vcpu_ctx *vc, const struct kvm_cpuid2 *supported)
{
	size_t size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int r = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, size);
	/* Each vCPU reports its own APIC ID, as KVM's in-kernel LAPIC numbers them (= vCPU id). */
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffffU) | (vc->id << 24);
			e->ecx |= CPUID_HYPERVISOR_BIT;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = vc->id;
		}
	}
	if (ioctl(vc->fd, KVM_SET_CPUID2, c) < 0) {
		r = -errno;
		pr_err(KVM_LOG, "vcpu%u: KVM_SET_CPUID2: %s", vc->id, strerror(-r));
	}
	free(c);
	return r;
}

/* A flat segment: base 0, limit 4 GiB, present, DPL 0. */
static struct kvm_segment flat_segment(uint16_t selector, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffffU,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code64 ? 0 : 1,	/* a 64-bit code segment must have D clear */
		.s = 1,
		.l = code64 ? 1 : 0,
		.g = 1,
	};
}

static void set_segments(struct kvm_sregs *s, bool long_mode)
{
	struct kvm_segment data = flat_segment(SEL_DATA, SEG_TYPE_DATA_RW_ACCESSED, false);

	s->cs = flat_segment(SEL_CODE, SEG_TYPE_CODE_RX_ACCESSED, long_mode);
	s->ds = data;
	s->es = data;
	s->fs = data;
	s->gs = data;
	s->ss = data;
}

int kvm_vcpu_set_boot_state(struct kvm_vcpu_ctx *vc, const struct vcpu_boot_state *boot)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int r;

	/* Start from KVM's reset state so TR, LDT and the rest stay valid for VM entry. */
	if (ioctl(vc->fd, KVM_GET_SREGS, &sregs) < 0) {
		r = -errno;
		pr_err(KVM_LOG, "vcpu%u: KVM_GET_SREGS: %s", vc->id, strerror(-r));
		return r;
	}

	switch (boot->mode) {
	case VCPU_START_PROTECTED32:
		set_segments(&sregs, false);
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET;	/* paging off */
		sregs.cr3 = 0;
		sregs.cr4 = 0;
		sregs.efer = 0;
		break;
	case VCPU_START_LONG64:
		set_segments(&sregs, true);
		sregs.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP |
			    X86_CR0_PG;
		sregs.cr3 = boot->cr3;
		/* OSFXSR/OSXMMEXCPT: compiled guest code may use SSE without setting them up. */
		sregs.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
		sregs.efer = X86_EFER_LME | X86_EFER_LMA;
		break;
	default:
		pr_err(KVM_LOG, "vcpu%u: unknown start mode %d", vc->id, (int)boot->mode);
		return -EINVAL;
	}
	/* Multiboot leaves GDTR undefined; the loader still provides a GDT when it wrote one. */
	if (boot->gdt_limit) {
		sregs.gdt.base = boot->gdt_base;
		sregs.gdt.limit = boot->gdt_limit;
	} else if (boot->mode == VCPU_START_LONG64) {
		pr_err(KVM_LOG, "vcpu%u: a long mode start needs a GDT", vc->id);
		return -EINVAL;
	}

	if (ioctl(vc->fd, KVM_SET_SREGS, &sregs) < 0) {
		r = -errno;
		pr_err(KVM_LOG, "vcpu%u: KVM_SET_SREGS: %s", vc->id, strerror(-r));
		return r;
	}

	memset(&regs, 0, sizeof(regs));
	regs.rflags = X86_RFLAGS_FIXED;	/* interrupts off */
	regs.rip = boot->rip;
	regs.rsp = boot->rsp;
	regs.rax = boot->rax;
	regs.rbx = boot->rbx;
	regs.rsi = boot->rsi;
	if (ioctl(vc->fd, KVM_SET_REGS, &regs) < 0) {
		r = -errno;
		pr_err(KVM_LOG, "vcpu%u: KVM_SET_REGS: %s", vc->id, strerror(-r));
		return r;
	}
	return 0;
}
