/*
 * The ivshmem PCI device: inter-VM shared memory, compatible with ACRN's device-model-land device
 * and QEMU's ivshmem-plain / ivshmem-doorbell.
 *
 *   -s <slot>,ivshmem,dm:/NAME,SIZE_MB[,REGION_ID][,key=value...]
 *   -s <slot>,ivshmem,hv:/NAME,SIZE_MB[,REGION_ID]
 *
 * Config space: vendor 0x1af4, device 0x1110, class 05/00 (RAM memory), revision 1, subsystem
 * vendor 0x8086, subsystem ID = REGION_ID.
 *   BAR0  256-byte 32-bit memory BAR: IntrMask, IntrStatus, IVPosition, Doorbell.
 *   BAR1  MSI-X table and PBA: only the doorbell device (vectors=N) has it, as QEMU's
 *         ivshmem-doorbell; a BAR1 without an MSI-X capability breaks Zephyr and Windows drivers.
 *   BAR2  the shared memory, 64-bit prefetchable: a RAM BAR backed by the region, which the PCI
 *         core maps while memory decode is on and remaps wherever the guest moves it.
 *
 * Hypervisor land: the hypervisor emulates the whole device. This process only reserves the slot
 * and the BAR addresses and hands them to the hypervisor (ACRN's CREATE_VDEV).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivshmem_priv.h"
#include "log.h"
#include "pci.h"
#include "vm.h"

#define IVSHMEM_VENDOR		0x1af4
#define IVSHMEM_DEVICE		0x1110
#define IVSHMEM_CLASS_MEMORY	0x05
#define IVSHMEM_SUBCLASS_RAM	0x00
#define IVSHMEM_REVISION	1
#define IVSHMEM_SUBVENDOR	0x8086	/* ACRN's */

/* ---- BAR0: the registers ---- */

/*
 * Only aligned 32-bit accesses to the registers do anything, as on ACRN's hypervisor-land device
 * and QEMU's. Any other access (another width, misaligned, beyond 0x0F) reads 0 and its writes are
 * ignored: a defined result that never stops the VM.
 */
static int ivshmem_regs_read(struct ivshmem *iv, uint64_t off, unsigned size, uint64_t *value)
{
	*value = 0;
	if (size != 4 || (off & 3))
		return 0;
	pthread_mutex_lock(&iv->lock);
	switch (off) {
	case IVSHMEM_REG_INTR_MASK:
		*value = iv->intr_mask;
		break;
	case IVSHMEM_REG_INTR_STATUS:
		/* Cleared by a read, as the spec says. */
		*value = iv->intr_status;
		iv->intr_status = 0;
		break;
	case IVSHMEM_REG_IV_POSITION:
		/* 0 for the plain device (the spec's "not set up for interrupts"). */
		*value = iv->doorbell ? ivshmem_doorbell_peer_id(iv) : 0;
		break;
	default:
		break; /* Doorbell is write-only; 0x10..0xFF reserved */
	}
	pthread_mutex_unlock(&iv->lock);
	return 0;
}

static int ivshmem_regs_write(struct ivshmem *iv, uint64_t off, unsigned size, uint64_t value)
{
	if (size != 4 || (off & 3))
		return 0;
	uint32_t v = (uint32_t)value;
	switch (off) {
	case IVSHMEM_REG_INTR_MASK:
		pthread_mutex_lock(&iv->lock);
		iv->intr_mask = v;
		pthread_mutex_unlock(&iv->lock);
		break;
	case IVSHMEM_REG_INTR_STATUS:
		pthread_mutex_lock(&iv->lock);
		iv->intr_status = v;
		pthread_mutex_unlock(&iv->lock);
		break;
	case IVSHMEM_REG_DOORBELL:
		if (iv->doorbell) {
			ivshmem_doorbell_ring(iv, v);
		} else {
			__atomic_add_fetch(&iv->dropped_doorbells, 1, __ATOMIC_RELAXED);
			if (log_ratelimit_ok(&iv->drop_log, 5))
				pr_dbg("ivshmem", "%s: doorbell 0x%08x ignored: the plain device has no "
				       "interrupts (add vectors=N)", iv->dev->name, v);
		}
		break;
	default:
		break; /* IVPosition is read-only; reserved space ignores writes */
	}
	return 0;
}

static int ivshmem_bar_read(struct pci_dev *dev, int idx, uint64_t off, unsigned size,
			    uint64_t *value)
{
	if (idx != IVSHMEM_BAR_REGS) {
		*value = 0;
		return 0;
	}
	return ivshmem_regs_read(dev->priv, off, size, value);
}

static int ivshmem_bar_write(struct pci_dev *dev, int idx, uint64_t off, unsigned size,
			     uint64_t value)
{
	if (idx != IVSHMEM_BAR_REGS)
		return 0;
	return ivshmem_regs_write(dev->priv, off, size, value);
}

/* ---- set-up ---- */

static void ivshmem_set_config_space(struct ivshmem *iv)
{
	struct pci_dev *dev = iv->dev;
	pci_set_ids(dev, IVSHMEM_VENDOR, IVSHMEM_DEVICE, IVSHMEM_CLASS_MEMORY, IVSHMEM_SUBCLASS_RAM,
		    0, IVSHMEM_REVISION);
	pci_set_cfg16(dev, PCIR_SUBVEND, IVSHMEM_SUBVENDOR);
	pci_set_cfg16(dev, PCIR_SUBDEV, iv->cfg.region_id);
	/* The doorbell device has INTA# as QEMU's; its interrupts are MSI-X only. */
	pci_set_cfg8(dev, PCIR_INTPIN, iv->cfg.vectors ? 1 : 0);
}

static int ivshmem_open_region(struct ivshmem *iv)
{
	const struct ivshmem_region_opts opts = {
		.backend = iv->cfg.backend,
		.name = iv->cfg.name,
		.size = iv->cfg.size,
		.hugetlbfs_dir = iv->cfg.hugetlbfs_dir[0] ? iv->cfg.hugetlbfs_dir : NULL,
		.memfd_hugetlb = iv->cfg.memfd_hugetlb,
	};
	struct ivshmem_error err = { { 0 } };
	int ret = ivshmem_region_open(&iv->region, &opts, &err);
	if (ret < 0) {
		pr_err("ivshmem", "%s: dm:/%s: %s", iv->dev->name, iv->cfg.name, err.msg);
		return ret;
	}
	pr_info("ivshmem", "%s: dm:/%s: %llu MiB at %s (%s)", iv->dev->name, iv->cfg.name,
		(unsigned long long)(iv->region.size >> 20), iv->region.path,
		iv->region.created ? "created" : "existing");
	return 0;
}

static int ivshmem_add_bars(struct ivshmem *iv)
{
	struct pci_dev *dev = iv->dev;
	int ret = pci_add_bar(dev, IVSHMEM_BAR_REGS, PCI_BAR_MEM32, IVSHMEM_REGS_SIZE, false,
			      false);
	if (ret == 0)
		ret = pci_add_bar(dev, IVSHMEM_BAR_SHM, PCI_BAR_MEM64, iv->cfg.size, true, true);
	return ret; /* pci_add_bar said which BAR found no room */
}

/*
 * Hypervisor land: reserve the BARs here, and let the hypervisor emulate the device there. BAR1
 * and BAR2 are RAM BARs without memory: the PCI core only reserves their ranges.
 */
static int ivshmem_hand_to_hypervisor(struct ivshmem *iv)
{
	struct pci_dev *dev = iv->dev;
	int ret = pci_add_bar(dev, IVSHMEM_BAR_MSIX, PCI_BAR_MEM32, 0x1000, false, true);
	if (ret < 0)
		return ret;
	struct vmm_vdev *vdev = &iv->vdev;
	memset(vdev, 0, sizeof(*vdev));
	vdev->vendor = IVSHMEM_VENDOR;
	vdev->device = IVSHMEM_DEVICE;
	vdev->bus = dev->busno;
	vdev->dev = dev->slot;
	vdev->func = dev->func;
	for (int i = 0; i <= IVSHMEM_BAR_SHM; i++) {
		vdev->bar_addr[i] = dev->bars[i].addr;
		vdev->bar_size[i] = dev->bars[i].size;
	}
	vdev->bar_mem64[IVSHMEM_BAR_SHM] = true;
	ivshmem_config_label(&iv->cfg, vdev->args, sizeof(vdev->args));

	ret = vm_create_vdev(dev->vm, vdev);
	if (ret == -ENOTSUP) {
		pr_err("ivshmem", "%s: %s: hypervisor-land ivshmem needs the ACRN hypervisor (this VM "
		       "runs on %s); use dm:/%s for a region this device model provides",
		       dev->name, vdev->args, vm_backend_name(dev->vm),
		       iv->cfg.name);
		return ret;
	}
	if (ret < 0)
		return ret; /* the backend said why its hypervisor refused the device */
	iv->vdev_created = true;
	return 0;
}

static void ivshmem_free(struct ivshmem *iv)
{
	if (iv->vdev_created)
		vm_destroy_vdev(iv->dev->vm, &iv->vdev);
	ivshmem_doorbell_free(iv);
	/* Closing never unlinks: the region outlives this process, as in ACRN. */
	ivshmem_region_close(&iv->region);
	pthread_mutex_destroy(&iv->lock);
	free(iv);
}

static int ivshmem_init(struct vm *vm, struct pci_dev *dev, const char *opts)
{
	(void)vm;
	struct ivshmem *iv = calloc(1, sizeof(*iv));
	if (!iv) {
		pr_err("ivshmem", "%s: out of memory", dev->name);
		return -ENOMEM;
	}
	iv->dev = dev;
	pthread_mutex_init(&iv->lock, NULL);
	dev->priv = iv;

	char err[256];
	int ret = ivshmem_parse_config(opts, &iv->cfg, err, sizeof(err));
	if (ret < 0) {
		pr_err("ivshmem", "%s: %s", dev->name, err);
		goto fail;
	}
	ivshmem_set_config_space(iv);
	ret = ivshmem_add_bars(iv);
	if (ret < 0)
		goto fail;

	if (iv->cfg.land == IVSHMEM_HV_LAND)
		ret = ivshmem_hand_to_hypervisor(iv);
	else if (iv->cfg.vectors)
		ret = ivshmem_doorbell_init(iv); /* the region comes from the server */
	else
		ret = ivshmem_open_region(iv);
	if (ret == 0 && iv->cfg.land == IVSHMEM_DM_LAND)
		ret = pci_set_bar_memory(dev, IVSHMEM_BAR_SHM, iv->region.addr);
	if (ret < 0)
		goto fail;
	return 0;
fail:
	ivshmem_free(iv);
	dev->priv = NULL;
	return ret;
}

static void ivshmem_deinit(struct vm *vm, struct pci_dev *dev)
{
	(void)vm;
	if (dev->priv)
		ivshmem_free(dev->priv);
	dev->priv = NULL;
}

static int ivshmem_check_config(const char *opts, char *err, size_t errlen)
{
	struct ivshmem_config cfg;
	return ivshmem_parse_config(opts, &cfg, err, errlen);
}

const struct pci_dev_ops pci_ivshmem_ops = {
	.emul = "ivshmem",
	.check_config = ivshmem_check_config,
	.init = ivshmem_init,
	.deinit = ivshmem_deinit,
	.bar_read = ivshmem_bar_read,
	.bar_write = ivshmem_bar_write,
};
