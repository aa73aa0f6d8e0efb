/* See test_pci_fixture.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "io_dispatch.h"
#include "log.h"
#include "mem_layout.h"
#include "pci.h"
#include "pci_emuls.h"
#include "pci_msix.h"
#include "test_pci_fixture.h"
#include "vm_state.h"

struct call calls[MAX_CALLS];
unsigned ncalls;
int fake_map_ram_result;

void calls_reset(void)
{
	ncalls = 0;
}

void record_call(enum call_kind kind, const struct pci_dev *dev, int idx, uint64_t a, uint64_t b,
		 uint64_t c, int ret)
{
	if (ncalls < MAX_CALLS)
		calls[ncalls++] = (struct call){ kind, dev, idx, a, b, c, ret };
}

unsigned calls_count(enum call_kind kind)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ncalls; i++)
		n += calls[i].kind == kind;
	return n;
}

const struct call *call_nth(enum call_kind kind, unsigned n)
{
	for (unsigned i = 0; i < ncalls; i++)
		if (calls[i].kind == kind && n-- == 0)
			return &calls[i];
	return NULL;
}

/* ---- the fake backend ---- */

int fixture_map_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva, bool exec)
{
	(void)vmm; (void)exec;
	record_call(CALL_MAP_RAM, NULL, -1, gpa, len, (uint64_t)(uintptr_t)hva, fake_map_ram_result);
	return fake_map_ram_result;
}

int fixture_unmap_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva)
{
	(void)vmm; (void)hva;
	record_call(CALL_UNMAP_RAM, NULL, -1, gpa, len, 0, 0);
	return 0;
}

int fixture_send_msi(struct vmm *vmm, uint64_t addr, uint32_t data)
{
	(void)vmm;
	record_call(CALL_SEND_MSI, NULL, -1, addr, data, 0, 0);
	return 0;
}

int fake_ioeventfd_result;

static int fixture_ioeventfd_add(struct vmm *vmm, const struct vmm_ioeventfd *ev)
{
	(void)vmm;
	record_call(CALL_IOEVENTFD_ADD, NULL, ev->fd, ev->addr, ev->data, ev->datamatch,
		    fake_ioeventfd_result);
	return fake_ioeventfd_result;
}

static int fixture_ioeventfd_del(struct vmm *vmm, const struct vmm_ioeventfd *ev)
{
	(void)vmm;
	record_call(CALL_IOEVENTFD_DEL, NULL, ev->fd, ev->addr, ev->data, ev->datamatch, 0);
	return 0;
}

static const struct vmm_ops fake_vmm_ops = {
	.name = "fake",
	.map_ram = fixture_map_ram,
	.unmap_ram = fixture_unmap_ram,
	.send_msi = fixture_send_msi,
	.ioeventfd_add = fixture_ioeventfd_add,
	.ioeventfd_del = fixture_ioeventfd_del,
};

struct vm *test_vm_new(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	assert_non_null(vm);
	vm->vmm.ops = &fake_vmm_ops;
	vm->io = io_registry_new();
	assert_non_null(vm->io);
	vm->vmm.io = vm->io;
	vm->lowmem = TEST_LOWMEM;
	vm->mmio64_base = TEST_MMIO64_BASE;
	const struct io_range ram = { .name = "ram", .space = IO_SPACE_MMIO, .base = 0,
				      .len = TEST_LOWMEM };
	const struct io_range lapic = { .name = "lapic", .space = IO_SPACE_MMIO,
					.base = LAPIC_BASE, .len = 1 * MiB };
	assert_int_equal(io_register(vm->io, &ram), 0);
	assert_int_equal(io_register(vm->io, &lapic), 0);
	vm->pci = pci_bus_new(vm);
	assert_non_null(vm->pci);
	fake_map_ram_result = 0;
	fake_ioeventfd_result = 0;
	calls_reset();
	return vm;
}

void test_vm_free(struct vm *vm)
{
	pci_bus_free(vm->pci);
	io_registry_free(vm->io);
	free(vm);
}

/* ---- testdev ---- */

/* Host memory "backing" RAM BARs: never touched, the fake backend only records the address. */
char testdev_ram[4096] __attribute__((aligned(4096)));

uint64_t testdev_bar_value(int idx, uint64_t off)
{
	return 0xA0000000ULL | (uint64_t)idx << 20 | off;
}

static int testdev_bar_read(struct pci_dev *dev, int idx, uint64_t off, unsigned size,
			    uint64_t *value)
{
	record_call(CALL_BAR_READ, dev, idx, off, size, 0, 0);
	*value = testdev_bar_value(idx, off);
	return 0;
}

static int testdev_bar_write(struct pci_dev *dev, int idx, uint64_t off, unsigned size,
			     uint64_t value)
{
	record_call(CALL_BAR_WRITE, dev, idx, off, size, value, 0);
	return 0;
}

static void testdev_deinit(struct vm *vm, struct pci_dev *dev)
{
	(void)vm;
	record_call(CALL_DEINIT, dev, -1, 0, 0, 0, 0);
	pci_msix_free(dev);
}

static int testdev_option(struct pci_dev *dev, const char *tok)
{
	static const struct {
		const char *prefix;
		enum pci_bar_type type;
		bool prefetch, ram, memory;
	} kinds[] = {
		{ "ram32", PCI_BAR_MEM32, false, true, true }, { "ram", PCI_BAR_MEM64, true, true, true },
		{ "rsv", PCI_BAR_MEM64, true, true, false },
		{ "m32p", PCI_BAR_MEM32, true, false, false }, { "m32", PCI_BAR_MEM32, false, false, false },
		{ "m64p", PCI_BAR_MEM64, true, false, false }, { "m64", PCI_BAR_MEM64, false, false, false },
		{ "io", PCI_BAR_IO, false, false, false },
	};
	unsigned a, b;
	int id, len;

	if (strcmp(tok, "fail") == 0) {
		pr_err("testdev", "%s: told to fail", dev->name); /* an init logs its own failure */
		return -EIO;
	}
	if (sscanf(tok, "msix=%u@%u", &a, &b) == 2)
		return pci_msix_init(dev, a, (int)b);
	if (sscanf(tok, "cap=%i:%i", &id, &len) == 2) {
		int off = pci_add_capability(dev, (uint8_t)id, (unsigned)len);
		return off < 0 ? off : 0;
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		size_t n = strlen(kinds[k].prefix);
		unsigned long long size;
		int idx;
		if (strncmp(tok, kinds[k].prefix, n) != 0 ||
		    sscanf(tok + n, "%d=%lli", &idx, &size) != 2)
			continue;
		int ret = pci_add_bar(dev, idx, kinds[k].type, size, kinds[k].prefetch, kinds[k].ram);
		return ret < 0 || !kinds[k].memory ? ret : pci_set_bar_memory(dev, idx, testdev_ram);
	}
	fail_msg("testdev: bad option '%s'", tok);
	return -EINVAL;
}

static int testdev_init(struct vm *vm, struct pci_dev *dev, const char *opts)
{
	(void)vm;
	pci_set_ids(dev, TESTDEV_VENDOR, TESTDEV_DEVICE, 0xff, 0x00, 0x00, 0x01);
	pci_set_cfg8(dev, PCIR_INTPIN, 1);
	if (!opts)
		return 0;
	char *copy = strdup(opts), *save = NULL;
	int ret = 0;
	assert_non_null(copy);
	for (char *tok = strtok_r(copy, ",", &save); tok && ret == 0; tok = strtok_r(NULL, ",", &save))
		ret = testdev_option(dev, tok);
	free(copy);
	return ret;
}

static const struct pci_dev_ops testdev_ops = {
	.emul = "testdev",
	.init = testdev_init,
	.deinit = testdev_deinit,
	.bar_read = testdev_bar_read,
	.bar_write = testdev_bar_write,
};


void record_notifier(struct pci_dev *dev, unsigned vector, bool usable, uint64_t addr,
		     uint32_t data, void *opaque)
{
	(void)opaque;
	record_call(CALL_NOTIFIER, dev, (int)vector, addr, data, usable, 0);
}

/* ---- accessors ---- */

int test_add(struct vm *vm, unsigned slot, unsigned func, const char *emul, const char *config)
{
	const struct pci_dev_ops *ops = strcmp(emul, "testdev") == 0 ? &testdev_ops :
					pci_emul_find(emul);
	assert_non_null(ops);
	return pci_bus_add_device(vm->pci, 0, slot, func, ops, config);
}

struct pci_dev *test_dev(struct vm *vm, unsigned slot, unsigned func)
{
	struct pci_dev *dev = pci_bus_find(vm->pci, 0, slot, func);
	assert_non_null(dev);
	return dev;
}

uint32_t cfg_read(struct vm *vm, unsigned slot, unsigned func, unsigned reg, unsigned size)
{
	uint32_t v = 0x5a5a5a5a;
	assert_int_equal(pci_cfg_access(vm->pci, 0, slot, func, reg, size, false, &v), 0);
	return v;
}

void cfg_write(struct vm *vm, unsigned slot, unsigned func, unsigned reg, unsigned size,
	       uint32_t value)
{
	assert_int_equal(pci_cfg_access(vm->pci, 0, slot, func, reg, size, true, &value), 0);
}

static uint64_t io_access(struct vm *vm, enum io_space space, uint64_t addr, unsigned size,
		       bool is_write, uint64_t value)
{
	struct io_request req = { .space = space, .addr = addr, .size = size, .is_write = is_write,
				  .value = value };
	(void)io_dispatch(vm->io, &req); /* -ENOENT (unclaimed) is a result the tests look at */
	return req.value;
}

uint64_t pio_read(struct vm *vm, uint64_t port, unsigned size)
{
	return io_access(vm, IO_SPACE_PIO, port, size, false, 0);
}

void pio_write(struct vm *vm, uint64_t port, unsigned size, uint64_t value)
{
	io_access(vm, IO_SPACE_PIO, port, size, true, value);
}

uint64_t mmio_read(struct vm *vm, uint64_t addr, unsigned size)
{
	return io_access(vm, IO_SPACE_MMIO, addr, size, false, 0);
}

void mmio_write(struct vm *vm, uint64_t addr, unsigned size, uint64_t value)
{
	io_access(vm, IO_SPACE_MMIO, addr, size, true, value);
}
