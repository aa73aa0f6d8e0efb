/* Config space as data: read-only fields, writable and RW1C bits, access widths, capabilities. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"
#include "pci.h"
#include "test_pci_fixture.h"

#define SLOT 5

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

static void test_ids_read_at_every_width(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", NULL), 0);

	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_VENDOR, 4),
			 (uint32_t)TESTDEV_DEVICE << 16 | TESTDEV_VENDOR);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_VENDOR, 2), TESTDEV_VENDOR);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_DEVICE, 2), TESTDEV_DEVICE);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_VENDOR, 1), TESTDEV_VENDOR & 0xff);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_VENDOR + 1, 1), TESTDEV_VENDOR >> 8);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_REVID, 4), 0xff000001);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_CLASS, 1), 0xff);
}

static void test_id_fields_are_read_only(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", NULL), 0);

	cfg_write(vm, SLOT, 0, PCIR_VENDOR, 4, 0);
	cfg_write(vm, SLOT, 0, PCIR_REVID, 4, 0x12345678);
	cfg_write(vm, SLOT, 0, PCIR_HDRTYPE, 1, 0x7f);
	cfg_write(vm, SLOT, 0, PCIR_SUBVEND, 4, 0xffffffff);
	cfg_write(vm, SLOT, 0, PCIR_INTPIN, 1, 4);

	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_VENDOR, 4),
			 (uint32_t)TESTDEV_DEVICE << 16 | TESTDEV_VENDOR);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_REVID, 4), 0xff000001);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_HDRTYPE, 1), 0);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_SUBVEND, 4), 0);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_INTPIN, 1), 1);
}

static void test_command_writable_bits(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", NULL), 0);

	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 2, 0xffff);
	/* I/O, memory, bus master, parity, SERR#, INTx disable; nothing else sticks. */
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_COMMAND, 2), 0x0547);
	cfg_write(vm, SLOT, 0, PCIR_COMMAND + 1, 1, 0x00);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_COMMAND, 2), 0x0047);
	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 2, 0);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_COMMAND, 2), 0);
}

static void test_status_error_bits_are_rw1c(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", "cap=0x09:4"), 0);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	pci_set_cfg16(dev, PCIR_STATUS, 0xf900 | PCIM_STATUS_CAPLIST);

	/* Writing 0 clears nothing (a dword write of the command register must not clear status). */
	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 4, 0x00000002);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_STATUS, 2), 0xf900 | PCIM_STATUS_CAPLIST);
	/* Writing 1 clears that bit only. */
	cfg_write(vm, SLOT, 0, PCIR_STATUS, 2, 0x0100);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_STATUS, 2), 0xf800 | PCIM_STATUS_CAPLIST);
	/* All ones clears every error bit; the read-only capability-list bit stays. */
	cfg_write(vm, SLOT, 0, PCIR_STATUS, 2, 0xffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_STATUS, 2), PCIM_STATUS_CAPLIST);
	/* The command half of the same dword was written as a normal register. */
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_COMMAND, 2), 0x0002);
}

static void test_interrupt_line_is_writable(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", NULL), 0);
	cfg_write(vm, SLOT, 0, PCIR_INTLINE, 2, 0x040b);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_INTLINE, 1), 0x0b);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_INTPIN, 1), 1);
}

static void test_misaligned_accesses_read_ones_and_are_dropped(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", NULL), 0);

	assert_int_equal(cfg_read(vm, SLOT, 0, 0x01, 2), 0xffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, 0x02, 4), 0xffffffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, 0x03, 2), 0xffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, 0xfe, 4), 0xffffffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, 0x100, 1), 0xff);
	assert_int_equal(cfg_read(vm, SLOT, 0, 0x00, 3), 0xffffffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, 0x00, 8), 0xffffffff);

	/* A misaligned write touching the command register changes nothing. */
	cfg_write(vm, SLOT, 0, 0x03, 2, 0xffff);
	cfg_write(vm, SLOT, 0, 0x02, 4, 0xffffffff);
	cfg_write(vm, SLOT, 0, 0x05, 2, 0xffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_COMMAND, 2), 0);
	cfg_write(vm, SLOT, 0, 0x3d, 2, 0xffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_INTLINE, 1), 0);
}

static void test_absent_function_reads_all_ones(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", NULL), 0);
	assert_int_equal(cfg_read(vm, SLOT, 1, PCIR_VENDOR, 4), 0xffffffff);
	assert_int_equal(cfg_read(vm, SLOT + 1, 0, PCIR_VENDOR, 2), 0xffff);
	assert_int_equal(cfg_read(vm, SLOT + 1, 0, PCIR_CLASS, 1), 0xff);
	cfg_write(vm, SLOT + 1, 0, PCIR_COMMAND, 2, 0xffff); /* dropped, nothing to crash on */

	uint32_t v = 0;
	assert_int_equal(pci_cfg_access(vm->pci, 1, SLOT, 0, PCIR_VENDOR, 4, false, &v), 0);
	assert_int_equal(v, 0xffffffff); /* only bus 0 exists */
	assert_int_equal(pci_cfg_access(vm->pci, 0, 32, 0, PCIR_VENDOR, 4, false, &v), 0);
	assert_int_equal(v, 0xffffffff);
}

static void test_capability_list_walk(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", "cap=0x09:8,cap=0x0a:5,cap=0x0b:4"), 0);

	assert_true(cfg_read(vm, SLOT, 0, PCIR_STATUS, 2) & PCIM_STATUS_CAPLIST);
	unsigned ptr = cfg_read(vm, SLOT, 0, PCIR_CAP_PTR, 1);
	const unsigned want_id[] = { 0x09, 0x0a, 0x0b };
	const unsigned want_at[] = { 0x40, 0x48, 0x50 }; /* 0x48 + 5 rounds up to a dword */
	unsigned n = 0;
	while (ptr && n < 10) {
		assert_true(n < 3);
		assert_int_equal(ptr, want_at[n]);
		assert_int_equal(cfg_read(vm, SLOT, 0, ptr, 1), want_id[n]);
		ptr = cfg_read(vm, SLOT, 0, ptr + 1, 1);
		n++;
	}
	assert_int_equal(n, 3);

	/* The pointers are read-only to the guest. */
	cfg_write(vm, SLOT, 0, PCIR_CAP_PTR, 1, 0x80);
	cfg_write(vm, SLOT, 0, 0x40, 2, 0x0000);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_CAP_PTR, 1), 0x40);
	assert_int_equal(cfg_read(vm, SLOT, 0, 0x40, 2), 0x4809);
}

static void test_no_capabilities(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", NULL), 0);
	assert_false(cfg_read(vm, SLOT, 0, PCIR_STATUS, 2) & PCIM_STATUS_CAPLIST);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_CAP_PTR, 1), 0);
}

static void test_capability_space_runs_out(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", "cap=0x09:0xb0"), 0);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	assert_int_equal(pci_add_capability(dev, 0x0a, 0x10), 0xf0);
	assert_int_equal(pci_add_capability(dev, 0x0b, 4), -ENOSPC);
	assert_int_equal(pci_add_capability(dev, 0x0b, 1), -EINVAL);
	/* The failed attempts left the list as it was. */
	assert_int_equal(pci_get_cfg8(dev, 0xf1), 0);
	/* A device that fails in init is not added. */
	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", "cap=0x09:0xc1"), -ENOSPC);
	assert_null(pci_bus_find(vm->pci, 0, SLOT + 1, 0));
}

static void test_unimplemented_bars_and_rom_read_zero(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", NULL), 0);
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++) {
		cfg_write(vm, SLOT, 0, PCIR_BAR(i), 4, 0xffffffff);
		assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_BAR(i), 4), 0);
	}
	cfg_write(vm, SLOT, 0, 0x30, 4, 0xfffff800);
	assert_int_equal(cfg_read(vm, SLOT, 0, 0x30, 4), 0);
}

static void test_emulation_accessors_stay_in_bounds(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", NULL), 0);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	pci_set_cfg32(dev, 0xfe, 0x12345678);
	pci_set_cfg16(dev, 0xff, 0x1234);
	pci_set_cfg8(dev, 0x100, 0x12);
	assert_int_equal(pci_get_cfg32(dev, 0xfd), 0xffffffff);
	assert_int_equal(pci_get_cfg16(dev, 0xff), 0xffff);
	assert_int_equal(pci_get_cfg8(dev, 0x100), 0xff);
	assert_int_equal(pci_get_cfg16(dev, 0xfe), 0);

	pci_set_cfg32(dev, 0xfc, 0xa1b2c3d4);
	assert_int_equal(pci_get_cfg32(dev, 0xfc), 0xa1b2c3d4);
	assert_int_equal(pci_get_cfg16(dev, 0xfe), 0xa1b2);
	assert_int_equal(pci_get_cfg8(dev, 0xfd), 0xc3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ids_read_at_every_width, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_fields_are_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_writable_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_error_bits_are_rw1c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_line_is_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misaligned_accesses_read_ones_and_are_dropped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_function_reads_all_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capability_list_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capability_space_runs_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unimplemented_bars_and_rom_read_zero, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_emulation_accessors_stay_in_bounds, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
