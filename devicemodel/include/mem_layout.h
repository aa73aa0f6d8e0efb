/* The guest physical address map every backend and device agrees on. */
#ifndef DM_MEM_LAYOUT_H
#define DM_MEM_LAYOUT_H

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Guest RAM: [0, min(memsize, LOWMEM_LIMIT)) and the rest from HIGHMEM_BASE up. */
#define LOWMEM_LIMIT		0xC0000000ULL
#define HIGHMEM_BASE		0x100000000ULL

/* 32-bit PCI memory window: below the IOAPIC/LAPIC area at 0xFEC00000. */
#define PCI_MMIO32_BASE		0xC0000000ULL
#define PCI_MMIO32_LIMIT	0xFEC00000ULL	/* exclusive */

/*
 * 64-bit PCI memory window: 64 GiB starting at the first 4 GiB boundary above high RAM, so a
 * BAR2 always lies within a 40-bit physical address space (what small guests and the Windows
 * driver can reach), never far above the guest's physical-address limit.
 */
#define PCI_MMIO64_ALIGN	(4 * GiB)
#define PCI_MMIO64_SIZE		(64 * GiB)

/* Port I/O window for I/O BARs. */
#define PCI_PIO_BASE		0x2000ULL
#define PCI_PIO_LIMIT		0x10000ULL	/* exclusive */

/* Fixed ports and addresses. */
#define PCI_CONFIG_ADDR_PORT	0xCF8
#define PCI_CONFIG_DATA_PORT	0xCFC
#define COM1_PORT		0x3F8
#define COM2_PORT		0x2F8
#define DEBUGEXIT_PORT		0xF4
#define LAPIC_BASE		0xFEE00000ULL

#endif
