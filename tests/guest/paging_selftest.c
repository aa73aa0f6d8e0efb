/*
 * paging_selftest: checks the runtime's identity mapping: the boot map of the low 4 GiB,
 * map_range() above 4 GiB with 2 MiB and 4 KiB pages, caching changes that split a 2 MiB page
 * without disturbing its neighbours, and the limits (beyond the CPU's physical address width).
 *
 * With an ivshmem device present it also reads and writes the shared memory through BAR2 where
 * firmware put it and, with "bar2_high=ADDR" on the command line, after moving BAR2 there (the
 * case of acrn-dm's 64-bit window). "expect=TEXT" names what the host wrote at offset 0; the
 * guest writes "guest:<name>" at offset 4096 for the host to find.
 */
#include "guest.h"

#define GiB		(1ul << 30)
#define MiB		(1ul << 20)
#define PAGE_4K		0x1000ul
#define PAGE_2M		(2 * MiB)
#define GUEST_MARK_OFF	4096

static uint8_t scratch[2 * PAGE_4K] __attribute__((aligned(4096)));

/* addr must be identity-mapped, uncached or not, with a 2 MiB or a 4 KiB page. */
static void check_map(uint64_t addr, bool uncached, bool large)
{
	uint64_t phys, flags;

	CHECK(paging_lookup(addr, &phys, &flags) == 0, "0x%lx is not mapped", addr);
	CHECK(phys == addr, "0x%lx maps to 0x%lx", addr, phys);
	CHECK(!!(flags & PTE_PCD) == uncached && !!(flags & PTE_PWT) == uncached,
	      "0x%lx: flags 0x%lx, expected %s", addr, flags, uncached ? "uncached" : "write-back");
	CHECK(!!(flags & PTE_PS) == large, "0x%lx: flags 0x%lx, expected a %s page", addr, flags,
	      large ? "2 MiB" : "4 KiB");
}

static void test_boot_map(void)
{
	test_begin("paging/boot-map");
	check_map(0, false, true);
	check_map(0x100000, false, true);
	check_map(3 * GiB - 1, false, true);
	check_map(3 * GiB, true, true);
	check_map(0xfee00000, true, true);
	check_map(4 * GiB - 1, true, true);
	uint64_t phys, flags;

	CHECK(paging_lookup(4 * GiB, &phys, &flags) != 0, "4 GiB is mapped before anyone asked");
	printf("paging: %u physical address bits\n", phys_addr_bits());
	CHECK(phys_addr_bits() >= 36);
	test_pass();
}

static void test_map_high(void)
{
	unsigned bits = phys_addr_bits();
	/* Where acrn-dm's 64-bit BAR window may reach, if the CPU can address it. */
	uint64_t base = bits > 37 ? 64 * GiB : 8 * GiB;

	test_begin("paging/map-high");
	/* 4 KiB pages up to the next 2 MiB boundary, two 2 MiB pages, one more 4 KiB page. */
	CHECK(map_range(base + MiB + 0x123, 5 * MiB, MAP_UC) == 0);
	CHECK(paging_lookup(base + MiB - PAGE_4K, &(uint64_t){ 0 }, &(uint64_t){ 0 }) != 0,
	      "the page before the range got mapped");
	check_map(base + MiB, true, false);
	check_map(base + 2 * MiB - 1, true, false);
	check_map(base + 2 * MiB, true, true);
	check_map(base + 5 * MiB, true, true);
	check_map(base + 6 * MiB, true, false);
	CHECK(paging_lookup(base + 6 * MiB + PAGE_4K, &(uint64_t){ 0 }, &(uint64_t){ 0 }) != 0,
	      "the page after the range got mapped");

	/* The same range again, write-back now: entries are replaced in place. */
	CHECK(map_range(base + MiB, 6 * MiB, MAP_WB) == 0);
	check_map(base + MiB, false, false);
	check_map(base + 2 * MiB, false, true);

	/* Nothing beyond the physical address width, and no wrap-around. */
	CHECK(map_range(1ull << bits, PAGE_4K, MAP_WB) != 0, "mapped beyond %u address bits",
	      bits);
	CHECK(map_range(~0ull - PAGE_4K, 2 * PAGE_4K, MAP_WB) != 0, "a wrapping range mapped");
	printf("paging: mapped 0x%lx.. above 4 GiB\n", base + MiB);
	test_pass();
}

static void test_split(void)
{
	uint64_t a = (uint64_t)(uintptr_t)scratch;

	test_begin("paging/split");
	CHECK(map_range(a, PAGE_4K, MAP_UC) == 0);
	check_map(a, true, false);
	/* The rest of the 2 MiB page (our own code and stack may be in it) is unchanged. */
	check_map(a + PAGE_4K, false, false);
	check_map(a & ~(PAGE_2M - 1), false, false);
	scratch[0] = 0x5a;
	scratch[PAGE_4K] = 0xa5;
	CHECK(scratch[0] == 0x5a && scratch[PAGE_4K] == 0xa5);
	CHECK(map_range(a, PAGE_4K, MAP_WB) == 0);
	check_map(a, false, false);
	CHECK(scratch[0] == 0x5a);
	test_pass();
}

/* Reads what the host wrote, writes our mark: at BAR2's current address. */
static void touch_shared(uint64_t bar2, uint64_t size, const char *expect)
{
	size_t n = strlen(expect);
	char mark[32];

	CHECK(map_range(bar2, size, MAP_WB) == 0, "cannot map BAR2 at 0x%lx", bar2);
	if (n)
		CHECK(memcmp((const void *)(uintptr_t)bar2, expect, n) == 0,
		      "shared memory at 0x%lx does not start with \"%s\" (first bytes %02x %02x)",
		      bar2, expect, *(volatile uint8_t *)(uintptr_t)bar2,
		      *(volatile uint8_t *)(uintptr_t)(bar2 + 1));
	int len = snprintf(mark, sizeof(mark), "guest:%s", guest_name);

	memcpy((void *)(uintptr_t)(bar2 + GUEST_MARK_OFF), mark, (size_t)len + 1);
	CHECK(memcmp((const void *)(uintptr_t)(bar2 + GUEST_MARK_OFF), mark, (size_t)len) == 0);
}

static void test_ivshmem(const char *cmdline)
{
	char expect[64] = "";
	uint64_t high = 0;
	struct pci_bar bar2;
	uint16_t bdf;

	test_begin("paging/ivshmem-bar2");
	if (pci_find(0x1af4, 0x1110, 0, &bdf) != 0) {
		test_skip("no ivshmem device");
		return;
	}
	cmdline_get(cmdline, "expect", expect, sizeof(expect));
	CHECK(pci_bar_probe(bdf, 2, &bar2) == 2, "BAR2 is not a 64-bit BAR");
	CHECK(bar2.size >= PAGE_4K && bar2.addr, "BAR2 size 0x%lx at 0x%lx", bar2.size, bar2.addr);
	printf("paging: ivshmem %s BAR2 0x%lx size 0x%lx\n", pci_bdf_str(bdf), bar2.addr,
	       bar2.size);
	pci_cmd_update(bdf, PCI_CMD_MEM, 0);
	touch_shared(bar2.addr, bar2.size, expect);

	if (cmdline_get_u64(cmdline, "bar2_high", &high)) {
		CHECK(!(high & (bar2.size - 1)), "bar2_high=0x%lx is not aligned to 0x%lx", high,
		      bar2.size);
		printf("paging: moving BAR2 to 0x%lx\n", high);
		pci_bar_set(bdf, 2, high);
		CHECK_EQ(pci_bar_addr(bdf, 2), high);
		touch_shared(high, bar2.size, expect);
		pci_bar_set(bdf, 2, bar2.addr);
		CHECK_EQ(pci_bar_addr(bdf, 2), bar2.addr);
		touch_shared(bar2.addr, bar2.size, expect);
	}
	test_pass();
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	mb_dump(mbi);
	test_boot_map();
	test_map_high();
	test_split();
	test_ivshmem(cmdline);
	return 0;
}
