/*
 * The layout of <linux/acrn.h> this backend relies on, checked at compile time.
 *
 * The HSM passes these structures to the hypervisor unchanged (or copies them into the shared
 * ioreq page), so their sizes and offsets are ACRN's ABI, not the kernel's choice. If a future
 * header ever differs, the build stops here instead of a Service VM misbehaving. The values are
 * those of ACRN 3.x's own hsm_ioctl_defs.h and of the upstream HSM (Linux drivers/virt/acrn).
 */
#include <stddef.h>
#include <sys/ioctl.h>
#include <linux/acrn.h>

#define ABI_SIZE(type, size) _Static_assert(sizeof(struct type) == (size), "sizeof " #type)
#define ABI_OFF(type, field, off) \
	_Static_assert(offsetof(struct type, field) == (off), #type "." #field)
#define ABI_IOCTL(name, value) _Static_assert((name) == (value), #name)

/* The request numbers encode the argument sizes: a changed structure changes them too. */
ABI_IOCTL(ACRN_IOCTL_CREATE_VM, 0xc030a210u);
ABI_IOCTL(ACRN_IOCTL_DESTROY_VM, 0x0000a211u);
ABI_IOCTL(ACRN_IOCTL_START_VM, 0x0000a212u);
ABI_IOCTL(ACRN_IOCTL_PAUSE_VM, 0x0000a213u);
ABI_IOCTL(ACRN_IOCTL_RESET_VM, 0x0000a215u);
ABI_IOCTL(ACRN_IOCTL_SET_VCPU_REGS, 0x4128a216u);
ABI_IOCTL(ACRN_IOCTL_INJECT_MSI, 0x4010a223u);
ABI_IOCTL(ACRN_IOCTL_NOTIFY_REQUEST_FINISH, 0x4008a231u);
ABI_IOCTL(ACRN_IOCTL_CREATE_IOREQ_CLIENT, 0x0000a232u);
ABI_IOCTL(ACRN_IOCTL_ATTACH_IOREQ_CLIENT, 0x0000a233u);
ABI_IOCTL(ACRN_IOCTL_DESTROY_IOREQ_CLIENT, 0x0000a234u);
ABI_IOCTL(ACRN_IOCTL_CLEAR_VM_IOREQ, 0x0000a235u);
ABI_IOCTL(ACRN_IOCTL_SET_MEMSEG, 0x4020a241u);
ABI_IOCTL(ACRN_IOCTL_UNSET_MEMSEG, 0x4020a242u);
ABI_IOCTL(ACRN_IOCTL_CREATE_VDEV, 0x40c0a259u);
ABI_IOCTL(ACRN_IOCTL_DESTROY_VDEV, 0x40c0a25au);
ABI_IOCTL(ACRN_IOCTL_IOEVENTFD, 0x4020a270u);
ABI_IOCTL(ACRN_IOCTL_IRQFD, 0x4018a271u);

/* Constants the ioreq state machine and the ioctls use. */
_Static_assert(ACRN_IO_REQUEST_MAX == 16, "ACRN_IO_REQUEST_MAX");
_Static_assert(ACRN_IOREQ_STATE_PENDING == 0, "ACRN_IOREQ_STATE_PENDING");
_Static_assert(ACRN_IOREQ_STATE_COMPLETE == 1, "ACRN_IOREQ_STATE_COMPLETE");
_Static_assert(ACRN_IOREQ_STATE_PROCESSING == 2, "ACRN_IOREQ_STATE_PROCESSING");
_Static_assert(ACRN_IOREQ_STATE_FREE == 3, "ACRN_IOREQ_STATE_FREE");
_Static_assert(ACRN_IOREQ_TYPE_PORTIO == 0, "ACRN_IOREQ_TYPE_PORTIO");
_Static_assert(ACRN_IOREQ_TYPE_MMIO == 1, "ACRN_IOREQ_TYPE_MMIO");
_Static_assert(ACRN_IOREQ_TYPE_PCICFG == 2, "ACRN_IOREQ_TYPE_PCICFG");
_Static_assert(ACRN_IOREQ_DIR_READ == 0, "ACRN_IOREQ_DIR_READ");
_Static_assert(ACRN_IOREQ_DIR_WRITE == 1, "ACRN_IOREQ_DIR_WRITE");
_Static_assert(ACRN_MEMMAP_RAM == 0, "ACRN_MEMMAP_RAM");
_Static_assert(ACRN_MEMMAP_MMIO == 1, "ACRN_MEMMAP_MMIO");
_Static_assert(ACRN_MEM_ACCESS_READ == 1, "ACRN_MEM_ACCESS_READ");
_Static_assert(ACRN_MEM_ACCESS_WRITE == 2, "ACRN_MEM_ACCESS_WRITE");
_Static_assert(ACRN_MEM_ACCESS_EXEC == 4, "ACRN_MEM_ACCESS_EXEC");
_Static_assert(ACRN_PCI_NUM_BARS == 6, "ACRN_PCI_NUM_BARS");
_Static_assert(ACRN_IOEVENTFD_FLAG_PIO == 1, "ACRN_IOEVENTFD_FLAG_PIO");
_Static_assert(ACRN_IOEVENTFD_FLAG_DATAMATCH == 2, "ACRN_IOEVENTFD_FLAG_DATAMATCH");
_Static_assert(ACRN_IOEVENTFD_FLAG_DEASSIGN == 4, "ACRN_IOEVENTFD_FLAG_DEASSIGN");
_Static_assert(ACRN_IRQFD_FLAG_DEASSIGN == 1, "ACRN_IRQFD_FLAG_DEASSIGN");

ABI_SIZE(acrn_io_request, 256);
ABI_OFF(acrn_io_request, type, 0);
ABI_OFF(acrn_io_request, completion_polling, 4);
ABI_OFF(acrn_io_request, reqs, 64);
ABI_OFF(acrn_io_request, kernel_handled, 132);
ABI_OFF(acrn_io_request, processed, 136);
ABI_OFF(acrn_io_request, reqs.pio_request.value, 88);
ABI_OFF(acrn_io_request, reqs.mmio_request.value, 88);
ABI_OFF(acrn_io_request, reqs.pci_request.reg, 104);

ABI_SIZE(acrn_io_request_buffer, 4096);

ABI_SIZE(acrn_pio_request, 32);
ABI_OFF(acrn_pio_request, address, 8);
ABI_OFF(acrn_pio_request, size, 16);
ABI_OFF(acrn_pio_request, value, 24);

ABI_SIZE(acrn_mmio_request, 32);
ABI_OFF(acrn_mmio_request, address, 8);
ABI_OFF(acrn_mmio_request, size, 16);
ABI_OFF(acrn_mmio_request, value, 24);

ABI_SIZE(acrn_pci_request, 48);
ABI_OFF(acrn_pci_request, size, 16);
ABI_OFF(acrn_pci_request, value, 24);
ABI_OFF(acrn_pci_request, bus, 28);
ABI_OFF(acrn_pci_request, dev, 32);
ABI_OFF(acrn_pci_request, func, 36);
ABI_OFF(acrn_pci_request, reg, 40);

ABI_SIZE(acrn_ioreq_notify, 8);
ABI_OFF(acrn_ioreq_notify, vcpu, 4);

ABI_SIZE(acrn_vm_creation, 48);
ABI_OFF(acrn_vm_creation, vcpu_num, 4);
ABI_OFF(acrn_vm_creation, uuid, 8);
ABI_OFF(acrn_vm_creation, vm_flag, 24);
ABI_OFF(acrn_vm_creation, ioreq_buf, 32);
ABI_OFF(acrn_vm_creation, cpu_affinity, 40);

ABI_SIZE(acrn_gp_regs, 128);
ABI_OFF(acrn_gp_regs, rbx, 24);
ABI_OFF(acrn_gp_regs, rsp, 32);
ABI_OFF(acrn_gp_regs, rsi, 48);

ABI_SIZE(acrn_descriptor_ptr, 16);
ABI_OFF(acrn_descriptor_ptr, base, 2);

ABI_SIZE(acrn_regs, 288);
ABI_OFF(acrn_regs, gdt, 128);
ABI_OFF(acrn_regs, idt, 144);
ABI_OFF(acrn_regs, rip, 160);
ABI_OFF(acrn_regs, cs_base, 168);
ABI_OFF(acrn_regs, cr0, 176);
ABI_OFF(acrn_regs, cr4, 184);
ABI_OFF(acrn_regs, cr3, 192);
ABI_OFF(acrn_regs, ia32_efer, 200);
ABI_OFF(acrn_regs, rflags, 208);
ABI_OFF(acrn_regs, cs_ar, 248);
ABI_OFF(acrn_regs, cs_limit, 252);
ABI_OFF(acrn_regs, cs_sel, 268);
ABI_OFF(acrn_regs, ss_sel, 270);
ABI_OFF(acrn_regs, ds_sel, 272);
ABI_OFF(acrn_regs, es_sel, 274);
ABI_OFF(acrn_regs, fs_sel, 276);
ABI_OFF(acrn_regs, gs_sel, 278);

ABI_SIZE(acrn_vcpu_regs, 296);
ABI_OFF(acrn_vcpu_regs, vcpu_regs, 8);

ABI_SIZE(acrn_vm_memmap, 32);
ABI_OFF(acrn_vm_memmap, attr, 4);
ABI_OFF(acrn_vm_memmap, user_vm_pa, 8);
ABI_OFF(acrn_vm_memmap, vma_base, 16);
ABI_OFF(acrn_vm_memmap, len, 24);

ABI_SIZE(acrn_vdev, 192);
ABI_OFF(acrn_vdev, slot, 8);
ABI_OFF(acrn_vdev, io_addr, 16);
ABI_OFF(acrn_vdev, io_size, 40);
ABI_OFF(acrn_vdev, args, 64);
ABI_OFF(acrn_vdev, id.fields.vendor, 0);
ABI_OFF(acrn_vdev, id.fields.device, 2);

ABI_SIZE(acrn_msi_entry, 16);

ABI_SIZE(acrn_ioeventfd, 32);
ABI_OFF(acrn_ioeventfd, addr, 8);
ABI_OFF(acrn_ioeventfd, len, 16);
ABI_OFF(acrn_ioeventfd, reserved, 20);
ABI_OFF(acrn_ioeventfd, data, 24);

ABI_SIZE(acrn_irqfd, 24);
ABI_OFF(acrn_irqfd, msi, 8);

/* Fields at the start of their structures. */
ABI_OFF(acrn_pio_request, direction, 0);
ABI_OFF(acrn_mmio_request, direction, 0);
ABI_OFF(acrn_pci_request, direction, 0);
ABI_OFF(acrn_io_request_buffer, req_slot, 0);
ABI_OFF(acrn_ioreq_notify, vmid, 0);
ABI_OFF(acrn_ioreq_notify, reserved, 2);
ABI_OFF(acrn_vm_creation, vmid, 0);
ABI_OFF(acrn_vm_creation, reserved0, 2);
ABI_OFF(acrn_vm_creation, reserved1, 6);
ABI_OFF(acrn_vcpu_regs, vcpu_id, 0);
ABI_OFF(acrn_vcpu_regs, reserved, 2);
ABI_OFF(acrn_gp_regs, rax, 0);
ABI_OFF(acrn_descriptor_ptr, limit, 0);
ABI_OFF(acrn_regs, reserved_64, 216);
ABI_OFF(acrn_regs, reserved_32, 256);
ABI_OFF(acrn_regs, ldt_sel, 280);
ABI_OFF(acrn_regs, tr_sel, 282);
ABI_OFF(acrn_vm_memmap, type, 0);
ABI_OFF(acrn_vdev, id, 0);
ABI_OFF(acrn_msi_entry, msi_addr, 0);
ABI_OFF(acrn_msi_entry, msi_data, 8);
ABI_OFF(acrn_ioeventfd, fd, 0);
ABI_OFF(acrn_ioeventfd, flags, 4);
ABI_OFF(acrn_irqfd, fd, 0);
ABI_OFF(acrn_irqfd, flags, 4);

/* The VM name travels in the 16 bytes ACRN 3.x calls `name` (vmm_hsm.c). */
_Static_assert(sizeof(((struct acrn_vm_creation *)0)->uuid) == 16, "acrn_vm_creation name/uuid");
_Static_assert(sizeof(((struct acrn_vdev *)0)->args) == 128, "acrn_vdev.args");
_Static_assert(_Alignof(struct acrn_io_request) == 256, "one ioreq slot per 256 bytes");
