#include "timer.h"

#include <stdbool.h>

#include "check.h"
#include "io.h"
#include "lapic.h"
#include "print.h"

#define PIT_HZ		1193182u
#define PIT_WINDOW_MS	10u
#define PIT_CH2_DATA	0x42
#define PIT_MODE	0x43
#define PORT_B		0x61	/* bit 0: channel 2 gate, bit 1: speaker, bit 5: channel 2 output */

/* Any TSC runs at 0.1 .. 10 GHz, so this many ticks is at least 30 ms and at most 3 s. */
#define PIT_TSC_LIMIT	300000000ull

static uint64_t khz_tsc, khz_lapic, tsc_base;
static const char *source = "none";
static bool calibrated;

/*
 * Counts TSC and LAPIC ticks while PIT channel 2 counts down a 10 ms one-shot (mode 0); its
 * output on port 0x61 bit 5 rises at the end. False when no PIT answers: the output is high
 * before the count could have run, or never rises.
 */
static bool pit_measure(uint64_t *tsc_ticks, uint64_t *lapic_ticks)
{
	uint16_t count = (uint16_t)(PIT_HZ * PIT_WINDOW_MS / 1000);
	uint64_t t0, t;
	uint32_t l0, l1;
	unsigned polls = 0;

	outb(PORT_B, (inb(PORT_B) & ~0x02) | 0x01);	/* gate on, speaker off */
	outb(PIT_MODE, 0xb0);				/* channel 2, lo/hi byte, mode 0, binary */
	outb(PIT_CH2_DATA, count & 0xff);
	outb(PIT_CH2_DATA, count >> 8);

	lapic_timer_start(0xffffffffu, -1);
	l0 = lapic_timer_current();
	t0 = rdtsc();
	while (!(inb(PORT_B) & 0x20)) {
		polls++;
		if (rdtsc() - t0 > PIT_TSC_LIMIT) {
			lapic_timer_stop();
			return false;
		}
	}
	t = rdtsc();
	l1 = lapic_timer_current();
	lapic_timer_stop();
	if (polls == 0)
		return false;
	*tsc_ticks = t - t0;
	*lapic_ticks = (uint64_t)l0 - l1;
	return true;
}

/* Without a PIT: assume the KVM/QEMU 1 GHz APIC bus and time the TSC over 10 ms of it. */
static bool lapic_measure_tsc(uint64_t *tsc_ticks, uint64_t *lapic_ticks)
{
	const uint32_t window = 10000000;	/* 10 ms at 1 GHz */
	uint32_t l0, l;
	uint64_t t0;

	lapic_timer_start(0xffffffffu, -1);
	l0 = lapic_timer_current();
	t0 = rdtsc();
	do {
		l = lapic_timer_current();
		if (rdtsc() - t0 > PIT_TSC_LIMIT * 10)
			break;
	} while (l0 - l < window);
	*tsc_ticks = rdtsc() - t0;
	*lapic_ticks = (uint64_t)l0 - l;
	lapic_timer_stop();
	return l0 != l;
}

void timer_init(void)
{
	uint64_t tt = 0, lt = 0;

	if (calibrated)
		return;
	lapic_init();
	if (pit_measure(&tt, &lt) && lt / PIT_WINDOW_MS >= 1000 && tt / PIT_WINDOW_MS >= 100000) {
		khz_tsc = tt / PIT_WINDOW_MS;
		khz_lapic = lt / PIT_WINDOW_MS;
		source = "pit";
	} else if (lapic_measure_tsc(&tt, &lt)) {
		khz_lapic = 1000000;
		khz_tsc = tt * khz_lapic / lt;
		source = "assumed";
	} else {
		/* A LAPIC timer that does not count would turn every timeout into a hang. */
		test_fail("the LAPIC timer does not count (current count stuck at 0x%x)",
			  lapic_timer_current());
	}
	tsc_base = rdtsc();
	calibrated = true;
	printf("timer: lapic %lu kHz (%s), tsc %lu kHz\n", khz_lapic, source, khz_tsc);
}

uint64_t tsc_khz(void)
{
	timer_init();
	return khz_tsc;
}

uint64_t lapic_timer_khz(void)
{
	timer_init();
	return khz_lapic;
}

const char *timer_source(void)
{
	return source;
}

uint64_t tsc_to_us(uint64_t ticks)
{
	timer_init();
	/* Split so ticks * 1000 cannot overflow for any realistic span. */
	return ticks / khz_tsc * 1000 + ticks % khz_tsc * 1000 / khz_tsc;
}

uint64_t time_us(void)
{
	timer_init();
	return tsc_to_us(rdtsc() - tsc_base);
}

void udelay(uint64_t us)
{
	uint64_t end = time_us() + us;

	while (time_us() < end)
		cpu_relax();
}
