/* BAR sizing (the all-ones protocol), reading and moving. */
#include "pci.h"

#include "str.h"

#define BAR_IO		0x1u
#define BAR_TYPE_64	0x4u	/* memory BAR type field (bits 2:1) = 10b */
#define BAR_PREFETCH	0x8u
#define BAR_IO_FLAGS	0x3u
#define BAR_MEM_FLAGS	0xfu

static uint8_t bar_off(int idx)
{
	return (uint8_t)(PCI_BAR0 + 4 * idx);
}

int pci_bar_count(uint16_t bdf)
{
	switch (pci_read8(bdf, PCI_HEADER_TYPE) & 0x7f) {
	case 0:
		return 6;
	case 1:
		return 2;
	default:
		return 0;
	}
}

static bool is_mem64(uint32_t lo)
{
	return !(lo & BAR_IO) && (lo & 0x6u) == BAR_TYPE_64;
}

/* Writes all-ones, reads what sticks, puts the original value back. */
static uint32_t size_mask(uint16_t bdf, uint8_t off)
{
	uint32_t orig = pci_read32(bdf, off), mask;

	pci_write32(bdf, off, 0xffffffffu);
	mask = pci_read32(bdf, off);
	pci_write32(bdf, off, orig);
	return mask;
}

int pci_bar_probe(uint16_t bdf, int idx, struct pci_bar *bar)
{
	int count = pci_bar_count(bdf), slots = 1;
	uint8_t off = bar_off(idx);
	uint64_t mask;
	bool sticks;

	if (idx < 0 || idx >= count)
		return -1;
	memset(bar, 0, sizeof(*bar));
	bar->raw = pci_read32(bdf, off);

	/* Decode off while the BAR briefly claims addresses near 4 GiB (or port 0xfffc). */
	uint16_t cmd = pci_cmd_update(bdf, 0, PCI_CMD_IO | PCI_CMD_MEM);
	uint32_t lo_mask = size_mask(bdf, off);

	if (bar->raw & BAR_IO) {
		bar->io = true;
		bar->addr = bar->raw & ~BAR_IO_FLAGS;
		mask = lo_mask & ~BAR_IO_FLAGS;
		/* I/O BARs may leave the upper 16 bits unimplemented (reading 0). */
		if (mask && !(mask & 0xffff0000u))
			mask |= 0xffff0000u;
		sticks = mask != 0;
		mask |= 0xffffffff00000000ull;
	} else {
		bar->prefetch = bar->raw & BAR_PREFETCH;
		bar->addr = bar->raw & ~BAR_MEM_FLAGS;
		mask = lo_mask & ~BAR_MEM_FLAGS;
		sticks = mask != 0;
		if (is_mem64(bar->raw) && idx + 1 < count) {
			uint32_t hi_mask = size_mask(bdf, off + 4);

			bar->is64 = true;
			bar->addr |= (uint64_t)pci_read32(bdf, off + 4) << 32;
			/* Upper half hardwired to 0: the BAR can only live below 4 GiB. */
			mask |= hi_mask ? (uint64_t)hi_mask << 32 : 0xffffffff00000000ull;
			sticks = sticks || hi_mask != 0;
			slots = 2;
		} else {
			mask |= 0xffffffff00000000ull;
		}
	}
	pci_write16(bdf, PCI_COMMAND, cmd);

	/* No address bit sticks: not implemented. */
	bar->size = sticks ? ~mask + 1 : 0;
	return slots;
}

uint64_t pci_bar_addr(uint16_t bdf, int idx)
{
	uint8_t off = bar_off(idx);
	uint32_t lo = pci_read32(bdf, off);

	if (lo & BAR_IO)
		return lo & ~BAR_IO_FLAGS;
	if (is_mem64(lo))
		return ((uint64_t)pci_read32(bdf, off + 4) << 32) | (lo & ~BAR_MEM_FLAGS);
	return lo & ~BAR_MEM_FLAGS;
}

void pci_bar_set(uint16_t bdf, int idx, uint64_t addr)
{
	uint8_t off = bar_off(idx);
	uint32_t lo = pci_read32(bdf, off);
	uint32_t flags_mask = lo & BAR_IO ? BAR_IO_FLAGS : BAR_MEM_FLAGS;
	uint16_t cmd = pci_cmd_update(bdf, 0, PCI_CMD_IO | PCI_CMD_MEM);

	pci_write32(bdf, off, ((uint32_t)addr & ~flags_mask) | (lo & flags_mask));
	if (is_mem64(lo))
		pci_write32(bdf, off + 4, (uint32_t)(addr >> 32));
	pci_write16(bdf, PCI_COMMAND, cmd);
}
