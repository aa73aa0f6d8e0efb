/*
 * Bus 0: the devices of the -s options, the firmware step that enables them, and configuration
 * mechanism #1 (ports 0xCF8/0xCFC) on top of pci_cfg_access.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_dispatch.h"
#include "log.h"
#include "mem_layout.h"
#include "pci.h"
#include "pci_msix.h"
#include "pci_priv.h"
#include "vm.h"

#define CF8_ENABLE	0x80000000u
#define CFG_PORTS_LEN	8	/* 0xCF8-0xCFB address, 0xCFC-0xCFF data */

struct pci_bus *pci_bus_new(struct vm *vm)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return NULL;
	bus->vm = vm;
	pthread_mutex_init(&bus->lock, NULL);
	pthread_mutex_init(&bus->ioev_lock, NULL);
	bus->next_pio = PCI_PIO_BASE;
	bus->next_mem32 = PCI_MMIO32_BASE;
	bus->next_mem64 = vm_mmio64_base(vm);
	return bus;
}

static void dev_destroy(struct pci_dev *dev)
{
	pci_bars_stop(dev);
	if (dev->ops->deinit)
		dev->ops->deinit(dev->vm, dev);
	pci_msix_free(dev); /* in case deinit left it */
	pci_ioeventfds_free(dev);
	free(pci_node_of(dev));
}

void pci_bus_free(struct pci_bus *bus)
{
	if (!bus)
		return;
	if (bus->cfg_ports)
		io_unregister(vm_io(bus->vm), IO_SPACE_PIO, PCI_CONFIG_ADDR_PORT);
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		for (unsigned f = 0; f < PCI_FUNCS; f++)
			if (bus->devs[s][f])
				dev_destroy(bus->devs[s][f]);
	pthread_mutex_destroy(&bus->ioev_lock);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

struct pci_dev *pci_bus_find(struct pci_bus *bus, unsigned busno, unsigned dev, unsigned func)
{
	if (busno != 0 || dev >= PCI_SLOTS || func >= PCI_FUNCS)
		return NULL;
	return bus->devs[dev][func];
}

int pci_bus_add_device(struct pci_bus *bus, unsigned busno, unsigned slot, unsigned func,
		       const struct pci_dev_ops *ops, const char *config)
{
	const char *emul = ops ? ops->emul : "?";

	if (!ops || !ops->init) {
		pr_err("pci", "slot %u:%u: no emulation given", slot, func);
		return -EINVAL;
	}
	if (bus->started) {
		pr_err("pci", "-s %u:%u,%s: the bus is already running", slot, func, emul);
		return -EBUSY;
	}
	if (busno != 0) {
		pr_err("pci", "-s %u:%u:%u,%s: bus %u does not exist; only bus 0 is emulated", busno,
		       slot, func, emul, busno);
		return -EINVAL;
	}
	if (slot >= PCI_SLOTS || func >= PCI_FUNCS) {
		pr_err("pci", "-s %u:%u,%s: slot must be 0..31 and function 0..7", slot, func, emul);
		return -EINVAL;
	}
	struct pci_dev *taken = bus->devs[slot][func];
	if (taken) {
		pr_err("pci", "slot %u:%u already holds %s; cannot add %s there", slot, func,
		       taken->ops->emul, emul);
		return -EEXIST;
	}

	struct pci_dev_node *node = calloc(1, sizeof(*node));
	if (!node) {
		pr_err("pci", "slot %u:%u: out of memory for %s", slot, func, emul);
		return -ENOMEM;
	}
	struct pci_dev *dev = &node->dev;
	dev->ops = ops;
	dev->vm = bus->vm;
	dev->bus = bus;
	dev->busno = 0;
	dev->slot = slot;
	dev->func = func;
	snprintf(dev->name, sizeof(dev->name), "00:%02x.%x %s", slot, func, ops->emul);
	pci_cfg_init_header(dev);

	/* A failing init has said why (pci_dev_ops.init): one line per failure, not one per layer. */
	int ret = ops->init(bus->vm, dev, config);
	if (ret < 0) {
		pci_msix_free(dev);
		pci_ioeventfds_free(dev);
		free(node);
		return ret;
	}
	bus->devs[slot][func] = dev;
	return 0;
}

int pci_config_takes_none(const char *opts, char *err, size_t errlen)
{
	if (!opts || !*opts)
		return 0;
	snprintf(err, errlen, "takes no configuration (got '%s')", opts);
	return -EINVAL;
}

/* ---- firmware step ---- */

static int check_functions(struct pci_bus *bus)
{
	for (unsigned s = 0; s < PCI_SLOTS; s++) {
		unsigned extra = 0;
		for (unsigned f = 1; f < PCI_FUNCS; f++)
			if (bus->devs[s][f]) {
				if (!bus->devs[s][0]) {
					pr_err("pci", "slot %u: function %u present without function 0 "
					       "(guests probe function 0 first)", s, f);
					return -EINVAL;
				}
				extra++;
			}
		struct pci_dev *f0 = bus->devs[s][0];
		if (f0 && extra)
			pci_set_cfg8(f0, PCIR_HDRTYPE,
				     pci_get_cfg8(f0, PCIR_HDRTYPE) | PCIM_HDRTYPE_MULTIFUNC);
	}
	return 0;
}

static int cfg_port_handler(void *opaque, uint64_t off, unsigned size, bool is_write,
			    uint64_t *value);

static void stop_all(struct pci_bus *bus)
{
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		for (unsigned f = 0; f < PCI_FUNCS; f++)
			if (bus->devs[s][f])
				pci_bars_stop(bus->devs[s][f]);
}

int pci_bus_start(struct pci_bus *bus)
{
	if (bus->started)
		return -EBUSY;
	int ret = check_functions(bus);
	if (ret < 0)
		return ret;

	for (unsigned s = 0; s < PCI_SLOTS; s++)
		for (unsigned f = 0; f < PCI_FUNCS; f++) {
			struct pci_dev *dev = bus->devs[s][f];
			if (!dev)
				continue;
			/* What firmware leaves behind: small guests use the BARs as they find them. */
			pci_set_cfg16(dev, PCIR_COMMAND, pci_get_cfg16(dev, PCIR_COMMAND) | PCIM_CMD_IO |
						 PCIM_CMD_MEM | PCIM_CMD_BUSMASTER);
			ret = pci_bars_start(dev);
			if (ret < 0)
				goto fail;
		}

	const struct io_range ports = {
		.name = "pci-cfg", .space = IO_SPACE_PIO, .base = PCI_CONFIG_ADDR_PORT,
		.len = CFG_PORTS_LEN, .handler = cfg_port_handler, .opaque = bus,
	};
	ret = io_register(vm_io(bus->vm), &ports);
	if (ret < 0) {
		pr_err("pci", "cannot claim ports 0xcf8-0xcff: %s", strerror(-ret));
		goto fail;
	}
	bus->cfg_ports = true;
	bus->started = true;
	return 0;
fail:
	stop_all(bus);
	return ret;
}

/* ---- config accesses ---- */

static uint32_t ones32(unsigned size)
{
	return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
}

int pci_cfg_access(void *opaque, unsigned busno, unsigned devno, unsigned func, unsigned reg,
		   unsigned size, bool is_write, uint32_t *value)
{
	struct pci_bus *bus = opaque;

	if (!pci_cfg_access_valid(reg, size)) {
		pr_dbg("pci", "%02x:%02x.%x: %s of %u bytes at 0x%x is misaligned or out of range",
		       busno, devno, func, is_write ? "write" : "read", size, reg);
		if (!is_write)
			*value = ones32(size);
		return 0;
	}

	pthread_mutex_lock(&bus->lock);
	struct pci_dev *dev = pci_bus_find(bus, busno, devno, func);
	if (!dev) {
		if (!is_write)
			*value = ones32(size); /* nobody answers: master abort */
	} else if (is_write) {
		pci_cfg_write(dev, reg, size, *value & ones32(size));
	} else {
		*value = pci_cfg_read(dev, reg, size);
	}
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

/*
 * Mechanism #1: a 32-bit write to 0xCF8 latches {enable, bus, device, function, register}; an
 * access of 1, 2 or 4 bytes at 0xCFC + n then reaches register + n. Anything else on these ports
 * (a byte access to 0xCF8, data accesses while disabled) reads all ones and is otherwise dropped.
 */
static int cfg_port_handler(void *opaque, uint64_t off, unsigned size, bool is_write,
			    uint64_t *value)
{
	struct pci_bus *bus = opaque;

	if (off >= CFG_PORTS_LEN || size > CFG_PORTS_LEN - off)
		return -ERANGE;

	if (off < 4) {
		if (off != 0 || size != 4) {
			if (!is_write)
				*value = ones32(size);
			return 0;
		}
		pthread_mutex_lock(&bus->lock);
		if (is_write)
			bus->cf8 = (uint32_t)*value;
		else
			*value = bus->cf8;
		pthread_mutex_unlock(&bus->lock);
		return 0;
	}

	pthread_mutex_lock(&bus->lock);
	uint32_t cf8 = bus->cf8;
	pthread_mutex_unlock(&bus->lock);

	unsigned n = (unsigned)off - 4;
	if (!(cf8 & CF8_ENABLE) || size > 4 || n + size > 4) {
		if (!is_write)
			*value = ones32(size);
		return 0;
	}
	uint32_t v = (uint32_t)*value;
	int ret = pci_cfg_access(bus, (cf8 >> 16) & 0xff, (cf8 >> 11) & 0x1f, (cf8 >> 8) & 0x7,
				 (cf8 & 0xfc) + n, size, is_write, &v);
	if (!is_write)
		*value = v;
	return ret;
}
