/*
 * What the files of the PCI core share and nothing else sees: the bus itself, the bookkeeping the
 * core keeps around every struct pci_dev, and the calls between pci_bus.c, pci_cfg.c, pci_bar.c
 * and pci_msix.c.
 */
#ifndef DM_PCI_PRIV_H
#define DM_PCI_PRIV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "pci.h"

#define PCI_SLOTS	32
#define PCI_FUNCS	8

/* Capabilities live after the standard header, dword aligned. */
#define PCI_CAP_START	0x40

/* Where a trapped BAR's io_range handler finds its device; must outlive the registration. */
struct pci_bar_trap {
	struct pci_dev *dev;
	int idx;
	char name[64];		/* io_range keeps a pointer to it: "00:05.0 ivshmem BAR0" */
};

/* An ioeventfd a device declared in one of its BARs (pci_ioeventfd.c). */
struct pci_ioeventfd {
	int idx;
	struct pci_bar_ioeventfd ev;
	bool bound;		/* given to the backend at bound_addr */
	uint64_t bound_addr;
};

/* Every device is allocated as one of these by pci_bus_add_device. */
struct pci_dev_node {
	struct pci_dev dev;
	struct pci_bar_trap traps[PCI_BAR_COUNT];
	unsigned cap_end;	/* first byte after the last capability; 0 before the first */
	struct pci_ioeventfd *ioevs;	/* guarded by the bus's ioev_lock */
	unsigned nioevs, ioevs_cap;
};

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;	/* serialises config accesses and the 0xCF8 address latch */
	struct pci_dev *devs[PCI_SLOTS][PCI_FUNCS];
	uint32_t cf8;		/* mechanism #1 address register */
	bool started;
	bool cfg_ports;		/* 0xCF8-0xCFF registered */

	/*
	 * Innermost lock: the ioeventfd lists and the decoded state of every BAR (mapped,
	 * mapped_addr) as they read it. Taken under the bus lock by decode changes, and without it
	 * by devices adding or removing ioeventfds from their own threads (with their own locks held).
	 */
	pthread_mutex_t ioev_lock;
	bool no_ioeventfds;	/* the backend has none: never ask again */
	struct log_ratelimit ioev_log;
	struct log_ratelimit refused_log;	/* RAM BARs moved onto something: a guest's choice */

	/* Bump allocators over the BAR windows of mem_layout.h. */
	uint64_t next_pio;
	uint64_t next_mem32;
	uint64_t next_mem64;
};

static inline struct pci_dev_node *pci_node_of(struct pci_dev *dev)
{
	return (struct pci_dev_node *)((char *)dev - offsetof(struct pci_dev_node, dev));
}

/* Sizes 1, 2, 4, naturally aligned, inside the 256-byte space. */
static inline bool pci_cfg_access_valid(unsigned reg, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && reg < PCI_CFG_SPACE_SIZE &&
	       reg % size == 0 && reg + size <= PCI_CFG_SPACE_SIZE;
}

static inline bool pci_ranges_overlap(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
	return a < b + blen && b < a + alen;
}

/* ---- pci_cfg.c ---- */

/* Header defaults of a fresh device: writable command bits, RW1C status bits, line register. */
void pci_cfg_init_header(struct pci_dev *dev);
/* A guest access already checked with pci_cfg_access_valid; called with the bus lock held. */
uint32_t pci_cfg_read(struct pci_dev *dev, unsigned reg, unsigned size);
void pci_cfg_write(struct pci_dev *dev, unsigned reg, unsigned size, uint32_t value);

/* ---- pci_bar.c ---- */

/* After a guest write touched [reg, reg+size) of the BAR registers: follow the new addresses. */
void pci_bars_written(struct pci_dev *dev, unsigned reg, unsigned size);
/* Brings every BAR's decode in line with the command register and its address. */
void pci_bars_sync(struct pci_dev *dev);
/* Firmware step: decodes every BAR; fails when one cannot be decoded where it was allocated. */
int pci_bars_start(struct pci_dev *dev) __attribute__((warn_unused_result));
/* Undecodes every BAR (unregister / unmap / unreserve, ioeventfds unbound). */
void pci_bars_stop(struct pci_dev *dev);
/* Takes back a BAR declared during init (an MSI-X set-up that failed half way). */
void pci_bar_forget(struct pci_dev *dev, int idx);

/* ---- pci_ioeventfd.c ---- */

/* BAR idx now decodes at mapped_addr / no longer decodes: bind / unbind its ioeventfds. */
void pci_ioeventfds_bind(struct pci_dev *dev, int idx);
void pci_ioeventfds_unbind(struct pci_dev *dev, int idx);
/* Unbinds and forgets every ioeventfd of the device (it is being destroyed). */
void pci_ioeventfds_free(struct pci_dev *dev);

/* ---- pci_msix.c ---- */

/* The BAR index holding the table and PBA, or -1 without MSI-X. */
int pci_msix_bar_index(const struct pci_dev *dev);

#endif
