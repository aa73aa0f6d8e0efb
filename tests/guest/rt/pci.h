/*
 * PCI through configuration mechanism #1 (ports 0xCF8/0xCFC): config space access, device
 * discovery, capabilities, BAR sizing and moving, decode control, MSI and MSI-X set-up.
 * A function is named by its BDF, bus << 8 | device << 3 | function.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_BDF(b, d, f)	((uint16_t)(((b) << 8) | ((d) << 3) | (f)))
#define PCI_BUS(bdf)		((bdf) >> 8)
#define PCI_DEV(bdf)		(((bdf) >> 3) & 0x1f)
#define PCI_FN(bdf)		((bdf) & 7)

/* Config space offsets. */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_SUB		0x0a
#define PCI_CLASS_BASE		0x0b
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SECONDARY_BUS	0x19	/* type 1 (bridge) headers */
#define PCI_SUBSYS_VENDOR	0x2c
#define PCI_SUBSYS_ID		0x2e
#define PCI_CAP_PTR		0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_CMD_IO		0x0001
#define PCI_CMD_MEM		0x0002
#define PCI_CMD_MASTER		0x0004
#define PCI_CMD_INTX_DISABLE	0x0400
#define PCI_STATUS_CAP_LIST	0x0010

#define PCI_CAP_MSI		0x05
#define PCI_CAP_VENDOR		0x09
#define PCI_CAP_MSIX		0x11

uint8_t pci_read8(uint16_t bdf, uint8_t off);
uint16_t pci_read16(uint16_t bdf, uint8_t off);
uint32_t pci_read32(uint16_t bdf, uint8_t off);
void pci_write8(uint16_t bdf, uint8_t off, uint8_t v);
void pci_write16(uint16_t bdf, uint8_t off, uint16_t v);
void pci_write32(uint16_t bdf, uint8_t off, uint32_t v);

/* Something answers at bdf (vendor is not 0xffff). */
bool pci_present(uint16_t bdf);
/* Formats bdf as "bb:dd.f" into a static buffer that the next call reuses. */
const char *pci_bdf_str(uint16_t bdf);

/*
 * Calls fn for every function present on bus 0 and on the buses behind PCI-PCI bridges, in
 * bus/device/function order; stops when fn returns non-zero and returns that value.
 */
int pci_for_each(int (*fn)(uint16_t bdf, void *ctx), void *ctx);
/* The index-th (0, 1, ...) function with this vendor and device ID: 0 and *bdf, or -1. */
int pci_find(uint16_t vendor, uint16_t device, int index, uint16_t *bdf);

/* Capabilities: first / next offset in the list, or 0 at the end (loops are cut off). */
uint8_t pci_cap_first(uint16_t bdf);
uint8_t pci_cap_next(uint16_t bdf, uint8_t cap);
/* Offset of the first capability with this ID, or 0. */
uint8_t pci_cap_find(uint16_t bdf, uint8_t id);

/* Old command register value; sets then clears the given bits. */
uint16_t pci_cmd_update(uint16_t bdf, uint16_t set, uint16_t clear);

struct pci_bar {
	uint64_t addr;		/* as programmed (flag bits removed) */
	uint64_t size;		/* 0: not implemented */
	uint32_t raw;		/* low dword as read before sizing, flag bits included */
	bool io;
	bool is64;
	bool prefetch;
};

/* 6 for a type 0 header, 2 for a bridge, 0 otherwise. */
int pci_bar_count(uint16_t bdf);
/*
 * Sizes BAR idx with the all-ones protocol, decode off meanwhile, and restores it. Returns the
 * number of BAR slots it occupies (2 for a 64-bit BAR, else 1); bar->size = 0 when the BAR is
 * not implemented. Returns -1 for an index beyond the header's BARs.
 */
int pci_bar_probe(uint16_t bdf, int idx, struct pci_bar *bar);
/* The address BAR idx holds (both halves for a 64-bit memory BAR), flag bits removed. */
uint64_t pci_bar_addr(uint16_t bdf, int idx);
/* Writes a new address into BAR idx (keeping its flag bits), with decode off meanwhile. */
void pci_bar_set(uint16_t bdf, int idx, uint64_t addr);

/*
 * Points the MSI capability at addr/data (one vector) and enables it, INTx off. Bus mastering
 * must be on for the device to send it (pci_cmd_update(bdf, PCI_CMD_MASTER, 0)). -1 without MSI.
 */
int pci_msi_enable(uint16_t bdf, uint64_t addr, uint32_t data);
void pci_msi_disable(uint16_t bdf);

/*
 * MSI-X: table size, and the table's address found through its BAR (mapped uncached).
 * pci_msix_set programs and unmasks one entry; pci_msix_enable turns MSI-X on (function mask
 * off, INTx off). Each returns -1 when the device has no MSI-X or the entry is out of range.
 */
int pci_msix_table_size(uint16_t bdf);
uint64_t pci_msix_table_addr(uint16_t bdf);
int pci_msix_set(uint16_t bdf, unsigned entry, uint64_t addr, uint32_t data, bool masked);
int pci_msix_enable(uint16_t bdf);
void pci_msix_disable(uint16_t bdf);

#endif
