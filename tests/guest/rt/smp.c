#include "smp.h"

#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "cpu.h"
#include "idt.h"
#include "io.h"
#include "lapic.h"
#include "str.h"
#include "timer.h"

#define SMP_STACK_SIZE	0x4000		/* smp_boot.S's */
#define PAGE		0x1000u
#define LOW_TOP		0x9f000u	/* below the EBDA at 639 KiB */
#define LOW_FLOOR	0x1000u		/* page 0: the real-mode IVT */

/* Used by smp_boot.S. */
uint8_t smp_stacks[CPU_MAX][SMP_STACK_SIZE] __attribute__((aligned(16)));
unsigned smp_next_index = 1;	/* the boot CPU is 0 */
unsigned smp_extra_cpus;

extern const char smp_trampoline[], smp_trampoline_end[], smp_trampoline_start32[];
extern const char smp_trampoline_far32[];

void smp_ap_main(unsigned index) __attribute__((noreturn));

static smp_fn ap_fn;
static void *ap_arg;
static unsigned online = 1;

static bool overlaps(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Does [page, page + 4 KiB) hold anything the loader handed over? */
static bool page_in_use(const struct mb_info *mbi, uint32_t page)
{
	if (!mbi)
		return false;
	if (overlaps(page, PAGE, (uint32_t)(uintptr_t)mbi, sizeof(*mbi)))
		return true;
	if ((mbi->flags & MB_INFO_CMDLINE) && mbi->cmdline &&
	    overlaps(page, PAGE, mbi->cmdline,
		     (uint32_t)strlen((const char *)(uintptr_t)mbi->cmdline) + 1))
		return true;
	if ((mbi->flags & MB_INFO_MMAP) && overlaps(page, PAGE, mbi->mmap_addr, mbi->mmap_length))
		return true;
	if ((mbi->flags & MB_INFO_MODS) && overlaps(page, PAGE, mbi->mods_addr, mbi->mods_count * 16))
		return true;
	if ((mbi->flags & MB_INFO_LOADER) && mbi->boot_loader_name &&
	    overlaps(page, PAGE, mbi->boot_loader_name,
		     (uint32_t)strlen((const char *)(uintptr_t)mbi->boot_loader_name) + 1))
		return true;
	return false;
}

/* The highest free page of conventional memory, or 0. */
static uint32_t trampoline_page(const struct mb_info *mbi)
{
	uint32_t top = LOW_TOP;

	if (mbi && (mbi->flags & MB_INFO_MEM) && mbi->mem_lower * 1024u < top)
		top = mbi->mem_lower * 1024u & ~(PAGE - 1);
	for (uint32_t page = top - PAGE; page >= LOW_FLOOR && page < top; page -= PAGE)
		if (!page_in_use(mbi, page))
			return page;
	return 0;
}

void smp_ap_main(unsigned index)
{
	struct cpu *c = &cpus[index];

	cpu_setup(index);
	idt_load();
	lapic_init();
	c->apic_id = lapic_id();
	__atomic_add_fetch(&online, 1, __ATOMIC_RELEASE);
	ap_fn(index, ap_arg);
	for (;;)
		__asm__ volatile("cli; hlt");
}

unsigned smp_start(const struct mb_info *mbi, smp_fn fn, void *arg, unsigned expect,
		   uint64_t timeout_us)
{
	/* The boot CPU calibrates the clocks before anyone else could ask for them. */
	timer_init();
	lapic_init();
	cpus[0].apic_id = lapic_id();

	uint32_t page = trampoline_page(mbi);

	if (!page)
		test_fail("no free page below 640 KiB for the APs' start-up code");
	memcpy((void *)(uintptr_t)page, smp_trampoline, (size_t)(smp_trampoline_end - smp_trampoline));
	uint32_t far32 = page + (uint32_t)(smp_trampoline_start32 - smp_trampoline);

	memcpy((void *)(uintptr_t)(page + (uint32_t)(smp_trampoline_far32 - smp_trampoline)),
	       &far32, sizeof(far32));
	ap_fn = fn;
	ap_arg = arg;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* INIT, 10 ms, start-up, 200 us, start-up: the MP specification's sequence. */
	lapic_send_init_others();
	udelay(10000);
	lapic_send_startup_others(page);
	udelay(200);
	lapic_send_startup_others(page);

	uint64_t end = time_us() + timeout_us;

	while (smp_cpus() - 1 < expect && time_us() < end)
		cpu_relax();
	udelay(20000);
	return smp_cpus() - 1;
}

unsigned smp_cpus(void)
{
	return __atomic_load_n(&online, __ATOMIC_ACQUIRE);
}

unsigned smp_extra(void)
{
	return __atomic_load_n(&smp_extra_cpus, __ATOMIC_ACQUIRE);
}

uint32_t smp_apic_id(unsigned index)
{
	return cpus[index].apic_id;
}
