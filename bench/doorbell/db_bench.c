/*
 * db_bench: the doorbell benchmark guest. One image, three roles, chosen on the command line; it
 * boots the same way under acrn-dm (-E, -B "...") and QEMU (-kernel, -append "...").
 *
 *   role=exits  the cost of one guest exit to user space: n=N reads of an unclaimed port
 *               (port=P, default 0x2e8) and n=N 32-bit reads of an unclaimed MMIO address
 *               (mmio=ADDR, default 0xfed00000), minus the same loop without the access;
 *               then n/4 self-IPIs, each taken by wait_irq(): the guest's own part of a ring.
 *   role=ping   rings the pong's vector 0 through the Doorbell, waits for the answer with
 *               wait_irq() (sti; hlt), and times each round trip with the TSC: warm=W untimed
 *               round trips first, then n=N timed ones. Sets the "done" word and rings once more.
 *   role=pong   answers every ring by ringing the ping's vector 0, until the done word is set.
 *
 * Both ping and pong: nonce=X (the host's per-run number, so a region left over from another run
 * is never mistaken for this one), timeout_ms=T bounds the waits for the other VM (default
 * 30000: the first ring may take as long as the other VM's boot).
 *
 * The region is the results channel too (struct db_bench_shm in db_bench_shm.h): the two VMs
 * meet in its first page, and the ping leaves every round trip's TSC delta from offset 4096 for
 * the host (db-stats) to sort. Sorting in the guest would take seconds here: guest code runs
 * slowly on the development machines' paravirtual KVM, so the timed loop does as little as
 * possible, and the same for every hypervisor it is compared under.
 *
 * Serial lines the host parses (times in nanoseconds, from the calibrated TSC):
 *   RESULT exits pio n=N per_exit=.. loop=..      RESULT exits mmio n=N per_exit=.. loop=..
 *   RESULT exits selfipi n=N per_irq=..
 *   RESULT ping n=N mean=.. lost=L tsc_khz=K
 * Nothing here fails on timing: only a missing device or a peer that never answers fails.
 */
#include "guest.h"
#include "db_bench_shm.h"

#define IVSHMEM_VENDOR	0x1af4
#define IVSHMEM_DEVICE	0x1110
#define REG_IV_POSITION	0x08
#define REG_DOORBELL	0x0c
#define REGS_SIZE	0x100

#define DB_VECTOR	0x50	/* the LAPIC vector MSI-X entry 0 delivers */
#define RT_TIMEOUT_US	1000000	/* a round trip without an answer after this is lost */
#define GiB		(1ull << 30)

struct ivdev {
	uint16_t bdf;
	uint64_t regs;
	uint64_t shm;
	uint64_t size;
};

static uint64_t timeout_ms = 30000;

static uint64_t opt_u64(const char *cmdline, const char *key, uint64_t def)
{
	uint64_t v;
	return cmdline_get_u64(cmdline, key, &v) ? v : def;
}

static inline void compiler_barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
	uint64_t khz = tsc_khz();

	return khz ? ticks * 1000000ull / khz : 0;
}

/* ---- role=exits ---- */

static int run_exits(const char *cmdline)
{
	uint64_t n = opt_u64(cmdline, "n", 20000);
	uint16_t port = (uint16_t)opt_u64(cmdline, "port", 0x2e8);
	uint64_t mmio = opt_u64(cmdline, "mmio", 0xfed00000);
	uint32_t sink = 0;

	test_begin("db_bench/exits");
	timer_init();
	if (!n)
		n = 1;
	if (mmio < 3 * GiB || mmio >= 4 * GiB)
		CHECK(map_range(mmio & ~0xfffull, 4096, MAP_UC) == 0, "cannot map 0x%lx", mmio);
	/* A few untimed ones first: the first exit of each kind takes the slow paths. */
	for (int i = 0; i < 100; i++)
		sink += inb(port) + mmio_read32(mmio);

	/* The same loop three times: with a port read, an MMIO read, and nothing. */
	uint64_t t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		sink += inb(port);
	uint64_t t1 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		sink += mmio_read32(mmio);
	uint64_t t2 = rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		uint32_t v = 0xff;

		__asm__ volatile("" : "+r"(v));
		sink += v;
	}
	uint64_t t3 = rdtsc();

	uint64_t pio = ticks_to_ns(t1 - t0) / n, mm = ticks_to_ns(t2 - t1) / n;
	uint64_t loop = ticks_to_ns(t3 - t2) / n;

	printf("RESULT exits pio n=%lu per_exit=%lu loop=%lu port=0x%x\n", n,
	       pio > loop ? pio - loop : 0, loop, port);
	printf("RESULT exits mmio n=%lu per_exit=%lu loop=%lu addr=0x%lx\n", n,
	       mm > loop ? mm - loop : 0, loop, mmio);

	/*
	 * The guest's own share of a doorbell: a self-IPI (the in-kernel LAPIC, no device) taken
	 * with the same wait_irq() the ping uses. A round trip takes one interrupt in each guest,
	 * though each guest arms its wait while the other one's part is still under way.
	 */
	uint64_t nipi = n / 4 ? n / 4 : 1, bad = 0;

	t0 = rdtsc();
	for (uint64_t i = 0; i < nipi; i++) {
		lapic_send_self_ipi(DB_VECTOR);
		bad += wait_irq(RT_TIMEOUT_US) != DB_VECTOR;
	}
	t1 = rdtsc();
	CHECK(!bad, "%lu of %lu self-IPIs were not taken", bad, nipi);
	printf("RESULT exits selfipi n=%lu per_irq=%lu\n", nipi, ticks_to_ns(t1 - t0) / nipi);

	/* Unclaimed reads return all ones on acrn-dm and QEMU alike; only shown. */
	printf("db_bench: read-back sum 0x%x, tsc %lu kHz\n", sink, tsc_khz());
	test_pass();
	return 0;
}

/* ---- the device ---- */

static void ivdev_open(struct ivdev *d)
{
	struct pci_bar b0, b2;

	CHECK(pci_find(IVSHMEM_VENDOR, IVSHMEM_DEVICE, 0, &d->bdf) == 0, "no ivshmem device");
	CHECK(pci_bar_probe(d->bdf, 0, &b0) == 1 && b0.size && !b0.io, "BAR0 is not a memory BAR");
	CHECK(pci_bar_probe(d->bdf, 2, &b2) == 2, "BAR2 is not a 64-bit BAR");
	CHECK(b2.size >= 2 * DB_BENCH_SAMPLES_OFF && b2.addr, "BAR2 size 0x%lx at 0x%lx",
	      b2.size, b2.addr);
	CHECK(pci_msix_table_size(d->bdf) >= 1, "no MSI-X (is this the doorbell device?)");
	d->regs = b0.addr;
	d->shm = b2.addr;
	d->size = b2.size;
	pci_cmd_update(d->bdf, PCI_CMD_MEM | PCI_CMD_MASTER, 0);
	CHECK(map_range(d->shm, d->size, MAP_WB) == 0, "cannot map BAR2 at 0x%lx", d->shm);
	if (d->regs < 3 * GiB || d->regs >= 4 * GiB)
		CHECK(map_range(d->regs, REGS_SIZE, MAP_UC) == 0);
	CHECK(pci_msix_set(d->bdf, 0, msi_address(), msi_data(DB_VECTOR), false) == 0);
	CHECK(pci_msix_enable(d->bdf) == 0);
	printf("db_bench: ivshmem %s BAR0 0x%lx BAR2 0x%lx size 0x%lx IVPosition %u, %s\n",
	       pci_bdf_str(d->bdf), d->regs, d->shm, d->size,
	       mmio_read32(d->regs + REG_IV_POSITION), lapic_is_x2apic() ? "x2APIC" : "xAPIC");
}

static volatile struct db_bench_shm *shm_of(const struct ivdev *d)
{
	return (volatile struct db_bench_shm *)(uintptr_t)d->shm;
}

static inline void ring(uint64_t doorbell, uint32_t peer)
{
	mmio_write32(doorbell, peer << 16 | 0);
}

/* Polls until *p == want, at most timeout_ms. */
static bool wait_u64(volatile uint64_t *p, uint64_t want)
{
	uint64_t start = time_us();

	while (*p != want) {
		if (time_us() - start > timeout_ms * 1000)
			return false;
		for (int i = 0; i < 1000; i++)
			cpu_relax();
	}
	return true;
}

/* Takes whatever doorbells are still in flight (after a lost round trip or the warm-up). */
static void drain(void)
{
	while (wait_irq(20000) == DB_VECTOR)
		;
}

/* ---- role=ping ---- */

static int run_ping(const char *cmdline, uint64_t nonce)
{
	struct ivdev d;
	uint64_t n = opt_u64(cmdline, "n", 10000);
	uint64_t warm = opt_u64(cmdline, "warm", 200);
	uint64_t lost = 0, warm_lost = 0, sum = 0, got = 0;

	test_begin("db_bench/ping");
	timer_init();
	ivdev_open(&d);
	volatile struct db_bench_shm *s = shm_of(&d);
	volatile uint64_t *samples = (volatile uint64_t *)(uintptr_t)(d.shm +
								       DB_BENCH_SAMPLES_OFF);
	uint64_t room = (d.size - DB_BENCH_SAMPLES_OFF) / sizeof(uint64_t);
	uint64_t doorbell = d.regs + REG_DOORBELL;
	uint32_t self = mmio_read32(d.regs + REG_IV_POSITION);

	if (!n)
		n = 1;
	if (n > room)
		n = room;
	s->ping_id = self;
	compiler_barrier();
	s->ping_nonce = nonce;
	CHECK(wait_u64(&s->pong_nonce, nonce), "no pong within %lu ms", timeout_ms);
	uint32_t peer = s->pong_id;

	printf("db_bench: ping %u -> pong %u, %lu warm-up + %lu timed round trips\n", self, peer,
	       warm, n);

	/*
	 * Warm-up: the first rings may go nowhere while this VM's device model has not yet heard of
	 * the pong from the server, so a ring without an answer is simply repeated.
	 */
	for (uint64_t i = 0; i < warm; i++) {
		ring(doorbell, peer);
		if (wait_irq(200000) != DB_VECTOR) {
			CHECK(++warm_lost < 50, "50 warm-up rings got no answer");
			i--;
		}
	}
	drain();

	/* The timed loop: a ring, a halt until the answer, a store. */
	while (got < n) {
		uint64_t t0 = rdtsc();

		ring(doorbell, peer);
		int v = wait_irq(RT_TIMEOUT_US);
		uint64_t dt = rdtsc() - t0;

		if (v != DB_VECTOR) {
			CHECK(++lost < 20, "20 round trips lost");
			drain();
			continue;
		}
		samples[got++] = dt;
		sum += dt;
	}

	s->result_n = got;
	s->result_lost = lost;
	s->result_tsc_khz = tsc_khz();
	compiler_barrier();
	s->result_nonce = nonce;
	s->done = nonce;
	compiler_barrier();
	ring(doorbell, peer);

	printf("RESULT ping n=%lu mean=%lu lost=%lu warm_lost=%lu tsc_khz=%lu timer=%s\n", got,
	       ticks_to_ns(sum / got), lost, warm_lost, tsc_khz(), timer_source());
	test_pass();
	return 0;
}

/* ---- role=pong ---- */

static int run_pong(uint64_t nonce)
{
	struct ivdev d;
	uint64_t answered = 0;
	uint32_t peer = 0;

	test_begin("db_bench/pong");
	timer_init();
	ivdev_open(&d);
	volatile struct db_bench_shm *s = shm_of(&d);
	uint64_t doorbell = d.regs + REG_DOORBELL;

	s->pong_id = mmio_read32(d.regs + REG_IV_POSITION);
	compiler_barrier();
	s->pong_nonce = nonce;

	/* The first ring: the ping has announced itself by then. */
	int v = wait_irq(timeout_ms * 1000);

	CHECK(v == DB_VECTOR, "no ring within %lu ms (vector %d)", timeout_ms, v);
	CHECK(s->ping_nonce == nonce, "rung before the ping announced itself");
	peer = s->ping_id;
	while (s->done != nonce) {
		ring(doorbell, peer);
		answered++;
		v = wait_irq(timeout_ms * 1000);
		CHECK(v == DB_VECTOR, "no ring within %lu ms after %lu answers (vector %d)",
		      timeout_ms, answered, v);
	}
	printf("db_bench: pong answered %lu rings\n", answered);
	test_pass();
	return 0;
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	char role[16] = "";
	uint64_t nonce = opt_u64(cmdline, "nonce", 0);

	(void)mbi;
	timeout_ms = opt_u64(cmdline, "timeout_ms", timeout_ms);
	cmdline_get(cmdline, "role", role, sizeof(role));
	if (!strcmp(role, "exits"))
		return run_exits(cmdline);
	if (strcmp(role, "ping") && strcmp(role, "pong")) {
		printf("FAIL: db_bench: role=exits|ping|pong, got \"%s\"\n", role);
		return 1;
	}
	if (!nonce) {
		printf("FAIL: db_bench: nonce=X (non-zero) is required\n");
		return 1;
	}
	return role[1] == 'i' ? run_ping(cmdline, nonce) : run_pong(nonce);
}
