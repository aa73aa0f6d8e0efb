/*
 * pci_enum: enumerates the PCI bus and checks the config-space behaviour any sane PCI bus (and
 * so acrn-dm's) must show: mechanism #1 works at every access size, a host bridge sits at
 * 00:00.0, absent functions read all-ones, BARs size as powers of two and sit naturally
 * aligned without overlapping, and a 32-bit memory BAR can be moved and moved back.
 *
 * Command line (optional): "windows=acrn" also checks that BARs lie in acrn-dm's windows
 * (32-bit memory in 0xC0000000..0xFEC00000, 64-bit memory above 4 GiB, I/O in 0x2000..0xffff).
 */
#include "guest.h"

#define MAX_FNS		256
#define MAX_BARS	(MAX_FNS * 6)

#define MMIO32_BASE	0xc0000000ul
#define MMIO32_LIMIT	0xfec00000ul	/* exclusive: IOAPIC, LAPIC and the BIOS live above */

struct fn {
	uint16_t bdf;
	uint16_t vendor, device;
	uint8_t base_class, sub_class, prog_if, header;
};

struct bar {
	uint16_t bdf;
	int idx;
	struct pci_bar b;
};

static struct fn fns[MAX_FNS];
static int nfns;
static struct bar bars[MAX_BARS];
static int nbars;

static int collect(uint16_t bdf, void *ctx)
{
	(void)ctx;
	CHECK(nfns < MAX_FNS, "more than %d functions", MAX_FNS);
	struct fn *f = &fns[nfns++];

	f->bdf = bdf;
	f->vendor = pci_read16(bdf, PCI_VENDOR_ID);
	f->device = pci_read16(bdf, PCI_DEVICE_ID);
	f->prog_if = pci_read8(bdf, PCI_CLASS_PROG);
	f->sub_class = pci_read8(bdf, PCI_CLASS_SUB);
	f->base_class = pci_read8(bdf, PCI_CLASS_BASE);
	f->header = pci_read8(bdf, PCI_HEADER_TYPE);
	return 0;
}

static void test_config_mechanism(void)
{
	uint16_t hb = PCI_BDF(0, 0, 0);

	test_begin("pci_enum/config-mechanism");
	/* Linux's pci_check_type1() decides on this read-back before it uses mechanism #1. */
	outl(0xcf8, 0x80000000u);
	CHECK_EQ(inl(0xcf8), 0x80000000u);

	/* The same registers read at every access size agree (vendor/device, class/revision). */
	for (uint8_t off = 0; off <= 8; off += 8) {
		uint32_t d = pci_read32(hb, off);

		CHECK_EQ(pci_read16(hb, off), d & 0xffff);
		CHECK_EQ(pci_read16(hb, off + 2), d >> 16);
		for (int i = 0; i < 4; i++)
			CHECK_EQ(pci_read8(hb, off + i), (d >> (8 * i)) & 0xff);
	}
	test_pass();
}

static void test_scan(void)
{
	test_begin("pci_enum/scan");
	pci_for_each(collect, NULL);
	CHECK(nfns > 0, "no PCI function found");
	for (int i = 0; i < nfns; i++) {
		struct fn *f = &fns[i];

		printf("pci: %s %04x:%04x class %02x/%02x/%02x header %02x\n", pci_bdf_str(f->bdf),
		       f->vendor, f->device, f->base_class, f->sub_class, f->prog_if, f->header);
		CHECK(f->vendor != 0x0000, "%s: vendor ID 0", pci_bdf_str(f->bdf));
		CHECK((f->header & 0x7f) <= 2, "%s: header type 0x%x", pci_bdf_str(f->bdf),
		      f->header);
	}
	printf("pci: %d functions\n", nfns);
	test_pass();
}

static void test_host_bridge(void)
{
	test_begin("pci_enum/host-bridge");
	CHECK(nfns > 0 && fns[0].bdf == PCI_BDF(0, 0, 0), "nothing at 00:00.0");
	CHECK(fns[0].base_class == 0x06 && fns[0].sub_class == 0x00,
	      "00:00.0 has class %02x/%02x, not 06/00 (host bridge)", fns[0].base_class,
	      fns[0].sub_class);
	test_pass();
}

static void check_absent(uint16_t bdf)
{
	CHECK_EQ(pci_read16(bdf, PCI_VENDOR_ID), 0xffff);
	CHECK_EQ(pci_read32(bdf, PCI_VENDOR_ID), 0xffffffffu);
}

static uint8_t highest_bus(void)
{
	uint8_t max = 0;

	for (int i = 0; i < nfns; i++) {
		if (PCI_BUS(fns[i].bdf) > max)
			max = PCI_BUS(fns[i].bdf);
		if ((fns[i].header & 0x7f) == 1 &&
		    pci_read8(fns[i].bdf, PCI_SECONDARY_BUS + 1) > max)	/* subordinate */
			max = pci_read8(fns[i].bdf, PCI_SECONDARY_BUS + 1);
	}
	return max;
}

static void test_absent_functions(void)
{
	int absent_slots = 0, single = 0;

	test_begin("pci_enum/absent-functions");
	for (unsigned dev = 0; dev < 32; dev++) {
		uint16_t f0 = PCI_BDF(0, dev, 0);

		if (!pci_present(f0)) {
			/* No function 0, no device: every function reads all-ones. */
			for (unsigned fn = 0; fn < 8; fn++)
				check_absent(PCI_BDF(0, dev, fn));
			/* Writes to nothing go nowhere. */
			pci_write16(f0, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_IO);
			check_absent(f0);
			absent_slots++;
		} else if (!(pci_read8(f0, PCI_HEADER_TYPE) & 0x80)) {
			/* Single-function device: functions 1..7 are not there. */
			for (unsigned fn = 1; fn < 8; fn++)
				check_absent(PCI_BDF(0, dev, fn));
			single++;
		}
	}
	/* A bus nothing bridges to. */
	uint8_t bus = highest_bus();

	if (bus < 255)
		check_absent(PCI_BDF(bus + 1, 0, 0));
	printf("pci: %d empty slots, %d single-function devices, bus %u empty\n", absent_slots,
	       single, bus + 1);
	test_pass();
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static const char *bar_kind(const struct pci_bar *b)
{
	if (b->io)
		return "io";
	if (b->is64)
		return b->prefetch ? "mem64 pref" : "mem64";
	return b->prefetch ? "mem32 pref" : "mem32";
}

/* Sizes every BAR of bdf into bars[]; returns how many memory BARs it has. */
static int probe_bars(uint16_t bdf, bool acrn_windows)
{
	int count = pci_bar_count(bdf), mem = 0;

	for (int idx = 0; idx < count;) {
		struct bar *e = &bars[nbars];
		int slots = pci_bar_probe(bdf, idx, &e->b);

		CHECK(slots == 1 || slots == 2, "%s BAR%d: probe returned %d", pci_bdf_str(bdf),
		      idx, slots);
		if (e->b.size) {
			const struct pci_bar *b = &e->b;

			e->bdf = bdf;
			e->idx = idx;
			nbars++;
			printf("pci: %s BAR%d %-10s addr 0x%lx size 0x%lx\n", pci_bdf_str(bdf),
			       idx, bar_kind(b), b->addr, b->size);
			CHECK(is_pow2(b->size), "%s BAR%d: size 0x%lx", pci_bdf_str(bdf), idx,
			      b->size);
			CHECK(b->size >= (b->io ? 4u : 16u), "%s BAR%d: size 0x%lx below minimum",
			      pci_bdf_str(bdf), idx, b->size);
			CHECK(!(b->addr & (b->size - 1)), "%s BAR%d: 0x%lx not aligned to 0x%lx",
			      pci_bdf_str(bdf), idx, b->addr, b->size);
			/* Legal, but it cannot be mapped alone into a guest: worth seeing. */
			if (!b->io && b->size < 4096)
				printf("pci: %s BAR%d: note: smaller than a page\n",
				       pci_bdf_str(bdf), idx);
			if (acrn_windows && b->addr) {
				if (b->io)
					CHECK(b->addr >= 0x2000 && b->addr + b->size <= 0x10000);
				else if (b->is64)
					CHECK(b->addr >= (4ull << 30), "mem64 BAR at 0x%lx",
					      b->addr);
				else
					CHECK(b->addr >= MMIO32_BASE &&
						      b->addr + b->size <= MMIO32_LIMIT,
					      "mem32 BAR at 0x%lx", b->addr);
			}
			mem += !b->io;
		}
		idx += slots;
	}
	return mem;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static void check_no_overlap(void)
{
	for (int i = 0; i < nbars; i++)
		for (int j = i + 1; j < nbars; j++) {
			const struct bar *x = &bars[i], *y = &bars[j];

			if (!x->b.addr || !y->b.addr || x->b.io != y->b.io)
				continue;
			CHECK(!overlaps(x->b.addr, x->b.size, y->b.addr, y->b.size),
			      "%s BAR%d overlaps another BAR at 0x%lx", pci_bdf_str(x->bdf), x->idx,
			      y->b.addr);
		}
}

/* The first size-aligned address in the 32-bit window clear of every BAR (and not `avoid`). */
static uint64_t free_mmio32(uint64_t size, uint64_t avoid)
{
	for (uint64_t a = MMIO32_BASE; a + size <= MMIO32_LIMIT; a += size) {
		bool busy = a == avoid;

		for (int i = 0; i < nbars && !busy; i++)
			busy = !bars[i].b.io && bars[i].b.addr &&
			       overlaps(a, size, bars[i].b.addr, bars[i].b.size);
		if (!busy)
			return a;
	}
	return 0;
}

static void check_bar_at(uint16_t bdf, int idx, uint32_t raw, uint64_t addr)
{
	uint32_t now = pci_read32(bdf, PCI_BAR0 + 4 * idx);

	CHECK_EQ(pci_bar_addr(bdf, idx), addr);
	CHECK((now & 0xf) == (raw & 0xf), "%s BAR%d: flag bits changed from 0x%x to 0x%x",
	      pci_bdf_str(bdf), idx, raw & 0xf, now & 0xf);
}

static void test_bar_move(const struct bar *e)
{
	uint16_t bdf = e->bdf;
	uint64_t old = e->b.addr, size = e->b.size;
	uint16_t cmd = pci_read16(bdf, PCI_COMMAND);
	uint64_t target = free_mmio32(size, old);

	test_begin("pci_enum/bar-move");
	CHECK(target, "no free 0x%lx bytes in 0x%lx..0x%lx", size, MMIO32_BASE, MMIO32_LIMIT);
	printf("pci: moving %s BAR%d 0x%lx -> 0x%lx and back\n", pci_bdf_str(bdf), e->idx, old,
	       target);

	pci_bar_set(bdf, e->idx, target);
	check_bar_at(bdf, e->idx, e->b.raw, target);
	CHECK_EQ(pci_read16(bdf, PCI_COMMAND), cmd);

	/* Address bits below the size are hardwired to zero: an unaligned write is truncated. */
	if (size >= 32) {
		pci_cmd_update(bdf, 0, PCI_CMD_MEM);
		pci_write32(bdf, PCI_BAR0 + 4 * e->idx, (uint32_t)(target | (size >> 1)));
		check_bar_at(bdf, e->idx, e->b.raw, target);
		pci_write16(bdf, PCI_COMMAND, cmd);
	}

	/* Decode can be switched off and on again, and the register reads back what we wrote. */
	pci_cmd_update(bdf, 0, PCI_CMD_MEM);
	CHECK_EQ(pci_read16(bdf, PCI_COMMAND) & PCI_CMD_MEM, 0);
	pci_write16(bdf, PCI_COMMAND, cmd);
	CHECK_EQ(pci_read16(bdf, PCI_COMMAND), cmd);

	pci_bar_set(bdf, e->idx, old);
	check_bar_at(bdf, e->idx, e->b.raw, old);
	CHECK_EQ(pci_read16(bdf, PCI_COMMAND), cmd);

	/* Sizing again after the moves gives the same answer. */
	struct pci_bar again;

	pci_bar_probe(bdf, e->idx, &again);
	CHECK_EQ(again.size, size);
	CHECK_EQ(again.addr, old);
	test_pass();
}

static void test_bars(bool acrn_windows)
{
	uint16_t subject = 0xffff;

	test_begin("pci_enum/bars");
	for (int i = 0; i < nfns; i++) {
		if (!pci_bar_count(fns[i].bdf))
			continue;
		if (probe_bars(fns[i].bdf, acrn_windows) && subject == 0xffff)
			subject = fns[i].bdf;
	}
	check_no_overlap();
	printf("pci: %d BARs; first device with a memory BAR: %s\n", nbars,
	       subject == 0xffff ? "none" : pci_bdf_str(subject));
	test_pass();

	if (subject == 0xffff) {
		test_begin("pci_enum/bar-move");
		test_skip("no device with a memory BAR");
		return;
	}
	for (int i = 0; i < nbars; i++) {
		if (bars[i].bdf == subject && !bars[i].b.io && !bars[i].b.is64 && bars[i].b.addr) {
			test_bar_move(&bars[i]);
			return;
		}
	}
	test_begin("pci_enum/bar-move");
	test_skip("%s has no assigned 32-bit memory BAR", pci_bdf_str(subject));
}

static void test_capabilities(void)
{
	test_begin("pci_enum/capabilities");
	for (int i = 0; i < nfns; i++) {
		uint16_t bdf = fns[i].bdf;
		uint8_t cap = pci_cap_first(bdf);
		int n = 0;

		if (!cap)
			continue;
		printf("pci: %s caps:", pci_bdf_str(bdf));
		for (; cap; cap = pci_cap_next(bdf, cap)) {
			CHECK(cap >= 0x40, "%s: capability pointer 0x%x in the header",
			      pci_bdf_str(bdf), cap);
			CHECK(++n <= 48, "%s: capability list loops", pci_bdf_str(bdf));
			printf(" %02x@%02x", pci_read8(bdf, cap), cap);
		}
		printf("\n");
	}
	test_pass();
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	char windows[16] = "";

	(void)mbi;
	cmdline_get(cmdline, "windows", windows, sizeof(windows));
	test_config_mechanism();
	test_scan();
	test_host_bridge();
	test_absent_functions();
	test_capabilities();
	test_bars(strcmp(windows, "acrn") == 0);
	return 0;
}
