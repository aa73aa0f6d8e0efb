/* State shared by the ivshmem device's files (ivshmem.c, ivshmem_doorbell.c). */
#ifndef DM_IVSHMEM_PRIV_H
#define DM_IVSHMEM_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include "ivshmem_config.h"
#include "ivshmem_region.h"
#include "log.h"
#include "vmm.h"

struct pci_dev;
struct ivshmem_doorbell;

/* BAR layout, as QEMU's ivshmem and ACRN's. */
#define IVSHMEM_BAR_REGS	0
#define IVSHMEM_BAR_MSIX	1
#define IVSHMEM_BAR_SHM		2
#define IVSHMEM_REGS_SIZE	0x100	/* exactly 256 bytes: the Windows driver refuses others */

/* BAR0 registers. */
#define IVSHMEM_REG_INTR_MASK	0x00
#define IVSHMEM_REG_INTR_STATUS	0x04
#define IVSHMEM_REG_IV_POSITION	0x08
#define IVSHMEM_REG_DOORBELL	0x0c

struct ivshmem {
	struct pci_dev *dev;
	struct ivshmem_config cfg;
	struct ivshmem_region region;

	pthread_mutex_t lock;		/* the registers below */
	uint32_t intr_mask;
	uint32_t intr_status;

	struct ivshmem_doorbell *doorbell;	/* NULL for the plain device */

	struct vmm_vdev vdev;		/* hypervisor land */
	bool vdev_created;

	uint64_t dropped_doorbells;
	struct log_ratelimit drop_log;
};

/* ---- the doorbell device (ivshmem_doorbell.c) ---- */

/*
 * Connects to the server (starting one when none listens), receives the region and the peers'
 * eventfds, adds the MSI-X capability and BAR1. Fills iv->region from the server's fd.
 */
int ivshmem_doorbell_init(struct ivshmem *iv) __attribute__((warn_unused_result));
void ivshmem_doorbell_free(struct ivshmem *iv);
/* This VM's peer id (IVPosition). */
uint32_t ivshmem_doorbell_peer_id(struct ivshmem *iv);
/* A guest write to the Doorbell register (the slow path: the fast one is an ioeventfd). */
void ivshmem_doorbell_ring(struct ivshmem *iv, uint32_t value);

#endif
