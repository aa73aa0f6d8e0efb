/*
 * Devices the hypervisor emulates (ACRN_IOCTL_CREATE_VDEV / DESTROY_VDEV): hypervisor-land
 * ivshmem and the PCI vUART. The device model reserves the BDF and the BAR addresses in its own
 * PCI space and hands them over in a struct acrn_vdev filled as ACRN's device model does:
 *   id = vendor/device, slot = bus << 8 | dev << 3 | func,
 *   io_addr[i] = BAR i's address; a 64-bit BAR gives its low dword | 0x0c (64-bit, prefetchable)
 *   and its high dword in the next entry; io_size[i] = BAR i's size;
 *   args = "hv:/NAME" (ivshmem), or bytes as given (the vUART's index as a 32-bit number).
 * The hypervisor matches args against the scenario's region names (32 bytes with the NUL) for
 * this VM and the region size against io_size of the memory BAR.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm_hsm_priv.h"

#define IVSHMEM_VENDOR		0x1af4
#define IVSHMEM_DEVICE		0x1110
#define IVSHMEM_REG_SIZE	0x100u	/* BAR0 */
#define IVSHMEM_MSIX_SIZE	0x1000u	/* BAR1 */
#define IVSHMEM_SHM_BAR		2
#define HV_LAND_PREFIX		"hv:/"
#define HV_REGION_NAME_MAX	32	/* the hypervisor's name field, NUL included */
#define BAR_MEM64_PREFETCH	0x0cu

static bool is_ivshmem(const struct vmm_vdev *v)
{
	return v->vendor == IVSHMEM_VENDOR && v->device == IVSHMEM_DEVICE;
}

static bool fits32(uint64_t v)
{
	return v <= 0xFFFFFFFFull;
}

int hsm_vdev_to_acrn(const struct vmm_vdev *v, struct acrn_vdev *d)
{
	memset(d, 0, sizeof(*d));
	if (v->bus > 255 || v->dev > 31 || v->func > 7)
		return -EINVAL;
	d->id.fields.vendor = v->vendor;
	d->id.fields.device = v->device;
	d->slot = (__u64)(v->bus << 8 | v->dev << 3 | v->func);

	_Static_assert(ACRN_PCI_NUM_BARS == 6, "struct acrn_vdev has six BARs");
	for (unsigned i = 0; i < ACRN_PCI_NUM_BARS; i++) {
		if (!fits32(v->bar_size[i]))
			return -EINVAL;
		d->io_size[i] = (__u32)v->bar_size[i];
		if (v->bar_mem64[i]) {
			if (i + 1 >= ACRN_PCI_NUM_BARS)
				return -EINVAL;
			d->io_addr[i] = (__u32)(v->bar_addr[i] & ~0xFull) | BAR_MEM64_PREFETCH;
			d->io_addr[i + 1] = (__u32)(v->bar_addr[i] >> 32);
			i++;
			continue;
		}
		if (!fits32(v->bar_addr[i]))
			return -EINVAL;
		d->io_addr[i] = (__u32)v->bar_addr[i];
	}

	_Static_assert(sizeof(d->args) >= sizeof(v->args), "args must fit struct acrn_vdev");
	if (v->args_len) {
		if (v->args_len > sizeof(v->args) || is_ivshmem(v))
			return -EINVAL;
		memcpy(d->args, v->args, v->args_len);
		return 0;
	}
	size_t len = strnlen(v->args, sizeof(v->args));
	if (len == sizeof(v->args))
		return -ENAMETOOLONG;
	memcpy(d->args, v->args, len + 1);

	if (is_ivshmem(v)) {
		/* The register and MSI-X BARs have fixed sizes; ACRN's device model sends them. */
		if (!d->io_size[0])
			d->io_size[0] = IVSHMEM_REG_SIZE;
		if (!d->io_size[1])
			d->io_size[1] = IVSHMEM_MSIX_SIZE;
		if (!v->bar_mem64[IVSHMEM_SHM_BAR] || !v->bar_size[IVSHMEM_SHM_BAR])
			return -EINVAL;
		if (strncmp(v->args, HV_LAND_PREFIX, strlen(HV_LAND_PREFIX)) != 0)
			return -EINVAL;
		if (len >= HV_REGION_NAME_MAX)
			return -ENAMETOOLONG;
	}
	return 0;
}

static void describe(const struct vmm_vdev *v, char *buf, size_t len)
{
	if (v->args_len == 4)
		snprintf(buf, len, "%04x:%04x at %02x:%02x.%x, args %u", v->vendor, v->device,
			 v->bus, v->dev, v->func,
			 (unsigned)(uint8_t)v->args[0] | (unsigned)(uint8_t)v->args[1] << 8 |
			 (unsigned)(uint8_t)v->args[2] << 16 | (unsigned)(uint8_t)v->args[3] << 24);
	else if (is_ivshmem(v))
		snprintf(buf, len, "ivshmem %.40s, %llu MiB at %02x:%02x.%x", v->args,
			 (unsigned long long)(v->bar_size[IVSHMEM_SHM_BAR] >> 20), v->bus, v->dev,
			 v->func);
	else
		snprintf(buf, len, "%04x:%04x at %02x:%02x.%x", v->vendor, v->device, v->bus, v->dev,
			 v->func);
}

int hsm_create_vdev(struct vmm *vmm, const struct vmm_vdev *vdev)
{
	struct hsm_vm *h = vmm ? vmm->priv : NULL;
	if (!h || !h->vm_created)
		return -ENODEV;
	if (!vdev)
		return -EINVAL;

	char what[160], buf[64];
	describe(vdev, what, sizeof(what));
	struct acrn_vdev dev;
	int ret = hsm_vdev_to_acrn(vdev, &dev);
	if (ret < 0) {
		pr_err(HSM_LOG, "%s: cannot hand %s to the hypervisor: %s", h->name, what,
		       ret == -ENAMETOOLONG ? "the region name is too long (hv:/NAME, NAME at most "
					      "27 bytes)" :
		       "the BDF, BARs or arguments do not fit struct acrn_vdev (hv-land ivshmem "
		       "needs \"hv:/NAME\" and a 64-bit BAR2 of the region's size)");
		return ret;
	}
	if (ioctl(h->fd, ACRN_IOCTL_CREATE_VDEV, &dev) >= 0) {
		pr_dbg(HSM_LOG, "%s: the hypervisor emulates %s", h->name, what);
		return 0;
	}
	int err = errno;
	if (err == EINVAL && is_ivshmem(vdev)) {
		pr_err(HSM_LOG, "%s: ACRN_IOCTL_CREATE_VDEV (%s): the hypervisor refused the device "
		       "(errno %d, EINVAL). Likely causes: the scenario has no IVSHMEM_REGION named "
		       "\"%s\" of %llu MB provided by the Hypervisor that lists this VM in "
		       "IVSHMEM_VMS; or the VM name \"%s\" on the acrn-dm command line differs from "
		       "the VM's name in the scenario (the hypervisor then runs it as a VM without "
		       "regions); or the hypervisor was built without ivshmem support",
		       h->name, what, err, vdev->args,
		       (unsigned long long)(vdev->bar_size[IVSHMEM_SHM_BAR] >> 20), h->name);
	} else {
		pr_err(HSM_LOG, "%s: ACRN_IOCTL_CREATE_VDEV (%s): %s (errno %d)%s", h->name, what,
		       hsm_strerror(err, buf, sizeof(buf)), err,
		       err == ENOTTY ? ": this HSM driver cannot create hypervisor-emulated devices; "
				       "a newer Service VM kernel is needed" : "");
	}
	return -err;
}

/* As ACRN's device model: the hypervisor finds the device by its BDF. */
int hsm_destroy_vdev(struct vmm *vmm, const struct vmm_vdev *vdev)
{
	struct hsm_vm *h = vmm ? vmm->priv : NULL;
	if (!h || !h->vm_created)
		return -ENODEV;
	if (!vdev || vdev->bus > 255 || vdev->dev > 31 || vdev->func > 7)
		return -EINVAL;
	struct acrn_vdev dev;
	memset(&dev, 0, sizeof(dev));
	dev.id.fields.vendor = vdev->vendor;
	dev.id.fields.device = vdev->device;
	dev.slot = (__u64)(vdev->bus << 8 | vdev->dev << 3 | vdev->func);
	char what[160];
	describe(vdev, what, sizeof(what));
	char ctx[176];
	snprintf(ctx, sizeof(ctx), "(%s)", what);
	return HSM_IOCTL(h, ACRN_IOCTL_DESTROY_VDEV, &dev, ctx);
}
