/*
 * Multiboot v1 (the Multiboot Specification 0.6.96): finding the header, the "a.out kludge"
 * address fields, and the information block handed to the OS in EBX.
 */
#include <string.h>

#include "loader_priv.h"
#include "mem_layout.h"
#include "vm_state.h"

#define MB_HEADER_MAGIC		0x1BADB002U
#define MB_BOOTLOADER_MAGIC	0x2BADB002U
#define MB_SEARCH_LIMIT		8192	/* the header lies in the first 8 KiB, 4-byte aligned */
#define MB_HEADER_MIN		12	/* magic, flags, checksum */
#define MB_HEADER_AOUT		32	/* ... plus the five address fields */

/* Header flags. Bits 0-15 are requirements: a loader must refuse an image asking for more. */
#define MB_FLAG_PAGE_ALIGN	(1U << 0)	/* align modules: we load none, so always met */
#define MB_FLAG_MEMORY_INFO	(1U << 1)	/* mem_* and the memory map: provided */
#define MB_FLAG_VIDEO_MODE	(1U << 2)	/* a graphics mode: not provided */
#define MB_FLAG_AOUT_KLUDGE	(1U << 16)
#define MB_REQUIRED_MASK	0x0000ffffU
#define MB_SUPPORTED		(MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO)

/* Info block flags and field offsets. */
#define MBI_FLAG_MEM		(1U << 0)
#define MBI_FLAG_CMDLINE	(1U << 2)
#define MBI_FLAG_MMAP		(1U << 6)
#define MBI_FLAG_LOADER_NAME	(1U << 9)
#define MBI_OFF_FLAGS		0
#define MBI_OFF_MEM_LOWER	4
#define MBI_OFF_MEM_UPPER	8
#define MBI_OFF_CMDLINE		16
#define MBI_OFF_MMAP_LENGTH	44
#define MBI_OFF_MMAP_ADDR	48
#define MBI_OFF_LOADER_NAME	64
#define MBI_SIZE		120	/* 116 bytes of fields, rounded up to 8 */

/* Memory map entry: u32 size (of what follows), u64 base, u64 length, u32 type. */
#define MMAP_ENTRY_SIZE		24
#define MMAP_MAX_ENTRIES	4
#define MMAP_TYPE_RAM		1
#define MMAP_TYPE_RESERVED	2

#define LOADER_NAME		"acrn-dm"
#define BOOTARGS_MAX		4095
#define EBDA_START		0x9FC00ULL	/* the legacy hole, 639 KiB .. 1 MiB */
#define HOLE_END		0x100000ULL

int mb_find_header(struct loader_ctx *c, struct mb_header *h)
{
	uint64_t limit = c->size < MB_SEARCH_LIMIT ? c->size : MB_SEARCH_LIMIT;
	long bad_checksum_at = -1;

	for (uint64_t off = 0; off + MB_HEADER_MIN <= limit; off += 4) {
		const uint8_t *p = c->file + off;
		uint32_t magic = get_le32(p), flags = get_le32(p + 4), sum = get_le32(p + 8);

		if (magic != MB_HEADER_MAGIC)
			continue;
		if ((uint32_t)(magic + flags + sum) != 0) {
			/* Could be data that happens to match; keep looking for a real header. */
			if (bad_checksum_at < 0)
				bad_checksum_at = (long)off;
			continue;
		}
		memset(h, 0, sizeof(*h));
		h->file_off = off;
		h->flags = flags;
		if (flags & MB_FLAG_AOUT_KLUDGE) {
			if (off + MB_HEADER_AOUT > c->size)
				return load_error(c, "Multiboot header at 0x%llx is cut off by the end "
						  "of the file", (unsigned long long)off);
			h->header_addr = get_le32(p + 12);
			h->load_addr = get_le32(p + 16);
			h->load_end_addr = get_le32(p + 20);
			h->bss_end_addr = get_le32(p + 24);
			h->entry_addr = get_le32(p + 28);
		}
		return 1;
	}
	if (bad_checksum_at >= 0)
		return load_error(c, "Multiboot header at offset 0x%lx has a bad checksum",
				  bad_checksum_at);
	return 0;
}

int mb_check_flags(struct loader_ctx *c, const struct mb_header *h)
{
	uint32_t required = h->flags & MB_REQUIRED_MASK;

	if (required & MB_FLAG_VIDEO_MODE)
		return load_error(c, "the Multiboot header asks for a video mode (flag bit 2), "
				  "which acrn-dm does not provide");
	if (required & ~MB_SUPPORTED)
		return load_error(c, "the Multiboot header requires unsupported features "
				  "(flags 0x%08x)", required & ~MB_SUPPORTED);
	return 0;
}

/*
 * Bit 16: the header says where the image goes. The file is loaded from the offset that puts
 * the header at header_addr, up to load_end_addr (0: end of file), and zeroed up to bss_end_addr.
 */
int mb_aout_segments(struct loader_ctx *c, const struct mb_header *h)
{
	uint64_t delta, file_off, filesz, memsz;

	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > h->file_off)
		return load_error(c, "Multiboot load_addr 0x%x and header_addr 0x%x put the image "
				  "before the start of the file", h->load_addr, h->header_addr);
	delta = h->header_addr - h->load_addr;
	file_off = h->file_off - delta;
	if (h->load_end_addr == 0) {
		filesz = c->size - file_off;
	} else {
		if (h->load_end_addr <= h->load_addr)
			return load_error(c, "Multiboot load_end_addr 0x%x is not above load_addr "
					  "0x%x", h->load_end_addr, h->load_addr);
		filesz = (uint64_t)h->load_end_addr - h->load_addr;
		if (filesz > c->size - file_off)
			return load_error(c, "Multiboot load range 0x%x-0x%x lies beyond the end of "
					  "the file", h->load_addr, h->load_end_addr);
	}
	memsz = filesz;
	if (h->bss_end_addr != 0) {
		if ((uint64_t)h->bss_end_addr < h->load_addr + filesz)
			return load_error(c, "Multiboot bss_end_addr 0x%x lies below the end of the "
					  "loaded image", h->bss_end_addr);
		memsz = (uint64_t)h->bss_end_addr - h->load_addr;
	}
	if (memsz == 0)
		return load_error(c, "the Multiboot header describes an empty image");
	if (h->load_addr + memsz - 1 > 0xffffffffULL)
		return load_error(c, "Multiboot image 0x%x + 0x%llx wraps around 4 GiB",
				  h->load_addr, (unsigned long long)memsz);
	if ((uint64_t)h->entry_addr - h->load_addr >= memsz)
		return load_error(c, "Multiboot entry_addr 0x%x lies outside the image",
				  h->entry_addr);
	c->segs[0] = (struct load_seg){
		.file_off = file_off, .filesz = filesz, .gpa = h->load_addr, .memsz = memsz,
	};
	c->nsegs = 1;
	c->entry = h->entry_addr;
	return 0;
}

static unsigned put_mmap_entry(uint8_t *p, unsigned n, uint64_t base, uint64_t len,
			       uint32_t type)
{
	uint8_t *e = p + n * MMAP_ENTRY_SIZE;

	put_le32(e, MMAP_ENTRY_SIZE - 4);	/* size excludes the size field itself */
	put_le64(e + 4, base);
	put_le64(e + 12, len);
	put_le32(e + 20, type);
	return n + 1;
}

/* The guest's view of RAM: low RAM with the legacy hole carved out, then high RAM. */
static unsigned build_mmap(const struct vm *vm, uint8_t *p)
{
	uint64_t below_hole = vm->lowmem < EBDA_START ? vm->lowmem : EBDA_START;
	unsigned n = 0;

	if (below_hole)
		n = put_mmap_entry(p, n, 0, below_hole, MMAP_TYPE_RAM);
	n = put_mmap_entry(p, n, EBDA_START, HOLE_END - EBDA_START, MMAP_TYPE_RESERVED);
	if (vm->lowmem > HOLE_END)
		n = put_mmap_entry(p, n, HOLE_END, vm->lowmem - HOLE_END, MMAP_TYPE_RAM);
	if (vm->highmem)
		n = put_mmap_entry(p, n, HIGHMEM_BASE, vm->highmem, MMAP_TYPE_RAM);
	return n;
}

int mb_prepare_boot(struct loader_ctx *c, const char *bootargs, struct vcpu_boot_state *boot)
{
	size_t cmdlen = bootargs ? strlen(bootargs) + 1 : 0;
	uint64_t size, info, mmap_at, name_at, cmd_at;
	uint32_t flags = MBI_FLAG_MEM | MBI_FLAG_MMAP | MBI_FLAG_LOADER_NAME;
	uint8_t *p;

	/* Paging is off at entry: everything the OS is given must lie below 4 GiB. */
	for (unsigned i = 0; i < c->nsegs; i++)
		if (c->segs[i].gpa + c->segs[i].memsz > 0x100000000ULL)
			return load_error(c, "segment at 0x%llx lies above 4 GiB, out of reach of a "
					  "Multiboot (32-bit) start",
					  (unsigned long long)c->segs[i].gpa);
	if (cmdlen > BOOTARGS_MAX + 1)
		return load_error(c, "boot arguments longer than %d bytes", BOOTARGS_MAX);

	/* Layout: info, memory map, loader name, command line. */
	mmap_at = MBI_SIZE;
	name_at = mmap_at + MMAP_MAX_ENTRIES * MMAP_ENTRY_SIZE;
	cmd_at = name_at + sizeof(LOADER_NAME);
	size = cmd_at + cmdlen;
	info = low_alloc(c, size, 8);
	if (!info)
		return load_error(c, "no room below 640 KiB for the Multiboot information");
	p = vm_gpa_to_hva(c->vm, info, size);
	if (!p)
		return load_error(c, "Multiboot information at 0x%llx is not in RAM",
				  (unsigned long long)info);
	memset(p, 0, size);

	unsigned nmmap = build_mmap(c->vm, p + mmap_at);
	uint64_t lower = c->vm->lowmem < EBDA_START ? c->vm->lowmem : EBDA_START;
	uint64_t upper = c->vm->lowmem > HOLE_END ? c->vm->lowmem - HOLE_END : 0;

	put_le32(p + MBI_OFF_MEM_LOWER, (uint32_t)(lower / 1024));
	put_le32(p + MBI_OFF_MEM_UPPER, (uint32_t)(upper / 1024));
	put_le32(p + MBI_OFF_MMAP_LENGTH, nmmap * MMAP_ENTRY_SIZE);
	put_le32(p + MBI_OFF_MMAP_ADDR, (uint32_t)(info + mmap_at));
	memcpy(p + name_at, LOADER_NAME, sizeof(LOADER_NAME));
	put_le32(p + MBI_OFF_LOADER_NAME, (uint32_t)(info + name_at));
	if (bootargs) {
		memcpy(p + cmd_at, bootargs, cmdlen);
		put_le32(p + MBI_OFF_CMDLINE, (uint32_t)(info + cmd_at));
		flags |= MBI_FLAG_CMDLINE;
	}
	put_le32(p + MBI_OFF_FLAGS, flags);

	boot->mode = VCPU_START_PROTECTED32;
	boot->rip = c->entry;
	boot->rax = MB_BOOTLOADER_MAGIC;
	boot->rbx = info;
	/* The spec leaves ESP and GDTR undefined; a stack and a flat GDT cost little. */
	if (boot_alloc_stack(c, boot) < 0 || boot_write_gdt(c, false, boot) < 0)
		return -1;
	return 0;
}
