/* The interrupt descriptor table: every vector points at its stub in irq_entry.S. */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stdint.h>

/* Builds and loads the IDT. Interrupts stay disabled; exceptions report and end the VM. */
void idt_init(void);
/* Loads the IDT idt_init built on this CPU (application processors share it). */
void idt_load(void);

/* What isr_common pushes for an exception, lowest address first. */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

__attribute__((noreturn)) void exception_report(const struct exc_frame *f);

#endif
