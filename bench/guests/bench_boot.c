/*
 * bench_boot: the guest for the start-up benchmark. Without arguments it exits at once; with
 * "touch" it finds the ivshmem device, maps BAR2 and writes one word into every 4 KiB page,
 * so the run includes faulting the whole region in.
 */
#include "guest.h"
#include "guest_ivshmem.h"

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	struct guest_ivshmem dev;

	(void)mbi;
	if (!cmdline_has(cmdline, "touch"))
		return 0;
	if (guest_ivshmem_open(&dev, -1))
		return 1;
	for (uint64_t off = 0; off < dev.size; off += 4096)
		*(volatile uint64_t *)guest_ivshmem_mem(&dev, off) = off;
	printf("bench_boot: touched %lu pages\n", dev.size >> 12);
	return 0;
}
