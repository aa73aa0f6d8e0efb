/*
 * The PCI-ISA bridge ACRN launch scripts always add (-s 1:0,lpc): an Intel 82371SB PIIX3
 * (8086:7000, class 06/01), as in ACRN. It has no BARs and no registers of its own here; the
 * legacy devices behind it (COM1 for -l com1) are emulated on their fixed ports elsewhere.
 */
#include <errno.h>

#include "log.h"
#include "pci.h"
#include "pci_emuls.h"

#define LPC_VENDOR		0x8086
#define LPC_DEVICE		0x7000
#define PCIC_BRIDGE		0x06
#define PCIS_BRIDGE_ISA		0x01

static int lpc_init(struct vm *vm, struct pci_dev *dev, const char *opts)
{
	(void)vm;
	if (opts && *opts) {
		pr_err("lpc", "%s: takes no options (got '%s'); attach COM1 with -l com1,<backend>",
		       dev->name, opts);
		return -EINVAL;
	}
	/* One ISA bridge per machine: a second one would claim the same legacy ports. */
	for (unsigned s = 0; s < 32; s++)
		for (unsigned f = 0; f < 8; f++) {
			struct pci_dev *other = pci_bus_find(dev->bus, 0, s, f);
			if (other && other != dev && other->ops == &pci_lpc_ops) {
				pr_err("lpc", "%s: only one LPC bridge is allowed; %s is one already",
				       dev->name, other->name);
				return -EEXIST;
			}
		}
	pci_set_ids(dev, LPC_VENDOR, LPC_DEVICE, PCIC_BRIDGE, PCIS_BRIDGE_ISA, 0, 0);
	return 0;
}

const struct pci_dev_ops pci_lpc_ops = {
	.emul = "lpc",
	.check_config = pci_config_takes_none,
	.init = lpc_init,
};
