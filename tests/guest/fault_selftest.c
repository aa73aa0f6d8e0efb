/*
 * fault_selftest: fails on purpose, to prove that failures are reported and end the VM with
 * the right status (a test runtime that cannot fail proves nothing). The command line picks
 * the failure; tests/integration/qemu_boot_guests.sh checks the transcript and exit status.
 *
 *	mode=check	a failed CHECK_EQ: "FAIL: fault/check: <file>:<line>: 0x1 != 0x2 [...]", exit 1
 *	mode=ud2	an invalid opcode: "FAIL: fault/ud2: exception 6 (#UD ...)", exit 1
 *	mode=pf		a read of unmapped memory: "... exception 14 (#PF ...) ... cr2 0x8000000000"
 *	mode=return	guest_main returns 7: "FAIL: fault_selftest: guest_main returned 7", exit 7
 *	(none)		nothing to do: passes
 */
#include "guest.h"

#define UNMAPPED 0x8000000000ul	/* 512 GiB: the second PML4 slot, never mapped at boot */

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	char mode[16] = "";
	volatile uint64_t one = 1;

	(void)mbi;
	cmdline_get(cmdline, "mode", mode, sizeof(mode));
	if (!strcmp(mode, "check")) {
		test_begin("fault/check");
		CHECK_EQ(one, 2);
	} else if (!strcmp(mode, "ud2")) {
		test_begin("fault/ud2");
		__asm__ volatile("ud2");
	} else if (!strcmp(mode, "pf")) {
		test_begin("fault/pf");
		printf("read 0x%lx\n", mmio_read64(UNMAPPED));
	} else if (!strcmp(mode, "return")) {
		return 7;
	} else {
		printf("fault_selftest: no mode=check|ud2|pf|return given, nothing to do\n");
		return 0;
	}
	printf("fault_selftest: still running after mode=%s\n", mode);
	return 0;
}
