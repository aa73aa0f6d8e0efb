/* Config space access and discovery. BARs are in pci_bar.c, MSI and MSI-X in pci_msi.c. */
#include "pci.h"

#include "io.h"
#include "print.h"

#define CONFIG_ADDRESS	0xcf8
#define CONFIG_DATA	0xcfc
#define MAX_CAPS	48	/* 192 bytes of capability space / 4: more means a loop */

static void select_reg(uint16_t bdf, uint8_t off)
{
	outl(CONFIG_ADDRESS, 0x80000000u | ((uint32_t)bdf << 8) | (off & 0xfc));
}

uint8_t pci_read8(uint16_t bdf, uint8_t off)
{
	select_reg(bdf, off);
	return inb(CONFIG_DATA + (off & 3));
}

uint16_t pci_read16(uint16_t bdf, uint8_t off)
{
	select_reg(bdf, off);
	return inw(CONFIG_DATA + (off & 2));
}

uint32_t pci_read32(uint16_t bdf, uint8_t off)
{
	select_reg(bdf, off);
	return inl(CONFIG_DATA);
}

void pci_write8(uint16_t bdf, uint8_t off, uint8_t v)
{
	select_reg(bdf, off);
	outb(CONFIG_DATA + (off & 3), v);
}

void pci_write16(uint16_t bdf, uint8_t off, uint16_t v)
{
	select_reg(bdf, off);
	outw(CONFIG_DATA + (off & 2), v);
}

void pci_write32(uint16_t bdf, uint8_t off, uint32_t v)
{
	select_reg(bdf, off);
	outl(CONFIG_DATA, v);
}

bool pci_present(uint16_t bdf)
{
	return pci_read16(bdf, PCI_VENDOR_ID) != 0xffff;
}

const char *pci_bdf_str(uint16_t bdf)
{
	static char buf[8];

	snprintf(buf, sizeof(buf), "%02x:%02x.%x", PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf));
	return buf;
}

static int scan_bus(unsigned bus, int depth, int (*fn)(uint16_t, void *), void *ctx)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		if (!pci_present(PCI_BDF(bus, dev, 0)))
			continue;
		bool multi = pci_read8(PCI_BDF(bus, dev, 0), PCI_HEADER_TYPE) & 0x80;

		for (unsigned f = 0; f < (multi ? 8u : 1u); f++) {
			uint16_t bdf = PCI_BDF(bus, dev, f);
			int r;

			if (!pci_present(bdf))
				continue;
			r = fn(bdf, ctx);
			if (r)
				return r;
			/* Follow bridges, but never back to a bus already above us. */
			if ((pci_read8(bdf, PCI_HEADER_TYPE) & 0x7f) == 1 && depth < 8) {
				unsigned sec = pci_read8(bdf, PCI_SECONDARY_BUS);

				if (sec > bus) {
					r = scan_bus(sec, depth + 1, fn, ctx);
					if (r)
						return r;
				}
			}
		}
	}
	return 0;
}

int pci_for_each(int (*fn)(uint16_t bdf, void *ctx), void *ctx)
{
	return scan_bus(0, 0, fn, ctx);
}

struct find_ctx {
	uint16_t vendor, device;
	int index;
	uint16_t bdf;
};

static int find_one(uint16_t bdf, void *p)
{
	struct find_ctx *c = p;

	if (pci_read16(bdf, PCI_VENDOR_ID) != c->vendor ||
	    pci_read16(bdf, PCI_DEVICE_ID) != c->device)
		return 0;
	if (c->index-- > 0)
		return 0;
	c->bdf = bdf;
	return 1;
}

int pci_find(uint16_t vendor, uint16_t device, int index, uint16_t *bdf)
{
	struct find_ctx c = { vendor, device, index, 0 };

	if (pci_for_each(find_one, &c) != 1)
		return -1;
	*bdf = c.bdf;
	return 0;
}

uint8_t pci_cap_first(uint16_t bdf)
{
	if (!(pci_read16(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	return pci_read8(bdf, PCI_CAP_PTR) & 0xfc;
}

uint8_t pci_cap_next(uint16_t bdf, uint8_t cap)
{
	return pci_read8(bdf, cap + 1) & 0xfc;
}

uint8_t pci_cap_find(uint16_t bdf, uint8_t id)
{
	uint8_t cap = pci_cap_first(bdf);

	for (int n = 0; cap && n < MAX_CAPS; n++, cap = pci_cap_next(bdf, cap))
		if (pci_read8(bdf, cap) == id)
			return cap;
	return 0;
}

uint16_t pci_cmd_update(uint16_t bdf, uint16_t set, uint16_t clear)
{
	uint16_t old = pci_read16(bdf, PCI_COMMAND);

	pci_write16(bdf, PCI_COMMAND, (old | set) & ~clear);
	return old;
}
