/*
 * Finding and mapping an ivshmem device from a freestanding guest (tests/guest/rt): the demo's
 * and the benchmarks' common first step. acrn-dm assigns the BARs and enables decode before the
 * guest starts, as firmware would, so the guest uses BAR2 where it finds it (above 4 GiB) and
 * only has to map it.
 */
#ifndef SAMPLES_DEMO_GUEST_IVSHMEM_H
#define SAMPLES_DEMO_GUEST_IVSHMEM_H

#include <stdint.h>

#define IVSHMEM_VENDOR		0x1af4
#define IVSHMEM_DEVICE		0x1110
#define IVSHMEM_REG_IVPOSITION	0x08
#define IVSHMEM_REG_DOORBELL	0x0c

struct guest_ivshmem {
	uint16_t bdf;
	uint16_t region_id;	/* the PCI subsystem ID */
	uint64_t bar0;		/* registers (uncached, in the PCI hole) */
	uint64_t bar2;		/* shared memory, identity-mapped write-back */
	uint64_t size;
	unsigned vectors;	/* MSI-X vectors set up by guest_ivshmem_doorbells (0: none) */
};

/*
 * Finds the ivshmem device whose region id (subsystem ID) is region_id, or the first one when
 * region_id < 0, enables memory decode and maps BAR2 write-back. 0, or -1 with a message
 * printed on the serial port.
 */
int guest_ivshmem_open(struct guest_ivshmem *d, int region_id);

/* The pointer to shared memory at offset off. */
static inline void *guest_ivshmem_mem(const struct guest_ivshmem *d, uint64_t off)
{
	return (void *)(uintptr_t)(d->bar2 + off);
}

/*
 * The doorbell variant (BAR1, MSI-X): points every MSI-X vector at this vCPU's LAPIC vector
 * `vector` and enables MSI-X and bus mastering, so a peer's doorbell ends wait_irq(). Returns
 * the number of vectors (also in d->vectors), 0 for the plain device.
 */
unsigned guest_ivshmem_doorbells(struct guest_ivshmem *d, uint8_t vector);

/* IVPosition: this VM's peer id on a doorbell device, 0 on the plain device. */
uint32_t guest_ivshmem_ivposition(const struct guest_ivshmem *d);

/* Rings vector of peer (a no-op for the plain device, which has no peers). */
void guest_ivshmem_doorbell(const struct guest_ivshmem *d, uint16_t peer, uint16_t vector);

/* The region id from "region_id=N" on the command line, or fallback. */
int guest_ivshmem_cmdline_region(const char *cmdline, int fallback);

#endif
