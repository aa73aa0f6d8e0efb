/*
 * The local APIC of the calling CPU, in whichever mode firmware left the boot CPU's: xAPIC
 * registers at the APIC base (0xFEE00000) or, when x2APIC is already enabled, the x2APIC MSRs.
 */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Software-enables this CPU's LAPIC (spurious vector 0xff), TPR 0, timer/LINT0/error LVTs
 * masked. Once per CPU; the other functions call it.
 */
void lapic_init(void);
uint32_t lapic_id(void);
bool lapic_is_x2apic(void);
void lapic_eoi(void);
/* Sends vector to this vCPU (ICR, destination shorthand "self"). */
void lapic_send_self_ipi(uint8_t vector);
/* Sends vector to the CPU with apic_id: fixed delivery, physical destination. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
/* INIT (assert) and start-up IPIs to every other CPU; page is the 4 KiB code page < 1 MiB. */
void lapic_send_init_others(void);
void lapic_send_startup_others(uint32_t page);

/*
 * One-shot timer at the APIC bus rate (divide by 1): counts ticks down to 0 and then raises
 * vector, or nothing when vector < 0. ticks = 0 stops it.
 */
void lapic_timer_start(uint32_t ticks, int vector);
void lapic_timer_stop(void);
uint32_t lapic_timer_current(void);

/* What a device must write to reach this vCPU with vector: fixed delivery, edge, physical. */
uint64_t msi_address(void);
/* ... and to reach the CPU with apic_id. */
uint64_t msi_address_for(uint32_t apic_id);
uint32_t msi_data(uint8_t vector);

#endif
