/* BARs: allocation, the sizing protocol, decode, and BARs moved by the guest. */
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
/* BAR0: 256 ports; BAR1: 256-byte MMIO; BAR2+3: 2 MiB 64-bit prefetchable RAM; BAR4: 4 KiB pf. */
#define STD_DEV "io0=0x100,m321=0x100,ram2=0x200000,m32p4=0x1000"

static int setup(void **state)
{
	struct vm *vm = test_vm_new();
	assert_int_equal(test_add(vm, SLOT, 0, "testdev", STD_DEV), 0);
	*state = vm;
	return 0;
}

static int teardown(void **state)
{
	test_vm_free(*state);
	return 0;
}

static void start(struct vm *vm)
{
	assert_int_equal(pci_bus_start(vm->pci), 0);
	calls_reset();
}

static uint32_t bar_reg(struct vm *vm, unsigned slot, int idx)
{
	return cfg_read(vm, slot, 0, PCIR_BAR(idx), 4);
}

static void set_bar_reg(struct vm *vm, unsigned slot, int idx, uint32_t v)
{
	cfg_write(vm, slot, 0, PCIR_BAR(idx), 4, v);
}

static bool trapped_at(struct vm *vm, enum io_space space, uint64_t addr, int idx)
{
	unsigned before = calls_count(CALL_BAR_READ);
	uint64_t v = space == IO_SPACE_PIO ? pio_read(vm, addr, 4) : mmio_read(vm, addr, 4);
	if (calls_count(CALL_BAR_READ) == before)
		return false;
	const struct call *c = call_nth(CALL_BAR_READ, before);
	assert_int_equal(c->idx, idx);
	assert_int_equal(v, testdev_bar_value(idx, c->a));
	return true;
}

static void test_allocation_windows_and_alignment(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", "m320=0x2000,io1=4,m642=0x10000000"),
			 0);
	struct pci_dev *a = test_dev(vm, SLOT, 0), *b = test_dev(vm, SLOT + 1, 0);

	assert_int_equal(a->bars[0].addr, PCI_PIO_BASE);
	assert_int_equal(a->bars[1].addr, PCI_MMIO32_BASE);
	assert_int_equal(a->bars[2].addr, TEST_MMIO64_BASE);
	assert_int_equal(a->bars[3].type, PCI_BAR_MEM64_HI);
	/* The 256-byte BAR1 took a whole page: BAR4 starts on the next one. */
	assert_int_equal(a->bars[4].addr, PCI_MMIO32_BASE + 0x1000);
	assert_int_equal(b->bars[0].addr, PCI_MMIO32_BASE + 0x2000); /* 8 KiB aligned */
	assert_int_equal(b->bars[1].addr, PCI_PIO_BASE + 0x100);
	assert_int_equal(b->bars[2].addr, TEST_MMIO64_BASE + 0x10000000); /* 256 MiB aligned */

	/* The registers show address | flags. */
	assert_int_equal(bar_reg(vm, SLOT, 0), PCI_PIO_BASE | 0x1);
	assert_int_equal(bar_reg(vm, SLOT, 1), (uint32_t)PCI_MMIO32_BASE);
	assert_int_equal(bar_reg(vm, SLOT, 2), 0x0000000c);
	assert_int_equal(bar_reg(vm, SLOT, 3), (uint32_t)(TEST_MMIO64_BASE >> 32));
	assert_int_equal(bar_reg(vm, SLOT, 4), (uint32_t)(PCI_MMIO32_BASE + 0x1000) | 0x8);
	assert_int_equal(bar_reg(vm, SLOT + 1, 2), 0x10000004);
	assert_int_equal(bar_reg(vm, SLOT + 1, 3), 1);
	assert_int_equal(bar_reg(vm, SLOT, 5), 0);
}

static void test_sizing_io_and_mem32(void **state)
{
	struct vm *vm = *state;

	set_bar_reg(vm, SLOT, 0, 0xffffffff);
	assert_int_equal(bar_reg(vm, SLOT, 0), 0xffffff01);
	set_bar_reg(vm, SLOT, 1, 0xffffffff);
	assert_int_equal(bar_reg(vm, SLOT, 1), 0xffffff00);
	set_bar_reg(vm, SLOT, 4, 0xffffffff);
	assert_int_equal(bar_reg(vm, SLOT, 4), 0xfffff008); /* prefetchable flag stays */

	/* The flag bits are read-only: writing zero restores the address, not the type. */
	set_bar_reg(vm, SLOT, 0, 0x3000);
	assert_int_equal(bar_reg(vm, SLOT, 0), 0x3001);
	set_bar_reg(vm, SLOT, 4, 0xc0400007);
	assert_int_equal(bar_reg(vm, SLOT, 4), 0xc0400008);
	/* Bits below the size are read-only zero. */
	set_bar_reg(vm, SLOT, 1, 0xc0500080);
	assert_int_equal(bar_reg(vm, SLOT, 1), 0xc0500000);
}

static void test_sizing_mem64_both_halves(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", "m640=0x200000000"), 0);

	set_bar_reg(vm, SLOT, 2, 0xffffffff);
	set_bar_reg(vm, SLOT, 3, 0xffffffff);
	assert_int_equal(bar_reg(vm, SLOT, 2), 0xffe0000c);
	assert_int_equal(bar_reg(vm, SLOT, 3), 0xffffffff);

	/* 8 GiB: no writable bit in the low half; the upper half sizes to its upper bits. */
	set_bar_reg(vm, SLOT + 1, 0, 0xffffffff);
	set_bar_reg(vm, SLOT + 1, 1, 0xffffffff);
	assert_int_equal(bar_reg(vm, SLOT + 1, 0), 0x00000004);
	assert_int_equal(bar_reg(vm, SLOT + 1, 1), 0xfffffffe);
}

static void test_start_enables_decode_and_traps(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(pci_bus_start(vm->pci), 0);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_COMMAND, 2),
			 PCIM_CMD_IO | PCIM_CMD_MEM | PCIM_CMD_BUSMASTER);
	for (int i = 0; i < 5; i++)
		if (i != 3)
			assert_true(dev->bars[i].mapped);

	/* The core mapped the RAM BAR's memory itself: the device was not asked. */
	assert_int_equal(calls_count(CALL_MAP_RAM), 1);
	assert_int_equal(call_nth(CALL_MAP_RAM, 0)->a, TEST_MMIO64_BASE);
	assert_int_equal(call_nth(CALL_MAP_RAM, 0)->b, 0x200000);
	assert_ptr_equal((void *)(uintptr_t)call_nth(CALL_MAP_RAM, 0)->c, testdev_ram);
	assert_int_equal(calls_count(CALL_BAR_READ), 0);

	calls_reset();
	assert_true(trapped_at(vm, IO_SPACE_MMIO, PCI_MMIO32_BASE + 0x10, 1));
	assert_int_equal(call_nth(CALL_BAR_READ, 0)->a, 0x10);
	assert_true(trapped_at(vm, IO_SPACE_PIO, PCI_PIO_BASE + 0x4, 0));
	assert_true(trapped_at(vm, IO_SPACE_MMIO, PCI_MMIO32_BASE + 0x1ffc, 4));

	mmio_write(vm, PCI_MMIO32_BASE + 0x8, 4, 0xdeadbeef);
	const struct call *w = call_nth(CALL_BAR_WRITE, 0);
	assert_non_null(w);
	assert_int_equal(w->idx, 1);
	assert_int_equal(w->a, 0x8);
	assert_int_equal(w->b, 4);
	assert_int_equal(w->c, 0xdeadbeef);

	/* An access running past the end of the 256-byte BAR never reaches the device. */
	calls_reset();
	assert_int_equal(mmio_read(vm, PCI_MMIO32_BASE + 0xfe, 4), 0xffffffff);
	assert_int_equal(mmio_read(vm, PCI_MMIO32_BASE + 0x100, 4), 0xffffffff);
	assert_int_equal(calls_count(CALL_BAR_READ), 0);
}

static bool kinds_are(unsigned from, const enum call_kind *kinds, unsigned n)
{
	if (ncalls - from != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (calls[from + i].kind != kinds[i])
			return false;
	return true;
}

static const enum call_kind move_sequence[] = { CALL_UNMAP_RAM, CALL_MAP_RAM };

static void test_ram_bar_move_unmaps_old_then_maps_new(void **state)
{
	struct vm *vm = *state;
	start(vm);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	const uint64_t a = TEST_MMIO64_BASE, b = TEST_MMIO64_BASE + 16 * MiB;

	/* One path: the config write, the PCI core, the backend; the device hears nothing. */
	set_bar_reg(vm, SLOT, 2, (uint32_t)b | 0xc);
	assert_true(kinds_are(0, move_sequence, 2));
	assert_int_equal(calls[0].a, a);
	assert_int_equal(calls[1].a, b);
	assert_ptr_equal((void *)(uintptr_t)calls[1].c, testdev_ram);
	assert_true(dev->bars[2].mapped);
	assert_int_equal(dev->bars[2].mapped_addr, b);
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, a, 0x200000));
	assert_false(io_range_free(vm->io, IO_SPACE_MMIO, b, 0x200000));

	/* Across the 4 GiB line one half at a time: the transient address is decoded on the way. */
	const uint64_t c = 2 * TEST_MMIO64_BASE;
	calls_reset();
	set_bar_reg(vm, SLOT, 2, 0x0000000c);
	assert_true(kinds_are(0, move_sequence, 2));
	assert_int_equal(calls[1].a, a);
	set_bar_reg(vm, SLOT, 3, (uint32_t)(c >> 32));
	assert_true(kinds_are(2, move_sequence, 2));
	assert_int_equal(calls[2].a, a);
	assert_int_equal(calls[3].a, c);
	assert_int_equal(dev->bars[2].addr, c);
	assert_int_equal(dev->bars[2].mapped_addr, c);
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, a, 0x200000));
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, b, 0x200000));

	/* Rewriting the same address changes nothing. */
	calls_reset();
	set_bar_reg(vm, SLOT, 3, (uint32_t)(c >> 32));
	set_bar_reg(vm, SLOT, 2, 0x0000000c);
	assert_int_equal(ncalls, 0);
}

static void test_trapped_bar_follows_the_guest(void **state)
{
	struct vm *vm = *state;
	start(vm);
	const uint64_t to = PCI_MMIO32_BASE + 0x100000;

	set_bar_reg(vm, SLOT, 1, (uint32_t)to);
	assert_false(trapped_at(vm, IO_SPACE_MMIO, PCI_MMIO32_BASE, 1));
	assert_true(trapped_at(vm, IO_SPACE_MMIO, to + 0x20, 1));
	assert_int_equal(test_dev(vm, SLOT, 0)->bars[1].mapped_addr, to);

	set_bar_reg(vm, SLOT, 0, 0x4000);
	assert_false(trapped_at(vm, IO_SPACE_PIO, PCI_PIO_BASE, 0));
	assert_true(trapped_at(vm, IO_SPACE_PIO, 0x4000, 0));
}

static void test_decode_toggles(void **state)
{
	struct vm *vm = *state;
	start(vm);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 2, PCIM_CMD_IO | PCIM_CMD_BUSMASTER);
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 1);
	assert_int_equal(call_nth(CALL_UNMAP_RAM, 0)->a, TEST_MMIO64_BASE);
	assert_false(dev->bars[1].mapped);
	assert_false(dev->bars[2].mapped);
	assert_false(trapped_at(vm, IO_SPACE_MMIO, PCI_MMIO32_BASE, 1));
	assert_true(trapped_at(vm, IO_SPACE_PIO, PCI_PIO_BASE, 0)); /* I/O decode untouched */
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, TEST_MMIO64_BASE, 0x200000));

	calls_reset();
	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 2, PCIM_CMD_IO | PCIM_CMD_MEM);
	assert_int_equal(calls_count(CALL_MAP_RAM), 1);
	assert_int_equal(call_nth(CALL_MAP_RAM, 0)->a, TEST_MMIO64_BASE);
	assert_true(dev->bars[2].mapped);
	assert_true(trapped_at(vm, IO_SPACE_MMIO, PCI_MMIO32_BASE, 1));

	/* Turning off I/O decode leaves the memory BARs alone. */
	calls_reset();
	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 1, PCIM_CMD_MEM);
	assert_int_equal(ncalls, 0);
	assert_false(trapped_at(vm, IO_SPACE_PIO, PCI_PIO_BASE, 0));
	assert_false(dev->bars[0].mapped);
	assert_true(dev->bars[2].mapped);
}

static void test_move_onto_ram_is_not_decoded(void **state)
{
	struct vm *vm = *state;
	start(vm);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	char log[2048];
	log_set_level(LOG_DEBUG);
	log_capture_begin();
	set_bar_reg(vm, SLOT, 1, 0x00100000);
	log_capture_end(log, sizeof(log));
	log_set_level(LOG_INFO);
	assert_non_null(strstr(log, "BAR1 not decoded at 0x100000: overlaps guest RAM"));
	assert_int_equal(bar_reg(vm, SLOT, 1), 0x00100000); /* programmed ... */
	assert_false(dev->bars[1].mapped);		       /* ... but not decoded */
	assert_false(trapped_at(vm, IO_SPACE_MMIO, 0x00100000, 1));
	assert_false(trapped_at(vm, IO_SPACE_MMIO, PCI_MMIO32_BASE, 1));
	assert_false(io_range_free(vm->io, IO_SPACE_MMIO, 0x00100000, 0x100)); /* RAM intact */

	set_bar_reg(vm, SLOT, 1, (uint32_t)PCI_MMIO32_BASE + 0x200000);
	assert_true(trapped_at(vm, IO_SPACE_MMIO, PCI_MMIO32_BASE + 0x200000, 1));

	/* The RAM BAR onto guest RAM: the old mapping goes, the new one is refused, with a warning. */
	calls_reset();
	log_capture_begin();
	set_bar_reg(vm, SLOT, 3, 0);		/* transient address 0: unmapped, not remapped */
	set_bar_reg(vm, SLOT, 2, 0x0020000c);	/* 2 MiB: guest RAM */
	log_capture_end(log, sizeof(log));
	assert_non_null(strstr(log, "BAR2 not mapped at 0x200000: overlaps guest RAM"));
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 1);
	assert_int_equal(calls_count(CALL_MAP_RAM), 0);
	assert_false(dev->bars[2].mapped);
	assert_int_equal(dev->bars[2].addr, 0x200000);

	/* Back to a free place: decoded again. */
	set_bar_reg(vm, SLOT, 3, 1);
	set_bar_reg(vm, SLOT, 2, 0x0000000c);
	assert_true(dev->bars[2].mapped);
	assert_int_equal(dev->bars[2].mapped_addr, TEST_MMIO64_BASE);
}

static void test_move_onto_another_bar_is_not_decoded(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", STD_DEV), 0);
	start(vm);
	struct pci_dev *a = test_dev(vm, SLOT, 0), *b = test_dev(vm, SLOT + 1, 0);

	/* b's BAR1 onto a's BAR1: a keeps answering there. */
	set_bar_reg(vm, SLOT + 1, 1, (uint32_t)a->bars[1].addr);
	assert_false(b->bars[1].mapped);
	calls_reset();
	assert_true(trapped_at(vm, IO_SPACE_MMIO, a->bars[1].addr, 1));
	assert_ptr_equal(calls[0].dev, a);

	/* b's RAM BAR onto a's: refused, a's mapping untouched. */
	calls_reset();
	set_bar_reg(vm, SLOT + 1, 3, (uint32_t)(a->bars[2].addr >> 32));
	set_bar_reg(vm, SLOT + 1, 2, (uint32_t)a->bars[2].addr | 0xc);
	assert_false(b->bars[2].mapped);
	assert_true(a->bars[2].mapped);
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 1); /* b's own old mapping only */
	assert_int_equal(call_nth(CALL_UNMAP_RAM, 0)->a, TEST_MMIO64_BASE + 0x200000);
	assert_int_equal(calls_count(CALL_MAP_RAM), 0);	  /* refused before the backend */

	/* b's I/O BAR onto a's ports. */
	set_bar_reg(vm, SLOT + 1, 0, (uint32_t)a->bars[0].addr);
	assert_false(b->bars[0].mapped);
	assert_true(a->bars[0].mapped);
}

/* A RAM BAR without memory (the hypervisor provides it) is only reserved, and still follows. */
static void test_reserved_ram_bar(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", "rsv0=0x200000"), 0);
	assert_int_equal(pci_bus_start(vm->pci), 0);
	struct pci_dev *dev = test_dev(vm, SLOT + 1, 0);
	const uint64_t home = dev->bars[0].addr, to = home + 64 * MiB;

	assert_true(dev->bars[0].mapped);
	assert_false(io_range_free(vm->io, IO_SPACE_MMIO, home, 0x200000));
	assert_int_equal(calls_count(CALL_MAP_RAM), 1); /* the other device's RAM BAR only */
	assert_int_not_equal(call_nth(CALL_MAP_RAM, 0)->a, home);
	calls_reset();
	/* Nothing is trapped there: reads find no handler. */
	assert_int_equal(mmio_read(vm, home, 4), 0xffffffff);
	assert_int_equal(calls_count(CALL_BAR_READ), 0);

	set_bar_reg(vm, SLOT + 1, 0, (uint32_t)to | 0xc);
	set_bar_reg(vm, SLOT + 1, 1, (uint32_t)(to >> 32));
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, home, 0x200000));
	assert_false(io_range_free(vm->io, IO_SPACE_MMIO, to, 0x200000));
	assert_int_equal(dev->bars[0].mapped_addr, to);

	assert_int_equal(calls_count(CALL_MAP_RAM) + calls_count(CALL_UNMAP_RAM), 0);

	/* Another device's RAM BAR cannot be moved on top of it. */
	set_bar_reg(vm, SLOT, 3, (uint32_t)(to >> 32));
	set_bar_reg(vm, SLOT, 2, (uint32_t)to | 0xc);
	assert_false(test_dev(vm, SLOT, 0)->bars[2].mapped);

	/* Decode off gives the range back. */
	cfg_write(vm, SLOT + 1, 0, PCIR_COMMAND, 2, 0);
	assert_false(dev->bars[0].mapped);
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, to, 0x200000));
}

static void test_bar_memory_only_for_ram_bars_before_start(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	static char page[8192] __attribute__((aligned(4096)));

	assert_int_equal(pci_set_bar_memory(dev, 1, page), -EINVAL);	/* trapped */
	assert_int_equal(pci_set_bar_memory(dev, 3, page), -EINVAL);	/* upper half */
	assert_int_equal(pci_set_bar_memory(dev, 6, page), -EINVAL);
	assert_int_equal(pci_set_bar_memory(dev, 2, page + 16), -EINVAL);
	assert_int_equal(pci_set_bar_memory(dev, 2, page), 0);
	assert_int_equal(pci_bus_start(vm->pci), 0);
	assert_ptr_equal((void *)(uintptr_t)call_nth(CALL_MAP_RAM, 0)->c, page);
	assert_int_equal(pci_set_bar_memory(dev, 2, testdev_ram), -EINVAL);	/* running */
}

static void test_sizing_while_decoded(void **state)
{
	struct vm *vm = *state;
	start(vm);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);

	/* All ones puts a 32-bit BAR in the LAPIC/IOAPIC range: not decoded there. */
	set_bar_reg(vm, SLOT, 1, 0xffffffff);
	assert_false(dev->bars[1].mapped);
	assert_false(trapped_at(vm, IO_SPACE_MMIO, 0xffffff00, 1));
	set_bar_reg(vm, SLOT, 1, (uint32_t)PCI_MMIO32_BASE);
	assert_true(trapped_at(vm, IO_SPACE_MMIO, PCI_MMIO32_BASE, 1));

	/* An I/O BAR sized while decoded leaves the 64 KiB port space. */
	set_bar_reg(vm, SLOT, 0, 0xffffffff);
	assert_false(dev->bars[0].mapped);
	set_bar_reg(vm, SLOT, 0, PCI_PIO_BASE);
	assert_true(trapped_at(vm, IO_SPACE_PIO, PCI_PIO_BASE, 0));

	/* A 64-bit RAM BAR sized and restored half by half ends where it started, nothing leaked. */
	set_bar_reg(vm, SLOT, 2, 0xffffffff);
	set_bar_reg(vm, SLOT, 3, 0xffffffff);
	assert_false(dev->bars[2].mapped);
	set_bar_reg(vm, SLOT, 2, 0x0000000c);
	assert_false(dev->bars[2].mapped); /* 0xffffffff00000000: above the window */
	set_bar_reg(vm, SLOT, 3, (uint32_t)(TEST_MMIO64_BASE >> 32));
	assert_true(dev->bars[2].mapped);
	assert_int_equal(dev->bars[2].mapped_addr, TEST_MMIO64_BASE);

	unsigned maps = 0;
	for (unsigned i = 0; i < ncalls; i++)
		maps += calls[i].kind == CALL_MAP_RAM && calls[i].ret == 0;
	/* Every mapping made on the way was taken down again (start() reset the record). */
	assert_true(maps >= 1);
	assert_int_equal(maps, calls_count(CALL_UNMAP_RAM));
}

static void test_add_bar_rejects_bad_declarations(void **state)
{
	struct vm *vm = *state;
	struct pci_dev *dev = test_dev(vm, SLOT, 0); /* BARs 0-4 taken, 5 free */

	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_MEM32, 0x300, false, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 6, PCI_BAR_MEM32, 0x1000, false, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, -1, PCI_BAR_MEM32, 0x1000, false, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_MEM64, 0x1000, false, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_IO, 0x100, false, true), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_IO, 0x100, true, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_IO, 2, false, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_MEM32, 0x100, false, true), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_MEM32, 8, false, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_NONE, 0x1000, false, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_MEM64_HI, 0x1000, false, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 1, PCI_BAR_MEM32, 0x1000, false, false), -EINVAL);
	assert_int_equal(pci_add_bar(dev, 3, PCI_BAR_MEM32, 0x1000, false, false), -EINVAL);
	assert_int_equal(dev->bars[5].type, PCI_BAR_NONE);
	assert_int_equal(pci_add_bar(dev, 5, PCI_BAR_MEM32, 0x1000, false, false), 0);

	/* Exhausted windows: a device that cannot get its BARs is not added. */
	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", "m320=0x20000000,m321=0x20000000"),
			 -ENOSPC);
	assert_null(pci_bus_find(vm->pci, 0, SLOT + 1, 0));
	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", "io0=0x8000,io1=0x8000"), -ENOSPC);
	assert_int_equal(test_add(vm, SLOT + 1, 0, "testdev", "m640=0x800000000,m642=0x800000000"),
			 -ENOSPC);
}

static void test_failed_start_leaves_nothing_decoded(void **state)
{
	struct vm *vm = *state;
	fake_map_ram_result = -ENOMEM;
	assert_int_equal(pci_bus_start(vm->pci), -ENOMEM);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	for (int i = 0; i < PCI_BAR_COUNT; i++)
		assert_false(dev->bars[i].mapped);
	assert_true(io_range_free(vm->io, IO_SPACE_PIO, PCI_PIO_BASE, 0x100));
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, PCI_MMIO32_BASE, 0x2000));
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, TEST_MMIO64_BASE, 0x200000));
	assert_true(io_range_free(vm->io, IO_SPACE_PIO, PCI_CONFIG_ADDR_PORT, 8));
}

static void test_bus_free_unmaps_then_deinits(void **state)
{
	struct vm *vm = *state;
	start(vm);
	pci_bus_free(vm->pci);
	vm->pci = NULL;
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 1);
	assert_int_equal(call_nth(CALL_UNMAP_RAM, 0)->a, TEST_MMIO64_BASE);
	assert_true(call_nth(CALL_UNMAP_RAM, 0) < call_nth(CALL_DEINIT, 0));
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, PCI_MMIO32_BASE, 0x2000));
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, TEST_MMIO64_BASE, 0x200000));
	assert_true(io_range_free(vm->io, IO_SPACE_PIO, PCI_CONFIG_ADDR_PORT, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allocation_windows_and_alignment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sizing_io_and_mem32, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizing_mem64_both_halves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_enables_decode_and_traps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ram_bar_move_unmaps_old_then_maps_new, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trapped_bar_follows_the_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_toggles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_onto_ram_is_not_decoded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_onto_another_bar_is_not_decoded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reserved_ram_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_memory_only_for_ram_bars_before_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sizing_while_decoded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_bar_rejects_bad_declarations, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_start_leaves_nothing_decoded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bus_free_unmaps_then_deinits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
