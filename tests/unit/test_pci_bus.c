/*
 * The bus: configuration mechanism #1 through io_dispatch, slot rules and their error messages,
 * the multi-function bit, hostbridge and lpc, concurrent config accesses. (acrn-dm's table of
 * emulations is tested with vm_create, in test_vm_create.c.)
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io_dispatch.h"
#include "mem_layout.h"
#include "pci.h"
#include "pci_emuls.h"
#include "test_pci_fixture.h"
#include "vmm.h"

#define CF8 PCI_CONFIG_ADDR_PORT
#define CFC PCI_CONFIG_DATA_PORT

static int setup(void **state)
{
	*state = test_vm_new();
	return 0;
}

static int teardown(void **state)
{
	test_vm_free(*state);
	return 0;
}

static uint32_t cf8(unsigned bus, unsigned slot, unsigned func, unsigned reg)
{
	return 0x80000000u | bus << 16 | slot << 11 | func << 8 | reg;
}

static void start(struct vm *vm)
{
	assert_int_equal(pci_bus_start(vm->pci), 0);
}

static void test_mechanism1_dword(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, 5, 0, "testdev", NULL), 0);
	start(vm);

	pio_write(vm, CF8, 4, cf8(0, 5, 0, 0));
	assert_int_equal(pio_read(vm, CF8, 4), cf8(0, 5, 0, 0));
	assert_int_equal(pio_read(vm, CFC, 4), (uint32_t)TESTDEV_DEVICE << 16 | TESTDEV_VENDOR);
	pio_write(vm, CF8, 4, cf8(0, 5, 0, PCIR_REVID));
	assert_int_equal(pio_read(vm, CFC, 4), 0xff000001);
}

static void test_mechanism1_bytes_and_words(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, 5, 0, "testdev", NULL), 0);
	start(vm);

	pio_write(vm, CF8, 4, cf8(0, 5, 0, 0));
	assert_int_equal(pio_read(vm, CFC, 2), TESTDEV_VENDOR);
	assert_int_equal(pio_read(vm, CFC + 2, 2), TESTDEV_DEVICE);
	assert_int_equal(pio_read(vm, CFC + 1, 1), TESTDEV_VENDOR >> 8);
	assert_int_equal(pio_read(vm, CFC + 3, 1), TESTDEV_DEVICE >> 8);
	pio_write(vm, CF8, 4, cf8(0, 5, 0, PCIR_REVID));
	assert_int_equal(pio_read(vm, CFC + 3, 1), 0xff); /* class at 0x0b */
	assert_int_equal(pio_read(vm, CFC, 1), 0x01);

	/* Writes: a word at 0xCFC, a byte at 0xCFD, a dword. */
	pio_write(vm, CF8, 4, cf8(0, 5, 0, PCIR_COMMAND));
	pio_write(vm, CFC, 2, PCIM_CMD_MEM);
	pio_write(vm, CFC + 1, 1, PCIM_CMD_INTX_DISABLE >> 8);
	assert_int_equal(cfg_read(vm, 5, 0, PCIR_COMMAND, 2), PCIM_CMD_MEM | PCIM_CMD_INTX_DISABLE);
	pio_write(vm, CF8, 4, cf8(0, 5, 0, PCIR_INTLINE));
	pio_write(vm, CFC, 4, 0xffffff0a);
	assert_int_equal(cfg_read(vm, 5, 0, PCIR_INTLINE, 1), 0x0a);
}

static void test_mechanism1_refusals(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, 5, 0, "testdev", NULL), 0);
	start(vm);

	/* Enable bit clear: nothing decoded. */
	pio_write(vm, CF8, 4, cf8(0, 5, 0, PCIR_COMMAND) & ~0x80000000u);
	assert_int_equal(pio_read(vm, CFC, 4), 0xffffffff);
	pio_write(vm, CFC, 2, 0);
	assert_int_equal(cfg_read(vm, 5, 0, PCIR_COMMAND, 2),
			 PCIM_CMD_IO | PCIM_CMD_MEM | PCIM_CMD_BUSMASTER);

	/* Only dword accesses reach the address register. */
	pio_write(vm, CF8, 4, cf8(0, 5, 0, 0));
	pio_write(vm, CF8, 1, 0);
	pio_write(vm, CF8 + 2, 2, 0);
	assert_int_equal(pio_read(vm, CF8, 4), cf8(0, 5, 0, 0));
	assert_int_equal(pio_read(vm, CF8 + 1, 1), 0xff);
	assert_int_equal(pio_read(vm, CF8, 2), 0xffff);

	/* Misaligned or crossing the data window. */
	assert_int_equal(pio_read(vm, CFC + 1, 2), 0xffff);
	assert_int_equal(pio_read(vm, CFC + 2, 4), 0xffffffff);
	assert_int_equal(pio_read(vm, CFC + 3, 2), 0xffff);

	/* Absent function, absent device, other buses. */
	pio_write(vm, CF8, 4, cf8(0, 5, 1, 0));
	assert_int_equal(pio_read(vm, CFC, 4), 0xffffffff);
	pio_write(vm, CF8, 4, cf8(0, 6, 0, 0));
	assert_int_equal(pio_read(vm, CFC, 2), 0xffff);
	pio_write(vm, CF8, 4, cf8(1, 5, 0, 0));
	assert_int_equal(pio_read(vm, CFC, 4), 0xffffffff);

	/* The low two bits of the register number are ignored: 0xCFC + n selects the byte. */
	pio_write(vm, CF8, 4, cf8(0, 5, 0, 0) | 0x3);
	assert_int_equal(pio_read(vm, CFC, 2), TESTDEV_VENDOR);
}

static void test_decoded_request_hook(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, 5, 2, "testdev", NULL), 0);
	assert_int_equal(test_add(vm, 5, 0, "testdev", NULL), 0);
	start(vm);

	vmm_pci_cfg_fn fn = pci_cfg_access; /* what an HSM PCICFG request calls */
	uint32_t v = 0;
	assert_int_equal(fn(vm->pci, 0, 5, 2, PCIR_DEVICE, 2, false, &v), 0);
	assert_int_equal(v, TESTDEV_DEVICE);
	v = PCIM_CMD_IO;
	assert_int_equal(fn(vm->pci, 0, 5, 2, PCIR_COMMAND, 2, true, &v), 0);
	assert_int_equal(cfg_read(vm, 5, 2, PCIR_COMMAND, 2), PCIM_CMD_IO);
	assert_int_equal(cfg_read(vm, 5, 0, PCIR_COMMAND, 2),
			 PCIM_CMD_IO | PCIM_CMD_MEM | PCIM_CMD_BUSMASTER);
}

static void test_multifunction_bit(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, 3, 0, "testdev", NULL), 0);
	assert_int_equal(test_add(vm, 3, 2, "testdev", NULL), 0);
	assert_int_equal(test_add(vm, 4, 0, "testdev", NULL), 0);
	assert_int_equal(cfg_read(vm, 3, 0, PCIR_HDRTYPE, 1), 0);
	start(vm);

	assert_int_equal(cfg_read(vm, 3, 0, PCIR_HDRTYPE, 1), PCIM_HDRTYPE_MULTIFUNC);
	assert_int_equal(cfg_read(vm, 3, 2, PCIR_HDRTYPE, 1), 0);
	assert_int_equal(cfg_read(vm, 4, 0, PCIR_HDRTYPE, 1), 0);
	cfg_write(vm, 3, 0, PCIR_HDRTYPE, 1, 0);
	assert_int_equal(cfg_read(vm, 3, 0, PCIR_HDRTYPE, 1), PCIM_HDRTYPE_MULTIFUNC);
}

static void test_function_without_function0(void **state)
{
	struct vm *vm = *state;
	char log[1024];
	assert_int_equal(test_add(vm, 7, 1, "testdev", NULL), 0);
	log_capture_begin();
	int ret = pci_bus_start(vm->pci);
	log_capture_end(log, sizeof(log));
	assert_int_equal(ret, -EINVAL);
	assert_non_null(strstr(log, "slot 7"));
	assert_non_null(strstr(log, "function 0"));
	assert_true(io_range_free(vm->io, IO_SPACE_PIO, CF8, 8));
}

static void test_duplicate_slot_is_refused(void **state)
{
	struct vm *vm = *state;
	char log[1024];
	assert_int_equal(test_add(vm, 5, 0, "hostbridge", NULL), 0);
	log_capture_begin();
	int ret = test_add(vm, 5, 0, "testdev", NULL);
	log_capture_end(log, sizeof(log));
	assert_int_equal(ret, -EEXIST);
	assert_non_null(strstr(log, "slot 5:0"));
	assert_non_null(strstr(log, "hostbridge"));
	assert_non_null(strstr(log, "testdev"));
	assert_ptr_equal(test_dev(vm, 5, 0)->ops, &pci_hostbridge_ops);
	assert_int_equal(test_add(vm, 5, 1, "testdev", NULL), 0); /* another function is fine */
}

static void test_slot_rules(void **state)
{
	struct vm *vm = *state;
	char log[1024];

	log_capture_begin();
	int ret = pci_bus_add_device(vm->pci, 1, 3, 0, &pci_hostbridge_ops, NULL);
	log_capture_end(log, sizeof(log));
	assert_int_equal(ret, -EINVAL);
	assert_non_null(strstr(log, "only bus 0"));
	assert_null(pci_bus_find(vm->pci, 1, 3, 0));
	assert_null(pci_bus_find(vm->pci, 0, 3, 0));

	assert_int_equal(test_add(vm, 32, 0, "testdev", NULL), -EINVAL);
	assert_int_equal(test_add(vm, 3, 8, "testdev", NULL), -EINVAL);
	assert_int_equal(pci_bus_add_device(vm->pci, 0, 3, 0, NULL, NULL), -EINVAL);
	assert_null(pci_bus_find(vm->pci, 0, 3, 0));
}

static void test_failed_init_leaves_the_slot_free(void **state)
{
	struct vm *vm = *state;
	char log[1024];
	log_capture_begin();
	int ret = test_add(vm, 4, 0, "testdev", "m320=0x1000,fail");
	log_capture_end(log, sizeof(log));
	assert_int_equal(ret, -EIO);
	/* The device's own line, and none from the bus on top of it. */
	assert_int_equal(log_lines(log, "error"), 1);
	assert_non_null(strstr(log, "told to fail"));
	assert_null(pci_bus_find(vm->pci, 0, 4, 0));
	assert_int_equal(calls_count(CALL_DEINIT), 0);
	assert_int_equal(test_add(vm, 4, 0, "testdev", NULL), 0);
	start(vm);
	assert_int_equal(test_add(vm, 9, 0, "testdev", NULL), -EBUSY); /* the bus is running */
	assert_int_equal(pci_bus_start(vm->pci), -EBUSY);
}

static void test_config_ports_taken(void **state)
{
	struct vm *vm = *state;
	const struct io_range squatter = { .name = "x", .space = IO_SPACE_PIO, .base = CFC + 3,
					   .len = 1 };
	assert_int_equal(io_register(vm->io, &squatter), 0);
	assert_int_equal(test_add(vm, 4, 0, "testdev", "m320=0x1000"), 0);
	assert_int_equal(pci_bus_start(vm->pci), -EEXIST);
	assert_false(test_dev(vm, 4, 0)->bars[0].mapped);
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, PCI_MMIO32_BASE, 0x1000));
}

static unsigned find_cap(struct vm *vm, unsigned slot, uint8_t id)
{
	unsigned ptr = cfg_read(vm, slot, 0, PCIR_CAP_PTR, 1);
	for (unsigned n = 0; ptr && n < 48; n++) {
		if (cfg_read(vm, slot, 0, ptr, 1) == id)
			return ptr;
		ptr = cfg_read(vm, slot, 0, ptr + 1, 1);
	}
	return 0;
}

static void test_hostbridge_and_lpc(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, 0, 0, "hostbridge", NULL), 0);
	assert_int_equal(test_add(vm, 1, 0, "lpc", NULL), 0);
	start(vm);

	pio_write(vm, CF8, 4, cf8(0, 0, 0, 0));
	assert_int_equal(pio_read(vm, CFC, 4), 0x12751275);
	pio_write(vm, CF8, 4, cf8(0, 0, 0, PCIR_REVID));
	assert_int_equal(pio_read(vm, CFC, 4), 0x06000000);
	assert_int_equal(cfg_read(vm, 0, 0, PCIR_HDRTYPE, 1), 0);
	unsigned cap = find_cap(vm, 0, 0x10);
	assert_true(cap >= 0x40);
	assert_int_equal(cfg_read(vm, 0, 0, cap + 2, 2), 0x0042); /* v2, root port */

	pio_write(vm, CF8, 4, cf8(0, 1, 0, 0));
	assert_int_equal(pio_read(vm, CFC, 4), 0x70008086);
	pio_write(vm, CF8, 4, cf8(0, 1, 0, PCIR_REVID));
	assert_int_equal(pio_read(vm, CFC, 4), 0x06010000);
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++) {
		cfg_write(vm, 0, 0, PCIR_BAR(i), 4, 0xffffffff);
		cfg_write(vm, 1, 0, PCIR_BAR(i), 4, 0xffffffff);
		assert_int_equal(cfg_read(vm, 0, 0, PCIR_BAR(i), 4), 0);
		assert_int_equal(cfg_read(vm, 1, 0, PCIR_BAR(i), 4), 0);
	}
}

static void test_bridges_reject_what_they_do_not_take(void **state)
{
	struct vm *vm = *state;
	char log[1024];

	log_capture_begin();
	int hb = test_add(vm, 0, 0, "hostbridge", "fast");
	int lpc = test_add(vm, 1, 0, "lpc", "com1");
	log_capture_end(log, sizeof(log));
	assert_int_equal(hb, -EINVAL);
	assert_int_equal(lpc, -EINVAL);
	assert_non_null(strstr(log, "'fast'"));
	assert_non_null(strstr(log, "'com1'"));

	assert_int_equal(test_add(vm, 1, 0, "lpc", NULL), 0);
	log_capture_begin();
	lpc = test_add(vm, 2, 0, "lpc", NULL);
	log_capture_end(log, sizeof(log));
	assert_int_equal(lpc, -EEXIST);
	assert_non_null(strstr(log, "only one LPC"));
	assert_int_equal(test_add(vm, 0, 0, "hostbridge", ""), 0); /* empty option text is none */
}

/* Threads hammering config space of their own device while others do the same. */
struct hammer {
	struct vm *vm;
	unsigned slot;
	int failures;
};

static void *hammer_loop(void *arg)
{
	struct hammer *h = arg;
	for (unsigned i = 0; i < 2000; i++) {
		uint32_t cmd = i % 2 ? PCIM_CMD_MEM : 0, v;
		pci_cfg_access(h->vm->pci, 0, h->slot, 0, PCIR_COMMAND, 2, true, &cmd);
		v = 0xffffffff;
		pci_cfg_access(h->vm->pci, 0, h->slot, 0, PCIR_BAR(0), 4, true, &v);
		v = (uint32_t)(PCI_MMIO32_BASE + 0x100000 * h->slot);
		pci_cfg_access(h->vm->pci, 0, h->slot, 0, PCIR_BAR(0), 4, true, &v);
		pci_cfg_access(h->vm->pci, 0, h->slot, 0, PCIR_VENDOR, 2, false, &v);
		h->failures += v != TESTDEV_VENDOR;
	}
	return NULL;
}

static void test_concurrent_config_accesses(void **state)
{
	struct vm *vm = *state;
	struct hammer h[4];
	pthread_t t[4];

	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(test_add(vm, 10 + i, 0, "testdev", "m320=0x1000"), 0);
		h[i] = (struct hammer){ vm, 10 + i, 0 };
	}
	start(vm);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer_loop, &h[i]), 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(h[i].failures, 0);
		struct pci_dev *dev = test_dev(vm, 10 + i, 0);
		/* The last round turned memory decode on at the thread's own address. */
		assert_true(dev->bars[0].mapped);
		assert_int_equal(dev->bars[0].mapped_addr, PCI_MMIO32_BASE + 0x100000 * (10 + i));
		assert_false(io_range_free(vm->io, IO_SPACE_MMIO, dev->bars[0].mapped_addr, 0x1000));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mechanism1_dword, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mechanism1_bytes_and_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mechanism1_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decoded_request_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multifunction_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_without_function0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_slot_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_init_leaves_the_slot_free, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config_ports_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostbridge_and_lpc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridges_reject_what_they_do_not_take, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_config_accesses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
