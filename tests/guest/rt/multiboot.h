/* The Multiboot v1 information block the loader hands over in EBX (spec section 3.3). */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include <stdint.h>

#define MB_BOOT_MAGIC	0x2BADB002u

/* Which fields of struct mb_info are valid. */
#define MB_INFO_MEM	(1u << 0)	/* mem_lower, mem_upper */
#define MB_INFO_CMDLINE	(1u << 2)
#define MB_INFO_MODS	(1u << 3)
#define MB_INFO_MMAP	(1u << 6)	/* mmap_length, mmap_addr */
#define MB_INFO_LOADER	(1u << 9)	/* boot_loader_name */

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower;		/* KiB below 1 MiB */
	uint32_t mem_upper;		/* KiB from 1 MiB up to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;		/* physical address of a NUL-terminated string */
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;		/* bytes */
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
} __attribute__((packed));

/* Entries are variable-sized: the next starts size + 4 bytes after this one. */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;			/* 1 = available RAM */
} __attribute__((packed));

#define MB_MMAP_RAM	1

/* Prints flags, memory sizes, the memory map and the loader name (one line each). */
void mb_dump(const struct mb_info *mbi);

#endif
