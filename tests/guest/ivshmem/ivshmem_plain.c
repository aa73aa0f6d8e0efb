/*
 * ivshmem_plain: the plain ivshmem device (1af4:1110) as a guest driver sees it. One guest, several
 * roles, chosen on the command line (acrn-dm -B "..."):
 *
 *   role=config  every config-space field, the BAR sizing protocol, and the BAR0 registers.
 *                subsys=N (expected subsystem ID, default 0), subvendor=N (default 0x8086),
 *                size=N (expected BAR2 size, e.g. 2M), intpin=N (default 0), windows=acrn
 *                (BAR0 in 0xC0000000..0xFEC00000, BAR2 above 4 GiB).
 *   role=writer  fills the whole region after its header with the pattern of seed=N, stores the
 *                checksum and the "written" flag, then waits for a reader's answer and checks it.
 *                noanswer: do not wait (the host checks the region file instead).
 *   role=reader  waits for the flag, verifies every word and the checksum, answers.
 *                hold: verify, then do NOT answer and spin until killed (the host's SIGKILL test).
 *   role=move    moves BAR2 around the 64-bit window (to=ADDR, default 16 GiB further up) and
 *                onto places that are taken (guest RAM, its own BAR0); checks the memory follows
 *                and the old place shows nothing; leaves marks for the host. seed=N,
 *                expect=TEXT (what the host wrote at IVT_HOST_TEXT_OFF).
 *   role=multi   count=N devices (default 2): separate regions, no aliasing, own registers;
 *                subsys<i>=N expected subsystem IDs. Leaves "multi:<i>" in region i.
 *
 * Common: dev=N picks the N-th ivshmem device (default 0); timeout_ms=N bounds every wait
 * (default 30000).
 */
#include "guest.h"
#include "ivshmem_test.h"

#define IVSHMEM_VENDOR	0x1af4
#define IVSHMEM_DEVICE	0x1110
#define REG_INTR_MASK	0x00
#define REG_INTR_STATUS	0x04
#define REG_IV_POSITION	0x08
#define REG_DOORBELL	0x0c
#define REGS_SIZE	0x100

#define MMIO32_BASE	0xc0000000ull
#define MMIO32_LIMIT	0xfec00000ull
#define GiB		(1ull << 30)
#define MiB		(1ull << 20)
#define ALL_ONES64	0xffffffffffffffffull

struct ivdev {
	uint16_t bdf;
	uint64_t regs;		/* BAR0 */
	uint64_t shm;		/* BAR2 */
	uint64_t size;		/* BAR2 size */
};

static uint64_t timeout_ms = 30000;

static uint64_t opt_u64(const char *cmdline, const char *key, uint64_t def)
{
	uint64_t v;
	return cmdline_get_u64(cmdline, key, &v) ? v : def;
}

/* Finds the index-th ivshmem device, sizes its BARs and maps BAR2 write-back. */
static uint64_t bar2_at;	/* at=ADDR: move BAR2 there first (0: where firmware put it) */

static void ivdev_open(int index, struct ivdev *d)
{
	struct pci_bar b0, b2;

	CHECK(pci_find(IVSHMEM_VENDOR, IVSHMEM_DEVICE, index, &d->bdf) == 0,
	      "no ivshmem device #%d (1af4:1110)", index);
	CHECK(pci_bar_probe(d->bdf, 0, &b0) == 1 && b0.size && !b0.io, "BAR0 is not a memory BAR");
	CHECK(pci_bar_probe(d->bdf, 2, &b2) == 2, "BAR2 is not a 64-bit BAR");
	CHECK(b2.size >= 4096 && b2.addr, "BAR2 size 0x%lx at 0x%lx", b2.size, b2.addr);
	d->regs = b0.addr;
	d->shm = b2.addr;
	d->size = b2.size;
	if (bar2_at) {
		CHECK(!(bar2_at & (b2.size - 1)), "at=0x%lx is not aligned to 0x%lx", bar2_at,
		      b2.size);
		pci_bar_set(d->bdf, 2, bar2_at);
		CHECK_EQ(pci_bar_addr(d->bdf, 2), bar2_at);
		d->shm = bar2_at;
	}
	pci_cmd_update(d->bdf, PCI_CMD_MEM, 0);
	CHECK(map_range(d->shm, d->size, MAP_WB) == 0, "cannot map BAR2 at 0x%lx", d->shm);
	/* BAR0 is in the 3..4 GiB hole, mapped uncached at boot; anywhere else, map it so. */
	if (d->regs < 3 * GiB || d->regs >= 4 * GiB)
		CHECK(map_range(d->regs, REGS_SIZE, MAP_UC) == 0);
	printf("ivshmem: %s BAR0 0x%lx BAR2 0x%lx size 0x%lx\n", pci_bdf_str(d->bdf), d->regs,
	       d->shm, d->size);
}

static volatile struct ivt_header *header(const struct ivdev *d)
{
	return (volatile struct ivt_header *)(uintptr_t)d->shm;
}

static volatile uint64_t *words(uint64_t base)
{
	return (volatile uint64_t *)(uintptr_t)(base + IVT_DATA_OFF);
}

static uint64_t nwords(const struct ivdev *d)
{
	return (d->size - IVT_DATA_OFF) / 8;
}

/* Stores written by the other VM become visible without barriers (x86, WB memory); this keeps
 * the compiler from reordering ours around the flag. */
static inline void compiler_barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

/*
 * Polls *p until it equals want or timeout_ms passes, halting 1 ms between looks (a spinning
 * vCPU would take a host CPU from the peer VM it waits for).
 */
static bool wait_u32(volatile uint32_t *p, uint32_t want)
{
	uint64_t start = time_us();

	while (*p != want) {
		if (time_us() - start > timeout_ms * 1000)
			return false;
		(void)wait_irq(1000); /* a timeout, or a stray interrupt: either way look again */
	}
	return true;
}

static void put_text(uint64_t base, unsigned off, const char *text)
{
	volatile char *p = (volatile char *)(uintptr_t)(base + off);
	size_t i = 0;

	for (; text[i] && i + 1 < IVT_TEXT_MAX; i++)
		p[i] = text[i];
	p[i] = '\0';
}

static bool text_is(uint64_t base, unsigned off, const char *text)
{
	const volatile char *p = (const volatile char *)(uintptr_t)(base + off);
	size_t i = 0;

	for (; text[i]; i++)
		if (p[i] != text[i])
			return false;
	return p[i] == '\0';
}

/* ---- role=config ---- */

static void check_ids(const struct ivdev *d, const char *cmdline)
{
	uint16_t bdf = d->bdf;

	test_begin("ivshmem/config-ids");
	CHECK_EQ(pci_read16(bdf, PCI_VENDOR_ID), IVSHMEM_VENDOR);
	CHECK_EQ(pci_read16(bdf, PCI_DEVICE_ID), IVSHMEM_DEVICE);
	CHECK_EQ(pci_read8(bdf, PCI_CLASS_BASE), 0x05);		/* memory controller */
	CHECK_EQ(pci_read8(bdf, PCI_CLASS_SUB), 0x00);		/* RAM */
	CHECK_EQ(pci_read8(bdf, PCI_CLASS_PROG), 0x00);
	CHECK_EQ(pci_read8(bdf, PCI_REVISION), opt_u64(cmdline, "revision", 1));
	CHECK_EQ(pci_read8(bdf, PCI_HEADER_TYPE) & 0x7f, 0);
	CHECK_EQ(pci_read16(bdf, PCI_SUBSYS_VENDOR), opt_u64(cmdline, "subvendor", 0x8086));
	CHECK_EQ(pci_read16(bdf, PCI_SUBSYS_ID), opt_u64(cmdline, "subsys", 0));
	CHECK_EQ(pci_read8(bdf, PCI_INTERRUPT_PIN), opt_u64(cmdline, "intpin", 0));
	CHECK(!(pci_read16(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST), "a capability list is there");
	CHECK_EQ(pci_cap_first(bdf), 0);
	/* Firmware (acrn-dm) left memory decode on. */
	CHECK(pci_read16(bdf, PCI_COMMAND) & PCI_CMD_MEM, "memory decode is off");

	/* The identification is read-only. */
	uint32_t id = pci_read32(bdf, PCI_VENDOR_ID), cls = pci_read32(bdf, PCI_REVISION);
	uint32_t sub = pci_read32(bdf, PCI_SUBSYS_VENDOR);
	uint8_t pin = pci_read8(bdf, PCI_INTERRUPT_PIN);

	pci_write32(bdf, PCI_VENDOR_ID, 0x12345678);
	pci_write32(bdf, PCI_REVISION, 0xffffffff);
	pci_write32(bdf, PCI_SUBSYS_VENDOR, 0xffffffff);
	pci_write8(bdf, PCI_INTERRUPT_PIN, 0x04);
	CHECK_EQ(pci_read32(bdf, PCI_VENDOR_ID), id);
	CHECK_EQ(pci_read32(bdf, PCI_REVISION), cls);
	CHECK_EQ(pci_read32(bdf, PCI_SUBSYS_VENDOR), sub);
	CHECK_EQ(pci_read8(bdf, PCI_INTERRUPT_PIN), pin);
	printf("ivshmem: %s %04x:%04x rev %u class %02x/%02x subsystem %04x:%04x pin %u\n",
	       pci_bdf_str(bdf), id & 0xffff, id >> 16, cls & 0xff, cls >> 24, (cls >> 16) & 0xff,
	       sub & 0xffff, sub >> 16, pin);
	test_pass();
}

static void check_bars(const struct ivdev *d, const char *cmdline)
{
	uint16_t bdf = d->bdf;
	struct pci_bar b;
	uint64_t want_size = opt_u64(cmdline, "size", 0);
	char windows[16] = "";

	cmdline_get(cmdline, "windows", windows, sizeof(windows));
	test_begin("ivshmem/config-bars");
	CHECK_EQ(pci_bar_count(bdf), 6);

	/* BAR0: the registers, 256 bytes, 32-bit, not prefetchable, on its own page. */
	CHECK_EQ(pci_bar_probe(bdf, 0, &b), 1);
	CHECK_EQ(b.size, REGS_SIZE);
	CHECK(!b.io && !b.is64 && !b.prefetch, "BAR0 raw 0x%x", b.raw);
	CHECK_EQ(b.raw & 0xf, 0);
	CHECK_EQ(b.addr & 0xfff, 0);
	if (strcmp(windows, "acrn") == 0)
		CHECK(b.addr >= MMIO32_BASE && b.addr + b.size <= MMIO32_LIMIT, "BAR0 at 0x%lx",
		      b.addr);

	/* BAR1: absent on the plain device (no MSI-X). */
	CHECK_EQ(pci_bar_probe(bdf, 1, &b), 1);
	CHECK_EQ(b.size, 0);
	CHECK_EQ(pci_read32(bdf, PCI_BAR0 + 4), 0);

	/* BAR2: the memory, 64-bit prefetchable, naturally aligned. */
	CHECK_EQ(pci_bar_probe(bdf, 2, &b), 2);
	CHECK(b.is64 && b.prefetch && !b.io, "BAR2 raw 0x%x", b.raw);
	CHECK_EQ(b.raw & 0xf, 0xc);
	CHECK_EQ(b.size, d->size);
	if (want_size)
		CHECK_EQ(b.size, want_size);
	CHECK_EQ(b.addr & (b.size - 1), 0);
	if (strcmp(windows, "acrn") == 0)
		CHECK(b.addr >= 4 * GiB, "BAR2 at 0x%lx, below 4 GiB", b.addr);

	/* BAR4, BAR5: absent. */
	for (int idx = 4; idx < 6; idx++) {
		CHECK_EQ(pci_bar_probe(bdf, idx, &b), 1);
		CHECK_EQ(b.size, 0);
	}
	/* Sizing put everything back. */
	CHECK_EQ(pci_bar_addr(bdf, 0), d->regs);
	CHECK_EQ(pci_bar_addr(bdf, 2), d->shm);
	CHECK(pci_read16(bdf, PCI_COMMAND) & PCI_CMD_MEM);
	test_pass();
}

static void check_registers(const struct ivdev *d)
{
	uint64_t r = d->regs;

	test_begin("ivshmem/registers");
	CHECK_EQ(mmio_read32(r + REG_INTR_MASK), 0);
	CHECK_EQ(mmio_read32(r + REG_INTR_STATUS), 0);
	CHECK_EQ(mmio_read32(r + REG_IV_POSITION), 0);		/* plain: no peer id */
	CHECK_EQ(mmio_read32(r + REG_DOORBELL), 0);

	mmio_write32(r + REG_INTR_MASK, 0xffffffff);
	CHECK_EQ(mmio_read32(r + REG_INTR_MASK), 0xffffffff);
	mmio_write32(r + REG_INTR_MASK, 0x13572468);
	CHECK_EQ(mmio_read32(r + REG_INTR_MASK), 0x13572468);

	mmio_write32(r + REG_INTR_STATUS, 0x1);
	CHECK_EQ(mmio_read32(r + REG_INTR_STATUS), 0x1);
	CHECK_EQ(mmio_read32(r + REG_INTR_STATUS), 0);		/* cleared by the read */

	mmio_write32(r + REG_IV_POSITION, 0x55);
	CHECK_EQ(mmio_read32(r + REG_IV_POSITION), 0);		/* read-only */

	mmio_write32(r + REG_DOORBELL, 0x00010000);		/* peer 1, vector 0: dropped */
	CHECK_EQ(mmio_read32(r + REG_DOORBELL), 0);
	CHECK_EQ(mmio_read32(r + REG_INTR_MASK), 0x13572468);

	/* Other widths and misaligned accesses: read 0, write nothing, clear nothing. */
	mmio_write32(r + REG_INTR_STATUS, 0x2);
	for (unsigned off = 0; off < 0x10; off++) {
		CHECK_EQ(mmio_read8(r + off), 0);
		mmio_write8(r + off, 0xee);
		if (!(off & 1)) {
			CHECK_EQ(mmio_read16(r + off), 0);
			mmio_write16(r + off, 0xeeee);
		}
		if (off & 3) {
			CHECK_EQ(mmio_read32(r + off), 0);
			mmio_write32(r + off, 0xeeeeeeee);
		}
	}
	CHECK_EQ(mmio_read64(r + 0), 0);
	CHECK_EQ(mmio_read64(r + 8), 0);
	mmio_write64(r + 0, 0xeeeeeeeeeeeeeeeeull);
	CHECK_EQ(mmio_read32(r + REG_INTR_MASK), 0x13572468);
	CHECK_EQ(mmio_read32(r + REG_INTR_STATUS), 0x2);
	CHECK_EQ(mmio_read32(r + REG_INTR_STATUS), 0);

	/* 0x10..0xFF: reserved. */
	for (unsigned off = 0x10; off < REGS_SIZE; off += 4) {
		mmio_write32(r + off, 0xffffffff);
		CHECK(mmio_read32(r + off) == 0, "offset 0x%x reads 0x%x", off,
		      mmio_read32(r + off));
		CHECK_EQ(mmio_read8(r + off + 3), 0);
		if (!(off & 7))
			CHECK_EQ(mmio_read64(r + off), 0);
	}
	CHECK_EQ(mmio_read32(r + REG_INTR_MASK), 0x13572468);
	mmio_write32(r + REG_INTR_MASK, 0);
	test_pass();
}

static void check_memory(const struct ivdev *d)
{
	volatile uint64_t *m = (volatile uint64_t *)(uintptr_t)d->shm;
	uint64_t last = d->size / 8 - 1;

	test_begin("ivshmem/memory");
	m[0] = 0x0123456789abcdefull;
	m[last] = ~0x0123456789abcdefull;
	CHECK_EQ(m[0], 0x0123456789abcdefull);
	CHECK_EQ(m[last], ~0x0123456789abcdefull);
	m[0] = 0;
	m[last] = 0;
	test_pass();
}

static void role_config(const char *cmdline)
{
	struct ivdev d;

	ivdev_open((int)opt_u64(cmdline, "dev", 0), &d);
	check_ids(&d, cmdline);
	check_bars(&d, cmdline);
	check_registers(&d);
	check_memory(&d);
}

/* ---- role=writer / role=reader ---- */

static void role_writer(const char *cmdline)
{
	struct ivdev d;
	uint64_t seed = opt_u64(cmdline, "seed", 1);

	ivdev_open((int)opt_u64(cmdline, "dev", 0), &d);
	volatile struct ivt_header *h = header(&d);

	test_begin("ivshmem/writer");
	CHECK(d.size > IVT_DATA_OFF);
	h->written = 0;
	h->answer = 0;
	compiler_barrier();

	volatile uint64_t *w = words(d.shm);
	uint64_t n = nwords(&d), state = ivt_seed_state(seed), sum = IVT_SUM_INIT;
	uint64_t t0 = time_us();

	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = ivt_next(&state);
		w[i] = v;
		sum = ivt_sum(sum, v);
	}
	for (int i = 0; i < 8; i++)
		h->magic[i] = IVT_MAGIC[i];
	h->seed = seed;
	h->size = d.size;
	h->checksum = sum;
	h->reader_checksum = 0;
	h->reader_errors = 0;
	compiler_barrier();
	h->written = IVT_WRITTEN;
	printf("writer: %lu words, seed %lu, checksum 0x%016lx, %lu us\n", n, seed, sum,
	       time_us() - t0);
	test_pass();

	if (cmdline_has(cmdline, "noanswer"))
		return;
	test_begin("ivshmem/writer-answer");
	CHECK(wait_u32(&h->answer, IVT_ANSWER_OK) || h->answer == IVT_ANSWER_BAD,
	      "no answer from a reader within %lu ms", timeout_ms);
	CHECK(h->answer == IVT_ANSWER_OK, "the reader found %lu bad words, checksum 0x%016lx",
	      h->reader_errors, h->reader_checksum);
	CHECK_EQ(h->reader_checksum, sum);
	printf("writer: reader answered after %lu run(s)\n", h->reader_runs);
	test_pass();
}

static void role_reader(const char *cmdline)
{
	struct ivdev d;

	ivdev_open((int)opt_u64(cmdline, "dev", 0), &d);
	volatile struct ivt_header *h = header(&d);

	test_begin("ivshmem/reader");
	CHECK(wait_u32(&h->written, IVT_WRITTEN), "no writer within %lu ms", timeout_ms);
	compiler_barrier();
	for (int i = 0; i < 8; i++)
		CHECK(h->magic[i] == IVT_MAGIC[i], "bad magic");
	CHECK_EQ(h->size, d.size);

	volatile uint64_t *w = words(d.shm);
	uint64_t n = nwords(&d), state = ivt_seed_state(h->seed), sum = IVT_SUM_INIT, errors = 0;
	uint64_t first_bad = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t want = ivt_next(&state), got = w[i];
		if (got != want && errors++ == 0)
			first_bad = i;
		sum = ivt_sum(sum, got);
	}
	printf("reader: seed %lu, %lu words, %lu differ, checksum 0x%016lx (header 0x%016lx)\n",
	       h->seed, n, errors, sum, h->checksum);
	if (errors)
		printf("reader: first bad word at offset 0x%lx\n", IVT_DATA_OFF + first_bad * 8);
	h->reader_checksum = sum;
	h->reader_errors = errors;
	h->reader_runs = h->reader_runs + 1;
	compiler_barrier();

	if (cmdline_has(cmdline, "hold")) {
		/* Verified but unanswered: the host kills this VM now and starts another reader. */
		CHECK(errors == 0 && sum == h->checksum, "the data is wrong");
		printf("reader: holding\n");
		uint64_t start = time_us();
		while (time_us() - start < timeout_ms * 1000)
			(void)wait_irq(10000);
		test_fail("still running after %lu ms: nobody killed this reader", timeout_ms);
	}
	h->answer = errors == 0 && sum == h->checksum ? IVT_ANSWER_OK : IVT_ANSWER_BAD;
	CHECK(errors == 0, "%lu words differ from the pattern", errors);
	CHECK_EQ(sum, h->checksum);
	test_pass();
}

/* ---- role=move ---- */

static void fill_probe(uint64_t base, uint64_t size, uint64_t seed)
{
	volatile uint64_t *w = words(base);
	uint64_t n = (size - IVT_DATA_OFF) / 8, state = ivt_seed_state(seed);

	for (uint64_t i = 0; i < n; i++)
		w[i] = ivt_next(&state);
}

static bool word_ok(volatile uint64_t *w, uint64_t base, uint64_t i, uint64_t want)
{
	if (w[i] == want)
		return true;
	printf("ivshmem: at 0x%lx word %lu is 0x%lx, expected 0x%lx\n", base, i, w[i], want);
	return false;
}

/* The pattern of seed is at base (the whole data area): true, else prints the first mismatch. */
static bool probe_ok(uint64_t base, uint64_t size, uint64_t seed)
{
	volatile uint64_t *w = words(base);
	uint64_t n = (size - IVT_DATA_OFF) / 8, state = ivt_seed_state(seed);

	for (uint64_t i = 0; i < n; i++)
		if (!word_ok(w, base, i, ivt_next(&state)))
			return false;
	return true;
}

/* The same, cheaper: the first and last word of every 4 KiB page. */
static bool probe_spots_ok(uint64_t base, uint64_t size, uint64_t seed)
{
	volatile uint64_t *w = words(base);
	uint64_t n = (size - IVT_DATA_OFF) / 8;

	for (uint64_t i = 0; i < n; i += 512)
		if (!word_ok(w, base, i, ivt_word(seed, i)) ||
		    !word_ok(w, base, i + 511, ivt_word(seed, i + 511)))
			return false;
	return true;
}

/* What the guest does to move a 64-bit BAR: decode off, both halves, decode on. */
static void move_bar2(const struct ivdev *d, uint64_t to)
{
	pci_cmd_update(d->bdf, 0, PCI_CMD_MEM);
	pci_write32(d->bdf, PCI_BAR0 + 8, (uint32_t)to);
	pci_write32(d->bdf, PCI_BAR0 + 12, (uint32_t)(to >> 32));
	pci_cmd_update(d->bdf, PCI_CMD_MEM, 0);
	CHECK_EQ(pci_bar_addr(d->bdf, 2), to);
}

/* Nothing decodes at addr: reads give all ones, writes vanish. */
static void check_nothing_at(uint64_t addr, uint64_t size)
{
	CHECK(mmio_read64(addr) == ALL_ONES64, "0x%lx still shows memory (0x%lx)", addr,
	      mmio_read64(addr));
	CHECK(mmio_read64(addr + IVT_DATA_OFF) == ALL_ONES64, "0x%lx still shows memory",
	      addr + IVT_DATA_OFF);
	CHECK_EQ(mmio_read32(addr + size - 4), 0xffffffffu);
	mmio_write64(addr + IVT_DATA_OFF, 0);
}

static void role_move(const char *cmdline)
{
	struct ivdev d;
	uint64_t seed = opt_u64(cmdline, "seed", 7);
	char expect[IVT_TEXT_MAX] = "", mark[64];

	ivdev_open((int)opt_u64(cmdline, "dev", 0), &d);
	cmdline_get(cmdline, "expect", expect, sizeof(expect));
	const uint64_t home = d.shm, size = d.size;
	uint64_t to = opt_u64(cmdline, "to", home + 16 * GiB);

	test_begin("ivshmem/move-setup");
	CHECK(size > IVT_DATA_OFF);
	CHECK(!(to & (size - 1)), "to=0x%lx is not aligned to 0x%lx", to, size);
	CHECK(to + size <= (1ull << phys_addr_bits()), "to=0x%lx beyond %u address bits", to,
	      phys_addr_bits());
	if (expect[0])
		CHECK(text_is(home, IVT_HOST_TEXT_OFF, expect), "the host's text is not there");
	fill_probe(home, size, seed);
	CHECK(map_range(to, size, MAP_WB) == 0);
	check_nothing_at(to, size);	/* nothing there before the move */
	test_pass();

	test_begin("ivshmem/decode-toggle");
	pci_cmd_update(d.bdf, 0, PCI_CMD_MEM);
	check_nothing_at(home, size);
	pci_cmd_update(d.bdf, PCI_CMD_MEM, 0);
	CHECK(probe_spots_ok(home, size, seed), "the data did not come back with decode");
	test_pass();

	test_begin("ivshmem/move");
	printf("move: BAR2 0x%lx -> 0x%lx\n", home, to);
	move_bar2(&d, to);
	CHECK(probe_ok(to, size, seed), "the data is not at the new address");
	if (expect[0])
		CHECK(text_is(to, IVT_HOST_TEXT_OFF, expect), "the host's text did not move");
	check_nothing_at(home, size);	/* the old place shows nothing, and writes vanish */
	CHECK(probe_spots_ok(to, size, seed), "a write to the old address reached the memory");
	snprintf(mark, sizeof(mark), "moved:%lu", seed);
	put_text(to, IVT_MARK_OFF, mark);
	test_pass();

	/* Onto guest RAM: refused; the RAM stays RAM. */
	test_begin("ivshmem/move-onto-ram");
	const uint64_t ram = size <= 32 * MiB ? 64 * MiB : 0;
	if (ram) {
		volatile uint64_t *r = (volatile uint64_t *)(uintptr_t)ram;
		r[0] = 0x52414d52414d5241ull;
		r[IVT_DATA_OFF / 8] = 0x1122334455667788ull;
		move_bar2(&d, ram);
		CHECK_EQ(r[0], 0x52414d52414d5241ull);
		CHECK_EQ(r[IVT_DATA_OFF / 8], 0x1122334455667788ull);
		check_nothing_at(to, size);
		test_pass();
	} else {
		test_skip("a %lu MiB BAR2 does not fit in the RAM below 64 MiB", size >> 20);
	}

	/* Onto our own registers: refused; the registers still answer there. */
	test_begin("ivshmem/move-onto-bar0");
	if (!(d.regs & (size - 1))) {
		move_bar2(&d, d.regs);
		mmio_write32(d.regs + REG_INTR_MASK, 0x5a5a5a5a);
		CHECK_EQ(mmio_read32(d.regs + REG_INTR_MASK), 0x5a5a5a5a);
		CHECK_EQ(mmio_read32(d.regs + REG_IV_POSITION), 0);
		CHECK_EQ(mmio_read32(d.regs + 0x40), 0);
		mmio_write32(d.regs + REG_INTR_MASK, 0);
		test_pass();
	} else {
		test_skip("BAR0 0x%lx is not aligned to BAR2's size", d.regs);
	}

	/* Home again: the data survived every move. */
	test_begin("ivshmem/move-back");
	move_bar2(&d, home);
	CHECK(probe_ok(home, size, seed), "the data did not survive the moves");
	CHECK(text_is(home, IVT_MARK_OFF, mark), "the mark written at 0x%lx is not here", to);
	check_nothing_at(to, size);
	snprintf(mark, sizeof(mark), "back:%lu", seed);
	put_text(home, IVT_MARK2_OFF, mark);
	test_pass();
}

/* ---- role=multi ---- */

#define MAX_MULTI 8

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static void role_multi(const char *cmdline)
{
	struct ivdev devs[MAX_MULTI];
	int n = (int)opt_u64(cmdline, "count", 2);
	char key[16], mark[32];

	test_begin("ivshmem/multi");
	CHECK(n >= 2 && n <= MAX_MULTI, "count=%d", n);
	for (int i = 0; i < n; i++) {
		ivdev_open(i, &devs[i]);
		snprintf(key, sizeof(key), "subsys%d", i);
		uint64_t id;
		if (cmdline_get_u64(cmdline, key, &id))
			CHECK_EQ(pci_read16(devs[i].bdf, PCI_SUBSYS_ID), id);
		for (int j = 0; j < i; j++) {
			CHECK(!overlaps(devs[i].shm, devs[i].size, devs[j].shm, devs[j].size),
			      "BAR2 of devices %d and %d overlap", i, j);
			CHECK(!overlaps(devs[i].regs, REGS_SIZE, devs[j].regs, REGS_SIZE),
			      "BAR0 of devices %d and %d overlap", i, j);
		}
	}
	/* Each region gets its own words and registers... */
	for (int i = 0; i < n; i++) {
		fill_probe(devs[i].shm, devs[i].size, 100 + (uint64_t)i);
		snprintf(mark, sizeof(mark), "multi:%d", i);
		put_text(devs[i].shm, IVT_MARK_OFF, mark);
		mmio_write32(devs[i].regs + REG_INTR_MASK, 0x100u + (uint32_t)i);
	}
	/* ... and still has them once all were written: nothing aliases. */
	for (int i = 0; i < n; i++) {
		CHECK(probe_spots_ok(devs[i].shm, devs[i].size, 100 + (uint64_t)i),
		      "device %d's memory was overwritten", i);
		snprintf(mark, sizeof(mark), "multi:%d", i);
		CHECK(text_is(devs[i].shm, IVT_MARK_OFF, mark), "device %d's mark is gone", i);
		CHECK_EQ(mmio_read32(devs[i].regs + REG_INTR_MASK), 0x100u + (uint32_t)i);
		mmio_write32(devs[i].regs + REG_INTR_MASK, 0);
	}
	test_pass();
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	char role[16] = "";

	(void)mbi;
	timeout_ms = opt_u64(cmdline, "timeout_ms", timeout_ms);
	bar2_at = opt_u64(cmdline, "at", 0);
	cmdline_get(cmdline, "role", role, sizeof(role));
	if (strcmp(role, "config") == 0)
		role_config(cmdline);
	else if (strcmp(role, "writer") == 0)
		role_writer(cmdline);
	else if (strcmp(role, "reader") == 0)
		role_reader(cmdline);
	else if (strcmp(role, "move") == 0)
		role_move(cmdline);
	else if (strcmp(role, "multi") == 0)
		role_multi(cmdline);
	else
		test_fail("role=%s: expected config, writer, reader, move or multi", role);
	return 0;
}
