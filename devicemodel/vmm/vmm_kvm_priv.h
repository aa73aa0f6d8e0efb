/*
 * State shared by the files of the KVM backend (vmm_kvm.c: VM and memory, vmm_kvm_vcpu.c: vCPU
 * threads, vmm_kvm_regs.c: initial register state, vmm_kvm_irq.c: GSI routing and irqfd).
 * Nothing outside devicemodel/vmm/ includes this header.
 */
#ifndef DM_VMM_KVM_PRIV_H
#define DM_VMM_KVM_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "vmm.h"

#define KVM_LOG "kvm"

struct kvm_backend;

struct kvm_vcpu_ctx {
	struct kvm_backend *kb;
	unsigned id;
	int fd;			/* -1 until KVM_CREATE_VCPU succeeded */
	struct kvm_run *run;	/* the shared run page; NULL until mapped */
	int host_cpu;		/* --cpu_affinity: the host CPU its thread is pinned to, or -1 */
	pthread_t thread;
	bool thread_live;	/* created and not yet joined */
	bool hlt_logged;
};

struct kvm_memslot {
	bool used;
	uint64_t gpa;
	uint64_t len;
	void *hva;
};

struct kvm_backend {
	struct vmm *vmm;
	int kvm_fd;
	int vm_fd;
	size_t run_size;
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, copied per vCPU */

	unsigned nvcpus;
	struct kvm_vcpu_ctx *vcpus;

	/* Memory slots: index = KVM slot number. */
	pthread_mutex_t mem_lock;
	struct kvm_memslot *slots;
	unsigned nslots;

	/*
	 * GSI routing. KVM_SET_GSI_ROUTING replaces the whole table, so the backend keeps its own
	 * copy: the kernel's default IOAPIC/PIC routes for GSIs 0..23 plus one MSI route per irqfd.
	 */
	pthread_mutex_t irq_lock;
	struct kvm_irq_routing_entry *routes;
	unsigned nroutes;
	unsigned routes_cap;
	unsigned max_gsi;		/* GSIs are < max_gsi (KVM_CAP_IRQ_ROUTING) */
	int *gsi_fd;			/* per GSI: the irqfd bound to it, -1 when free */

	/* Run state. */
	pthread_mutex_t run_lock;
	bool started;			/* start() succeeded; cleared when stop() joined */
	bool ran;			/* start() was called once: a VM does not start twice */
	atomic_bool stopping;
	atomic_flag exit_reported;

	bool locks_ready;
};

static inline struct kvm_backend *kvm_of(struct vmm *vmm)
{
	return vmm ? (struct kvm_backend *)vmm->priv : NULL;
}

/* vmm_kvm_regs.c */
int kvm_vcpu_set_boot_state(struct kvm_vcpu_ctx *vc, const struct vcpu_boot_state *boot)
	__attribute__((warn_unused_result));
int kvm_vcpu_set_cpuid(struct kvm_vcpu_ctx *vc, const struct kvm_cpuid2 *supported)
	__attribute__((warn_unused_result));

/* vmm_kvm_cpus.c */

/* Where the online CPUs' APIC ids are read from; tests point it at a file of their own. */
extern const char *kvm_cpuinfo_path;
/*
 * For params->cpu_affinity (local APIC ids), the host CPU of each vCPU into cpus[0..vcpus).
 * 0 (nothing to do without an affinity), or -errno with why naming the CPU.
 */
int kvm_map_host_cpus(const struct vmm_vm_params *params, int *cpus, char *why, size_t whylen)
	__attribute__((warn_unused_result));
/* The warnings ACRN's VM flags deserve on KVM (static strings); how many. */
unsigned kvm_params_notes(const struct vmm_vm_params *params, const char **notes, unsigned max);

/* vmm_kvm_vcpu.c */
int kvm_start(struct vmm *vmm, const struct vcpu_boot_state *boot);
void kvm_stop(struct vmm *vmm);

/* vmm_kvm_irq.c */
int kvm_irq_init(struct kvm_backend *kb) __attribute__((warn_unused_result));
void kvm_irq_fini(struct kvm_backend *kb);
int kvm_irqfd_add(struct vmm *vmm, int fd, uint64_t addr, uint32_t data);
int kvm_irqfd_update(struct vmm *vmm, int handle, uint64_t addr, uint32_t data);
int kvm_irqfd_del(struct vmm *vmm, int handle);

#endif
