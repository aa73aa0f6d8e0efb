/* Finding the right ivshmem device and mapping its shared memory. */
#include "guest_ivshmem.h"

#include "guest.h"

int guest_ivshmem_open(struct guest_ivshmem *d, int region_id)
{
	struct pci_bar bar0, bar2;
	uint16_t bdf;

	for (int i = 0; pci_find(IVSHMEM_VENDOR, IVSHMEM_DEVICE, i, &bdf) == 0; i++) {
		uint16_t id = pci_read16(bdf, PCI_SUBSYS_ID);

		if (region_id >= 0 && id != region_id)
			continue;
		if (pci_bar_probe(bdf, 0, &bar0) < 0 || !bar0.size || bar0.io) {
			printf("ivshmem %s: BAR0 is missing\n", pci_bdf_str(bdf));
			return -1;
		}
		if (pci_bar_probe(bdf, 2, &bar2) < 0 || !bar2.size || bar2.io || !bar2.addr) {
			printf("ivshmem %s: BAR2 is missing or unassigned\n", pci_bdf_str(bdf));
			return -1;
		}
		pci_cmd_update(bdf, PCI_CMD_MEM, 0);
		if (map_range(bar2.addr, bar2.size, MAP_WB) != 0) {
			printf("ivshmem %s: cannot map BAR2 at 0x%lx (+0x%lx)\n", pci_bdf_str(bdf),
			       bar2.addr, bar2.size);
			return -1;
		}
		d->bdf = bdf;
		d->region_id = id;
		d->bar0 = bar0.addr;
		d->bar2 = bar2.addr;
		d->size = bar2.size;
		d->vectors = 0;
		return 0;
	}
	if (region_id >= 0)
		printf("no ivshmem device with region id 0x%x\n", (unsigned)region_id);
	else
		printf("no ivshmem device\n");
	return -1;
}

unsigned guest_ivshmem_doorbells(struct guest_ivshmem *d, uint8_t vector)
{
	int n = pci_msix_table_size(d->bdf);

	d->vectors = 0;
	if (n <= 0)
		return 0;	/* the plain device */
	/* MSI-X messages are memory writes by the device: bus mastering must be on. */
	pci_cmd_update(d->bdf, PCI_CMD_MEM | PCI_CMD_MASTER, 0);
	for (int k = 0; k < n; k++)
		if (pci_msix_set(d->bdf, (unsigned)k, msi_address(), msi_data(vector), false) != 0)
			return 0;
	if (pci_msix_enable(d->bdf) != 0)
		return 0;
	d->vectors = (unsigned)n;
	return d->vectors;
}

uint32_t guest_ivshmem_ivposition(const struct guest_ivshmem *d)
{
	return mmio_read32(d->bar0 + IVSHMEM_REG_IVPOSITION);
}

void guest_ivshmem_doorbell(const struct guest_ivshmem *d, uint16_t peer, uint16_t vector)
{
	mmio_write32(d->bar0 + IVSHMEM_REG_DOORBELL, (uint32_t)peer << 16 | vector);
}

int guest_ivshmem_cmdline_region(const char *cmdline, int fallback)
{
	uint64_t v;

	if (cmdline_get_u64(cmdline, "region_id", &v) && v <= 0xffff)
		return (int)v;
	return fallback;
}
