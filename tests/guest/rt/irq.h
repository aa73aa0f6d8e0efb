/*
 * Waiting for interrupts. Interrupts are off everywhere except inside wait_irq(): a device or
 * IPI that fires meanwhile stays pending in the LAPIC and is taken by the next wait_irq().
 * Handlers never iretq (see irq_entry.S for why): they record the vector, send EOI and resume
 * wait_irq(), which returns the vector with interrupts off again.
 *
 * Vectors: 0x30 is wait_irq's own timeout timer, 0xff the LAPIC spurious vector, 0x20..0x2f
 * where the masked PIC was moved. Tests use IRQ_VECTOR_FIRST..IRQ_VECTOR_LAST for devices and
 * IPIs; within those, a higher vector is delivered first when several are pending.
 */
#ifndef GUEST_IRQ_H
#define GUEST_IRQ_H

#include <stdint.h>

#define IRQ_TIMER_VECTOR	0x30
#define IRQ_SPURIOUS_VECTOR	0xff
#define IRQ_VECTOR_FIRST	0x40
#define IRQ_VECTOR_LAST		0xfe

#define WAIT_FOREVER		UINT64_MAX
#define WAIT_TIMEOUT		(-1)

/* LAPIC on and the timer calibrated. Idempotent; wait_irq() calls it itself. */
void irq_init(void);

/*
 * Halts until an interrupt arrives or timeout_us passes (WAIT_FOREVER: no timeout); returns
 * the vector, or WAIT_TIMEOUT. timeout_us = 0 takes only what is already pending.
 */
int wait_irq(uint64_t timeout_us);

/* Interrupts taken since boot (all vectors). */
uint64_t irq_count(void);

/* Low level, from irq_entry.S: with IF=0, halts with IF=1 until an interrupt; its vector. */
int irq_halt(void);
/* Called by every interrupt stub: EOI and bookkeeping; returns the vector. */
int irq_record(uint64_t vector);

#endif
