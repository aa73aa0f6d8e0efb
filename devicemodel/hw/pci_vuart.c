/*
 * -s <slot>,uart,vuart_idx:<K>: the ACRN hypervisor's PCI vUART K of this VM, which the
 * configurator adds to launch scripts for communication vUARTs.
 *
 * As with hypervisor-land ivshmem, the hypervisor emulates the device; the device model reserves
 * its BDF and BARs and hands them over with ACRN_IOCTL_CREATE_VDEV, filled as ACRN's acrn-dm
 * does (devicemodel/hw/pci/uart.c): vendor 0x131f, device 0x2000 (a Siig CyberSerial, which
 * guests' 8250 drivers know), BAR0 a 256-byte and BAR1 a 4 KiB 32-bit memory BAR, their
 * addresses in io_addr[0..1], no sizes, and the index as a 32-bit number at the start of args.
 * DESTROY_VDEV names it by vendor, device and BDF. On KVM there is no such hypervisor device.
 *
 * ACRN's "uart" without vuart_idx is its own 16550 behind an I/O BAR, which this device model
 * does not emulate: the command line reports it with the other devices not provided here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pci.h"
#include "pci_emuls.h"
#include "vm.h"

#define VUART_VENDOR		0x131f
#define VUART_DEVICE		0x2000
#define VUART_REGS_SIZE		256	/* BAR0 */
#define VUART_MSIX_SIZE		4096	/* BAR1 */
#define VUART_IDX_PREFIX	"vuart_idx:"
#define VUART_IDX_MAX		7	/* the hypervisor's vUARTs per VM: 0..7 */
#define PCIC_SIMPLECOMM		0x07

struct pci_vuart {
	struct vmm_vdev vdev;
	bool created;
};

static int parse_vuart_idx(const char *opts, unsigned *idx, char *err, size_t errlen)
{
	size_t plen = strlen(VUART_IDX_PREFIX);
	if (!opts || strncmp(opts, VUART_IDX_PREFIX, plen) != 0) {
		snprintf(err, errlen, "ACRN's device-model PCI UART (a 16550 behind an I/O BAR) is not "
			 "emulated here; use -l com1|com2,<backend>, or vuart_idx:<n> for the "
			 "hypervisor's vUART");
		return -EOPNOTSUPP;
	}
	const char *p = opts + plen;
	unsigned v = 0;
	size_t n = 0;
	for (; p[n] >= '0' && p[n] <= '9' && n < 3; n++)
		v = v * 10 + (unsigned)(p[n] - '0');
	if (n == 0 || p[n] != '\0' || v > VUART_IDX_MAX) {
		snprintf(err, errlen, "vuart_idx '%s': expected the hypervisor's vUART index, 0 to %d",
			 p, VUART_IDX_MAX);
		return -EINVAL;
	}
	*idx = v;
	return 0;
}

static int vuart_check_config(const char *opts, char *err, size_t errlen)
{
	unsigned idx;
	return parse_vuart_idx(opts, &idx, err, errlen);
}

static void fill_vdev(const struct pci_dev *dev, unsigned idx, struct vmm_vdev *v)
{
	memset(v, 0, sizeof(*v));
	v->vendor = VUART_VENDOR;
	v->device = VUART_DEVICE;
	v->bus = dev->busno;
	v->dev = dev->slot;
	v->func = dev->func;
	v->bar_addr[0] = dev->bars[0].addr;
	v->bar_addr[1] = dev->bars[1].addr;
	/* ACRN's acrn-dm sends the index as a native (little-endian) uint32 and no BAR sizes. */
	for (unsigned i = 0; i < 4; i++)
		v->args[i] = (char)(idx >> (8 * i));
	v->args_len = 4;
}

static int vuart_init(struct vm *vm, struct pci_dev *dev, const char *opts)
{
	char err[256];
	unsigned idx;
	if (parse_vuart_idx(opts, &idx, err, sizeof(err)) < 0) {
		pr_err("vuart", "%s: %s", dev->name, err);
		return -EINVAL;
	}
	struct pci_vuart *vu = calloc(1, sizeof(*vu));
	if (!vu)
		return -ENOMEM;
	pci_set_ids(dev, VUART_VENDOR, VUART_DEVICE, PCIC_SIMPLECOMM, 0, 2 /* 16550 */, 0);
	int ret = pci_add_bar(dev, 0, PCI_BAR_MEM32, VUART_REGS_SIZE, false, false);
	if (ret == 0)
		ret = pci_add_bar(dev, 1, PCI_BAR_MEM32, VUART_MSIX_SIZE, false, false);
	if (ret < 0) {
		pr_err("vuart", "%s: no room for the vUART's BARs", dev->name);
		goto fail;
	}
	fill_vdev(dev, idx, &vu->vdev);
	ret = vm_create_vdev(vm, &vu->vdev);
	if (ret == -ENOTSUP) {
		pr_err("vuart", "%s: uart,vuart_idx:%u is the ACRN hypervisor's PCI vUART, and this VM "
		       "runs on %s; use -l com2,<backend> for a UART this device model provides",
		       dev->name, idx, vm_backend_name(vm));
		goto fail;
	}
	if (ret < 0) {
		pr_err("vuart", "%s: the hypervisor refused vUART %u (is it a PCI vUART of this VM in "
		       "the scenario?)", dev->name, idx);
		goto fail;
	}
	vu->created = true;
	dev->priv = vu;
	pr_info("vuart", "%s: the hypervisor emulates PCI vUART %u", dev->name, idx);
	return 0;
fail:
	/* A device whose init failed gets no deinit. */
	free(vu);
	return ret;
}

static void vuart_deinit(struct vm *vm, struct pci_dev *dev)
{
	struct pci_vuart *vu = dev->priv;
	if (!vu)
		return;
	if (vu->created)
		vm_destroy_vdev(vm, &vu->vdev);
	free(vu);
	dev->priv = NULL;
}

const struct pci_dev_ops pci_vuart_ops = {
	.emul = "uart",
	.check_config = vuart_check_config,
	.init = vuart_init,
	.deinit = vuart_deinit,
};
