/*
 * Interrupts and eventfd fast paths through the HSM: ACRN_IOCTL_INJECT_MSI,
 * ACRN_IOCTL_IOEVENTFD (guest MMIO writes signal an eventfd in the kernel) and ACRN_IOCTL_IRQFD
 * (signalling an eventfd injects an MSI).
 *
 * ACRN has no GSI routing: an irqfd is bound to its MSI message directly and identified by its
 * eventfd. The backend hands out handles into a small table (fd + message), and an update is a
 * deassign followed by an assign with the new message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm_hsm_priv.h"

static struct hsm_vm *hsm_running(struct vmm *vmm)
{
	struct hsm_vm *h = vmm ? vmm->priv : NULL;
	return h && h->vm_created ? h : NULL;
}

int hsm_send_msi(struct vmm *vmm, uint64_t addr, uint32_t data)
{
	struct hsm_vm *h = hsm_running(vmm);
	if (!h)
		return -ENODEV;
	struct acrn_msi_entry msi = { .msi_addr = addr, .msi_data = data };
	if (ioctl(h->fd, ACRN_IOCTL_INJECT_MSI, &msi) >= 0)
		return 0;
	int err = errno;
	char buf[64];
	/* A guest ringing doorbells can call this at will. */
	if (log_ratelimit_ok(&h->msi_rl, 5))
		pr_err(HSM_LOG, "%s: ACRN_IOCTL_INJECT_MSI (addr 0x%llx data 0x%x): %s (errno %d)",
		       h->name, (unsigned long long)addr, data, hsm_strerror(err, buf, sizeof(buf)),
		       err);
	return -err;
}

static int ioeventfd(struct vmm *vmm, const struct vmm_ioeventfd *ioev, bool deassign)
{
	struct hsm_vm *h = hsm_running(vmm);
	if (!h)
		return -ENODEV;
	if (!ioev || ioev->fd < 0 ||
	    (ioev->len != 1 && ioev->len != 2 && ioev->len != 4 && ioev->len != 8))
		return -EINVAL;
	struct acrn_ioeventfd args = {
		.fd = (__u32)ioev->fd,
		.flags = (ioev->datamatch ? ACRN_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (deassign ? ACRN_IOEVENTFD_FLAG_DEASSIGN : 0),
		.addr = ioev->addr,
		.len = ioev->len,
		.reserved = 0,
		.data = ioev->datamatch ? ioev->data : 0,
	};
	char what[96];
	snprintf(what, sizeof(what), "(%s fd %d at 0x%llx len %u)", deassign ? "deassign" : "assign",
		 ioev->fd, (unsigned long long)ioev->addr, ioev->len);
	return HSM_IOCTL(h, ACRN_IOCTL_IOEVENTFD, &args, what);
}

int hsm_ioeventfd_add(struct vmm *vmm, const struct vmm_ioeventfd *ioev)
{
	return ioeventfd(vmm, ioev, false);
}

int hsm_ioeventfd_del(struct vmm *vmm, const struct vmm_ioeventfd *ioev)
{
	return ioeventfd(vmm, ioev, true);
}

static int irqfd_ioctl(struct hsm_vm *h, int fd, uint64_t addr, uint32_t data, bool deassign)
{
	struct acrn_irqfd args = {
		.fd = fd,
		.flags = deassign ? ACRN_IRQFD_FLAG_DEASSIGN : 0,
		.msi = { .msi_addr = addr, .msi_data = data },
	};
	char what[96];
	snprintf(what, sizeof(what), "(%s fd %d, MSI 0x%llx/0x%x)", deassign ? "deassign" : "assign",
		 fd, (unsigned long long)addr, data);
	return HSM_IOCTL(h, ACRN_IOCTL_IRQFD, &args, what);
}

int hsm_irqfd_add(struct vmm *vmm, int fd, uint64_t addr, uint32_t data)
{
	struct hsm_vm *h = hsm_running(vmm);
	if (!h)
		return -ENODEV;
	if (fd < 0)
		return -EBADF;

	pthread_mutex_lock(&h->irqfd_lock);
	int handle = -1;
	for (int i = 0; i < HSM_MAX_IRQFDS; i++) {
		if (!h->irqfds[i].used) {
			handle = i;
			break;
		}
	}
	int ret;
	if (handle < 0) {
		pr_err(HSM_LOG, "%s: irqfd: all %d handles in use", h->name, HSM_MAX_IRQFDS);
		ret = -ENOSPC;
		goto out;
	}
	ret = irqfd_ioctl(h, fd, addr, data, false);
	if (ret < 0)
		goto out;
	h->irqfds[handle] = (struct hsm_irqfd){ .used = true, .fd = fd, .addr = addr, .data = data };
	ret = handle;
out:
	pthread_mutex_unlock(&h->irqfd_lock);
	return ret;
}

static struct hsm_irqfd *irqfd_get(struct hsm_vm *h, int handle)
{
	if (handle < 0 || handle >= HSM_MAX_IRQFDS || !h->irqfds[handle].used)
		return NULL;
	return &h->irqfds[handle];
}

int hsm_irqfd_update(struct vmm *vmm, int handle, uint64_t addr, uint32_t data)
{
	struct hsm_vm *h = hsm_running(vmm);
	if (!h)
		return -ENODEV;

	pthread_mutex_lock(&h->irqfd_lock);
	int ret = 0;
	struct hsm_irqfd *irqfd = irqfd_get(h, handle);
	if (!irqfd) {
		ret = -EINVAL;
		goto out;
	}
	if (irqfd->addr == addr && irqfd->data == data)
		goto out;
	ret = irqfd_ioctl(h, irqfd->fd, irqfd->addr, irqfd->data, true);
	if (ret < 0)
		goto out;
	ret = irqfd_ioctl(h, irqfd->fd, addr, data, false);
	if (ret < 0) {
		/* Put the old binding back so the handle keeps meaning what it meant. */
		if (irqfd_ioctl(h, irqfd->fd, irqfd->addr, irqfd->data, false) < 0) {
			pr_err(HSM_LOG, "%s: irqfd handle %d lost its binding", h->name, handle);
			irqfd->used = false;
		}
		goto out;
	}
	irqfd->addr = addr;
	irqfd->data = data;
out:
	pthread_mutex_unlock(&h->irqfd_lock);
	return ret;
}

int hsm_irqfd_del(struct vmm *vmm, int handle)
{
	struct hsm_vm *h = hsm_running(vmm);
	if (!h)
		return -ENODEV;

	pthread_mutex_lock(&h->irqfd_lock);
	int ret = -EINVAL;
	struct hsm_irqfd *irqfd = irqfd_get(h, handle);
	if (irqfd) {
		/* The handle is released either way: the HSM only fails for a dead eventfd or VM. */
		ret = irqfd_ioctl(h, irqfd->fd, irqfd->addr, irqfd->data, true);
		irqfd->used = false;
	}
	pthread_mutex_unlock(&h->irqfd_lock);
	return ret;
}
