/*
 * A virtual machine as its devices see it: its configuration (from the command line) and the
 * services devices ask of it. Devices never talk to the hypervisor backend directly: they call the
 * vm_* functions below, which go through struct vmm's ops table (so unit tests can give a VM a
 * fake backend). A service returns 0 or a negative errno and adds no log line of its own: the
 * backend op it calls logs its failures (vmm.h), and -ENOTSUP (the backend has no such operation)
 * is left to the device to explain.
 */
#ifndef DM_VM_H
#define DM_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <uuid/uuid.h>

#include "vmm.h"

#define VM_NAME_MAX 15		/* ACRN: the name must be shorter than 16 bytes */
#define VM_MAX_SLOTS 256
#define VM_MAX_VCPUS 16		/* ACRN's VM_MAXCPU, and the ioreq slots of one HSM page */
#define VM_MAX_NOTES 32

/* One -s option as the user wrote it. */
struct slot_option {
	unsigned bus, dev, func;
	char *emul;		/* "hostbridge", "lpc", "ivshmem" */
	char *config;		/* everything after the emulation name, or NULL */
};

struct vm_config {
	char name[VM_NAME_MAX + 1];
	uuid_t uuid;
	bool uuid_given;
	uint64_t memsize;	/* bytes */
	char *elf_path;		/* -E */
	char *bootargs;		/* -B: the Multiboot command line */
	char *com1;		/* -l com1,<backend>: "stdio", "tcp:PORT" or a file path; NULL: none */
	char *com2;		/* -l com2,<backend>, the same forms */
	bool debugexit;
	bool dry_run;		/* --dry-run: parse and check only */
	bool ignore_unsupported; /* --ignore-unsupported (with --dry-run) */
	char *vmm_name;		/* --vmm; NULL: hsm when /dev/acrn_hsm exists, else kvm */
	unsigned log_level;	/* enum log_level */
	char *logger_setting;	/* --logger_setting as given (checked while parsing) */

	/*
	 * vCPUs: --cpu_affinity lists the host CPUs by local APIC id, as ACRN 3 does; vCPU i runs
	 * on the CPU of cpu_affinity[i] (ascending, as ACRN's hypervisor assigns them). Without it,
	 * -c gives the count and nothing is pinned.
	 */
	unsigned ncpus;
	uint32_t cpu_affinity[VM_MAX_VCPUS];
	unsigned ncpu_affinity;	/* 0: --cpu_affinity not given */
	bool ncpus_given;	/* -c, --ncpus */
	bool rtvm;		/* --rtvm */
	bool lapic_pt;		/* --lapic_pt */
	bool trusty;		/* --enable_trusty */

	/* Options with no effect here and ACRN devices not emulated here: one line each. */
	unsigned nnotes;
	char *notes[VM_MAX_NOTES];
	unsigned nunsupported;
	char *unsupported[VM_MAX_NOTES];

	unsigned nslots;
	struct slot_option slots[VM_MAX_SLOTS];
};

/*
 * The VM itself is opaque here: devices know it only through the services below. Its state, and
 * its life cycle (vm_create, vm_run, vm_destroy), are the root's and the core's (vm_state.h, not
 * on a device's include path).
 */
struct vm;
struct io_registry;

/* ---- services for devices (core/vm_services.c: no other dependency, so unit tests link it) ---- */

/* The VM's PIO/MMIO range registry, where devices register what they trap (io_dispatch.h). */
struct io_registry *vm_io(struct vm *vm);
/* Where the 64-bit PCI window starts: the first 4 GiB boundary above high RAM (mem_layout.h). */
uint64_t vm_mmio64_base(const struct vm *vm);
/* The VM's UUID as text ("1b4e28ba-2fa1-..."): its identity, stable across restarts. */
void vm_uuid_str(const struct vm *vm, char out[37]);
/* The hypervisor backend's name ("kvm", "hsm"), for messages. */
const char *vm_backend_name(const struct vm *vm);

/* Guest RAM at gpa as a host pointer, or NULL when [gpa, gpa+len) is not all RAM. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/*
 * Maps host memory into the guest (a RAM BAR). Reserves the range in the registry first, so a mapping
 * that would overlap guest RAM or another BAR fails with -EEXIST and maps nothing.
 */
int vm_map_ram(struct vm *vm, uint64_t gpa, uint64_t len, void *hva)
	__attribute__((warn_unused_result));
int vm_unmap_ram(struct vm *vm, uint64_t gpa, uint64_t len, void *hva);

int vm_send_msi(struct vm *vm, uint64_t addr, uint32_t data);
int vm_ioeventfd_add(struct vm *vm, const struct vmm_ioeventfd *ioev);
int vm_ioeventfd_del(struct vm *vm, const struct vmm_ioeventfd *ioev);
int vm_irqfd_add(struct vm *vm, int fd, uint64_t addr, uint32_t data);
int vm_irqfd_update(struct vm *vm, int handle, uint64_t addr, uint32_t data);
int vm_irqfd_del(struct vm *vm, int handle);
int vm_create_vdev(struct vm *vm, const struct vmm_vdev *vdev);
int vm_destroy_vdev(struct vm *vm, const struct vmm_vdev *vdev);

/* The guest asked to power off (debugexit): stop the VM, acrn-dm exits with status. */
void vm_request_poweroff(struct vm *vm, int status);
/* Records why the VM stopped (the first call wins) and wakes the main loop. Any thread. */
void vm_notify_exit(struct vm *vm, const struct vm_exit_info *info);

/*
 * Devices that watch file descriptors (a server socket, an eventfd) add GLib sources to the
 * default main context (g_unix_fd_add); vm_run runs that context on the main thread until the
 * VM stops. vCPU threads never block on it.
 */

#endif
