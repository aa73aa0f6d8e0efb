/*
 * The -E image loader: guest_load() on the input as the file (an ELF32/ELF64, with or without a
 * Multiboot header, or a Multiboot a.out-kludge image), into a small guest whose RAM is one
 * malloc'd buffer (low and high part), so that ASan sees any write outside it.
 *
 * Properties: the loader never crashes, reads or writes out of bounds, or leaks; a refused image
 * has a message naming the file; an accepted one starts at an address in guest RAM, with what the
 * start mode needs (the Multiboot magic and info block, or page tables and a GDT) in RAM too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "guest_load.h"
#include "log.h"
#include "mem_layout.h"
#include "vm.h"
#include "vm_state.h"

#define FUZZ_LOWMEM	(4 * MiB)
#define FUZZ_HIGHMEM	(2 * MiB)

static struct vm vm;
static int image_fd = -1;
static char image_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERR);
	vm.lowmem = FUZZ_LOWMEM;
	vm.highmem = FUZZ_HIGHMEM;
	vm.ram = malloc(FUZZ_LOWMEM + FUZZ_HIGHMEM);
	/* The image is handed over by path, as -E does: a memfd, reopened through /proc. */
	image_fd = memfd_create("fuzz-image", MFD_CLOEXEC);
	if (!vm.ram || image_fd < 0)
		abort();
	snprintf(image_path, sizeof(image_path), "/proc/self/fd/%d", image_fd);
	return 0;
}

static bool in_ram(uint64_t gpa, uint64_t len)
{
	return vm_gpa_to_hva(&vm, gpa, len) != NULL;
}

static void write_image(const uint8_t *data, size_t size)
{
	if (ftruncate(image_fd, 0) < 0)
		abort();
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(image_fd, data + done, size - done, (off_t)done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vcpu_boot_state boot;
	char err[512];
	/* Half the inputs carry a Multiboot command line, so its placement is exercised too. */
	const char *bootargs = size & 1 ? "console=ttyS0 fuzz=1" : NULL;

	write_image(data, size);
	memset(err, 0x55, sizeof(err));
	int ret = guest_load(&vm, image_path, bootargs, &boot, err, sizeof(err));
	if (ret < 0) {
		FUZZ_CHECK(ret == -1, "result %d", ret);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) &&
				   strncmp(err, image_path, strlen(image_path)) == 0,
			   "message '%.*s' does not name the file", (int)sizeof(err), err);
		return 0;
	}
	FUZZ_CHECK(ret == 0, "result %d", ret);
	FUZZ_CHECK(in_ram(boot.rip, 1), "starts at 0x%llx, outside RAM",
		   (unsigned long long)boot.rip);
	FUZZ_CHECK(in_ram(boot.rsp - 1, 1), "stack at 0x%llx, outside RAM",
		   (unsigned long long)boot.rsp);
	switch (boot.mode) {
	case VCPU_START_PROTECTED32:
		FUZZ_CHECK(boot.rax == 0x2BADB002 && in_ram(boot.rbx, 120) && boot.rip <= UINT32_MAX,
			   "Multiboot start: eax 0x%llx, info at 0x%llx, eip 0x%llx",
			   (unsigned long long)boot.rax, (unsigned long long)boot.rbx,
			   (unsigned long long)boot.rip);
		break;
	case VCPU_START_LONG64:
		FUZZ_CHECK(in_ram(boot.cr3 & ~0xfffULL, 4096) && boot.gdt_limit >= 23 &&
				   in_ram(boot.gdt_base, (uint64_t)boot.gdt_limit + 1),
			   "long mode start: cr3 0x%llx, GDT 0x%llx+%u", (unsigned long long)boot.cr3,
			   (unsigned long long)boot.gdt_base, boot.gdt_limit);
		break;
	default:
		break;
	}
	return 0;
}
