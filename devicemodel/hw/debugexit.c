/*
 * The debug-exit port. ACRN powers the VM off on any write to 0xf4 and ignores the value; here the
 * value becomes acrn-dm's exit status, so a test guest can report its result (0 keeps ACRN's
 * meaning). Reads return all ones, as from an absent port.
 */
#include "debugexit.h"
#include "io_dispatch.h"
#include "log.h"
#include "mem_layout.h"
#include "vm.h"

static int debugexit_access(void *opaque, uint64_t offset, unsigned size, bool is_write,
			    uint64_t *value)
{
	(void)offset;
	if (!is_write) {
		*value = size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
		return 0;
	}
	int status = (int)(*value & 0xff);
	pr_info("debugexit", "guest wrote 0x%llx to port 0x%x: powering off",
		(unsigned long long)*value, DEBUGEXIT_PORT);
	vm_request_poweroff(opaque, status);
	return 0;
}

int debugexit_create(struct vm *vm)
{
	const struct io_range range = {
		.name = "debugexit",
		.space = IO_SPACE_PIO,
		.base = DEBUGEXIT_PORT,
		.len = 4,
		.handler = debugexit_access,
		.opaque = vm,
	};
	int ret = io_register(vm_io(vm), &range);
	if (ret < 0)
		pr_err("debugexit", "port 0x%x is taken", DEBUGEXIT_PORT);
	return ret;
}
