/*
 * SMP: every vCPU the VM was given runs guest code and takes interrupts aimed at it.
 *
 * The boot CPU starts the others with INIT and start-up IPIs (smp.h). Each CPU writes its APIC
 * id into the plain ivshmem region (the host checks it there too), then waits for interrupts.
 * The boot CPU checks that exactly cpus-1 APs came up with distinct APIC ids, sends each a
 * fixed IPI, and then has a device send each CPU an MSI whose destination is that CPU's APIC
 * id: the ivshmem doorbell device (msi=doorbell: MSI-X entry k aimed at CPU k, rung on the
 * device's own IVPosition) or QEMU's edu device (msi=edu: one MSI re-aimed per CPU).
 *
 * Command line: cpus=N (required), msi=doorbell|edu (default doorbell), hold_ms=T (keep the
 * vCPUs running T ms after the checks, so the host can look at their threads).
 * Region layout (BAR2 of the ivshmem device without MSI-X):
 *   0x00 "SMPTEST" once every check passed, 0x08 the CPU count, 0x10 + 4 * i: CPU i's APIC id.
 */
#include "guest.h"

#define IVSHMEM_VENDOR	0x1af4
#define IVSHMEM_DEVICE	0x1110
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define DB_IV_POSITION	0x08
#define DB_DOORBELL	0x0c

#define OFF_MAGIC	0x00
#define OFF_COUNT	0x08
#define OFF_IDS		0x10
#define VEC_IPI		0x90
#define VEC_MSI(k)	(0x50 + (k))
#define WAIT_US		1000000

/* What each CPU last took, written by that CPU (the boot CPU's entry stays unused). */
struct report {
	uint32_t vector;
	uint32_t count;
};

static struct report reports[CPU_MAX];
static uint64_t shm;

static void ap_main(unsigned index, void *arg)
{
	(void)arg;
	mmio_write32(shm + OFF_IDS + 4 * index, lapic_id());
	for (;;) {
		int v = wait_irq(WAIT_FOREVER);

		__atomic_store_n(&reports[index].vector, (uint32_t)v, __ATOMIC_RELAXED);
		__atomic_add_fetch(&reports[index].count, 1, __ATOMIC_RELEASE);
	}
}

/* Waits until CPU index has taken one more interrupt than `before`; its vector, or -1. */
static int ap_took(unsigned index, uint32_t before)
{
	uint64_t end = time_us() + WAIT_US;

	while (__atomic_load_n(&reports[index].count, __ATOMIC_ACQUIRE) == before) {
		if (time_us() > end)
			return -1;
		cpu_relax();
	}
	return (int)__atomic_load_n(&reports[index].vector, __ATOMIC_RELAXED);
}

static uint32_t counts_sum(unsigned ncpus)
{
	uint32_t n = 0;

	for (unsigned i = 1; i < ncpus; i++)
		n += __atomic_load_n(&reports[i].count, __ATOMIC_ACQUIRE);
	return n;
}

/* The interrupt vector for CPU k arrived at CPU k, and nowhere else. */
static void expect_on(unsigned k, unsigned ncpus, int vector, uint32_t before, uint32_t sum)
{
	if (k == 0) {
		int v = wait_irq(WAIT_US);

		CHECK(v == vector, "the boot CPU took %d, expected 0x%x", v, vector);
	} else {
		int v = ap_took(k, before);

		CHECK(v == vector, "CPU %u (APIC id %u) took %d, expected 0x%x", k, smp_apic_id(k), v,
		      vector);
	}
	CHECK_EQ(counts_sum(ncpus), sum + (k ? 1 : 0));
}

static uint16_t find_ivshmem(bool with_msix)
{
	uint16_t bdf;

	for (int i = 0; pci_find(IVSHMEM_VENDOR, IVSHMEM_DEVICE, i, &bdf) == 0; i++)
		if ((pci_cap_find(bdf, PCI_CAP_MSIX) != 0) == with_msix)
			return bdf;
	return 0xffff;
}

static void test_start(const struct mb_info *mbi, unsigned ncpus)
{
	struct pci_bar bar2;
	uint16_t bdf;

	test_begin("smp/start");
	bdf = find_ivshmem(false);
	CHECK(bdf != 0xffff, "no plain ivshmem device for the APIC ids");
	CHECK(pci_bar_probe(bdf, 2, &bar2) == 2 && bar2.size >= 4096, "BAR2 unusable");
	shm = bar2.addr;
	CHECK(map_range(shm, bar2.size, MAP_WB) == 0);
	pci_cmd_update(bdf, PCI_CMD_MEM, 0);
	for (unsigned off = 0; off < OFF_IDS + 4 * CPU_MAX; off += 4)
		mmio_write32(shm + off, 0xffffffff);
	mmio_write32(shm + OFF_IDS, lapic_id());

	unsigned started = smp_start(mbi, ap_main, NULL, ncpus - 1, 5000000);

	printf("smp: %u application processors started (expected %u), %u beyond %u\n", started,
	       ncpus - 1, smp_extra(), CPU_MAX);
	CHECK_EQ(started, ncpus - 1);
	CHECK_EQ(smp_extra(), 0);
	test_pass();
}

static void test_apic_ids(unsigned ncpus)
{
	test_begin("smp/apic-ids");
	for (unsigned i = 0; i < ncpus; i++) {
		uint32_t id = mmio_read32(shm + OFF_IDS + 4 * i);

		printf("smp: CPU %u has APIC id %u\n", i, id);
		CHECK_EQ(id, smp_apic_id(i));
		for (unsigned j = 0; j < i; j++)
			CHECK(mmio_read32(shm + OFF_IDS + 4 * j) != id, "CPUs %u and %u share APIC id %u",
			      j, i, id);
	}
	test_pass();
}

static void test_ipis(unsigned ncpus)
{
	test_begin("smp/ipi");
	for (unsigned k = 1; k < ncpus; k++) {
		uint32_t before = reports[k].count, sum = counts_sum(ncpus);

		lapic_send_ipi(smp_apic_id(k), VEC_IPI);
		expect_on(k, ncpus, VEC_IPI, before, sum);
	}
	test_pass();
}

static void test_doorbell_msis(unsigned ncpus)
{
	uint16_t bdf = find_ivshmem(true);

	test_begin("smp/msi-doorbell");
	CHECK(bdf != 0xffff, "no ivshmem doorbell device (vectors=N)");
	CHECK(pci_msix_table_size(bdf) >= (int)ncpus, "%d MSI-X vectors for %u CPUs",
	      pci_msix_table_size(bdf), ncpus);
	uint64_t bar0 = pci_bar_addr(bdf, 0);

	CHECK(bar0 && map_range(bar0, 0x100, MAP_UC) == 0);
	/* MSI-X writes are the device's memory writes: bus mastering on. */
	pci_cmd_update(bdf, PCI_CMD_MEM | PCI_CMD_MASTER, 0);
	for (unsigned k = 0; k < ncpus; k++)
		CHECK(pci_msix_set(bdf, k, msi_address_for(smp_apic_id(k)), msi_data(VEC_MSI(k)),
				   false) == 0, "MSI-X entry %u", k);
	CHECK(pci_msix_enable(bdf) == 0);
	uint32_t own = mmio_read32(bar0 + DB_IV_POSITION);

	for (unsigned k = 0; k < ncpus; k++) {
		uint32_t before = reports[k].count, sum = counts_sum(ncpus);

		mmio_write32(bar0 + DB_DOORBELL, own << 16 | k);
		expect_on(k, ncpus, VEC_MSI(k), before, sum);
	}
	pci_msix_disable(bdf);
	test_pass();
}

static void test_edu_msis(unsigned ncpus)
{
	struct pci_bar bar;
	uint16_t bdf;

	test_begin("smp/msi-edu");
	CHECK(pci_find(EDU_VENDOR, EDU_DEVICE, 0, &bdf) == 0, "no edu device (QEMU -device edu)");
	CHECK(pci_bar_probe(bdf, 0, &bar) == 1 && bar.size && !bar.io, "edu BAR0 unusable");
	CHECK(map_range(bar.addr, bar.size, MAP_UC) == 0);
	pci_cmd_update(bdf, PCI_CMD_MEM | PCI_CMD_MASTER, 0);
	for (unsigned k = 0; k < ncpus; k++) {
		uint32_t before = reports[k].count, sum = counts_sum(ncpus);

		CHECK(pci_msi_enable(bdf, msi_address_for(smp_apic_id(k)), msi_data(VEC_MSI(k))) == 0,
		      "edu has no MSI");
		mmio_write32(bar.addr + EDU_IRQ_RAISE, 1);
		expect_on(k, ncpus, VEC_MSI(k), before, sum);
		mmio_write32(bar.addr + EDU_IRQ_ACK, 1);
		CHECK_EQ(mmio_read32(bar.addr + EDU_IRQ_STATUS), 0);
	}
	pci_msi_disable(bdf);
	test_pass();
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	uint64_t ncpus, hold_ms = 0;
	char msi[16] = "doorbell";

	test_begin("smp/cmdline");
	CHECK(cmdline_get_u64(cmdline, "cpus", &ncpus) && ncpus >= 1 && ncpus <= CPU_MAX,
	      "cpus=N (1 to %d) is required", CPU_MAX);
	cmdline_get(cmdline, "msi", msi, sizeof(msi));
	cmdline_get_u64(cmdline, "hold_ms", &hold_ms);
	CHECK(strcmp(msi, "doorbell") == 0 || strcmp(msi, "edu") == 0, "msi=%s: doorbell or edu",
	      msi);
	test_pass();

	test_start(mbi, (unsigned)ncpus);
	test_apic_ids((unsigned)ncpus);
	test_ipis((unsigned)ncpus);
	if (strcmp(msi, "doorbell") == 0)
		test_doorbell_msis((unsigned)ncpus);
	else
		test_edu_msis((unsigned)ncpus);

	/* Only now does the host find the region complete. */
	mmio_write32(shm + OFF_COUNT, (uint32_t)ncpus);
	mmio_write32(shm + OFF_MAGIC, 0x54504d53);	/* "SMPT" */
	mmio_write32(shm + OFF_MAGIC + 4, 0x00545345);	/* "EST\0" */
	udelay(hold_ms * 1000);
	return 0;
}
