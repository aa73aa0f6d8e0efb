/*
 * ioeventfds in BARs: a device declares "a write at BAR + off signals this fd" once, and the core
 * keeps the hypervisor's binding wherever the BAR decodes: bound at the new address when the guest
 * moves it, unbound while decode is off, gone with the device. The device never learns where its
 * BAR is, and never hears about the move (QEMU's memory_region_add_eventfd).
 *
 * A binding the backend refuses is not an error: the write is trapped and reaches the device's
 * bar_write as any other. -ENOTSUP (a backend without ioeventfds) is remembered for the whole bus
 * so that it is asked once; other refusals (KVM's limit on ioeventfds, which a guest can reach)
 * are logged at a limited rate and retried at the next decode.
 *
 * Locking: everything here runs under the bus's ioev_lock, the innermost lock of the PCI core.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pci.h"
#include "pci_priv.h"
#include "vm.h"

static bool same_ioeventfd(const struct pci_ioeventfd *e, int idx, const struct pci_bar_ioeventfd *ev)
{
	return e->idx == idx && e->ev.off == ev->off && e->ev.datamatch == ev->datamatch &&
	       (!ev->datamatch || e->ev.data == ev->data);
}

static void ioev_bind(struct pci_dev *dev, struct pci_ioeventfd *e)
{
	struct pci_bus *bus = dev->bus;
	const struct pci_bar *bar = &dev->bars[e->idx];

	if (e->bound || !bar->mapped || bus->no_ioeventfds)
		return;
	const struct vmm_ioeventfd k = {
		.fd = e->ev.fd, .addr = bar->mapped_addr + e->ev.off, .len = e->ev.len,
		.datamatch = e->ev.datamatch, .data = e->ev.data,
	};
	int ret = vm_ioeventfd_add(dev->vm, &k);
	if (ret == -ENOTSUP) {
		bus->no_ioeventfds = true;
		return;
	}
	if (ret < 0) {
		if (log_ratelimit_ok(&bus->ioev_log, 5))
			pr_warn("pci", "%s: BAR%d + 0x%llx: no ioeventfd for data 0x%llx (%s); those "
				"writes are trapped", dev->name, e->idx, (unsigned long long)e->ev.off,
				(unsigned long long)e->ev.data, strerror(-ret));
		return;
	}
	e->bound = true;
	e->bound_addr = k.addr;
}

static void ioev_unbind(struct pci_dev *dev, struct pci_ioeventfd *e)
{
	if (!e->bound)
		return;
	const struct vmm_ioeventfd k = {
		.fd = e->ev.fd, .addr = e->bound_addr, .len = e->ev.len,
		.datamatch = e->ev.datamatch, .data = e->ev.data,
	};
	if (vm_ioeventfd_del(dev->vm, &k) < 0)
		pr_warn("pci", "%s: BAR%d + 0x%llx: the backend lost the ioeventfd for data 0x%llx",
			dev->name, e->idx, (unsigned long long)e->ev.off,
			(unsigned long long)e->ev.data);
	e->bound = false;
}

void pci_ioeventfds_bind(struct pci_dev *dev, int idx)
{
	struct pci_dev_node *node = pci_node_of(dev);
	for (unsigned i = 0; i < node->nioevs; i++)
		if (node->ioevs[i].idx == idx)
			ioev_bind(dev, &node->ioevs[i]);
}

void pci_ioeventfds_unbind(struct pci_dev *dev, int idx)
{
	struct pci_dev_node *node = pci_node_of(dev);
	for (unsigned i = 0; i < node->nioevs; i++)
		if (node->ioevs[i].idx == idx)
			ioev_unbind(dev, &node->ioevs[i]);
}

static bool ioeventfd_args_valid(const struct pci_dev *dev, int idx,
				 const struct pci_bar_ioeventfd *ev)
{
	if (idx < 0 || idx >= PCI_BAR_COUNT || ev->fd < 0)
		return false;
	const struct pci_bar *bar = &dev->bars[idx];
	/* The seam's ioeventfds are MMIO only; a RAM BAR traps nothing to fall back on. */
	if ((bar->type != PCI_BAR_MEM32 && bar->type != PCI_BAR_MEM64) || bar->ram)
		return false;
	if (ev->len != 1 && ev->len != 2 && ev->len != 4 && ev->len != 8)
		return false;
	return ev->off < bar->size && ev->len <= bar->size - ev->off;
}

int pci_bar_add_ioeventfd(struct pci_dev *dev, int idx, const struct pci_bar_ioeventfd *ev)
{
	struct pci_dev_node *node = pci_node_of(dev);
	int ret = 0;

	pthread_mutex_lock(&dev->bus->ioev_lock);
	if (!ioeventfd_args_valid(dev, idx, ev)) {
		ret = -EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < node->nioevs; i++)
		if (same_ioeventfd(&node->ioevs[i], idx, ev)) {
			ret = -EEXIST;
			goto out;
		}
	if (node->nioevs == node->ioevs_cap) {
		unsigned cap = node->ioevs_cap ? 2 * node->ioevs_cap : 8;
		struct pci_ioeventfd *grown = realloc(node->ioevs, cap * sizeof(*grown));
		if (!grown) {
			ret = -ENOMEM;
			goto out;
		}
		node->ioevs = grown;
		node->ioevs_cap = cap;
	}
	struct pci_ioeventfd *e = &node->ioevs[node->nioevs++];
	*e = (struct pci_ioeventfd){ .idx = idx, .ev = *ev };
	ioev_bind(dev, e);
out:
	/* The limiter is the bus's, serialised by ioev_lock. */
	if (ret < 0 && log_ratelimit_ok(&dev->bus->ioev_log, 5))
		pr_warn("pci", "%s: BAR%d + 0x%llx: ioeventfd for data 0x%llx refused: %s", dev->name,
			idx, (unsigned long long)ev->off, (unsigned long long)ev->data,
			ret == -EINVAL ? "not a place an ioeventfd can be" :
			ret == -EEXIST ? "one with that data is there already" : strerror(-ret));
	pthread_mutex_unlock(&dev->bus->ioev_lock);
	return ret;
}

static void ioev_remove_at(struct pci_dev *dev, unsigned i)
{
	struct pci_dev_node *node = pci_node_of(dev);
	ioev_unbind(dev, &node->ioevs[i]);
	node->ioevs[i] = node->ioevs[--node->nioevs];
}

int pci_bar_del_ioeventfd(struct pci_dev *dev, int idx, const struct pci_bar_ioeventfd *ev)
{
	struct pci_dev_node *node = pci_node_of(dev);
	int ret = -ENOENT;

	pthread_mutex_lock(&dev->bus->ioev_lock);
	for (unsigned i = 0; i < node->nioevs; i++) {
		const struct pci_ioeventfd *e = &node->ioevs[i];
		if (same_ioeventfd(e, idx, ev) && e->ev.len == ev->len && e->ev.fd == ev->fd) {
			ioev_remove_at(dev, i);
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&dev->bus->ioev_lock);
	return ret;
}

void pci_bar_clear_ioeventfds(struct pci_dev *dev, int idx)
{
	struct pci_dev_node *node = pci_node_of(dev);

	pthread_mutex_lock(&dev->bus->ioev_lock);
	for (unsigned i = 0; i < node->nioevs;) {
		if (node->ioevs[i].idx == idx)
			ioev_remove_at(dev, i);
		else
			i++;
	}
	pthread_mutex_unlock(&dev->bus->ioev_lock);
}

void pci_ioeventfds_free(struct pci_dev *dev)
{
	struct pci_dev_node *node = pci_node_of(dev);

	pthread_mutex_lock(&dev->bus->ioev_lock);
	while (node->nioevs)
		ioev_remove_at(dev, node->nioevs - 1);
	pthread_mutex_unlock(&dev->bus->ioev_lock);
	free(node->ioevs);
	node->ioevs = NULL;
	node->ioevs_cap = 0;
}
