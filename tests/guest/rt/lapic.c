/*
 * The local APIC of each CPU. The mode (xAPIC or x2APIC) is the boot CPU's, as firmware left it;
 * an application processor comes out of INIT in xAPIC mode and is switched to match.
 */
#include "lapic.h"

#include "check.h"
#include "cpu.h"
#include "io.h"
#include "mmio.h"
#include "paging.h"

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_X2APIC	(1ull << 10)
#define APIC_BASE_ENABLE	(1ull << 11)
#define MSR_X2APIC_FIRST	0x800	/* xAPIC register offset >> 4 is the MSR's index */

#define REG_ID		0x020
#define REG_TPR		0x080
#define REG_EOI		0x0b0
#define REG_SVR		0x0f0
#define REG_ESR		0x280
#define REG_ICR_LO	0x300
#define REG_ICR_HI	0x310
#define REG_LVT_TIMER	0x320
#define REG_LVT_LINT0	0x350
#define REG_LVT_ERROR	0x370
#define REG_TIMER_INIT	0x380
#define REG_TIMER_CUR	0x390
#define REG_TIMER_DIV	0x3e0

#define SVR_ENABLE		0x100
#define SPURIOUS_VECTOR		0xff
#define LVT_MASKED		(1u << 16)
#define ICR_SELF		(1u << 18)	/* destination shorthand 01 */
#define ICR_ALL_BUT_SELF	(3u << 18)	/* destination shorthand 11 */
#define ICR_INIT		(5u << 8)	/* delivery mode INIT */
#define ICR_STARTUP		(6u << 8)	/* delivery mode start-up (SIPI) */
#define ICR_ASSERT		(1u << 14)
#define ICR_PENDING		(1u << 12)	/* xAPIC delivery status */
#define TIMER_DIV_1		0xb

static bool detected, x2apic;
static uint64_t mmio_base;

static uint32_t lapic_read(unsigned reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_FIRST + (reg >> 4));
	return mmio_read32(mmio_base + reg);
}

static void lapic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_FIRST + (reg >> 4), v);
	else
		mmio_write32(mmio_base + reg, v);
}

/* The mode and address, from the boot CPU (the first to get here). */
static void lapic_detect(void)
{
	uint32_t a, b, c, d;
	uint64_t base;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(d & (1u << 9)))
		test_fail("CPUID reports no local APIC");
	base = rdmsr(MSR_APIC_BASE);
	x2apic = base & APIC_BASE_X2APIC;
	mmio_base = base & 0x000ffffffffff000ull;
	/* Firmware may have moved it; the low 4 GiB hole is already mapped uncached. */
	if (!x2apic && mmio_base >= (4ull << 30) && map_range(mmio_base, 4096, MAP_UC) != 0)
		test_fail("cannot map the LAPIC at 0x%lx", mmio_base);
	detected = true;
}

void lapic_init(void)
{
	struct cpu *cpu = this_cpu();
	uint64_t base;

	if (cpu->lapic_ready)
		return;
	if (!detected)
		lapic_detect();
	base = rdmsr(MSR_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE)) {
		base |= APIC_BASE_ENABLE;
		wrmsr(MSR_APIC_BASE, base);
	}
	/* x2APIC is entered from xAPIC enabled, never the other way. */
	if (x2apic && !(base & APIC_BASE_X2APIC))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
	cpu->lapic_ready = true;

	lapic_write(REG_TPR, 0);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	lapic_write(REG_TIMER_INIT, 0);
	lapic_write(REG_TIMER_DIV, TIMER_DIV_1);
	/* LINT0 carries the 8259's ExtINT in virtual-wire mode: we use neither. */
	lapic_write(REG_LVT_LINT0, LVT_MASKED);
	lapic_write(REG_LVT_ERROR, LVT_MASKED);
	lapic_write(REG_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_write(REG_ESR, 0);	/* clears errors from before us (x2APIC: must write 0) */
}

bool lapic_is_x2apic(void)
{
	lapic_init();
	return x2apic;
}

uint32_t lapic_id(void)
{
	lapic_init();
	uint32_t id = lapic_read(REG_ID);

	return x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
	lapic_write(REG_EOI, 0);
}

/* One write of the ICR: x2APIC takes it whole, xAPIC destination first, then the command. */
static void send_icr(uint32_t dest, uint32_t low)
{
	lapic_init();
	if (x2apic) {
		wrmsr(MSR_X2APIC_FIRST + (REG_ICR_LO >> 4), (uint64_t)dest << 32 | low);
		return;
	}
	lapic_write(REG_ICR_HI, dest << 24);
	lapic_write(REG_ICR_LO, low);
	/* Bounded: a virtual APIC normally delivers at once. */
	for (int i = 0; i < 100000 && (lapic_read(REG_ICR_LO) & ICR_PENDING); i++)
		cpu_relax();
}

void lapic_send_self_ipi(uint8_t vector)
{
	send_icr(0, ICR_SELF | vector);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	send_icr(apic_id, vector);	/* fixed delivery, physical destination */
}

void lapic_send_init_others(void)
{
	send_icr(0, ICR_ALL_BUT_SELF | ICR_INIT | ICR_ASSERT);
}

void lapic_send_startup_others(uint32_t page)
{
	send_icr(0, ICR_ALL_BUT_SELF | ICR_STARTUP | (page >> 12 & 0xff));
}

void lapic_timer_start(uint32_t ticks, int vector)
{
	lapic_init();
	lapic_write(REG_TIMER_DIV, TIMER_DIV_1);
	/* One-shot mode is LVT bits 18:17 = 00. */
	lapic_write(REG_LVT_TIMER, vector < 0 ? LVT_MASKED : (uint32_t)(vector & 0xff));
	lapic_write(REG_TIMER_INIT, ticks);
}

void lapic_timer_stop(void)
{
	lapic_write(REG_TIMER_INIT, 0);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
}

uint32_t lapic_timer_current(void)
{
	return lapic_read(REG_TIMER_CUR);
}

uint64_t msi_address(void)
{
	return msi_address_for(lapic_id());
}

uint64_t msi_address_for(uint32_t apic_id)
{
	return 0xfee00000ull | ((uint64_t)(apic_id & 0xff) << 12);
}

uint32_t msi_data(uint8_t vector)
{
	return vector;
}
