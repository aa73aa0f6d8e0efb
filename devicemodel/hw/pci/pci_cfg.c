/*
 * Config space as data: the image cfg[], the guest-writable bits wmask[] and the write-1-to-clear
 * bits w1cmask[] of every device (QEMU's model). A guest write is one generic byte loop; what a
 * write means beyond the bytes (decode changes, BAR moves, MSI-X enable) is handed on afterwards.
 */
#include <errno.h>

#include "log.h"
#include "pci.h"
#include "pci_msix.h"
#include "pci_priv.h"

/* Command bits a guest may flip: I/O, memory, bus master, parity response, SERR#, INTx disable. */
#define CMD_WRITABLE	0x0547
/* Status error bits, cleared by writing 1: 8 and 11..15. */
#define STATUS_W1C	0xf900
#define PCIR_CACHELNSZ	0x0c
#define PCIR_LATTIMER	0x0d
/* A capability chain longer than this has a loop; 256 bytes hold at most 48 dword-aligned caps. */
#define CAP_CHAIN_MAX	48

static bool cfg_fits(unsigned off, unsigned width)
{
	if (off < PCI_CFG_SPACE_SIZE && width <= PCI_CFG_SPACE_SIZE - off)
		return true;
	/* An emulation asking outside the 256 bytes is a bug in that emulation, not in the guest. */
	pr_err("pci", "config offset 0x%x width %u outside config space", off, width);
	return false;
}

static uint32_t cfg_get(const struct pci_dev *dev, unsigned off, unsigned width)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)dev->cfg[off + i] << (8 * i);
	return v;
}

static void cfg_put(struct pci_dev *dev, unsigned off, unsigned width, uint32_t v)
{
	for (unsigned i = 0; i < width; i++)
		dev->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

uint8_t pci_get_cfg8(const struct pci_dev *dev, unsigned off)
{
	return cfg_fits(off, 1) ? (uint8_t)cfg_get(dev, off, 1) : 0xff;
}

uint16_t pci_get_cfg16(const struct pci_dev *dev, unsigned off)
{
	return cfg_fits(off, 2) ? (uint16_t)cfg_get(dev, off, 2) : 0xffff;
}

uint32_t pci_get_cfg32(const struct pci_dev *dev, unsigned off)
{
	return cfg_fits(off, 4) ? cfg_get(dev, off, 4) : 0xffffffff;
}

void pci_set_cfg8(struct pci_dev *dev, unsigned off, uint8_t val)
{
	if (cfg_fits(off, 1))
		cfg_put(dev, off, 1, val);
}

void pci_set_cfg16(struct pci_dev *dev, unsigned off, uint16_t val)
{
	if (cfg_fits(off, 2))
		cfg_put(dev, off, 2, val);
}

void pci_set_cfg32(struct pci_dev *dev, unsigned off, uint32_t val)
{
	if (cfg_fits(off, 4))
		cfg_put(dev, off, 4, val);
}

void pci_set_ids(struct pci_dev *dev, uint16_t vendor, uint16_t device, uint8_t class,
		 uint8_t subclass, uint8_t progif, uint8_t revision)
{
	pci_set_cfg16(dev, PCIR_VENDOR, vendor);
	pci_set_cfg16(dev, PCIR_DEVICE, device);
	pci_set_cfg8(dev, PCIR_CLASS, class);
	pci_set_cfg8(dev, PCIR_SUBCLASS, subclass);
	pci_set_cfg8(dev, PCIR_PROGIF, progif);
	pci_set_cfg8(dev, PCIR_REVID, revision);
}

void pci_cfg_init_header(struct pci_dev *dev)
{
	dev->wmask[PCIR_COMMAND] = CMD_WRITABLE & 0xff;
	dev->wmask[PCIR_COMMAND + 1] = CMD_WRITABLE >> 8;
	dev->w1cmask[PCIR_STATUS] = STATUS_W1C & 0xff;
	dev->w1cmask[PCIR_STATUS + 1] = STATUS_W1C >> 8;
	/* Firmware and drivers park values here; they mean nothing to an emulated device. */
	dev->wmask[PCIR_CACHELNSZ] = 0xff;
	dev->wmask[PCIR_LATTIMER] = 0xff;
	dev->wmask[PCIR_INTLINE] = 0xff;
}

int pci_add_capability(struct pci_dev *dev, uint8_t cap_id, unsigned len)
{
	struct pci_dev_node *node = pci_node_of(dev);

	if (len < 2) {
		pr_err("pci", "%s: capability 0x%02x: %u bytes is too short", dev->name, cap_id, len);
		return -EINVAL;
	}
	unsigned off = node->cap_end ? (node->cap_end + 3) & ~3u : PCI_CAP_START;
	if (off >= PCI_CFG_SPACE_SIZE || len > PCI_CFG_SPACE_SIZE - off) {
		pr_err("pci", "%s: no room for capability 0x%02x (%u bytes) in config space",
		       dev->name, cap_id, len);
		return -ENOSPC;
	}

	dev->cfg[off] = cap_id;
	dev->cfg[off + 1] = 0;
	if (!(pci_get_cfg16(dev, PCIR_STATUS) & PCIM_STATUS_CAPLIST)) {
		dev->cfg[PCIR_CAP_PTR] = (uint8_t)off;
		pci_set_cfg16(dev, PCIR_STATUS, pci_get_cfg16(dev, PCIR_STATUS) | PCIM_STATUS_CAPLIST);
	} else {
		unsigned last = dev->cfg[PCIR_CAP_PTR];
		for (unsigned n = 0; n < CAP_CHAIN_MAX && last < PCI_CFG_SPACE_SIZE - 1 &&
				    dev->cfg[last + 1]; n++)
			last = dev->cfg[last + 1];
		if (last >= PCI_CFG_SPACE_SIZE - 1) {
			/* The list was damaged through pci_set_cfg*: refuse. */
			pr_err("pci", "%s: capability list damaged", dev->name);
			return -EINVAL;
		}
		dev->cfg[last + 1] = (uint8_t)off;
	}
	node->cap_end = off + len;
	return (int)off;
}

uint32_t pci_cfg_read(struct pci_dev *dev, unsigned reg, unsigned size)
{
	return cfg_get(dev, reg, size);
}

void pci_cfg_write(struct pci_dev *dev, unsigned reg, unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned off = reg + i;
		uint8_t in = (uint8_t)(value >> (8 * i));
		uint8_t b = (uint8_t)((dev->cfg[off] & ~dev->wmask[off]) | (in & dev->wmask[off]));
		dev->cfg[off] = (uint8_t)(b & ~(in & dev->w1cmask[off]));
	}

	if (pci_ranges_overlap(reg, size, PCIR_COMMAND, 2))
		pci_bars_sync(dev);
	if (pci_ranges_overlap(reg, size, PCIR_BAR(0), 4 * PCI_BAR_COUNT))
		pci_bars_written(dev, reg, size);
	if (dev->msix)
		pci_msix_cfg_written(dev, reg, size);
}
