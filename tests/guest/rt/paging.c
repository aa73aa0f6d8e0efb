#include "paging.h"

#include <stdbool.h>
#include <stddef.h>

#include "io.h"

#define PAGE_4K		0x1000ull
#define PAGE_2M		0x200000ull
#define ADDR_MASK	0x000ffffffffff000ull
#define POOL_PAGES	128

extern uint64_t boot_pml4[512];		/* entry.S */

static uint64_t pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned pool_used;

/* A zeroed page-table page (the pool lives in .bss, which entry.S zeroed). */
static uint64_t *table_alloc(void)
{
	return pool_used < POOL_PAGES ? pool[pool_used++] : NULL;
}

static uint64_t *table_of(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & ADDR_MASK);
}

/* The table the entry points to, allocated (present, writable) when it is empty. */
static uint64_t *next_table(uint64_t *entry)
{
	if (!(*entry & PTE_P)) {
		uint64_t *t = table_alloc();

		if (!t)
			return NULL;
		*entry = (uint64_t)(uintptr_t)t | PTE_P | PTE_RW;
	}
	return table_of(*entry);
}

/* The page directory covering addr, building the levels above it as needed. */
static uint64_t *pd_for(uint64_t addr)
{
	uint64_t *pdpt = next_table(&boot_pml4[(addr >> 39) & 511]);

	if (!pdpt)
		return NULL;
	uint64_t *pdpte = &pdpt[(addr >> 30) & 511];

	if (*pdpte & PTE_PS)	/* a 1 GiB page: we never make one */
		return NULL;
	return next_table(pdpte);
}

/* The page table under a PD entry, splitting a 2 MiB page into 512 equal 4 KiB ones. */
static uint64_t *pt_for(uint64_t *pde)
{
	if ((*pde & PTE_P) && !(*pde & PTE_PS))
		return table_of(*pde);

	uint64_t *pt = table_alloc();

	if (!pt)
		return NULL;
	if (*pde & PTE_P) {
		uint64_t base = *pde & ADDR_MASK & ~(PAGE_2M - 1);
		uint64_t flags = *pde & (PTE_P | PTE_RW | PTE_PWT | PTE_PCD);

		for (unsigned i = 0; i < 512; i++)
			pt[i] = (base + i * PAGE_4K) | flags;
	}
	*pde = (uint64_t)(uintptr_t)pt | PTE_P | PTE_RW;
	return pt;
}

unsigned phys_addr_bits(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000u, 0, &a, &b, &c, &d);
	if (a < 0x80000008u)
		return 36;
	cpuid(0x80000008u, 0, &a, &b, &c, &d);
	return a & 0xff;
}

static void flush_tlb(void)
{
	uint64_t cr3;

	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

int map_range(uint64_t phys, uint64_t len, enum map_type type)
{
	uint64_t attr = PTE_P | PTE_RW | (type == MAP_UC ? PTE_PCD | PTE_PWT : 0);
	uint64_t addr = phys & ~(PAGE_4K - 1), end = phys + len;
	int ret = 0;

	if (len == 0)
		return 0;
	if (end < phys || end > (1ull << phys_addr_bits()))
		return -1;
	while (addr < end) {
		uint64_t *pd = pd_for(addr);

		if (!pd) {
			ret = -1;
			break;
		}
		uint64_t *pde = &pd[(addr >> 21) & 511];

		if (!(addr & (PAGE_2M - 1)) && end - addr >= PAGE_2M) {
			/* A page table this replaces stays allocated: the pool is small, not tight. */
			*pde = addr | attr | PTE_PS;
			addr += PAGE_2M;
			continue;
		}
		uint64_t *pt = pt_for(pde);

		if (!pt) {
			ret = -1;
			break;
		}
		pt[(addr >> 12) & 511] = addr | attr;
		addr += PAGE_4K;
	}
	flush_tlb();
	return ret;
}

int paging_lookup(uint64_t addr, uint64_t *phys, uint64_t *flags)
{
	uint64_t e = boot_pml4[(addr >> 39) & 511];

	if (!(e & PTE_P))
		return -1;
	e = table_of(e)[(addr >> 30) & 511];
	if (!(e & PTE_P))
		return -1;
	if (e & PTE_PS) {
		*phys = (e & ADDR_MASK & ~((1ull << 30) - 1)) | (addr & ((1ull << 30) - 1));
		*flags = e & 0xfff;
		return 0;
	}
	e = table_of(e)[(addr >> 21) & 511];
	if (!(e & PTE_P))
		return -1;
	if (e & PTE_PS) {
		*phys = (e & ADDR_MASK & ~(PAGE_2M - 1)) | (addr & (PAGE_2M - 1));
		*flags = e & 0xfff;
		return 0;
	}
	e = table_of(e)[(addr >> 12) & 511];
	if (!(e & PTE_P))
		return -1;
	*phys = (e & ADDR_MASK) | (addr & (PAGE_4K - 1));
	*flags = e & 0xfff;
	return 0;
}
