/*
 * ivshmem_guest: the ivshmem device from Linux user space inside a VM, through libpciaccess.
 *
 * libpciaccess reads /sys/bus/pci/devices/<bdf>/: "config" for the IDs (the subsystem ID is
 * ACRN's region id), "resource" for the BARs, and mmaps "resource0" (registers) and
 * "resource2" (shared memory, mapped uncached by the kernel).
 * That needs root and memory decode enabled (bind uio_pci_generic or vfio-pci, or write 1 to
 * the device's "enable" file); see samples/README.md.
 *
 * Not thread-safe: call from one thread (the library keeps libpciaccess's global state).
 */
#ifndef SAMPLES_LINUX_IVSHMEM_GUEST_H
#define SAMPLES_LINUX_IVSHMEM_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IVSHMEM_GUEST_VENDOR	0x1af4
#define IVSHMEM_GUEST_DEVICE	0x1110
#define IVSHMEM_GUEST_ANY	(-1)	/* any region id */
#define IVSHMEM_GUEST_ERRLEN	256

struct pci_device;

/* What a scan tells about one device. */
struct ivshmem_guest_info {
	char bdf[16];		/* "dddd:bb:dd.f", as in /sys/bus/pci/devices */
	uint16_t region_id;	/* PCI subsystem ID */
	uint16_t subvendor;	/* 0x8086 under acrn-dm and ACRN */
	uint64_t bar0_size;	/* registers */
	uint64_t bar2_size;	/* shared memory */
	bool doorbell;		/* BAR1 (MSI-X) present: the interrupt-capable variant */
};

/* An open device: BAR2 mapped, BAR0 mapped when the kernel let us (else regs is NULL). */
struct ivshmem_guest {
	struct ivshmem_guest_info info;
	struct pci_device *pci;
	void *mem;
	size_t size;
	volatile uint32_t *regs;
	size_t regs_size;
};

/*
 * Lists ivshmem devices (up to max into infos, which may be NULL when max is 0). Returns how
 * many there are, or a negative errno with a message in err (when libpciaccess cannot scan).
 */
int ivshmem_guest_scan(struct ivshmem_guest_info *infos, size_t max, char *err, size_t errlen);

/*
 * Opens the device at bdf (NULL: any) whose region id is region_id (IVSHMEM_GUEST_ANY: any).
 * Returns 0; -ENODEV when no device matches ("no ivshmem device found"); another negative
 * errno with a message in err.
 */
int ivshmem_guest_open(struct ivshmem_guest *g, const char *bdf, int region_id, char *err,
		       size_t errlen);
void ivshmem_guest_close(struct ivshmem_guest *g);

/* IVPosition (this VM's peer id on a doorbell device, 0 on the plain one), -1 without BAR0. */
int ivshmem_guest_ivposition(const struct ivshmem_guest *g);

/* Rings vector of peer: writes peer << 16 | vector to the Doorbell register. -ENODEV without BAR0. */
int ivshmem_guest_doorbell(const struct ivshmem_guest *g, uint16_t peer, uint16_t vector);

#endif
