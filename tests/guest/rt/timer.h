/*
 * Time for tests: the TSC for measuring, the LAPIC timer for wait_irq()'s timeouts. Both are
 * calibrated once against the PIT (channel 2, a 10 ms window). Without a working PIT the LAPIC
 * timer is taken to run at 1 GHz, which is what KVM's in-kernel LAPIC and QEMU's emulated
 * one use, and the TSC is measured against it. Good to a few percent with a PIT; timeouts are
 * meant to be right within a factor of two, never to hang.
 */
#ifndef GUEST_TIMER_H
#define GUEST_TIMER_H

#include <stdint.h>

/* Calibrates (once; later calls do nothing) and prints the result. */
void timer_init(void);
uint64_t tsc_khz(void);
uint64_t lapic_timer_khz(void);
/* "pit" or "assumed": how lapic_timer_khz() was found. */
const char *timer_source(void);

/* Microseconds since timer_init(), from the TSC. */
uint64_t time_us(void);
uint64_t tsc_to_us(uint64_t ticks);
void udelay(uint64_t us);

#endif
