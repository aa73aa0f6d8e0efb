/*
 * The guest loader against images built here, in memory: a Multiboot ELF32, a plain ELF64, an
 * a.out-kludge binary, and a long list of malformed files, each of which must give a clear error
 * (checked by substring) and never touch memory it should not (ASan watches).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "guest_load.h"
#include "log.h"
#include "mem_layout.h"
#include "vm_state.h"

#define RAM_SIZE	(8 * MiB)
#define SEG0_GPA	0x100000U
#define SEG1_GPA	0x200000U
#define SEG0_OFF	0x1000U
#define SEG0_FILESZ	0x100U
#define SEG1_OFF	(SEG0_OFF + SEG0_FILESZ)
#define SEG1_FILESZ	0x80U
#define SEG1_MEMSZ	0x2000U
#define ENTRY		(SEG0_GPA + 0x10)
#define IMG_SIZE	(SEG1_OFF + SEG1_FILESZ)
#define MB_MAGIC	0x1BADB002U
#define IMG_BUF		0x3000U

struct fixture {
	char dir[64];
	char path[128];
	struct vm vm;
	uint8_t img[IMG_BUF];
	size_t img_size;
	struct vcpu_boot_state boot;
	char err[256];
};

/* ---- helpers ---- */

static uint32_t rd32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void wr32(void *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint8_t *gpa(struct fixture *f, uint64_t addr)
{
	if (addr >= HIGHMEM_BASE)
		return (uint8_t *)f->vm.ram + f->vm.lowmem + (addr - HIGHMEM_BASE);
	return (uint8_t *)f->vm.ram + addr;
}

static void set_ram(struct fixture *f, uint64_t lowmem, uint64_t highmem)
{
	free(f->vm.ram);
	f->vm.lowmem = lowmem;
	f->vm.highmem = highmem;
	f->vm.ram = malloc(lowmem + highmem);
	assert_non_null(f->vm.ram);
	/* A pattern, so zeroed bss and untouched RAM can be told apart. */
	memset(f->vm.ram, 0xAA, lowmem + highmem);
}

static void put_mb_header(uint8_t *p, uint32_t flags)
{
	wr32(p, MB_MAGIC);
	wr32(p + 4, flags);
	wr32(p + 8, (uint32_t)-(MB_MAGIC + flags));
}

/*
 * A Multiboot ELF32: segment 0 (code, the Multiboot header at its start) at 1 MiB, segment 1
 * (data + bss) at 2 MiB. with_mb false leaves the header out.
 */
static void build_elf32(struct fixture *f, bool with_mb)
{
	Elf32_Ehdr eh = { 0 };
	Elf32_Phdr ph[2] = { 0 };

	memset(f->img, 0, sizeof(f->img));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_386;
	eh.e_version = EV_CURRENT;
	eh.e_entry = ENTRY;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf32_Phdr);
	eh.e_phnum = 2;
	ph[0] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = SEG0_OFF, .p_vaddr = SEG0_GPA,
			      .p_paddr = SEG0_GPA, .p_filesz = SEG0_FILESZ,
			      .p_memsz = SEG0_FILESZ, .p_flags = PF_R | PF_X };
	ph[1] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = SEG1_OFF, .p_vaddr = SEG1_GPA,
			      .p_paddr = SEG1_GPA, .p_filesz = SEG1_FILESZ,
			      .p_memsz = SEG1_MEMSZ, .p_flags = PF_R | PF_W };
	memcpy(f->img, &eh, sizeof(eh));
	memcpy(f->img + sizeof(eh), ph, sizeof(ph));
	for (unsigned i = 0; i < SEG0_FILESZ + SEG1_FILESZ; i++)
		f->img[SEG0_OFF + i] = (uint8_t)(i * 7 + 1);
	if (with_mb)
		put_mb_header(f->img + SEG0_OFF, 1U << 1);
	f->img_size = IMG_SIZE;
}

/* A plain ELF64 (no Multiboot header): one segment at `at` with a bss tail. */
static void build_elf64(struct fixture *f, uint64_t at)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };

	memset(f->img, 0, sizeof(f->img));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = at + 4;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = SEG0_OFF, .p_vaddr = at, .p_paddr = at,
			   .p_filesz = SEG0_FILESZ, .p_memsz = 0x3000, .p_flags = PF_R | PF_X };
	memcpy(f->img, &eh, sizeof(eh));
	memcpy(f->img + sizeof(eh), &ph, sizeof(ph));
	for (unsigned i = 0; i < SEG0_FILESZ; i++)
		f->img[SEG0_OFF + i] = (uint8_t)(0xC0 + i);
	f->img_size = SEG0_OFF + SEG0_FILESZ;
}

static Elf32_Ehdr *eh32(struct fixture *f)
{
	return (Elf32_Ehdr *)f->img;	/* img is a struct member: suitably aligned for these */
}

static Elf32_Phdr *ph32(struct fixture *f, unsigned i)
{
	return (Elf32_Phdr *)(f->img + sizeof(Elf32_Ehdr)) + i;
}

static void write_file(struct fixture *f, const void *data, size_t len)
{
	int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int load_img(struct fixture *f, const char *bootargs)
{
	write_file(f, f->img, f->img_size);
	memset(f->err, 0, sizeof(f->err));
	return guest_load(&f->vm, f->path, bootargs, &f->boot, f->err, sizeof(f->err));
}

/* The load fails and the reason names the file and contains `what`. */
static void expect_error(struct fixture *f, const char *path, const char *what)
{
	int r = guest_load(&f->vm, path, NULL, &f->boot, f->err, sizeof(f->err));

	if (r != -1 || !strstr(f->err, what) || strncmp(f->err, path, strlen(path)) != 0)
		fail_msg("expected an error with \"%s\", got %d: \"%s\"", what, r, f->err);
	assert_null(strchr(f->err, '\n'));
}

static void expect_img_error(struct fixture *f, const char *what)
{
	write_file(f, f->img, f->img_size);
	expect_error(f, f->path, what);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_guest_load.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/guest.elf", f->dir);
	set_ram(f, RAM_SIZE, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f->vm.ram);
	free(f);
	return 0;
}

/* ---- good images ---- */

static void check_mmap_entry(const uint8_t *e, uint64_t base, uint64_t len, uint32_t type)
{
	assert_int_equal(rd32(e), 20);
	assert_int_equal(rd64(e + 4), base);
	assert_int_equal(rd64(e + 12), len);
	assert_int_equal(rd32(e + 20), type);
}

static void test_multiboot_elf32(void **state)
{
	struct fixture *f = *state;
	const char *args = "console=ttyS0 ivshmem=on";

	build_elf32(f, true);
	assert_int_equal(load_img(f, args), 0);
	assert_string_equal(f->err, "");

	/* Segments copied, bss zeroed, nothing written past it. */
	assert_memory_equal(gpa(f, SEG0_GPA), f->img + SEG0_OFF, SEG0_FILESZ);
	assert_memory_equal(gpa(f, SEG1_GPA), f->img + SEG1_OFF, SEG1_FILESZ);
	for (unsigned i = SEG1_FILESZ; i < SEG1_MEMSZ; i++)
		assert_int_equal(*gpa(f, SEG1_GPA + i), 0);
	assert_int_equal(*gpa(f, SEG1_GPA + SEG1_MEMSZ), 0xAA);
	assert_int_equal(*gpa(f, SEG0_GPA + SEG0_FILESZ), 0xAA);

	/* Boot state. */
	struct vcpu_boot_state *b = &f->boot;
	assert_int_equal(b->mode, VCPU_START_PROTECTED32);
	assert_int_equal(b->rip, ENTRY);
	assert_int_equal(b->rax, 0x2BADB002);
	assert_true(b->rbx >= 0x1000 && b->rbx < 0x9FC00);
	assert_true(b->rsp > 0x1000 && b->rsp <= 0x9FC00 && b->rsp % 16 == 0);
	assert_int_equal(b->gdt_limit, 23);
	assert_int_equal(rd64(gpa(f, b->gdt_base + 8)), 0x00CF9A000000FFFFULL);
	assert_int_equal(rd64(gpa(f, b->gdt_base + 16)), 0x00CF92000000FFFFULL);

	/* The info block. */
	const uint8_t *mbi = gpa(f, b->rbx);
	assert_int_equal(rd32(mbi), (1U << 0) | (1U << 2) | (1U << 6) | (1U << 9));
	assert_int_equal(rd32(mbi + 4), 639);
	assert_int_equal(rd32(mbi + 8), (RAM_SIZE - MiB) / KiB);
	assert_string_equal((const char *)gpa(f, rd32(mbi + 16)), args);
	assert_string_equal((const char *)gpa(f, rd32(mbi + 64)), "acrn-dm");
	assert_int_equal(rd32(mbi + 20), 0); /* no modules */
	assert_int_equal(rd32(mbi + 44), 3 * 24);
	const uint8_t *mm = gpa(f, rd32(mbi + 48));
	check_mmap_entry(mm, 0, 0x9FC00, 1);
	check_mmap_entry(mm + 24, 0x9FC00, 0x100000 - 0x9FC00, 2);
	check_mmap_entry(mm + 48, 0x100000, RAM_SIZE - MiB, 1);

	/* Nothing the loader placed overlaps another: info, stack and GDT are disjoint. */
	uint64_t stack_lo = b->rsp - 16 * KiB;
	assert_true(b->gdt_base + 24 <= stack_lo || b->gdt_base >= b->rsp);
	assert_true(b->rbx + 120 <= stack_lo || b->rbx >= b->rsp);
}

static void test_multiboot_no_bootargs_highmem(void **state)
{
	struct fixture *f = *state;

	set_ram(f, 4 * MiB, 4 * MiB);
	build_elf32(f, true);
	assert_int_equal(load_img(f, NULL), 0);
	const uint8_t *mbi = gpa(f, f->boot.rbx);
	assert_int_equal(rd32(mbi), (1U << 0) | (1U << 6) | (1U << 9));
	assert_int_equal(rd32(mbi + 16), 0);
	assert_int_equal(rd32(mbi + 8), 3 * 1024);
	assert_int_equal(rd32(mbi + 44), 4 * 24);
	check_mmap_entry(gpa(f, rd32(mbi + 48)) + 72, HIGHMEM_BASE, 4 * MiB, 1);
}

/* A kernel linked high: e_entry is virtual and is translated through its segment's p_paddr. */
static void test_multiboot_virtual_entry(void **state)
{
	struct fixture *f = *state;

	build_elf32(f, true);
	ph32(f, 0)->p_vaddr = 0xC0100000U;
	eh32(f)->e_entry = 0xC0100020U;
	assert_int_equal(load_img(f, NULL), 0);
	assert_int_equal(f->boot.rip, SEG0_GPA + 0x20);
}

/* Flag bit 16: a flat binary placed where the header's address fields say. */
static void test_multiboot_aout_kludge(void **state)
{
	struct fixture *f = *state;
	uint8_t *h = f->img + 0x40;

	memset(f->img, 0x90, sizeof(f->img));
	put_mb_header(h, (1U << 16) | (1U << 1));
	wr32(h + 12, 0x300040);	/* header_addr: the file starts at load_addr */
	wr32(h + 16, 0x300000);	/* load_addr */
	wr32(h + 20, 0x300800);	/* load_end_addr */
	wr32(h + 24, 0x301000);	/* bss_end_addr */
	wr32(h + 28, 0x300060);	/* entry_addr */
	f->img_size = 0x1000;
	assert_int_equal(load_img(f, NULL), 0);
	assert_int_equal(f->boot.mode, VCPU_START_PROTECTED32);
	assert_int_equal(f->boot.rip, 0x300060);
	assert_memory_equal(gpa(f, 0x300000), f->img, 0x800);
	assert_int_equal(*gpa(f, 0x300800), 0);
	assert_int_equal(*gpa(f, 0x300fff), 0);
	assert_int_equal(*gpa(f, 0x301000), 0xAA);
}

static void test_elf64_long_mode(void **state)
{
	struct fixture *f = *state;

	build_elf64(f, SEG0_GPA);
	assert_int_equal(load_img(f, NULL), 0);
	struct vcpu_boot_state *b = &f->boot;
	assert_int_equal(b->mode, VCPU_START_LONG64);
	assert_int_equal(b->rip, SEG0_GPA + 4);
	assert_memory_equal(gpa(f, SEG0_GPA), f->img + SEG0_OFF, SEG0_FILESZ);
	assert_int_equal(*gpa(f, SEG0_GPA + 0x2fff), 0);
	assert_int_equal(b->gdt_limit, 23);
	assert_int_equal(rd64(gpa(f, b->gdt_base + 8)), 0x00AF9A000000FFFFULL);
	assert_int_equal(rd64(gpa(f, b->gdt_base + 16)), 0x00CF92000000FFFFULL);
	assert_true(b->rsp > 0x1000 && b->rsp <= 0x9FC00 && b->rsp % 16 == 0);

	/* Page tables: PML4 -> PDPT -> PDs of 2 MiB pages, identity, up to the 64-bit PCI window. */
	assert_true(b->cr3 >= 0x1000 && b->cr3 % 4096 == 0 && b->cr3 < 0x9FC00);
	uint64_t pml4e = rd64(gpa(f, b->cr3));
	assert_int_equal(pml4e & 0xfff, 0x3);
	assert_int_equal(rd64(gpa(f, b->cr3 + 8)), 0);
	uint64_t pdpt = pml4e & ~0xfffULL;
	uint64_t gib = (4 * GiB + PCI_MMIO64_SIZE) / GiB;	/* 68 with no high RAM */
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t e = rd64(gpa(f, pdpt + 8 * i));
		if (i >= gib) {
			assert_int_equal(e, 0);
			continue;
		}
		assert_int_equal(e & 0xfff, 0x3);
		uint64_t pd = e & ~0xfffULL;
		assert_true(pd < 0x9FC00);
		assert_int_equal(rd64(gpa(f, pd)), (i * GiB) | 0x83);
		assert_int_equal(rd64(gpa(f, pd + 8 * 511)), (i * GiB + 511 * 2 * MiB) | 0x83);
	}
	/* The tables, the GDT and the stack do not overlap. */
	uint64_t tables_end = b->cr3 + (2 + gib) * 4096;
	assert_true(b->gdt_base >= tables_end || b->gdt_base + 24 <= b->cr3);
	assert_true(b->rsp - 16 * KiB >= tables_end || b->rsp <= b->cr3);
}

static void test_elf64_in_high_ram(void **state)
{
	struct fixture *f = *state;

	set_ram(f, 4 * MiB, 4 * MiB);
	build_elf64(f, HIGHMEM_BASE + 0x10000);
	assert_int_equal(load_img(f, "ignored"), 0);
	assert_int_equal(f->boot.rip, HIGHMEM_BASE + 0x10004);
	assert_memory_equal(gpa(f, HIGHMEM_BASE + 0x10000), f->img + SEG0_OFF, SEG0_FILESZ);
}

/* The test guests: ELF64 code converted to elf32-i386 with a Multiboot header loads as ELF32. */
static void test_multiboot_elf64(void **state)
{
	struct fixture *f = *state;

	build_elf64(f, SEG0_GPA);
	put_mb_header(f->img + SEG0_OFF, 0);
	assert_int_equal(load_img(f, NULL), 0);
	assert_int_equal(f->boot.mode, VCPU_START_PROTECTED32);
	assert_int_equal(f->boot.rax, 0x2BADB002);
}

/* ---- bad files ---- */

static void test_bad_files(void **state)
{
	struct fixture *f = *state;

	write_file(f, "", 0);
	expect_error(f, f->path, "empty file");
	expect_error(f, f->dir, "is a directory");
	expect_error(f, "/nonexistent/guest.elf", "cannot open");
	expect_error(f, "/dev/null", "not a regular file");
}

static void test_bad_headers(void **state)
{
	struct fixture *f = *state;

	build_elf32(f, false);
	f->img_size = 30;
	expect_img_error(f, "truncated ELF32 header");

	f->img_size = 10;
	expect_img_error(f, "truncated ELF identification");

	build_elf32(f, false);
	f->img[1] = 'X';
	expect_img_error(f, "neither an ELF file nor a Multiboot image");

	build_elf32(f, true);
	f->img[1] = 'X';
	expect_img_error(f, "not ELF");

	build_elf32(f, true);
	f->img[EI_CLASS] = 3;
	expect_img_error(f, "unknown ELF class");

	build_elf32(f, true);
	f->img[EI_DATA] = ELFDATA2MSB;
	expect_img_error(f, "little-endian");

	build_elf32(f, true);
	eh32(f)->e_type = ET_DYN;
	expect_img_error(f, "not an executable");

	build_elf32(f, true);
	eh32(f)->e_machine = EM_ARM;
	expect_img_error(f, "expected i386");

	build_elf32(f, true);
	eh32(f)->e_phentsize = 40;
	expect_img_error(f, "program header entry size");

	build_elf32(f, true);
	eh32(f)->e_phnum = 0;
	expect_img_error(f, "no program headers");

	build_elf32(f, true);
	eh32(f)->e_phnum = 0xffff;
	expect_img_error(f, "too many program headers");

	build_elf32(f, true);
	eh32(f)->e_phnum = 200; /* allowed count, but the table runs past the file */
	expect_img_error(f, "run past the end of the file");

	build_elf32(f, true);
	eh32(f)->e_phoff = 0xfffffff0U;
	expect_img_error(f, "run past the end of the file");
}

static void test_bad_segments(void **state)
{
	struct fixture *f = *state;

	build_elf32(f, true);
	ph32(f, 1)->p_filesz = 0x100;
	expect_img_error(f, "beyond the end of the file");

	build_elf32(f, true);
	ph32(f, 1)->p_offset = 0xffffff00U;
	expect_img_error(f, "beyond the end of the file");

	build_elf32(f, true);
	ph32(f, 1)->p_paddr = 0x40000000U;	/* 1 GiB: the VM has 8 MiB */
	expect_img_error(f, "lies outside guest RAM");

	build_elf32(f, true);
	ph32(f, 1)->p_memsz = 0x10;
	expect_img_error(f, "exceeds memory size");

	build_elf32(f, true);
	ph32(f, 1)->p_paddr = 0xfffff000U;
	expect_img_error(f, "wraps around");

	build_elf32(f, true);
	ph32(f, 1)->p_paddr = SEG0_GPA + 0x80;
	expect_img_error(f, "overlap");

	build_elf32(f, true);
	ph32(f, 0)->p_type = PT_NOTE;
	ph32(f, 1)->p_type = PT_NOTE;
	expect_img_error(f, "no loadable segments");

	build_elf32(f, true);
	ph32(f, 1)->p_type = PT_INTERP;
	expect_img_error(f, "dynamically linked");

	build_elf32(f, true);
	eh32(f)->e_entry = 0x500000;
	expect_img_error(f, "entry point 0x500000 lies outside");

	/* A Multiboot image whose code lies above 4 GiB cannot be reached with paging off. */
	set_ram(f, 4 * MiB, 4 * MiB);
	build_elf64(f, HIGHMEM_BASE);
	put_mb_header(f->img + SEG0_OFF, 0);
	expect_img_error(f, "above 4 GiB");

	/* An image filling low memory leaves no room for the page tables. */
	set_ram(f, RAM_SIZE, 0);
	build_elf64(f, 0x1000);
	((Elf64_Phdr *)(f->img + sizeof(Elf64_Ehdr)))->p_memsz = 0x9e000;
	expect_img_error(f, "no room below 640 KiB");
}

static void test_bad_multiboot(void **state)
{
	struct fixture *f = *state;

	build_elf32(f, true);
	wr32(f->img + SEG0_OFF + 8, 0x12345678);
	expect_img_error(f, "bad checksum");

	build_elf32(f, true);
	put_mb_header(f->img + SEG0_OFF, 1U << 2);
	expect_img_error(f, "video mode");

	build_elf32(f, true);
	put_mb_header(f->img + SEG0_OFF, 1U << 5);
	expect_img_error(f, "unsupported features (flags 0x00000020)");

	build_elf32(f, false);	/* an ELF32 must say how it starts */
	expect_img_error(f, "needs a Multiboot header");

	/* The header sits beyond the first 8 KiB: as if absent. */
	build_elf32(f, false);
	put_mb_header(f->img + 0x2400, 1U << 1);
	f->img_size = 0x2500;
	expect_img_error(f, "needs a Multiboot header");

	/* a.out kludge fields that point outside the file or the image. */
	uint8_t *h = f->img + 0x40;
	const struct {
		uint32_t header, load, load_end, bss_end, entry;
		const char *what;
	} cases[] = {
		{ 0x300040, 0x300000, 0x302000, 0, 0x300060, "beyond the end of the file" },
		{ 0x300040, 0x200000, 0, 0, 0x300060, "before the start of the file" },
		{ 0x300040, 0x300000, 0x300000, 0, 0x300060, "not above load_addr" },
		{ 0x300040, 0x300000, 0x300800, 0x300400, 0x300060, "below the end" },
		{ 0x300040, 0x300000, 0, 0, 0x400000, "entry_addr" },
		{ 0xfffff840, 0xfffff800, 0, 0, 0xfffff860, "wraps around" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(f->img, 0x90, sizeof(f->img));
		put_mb_header(h, 1U << 16);
		wr32(h + 12, cases[i].header);
		wr32(h + 16, cases[i].load);
		wr32(h + 20, cases[i].load_end);
		wr32(h + 24, cases[i].bss_end);
		wr32(h + 28, cases[i].entry);
		f->img_size = 0x1000;
		expect_img_error(f, cases[i].what);
	}

	/* The header itself cut off by the end of the file. */
	memset(f->img, 0, sizeof(f->img));
	put_mb_header(f->img, 1U << 16);
	f->img_size = 16;
	expect_img_error(f, "cut off");

	char *long_args = malloc(5000);
	assert_non_null(long_args);
	memset(long_args, 'a', 4999);
	long_args[4999] = '\0';
	build_elf32(f, true);
	assert_int_equal(load_img(f, long_args), -1);
	assert_non_null(strstr(f->err, "boot arguments longer"));
	free(long_args);
}

/* Random corruption of a good image: any outcome but a crash or an error-less failure. */
static void test_random_corruption(void **state)
{
	struct fixture *f = *state;
	unsigned seed = 12345;

	for (int round = 0; round < 1500; round++) {
		if (round % 2)
			build_elf32(f, true);
		else
			build_elf64(f, SEG0_GPA);
		int flips = 1 + rand_r(&seed) % 4;
		for (int k = 0; k < flips; k++) {
			/* Mostly the headers, sometimes the Multiboot header. */
			size_t at = (rand_r(&seed) % 4) ? (size_t)rand_r(&seed) % 0x80
							: SEG0_OFF + (size_t)rand_r(&seed) % 12;
			f->img[at] = (uint8_t)rand_r(&seed);
		}
		int r = load_img(f, "x");
		if (r != 0) {
			assert_int_equal(r, -1);
			assert_true(strlen(f->err) > strlen(f->path));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_multiboot_elf32, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiboot_no_bootargs_highmem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiboot_virtual_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiboot_aout_kludge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf64_long_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf64_in_high_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiboot_elf64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_multiboot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_corruption, setup, teardown),
	};

	log_set_level(LOG_ERR);	/* the random corruption test would print thousands of lines */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
