#include "idt.h"

#include "check.h"
#include "exit.h"
#include "print.h"

#define SEL_CODE64	0x08
#define GATE_INTR	0x8e	/* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */
#define STUB_SIZE	16

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const char isr_stubs[];

static struct idt_gate idt[256] __attribute__((aligned(16)));

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t stub = (uint64_t)(uintptr_t)(isr_stubs + v * STUB_SIZE);

		idt[v] = (struct idt_gate){
			.offset_lo = (uint16_t)stub,
			.selector = SEL_CODE64,
			.type = GATE_INTR,
			.offset_mid = (uint16_t)(stub >> 16),
			.offset_hi = (uint32_t)(stub >> 32),
		};
	}
	idt_load();
}

void idt_load(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p));
}

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM no FPU", "#DF double fault",
	"coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection",
};

void exception_report(const struct exc_frame *f)
{
	static int nested;
	uint64_t cr2;

	if (nested++)
		guest_exit(1);	/* faulted while reporting: just stop */
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));

	const char *name = f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector]
								   : "reserved";
	printf("FAIL: %s: exception %lu (%s) error 0x%lx at rip 0x%lx cr2 0x%lx\n",
	       test_current(), f->vector, name, f->error, f->rip, cr2);
	printf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	printf("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
	printf("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", f->r8, f->r9, f->r10, f->r11);
	printf("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", f->r12, f->r13, f->r14, f->r15);
	printf("  cs %lx rflags %lx ss %lx\n", f->cs, f->rflags, f->ss);
	guest_exit(1);
}
