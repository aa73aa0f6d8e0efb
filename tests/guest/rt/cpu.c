#include "cpu.h"

#include <stddef.h>

#include "io.h"

#define MSR_GS_BASE 0xc0000101

_Static_assert(offsetof(struct cpu, self) == 0, "struct cpu: self");
_Static_assert(offsetof(struct cpu, halt_cont) == CPU_HALT_CONT, "struct cpu: halt_cont");
_Static_assert(offsetof(struct cpu, halt_armed) == CPU_HALT_ARMED, "struct cpu: halt_armed");

struct cpu cpus[CPU_MAX];

void cpu_setup(unsigned index)
{
	struct cpu *c = &cpus[index];

	c->self = c;
	c->index = index;
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
}
