/* The MSI-X helper: capability, table and PBA through the BAR, masking, pending bits, notifier. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "pci.h"
#include "pci_msix.h"
#include "test_pci_fixture.h"

#define SLOT 6
#define NVEC 8
#define MSG_ADDR 0xfee01000ULL

static int setup(void **state)
{
	struct vm *vm = test_vm_new();
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", "m320=0x100,msix=8@1"), 0);
	*state = vm;
	return 0;
}

/* Tests that add devices of their own do so before this; MMIO needs it. */
static struct vm *started(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(pci_bus_start(vm->pci), 0);
	calls_reset();
	return vm;
}

static int teardown(void **state)
{
	test_vm_free(*state);
	return 0;
}

static unsigned find_cap(struct vm *vm, unsigned slot, uint8_t id)
{
	unsigned ptr = cfg_read(vm, slot, 0, PCIR_CAP_PTR, 1);
	for (unsigned n = 0; ptr && n < 48; n++) {
		if (cfg_read(vm, slot, 0, ptr, 1) == id)
			return ptr;
		ptr = cfg_read(vm, slot, 0, ptr + 1, 1);
	}
	fail_msg("capability 0x%x not found", id);
	return 0;
}

static void set_ctrl(struct vm *vm, bool enable, bool fmask)
{
	unsigned cap = find_cap(vm, SLOT, PCIY_MSIX);
	cfg_write(vm, SLOT, 0, cap + 2, 2, (enable ? 0x8000 : 0) | (fmask ? 0x4000 : 0));
}

static uint64_t table_addr(struct vm *vm, unsigned vector, unsigned off)
{
	return test_dev(vm, SLOT, 0)->bars[1].addr + 16 * vector + off;
}

static void program(struct vm *vm, unsigned v, uint64_t addr, uint32_t data, bool masked)
{
	mmio_write(vm, table_addr(vm, v, 0), 8, addr);
	mmio_write(vm, table_addr(vm, v, 8), 4, data);
	mmio_write(vm, table_addr(vm, v, 12), 4, masked);
}

static void set_vector_mask(struct vm *vm, unsigned v, bool masked)
{
	mmio_write(vm, table_addr(vm, v, 12), 4, masked);
}

static uint64_t pba(struct vm *vm)
{
	return mmio_read(vm, test_dev(vm, SLOT, 0)->bars[1].addr + 0x800, 8);
}

static void test_capability_layout(void **state)
{
	struct vm *vm = *state;
	unsigned cap = find_cap(vm, SLOT, PCIY_MSIX);

	assert_int_equal(cfg_read(vm, SLOT, 0, cap + 2, 2), NVEC - 1);
	assert_int_equal(cfg_read(vm, SLOT, 0, cap + 4, 4), 0x000 | 1);	/* table at 0, BAR1 */
	assert_int_equal(cfg_read(vm, SLOT, 0, cap + 8, 4), 0x800 | 1);	/* PBA at 2 KiB */

	/* Only enable and function mask are writable. */
	cfg_write(vm, SLOT, 0, cap + 2, 2, 0xffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, cap + 2, 2), 0xc000 | (NVEC - 1));
	assert_true(pci_msix_enabled(test_dev(vm, SLOT, 0)));
	cfg_write(vm, SLOT, 0, cap + 4, 4, 0xffffffff);
	cfg_write(vm, SLOT, 0, cap + 8, 4, 0);
	assert_int_equal(cfg_read(vm, SLOT, 0, cap + 4, 4), 1);
	assert_int_equal(cfg_read(vm, SLOT, 0, cap + 8, 4), 0x801);
	cfg_write(vm, SLOT, 0, cap + 3, 1, 0);
	assert_int_equal(cfg_read(vm, SLOT, 0, cap + 2, 2), NVEC - 1);
	assert_false(pci_msix_enabled(test_dev(vm, SLOT, 0)));

	/* The BAR is one 4 KiB 32-bit memory BAR. */
	cfg_write(vm, SLOT, 0, PCIR_BAR(1), 4, 0xffffffff);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_BAR(1), 4), 0xfffff000);
	assert_int_equal(pci_msix_vectors(test_dev(vm, SLOT, 0)), NVEC);
}

static void test_large_table_layouts(void **state)
{
	struct vm *vm = *state;
	static const struct {
		unsigned nvec;
		uint32_t pba_off;
		uint32_t bar_size;
	} cases[] = {
		{ 128, 0x800, 0x1000 },	   /* 2 KiB table: PBA shares the page */
		{ 129, 0x1000, 0x2000 },   /* larger: PBA on the next 4 KiB boundary */
		{ 256, 0x1000, 0x2000 },
		{ 300, 0x2000, 0x4000 },
		{ 2048, 0x8000, 0x10000 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char opts[32];
		snprintf(opts, sizeof(opts), "msix=%u@0", cases[i].nvec);
		assert_int_equal(test_add(vm, 10 + i, 0, "testdev", opts), 0);
		unsigned cap = find_cap(vm, 10 + i, PCIY_MSIX);
		assert_int_equal(cfg_read(vm, 10 + i, 0, cap + 2, 2), cases[i].nvec - 1);
		assert_int_equal(cfg_read(vm, 10 + i, 0, cap + 8, 4), cases[i].pba_off);
		cfg_write(vm, 10 + i, 0, PCIR_BAR(0), 4, 0xffffffff);
		assert_int_equal(cfg_read(vm, 10 + i, 0, PCIR_BAR(0), 4), ~(cases[i].bar_size - 1));
	}
}

static void test_table_reset_state_and_rw(void **state)
{
	struct vm *vm = started(state);

	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(mmio_read(vm, table_addr(vm, v, 0), 4), 0);
		assert_int_equal(mmio_read(vm, table_addr(vm, v, 4), 4), 0);
		assert_int_equal(mmio_read(vm, table_addr(vm, v, 8), 4), 0);
		assert_int_equal(mmio_read(vm, table_addr(vm, v, 12), 4), 1); /* masked */
	}

	mmio_write(vm, table_addr(vm, 2, 0), 8, 0x00000001fee01003ULL);
	assert_int_equal(mmio_read(vm, table_addr(vm, 2, 0), 4), 0xfee01000); /* dword aligned */
	assert_int_equal(mmio_read(vm, table_addr(vm, 2, 4), 4), 1);
	assert_int_equal(mmio_read(vm, table_addr(vm, 2, 0), 8), 0x00000001fee01000ULL);

	mmio_write(vm, table_addr(vm, 2, 8), 8, (uint64_t)0 << 32 | 0x41);
	assert_int_equal(mmio_read(vm, table_addr(vm, 2, 8), 8), 0x41);
	mmio_write(vm, table_addr(vm, 2, 12), 4, 0xfffffffe); /* reserved bits read zero */
	assert_int_equal(mmio_read(vm, table_addr(vm, 2, 12), 4), 0);
	mmio_write(vm, table_addr(vm, 2, 12), 4, 0xffffffff);
	assert_int_equal(mmio_read(vm, table_addr(vm, 2, 12), 4), 1);

	/* Other vectors untouched. */
	assert_int_equal(mmio_read(vm, table_addr(vm, 1, 8), 4), 0);
	assert_int_equal(mmio_read(vm, table_addr(vm, 3, 0), 8), 0);
}

static void test_bad_accesses_read_zero_and_are_dropped(void **state)
{
	struct vm *vm = started(state);

	mmio_write(vm, table_addr(vm, 0, 8), 4, 0x1234);
	assert_int_equal(mmio_read(vm, table_addr(vm, 0, 8), 1), 0);
	assert_int_equal(mmio_read(vm, table_addr(vm, 0, 8), 2), 0);
	assert_int_equal(mmio_read(vm, table_addr(vm, 0, 10), 4), 0);
	assert_int_equal(mmio_read(vm, table_addr(vm, 0, 4), 8), 0);

	mmio_write(vm, table_addr(vm, 0, 12), 1, 0);
	mmio_write(vm, table_addr(vm, 0, 12), 2, 0);
	mmio_write(vm, table_addr(vm, 0, 4), 8, 0);
	mmio_write(vm, table_addr(vm, 0, 9), 4, 0);
	assert_int_equal(mmio_read(vm, table_addr(vm, 0, 12), 4), 1);
	assert_int_equal(mmio_read(vm, table_addr(vm, 0, 8), 4), 0x1234);

	/* Between the table and the PBA, and after the PBA: reserved. */
	uint64_t bar = test_dev(vm, SLOT, 0)->bars[1].addr;
	mmio_write(vm, bar + 0x400, 4, 0xffffffff);
	assert_int_equal(mmio_read(vm, bar + 0x400, 4), 0);
	assert_int_equal(mmio_read(vm, bar + 0x808, 4), 0);
	assert_int_equal(mmio_read(vm, bar + 0xffc, 4), 0);
	assert_int_equal(calls_count(CALL_SEND_MSI), 0);
}

static void test_pba_is_read_only(void **state)
{
	struct vm *vm = started(state);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	assert_int_equal(pci_msix_notify(dev, 3), 0);
	assert_true(pci_msix_pending(dev, 3));
	assert_int_equal(pba(vm), 1u << 3);
	mmio_write(vm, dev->bars[1].addr + 0x800, 8, 0);
	mmio_write(vm, dev->bars[1].addr + 0x800, 4, 0);
	assert_int_equal(pba(vm), 1u << 3);
	assert_int_equal(mmio_read(vm, dev->bars[1].addr + 0x800, 4), 1u << 3);
	assert_int_equal(mmio_read(vm, dev->bars[1].addr + 0x804, 4), 0);
}

static void test_pending_delivered_on_vector_unmask(void **state)
{
	struct vm *vm = started(state);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	set_ctrl(vm, true, false);
	program(vm, 2, MSG_ADDR, 0x31, true);
	assert_int_equal(pci_msix_notify(dev, 2), 0);
	assert_int_equal(calls_count(CALL_SEND_MSI), 0);
	assert_true(pci_msix_pending(dev, 2));
	assert_int_equal(pba(vm), 1u << 2);

	set_vector_mask(vm, 2, false);
	assert_int_equal(calls_count(CALL_SEND_MSI), 1);
	assert_int_equal(call_nth(CALL_SEND_MSI, 0)->a, MSG_ADDR);
	assert_int_equal(call_nth(CALL_SEND_MSI, 0)->b, 0x31);
	assert_false(pci_msix_pending(dev, 2));
	assert_int_equal(pba(vm), 0);

	/* Usable now: delivered at once, nothing left pending. */
	assert_int_equal(pci_msix_notify(dev, 2), 0);
	assert_int_equal(calls_count(CALL_SEND_MSI), 2);
	assert_false(pci_msix_pending(dev, 2));

	/* Two raises while masked coalesce into one pending bit and one delivery. */
	set_vector_mask(vm, 2, true);
	assert_int_equal(pci_msix_notify(dev, 2), 0);
	assert_int_equal(pci_msix_notify(dev, 2), 0);
	set_vector_mask(vm, 2, false);
	assert_int_equal(calls_count(CALL_SEND_MSI), 3);
}

static void test_pending_delivered_on_function_unmask(void **state)
{
	struct vm *vm = started(state);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	set_ctrl(vm, true, true);
	program(vm, 0, MSG_ADDR, 0x40, false);
	program(vm, 1, MSG_ADDR, 0x41, true);
	assert_int_equal(pci_msix_notify(dev, 0), 0);
	assert_int_equal(pci_msix_notify(dev, 1), 0);
	assert_int_equal(calls_count(CALL_SEND_MSI), 0);
	assert_int_equal(pba(vm), 0x3);

	set_ctrl(vm, true, false);
	assert_int_equal(calls_count(CALL_SEND_MSI), 1);
	assert_int_equal(call_nth(CALL_SEND_MSI, 0)->b, 0x40);
	assert_false(pci_msix_pending(dev, 0));
	assert_true(pci_msix_pending(dev, 1)); /* its own mask still holds it */
}

static void test_pending_delivered_on_enable(void **state)
{
	struct vm *vm = started(state);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	program(vm, 5, MSG_ADDR, 0x55, false);
	assert_int_equal(pci_msix_notify(dev, 5), 0);
	assert_int_equal(calls_count(CALL_SEND_MSI), 0);
	assert_true(pci_msix_pending(dev, 5));

	set_ctrl(vm, true, false);
	assert_int_equal(calls_count(CALL_SEND_MSI), 1);
	assert_int_equal(call_nth(CALL_SEND_MSI, 0)->b, 0x55);
	assert_false(pci_msix_pending(dev, 5));

	set_ctrl(vm, false, false);
	assert_int_equal(pci_msix_notify(dev, 5), 0);
	assert_int_equal(calls_count(CALL_SEND_MSI), 1);
	assert_true(pci_msix_pending(dev, 5));
}

static void test_notify_checks_its_arguments(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	assert_int_equal(pci_msix_notify(dev, NVEC), -EINVAL);
	assert_int_equal(pci_msix_notify(dev, 0xffffffffu), -EINVAL);
	assert_false(pci_msix_pending(dev, NVEC));

	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", NULL), 0);
	struct pci_dev *plain = test_dev(vm, SLOT + 1, 0);
	started(state);
	assert_int_equal(pba(vm), 0);
	assert_int_equal(pci_msix_notify(plain, 0), -EINVAL);
	assert_false(pci_msix_enabled(plain));
	assert_int_equal(pci_msix_vectors(plain), 0);
	pci_msix_set_notifier(plain, record_notifier, NULL); /* harmless */
}

static void test_notifier_follows_usable_state_and_message(void **state)
{
	struct vm *vm = started(state);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	pci_msix_set_notifier(dev, record_notifier, NULL);
	assert_int_equal(calls_count(CALL_NOTIFIER), 0); /* nothing usable to report */

	program(vm, 0, MSG_ADDR, 0x20, true);
	set_ctrl(vm, true, false);
	assert_int_equal(calls_count(CALL_NOTIFIER), 0); /* still masked */

	set_vector_mask(vm, 0, false);
	assert_int_equal(calls_count(CALL_NOTIFIER), 1);
	const struct call *c = call_nth(CALL_NOTIFIER, 0);
	assert_int_equal(c->idx, 0);
	assert_int_equal(c->c, true);
	assert_int_equal(c->a, MSG_ADDR);
	assert_int_equal(c->b, 0x20);
	assert_ptr_equal(c->dev, dev);

	/* The message changes while usable: told again; the same value again: not. */
	mmio_write(vm, table_addr(vm, 0, 8), 4, 0x21);
	mmio_write(vm, table_addr(vm, 0, 8), 4, 0x21);
	assert_int_equal(calls_count(CALL_NOTIFIER), 2);
	assert_int_equal(call_nth(CALL_NOTIFIER, 1)->b, 0x21);
	assert_int_equal(call_nth(CALL_NOTIFIER, 1)->c, true);

	set_vector_mask(vm, 0, true);
	assert_int_equal(calls_count(CALL_NOTIFIER), 3);
	assert_int_equal(call_nth(CALL_NOTIFIER, 2)->c, false);
	mmio_write(vm, table_addr(vm, 0, 8), 4, 0x22); /* masked: passed on at unmask */
	assert_int_equal(calls_count(CALL_NOTIFIER), 3);

	program(vm, 1, MSG_ADDR + 0x10, 0x30, false);
	set_vector_mask(vm, 0, false);
	assert_int_equal(calls_count(CALL_NOTIFIER), 5);
	assert_int_equal(call_nth(CALL_NOTIFIER, 3)->idx, 1);
	assert_int_equal(call_nth(CALL_NOTIFIER, 4)->idx, 0);
	assert_int_equal(call_nth(CALL_NOTIFIER, 4)->b, 0x22);

	/* The function mask turns both off, in vector order; disabling after that changes nothing. */
	set_ctrl(vm, true, true);
	assert_int_equal(calls_count(CALL_NOTIFIER), 7);
	assert_int_equal(call_nth(CALL_NOTIFIER, 5)->idx, 0);
	assert_int_equal(call_nth(CALL_NOTIFIER, 5)->c, false);
	assert_int_equal(call_nth(CALL_NOTIFIER, 6)->idx, 1);
	assert_int_equal(call_nth(CALL_NOTIFIER, 6)->c, false);
	set_ctrl(vm, false, false);
	assert_int_equal(calls_count(CALL_NOTIFIER), 7);

	/* A notifier installed later hears of every vector usable at that moment. */
	set_ctrl(vm, true, false);
	assert_int_equal(calls_count(CALL_NOTIFIER), 9);
	pci_msix_set_notifier(dev, record_notifier, NULL);
	assert_int_equal(calls_count(CALL_NOTIFIER), 11);
	assert_int_equal(call_nth(CALL_NOTIFIER, 10)->c, true);
	assert_int_equal(calls_count(CALL_SEND_MSI), 0); /* nothing was ever raised */
}

/* A notifier that raises the vector it was told about (as a device replaying an event would). */
static void raising_notifier(struct pci_dev *dev, unsigned vector, bool usable, uint64_t addr,
			     uint32_t data, void *opaque)
{
	record_notifier(dev, vector, usable, addr, data, opaque);
	if (usable)
		assert_int_equal(pci_msix_notify(dev, vector), 0);
}

static void test_notifier_may_raise_a_vector(void **state)
{
	struct vm *vm = started(state);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	pci_msix_set_notifier(dev, raising_notifier, NULL);
	program(vm, 4, MSG_ADDR, 0x44, false);
	set_ctrl(vm, true, false);
	assert_int_equal(calls_count(CALL_NOTIFIER), 1);
	assert_int_equal(calls_count(CALL_SEND_MSI), 1);
	assert_int_equal(call_nth(CALL_SEND_MSI, 0)->b, 0x44);
}

static void test_init_rejects_and_unwinds(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	assert_int_equal(pci_msix_init(dev, 4, 2), -EEXIST);

	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", "m320=0x1000,cap=0x09:0xc0"), 0);
	struct pci_dev *other = test_dev(vm, SLOT + 1, 0);
	assert_int_equal(pci_msix_init(other, 0, 2), -EINVAL);
	assert_int_equal(pci_msix_init(other, PCI_MSIX_MAX_VECTORS + 1, 2), -EINVAL);
	assert_int_equal(pci_msix_init(other, 4, PCI_BAR_COUNT), -EINVAL);
	assert_int_equal(pci_msix_init(other, 4, 0), -EINVAL); /* BAR0 taken */
	/* No room left for the capability: the BAR it declared is taken back. */
	assert_int_equal(pci_msix_init(other, 4, 2), -ENOSPC);
	assert_null(other->msix);
	assert_int_equal(other->bars[2].type, PCI_BAR_NONE);
	assert_int_equal(cfg_read(vm, SLOT + 1, 0, PCIR_BAR(2), 4), 0);
	cfg_write(vm, SLOT + 1, 0, PCIR_BAR(2), 4, 0xffffffff);
	assert_int_equal(cfg_read(vm, SLOT + 1, 0, PCIR_BAR(2), 4), 0);
}

struct raiser {
	struct pci_dev *dev;
	unsigned rounds;
};

static void *raise_loop(void *arg)
{
	struct raiser *r = arg;
	for (unsigned i = 0; i < r->rounds; i++)
		if (pci_msix_notify(r->dev, i % 2) != 0)
			return (void *)1;
	return NULL;
}

static void test_concurrent_raise_and_mask(void **state)
{
	struct vm *vm = started(state);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	struct raiser r = { dev, 20000 };
	pthread_t t;

	program(vm, 0, MSG_ADDR, 0x60, false);
	program(vm, 1, MSG_ADDR, 0x61, false);
	set_ctrl(vm, true, false);
	assert_int_equal(pthread_create(&t, NULL, raise_loop, &r), 0);
	for (unsigned i = 0; i < 2000; i++) {
		set_vector_mask(vm, i % 2, true);
		set_ctrl(vm, true, i % 3 == 0);
		set_vector_mask(vm, i % 2, false);
	}
	void *ret;
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	set_ctrl(vm, true, false);
	/* Everything usable again: nothing can stay pending, and every delivery went somewhere. */
	assert_false(pci_msix_pending(dev, 0));
	assert_false(pci_msix_pending(dev, 1));
	assert_true(calls_count(CALL_SEND_MSI) > 0);
	assert_true(calls_count(CALL_SEND_MSI) <= r.rounds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capability_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_table_layouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_reset_state_and_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_accesses_read_zero_and_are_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pba_is_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_delivered_on_vector_unmask, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pending_delivered_on_function_unmask, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pending_delivered_on_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_checks_its_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifier_follows_usable_state_and_message, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_notifier_may_raise_a_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_rejects_and_unwinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_raise_and_mask, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
