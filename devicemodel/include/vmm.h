/*
 * The hypervisor seam.
 *
 * The device model talks to a hypervisor only through this ops table. Two backends implement it:
 * vmm_kvm*.c (Linux KVM, for development and CI) and vmm_hsm*.c (the ACRN Hypervisor Service
 * Module, /dev/acrn_hsm, for production). Only their files include <linux/kvm.h> or <linux/acrn.h>
 * (through vmm_kvm_priv.h and vmm_hsm_priv.h), and the unit tests' fake kernels; nothing else
 * outside devicemodel/vmm/ sees an ABI structure.
 *
 * Every op returns 0 or a negative errno and logs what failed (the ioctl's name and errno).
 */
#ifndef DM_VMM_H
#define DM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uuid/uuid.h>

struct io_registry;
struct vmm;

/* How the boot vCPU starts (filled by guest_load.c). */
enum vcpu_start_mode {
	VCPU_START_PROTECTED32, /* Multiboot: flat 32-bit segments, paging off */
	VCPU_START_LONG64,	/* ELF64: long mode, identity-mapped page tables at cr3 */
};

struct vcpu_boot_state {
	enum vcpu_start_mode mode;
	uint64_t rip;
	uint64_t rsp;
	uint64_t rax;	/* Multiboot: 0x2BADB002 */
	uint64_t rbx;	/* Multiboot: guest physical address of the info block */
	uint64_t rsi;
	uint64_t cr3;	/* LONG64 only */
	uint64_t gdt_base; /* LONG64 only: a GDT the loader wrote (selector 0x08 code, 0x10 data) */
	uint16_t gdt_limit;
};

struct vmm_vm_params {
	const char *name;	/* 1..15 bytes */
	uuid_t uuid;
	unsigned vcpus;
	uint64_t memsize;	/* guest RAM in bytes; the RAM itself is mapped with map_ram */
	/*
	 * --cpu_affinity: NULL, or `vcpus` host CPUs by local APIC id, ascending; vCPU i belongs
	 * on cpu_affinity[i]. KVM pins the vCPU threads; ACRN gets the pCPU bitmap in CREATE_VM.
	 */
	const uint32_t *cpu_affinity;
	bool vcpus_given;	/* -c: the count was asked for without an affinity */
	/* ACRN's VM flags (--rtvm, --lapic_pt, --enable_trusty), as ACRN 3's acrn-dm sets them. */
	bool rtvm;
	bool lapic_pt;
	bool trusty;
};

/* Why the VM stopped; reported once through vmm->on_exit. */
enum vm_exit_reason {
	VM_EXIT_POWEROFF,	/* debugexit or an ACPI-style power off; code = status */
	VM_EXIT_SHUTDOWN,	/* triple fault / shutdown */
	VM_EXIT_INTERNAL_ERROR,	/* the hypervisor could not run the vCPU */
	VM_EXIT_STOPPED,	/* the device model asked (signal, teardown) */
};

struct vm_exit_info {
	enum vm_exit_reason reason;
	int code;
	unsigned vcpu;
	char detail[128];	/* "triple fault at rip 0x1234", "KVM_RUN: Bad address" */
};

/*
 * A PCI config access that arrives already decoded (ACRN's PCICFG ioreq) is handed straight to the
 * PCI core through this hook. KVM guests use ports 0xCF8/0xCFC instead, which go through io_dispatch.
 */
typedef int (*vmm_pci_cfg_fn)(void *opaque, unsigned bus, unsigned dev, unsigned func,
			      unsigned reg, unsigned size, bool is_write, uint32_t *value);
typedef void (*vmm_exit_fn)(void *opaque, const struct vm_exit_info *info);

struct vmm_ioeventfd {
	int fd;
	uint64_t addr;		/* MMIO guest physical address */
	unsigned len;		/* 1, 2, 4 or 8 */
	bool datamatch;		/* only a write of exactly `data` signals fd */
	uint64_t data;
};

/*
 * A device the hypervisor itself emulates (ACRN hypervisor-land ivshmem): the device model only
 * reserves its BDF and BAR addresses and hands them over. Neutral form of ACRN's struct acrn_vdev.
 */
struct vmm_vdev {
	uint16_t vendor, device;
	unsigned bus, dev, func;
	uint64_t bar_addr[6];	/* as programmed; a 64-bit BAR's address sits in its low index */
	uint64_t bar_size[6];	/* 0: not sent (ACRN's PCI vUART sends no sizes) */
	bool bar_mem64[6];	/* bar i is a 64-bit prefetchable memory BAR (takes i and i+1) */
	char args[128];		/* "hv:/NAME", or binary (args_len) */
	unsigned args_len;	/* 0: args is a string; else its first args_len bytes are sent */
};

struct vmm_ops {
	const char *name;	/* "kvm", "hsm" */

	/* Opens the hypervisor and creates the VM. Fills vmm->priv. */
	int (*create_vm)(struct vmm *vmm, const struct vmm_vm_params *params);
	/* Tears everything down; safe after a partial create and when called twice. */
	void (*destroy_vm)(struct vmm *vmm);

	/*
	 * Maps len bytes of the device model's memory at hva into the guest at gpa, write-back,
	 * readable and writable (and executable when exec). gpa, len and hva are 4 KiB aligned.
	 */
	int (*map_ram)(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva, bool exec);
	/* Removes exactly a mapping made by map_ram (same gpa and len). */
	int (*unmap_ram)(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva);

	/* Starts the vCPUs (KVM: one thread each; HSM: the ioreq client thread) and returns. */
	int (*start)(struct vmm *vmm, const struct vcpu_boot_state *boot);
	/* Stops and joins whatever start created; safe when not started. */
	void (*stop)(struct vmm *vmm);

	/* Delivers one MSI to the guest now. */
	int (*send_msi)(struct vmm *vmm, uint64_t addr, uint32_t data);

	/* Guest writes to the address signal the eventfd in the kernel, without an exit to us. */
	int (*ioeventfd_add)(struct vmm *vmm, const struct vmm_ioeventfd *ioev);
	int (*ioeventfd_del)(struct vmm *vmm, const struct vmm_ioeventfd *ioev);

	/*
	 * Signalling fd injects the MSI (addr, data) in the kernel. Returns a handle >= 0 for
	 * irqfd_update / irqfd_del, or a negative errno (-ENOTSUP: the caller falls back to reading
	 * the eventfd itself and calling send_msi).
	 */
	int (*irqfd_add)(struct vmm *vmm, int fd, uint64_t addr, uint32_t data);
	int (*irqfd_update)(struct vmm *vmm, int handle, uint64_t addr, uint32_t data);
	int (*irqfd_del)(struct vmm *vmm, int handle);

	/* Hypervisor-emulated devices; -ENOTSUP where the hypervisor has none (KVM). */
	int (*create_vdev)(struct vmm *vmm, const struct vmm_vdev *vdev);
	int (*destroy_vdev)(struct vmm *vmm, const struct vmm_vdev *vdev);
};

struct vmm {
	const struct vmm_ops *ops;
	void *priv;			/* the backend's own state */

	/* Set by the VM core before create_vm; the backends call them from their threads. */
	struct io_registry *io;		/* PIO/MMIO requests go to io_dispatch(io, ...) */
	vmm_pci_cfg_fn pci_cfg;		/* decoded config accesses (HSM PCICFG) */
	void *pci_cfg_opaque;
	vmm_exit_fn on_exit;		/* called once, from a backend thread, when the VM stops */
	void *on_exit_opaque;
};

extern const struct vmm_ops vmm_kvm_ops;
extern const struct vmm_ops vmm_hsm_ops;

/* "kvm" or "hsm" -> ops; NULL for an unknown name. */
const struct vmm_ops *vmm_ops_by_name(const char *name);

#endif
