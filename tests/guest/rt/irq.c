/*
 * wait_irq(): the policy around irq_halt(), including its timeout on the LAPIC timer. The state
 * is per CPU (cpu.h): each CPU waits on its own LAPIC and timer.
 */
#include "irq.h"

#include <stdbool.h>

#include "check.h"
#include "cpu.h"
#include "exit.h"
#include "io.h"
#include "lapic.h"
#include "print.h"
#include "timer.h"

void irq_init(void)
{
	lapic_init();
	timer_init();
}

uint64_t irq_count(void)
{
	return this_cpu()->irqs;
}

int irq_record(uint64_t vector)
{
	/* The spurious vector is the one interrupt that must not be acknowledged. */
	if (vector != IRQ_SPURIOUS_VECTOR)
		lapic_eoi();
	struct cpu *c = this_cpu();

	if (!c->halt_armed) {
		printf("FAIL: %s: interrupt %lu outside wait_irq (CPU %u)\n", test_current(), vector,
		       c->index);
		guest_exit(1);
	}
	c->irqs++;
	return (int)vector;
}

/* The LAPIC counter is 32 bits: long timeouts run as a chain of one-shots. */
static void arm_next_chunk(struct cpu *c)
{
	uint32_t n = c->timer_left > UINT32_MAX ? UINT32_MAX : (uint32_t)c->timer_left;

	c->timer_left -= n;
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
	struct cpu *c = this_cpu();

	irq_init();
	irq_disable();
	c->timer_armed = timeout_us != WAIT_FOREVER;
	if (c->timer_armed) {
		c->timer_left = us_to_ticks(timeout_us);
		arm_next_chunk(c);
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
			if (!c->timer_armed || lapic_timer_current() != 0)
				continue;
			if (c->timer_left) {
				arm_next_chunk(c);
				continue;
			}
			c->timer_armed = false;
			return WAIT_TIMEOUT;
		}
		if (c->timer_armed) {
			lapic_timer_stop();
			c->timer_armed = false;
		}
		return v;
	}
}
