/* Finding, mapping and ringing ivshmem devices with libpciaccess (see ivshmem_guest.h). */
#include "ivshmem_guest.h"

#include <errno.h>
#include <pciaccess.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define REG_IVPOSITION	(0x08 / 4)
#define REG_DOORBELL	(0x0c / 4)
#define BAR0_MIN_SIZE	0x10	/* up to and including the Doorbell register */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* libpciaccess keeps one global scan; hold it while any caller needs it. */
static unsigned pci_users;

static int pci_up(char *err, size_t errlen)
{
	if (pci_users == 0) {
		int ret = pci_system_init();

		if (ret) {
			set_err(err, errlen, "cannot scan PCI devices (/sys/bus/pci): %s",
				strerror(ret));
			return -ret;
		}
	}
	pci_users++;
	return 0;
}

static void pci_down(void)
{
	if (pci_users && --pci_users == 0)
		pci_system_cleanup();
}

static void fill_info(struct pci_device *dev, struct ivshmem_guest_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->bdf, sizeof(info->bdf), "%04x:%02x:%02x.%u", dev->domain & 0xffff,
		 dev->bus, dev->dev, dev->func & 7u);
	info->region_id = dev->subdevice_id;
	info->subvendor = dev->subvendor_id;
	info->bar0_size = dev->regions[0].is_IO ? 0 : dev->regions[0].size;
	info->bar2_size = dev->regions[2].is_IO ? 0 : dev->regions[2].size;
	info->doorbell = dev->regions[1].size != 0;
}

/* Calls fn for every ivshmem device (probed) until it returns non-zero; returns that value. */
static int for_each_ivshmem(int (*fn)(struct pci_device *dev, void *ctx), void *ctx)
{
	struct pci_id_match match = {
		.vendor_id = IVSHMEM_GUEST_VENDOR,
		.device_id = IVSHMEM_GUEST_DEVICE,
		.subvendor_id = PCI_MATCH_ANY,
		.subdevice_id = PCI_MATCH_ANY,
	};
	struct pci_device_iterator *it = pci_id_match_iterator_create(&match);
	struct pci_device *dev;
	int ret = 0;

	if (!it)
		return -ENOMEM;
	while (!ret && (dev = pci_device_next(it)) != NULL) {
		/* Without the resource file the BAR sizes stay 0: such a device cannot be used. */
		if (pci_device_probe(dev) != 0)
			continue;
		ret = fn(dev, ctx);
	}
	pci_iterator_destroy(it);
	return ret;
}

struct scan_ctx {
	struct ivshmem_guest_info *infos;
	size_t max, count;
};

static int scan_one(struct pci_device *dev, void *arg)
{
	struct scan_ctx *c = arg;

	if (c->count < c->max)
		fill_info(dev, &c->infos[c->count]);
	c->count++;
	return 0;
}

int ivshmem_guest_scan(struct ivshmem_guest_info *infos, size_t max, char *err, size_t errlen)
{
	struct scan_ctx c = { infos, infos ? max : 0, 0 };
	int ret = pci_up(err, errlen);

	if (ret)
		return ret;
	ret = for_each_ivshmem(scan_one, &c);
	pci_down();
	if (ret < 0) {
		set_err(err, errlen, "scanning PCI devices: %s", strerror(-ret));
		return ret;
	}
	return (int)(c.count > 0x7fffffff ? 0x7fffffff : c.count);
}

struct find_ctx {
	const char *bdf;
	int region_id;
	struct pci_device *found;
};

static int find_one(struct pci_device *dev, void *arg)
{
	struct find_ctx *c = arg;
	struct ivshmem_guest_info info;

	fill_info(dev, &info);
	if (c->bdf && strcmp(c->bdf, info.bdf) != 0)
		return 0;
	if (c->region_id != IVSHMEM_GUEST_ANY && info.region_id != c->region_id)
		return 0;
	c->found = dev;
	return 1;
}

int ivshmem_guest_open(struct ivshmem_guest *g, const char *bdf, int region_id, char *err,
		       size_t errlen)
{
	struct find_ctx c = { bdf, region_id, NULL };
	void *addr = NULL;
	int ret;

	memset(g, 0, sizeof(*g));
	ret = pci_up(err, errlen);
	if (ret)
		return ret;
	ret = for_each_ivshmem(find_one, &c);
	if (ret < 0) {
		set_err(err, errlen, "scanning PCI devices: %s", strerror(-ret));
		goto fail;
	}
	if (!c.found) {
		char id[32] = "";

		if (region_id != IVSHMEM_GUEST_ANY)
			snprintf(id, sizeof(id), " with region id 0x%x", (unsigned)region_id);
		set_err(err, errlen, "no ivshmem device found (PCI %04x:%04x%s%s%s)",
			IVSHMEM_GUEST_VENDOR, IVSHMEM_GUEST_DEVICE, bdf ? " at " : "", bdf ? bdf : "",
			id);
		ret = -ENODEV;
		goto fail;
	}
	g->pci = c.found;
	fill_info(c.found, &g->info);
	if (!g->info.bar2_size) {
		set_err(err, errlen, "%s: BAR2 (shared memory) is missing", g->info.bdf);
		ret = -ENXIO;
		goto fail;
	}
	/*
	 * resource2 as the kernel maps it: uncached, so strongly ordered, which ivmsg's plain
	 * acquire loads rely on. A write-combining mapping (resource2_wc) lets loads pass each
	 * other, and libpciaccess would also fiddle with MTRRs for it.
	 */
	ret = pci_device_map_range(c.found, c.found->regions[2].base_addr, g->info.bar2_size,
				   PCI_DEV_MAP_FLAG_WRITABLE, &addr);
	if (ret) {
		set_err(err, errlen, "%s: cannot map BAR2 (resource2): %s%s", g->info.bdf,
			strerror(ret), ret == EACCES || ret == EPERM ? " (run as root)" : "");
		ret = -ret;
		goto fail;
	}
	g->mem = addr;
	g->size = (size_t)g->info.bar2_size;
	/* The registers are optional: shared memory alone is enough for polling peers. */
	if (g->info.bar0_size >= BAR0_MIN_SIZE &&
	    pci_device_map_range(c.found, c.found->regions[0].base_addr, g->info.bar0_size,
				 PCI_DEV_MAP_FLAG_WRITABLE, &addr) == 0) {
		g->regs = addr;
		g->regs_size = (size_t)g->info.bar0_size;
	}
	return 0;
fail:
	g->pci = NULL;
	pci_down();
	return ret;
}

void ivshmem_guest_close(struct ivshmem_guest *g)
{
	if (!g->pci)
		return;
	if (g->regs)
		pci_device_unmap_range(g->pci, (void *)(uintptr_t)g->regs, g->regs_size);
	if (g->mem)
		pci_device_unmap_range(g->pci, g->mem, g->size);
	memset(g, 0, sizeof(*g));
	pci_down();
}

int ivshmem_guest_ivposition(const struct ivshmem_guest *g)
{
	if (!g->regs)
		return -1;
	return (int)(g->regs[REG_IVPOSITION] & 0xffff);
}

int ivshmem_guest_doorbell(const struct ivshmem_guest *g, uint16_t peer, uint16_t vector)
{
	if (!g->regs)
		return -ENODEV;
	g->regs[REG_DOORBELL] = (uint32_t)peer << 16 | vector;
	return 0;
}
