/*
 * Guest memory work of the loader: checking and copying segments, and the structures the loader
 * itself places in low RAM (below the legacy hole at 639 KiB, never overlapping the image): the
 * Multiboot information, a stack, a GDT, and the identity-mapped page tables of a long mode start.
 */
#include <string.h>

#include "loader_priv.h"
#include "mem_layout.h"
#include "vm_state.h"

#define PAGE_SIZE	4096ULL
#define LOW_START	0x1000ULL	/* leave page 0 (real-mode IVT, null pointers) alone */
#define LOW_END		0x9FC00ULL	/* start of the EBDA / legacy hole */
#define STACK_SIZE	(16 * KiB)

/* Page table entry bits (Intel SDM vol. 3, 4.5). */
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)	/* in a PD entry: maps a 2 MiB page */
#define PAGE_2M		(2 * MiB)
#define ENTRIES		512
#define PDPT_REACH	(512 * GiB)	/* one PDPT maps this much */

/* GDT descriptors: flat 4 GiB, present, DPL 0, granularity 4 KiB. */
#define GDT_CODE64	0x00AF9A000000FFFFULL	/* L=1, D=0, execute/read */
#define GDT_CODE32	0x00CF9A000000FFFFULL	/* D=1, execute/read */
#define GDT_DATA	0x00CF92000000FFFFULL	/* read/write */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int load_check_segments(struct loader_ctx *c)
{
	for (unsigned i = 0; i < c->nsegs; i++) {
		const struct load_seg *s = &c->segs[i];

		if (!vm_gpa_to_hva(c->vm, s->gpa, s->memsz))
			return load_error(c, "segment %u at 0x%llx (0x%llx bytes) lies outside guest "
					  "RAM", i, (unsigned long long)s->gpa,
					  (unsigned long long)s->memsz);
		for (unsigned j = 0; j < i; j++)
			if (overlaps(s->gpa, s->memsz, c->segs[j].gpa, c->segs[j].memsz))
				return load_error(c, "segments %u and %u overlap in memory", j, i);
	}
	return 0;
}

void load_copy_segments(struct loader_ctx *c)
{
	for (unsigned i = 0; i < c->nsegs; i++) {
		const struct load_seg *s = &c->segs[i];
		/* Checked by load_check_segments: the whole range is RAM. */
		uint8_t *dst = vm_gpa_to_hva(c->vm, s->gpa, s->memsz);

		memcpy(dst, c->file + s->file_off, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
}

static bool low_free(const struct loader_ctx *c, uint64_t at, uint64_t len)
{
	for (unsigned i = 0; i < c->nsegs; i++)
		if (overlaps(at, len, c->segs[i].gpa, c->segs[i].memsz))
			return false;
	for (unsigned i = 0; i < c->nlow; i++)
		if (overlaps(at, len, c->low[i].start, c->low[i].end - c->low[i].start))
			return false;
	return true;
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* First fit: the lowest address that is the start of low RAM or just after something placed. */
uint64_t low_alloc(struct loader_ctx *c, uint64_t len, uint64_t align)
{
	uint64_t end = c->vm->lowmem < LOW_END ? c->vm->lowmem : LOW_END;
	uint64_t best = 0;

	if (c->nlow == LOAD_MAX_LOW || len == 0 || len > end)
		return 0;
	for (unsigned k = 0; k <= c->nsegs + c->nlow; k++) {
		uint64_t at;

		if (k == 0)
			at = LOW_START;
		else if (k <= c->nsegs)
			at = c->segs[k - 1].gpa + c->segs[k - 1].memsz;
		else
			at = c->low[k - 1 - c->nsegs].end;
		at = align_up(at, align);
		if (at < LOW_START || at > end - len || !low_free(c, at, len))
			continue;
		if (!best || at < best)
			best = at;
	}
	if (best)
		c->low[c->nlow++] = (struct low_range){ best, best + len };
	return best;
}

int boot_alloc_stack(struct loader_ctx *c, struct vcpu_boot_state *boot)
{
	uint64_t at = low_alloc(c, STACK_SIZE, 16);

	if (!at)
		return load_error(c, "no room below 640 KiB for the boot stack");
	boot->rsp = at + STACK_SIZE;
	return 0;
}

int boot_write_gdt(struct loader_ctx *c, bool long_mode, struct vcpu_boot_state *boot)
{
	const uint64_t gdt[3] = { 0, long_mode ? GDT_CODE64 : GDT_CODE32, GDT_DATA };
	uint64_t at = low_alloc(c, sizeof(gdt), 16);
	uint8_t *p;

	if (!at || !(p = vm_gpa_to_hva(c->vm, at, sizeof(gdt))))
		return load_error(c, "no room below 640 KiB for the GDT");
	for (unsigned i = 0; i < 3; i++)
		put_le64(p + 8 * i, gdt[i]);
	boot->gdt_base = at;
	boot->gdt_limit = sizeof(gdt) - 1;
	return 0;
}

/*
 * How much the identity map covers: at least 4 GiB, all of high RAM, and the 64-bit PCI window
 * above it (mem_layout.h), so a plain ELF64 guest can reach its devices' 64-bit BARs directly.
 */
static uint64_t map_top(const struct vm *vm, bool with_pci)
{
	uint64_t top = 4 * GiB;
	uint64_t ram_end = HIGHMEM_BASE + vm->highmem;

	if (vm->highmem && ram_end > top)
		top = ram_end;
	if (with_pci)
		top = align_up(ram_end, PCI_MMIO64_ALIGN) + PCI_MMIO64_SIZE;
	top = align_up(top, GiB);
	return top > PDPT_REACH ? PDPT_REACH : top;
}

/* PML4 -> one PDPT -> one PD per GiB of 2 MiB pages, all in one block of low RAM. */
static int write_page_tables(struct loader_ctx *c, struct vcpu_boot_state *boot)
{
	uint64_t top = map_top(c->vm, true);
	uint64_t npd = top / GiB;
	uint64_t at = low_alloc(c, (2 + npd) * PAGE_SIZE, PAGE_SIZE);

	if (!at) {
		/* Not enough room below 640 KiB for the PCI window too: map RAM only. */
		top = map_top(c->vm, false);
		npd = top / GiB;
		at = low_alloc(c, (2 + npd) * PAGE_SIZE, PAGE_SIZE);
	}
	uint8_t *p = at ? vm_gpa_to_hva(c->vm, at, (2 + npd) * PAGE_SIZE) : NULL;

	if (!p)
		return load_error(c, "no room below 640 KiB for the page tables");
	memset(p, 0, (2 + npd) * PAGE_SIZE);

	uint64_t pml4 = at, pdpt = at + PAGE_SIZE, pd0 = at + 2 * PAGE_SIZE;

	put_le64(p, pdpt | PTE_P | PTE_RW);
	for (uint64_t i = 0; i < npd; i++) {
		uint8_t *pd = p + (2 + i) * PAGE_SIZE;

		put_le64(p + PAGE_SIZE + 8 * i, (pd0 + i * PAGE_SIZE) | PTE_P | PTE_RW);
		for (uint64_t j = 0; j < ENTRIES; j++)
			put_le64(pd + 8 * j, (i * GiB + j * PAGE_2M) | PTE_P | PTE_RW | PTE_PS);
	}
	boot->cr3 = pml4;
	return 0;
}

int longmode_prepare_boot(struct loader_ctx *c, struct vcpu_boot_state *boot)
{
	boot->mode = VCPU_START_LONG64;
	boot->rip = c->entry;
	/* The entry lies in a segment, in RAM, so the identity map always covers it. */
	if (write_page_tables(c, boot) < 0 || boot_write_gdt(c, true, boot) < 0 ||
	    boot_alloc_stack(c, boot) < 0)
		return -1;
	return 0;
}
