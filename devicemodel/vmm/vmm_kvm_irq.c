/*
 * irqfd for the KVM backend: an eventfd bound to a GSI whose routing entry is an MSI, so a
 * signal on the eventfd (from a peer's ioeventfd, say) injects the MSI without a user-space hop.
 *
 * KVM_SET_GSI_ROUTING replaces the whole routing table, so we keep the table ourselves: the
 * kernel's default IOAPIC/PIC entries for GSIs 0..23 (set up by KVM_CREATE_IRQCHIP, kept so that
 * pushing our table changes nothing else) followed by one MSI entry per irqfd. The handle an
 * irqfd_add returns is its GSI. Everything here runs under irq_lock: devices attach and detach
 * irqfds from the main thread and from vCPU threads (an MSI-X table write).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vmm_kvm_priv.h"

#define IOAPIC_PINS	24	/* GSIs below this keep the kernel's default routes */
#define PIC_PINS	16

static int kvm_irq_check_cap(struct kvm_backend *kb, long cap)
{
	int r = ioctl(kb->vm_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static int route_append(struct kvm_backend *kb, const struct kvm_irq_routing_entry *e)
{
	if (kb->nroutes == kb->routes_cap) {
		unsigned cap = kb->routes_cap ? kb->routes_cap * 2 : 64;
		struct kvm_irq_routing_entry *n = realloc(kb->routes, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		kb->routes = n;
		kb->routes_cap = cap;
	}
	kb->routes[kb->nroutes++] = *e;
	return 0;
}

static struct kvm_irq_routing_entry irqchip_route(unsigned gsi, unsigned chip, unsigned pin)
{
	struct kvm_irq_routing_entry e;

	memset(&e, 0, sizeof(e));
	e.gsi = gsi;
	e.type = KVM_IRQ_ROUTING_IRQCHIP;
	e.u.irqchip.irqchip = chip;
	e.u.irqchip.pin = pin;
	return e;
}

static struct kvm_irq_routing_entry *msi_route(struct kvm_backend *kb, unsigned gsi)
{
	for (unsigned i = 0; i < kb->nroutes; i++)
		if (kb->routes[i].gsi == gsi && kb->routes[i].type == KVM_IRQ_ROUTING_MSI)
			return &kb->routes[i];
	return NULL;
}

static void msi_route_remove(struct kvm_backend *kb, unsigned gsi)
{
	struct kvm_irq_routing_entry *e = msi_route(kb, gsi);

	if (!e)
		return;
	size_t idx = (size_t)(e - kb->routes);

	memmove(e, e + 1, (kb->nroutes - idx - 1) * sizeof(*e));
	kb->nroutes--;
}

static void set_msi(struct kvm_irq_routing_entry *e, uint64_t addr, uint32_t data)
{
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
}

/* Hands our whole table to KVM. */
static int routes_push(struct kvm_backend *kb)
{
	struct kvm_irq_routing *tbl;
	int r = 0;

	tbl = calloc(1, sizeof(*tbl) + kb->nroutes * sizeof(tbl->entries[0]));
	if (!tbl)
		return -ENOMEM;
	tbl->nr = kb->nroutes;
	memcpy(tbl->entries, kb->routes, kb->nroutes * sizeof(tbl->entries[0]));
	if (ioctl(kb->vm_fd, KVM_SET_GSI_ROUTING, tbl) < 0) {
		r = -errno;
		pr_err(KVM_LOG, "KVM_SET_GSI_ROUTING (%u entries): %s", kb->nroutes, strerror(-r));
	}
	free(tbl);
	return r;
}

int kvm_irq_init(struct kvm_backend *kb)
{
	int max_gsi = kvm_irq_check_cap(kb, KVM_CAP_IRQ_ROUTING);

	if (max_gsi <= IOAPIC_PINS || kvm_irq_check_cap(kb, KVM_CAP_IRQFD) <= 0) {
		/* irqfd_add says -ENOTSUP and devices fall back to send_msi. */
		pr_info(KVM_LOG, "no irqfd/GSI routing: MSIs go through KVM_SIGNAL_MSI only");
		kb->max_gsi = 0;
		return 0;
	}
	kb->max_gsi = (unsigned)max_gsi;
	kb->gsi_fd = malloc(kb->max_gsi * sizeof(*kb->gsi_fd));
	if (!kb->gsi_fd)
		return -ENOMEM;
	for (unsigned i = 0; i < kb->max_gsi; i++)
		kb->gsi_fd[i] = -1;

	/* The same defaults KVM_CREATE_IRQCHIP installs: PIC pins for GSIs 0..15, IOAPIC 0..23. */
	for (unsigned gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		struct kvm_irq_routing_entry e;
		int r;

		if (gsi < PIC_PINS) {
			e = irqchip_route(gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					  gsi % 8);
			r = route_append(kb, &e);
			if (r < 0)
				return r;
		}
		e = irqchip_route(gsi, KVM_IRQCHIP_IOAPIC, gsi);
		r = route_append(kb, &e);
		if (r < 0)
			return r;
	}
	return 0;
}

void kvm_irq_fini(struct kvm_backend *kb)
{
	/* Closing the VM releases the irqfds in the kernel; only our copies go here. */
	free(kb->routes);
	kb->routes = NULL;
	kb->nroutes = kb->routes_cap = 0;
	free(kb->gsi_fd);
	kb->gsi_fd = NULL;
}

static int irqfd_ioctl(struct kvm_backend *kb, int fd, unsigned gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(kb->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		int e = errno;

		pr_err(KVM_LOG, "KVM_IRQFD(%s) fd %d gsi %u: %s", assign ? "assign" : "deassign", fd,
		       gsi, strerror(e));
		return -e;
	}
	return 0;
}

int kvm_irqfd_add(struct vmm *vmm, int fd, uint64_t addr, uint32_t data)
{
	struct kvm_backend *kb = kvm_of(vmm);
	struct kvm_irq_routing_entry e;
	unsigned gsi;
	int r;

	if (!kb)
		return -ENODEV;
	if (kb->max_gsi == 0)
		return -ENOTSUP;
	if (fd < 0)
		return -EINVAL;

	pthread_mutex_lock(&kb->irq_lock);
	for (gsi = IOAPIC_PINS; gsi < kb->max_gsi; gsi++)
		if (kb->gsi_fd[gsi] < 0)
			break;
	if (gsi == kb->max_gsi) {
		pr_err(KVM_LOG, "irqfd: all %u GSIs in use", kb->max_gsi);
		r = -ENOSPC;
		goto out;
	}
	memset(&e, 0, sizeof(e));
	e.gsi = gsi;
	e.type = KVM_IRQ_ROUTING_MSI;
	set_msi(&e, addr, data);
	r = route_append(kb, &e);
	if (r < 0)
		goto out;
	r = routes_push(kb);
	if (r < 0)
		goto undo_route;
	r = irqfd_ioctl(kb, fd, gsi, true);
	if (r < 0)
		goto undo_route;
	kb->gsi_fd[gsi] = fd;
	r = (int)gsi;
	goto out;

undo_route:
	msi_route_remove(kb, gsi);
	/* Best effort: the kernel may hold the new entry, which routes a GSI nothing signals. */
	if (routes_push(kb) < 0)
		pr_warn(KVM_LOG, "irqfd: could not restore the GSI routing table");
out:
	pthread_mutex_unlock(&kb->irq_lock);
	return r;
}

static bool handle_valid(struct kvm_backend *kb, int handle)
{
	return handle >= IOAPIC_PINS && (unsigned)handle < kb->max_gsi && kb->gsi_fd[handle] >= 0;
}

int kvm_irqfd_update(struct vmm *vmm, int handle, uint64_t addr, uint32_t data)
{
	struct kvm_backend *kb = kvm_of(vmm);
	struct kvm_irq_routing_entry *e, old;
	int r;

	if (!kb)
		return -ENODEV;
	pthread_mutex_lock(&kb->irq_lock);
	if (!handle_valid(kb, handle) || !(e = msi_route(kb, (unsigned)handle))) {
		r = -ENOENT;
		goto out;
	}
	old = *e;
	set_msi(e, addr, data);
	r = routes_push(kb);
	if (r < 0)
		*e = old;
out:
	pthread_mutex_unlock(&kb->irq_lock);
	return r;
}

int kvm_irqfd_del(struct vmm *vmm, int handle)
{
	struct kvm_backend *kb = kvm_of(vmm);
	int r;

	if (!kb)
		return -ENODEV;
	pthread_mutex_lock(&kb->irq_lock);
	if (!handle_valid(kb, handle)) {
		r = -ENOENT;
		goto out;
	}
	r = irqfd_ioctl(kb, kb->gsi_fd[handle], (unsigned)handle, false);
	if (r < 0)
		goto out;
	kb->gsi_fd[handle] = -1;
	msi_route_remove(kb, (unsigned)handle);
	/* A stale route for an unbound GSI is harmless; the next push replaces it. */
	if (routes_push(kb) < 0)
		pr_warn(KVM_LOG, "irqfd: GSI %d stays routed in the kernel until the next change",
			handle);
out:
	pthread_mutex_unlock(&kb->irq_lock);
	return r;
}
