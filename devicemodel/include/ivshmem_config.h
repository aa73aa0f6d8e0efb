/*
 * The ivshmem device's option string, everything after "-s <slot>,ivshmem,":
 *
 *   dm:/NAME,SIZE_MB[,REGION_ID][,key=value...]     device-model land (this process emulates it)
 *   hv:/NAME,SIZE_MB[,REGION_ID]                    hypervisor land (ACRN emulates it)
 *
 * Exactly ACRN's syntax for what ACRN accepts; the keys are this project's additions:
 *   mem=shm|hugetlbfs|memfd   where the memory comes from (default shm, as ACRN)
 *   hugetlbfs=DIR             the hugetlbfs mount (default: the first one in /proc/mounts);
 *                             an existing directory, absolute, stored canonicalised
 *   hugepages=on|off          memfd only: back it with huge pages
 *   large=on                  allow sizes above ACRN's 512 MB, up to IVSHMEM_LARGE_SIZE_MB
 *   vectors=N                 doorbell device: MSI-X with N (1..64, QEMU's limit) vectors,
 *                             peers through an ivshmem server
 *   server=PATH               the ivshmem server's socket (default: IVSHMEM_SERVER_DIR/NAME.sock);
 *                             absolute, in an existing directory, stored with that directory
 *                             canonicalised
 *   ioeventfd=on|off          doorbell writes signal the peer in the kernel (default on; QEMU's name)
 *   irqfd=on|off              received doorbells inject the MSI in the kernel (default on)
 */
#ifndef DM_IVSHMEM_CONFIG_H
#define DM_IVSHMEM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ivshmem_proto.h"
#include "ivshmem_region.h"

#define IVSHMEM_LARGE_SIZE_MB	32768u	/* 32 GiB: half the 64-bit PCI window */
#define IVSHMEM_SERVER_DIR	"/run/acrn-ivshmem"

enum ivshmem_land { IVSHMEM_DM_LAND, IVSHMEM_HV_LAND };

struct ivshmem_config {
	enum ivshmem_land land;
	char name[IVSHMEM_NAME_MAX + 1];
	uint64_t size;			/* bytes */
	uint16_t region_id;		/* the PCI subsystem ID */
	enum ivshmem_backend backend;	/* SHM, HUGETLBFS or MEMFD */
	char hugetlbfs_dir[256];	/* "" = find the mount */
	bool memfd_hugetlb;
	unsigned vectors;		/* 0: the plain device (no BAR1, no interrupts) */
	char server[108];		/* socket path (sun_path size); set when vectors > 0 */
	bool ioeventfd;			/* fast paths; off: the same behaviour through user space */
	bool irqfd;
};

/*
 * Parses and checks text. Returns 0, or -EINVAL with one line in err naming the field and the
 * rule ("size '3': must be a power of two between 2 and 512 MB").
 */
int ivshmem_parse_config(const char *text, struct ivshmem_config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* The "hv:/NAME" / "dm:/NAME" form, for logs and the hypervisor hand-off. */
void ivshmem_config_label(const struct ivshmem_config *cfg, char *buf, size_t len);

#endif
