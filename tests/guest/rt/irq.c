/* wait_irq(): the policy around irq_halt(), including its timeout on the LAPIC timer. */
#include "irq.h"

#include <stdbool.h>

#include "check.h"
#include "exit.h"
#include "io.h"
#include "lapic.h"
#include "print.h"
#include "timer.h"

extern volatile uint8_t halt_armed;	/* irq_entry.S: set while irq_halt() waits */

static uint64_t taken;
static uint64_t timer_left;		/* ticks still to run once the current one-shot ends */
static bool timer_armed;

void irq_init(void)
{
	lapic_init();
	timer_init();
}

uint64_t irq_count(void)
{
	return taken;
}

int irq_record(uint64_t vector)
{
	/* The spurious vector is the one interrupt that must not be acknowledged. */
	if (vector != IRQ_SPURIOUS_VECTOR)
		lapic_eoi();
	if (!halt_armed) {
		printf("FAIL: %s: interrupt %lu outside wait_irq\n", test_current(), vector);
		guest_exit(1);
	}
	taken++;
	return (int)vector;
}

/* The LAPIC counter is 32 bits: long timeouts run as a chain of one-shots. */
static void arm_next_chunk(void)
{
	uint32_t n = timer_left > UINT32_MAX ? UINT32_MAX : (uint32_t)timer_left;

	timer_left -= n;
	lapic_timer_start(n, IRQ_TIMER_VECTOR);
}

static uint64_t us_to_ticks(uint64_t us)
{
	uint64_t khz = lapic_timer_khz();

	if (us > 1000000000000ull)	/* 11 days: beyond any test, and no overflow below */
		us = 1000000000000ull;
	uint64_t ticks = us / 1000 * khz + us % 1000 * khz / 1000;

	return ticks ? ticks : 1;
}

int wait_irq(uint64_t timeout_us)
{
	irq_init();
	irq_disable();
	timer_armed = timeout_us != WAIT_FOREVER;
	if (timer_armed) {
		timer_left = us_to_ticks(timeout_us);
		arm_next_chunk();
	}
	for (;;) {
		int v = irq_halt();

		if (v == IRQ_SPURIOUS_VECTOR)
			continue;
		if (v == IRQ_TIMER_VECTOR) {
			/*
			 * An expiry left pending by an earlier wait shows up here while the
			 * current one-shot is still counting (or none is armed): not ours.
			 */
			if (!timer_armed || lapic_timer_current() != 0)
				continue;
			if (timer_left) {
				arm_next_chunk();
				continue;
			}
			timer_armed = false;
			return WAIT_TIMEOUT;
		}
		if (timer_armed) {
			lapic_timer_stop();
			timer_armed = false;
		}
		return v;
	}
}
