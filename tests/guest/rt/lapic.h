/*
 * The local APIC of the (single) vCPU, in whichever mode firmware left it: xAPIC registers at
 * the APIC base (0xFEE00000) or, when x2APIC is already enabled, the x2APIC MSRs.
 */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Software-enables the LAPIC (spurious vector 0xff), TPR 0, timer/LINT0/error LVTs masked. */
void lapic_init(void);
uint32_t lapic_id(void);
bool lapic_is_x2apic(void);
void lapic_eoi(void);
/* Sends vector to this vCPU (ICR, destination shorthand "self"). */
void lapic_send_self_ipi(uint8_t vector);

/*
 * One-shot timer at the APIC bus rate (divide by 1): counts ticks down to 0 and then raises
 * vector, or nothing when vector < 0. ticks = 0 stops it.
 */
void lapic_timer_start(uint32_t ticks, int vector);
void lapic_timer_stop(void);
uint32_t lapic_timer_current(void);

/* What a device must write to reach this vCPU with vector: fixed delivery, edge, physical. */
uint64_t msi_address(void);
uint32_t msi_data(uint8_t vector);

#endif
