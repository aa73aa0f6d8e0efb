/*
 * Internals of the guest loader (guest_load.c drives; elf.c, multiboot.c and boot_mem.c each do
 * one step). The file is read into memory once; every step validates what it takes from it, and
 * nothing is written to guest RAM before all segments have been checked.
 */
#ifndef DM_LOADER_PRIV_H
#define DM_LOADER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm.h"

struct vm;

#define LOAD_MAX_SEGS	16

/* Bytes of the file to copy to gpa; [gpa + filesz, gpa + memsz) is zeroed (bss). */
struct load_seg {
	uint64_t file_off;
	uint64_t filesz;
	uint64_t gpa;
	uint64_t memsz;
};

/* A range of guest memory the loader itself uses (info block, page tables, stack). */
struct low_range {
	uint64_t start;
	uint64_t end;	/* exclusive */
};

#define LOAD_MAX_LOW	8

/* Multiboot v1 header as found in the file. */
struct mb_header {
	uint64_t file_off;
	uint32_t flags;
	/* Valid when flags bit 16 (the "a.out kludge") is set. */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct loader_ctx {
	struct vm *vm;
	const char *path;
	char *err;
	size_t errlen;

	const uint8_t *file;
	uint64_t size;

	bool is_elf;
	bool elf64;
	uint64_t entry;
	struct load_seg segs[LOAD_MAX_SEGS];
	unsigned nsegs;

	struct low_range low[LOAD_MAX_LOW];
	unsigned nlow;
};

/* Writes "<path>: <reason>" to the error buffer; always returns -1. */
int load_error(struct loader_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* elf.c: is the file an ELF at all (magic only)? */
bool elf_is_elf(const struct loader_ctx *c);
/* elf.c: validates the ELF headers and fills segs and entry. */
int elf_parse(struct loader_ctx *c) __attribute__((warn_unused_result));

/* multiboot.c: 1 and *h filled when a valid header is found, 0 when none, -1 on error. */
int mb_find_header(struct loader_ctx *c, struct mb_header *h)
	__attribute__((warn_unused_result));
/* multiboot.c: the flags the header requires are ones we honour. */
int mb_check_flags(struct loader_ctx *c, const struct mb_header *h)
	__attribute__((warn_unused_result));
/* multiboot.c: segments and entry from the header's address fields (flags bit 16). */
int mb_aout_segments(struct loader_ctx *c, const struct mb_header *h)
	__attribute__((warn_unused_result));
/* multiboot.c: writes the info block and fills the 32-bit protected mode start. */
int mb_prepare_boot(struct loader_ctx *c, const char *bootargs, struct vcpu_boot_state *boot)
	__attribute__((warn_unused_result));

/* boot_mem.c: checks the segments against guest RAM and each other, then copies them. */
int load_check_segments(struct loader_ctx *c) __attribute__((warn_unused_result));
void load_copy_segments(struct loader_ctx *c);
/* boot_mem.c: reserves len bytes of free RAM below 640 KiB; 0 when there is no room. */
uint64_t low_alloc(struct loader_ctx *c, uint64_t len, uint64_t align);
/* boot_mem.c: page tables, GDT and stack for a direct long mode start. */
int longmode_prepare_boot(struct loader_ctx *c, struct vcpu_boot_state *boot)
	__attribute__((warn_unused_result));
/* boot_mem.c: a GDT with a flat code (0x08, 64-bit when long) and data (0x10) segment. */
int boot_write_gdt(struct loader_ctx *c, bool long_mode, struct vcpu_boot_state *boot)
	__attribute__((warn_unused_result));
/* boot_mem.c: a 16 KiB stack in low memory; sets boot->rsp. */
int boot_alloc_stack(struct loader_ctx *c, struct vcpu_boot_state *boot)
	__attribute__((warn_unused_result));

/* Little-endian stores into guest memory (x86 guests; the host may be anything). */
static inline void put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(void *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t get_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

#endif
