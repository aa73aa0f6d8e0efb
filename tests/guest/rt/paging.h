/*
 * Identity mapping. entry.S maps the low 4 GiB with 2 MiB pages at boot: RAM write-back, the
 * PCI hole at 3..4 GiB (BARs, IOAPIC, LAPIC) uncached. map_range() maps any other physical
 * range on demand, e.g. an ivshmem BAR2 above 4 GiB, or changes the caching of one already
 * mapped (a RAM-like BAR2 inside the hole is worth mapping write-back). Page tables come from a
 * fixed pool in .bss; nothing is ever unmapped.
 */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include <stdint.h>

enum map_type {
	MAP_WB,		/* write-back: RAM and RAM-like BARs (ivshmem BAR2) */
	MAP_UC,		/* uncached: device registers */
};

/*
 * Identity-maps [phys, phys + len) rounded out to 4 KiB pages, using 2 MiB pages where a whole
 * aligned 2 MiB lies inside the range. Returns 0, or -1 when the range is beyond the CPU's
 * physical address width or the page-table pool (enough for 128 GiB in 2 MiB pages) runs out.
 */
int map_range(uint64_t phys, uint64_t len, enum map_type type);

/* The CPU's physical address width (CPUID 0x80000008), 36 if it does not say. */
unsigned phys_addr_bits(void);

/*
 * Walks the page tables for addr: 0 with the physical address and the leaf entry's flag bits
 * (present, PCD, PWT, PS...), or -1 when addr is not mapped. For tests of the mapping itself.
 */
int paging_lookup(uint64_t addr, uint64_t *phys, uint64_t *flags);

#define PTE_P	0x001ull
#define PTE_RW	0x002ull
#define PTE_PWT	0x008ull
#define PTE_PCD	0x010ull
#define PTE_PS	0x080ull

#endif
