/*
 * Application processors. smp_start() wakes every other CPU with INIT and two start-up IPIs
 * (the broadcast a BIOS uses) and has each run fn(index, arg) on its own stack, with the IDT
 * and its LAPIC set up; interrupts are off, and wait_irq() works there as on the boot CPU.
 * A CPU's work returns to a cli/hlt loop.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdint.h>

#include "multiboot.h"

typedef void (*smp_fn)(unsigned index, void *arg);

/*
 * Starts the APs and waits until `expect` of them (CPUs - 1) run fn or timeout_us passes, then
 * 20 ms more for any beyond. Returns how many started. mbi tells which low page is free for the
 * start-up code (never the loader's structures).
 */
unsigned smp_start(const struct mb_info *mbi, smp_fn fn, void *arg, unsigned expect,
		   uint64_t timeout_us);

/* CPUs running: 1 + the APs started (those beyond CPU_MAX are not counted here). */
unsigned smp_cpus(void);
/* APs that woke beyond CPU_MAX: they only halt. */
unsigned smp_extra(void);
/* The APIC id of CPU index (valid below smp_cpus()). */
uint32_t smp_apic_id(unsigned index);

#endif
