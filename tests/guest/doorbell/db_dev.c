/* The doorbell guest's device access, slots and barriers (see db.h). */
#include "db.h"

#define IVSHMEM_VENDOR	0x1af4
#define IVSHMEM_DEVICE	0x1110

#define MSIX_CTRL		2
#define MSIX_PBA		8
#define MSIX_CTRL_FMASK		0x4000
#define MSIX_ENTRY_SIZE		16
#define MSIX_ENTRY_CTRL		12

struct db db;

uint32_t db_reg_read(unsigned off)
{
	return mmio_read32(db.bar0 + off);
}

void db_reg_write(unsigned off, uint32_t v)
{
	mmio_write32(db.bar0 + off, v);
}

void db_ring(uint32_t peer, uint32_t vector)
{
	db_fence(); /* what the peer is to read is visible before it is rung */
	db_reg_write(DB_REG_DOORBELL, peer << 16 | (vector & 0xffff));
}

void db_vector_mask(unsigned k, bool masked)
{
	uint64_t ctrl = db.msix_table + (uint64_t)k * MSIX_ENTRY_SIZE + MSIX_ENTRY_CTRL;
	uint32_t v = mmio_read32(ctrl);

	mmio_write32(ctrl, masked ? v | 1 : v & ~1u);
}

void db_function_mask(bool masked)
{
	uint16_t ctrl = pci_read16(db.bdf, db.msix_cap + MSIX_CTRL);

	ctrl = masked ? ctrl | MSIX_CTRL_FMASK : ctrl & ~MSIX_CTRL_FMASK;
	pci_write16(db.bdf, db.msix_cap + MSIX_CTRL, ctrl);
}

bool db_pba_pending(unsigned k)
{
	return mmio_read32(db.pba + k / 32 * 4) & (1u << (k % 32));
}

static void setup_msix(void)
{
	db.msix_cap = pci_cap_find(db.bdf, PCI_CAP_MSIX);
	if (!db.msix_cap)
		return; /* the plain device */
	int n = pci_msix_table_size(db.bdf);

	CHECK(n > 0 && n <= DB_MAX_VECTORS, "MSI-X table of %d entries", n);
	db.nvec = (unsigned)n;
	db.msix_table = pci_msix_table_addr(db.bdf);
	uint32_t pba = pci_read32(db.bdf, db.msix_cap + MSIX_PBA);

	db.pba = pci_bar_addr(db.bdf, (int)(pba & 7)) + (pba & ~7u);
	CHECK(db.msix_table && db.pba, "MSI-X table 0x%lx, PBA 0x%lx", db.msix_table, db.pba);
	CHECK(map_range(db.pba, 8, MAP_UC) == 0, "cannot map the PBA at 0x%lx", db.pba);
	/* MSI-X writes are memory writes of the device: bus mastering must be on (QEMU drops them). */
	pci_cmd_update(db.bdf, PCI_CMD_MEM | PCI_CMD_MASTER, 0);
	for (unsigned k = 0; k < db.nvec; k++)
		CHECK(pci_msix_set(db.bdf, k, msi_address(), msi_data((uint8_t)(DB_VEC_BASE + k)),
				   false) == 0, "MSI-X entry %u", k);
	CHECK(pci_msix_enable(db.bdf) == 0);
	for (unsigned k = 0; k < db.nvec; k++)
		CHECK(!db_pba_pending(k), "vector %u pending right after set-up", k);
}

void db_find_device(const char *cmdline)
{
	uint64_t v;
	struct pci_bar bar2;

	test_begin("doorbell/device");
	CHECK(pci_find(IVSHMEM_VENDOR, IVSHMEM_DEVICE, 0, &db.bdf) == 0, "no ivshmem device");
	db.bar0 = pci_bar_addr(db.bdf, 0);
	CHECK(db.bar0 != 0, "BAR0 is not assigned");
	CHECK(map_range(db.bar0, 0x100, MAP_UC) == 0);
	CHECK(pci_bar_probe(db.bdf, 2, &bar2) == 2 && bar2.size, "BAR2 is not a 64-bit BAR");
	db.shm = bar2.addr;
	db.shm_size = bar2.size;
	CHECK(db.shm_size >= DB_REGION_MIN, "region of %lu bytes, need %lu", db.shm_size,
	      (uint64_t)DB_REGION_MIN);
	CHECK(map_range(db.shm, db.shm_size, MAP_WB) == 0, "cannot map BAR2 at 0x%lx", db.shm);
	pci_cmd_update(db.bdf, PCI_CMD_MEM, 0);
	setup_msix();
	if (cmdline_get_u64(cmdline, "vectors", &v))
		CHECK(db.nvec == v, "the device has %u MSI-X vectors, vectors=%lu", db.nvec, v);
	/* use_vectors=N: the server has only N of them (the rest is set up, but never rung). */
	if (cmdline_get_u64(cmdline, "use_vectors", &v) && v && v < db.nvec)
		db.nvec = (unsigned)v;

	db.index = cmdline_get_u64(cmdline, "index", &v) ? (unsigned)v : 0;
	/* peers=N: how many guests the barriers wait for (echo guests need none). */
	db.npeers = cmdline_get_u64(cmdline, "peers", &v) ? (unsigned)v
			: db.index + 1 > 2 ? db.index + 1 : 2;
	CHECK(db.index < DB_MAX_PEERS && db.npeers <= DB_MAX_PEERS && db.index < db.npeers,
	      "index=%u peers=%u (at most %u)", db.index, db.npeers, DB_MAX_PEERS);
	db.timeout_us = (cmdline_get_u64(cmdline, "rt_ms", &v) ? v : 2000) * 1000;
	db.wait_us = (cmdline_get_u64(cmdline, "wait", &v) ? v : 30) * 1000000;
	db.id = db_reg_read(DB_REG_IV_POSITION);
	printf("doorbell: %s index %u of %u: BAR0 0x%lx, BAR2 0x%lx (%lu KiB), %u vectors, "
	       "IVPosition %u\n", pci_bdf_str(db.bdf), db.index, db.npeers, db.bar0, db.shm,
	       db.shm_size >> 10, db.nvec, db.id);
	test_pass();
}

uint64_t db_pattern(unsigned index, uint64_t boot, unsigned word)
{
	uint64_t x = ((uint64_t)index + 1) * 0x9e3779b97f4a7c15ull ^ boot ^ (uint64_t)word << 40;

	x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

void db_publish(void)
{
	struct db_slot *s = db_slot(db.index);
	volatile uint64_t *data = (volatile uint64_t *)(uintptr_t)(db.shm + DB_SLOT_OFF(db.index) +
								   DB_DATA_OFF);

	s->magic = 0;
	db_fence();
	for (unsigned k = 0; k < DB_MAX_PEERS; k++)
		s->req[k] = s->ack[k] = 0;
	s->boot = rdtsc();
	for (unsigned w = 0; w < DB_DATA_BYTES / 8; w++)
		data[w] = db_pattern(db.index, s->boot, w);
	s->id = db.id;
	s->nvec = db.nvec;
	s->phase = 0;
	s->beat = 0;
	db_fence();
	s->magic = DB_SLOT_MAGIC;
	db_fence();
}

struct db_slot *db_peer(unsigned k)
{
	struct db_slot *s = db_slot(k);

	return s->magic == DB_SLOT_MAGIC ? s : NULL;
}

/* An interrupt taken at a barrier: a peer that left the barrier first may ring us already. */
static int stashed = WAIT_TIMEOUT;

int db_wait_irq(uint64_t timeout_us)
{
	int v = stashed;

	if (v != WAIT_TIMEOUT) {
		stashed = WAIT_TIMEOUT;
		return v;
	}
	return wait_irq(timeout_us);
}

void db_barrier(uint32_t p)
{
	uint64_t start = time_us();

	CHECK(stashed == WAIT_TIMEOUT, "interrupt 0x%x came before barrier %u and nobody expected "
	      "it", stashed, p);
	db_slot(db.index)->phase = p;
	db_fence();
	for (;;) {
		unsigned k, lagging = DB_MAX_PEERS;

		for (k = 0; k < db.npeers; k++) {
			struct db_slot *s = db_peer(k);

			if (!s || s->phase < p) {
				lagging = k;
				break;
			}
		}
		if (lagging == DB_MAX_PEERS)
			return;
		CHECK(time_us() - start < db.wait_us, "barrier %u: guest %u did not arrive within "
		      "%lu s (%s)", p, lagging, db.wait_us / 1000000,
		      db_peer(lagging) ? "it is up" : "it never published its slot");
		/* Halting, not spinning: the host has fewer CPUs than there are VMs. */
		int v = wait_irq(1000);

		if (v == WAIT_TIMEOUT)
			continue;
		CHECK(stashed == WAIT_TIMEOUT, "interrupts 0x%x and 0x%x at barrier %u", stashed, v,
		      p);
		stashed = v;
	}
}

void db_check_data(bool all)
{
	for (unsigned k = 0; k < (all ? DB_MAX_PEERS : db.npeers); k++) {
		struct db_slot *s = db_peer(k);
		volatile uint64_t *data = (volatile uint64_t *)(uintptr_t)(db.shm + DB_SLOT_OFF(k) +
									   DB_DATA_OFF);

		if (all && !s)
			continue;
		CHECK(s, "guest %u has no slot", k);
		for (unsigned w = 0; w < DB_DATA_BYTES / 8; w++)
			CHECK(data[w] == db_pattern(k, s->boot, w), "guest %u's data word %u: 0x%lx, "
			      "expected 0x%lx", k, w, data[w], db_pattern(k, s->boot, w));
	}
}
