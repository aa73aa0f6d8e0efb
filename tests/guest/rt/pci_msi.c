/* MSI and MSI-X capability set-up (PCI Local Bus 3.0, section 6.8). */
#include "pci.h"

#include "mmio.h"
#include "paging.h"

#define MSI_CTRL		2
#define MSI_CTRL_ENABLE		0x0001
#define MSI_CTRL_MME		0x0070	/* multiple message enable: we use one vector */
#define MSI_CTRL_64		0x0080
#define MSI_CTRL_MASKABLE	0x0100
#define MSI_ADDR_LO		4

#define MSIX_CTRL		2
#define MSIX_CTRL_SIZE		0x07ff	/* table size - 1 */
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_TABLE		4	/* offset | BAR indicator in bits 2:0 */
#define MSIX_ENTRY_SIZE		16
#define MSIX_VECTOR_MASKED	1

int pci_msi_enable(uint16_t bdf, uint64_t addr, uint32_t data)
{
	uint8_t cap = pci_cap_find(bdf, PCI_CAP_MSI);

	if (!cap)
		return -1;
	uint16_t ctrl = pci_read16(bdf, cap + MSI_CTRL);
	bool is64 = ctrl & MSI_CTRL_64;
	uint8_t data_off = is64 ? 12 : 8;

	pci_write16(bdf, cap + MSI_CTRL, ctrl & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME));
	pci_write32(bdf, cap + MSI_ADDR_LO, (uint32_t)addr);
	if (is64)
		pci_write32(bdf, cap + 8, (uint32_t)(addr >> 32));
	pci_write16(bdf, cap + data_off, (uint16_t)data);
	if (ctrl & MSI_CTRL_MASKABLE)
		pci_write32(bdf, cap + data_off + 4, 0);	/* mask bits: vector 0 open */
	pci_cmd_update(bdf, PCI_CMD_INTX_DISABLE, 0);
	pci_write16(bdf, cap + MSI_CTRL, (ctrl & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE);
	return 0;
}

void pci_msi_disable(uint16_t bdf)
{
	uint8_t cap = pci_cap_find(bdf, PCI_CAP_MSI);

	if (cap)
		pci_write16(bdf, cap + MSI_CTRL,
			    pci_read16(bdf, cap + MSI_CTRL) & ~MSI_CTRL_ENABLE);
}

int pci_msix_table_size(uint16_t bdf)
{
	uint8_t cap = pci_cap_find(bdf, PCI_CAP_MSIX);

	if (!cap)
		return -1;
	return (pci_read16(bdf, cap + MSIX_CTRL) & MSIX_CTRL_SIZE) + 1;
}

uint64_t pci_msix_table_addr(uint16_t bdf)
{
	uint8_t cap = pci_cap_find(bdf, PCI_CAP_MSIX);

	if (!cap)
		return 0;
	uint32_t t = pci_read32(bdf, cap + MSIX_TABLE);

	return pci_bar_addr(bdf, (int)(t & 7)) + (t & ~7u);
}

int pci_msix_set(uint16_t bdf, unsigned entry, uint64_t addr, uint32_t data, bool masked)
{
	int n = pci_msix_table_size(bdf);
	uint64_t table = pci_msix_table_addr(bdf);

	if (n < 0 || entry >= (unsigned)n || !table)
		return -1;
	/* The table is behind a BAR: it must decode, and be mapped even above 4 GiB. */
	pci_cmd_update(bdf, PCI_CMD_MEM, 0);
	if (map_range(table, (uint64_t)n * MSIX_ENTRY_SIZE, MAP_UC) != 0)
		return -1;

	uint64_t e = table + (uint64_t)entry * MSIX_ENTRY_SIZE;

	/* Change address and data only while the entry is masked. */
	mmio_write32(e + 12, mmio_read32(e + 12) | MSIX_VECTOR_MASKED);
	mmio_write32(e + 0, (uint32_t)addr);
	mmio_write32(e + 4, (uint32_t)(addr >> 32));
	mmio_write32(e + 8, data);
	if (!masked)
		mmio_write32(e + 12, mmio_read32(e + 12) & ~MSIX_VECTOR_MASKED);
	return 0;
}

int pci_msix_enable(uint16_t bdf)
{
	uint8_t cap = pci_cap_find(bdf, PCI_CAP_MSIX);

	if (!cap)
		return -1;
	uint16_t ctrl = pci_read16(bdf, cap + MSIX_CTRL);

	pci_cmd_update(bdf, PCI_CMD_INTX_DISABLE, 0);
	pci_write16(bdf, cap + MSIX_CTRL, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL);
	return 0;
}

void pci_msix_disable(uint16_t bdf)
{
	uint8_t cap = pci_cap_find(bdf, PCI_CAP_MSIX);

	if (cap)
		pci_write16(bdf, cap + MSIX_CTRL,
			    pci_read16(bdf, cap + MSIX_CTRL) & ~MSIX_CTRL_ENABLE);
}
