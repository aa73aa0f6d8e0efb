/*
 * The host bridge at 00:00.0 that ACRN launch scripts always add (-s 0:0,hostbridge).
 *
 * IDs as ACRN's device model sets them (inherited from bhyve): vendor and device 0x1275, class
 * 06/00. ACRN's OVMF for post-launched VMs recognises its platform by exactly this device ID, so
 * it is kept rather than replaced by an Intel one. Like ACRN, it carries a PCI Express capability
 * describing a root port; guests that look for PCIe find it, everything else ignores it.
 */
#include <errno.h>

#include "log.h"
#include "pci.h"
#include "pci_emuls.h"

#define HOSTBRIDGE_VENDOR	0x1275
#define HOSTBRIDGE_DEVICE	0x1275
#define PCIC_BRIDGE		0x06
#define PCIS_BRIDGE_HOST	0x00

#define PCIY_EXPRESS		0x10
#define PCIE_CAP_LEN		0x3c	/* a version 2 capability, through Slot Status 2 */
#define PCIE_CAP_FLAGS		2
#define PCIE_CAP_VERSION	2
#define PCIE_TYPE_ROOT_PORT	0x4

static int hostbridge_init(struct vm *vm, struct pci_dev *dev, const char *opts)
{
	(void)vm;
	if (opts && *opts) {
		pr_err("hostbridge", "%s: takes no options (got '%s')", dev->name, opts);
		return -EINVAL;
	}
	pci_set_ids(dev, HOSTBRIDGE_VENDOR, HOSTBRIDGE_DEVICE, PCIC_BRIDGE, PCIS_BRIDGE_HOST, 0, 0);

	int cap = pci_add_capability(dev, PCIY_EXPRESS, PCIE_CAP_LEN);
	if (cap < 0)
		return cap;
	pci_set_cfg16(dev, (unsigned)cap + PCIE_CAP_FLAGS,
		      PCIE_CAP_VERSION | PCIE_TYPE_ROOT_PORT << 4);
	return 0;
}

const struct pci_dev_ops pci_hostbridge_ops = {
	.emul = "hostbridge",
	.check_config = pci_config_takes_none,
	.init = hostbridge_init,
};
