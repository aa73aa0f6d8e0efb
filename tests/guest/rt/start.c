/* The C side of boot: called by entry.S in long mode with the loader's EAX and EBX. */
#include "cpu.h"
#include "guest.h"
#include "idt.h"
#include "pic.h"
#include "serial.h"

__attribute__((noreturn)) void rt_start(uint32_t magic, uint32_t info);

void rt_start(uint32_t magic, uint32_t info)
{
	const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)info;
	const char *cmdline = "";
	int ret;

	cpu_setup(0);	/* first: printing and interrupts use the per-CPU state */
	serial_init();
	idt_init();
	pic_disable();

	printf("guest %s: multiboot magic 0x%x info 0x%x\n", guest_name, magic, info);
	if (magic != MB_BOOT_MAGIC)
		test_fail("loader passed EAX=0x%x, expected 0x%x", magic, MB_BOOT_MAGIC);
	if (!mbi)
		test_fail("loader passed no Multiboot info (EBX=0)");
	if (mbi->flags & MB_INFO_CMDLINE)
		cmdline = (const char *)(uintptr_t)mbi->cmdline;
	printf("guest %s: cmdline \"%s\"\n", guest_name, cmdline);

	ret = guest_main(mbi, cmdline);
	if (ret == 0)
		printf("PASS: %s\n", guest_name);
	else
		printf("FAIL: %s: guest_main returned %d\n", guest_name, ret);
	guest_exit(ret);
}
