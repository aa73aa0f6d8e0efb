/*
 * ioeventfds a device declares in its BARs: the PCI core binds them where the BAR decodes, moves
 * them with it, unbinds them while decode is off and when the device goes, asks a backend without
 * ioeventfds once, and refuses declarations that could never be bound.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io_dispatch.h"
#include "log.h"
#include "mem_layout.h"
#include "pci.h"
#include "test_pci_fixture.h"

#define SLOT 3
/* BAR0: 256 ports; BAR1: 256-byte MMIO; BAR2+3: 2 MiB RAM; BAR4: 4 KiB MMIO. */
#define STD_DEV "io0=0x100,m321=0x100,ram2=0x200000,m324=0x1000"
#define DB_OFF 0x0c

static int setup(void **state)
{
	struct vm *vm = test_vm_new();
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", STD_DEV), 0);
	*state = vm;
	return 0;
}

static int teardown(void **state)
{
	if (*state)
		test_vm_free(*state);
	return 0;
}

static struct pci_bar_ioeventfd ioev(uint64_t data, int fd)
{
	return (struct pci_bar_ioeventfd){
		.off = DB_OFF, .len = 4, .datamatch = true, .data = data, .fd = fd,
	};
}

static void add(struct pci_dev *dev, int idx, uint64_t data, int fd)
{
	const struct pci_bar_ioeventfd ev = ioev(data, fd);
	assert_int_equal(pci_bar_add_ioeventfd(dev, idx, &ev), 0);
}

/* The backend holds exactly these (addr, data) pairs right now, judging by the calls made. */
static unsigned bound_at(uint64_t addr, uint64_t data)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ncalls; i++) {
		if (calls[i].a != addr || calls[i].b != data)
			continue;
		if (calls[i].kind == CALL_IOEVENTFD_ADD && calls[i].ret == 0)
			n++;
		else if (calls[i].kind == CALL_IOEVENTFD_DEL)
			n--;
	}
	return n;
}

static unsigned bound_total(void)
{
	unsigned adds = 0;
	for (unsigned i = 0; i < ncalls; i++)
		adds += calls[i].kind == CALL_IOEVENTFD_ADD && calls[i].ret == 0;
	return adds - calls_count(CALL_IOEVENTFD_DEL);
}

static void set_bar_reg(struct vm *vm, int idx, uint32_t v)
{
	cfg_write(vm, SLOT, 0, PCIR_BAR(idx), 4, v);
}

static void test_bound_where_the_bar_decodes(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	const uint64_t bar1 = dev->bars[1].addr;

	/* Declared before the bus starts: nothing is bound until the BAR decodes. */
	add(dev, 1, 0x10001, 40);
	add(dev, 1, 0x10002, 41);
	assert_int_equal(calls_count(CALL_IOEVENTFD_ADD), 0);
	assert_int_equal(pci_bus_start(vm->pci), 0);
	assert_int_equal(bound_at(bar1 + DB_OFF, 0x10001), 1);
	assert_int_equal(bound_at(bar1 + DB_OFF, 0x10002), 1);
	const struct call *c = call_nth(CALL_IOEVENTFD_ADD, 0);
	assert_int_equal(c->c, 1); /* datamatch */
	assert_true(c->idx == 40 || c->idx == 41);

	/* Declared while decoded: bound at once. */
	add(dev, 4, 7, 42);
	assert_int_equal(bound_at(dev->bars[4].addr + DB_OFF, 7), 1);

	/* A write nobody's datamatch takes is trapped to the device as usual. */
	unsigned writes = calls_count(CALL_BAR_WRITE);
	mmio_write(vm, bar1 + DB_OFF, 4, 0x10003);
	assert_int_equal(calls_count(CALL_BAR_WRITE), writes + 1);
	assert_int_equal(bound_total(), 3);
}

static void test_follow_moves_and_decode(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	const uint64_t home = dev->bars[1].addr, to = PCI_MMIO32_BASE + 0x100000;

	add(dev, 1, 0x10001, 40);
	assert_int_equal(pci_bus_start(vm->pci), 0);

	/* The guest moves BAR1: unbound there, bound here; the device is not involved. */
	set_bar_reg(vm, 1, (uint32_t)to);
	assert_int_equal(bound_at(home + DB_OFF, 0x10001), 0);
	assert_int_equal(bound_at(to + DB_OFF, 0x10001), 1);
	assert_int_equal(bound_total(), 1);

	/* Decode off: unbound; on: bound again where the BAR is. */
	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 2, PCIM_CMD_IO);
	assert_int_equal(bound_total(), 0);
	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 2, PCIM_CMD_IO | PCIM_CMD_MEM);
	assert_int_equal(bound_at(to + DB_OFF, 0x10001), 1);

	/* Onto guest RAM: the BAR is refused, and so is its ioeventfd. */
	set_bar_reg(vm, 1, 0x00100000);
	assert_false(dev->bars[1].mapped);
	assert_int_equal(bound_total(), 0);
	set_bar_reg(vm, 1, (uint32_t)home);
	assert_int_equal(bound_at(home + DB_OFF, 0x10001), 1);

	/* Deleted: unbound, and stays gone across the next move. */
	const struct pci_bar_ioeventfd ev = ioev(0x10001, 40);
	assert_int_equal(pci_bar_del_ioeventfd(dev, 1, &ev), 0);
	assert_int_equal(bound_total(), 0);
	set_bar_reg(vm, 1, (uint32_t)to);
	assert_int_equal(bound_total(), 0);
	assert_int_equal(pci_bar_del_ioeventfd(dev, 1, &ev), -ENOENT);
}

static void test_clear_and_device_teardown(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	add(dev, 1, 1, 40);
	add(dev, 1, 2, 41);
	add(dev, 4, 3, 42);
	assert_int_equal(pci_bus_start(vm->pci), 0);
	assert_int_equal(bound_total(), 3);

	/* Clearing BAR1 leaves BAR4's alone. */
	pci_bar_clear_ioeventfds(dev, 1);
	assert_int_equal(bound_total(), 1);
	assert_int_equal(bound_at(dev->bars[4].addr + DB_OFF, 3), 1);

	/* The device goes: unbound before its deinit runs (which may close the fds). */
	pci_bus_free(vm->pci);
	vm->pci = NULL;
	assert_int_equal(bound_total(), 0);
	const struct call *del = call_nth(CALL_IOEVENTFD_DEL, calls_count(CALL_IOEVENTFD_DEL) - 1);
	assert_true(del < call_nth(CALL_DEINIT, 0));
}

static void test_backend_without_ioeventfds_is_asked_once(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	fake_ioeventfd_result = -ENOTSUP;
	add(dev, 1, 1, 40);
	add(dev, 1, 2, 41);
	add(dev, 4, 3, 42);
	assert_int_equal(pci_bus_start(vm->pci), 0);
	assert_int_equal(calls_count(CALL_IOEVENTFD_ADD), 1);
	set_bar_reg(vm, 1, (uint32_t)(PCI_MMIO32_BASE + 0x100000));
	add(dev, 1, 4, 43);
	assert_int_equal(calls_count(CALL_IOEVENTFD_ADD), 1);
	assert_int_equal(calls_count(CALL_IOEVENTFD_DEL), 0);
	/* Every doorbell is trapped instead. */
	mmio_write(vm, PCI_MMIO32_BASE + 0x100000 + DB_OFF, 4, 1);
	assert_int_equal(calls_count(CALL_BAR_WRITE), 1);
}

static void test_refused_binding_is_retried_and_logged_rarely(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	static char log[16384];

	fake_ioeventfd_result = -ENOSPC; /* KVM's limit on ioeventfds, reached */
	for (unsigned i = 0; i < 20; i++)
		add(dev, 1, i, 40 + (int)i);
	log_capture_begin();
	assert_int_equal(pci_bus_start(vm->pci), 0);
	log_capture_end(log, sizeof(log));
	assert_int_equal(calls_count(CALL_IOEVENTFD_ADD), 20);
	unsigned lines = 0;
	for (const char *p = log; (p = strstr(p, "no ioeventfd for data")); p++)
		lines++;
	assert_true(lines >= 1 && lines <= 10); /* 5 a second */

	/* Room again: the next decode binds them. */
	fake_ioeventfd_result = 0;
	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 2, PCIM_CMD_IO);
	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 2, PCIM_CMD_IO | PCIM_CMD_MEM);
	assert_int_equal(bound_total(), 20);
}

static void test_bad_declarations(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	struct pci_bar_ioeventfd ev = ioev(1, 40);

	assert_int_equal(pci_bar_add_ioeventfd(dev, 0, &ev), -EINVAL);	/* an I/O BAR */
	assert_int_equal(pci_bar_add_ioeventfd(dev, 2, &ev), -EINVAL);	/* a RAM BAR */
	assert_int_equal(pci_bar_add_ioeventfd(dev, 3, &ev), -EINVAL);	/* an upper half */
	assert_int_equal(pci_bar_add_ioeventfd(dev, 5, &ev), -EINVAL);	/* no BAR */
	assert_int_equal(pci_bar_add_ioeventfd(dev, 6, &ev), -EINVAL);
	ev.len = 3;
	assert_int_equal(pci_bar_add_ioeventfd(dev, 1, &ev), -EINVAL);
	ev.len = 8;
	ev.off = 0xfc;
	assert_int_equal(pci_bar_add_ioeventfd(dev, 1, &ev), -EINVAL);	/* past the end */
	ev = ioev(1, -1);
	assert_int_equal(pci_bar_add_ioeventfd(dev, 1, &ev), -EINVAL);

	/* The same (offset, data) twice is refused; another data is another ioeventfd. */
	add(dev, 1, 1, 40);
	ev = ioev(1, 41);
	assert_int_equal(pci_bar_add_ioeventfd(dev, 1, &ev), -EEXIST);
	add(dev, 1, 2, 41);
	/* del takes exactly what add was given. */
	ev = ioev(2, 40);
	assert_int_equal(pci_bar_del_ioeventfd(dev, 1, &ev), -ENOENT);
	ev = ioev(2, 41);
	assert_int_equal(pci_bar_del_ioeventfd(dev, 1, &ev), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bound_where_the_bar_decodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_moves_and_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_and_device_teardown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_without_ioeventfds_is_asked_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_binding_is_retried_and_logged_rarely,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_declarations, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
