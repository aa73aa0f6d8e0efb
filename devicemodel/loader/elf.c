/*
 * ELF parsing for the guest loader: ELF32 (x86) and ELF64 (x86-64) executables, little-endian.
 * Only PT_LOAD segments matter; they are loaded at their physical address (p_paddr), as Multiboot
 * loaders do. Headers are copied out of the file buffer with memcpy (no alignment assumptions),
 * and every offset and size is checked against the file before use.
 */
#include <elf.h>
#include <string.h>

#include "loader_priv.h"

/* Enough for any sane program header table; a larger e_phnum is rejected. */
#define ELF_MAX_PHNUM	256

/* The fields we need, in one shape for both classes. */
struct elf_hdr {
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff;
	uint16_t phentsize, phnum;
};

struct elf_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

bool elf_is_elf(const struct loader_ctx *c)
{
	return c->size >= SELFMAG && memcmp(c->file, ELFMAG, SELFMAG) == 0;
}

static int read_ehdr(struct loader_ctx *c, struct elf_hdr *h)
{
	if (c->size < EI_NIDENT)
		return load_error(c, "truncated ELF identification (%llu bytes)",
				  (unsigned long long)c->size);
	if (c->file[EI_CLASS] != ELFCLASS32 && c->file[EI_CLASS] != ELFCLASS64)
		return load_error(c, "unknown ELF class %u", c->file[EI_CLASS]);
	if (c->file[EI_DATA] != ELFDATA2LSB)
		return load_error(c, "not a little-endian ELF (EI_DATA %u)", c->file[EI_DATA]);
	if (c->file[EI_VERSION] != EV_CURRENT)
		return load_error(c, "unknown ELF version %u", c->file[EI_VERSION]);

	c->elf64 = c->file[EI_CLASS] == ELFCLASS64;
	if (c->elf64) {
		Elf64_Ehdr e;

		if (c->size < sizeof(e))
			return load_error(c, "truncated ELF64 header (%llu of %zu bytes)",
					  (unsigned long long)c->size, sizeof(e));
		memcpy(&e, c->file, sizeof(e));
		*h = (struct elf_hdr){ e.e_type, e.e_machine, e.e_version, e.e_entry, e.e_phoff,
				       e.e_phentsize, e.e_phnum };
	} else {
		Elf32_Ehdr e;

		if (c->size < sizeof(e))
			return load_error(c, "truncated ELF32 header (%llu of %zu bytes)",
					  (unsigned long long)c->size, sizeof(e));
		memcpy(&e, c->file, sizeof(e));
		*h = (struct elf_hdr){ e.e_type, e.e_machine, e.e_version, e.e_entry, e.e_phoff,
				       e.e_phentsize, e.e_phnum };
	}
	return 0;
}

static int check_ehdr(struct loader_ctx *c, const struct elf_hdr *h)
{
	uint16_t machine = c->elf64 ? EM_X86_64 : EM_386;
	size_t phentsize = c->elf64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	if (h->type != ET_EXEC)
		return load_error(c, "not an executable ELF (e_type %u; ET_EXEC is %u)", h->type,
				  ET_EXEC);
	if (h->machine != machine)
		return load_error(c, "ELF%d for machine %u, expected %s", c->elf64 ? 64 : 32,
				  h->machine, c->elf64 ? "x86-64" : "i386");
	if (h->version != EV_CURRENT)
		return load_error(c, "unknown ELF e_version %u", h->version);
	if (h->phentsize != phentsize)
		return load_error(c, "program header entry size %u, expected %zu", h->phentsize,
				  phentsize);
	if (h->phnum == 0)
		return load_error(c, "no program headers");
	if (h->phnum == PN_XNUM || h->phnum > ELF_MAX_PHNUM)
		return load_error(c, "too many program headers (%u)", h->phnum);
	/* phnum * phentsize is at most 256 * 56: no overflow; phoff may be anything. */
	if (h->phoff > c->size || (uint64_t)h->phnum * phentsize > c->size - h->phoff)
		return load_error(c, "program headers (offset 0x%llx, %u entries) run past the end "
				  "of the file (%llu bytes)", (unsigned long long)h->phoff,
				  h->phnum, (unsigned long long)c->size);
	return 0;
}

static void read_phdr(const struct loader_ctx *c, uint64_t off, struct elf_phdr *p)
{
	if (c->elf64) {
		Elf64_Phdr e;

		memcpy(&e, c->file + off, sizeof(e));
		*p = (struct elf_phdr){ e.p_type, e.p_offset, e.p_vaddr, e.p_paddr, e.p_filesz,
					e.p_memsz };
	} else {
		Elf32_Phdr e;

		memcpy(&e, c->file + off, sizeof(e));
		*p = (struct elf_phdr){ e.p_type, e.p_offset, e.p_vaddr, e.p_paddr, e.p_filesz,
					e.p_memsz };
	}
}

static int add_segment(struct loader_ctx *c, unsigned idx, const struct elf_phdr *p)
{
	/* ELF32 addresses are 32 bits wide: a segment may not wrap past 4 GiB either. */
	uint64_t limit = c->elf64 ? UINT64_MAX : 0xffffffffULL;

	if (p->filesz > p->memsz)
		return load_error(c, "segment %u: file size 0x%llx exceeds memory size 0x%llx", idx,
				  (unsigned long long)p->filesz, (unsigned long long)p->memsz);
	if (p->offset > c->size || p->filesz > c->size - p->offset)
		return load_error(c, "segment %u: file bytes 0x%llx+0x%llx lie beyond the end of "
				  "the file (%llu bytes)", idx, (unsigned long long)p->offset,
				  (unsigned long long)p->filesz, (unsigned long long)c->size);
	if (p->memsz - 1 > limit - p->paddr)
		return load_error(c, "segment %u: address 0x%llx + size 0x%llx wraps around", idx,
				  (unsigned long long)p->paddr, (unsigned long long)p->memsz);
	if (c->nsegs == LOAD_MAX_SEGS)
		return load_error(c, "more than %d loadable segments", LOAD_MAX_SEGS);
	c->segs[c->nsegs++] = (struct load_seg){
		.file_off = p->offset, .filesz = p->filesz, .gpa = p->paddr, .memsz = p->memsz,
	};
	return 0;
}

/*
 * e_entry is a virtual address. Kernels linked to run high give physical load addresses in
 * p_paddr; such an entry is translated through the segment that contains it.
 */
static int resolve_entry(struct loader_ctx *c, uint64_t entry, const struct elf_phdr *ph,
			 unsigned nph)
{
	for (unsigned i = 0; i < c->nsegs; i++)
		if (entry - c->segs[i].gpa < c->segs[i].memsz) {
			c->entry = entry;
			return 0;
		}
	for (unsigned i = 0; i < nph; i++)
		if (ph[i].type == PT_LOAD && entry - ph[i].vaddr < ph[i].memsz) {
			c->entry = ph[i].paddr + (entry - ph[i].vaddr);
			return 0;
		}
	return load_error(c, "entry point 0x%llx lies outside the loaded segments",
			  (unsigned long long)entry);
}

int elf_parse(struct loader_ctx *c)
{
	struct elf_phdr ph[LOAD_MAX_SEGS];
	unsigned nload = 0;
	struct elf_hdr h = { 0 };
	size_t phentsize;

	if (read_ehdr(c, &h) < 0 || check_ehdr(c, &h) < 0)
		return -1;
	phentsize = c->elf64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	c->nsegs = 0;
	for (unsigned i = 0; i < h.phnum; i++) {
		struct elf_phdr p;

		read_phdr(c, h.phoff + (uint64_t)i * phentsize, &p);
		if (p.type == PT_DYNAMIC || p.type == PT_INTERP)
			return load_error(c, "dynamically linked executables are not supported");
		if (p.type != PT_LOAD || p.memsz == 0)
			continue;
		if (add_segment(c, i, &p) < 0)
			return -1;
		ph[nload++] = p;
	}
	if (c->nsegs == 0)
		return load_error(c, "no loadable segments");
	return resolve_entry(c, h.entry, ph, nload);
}
