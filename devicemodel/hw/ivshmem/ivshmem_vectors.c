/*
 * Routing the doorbell device's own vectors: the eventfd the server gave for vector k is signalled
 * by any peer ringing us on k, and becomes an MSI on vector k's message.
 *
 * While the vector is usable (MSI-X on, function and vector unmasked) the eventfd is an irqfd on
 * that message: the kernel injects it and nothing runs here. Otherwise (masked, MSI-X off, or a
 * backend without irqfds) the eventfd is read on the main loop and handed to the MSI-X helper,
 * which delivers it now or sets the vector's pending bit and delivers it on unmask, so the guest
 * sees the same either way. The MSI-X helper's notifier says when a vector's state changes.
 *
 * Locking: the doorbell's lock guards everything here; it is never held while calling into the
 * MSI-X helper (which calls the notifier without its own lock).
 */
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ivshmem_proto.h"
#include "ivshmem_vectors.h"
#include "log.h"
#include "pci.h"
#include "pci_msix.h"
#include "vm.h"

struct own_vector {
	int fd;			/* the server's eventfd for it, -1 while there is none */
	int irqfd;		/* backend handle while attached, else -1 */
	guint watch;		/* GLib source reading the eventfd in user space, else 0 */
	bool usable;
	uint64_t addr;
	uint32_t data;
};

struct ivshmem_vectors {
	struct pci_dev *dev;
	pthread_mutex_t *lock;
	unsigned n;
	bool irqfd_ok;
	struct log_ratelimit log;	/* irqfd failures: a guest can exhaust the backend's */
	uint64_t received_user;
	struct own_vector vec[IVSHMEM_MAX_VECTORS];
};

struct watch_ctx {
	struct ivshmem_vectors *v;
	unsigned k;
};

static gboolean on_own_eventfd(gint fd, GIOCondition cond, gpointer data)
{
	struct watch_ctx *ctx = data;
	struct ivshmem_vectors *v = ctx->v;
	(void)cond;
	uint64_t count;
	ssize_t n = read(fd, &count, sizeof(count));
	if (n == sizeof(count)) {
		__atomic_add_fetch(&v->received_user, 1, __ATOMIC_RELAXED);
		/* Delivers now when usable, else sets the PBA bit: the helper decides. */
		pci_msix_notify(v->dev, ctx->k);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	/*
	 * Readable but not an eventfd's 8 bytes (a server handed us a pipe or a file): watching it
	 * would spin the main loop. The vector goes quiet instead, and says so once.
	 */
	pr_warn("ivshmem", "%s: the server's fd for vector %u is not an eventfd; the vector is "
		"ignored", v->dev->name, ctx->k);
	pthread_mutex_lock(v->lock);
	v->vec[ctx->k].watch = 0;
	pthread_mutex_unlock(v->lock);
	return G_SOURCE_REMOVE;
}

static void watch_start_locked(struct ivshmem_vectors *v, unsigned k)
{
	if (v->vec[k].watch || v->vec[k].fd < 0)
		return;
	struct watch_ctx *ctx = g_new(struct watch_ctx, 1);
	*ctx = (struct watch_ctx){ v, k };
	GSource *src = g_unix_fd_source_new(v->vec[k].fd, G_IO_IN);
	g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_own_eventfd, ctx, g_free);
	v->vec[k].watch = g_source_attach(src, NULL);
	g_source_unref(src);
}

static void watch_stop_locked(struct ivshmem_vectors *v, unsigned k)
{
	if (v->vec[k].watch)
		g_source_remove(v->vec[k].watch);
	v->vec[k].watch = 0;
}

static void irqfd_detach_locked(struct ivshmem_vectors *v, unsigned k)
{
	if (v->vec[k].irqfd >= 0)
		vm_irqfd_del(v->dev->vm, v->vec[k].irqfd);
	v->vec[k].irqfd = -1;
}

/* Attaches an irqfd on vector k's message, or updates it. False when the backend refuses. */
static bool irqfd_attach_locked(struct ivshmem_vectors *v, unsigned k)
{
	struct own_vector *o = &v->vec[k];
	int ret = o->irqfd >= 0 ? vm_irqfd_update(v->dev->vm, o->irqfd, o->addr, o->data)
				: vm_irqfd_add(v->dev->vm, o->fd, o->addr, o->data);
	if (ret >= 0) {
		if (o->irqfd < 0)
			o->irqfd = ret;
		return true;
	}
	if (ret == -ENOTSUP)
		v->irqfd_ok = false;
	else if (log_ratelimit_ok(&v->log, 5))
		pr_warn("ivshmem", "%s: irqfd for vector %u: %s (using the slow path)", v->dev->name,
			k, strerror(-ret));
	return false;
}

/* Puts vector k on the right path for its current state. */
static void route_locked(struct ivshmem_vectors *v, unsigned k)
{
	struct own_vector *o = &v->vec[k];
	if (o->fd >= 0 && o->usable && v->irqfd_ok && irqfd_attach_locked(v, k)) {
		watch_stop_locked(v, k);
		return;
	}
	irqfd_detach_locked(v, k);
	if (o->fd < 0)
		watch_stop_locked(v, k);
	else
		watch_start_locked(v, k); /* masked, disabled or no irqfd: read here */
}

static void on_msix_vector(struct pci_dev *dev, unsigned k, bool usable, uint64_t addr,
			   uint32_t data, void *opaque)
{
	(void)dev;
	struct ivshmem_vectors *v = opaque;
	if (k >= v->n)
		return;
	pthread_mutex_lock(v->lock);
	v->vec[k].usable = usable;
	v->vec[k].addr = addr;
	v->vec[k].data = data;
	route_locked(v, k);
	pthread_mutex_unlock(v->lock);
}

void ivshmem_vectors_set_fd_locked(struct ivshmem_vectors *v, unsigned k, int fd)
{
	if (k >= v->n)
		return;
	if (v->vec[k].fd != fd) {
		/* Whatever was bound to the old fd goes first: it may be closed right after. */
		irqfd_detach_locked(v, k);
		watch_stop_locked(v, k);
		v->vec[k].fd = fd;
	}
	route_locked(v, k);
}

int ivshmem_vectors_new(struct pci_dev *dev, unsigned n, int bar_idx, bool irqfd,
			pthread_mutex_t *lock, struct ivshmem_vectors **out)
{
	struct ivshmem_vectors *v = calloc(1, sizeof(*v));
	if (!v) {
		pr_err("ivshmem", "%s: out of memory", dev->name);
		return -ENOMEM;
	}
	v->dev = dev;
	v->lock = lock;
	v->n = n;
	v->irqfd_ok = irqfd;
	for (unsigned k = 0; k < IVSHMEM_MAX_VECTORS; k++)
		v->vec[k] = (struct own_vector){ .fd = -1, .irqfd = -1 };
	int ret = pci_msix_init(dev, n, bar_idx);
	if (ret < 0) {
		free(v); /* pci_msix_init said why */
		return ret;
	}
	pci_msix_set_notifier(dev, on_msix_vector, v);
	*out = v;
	return 0;
}

void ivshmem_vectors_free(struct ivshmem_vectors *v)
{
	if (!v)
		return;
	pci_msix_set_notifier(v->dev, NULL, NULL);
	pthread_mutex_lock(v->lock);
	for (unsigned k = 0; k < v->n; k++)
		ivshmem_vectors_set_fd_locked(v, k, -1);
	pthread_mutex_unlock(v->lock);
	free(v);
}

uint64_t ivshmem_vectors_received_user(const struct ivshmem_vectors *v)
{
	return __atomic_load_n(&v->received_user, __ATOMIC_RELAXED);
}
