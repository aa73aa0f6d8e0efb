/*
 * irq_selftest: proves the runtime's interrupt path on this machine's KVM, where an iretq out
 * of an interrupt handler is fatal: wait_irq() must resume after each interrupt without one,
 * again and again, with correct EOIs, timeouts, priorities and stale-timer handling. With QEMU's
 * "edu" device present (-device edu) it also takes real device MSIs, the case that triple-faulted.
 */
#include "guest.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_ID		0x00	/* 0xRRrr00ed: version and the magic 0xed */
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64

static bool interrupts_off(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	return !(flags & 0x200);
}

/* Waits with a timeout; checks the vector, that IF is off again, and returns the time taken. */
static uint64_t expect(int want, uint64_t timeout_us)
{
	uint64_t t0 = time_us();
	int got = wait_irq(timeout_us);
	uint64_t took = time_us() - t0;

	CHECK(interrupts_off(), "wait_irq returned with interrupts on");
	if (want == WAIT_TIMEOUT)
		CHECK(got == WAIT_TIMEOUT, "expected a timeout, got vector 0x%x", got);
	else
		CHECK(got == want, "expected vector 0x%x, got %d", want, got);
	return took;
}

/* A timeout may be late (the host is busy) but never early beyond calibration error. */
static void check_timeout_span(uint64_t timeout_us, uint64_t took)
{
	CHECK(took >= timeout_us / 2, "timeout of %lu us came after %lu us", timeout_us, took);
	CHECK(took <= timeout_us * 4 + 50000, "timeout of %lu us came after %lu us", timeout_us,
	      took);
}

static void test_init(void)
{
	test_begin("irq/init");
	irq_init();
	printf("irq: lapic id %u (%s), msi address 0x%lx data(0x50) 0x%x\n", lapic_id(),
	       lapic_is_x2apic() ? "x2apic" : "xapic", msi_address(), msi_data(0x50));
	CHECK_EQ(msi_address(), 0xfee00000ul | ((uint64_t)(lapic_id() & 0xff) << 12));
	CHECK(interrupts_off());
	test_pass();
}

static void test_timeouts(void)
{
	static const uint64_t spans[] = { 2000, 2000, 50000, 0 };

	test_begin("irq/timeout");
	for (unsigned i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		uint64_t took = expect(WAIT_TIMEOUT, spans[i]);

		printf("irq: wait_irq(%lu) timed out after %lu us\n", spans[i], took);
		check_timeout_span(spans[i], took);
	}
	test_pass();
}

static void test_self_ipi(void)
{
	test_begin("irq/self-ipi");
	for (int i = 0; i < 3; i++) {
		lapic_send_self_ipi(0x50);
		uint64_t took = expect(0x50, 1000000);

		printf("irq: self-IPI 0x50 taken after %lu us\n", took);
	}
	/* An IPI already pending is taken even with a zero timeout. */
	lapic_send_self_ipi(0x51);
	expect(0x51, 0);
	/* Each was acknowledged once and only once: nothing is left. */
	expect(WAIT_TIMEOUT, 1000);
	test_pass();
}

static void test_priority(void)
{
	test_begin("irq/priority");
	lapic_send_self_ipi(0x41);
	lapic_send_self_ipi(0xe0);
	lapic_send_self_ipi(0x90);
	expect(0xe0, 100000);
	expect(0x90, 100000);
	expect(0x41, 100000);
	expect(WAIT_TIMEOUT, 1000);
	test_pass();
}

/* The LAPIC timer as an ordinary interrupt source, on a vector of the test's choosing. */
static void test_lapic_timer(void)
{
	uint32_t ticks_1ms = (uint32_t)lapic_timer_khz();

	test_begin("irq/lapic-timer");
	for (int i = 0; i < 2; i++) {
		lapic_timer_start(ticks_1ms, 0x60);
		/* wait_irq would re-arm the timer for its own timeout, so wait without one. */
		uint64_t took = expect(0x60, WAIT_FOREVER);

		printf("irq: 1 ms one-shot on vector 0x60 taken after %lu us\n", took);
		check_timeout_span(1000, took);
	}
	test_pass();
}

/* A timeout timer that expired while nobody waited must not cut the next wait short. */
static void test_stale_timer(void)
{
	test_begin("irq/stale-timer");
	lapic_timer_start((uint32_t)lapic_timer_khz(), IRQ_TIMER_VECTOR);
	udelay(3000);	/* interrupts off: the expiry stays pending */
	uint64_t took = expect(WAIT_TIMEOUT, 20000);

	printf("irq: wait_irq(20000) with a stale expiry pending timed out after %lu us\n", took);
	check_timeout_span(20000, took);
	test_pass();
}

static void test_edu_msi(void)
{
	struct pci_bar bar;
	uint16_t bdf;

	test_begin("irq/msi");
	if (pci_find(EDU_VENDOR, EDU_DEVICE, 0, &bdf) != 0) {
		test_skip("no edu device (QEMU -device edu)");
		return;
	}
	CHECK(pci_bar_probe(bdf, 0, &bar) == 1 && bar.size && !bar.io, "edu BAR0 unusable");
	CHECK(map_range(bar.addr, bar.size, MAP_UC) == 0);
	pci_cmd_update(bdf, PCI_CMD_MEM | PCI_CMD_MASTER, 0);
	CHECK_EQ(mmio_read32(bar.addr + EDU_ID) & 0xff, 0xed);
	CHECK(pci_msi_enable(bdf, msi_address(), msi_data(0x70)) == 0, "edu has no MSI");

	for (uint32_t i = 1; i <= 3; i++) {
		mmio_write32(bar.addr + EDU_IRQ_RAISE, i);
		uint64_t took = expect(0x70, 1000000);

		printf("irq: edu MSI 0x70 (status %u) taken after %lu us\n", i, took);
		CHECK_EQ(mmio_read32(bar.addr + EDU_IRQ_STATUS), i);
		mmio_write32(bar.addr + EDU_IRQ_ACK, i);
		CHECK_EQ(mmio_read32(bar.addr + EDU_IRQ_STATUS), 0);
	}
	expect(WAIT_TIMEOUT, 1000);
	pci_msi_disable(bdf);
	test_pass();
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	(void)mbi;
	(void)cmdline;
	test_init();
	test_timeouts();
	test_self_ipi();
	test_priority();
	test_lapic_timer();
	test_stale_timer();
	test_edu_msi();
	printf("irq: %lu interrupts taken\n", irq_count());
	return 0;
}
