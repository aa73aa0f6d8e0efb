/*
 * What devices may ask of a VM (vm.h). Each service is a checked call through the backend's ops
 * table, so a device never knows which hypervisor runs underneath, and a unit test can give a
 * VM a fake backend. Kept apart from vm.c so that tests link only this.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "io_dispatch.h"
#include "log.h"
#include "mem_layout.h"
#include "vm_state.h"

/* Calls an optional backend op, or answers -ENOTSUP when the backend lacks it. */
#define VMM_CALL(vm, op, ...) \
	((vm)->vmm.ops && (vm)->vmm.ops->op ? (vm)->vmm.ops->op(&(vm)->vmm, __VA_ARGS__) : -ENOTSUP)

struct io_registry *vm_io(struct vm *vm)
{
	return vm->io;
}

uint64_t vm_mmio64_base(const struct vm *vm)
{
	if (vm->mmio64_base)
		return vm->mmio64_base;
	/* A VM that did not say: the first 4 GiB boundary above high RAM, as mem_layout.h puts it. */
	return (HIGHMEM_BASE + vm->highmem + PCI_MMIO64_ALIGN - 1) & ~(PCI_MMIO64_ALIGN - 1);
}

void vm_uuid_str(const struct vm *vm, char out[37])
{
	uuid_t nil = { 0 };
	uuid_unparse_lower(vm->cfg ? vm->cfg->uuid : nil, out);
}

const char *vm_backend_name(const struct vm *vm)
{
	return vm->vmm.ops && vm->vmm.ops->name ? vm->vmm.ops->name : "?";
}

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (!vm->ram || len == 0 || gpa + len < gpa)
		return NULL;
	if (gpa + len <= vm->lowmem)
		return (char *)vm->ram + gpa;
	if (gpa >= HIGHMEM_BASE && gpa - HIGHMEM_BASE + len <= vm->highmem)
		return (char *)vm->ram + vm->lowmem + (gpa - HIGHMEM_BASE);
	return NULL;
}

int vm_map_ram(struct vm *vm, uint64_t gpa, uint64_t len, void *hva)
{
	/* The reservation is what refuses a BAR placed over RAM or another BAR. */
	const struct io_range reserved = {
		.name = "ram-bar", .space = IO_SPACE_MMIO, .base = gpa, .len = len,
	};
	int ret = io_register(vm->io, &reserved);
	if (ret < 0)
		return ret;
	ret = VMM_CALL(vm, map_ram, gpa, len, hva, false);
	if (ret < 0)
		io_unregister(vm->io, IO_SPACE_MMIO, gpa);
	return ret;
}

int vm_unmap_ram(struct vm *vm, uint64_t gpa, uint64_t len, void *hva)
{
	int ret = VMM_CALL(vm, unmap_ram, gpa, len, hva);
	io_unregister(vm->io, IO_SPACE_MMIO, gpa);
	return ret;
}

int vm_send_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	return VMM_CALL(vm, send_msi, addr, data);
}

int vm_ioeventfd_add(struct vm *vm, const struct vmm_ioeventfd *ioev)
{
	return VMM_CALL(vm, ioeventfd_add, ioev);
}

int vm_ioeventfd_del(struct vm *vm, const struct vmm_ioeventfd *ioev)
{
	return VMM_CALL(vm, ioeventfd_del, ioev);
}

int vm_irqfd_add(struct vm *vm, int fd, uint64_t addr, uint32_t data)
{
	return VMM_CALL(vm, irqfd_add, fd, addr, data);
}

int vm_irqfd_update(struct vm *vm, int handle, uint64_t addr, uint32_t data)
{
	return VMM_CALL(vm, irqfd_update, handle, addr, data);
}

int vm_irqfd_del(struct vm *vm, int handle)
{
	return VMM_CALL(vm, irqfd_del, handle);
}

int vm_create_vdev(struct vm *vm, const struct vmm_vdev *vdev)
{
	return VMM_CALL(vm, create_vdev, vdev);
}

int vm_destroy_vdev(struct vm *vm, const struct vmm_vdev *vdev)
{
	return VMM_CALL(vm, destroy_vdev, vdev);
}

void vm_notify_exit(struct vm *vm, const struct vm_exit_info *info)
{
	pthread_mutex_lock(&vm->exit_lock);
	bool first = !vm->exited;
	if (first) {
		vm->exit_info = *info;
		vm->exited = true;
	}
	pthread_mutex_unlock(&vm->exit_lock);
	if (first && vm->exit_pipe[1] > 0) { /* 0: a VM built by a test without a pipe */
		/* Nonblocking: one byte is enough to wake the loop; a full pipe already woke it. */
		ssize_t n = write(vm->exit_pipe[1], "x", 1);
		(void)n;
	}
}

void vm_request_poweroff(struct vm *vm, int status)
{
	struct vm_exit_info info = { .reason = VM_EXIT_POWEROFF, .code = status };
	snprintf(info.detail, sizeof(info.detail), "guest powered off with status %d", status);
	vm_notify_exit(vm, &info);
}
