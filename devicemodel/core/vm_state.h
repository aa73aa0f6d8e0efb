/*
 * The VM's own state and life cycle: for the core's services (vm_services.c), the root
 * (devicemodel/dm: vm.c, main.c), the loader that fills guest RAM, and unit tests that build a VM
 * by hand. Devices and backends are compiled without this directory on their include path, so
 * struct vm stays opaque to them (vm.h) and they reach it only through its services.
 */
#ifndef DM_VM_STATE_H
#define DM_VM_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm.h"
#include "vmm.h"

struct pci_bus;
struct uart_16550;

struct vm {
	const struct vm_config *cfg;
	struct vmm vmm;
	struct io_registry *io;
	struct pci_bus *pci;

	void *ram;		/* host mapping of all guest RAM (low part first, then high) */
	uint64_t lowmem;	/* bytes at GPA 0 */
	uint64_t highmem;	/* bytes at HIGHMEM_BASE */
	int ram_fd;
	uint64_t mmio64_base;	/* the 64-bit PCI window starts here (see mem_layout.h) */

	struct uart_16550 *com1;
	struct uart_16550 *com2;
	bool vmm_created;

	/* Set once when the VM stops (vmm on_exit or vm_request_poweroff). */
	pthread_mutex_t exit_lock;
	int exit_pipe[2];	/* the main loop waits on exit_pipe[0] */
	struct vm_exit_info exit_info;
	bool exited;
};

/* ---- life cycle (the root: main.c) ---- */

/*
 * Creates the backend VM, guest RAM, buses and every device of cfg. Returns 0, or a negative errno
 * after one line saying what failed (logged where it was found); vm_destroy cleans up either way.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg) __attribute__((warn_unused_result));
/* Loads the guest, starts the vCPUs, and waits until the VM stops. Returns the exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

#endif
