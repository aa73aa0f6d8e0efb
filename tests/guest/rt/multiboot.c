#include "multiboot.h"

#include <stdint.h>

#include "print.h"

void mb_dump(const struct mb_info *mbi)
{
	printf("multiboot: info at %p flags 0x%x\n", (const void *)mbi, mbi->flags);
	if (mbi->flags & MB_INFO_MEM)
		printf("multiboot: mem_lower %u KiB mem_upper %u KiB\n", mbi->mem_lower,
		       mbi->mem_upper);
	if (mbi->flags & MB_INFO_MMAP) {
		uintptr_t p = mbi->mmap_addr, end = p + mbi->mmap_length;

		/* A broken size field must not walk us off into the weeds. */
		for (int n = 0; p + sizeof(struct mb_mmap_entry) <= end && n < 64; n++) {
			const struct mb_mmap_entry *e = (const void *)p;

			printf("multiboot: mmap 0x%016lx-0x%016lx type %u\n", e->addr,
			       e->addr + e->len - 1, e->type);
			if (e->size < 20)
				break;
			p += e->size + 4;
		}
	}
	if (mbi->flags & MB_INFO_LOADER)
		printf("multiboot: loader \"%s\"\n", (const char *)(uintptr_t)mbi->boot_loader_name);
}
