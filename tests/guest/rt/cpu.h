/*
 * Per-CPU state of the runtime. Each CPU's GS base points at its struct cpu, so the interrupt
 * path (irq_entry.S) and wait_irq() find this CPU's continuation and timer without a lookup.
 * The boot CPU is index 0; application processors get 1, 2, ... in the order they start
 * (smp.h).
 */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#define CPU_MAX 16

/* Offsets irq_entry.S uses; cpu.c checks them against the structure. */
#define CPU_HALT_CONT	8	/* rbx, rbp, r12-r15, rsp of irq_halt's caller */
#define CPU_HALT_ARMED	64

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stdint.h>

struct cpu {
	struct cpu *self;		/* %gs:0 */
	uint64_t halt_cont[7];
	uint8_t halt_armed;		/* set while irq_halt() waits */
	bool lapic_ready;
	bool timer_armed;		/* wait_irq's timeout is counting */
	unsigned index;
	uint32_t apic_id;
	uint64_t irqs;			/* interrupts taken */
	uint64_t timer_left;		/* ticks still to run once the current one-shot ends */
};

extern struct cpu cpus[CPU_MAX];

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

static inline unsigned cpu_index(void)
{
	return this_cpu()->index;
}

/* Points this CPU's GS base at cpus[index]. The boot CPU calls it first thing. */
void cpu_setup(unsigned index);

#endif /* __ASSEMBLER__ */

#endif
