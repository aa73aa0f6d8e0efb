/*
 * The ivshmem device as a guest sees it, created through the PCI bus of a VM whose hypervisor
 * backend is a fake (it records and checks map_ram/unmap_ram/create_vdev/destroy_vdev) over a real
 * io_registry: every config-space field, the BAR sizing protocol, the BAR0 registers at every
 * width and offset, BAR2 mapped where the guest puts it (and nowhere when that place is taken),
 * the hypervisor-land hand-off, several devices in one VM, and option strings that must fail.
 *
 * Regions are /dev/shm/ivdev<pid>_<tag>, unlinked in teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "io_dispatch.h"
#include "log.h"
#include "mem_layout.h"
#include "pci.h"
#include "test_fail.h"
#include "test_pci_fixture.h"
#include "vm.h"

#define SLOT		5
#define REG_INTR_MASK	0x00
#define REG_INTR_STATUS	0x04
#define REG_IV_POSITION	0x08
#define REG_DOORBELL	0x0c

/* ---- region names ---- */

#define MAX_NAMES 64
static char names[MAX_NAMES][32];
static unsigned nnames;

/* A region name private to this process; unlinked in teardown. */
static const char *region(const char *tag)
{
	char name[32];
	snprintf(name, sizeof(name), "ivdev%d_%s", (int)getpid(), tag);
	for (unsigned i = 0; i < nnames; i++)
		if (strcmp(names[i], name) == 0)
			return names[i];
	assert_true(nnames < MAX_NAMES);
	strcpy(names[nnames], name);
	return names[nnames++];
}

static void unlink_regions(void)
{
	for (unsigned i = 0; i < nnames; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/dev/shm/%s", names[i]);
		unlink(path);
	}
	nnames = 0;
}

static bool region_exists(const char *name, off_t *size)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	if (stat(path, &st) < 0)
		return false;
	if (size)
		*size = st.st_size;
	return true;
}

/* Maps /dev/shm/NAME (created with size bytes when create). */
static void *region_file_map(const char *name, size_t size, bool create)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	int fd = open(path, O_RDWR | (create ? O_CREAT | O_EXCL : 0), 0600);
	assert_true(fd >= 0);
	if (create)
		assert_int_equal(ftruncate(fd, (off_t)size), 0);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(p != MAP_FAILED);
	return p;
}

/* ---- the fake backend: what is mapped where, and the devices handed to the hypervisor ---- */

struct live_map {
	uint64_t gpa, len;
	void *hva;
};

#define MAX_LIVE 16
static struct live_map live[MAX_LIVE];
static unsigned nlive;

#define MAX_VDEVS 8
static struct vmm_vdev created[MAX_VDEVS], destroyed[MAX_VDEVS];
static unsigned ncreated, ndestroyed;
static int create_vdev_result;

static int fake_map_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva, bool exec)
{
	(void)vmm;
	record_call(CALL_MAP_RAM, NULL, -1, gpa, len, (uint64_t)(uintptr_t)hva, 0);
	if (exec || !hva || (gpa | len | (uintptr_t)hva) & 0xfff)
		fail_msg("map_ram(0x%llx, 0x%llx, %p, exec %d): not what the seam allows",
			 (unsigned long long)gpa, (unsigned long long)len, hva, exec);
	for (unsigned i = 0; i < nlive; i++)
		if (gpa < live[i].gpa + live[i].len && live[i].gpa < gpa + len)
			fail_msg("map_ram at 0x%llx overlaps a live mapping at 0x%llx",
				 (unsigned long long)gpa, (unsigned long long)live[i].gpa);
	assert_true(nlive < MAX_LIVE);
	live[nlive++] = (struct live_map){ gpa, len, hva };
	return 0;
}

static int fake_unmap_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva)
{
	(void)vmm;
	record_call(CALL_UNMAP_RAM, NULL, -1, gpa, len, (uint64_t)(uintptr_t)hva, 0);
	for (unsigned i = 0; i < nlive; i++)
		if (live[i].gpa == gpa && live[i].len == len && live[i].hva == hva) {
			live[i] = live[--nlive];
			return 0;
		}
	fail_msg("unmap_ram(0x%llx, 0x%llx): no such mapping", (unsigned long long)gpa,
		 (unsigned long long)len);
	return -EINVAL;
}

static int fake_create_vdev(struct vmm *vmm, const struct vmm_vdev *vdev)
{
	(void)vmm;
	if (create_vdev_result < 0)
		return create_vdev_result;
	assert_true(ncreated < MAX_VDEVS);
	created[ncreated++] = *vdev;
	return 0;
}

static int fake_destroy_vdev(struct vmm *vmm, const struct vmm_vdev *vdev)
{
	(void)vmm;
	assert_true(ndestroyed < MAX_VDEVS);
	destroyed[ndestroyed++] = *vdev;
	return 0;
}

/* ACRN-like: has create_vdev. */
static const struct vmm_ops acrn_like_ops = {
	.name = "fake-hsm",
	.map_ram = fake_map_ram,
	.unmap_ram = fake_unmap_ram,
	.send_msi = fixture_send_msi,
	.create_vdev = fake_create_vdev,
	.destroy_vdev = fake_destroy_vdev,
};

/* KVM-like: no hypervisor-emulated devices (vm_create_vdev answers -ENOTSUP). */
static const struct vmm_ops kvm_like_ops = {
	.name = "fake-kvm",
	.map_ram = fake_map_ram,
	.unmap_ram = fake_unmap_ram,
	.send_msi = fixture_send_msi,
};

/* The live mapping at gpa, or NULL. */
static const struct live_map *live_at(uint64_t gpa)
{
	for (unsigned i = 0; i < nlive; i++)
		if (live[i].gpa == gpa)
			return &live[i];
	return NULL;
}

/* The live mapping at gpa, which must exist. */
static const struct live_map *live_must(uint64_t gpa)
{
	const struct live_map *m = live_at(gpa);
	if (!m)
		fail_now("no live mapping at 0x%llx", (unsigned long long)gpa);
	return m;
}

/* ---- fixture ---- */

static int setup(void **state)
{
	struct vm *vm = test_vm_new();
	vm->vmm.ops = &acrn_like_ops;
	nlive = ncreated = ndestroyed = 0;
	create_vdev_result = 0;
	*state = vm;
	return 0;
}

static int teardown(void **state)
{
	if (*state)
		test_vm_free(*state);
	/* Tearing the bus down unmapped everything it had mapped. */
	assert_int_equal(nlive, 0);
	unlink_regions();
	return 0;
}

/* Frees the VM inside a test (to look at teardown), so teardown does not do it again. */
static void free_vm(void **state)
{
	test_vm_free(*state);
	*state = NULL;
}

static int add_iv(struct vm *vm, unsigned slot, unsigned func, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int add_iv(struct vm *vm, unsigned slot, unsigned func, const char *fmt, ...)
{
	char config[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(config, sizeof(config), fmt, ap);
	va_end(ap);
	return test_add(vm, slot, func, "ivshmem", config);
}

static void start(struct vm *vm)
{
	assert_int_equal(pci_bus_start(vm->pci), 0);
}

static uint32_t cfg32(struct vm *vm, unsigned slot, unsigned reg)
{
	return cfg_read(vm, slot, 0, reg, 4);
}

static void set_cmd_mem(struct vm *vm, unsigned slot, bool on)
{
	uint16_t cmd = (uint16_t)cfg_read(vm, slot, 0, PCIR_COMMAND, 2);
	cmd = on ? (cmd | PCIM_CMD_MEM) : (cmd & ~PCIM_CMD_MEM);
	cfg_write(vm, slot, 0, PCIR_COMMAND, 2, cmd);
}

static uint64_t bar2_programmed(struct vm *vm, unsigned slot)
{
	return (cfg32(vm, slot, PCIR_BAR(2)) & ~0xfull) | (uint64_t)cfg32(vm, slot, PCIR_BAR(3)) << 32;
}

/* The guest's way: decode off, both halves, decode on. */
static void move_bar2(struct vm *vm, unsigned slot, uint64_t to)
{
	set_cmd_mem(vm, slot, false);
	cfg_write(vm, slot, 0, PCIR_BAR(2), 4, (uint32_t)to);
	cfg_write(vm, slot, 0, PCIR_BAR(3), 4, (uint32_t)(to >> 32));
	set_cmd_mem(vm, slot, true);
	assert_int_equal(bar2_programmed(vm, slot), to);
}

static uint64_t bar0(struct vm *vm, unsigned slot)
{
	return cfg32(vm, slot, PCIR_BAR(0)) & ~0xfull;
}

static uint64_t reg_read(struct vm *vm, unsigned slot, uint64_t off, unsigned size)
{
	return mmio_read(vm, bar0(vm, slot) + off, size);
}

static void reg_write(struct vm *vm, unsigned slot, uint64_t off, unsigned size, uint64_t v)
{
	mmio_write(vm, bar0(vm, slot) + off, size, v);
}

/* ---- config space ---- */

static void test_config_space_fields(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(add_iv(vm, SLOT, 0, "dm:/%s,2,0x1234", region("cfg")), 0);
	start(vm);

	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_VENDOR, 2), 0x1af4);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_DEVICE, 2), 0x1110);
	assert_int_equal(cfg32(vm, SLOT, PCIR_VENDOR), 0x11101af4);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_REVID, 1), 1);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_PROGIF, 1), 0);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_SUBCLASS, 1), 0x00);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_CLASS, 1), 0x05);
	assert_int_equal(cfg32(vm, SLOT, PCIR_REVID), 0x05000001);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_HDRTYPE, 1), 0);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_SUBVEND, 2), 0x8086);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_SUBDEV, 2), 0x1234);
	assert_int_equal(cfg32(vm, SLOT, PCIR_SUBVEND), 0x12348086);
	/* The plain device has no interrupt at all. */
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_INTPIN, 1), 0);
	/* No capabilities. */
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_STATUS, 2) & PCIM_STATUS_CAPLIST, 0);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_CAP_PTR, 1), 0);
	/* Firmware left memory decode on. */
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_COMMAND, 2) & PCIM_CMD_MEM, PCIM_CMD_MEM);
	/* BAR0: 32-bit non-prefetchable memory; BAR2: 64-bit prefetchable; nothing else. */
	assert_int_equal(cfg32(vm, SLOT, PCIR_BAR(0)) & 0xf, 0x0);
	assert_int_not_equal(bar0(vm, SLOT), 0);
	assert_int_equal(cfg32(vm, SLOT, PCIR_BAR(2)) & 0xf, 0xc);
	assert_int_not_equal(bar2_programmed(vm, SLOT), 0);
	assert_int_equal(cfg32(vm, SLOT, PCIR_BAR(1)), 0);
	assert_int_equal(cfg32(vm, SLOT, PCIR_BAR(4)), 0);
	assert_int_equal(cfg32(vm, SLOT, PCIR_BAR(5)), 0);

	/* Identification is read-only. */
	for (unsigned reg = PCIR_VENDOR; reg < 0x40; reg += 4) {
		if (reg == PCIR_COMMAND || (reg >= PCIR_BAR(0) && reg < PCIR_BAR(6)) ||
		    reg == 0x0c || reg == PCIR_INTLINE)
			continue;
		uint32_t before = cfg32(vm, SLOT, reg);
		cfg_write(vm, SLOT, 0, reg, 4, ~before);
		assert_int_equal(cfg32(vm, SLOT, reg), before);
	}
	cfg_write(vm, SLOT, 0, PCIR_INTPIN, 1, 1);
	assert_int_equal(cfg_read(vm, SLOT, 0, PCIR_INTPIN, 1), 0);
	/* An absent BAR stays absent through the sizing protocol. */
	for (int idx = 1; idx < PCI_BAR_COUNT; idx += idx == 1 ? 3 : 1) {
		cfg_write(vm, SLOT, 0, PCIR_BAR(idx), 4, 0xffffffff);
		assert_int_equal(cfg32(vm, SLOT, PCIR_BAR(idx)), 0);
	}

	/* The region exists, with the size asked for. */
	off_t size = 0;
	assert_true(region_exists(region("cfg"), &size));
	assert_int_equal(size, 2 * MiB);
}

static void test_region_id_forms(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(add_iv(vm, 3, 0, "dm:/%s,2", region("id0")), 0);
	assert_int_equal(add_iv(vm, 4, 0, "dm:/%s,2,4096", region("id1")), 0);
	assert_int_equal(add_iv(vm, 6, 0, "dm:/%s,2,0xFFFF", region("id2")), 0);
	assert_int_equal(cfg_read(vm, 3, 0, PCIR_SUBDEV, 2), 0);
	assert_int_equal(cfg_read(vm, 4, 0, PCIR_SUBDEV, 2), 0x1000);
	assert_int_equal(cfg_read(vm, 6, 0, PCIR_SUBDEV, 2), 0xffff);
	for (unsigned slot = 3; slot <= 6; slot += slot == 4 ? 2 : 1)
		assert_int_equal(cfg_read(vm, slot, 0, PCIR_SUBVEND, 2), 0x8086);
}

/* ---- BAR sizing ---- */

static void check_sizing(struct vm *vm, unsigned slot, uint64_t size)
{
	uint32_t b0 = cfg32(vm, slot, PCIR_BAR(0)), b2 = cfg32(vm, slot, PCIR_BAR(2)),
		 b3 = cfg32(vm, slot, PCIR_BAR(3));

	set_cmd_mem(vm, slot, false);
	cfg_write(vm, slot, 0, PCIR_BAR(0), 4, 0xffffffff);
	assert_int_equal(cfg32(vm, slot, PCIR_BAR(0)), 0xffffff00); /* 256 bytes, 32-bit */
	cfg_write(vm, slot, 0, PCIR_BAR(2), 4, 0xffffffff);
	cfg_write(vm, slot, 0, PCIR_BAR(3), 4, 0xffffffff);
	uint64_t sized = (uint64_t)cfg32(vm, slot, PCIR_BAR(3)) << 32 | cfg32(vm, slot, PCIR_BAR(2));
	assert_int_equal(sized & 0xf, 0xc); /* 64-bit, prefetchable */
	assert_int_equal(~(sized & ~0xfull) + 1, size);

	cfg_write(vm, slot, 0, PCIR_BAR(0), 4, b0);
	cfg_write(vm, slot, 0, PCIR_BAR(2), 4, b2);
	cfg_write(vm, slot, 0, PCIR_BAR(3), 4, b3);
	set_cmd_mem(vm, slot, true);
	assert_int_equal(cfg32(vm, slot, PCIR_BAR(0)), b0);
	assert_int_equal(cfg32(vm, slot, PCIR_BAR(2)), b2);
	assert_int_equal(cfg32(vm, slot, PCIR_BAR(3)), b3);
}

static void test_bar_sizing(void **state)
{
	struct vm *vm = *state;
	const uint64_t sizes[] = { 2 * MiB, 64 * MiB, 512 * MiB };
	for (unsigned i = 0; i < 3; i++) {
		char tag[8];
		snprintf(tag, sizeof(tag), "sz%u", i);
		assert_int_equal(add_iv(vm, 3 + i, 0, "dm:/%s,%llu", region(tag),
					(unsigned long long)(sizes[i] / MiB)), 0);
	}
	start(vm);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t at = bar2_programmed(vm, 3 + i);
		assert_int_equal(at % sizes[i], 0); /* naturally aligned */
		check_sizing(vm, 3 + i, sizes[i]);
		/* Back where it was, mapped again with the whole region. */
		const struct live_map *m = live_must(at);
		assert_int_equal(m->len, sizes[i]);
	}
	assert_int_equal(nlive, 3);
}

/* ---- BAR0 registers ---- */

static void test_registers(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(add_iv(vm, SLOT, 0, "dm:/%s,2", region("regs")), 0);
	start(vm);

	/* Reset values. */
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_STATUS, 4), 0);
	assert_int_equal(reg_read(vm, SLOT, REG_IV_POSITION, 4), 0);
	assert_int_equal(reg_read(vm, SLOT, REG_DOORBELL, 4), 0);

	/* IntrMask: read/write. */
	reg_write(vm, SLOT, REG_INTR_MASK, 4, 0xffffffff);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0xffffffff);
	reg_write(vm, SLOT, REG_INTR_MASK, 4, 0x12345678);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0x12345678);

	/* IntrStatus: cleared by a read. */
	reg_write(vm, SLOT, REG_INTR_STATUS, 4, 0x3);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_STATUS, 4), 0x3);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_STATUS, 4), 0);

	/* IVPosition: 0 for the plain device, and read-only. */
	reg_write(vm, SLOT, REG_IV_POSITION, 4, 0x1234);
	assert_int_equal(reg_read(vm, SLOT, REG_IV_POSITION, 4), 0);

	/* Doorbell: write-only, and ignored by the plain device: nothing reaches the backend. */
	calls_reset();
	reg_write(vm, SLOT, REG_DOORBELL, 4, 0x00010000);
	reg_write(vm, SLOT, REG_DOORBELL, 4, 0xffffffff);
	assert_int_equal(reg_read(vm, SLOT, REG_DOORBELL, 4), 0);
	assert_int_equal(ncalls, 0);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0x12345678);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_STATUS, 4), 0);

	/* Narrow accesses to the registers read 0 and write nothing. */
	for (unsigned off = 0; off < 0x10; off++) {
		assert_int_equal(reg_read(vm, SLOT, off, 1), 0);
		if (!(off & 1))
			assert_int_equal(reg_read(vm, SLOT, off, 2), 0);
		reg_write(vm, SLOT, off, 1, 0xab);
		reg_write(vm, SLOT, off & ~1u, 2, 0xabcd);
	}
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0x12345678);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_STATUS, 4), 0);

	/* Misaligned 32-bit accesses too; and they never clear IntrStatus. */
	reg_write(vm, SLOT, REG_INTR_STATUS, 4, 0x5);
	for (unsigned off = 1; off < 0x10; off++) {
		if (!(off & 3))
			continue;
		assert_int_equal(reg_read(vm, SLOT, off, 4), 0);
		reg_write(vm, SLOT, off, 4, 0xdeadbeef);
	}
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0x12345678);

	/* 8-byte accesses read 0, write nothing, and leave IntrStatus pending. */
	assert_int_equal(reg_read(vm, SLOT, 0x0, 8), 0);
	assert_int_equal(reg_read(vm, SLOT, 0x8, 8), 0);
	reg_write(vm, SLOT, 0x0, 8, 0x1111111122222222ull);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0x12345678);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_STATUS, 4), 0x5);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_STATUS, 4), 0);

	/* 0x10..0xFF: reserved, read 0 at every width, writes ignored. */
	for (unsigned off = 0x10; off < 0x100; off++) {
		reg_write(vm, SLOT, off, 1, 0xff);
		assert_int_equal(reg_read(vm, SLOT, off, 1), 0);
		if (!(off & 1)) {
			reg_write(vm, SLOT, off, 2, 0xffff);
			assert_int_equal(reg_read(vm, SLOT, off, 2), 0);
		}
		if (!(off & 3)) {
			reg_write(vm, SLOT, off, 4, 0xffffffff);
			assert_int_equal(reg_read(vm, SLOT, off, 4), 0);
		}
		if (!(off & 7)) {
			reg_write(vm, SLOT, off, 8, ~0ull);
			assert_int_equal(reg_read(vm, SLOT, off, 8), 0);
		}
	}
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0x12345678);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_STATUS, 4), 0);

	/* The BAR is 256 bytes: the rest of its page is not the device's. */
	assert_int_equal(reg_read(vm, SLOT, 0x100, 4), 0xffffffff);
	assert_int_equal(nlive, 1); /* and none of this touched the memory mapping */
}

/* ---- BAR2 follows the guest ---- */

static void test_bar2_map_unmap_remap(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(add_iv(vm, SLOT, 0, "dm:/%s,2", region("map")), 0);
	struct pci_dev *dev = test_dev(vm, SLOT, 0);
	const uint64_t a = dev->bars[2].addr;
	assert_int_equal(a, TEST_MMIO64_BASE); /* the first 64-bit BAR of the window */
	assert_int_equal(calls_count(CALL_MAP_RAM), 0); /* nothing before the firmware step */

	start(vm);
	assert_int_equal(calls_count(CALL_MAP_RAM), 1);
	const struct call *c = call_nth(CALL_MAP_RAM, 0);
	assert_int_equal(c->a, a);
	assert_int_equal(c->b, 2 * MiB);
	void *hva = (void *)(uintptr_t)c->c;
	assert_non_null(live_at(a));
	assert_false(io_range_free(vm->io, IO_SPACE_MMIO, a, 2 * MiB)); /* reserved */

	/* Decode off: unmapped, the registers gone too. */
	reg_write(vm, SLOT, REG_INTR_MASK, 4, 0x77);
	calls_reset();
	set_cmd_mem(vm, SLOT, false);
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 1);
	assert_int_equal(call_nth(CALL_UNMAP_RAM, 0)->a, a);
	assert_int_equal(calls_count(CALL_MAP_RAM), 0);
	assert_int_equal(nlive, 0);
	assert_true(io_range_free(vm->io, IO_SPACE_MMIO, a, 2 * MiB));
	assert_int_equal(mmio_read(vm, PCI_MMIO32_BASE + REG_INTR_MASK, 4), 0xffffffff);

	/* Decode on: mapped again, the same memory. */
	calls_reset();
	set_cmd_mem(vm, SLOT, true);
	assert_int_equal(calls_count(CALL_MAP_RAM), 1);
	assert_int_equal(call_nth(CALL_MAP_RAM, 0)->a, a);
	assert_ptr_equal((void *)(uintptr_t)call_nth(CALL_MAP_RAM, 0)->c, hva);
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 0);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0x77);

	/* A move while decoded (low dword only): the old place unmapped, then the new one mapped. */
	const uint64_t b = a + 1 * GiB;
	calls_reset();
	cfg_write(vm, SLOT, 0, PCIR_BAR(2), 4, (uint32_t)b | 0xc);
	assert_int_equal(ncalls, 2);
	assert_int_equal(calls[0].kind, CALL_UNMAP_RAM);
	assert_int_equal(calls[0].a, a);
	assert_int_equal(calls[1].kind, CALL_MAP_RAM);
	assert_int_equal(calls[1].a, b);
	assert_int_equal(calls[1].b, 2 * MiB);
	assert_ptr_equal((void *)(uintptr_t)calls[1].c, hva);
	assert_null(live_at(a));
	assert_non_null(live_at(b));

	/* The guest's way across the 4 GiB line: nothing maps while decode is off. */
	const uint64_t d = 8 * GiB + 6 * MiB;
	calls_reset();
	set_cmd_mem(vm, SLOT, false);
	cfg_write(vm, SLOT, 0, PCIR_BAR(2), 4, (uint32_t)d);
	cfg_write(vm, SLOT, 0, PCIR_BAR(3), 4, (uint32_t)(d >> 32));
	assert_int_equal(calls_count(CALL_MAP_RAM), 0);
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 1);
	set_cmd_mem(vm, SLOT, true);
	assert_int_equal(calls_count(CALL_MAP_RAM), 1);
	assert_int_equal(call_nth(CALL_MAP_RAM, 0)->a, d);
	assert_int_equal(nlive, 1);
	assert_non_null(live_at(d));
	assert_true(dev->bars[2].mapped);
	assert_int_equal(dev->bars[2].mapped_addr, d);
}

/* Moves BAR2 to a place that is taken: nothing mapped there, nothing else disturbed. */
static void check_refused_move(struct vm *vm, unsigned slot, uint64_t to)
{
	struct pci_dev *dev = test_dev(vm, slot, 0);
	unsigned live_before = nlive;
	const struct live_map *was = live_must(dev->bars[2].mapped_addr);
	void *hva = was->hva;

	calls_reset();
	move_bar2(vm, slot, to);
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 1); /* where it was */
	assert_int_equal(calls_count(CALL_MAP_RAM), 0);   /* and nowhere now */
	assert_false(dev->bars[2].mapped);
	assert_int_equal(dev->bars[2].addr, to);	  /* programmed, but not decoded */
	assert_int_equal(nlive, live_before - 1);
	for (unsigned i = 0; i < nlive; i++)
		assert_ptr_not_equal(live[i].hva, hva); /* this region is mapped nowhere */
}

static void test_bar2_refused_places(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(add_iv(vm, SLOT, 0, "dm:/%s,2", region("mvA")), 0);
	assert_int_equal(add_iv(vm, SLOT + 1, 0, "dm:/%s,2", region("mvB")), 0);
	start(vm);
	struct pci_dev *a = test_dev(vm, SLOT, 0), *b = test_dev(vm, SLOT + 1, 0);
	const uint64_t home = a->bars[2].addr, b_bar2 = b->bars[2].addr;

	/* Park B's registers on a 2 MiB boundary, where A's BAR2 could land. */
	const uint64_t b_regs = PCI_MMIO32_BASE + 0x200000;
	cfg_write(vm, SLOT + 1, 0, PCIR_BAR(0), 4, (uint32_t)b_regs);
	assert_int_equal(bar0(vm, SLOT + 1), b_regs);
	reg_write(vm, SLOT + 1, REG_INTR_MASK, 4, 0xabcd);

	/* Onto guest RAM: refused; RAM stays reserved. */
	char log[4096];
	log_capture_begin();
	check_refused_move(vm, SLOT, 128 * MiB);
	log_capture_end(log, sizeof(log));
	assert_non_null(strstr(log, "BAR2 not mapped at 0x8000000"));
	assert_false(io_range_free(vm->io, IO_SPACE_MMIO, 128 * MiB, 2 * MiB));
	assert_false(io_range_free(vm->io, IO_SPACE_MMIO, 0, 4096));

	/* Moving back maps again. */
	calls_reset();
	move_bar2(vm, SLOT, home);
	assert_int_equal(calls_count(CALL_MAP_RAM), 1);
	assert_non_null(live_at(home));

	/* Onto B's registers: refused; B's registers still answer there. */
	check_refused_move(vm, SLOT, b_regs);
	assert_int_equal(reg_read(vm, SLOT + 1, REG_INTR_MASK, 4), 0xabcd);
	assert_int_equal(mmio_read(vm, b_regs + REG_INTR_MASK, 4), 0xabcd);
	move_bar2(vm, SLOT, home);
	assert_non_null(live_at(home));

	/* Onto B's shared memory: refused; B's mapping untouched. */
	const struct live_map *bm = live_must(b_bar2);
	void *b_hva = bm->hva;
	check_refused_move(vm, SLOT, b_bar2);
	bm = live_must(b_bar2);
	assert_ptr_equal(bm->hva, b_hva);
	assert_true(b->bars[2].mapped);
	move_bar2(vm, SLOT, home);

	/* Onto the LAPIC and the platform range: never decoded (the PCI core refuses it). */
	check_refused_move(vm, SLOT, LAPIC_BASE);
	move_bar2(vm, SLOT, home);

	/* Above the 64-bit window. */
	check_refused_move(vm, SLOT, TEST_MMIO64_BASE + PCI_MMIO64_SIZE);

	/* And back home, mapped with the same memory as at the start. */
	calls_reset();
	move_bar2(vm, SLOT, home);
	assert_int_equal(calls_count(CALL_MAP_RAM), 1);
	assert_true(a->bars[2].mapped);
	assert_int_equal(nlive, 2);
	assert_int_equal(reg_read(vm, SLOT + 1, REG_INTR_MASK, 4), 0xabcd);
	assert_int_equal(reg_read(vm, SLOT, REG_INTR_MASK, 4), 0);
}

/* A guest can move BAR2 onto RAM as often as it likes: the warning must not flood the log. */
static void test_refused_moves_do_not_flood_the_log(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(add_iv(vm, SLOT, 0, "dm:/%s,2", region("flood")), 0);
	start(vm);
	const uint64_t home = test_dev(vm, SLOT, 0)->bars[2].addr;

	static char log[64 * 1024];
	log_capture_begin();
	for (int i = 0; i < 200; i++) {
		move_bar2(vm, SLOT, 128 * MiB);
		move_bar2(vm, SLOT, home);
	}
	log_capture_end(log, sizeof(log));
	unsigned lines = 0;
	for (const char *p = log; (p = strstr(p, "BAR2 not mapped")); p++)
		lines++;
	assert_true(lines >= 1);
	assert_true(lines <= 10);
	assert_non_null(live_at(home));
}

/* ---- the memory itself, and teardown ---- */

static void test_memory_is_the_region_file(void **state)
{
	struct vm *vm = *state;
	const char *name = region("mem");
	uint32_t *file = region_file_map(name, 2 * MiB, true);
	for (unsigned i = 0; i < 2 * MiB / 4; i++)
		file[i] = i * 2654435761u;

	assert_int_equal(add_iv(vm, SLOT, 0, "dm:/%s,2", name), 0);
	start(vm);
	const struct live_map *m = live_must(test_dev(vm, SLOT, 0)->bars[2].addr);
	uint32_t *guest = m->hva;
	/* The existing region's data is what the guest sees... */
	for (unsigned i = 0; i < 2 * MiB / 4; i++)
		if (guest[i] != i * 2654435761u)
			fail_msg("word %u: 0x%x", i, guest[i]);
	/* ... and what the guest writes is in the file. */
	guest[12345] = 0xfeedface;
	assert_int_equal(file[12345], 0xfeedface);

	/* Teardown unmaps from the guest and never unlinks: the data outlives the VM. */
	uint64_t at = m->gpa;
	calls_reset();
	free_vm(state);
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 1);
	assert_int_equal(call_nth(CALL_UNMAP_RAM, 0)->a, at);
	assert_int_equal(nlive, 0);
	off_t size = 0;
	assert_true(region_exists(name, &size));
	assert_int_equal(size, 2 * MiB);
	assert_int_equal(file[12345], 0xfeedface);
	assert_int_equal(file[1], 2654435761u);
	munmap(file, 2 * MiB);
}

static void test_teardown_after_decode_off(void **state)
{
	struct vm *vm = *state;
	assert_int_equal(add_iv(vm, SLOT, 0, "dm:/%s,4", region("off")), 0);
	start(vm);
	set_cmd_mem(vm, SLOT, false);
	assert_int_equal(nlive, 0);
	calls_reset();
	free_vm(state);
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 0); /* nothing was mapped */
}

static void test_existing_region_of_another_size(void **state)
{
	struct vm *vm = *state;
	const char *name = region("other");
	uint8_t *file = region_file_map(name, 4 * MiB, true);
	memset(file, 0x5a, 4 * MiB);

	char log[2048];
	log_capture_begin();
	int ret = add_iv(vm, SLOT, 0, "dm:/%s,2", name);
	log_capture_end(log, sizeof(log));
	assert_true(ret < 0);
	assert_null(pci_bus_find(vm->pci, 0, SLOT, 0));
	assert_non_null(strstr(log, name));
	/* Refused, not resized or rewritten. */
	off_t size = 0;
	assert_true(region_exists(name, &size));
	assert_int_equal(size, 4 * MiB);
	for (size_t i = 0; i < 4 * MiB; i += 4096)
		assert_int_equal(file[i], 0x5a);
	munmap(file, 4 * MiB);

	/* The right size is accepted, and the slot is usable after the failure. */
	assert_int_equal(add_iv(vm, SLOT, 0, "dm:/%s,4", name), 0);
	start(vm);
}

/* ---- hypervisor land ---- */

static void test_hv_land_hand_off(void **state)
{
	struct vm *vm = *state;
	const char *name = region("hv");
	assert_int_equal(add_iv(vm, 7, 0, "hv:/%s,4,0x1001", name), 0);
	assert_int_equal(add_iv(vm, 7, 3, "hv:/%s,2", region("hv3")), 0);
	assert_int_equal(ncreated, 2);

	struct pci_dev *dev = test_dev(vm, 7, 0);
	const struct vmm_vdev *v = &created[0];
	assert_int_equal(v->vendor, 0x1af4);
	assert_int_equal(v->device, 0x1110);
	assert_int_equal(v->bus, 0);
	assert_int_equal(v->dev, 7);
	assert_int_equal(v->func, 0);
	assert_int_equal(v->bar_addr[0], dev->bars[0].addr);
	assert_true(v->bar_addr[0] >= PCI_MMIO32_BASE && v->bar_addr[0] < PCI_MMIO32_LIMIT);
	assert_int_equal(v->bar_size[0], 0x100);
	assert_false(v->bar_mem64[0]);
	assert_int_equal(v->bar_addr[1], dev->bars[1].addr);
	assert_true(v->bar_addr[1] >= PCI_MMIO32_BASE && v->bar_addr[1] < PCI_MMIO32_LIMIT);
	assert_int_equal(v->bar_addr[1] & 0xfff, 0);
	assert_int_equal(v->bar_size[1], 0x1000);
	assert_false(v->bar_mem64[1]);
	assert_int_equal(v->bar_addr[2], dev->bars[2].addr);
	assert_true(v->bar_addr[2] >= TEST_MMIO64_BASE);
	assert_int_equal(v->bar_size[2], 4 * MiB);
	assert_true(v->bar_mem64[2]);
	for (int i = 3; i < 6; i++) {
		assert_int_equal(v->bar_size[i], 0);
		assert_false(v->bar_mem64[i]);
	}
	assert_memory_equal(v->args, "hv:/", 4);
	assert_string_equal(v->args + 4, name);
	/* Three distinct, non-overlapping BARs. */
	assert_true(v->bar_addr[1] >= v->bar_addr[0] + 0x100 ||
		    v->bar_addr[0] >= v->bar_addr[1] + 0x1000);

	assert_int_equal(created[1].dev, 7);
	assert_int_equal(created[1].func, 3);
	assert_int_equal(created[1].bar_size[2], 2 * MiB);
	assert_true(created[1].bar_addr[2] >= created[0].bar_addr[2] + 4 * MiB ||
		    created[0].bar_addr[2] >= created[1].bar_addr[2] + 2 * MiB);

	/* This process provides no memory for it: no region file, nothing mapped. */
	assert_false(region_exists(name, NULL));
	calls_reset();
	start(vm);
	assert_int_equal(calls_count(CALL_MAP_RAM), 0);
	assert_int_equal(cfg_read(vm, 7, 0, PCIR_SUBDEV, 2), 0x1001);

	/* Teardown destroys exactly what was created. */
	free_vm(state);
	assert_int_equal(ndestroyed, 2);
	for (unsigned i = 0; i < 2; i++) {
		bool found = false;
		for (unsigned j = 0; j < 2; j++)
			found |= memcmp(&destroyed[i], &created[j], sizeof(created[j])) == 0;
		assert_true(found);
	}
	assert_int_equal(calls_count(CALL_UNMAP_RAM), 0);
}

static void test_hv_land_needs_acrn(void **state)
{
	struct vm *vm = *state;
	vm->vmm.ops = &kvm_like_ops;
	const char *name = region("hvkvm");

	char log[2048];
	log_capture_begin();
	int ret = add_iv(vm, SLOT, 0, "hv:/%s,2", name);
	log_capture_end(log, sizeof(log));
	assert_int_equal(ret, -ENOTSUP);
	assert_null(pci_bus_find(vm->pci, 0, SLOT, 0));
	assert_non_null(strstr(log, "needs the ACRN hypervisor"));
	assert_non_null(strstr(log, "fake-kvm"));
	assert_non_null(strstr(log, name));
	assert_false(region_exists(name, NULL));

	/* The slot is free for a device-model-land region. */
	assert_int_equal(add_iv(vm, SLOT, 0, "dm:/%s,2", name), 0);
	start(vm);
	assert_int_equal(nlive, 1);
}

static void test_hv_land_refused(void **state)
{
	struct vm *vm = *state;
	create_vdev_result = -EINVAL;
	char log[2048];
	log_capture_begin();
	int ret = add_iv(vm, SLOT, 0, "hv:/%s,2", region("hvno"));
	log_capture_end(log, sizeof(log));
	assert_int_equal(ret, -EINVAL);
	assert_null(pci_bus_find(vm->pci, 0, SLOT, 0));
	assert_non_null(strstr(log, "refused"));
	free_vm(state);
	assert_int_equal(ndestroyed, 0); /* never created, never destroyed */
}

/* ---- several devices ---- */

static void test_several_devices(void **state)
{
	struct vm *vm = *state;
	static const struct {
		unsigned slot, func, mb, id;
		const char *tag;
	} devs[] = {
		{ 3, 0, 2, 1, "mA" }, { 4, 0, 4, 2, "mB" }, { 5, 0, 8, 3, "mC" }, { 5, 1, 2, 4, "mD" },
	};
	enum { N = sizeof(devs) / sizeof(devs[0]) };

	for (unsigned i = 0; i < N; i++)
		assert_int_equal(add_iv(vm, devs[i].slot, devs[i].func, "dm:/%s,%u,%u",
					region(devs[i].tag), devs[i].mb, devs[i].id), 0);
	start(vm);
	assert_int_equal(nlive, N);
	/* Slot 5 has two functions now. */
	assert_int_equal(cfg_read(vm, 5, 0, PCIR_HDRTYPE, 1) & PCIM_HDRTYPE_MULTIFUNC,
			 PCIM_HDRTYPE_MULTIFUNC);

	uint32_t *mem[N];
	for (unsigned i = 0; i < N; i++) {
		struct pci_dev *dev = test_dev(vm, devs[i].slot, devs[i].func);
		assert_int_equal(cfg_read(vm, devs[i].slot, devs[i].func, PCIR_SUBDEV, 2), devs[i].id);
		const struct live_map *m = live_must(dev->bars[2].addr);
		assert_int_equal(m->len, devs[i].mb * MiB);
		mem[i] = m->hva;
		for (unsigned j = 0; j < i; j++) {
			struct pci_dev *o = test_dev(vm, devs[j].slot, devs[j].func);
			assert_ptr_not_equal(mem[i], mem[j]);
			assert_int_not_equal(dev->bars[0].addr, o->bars[0].addr);
			/* The fake backend already refuses overlapping mappings. */
		}
		/* Each device's own registers. */
		mmio_write(vm, dev->bars[0].addr + REG_INTR_MASK, 4, 0x100 + i);
	}
	for (unsigned i = 0; i < N; i++) {
		struct pci_dev *dev = test_dev(vm, devs[i].slot, devs[i].func);
		assert_int_equal(mmio_read(vm, dev->bars[0].addr + REG_INTR_MASK, 4), 0x100 + i);
		mem[i][0] = 0xa0000000u + i;
		mem[i][devs[i].mb * MiB / 4 - 1] = 0xb0000000u + i;
	}
	/* No aliasing: each region file holds its own device's words. */
	for (unsigned i = 0; i < N; i++) {
		uint32_t *file = region_file_map(region(devs[i].tag), devs[i].mb * MiB, false);
		assert_int_equal(file[0], 0xa0000000u + i);
		assert_int_equal(file[devs[i].mb * MiB / 4 - 1], 0xb0000000u + i);
		munmap(file, devs[i].mb * MiB);
	}
}

static void test_no_room_for_bar2(void **state)
{
	struct vm *vm = *state;
	/* Two 32 GiB regions cannot both fit the 64 GiB window once aligned. */
	assert_int_equal(add_iv(vm, 3, 0, "dm:/%s,32768,0,large=on", region("bigA")), 0);
	char log[2048];
	log_capture_begin();
	int ret = add_iv(vm, 4, 0, "dm:/%s,32768,0,large=on", region("bigB"));
	log_capture_end(log, sizeof(log));
	assert_int_equal(ret, -ENOSPC);
	assert_non_null(strstr(log, "no room"));
	assert_false(region_exists(region("bigB"), NULL));
	assert_null(pci_bus_find(vm->pci, 0, 4, 0));
}

/* ---- option strings that must fail ---- */

/* Copies text with "@" replaced by name. */
static void with_name(char *out, size_t len, const char *text, const char *name)
{
	const char *at = strchr(text, '@');
	if (at)
		snprintf(out, len, "%.*s%s%s", (int)(at - text), text, name, at + 1);
	else
		snprintf(out, len, "%s", text);
}

static void test_bad_options(void **state)
{
	struct vm *vm = *state;
	const char *n = region("bad");
	static const struct {
		const char *text;	/* @: the region name */
		const char *says;	/* a word the message must contain */
		const char *never;	/* and what it must not say (a hint that does not apply) */
	} cases[] = {
		{ "", "missing configuration", NULL },
		{ "dm:/@", "size", NULL },
		{ "dm:/@,", "size", "large=on" },
		{ "dm:/@,3", "not a power of two", "large=on" },
		{ "dm:/@,1024", "large=on", NULL },
		{ "dm:/@,65536", "above the maximum", "large=on" },
		{ "dm:/@,2MB", "size", "large=on" },
		{ "hv:/@,1024", "size", "large=on" },
		{ "dm:/@,2,70000", "region id", NULL },
		{ "dm:/@,2,-1", "region id", NULL },
		{ "dm:/@,2,0,colour=blue", "unknown key", NULL },
		{ "dm:/@,2,0,mem=ram", "mem=ram", NULL },
		{ "dm:/@,2,0,mem=memfd", "vectors", NULL },
		{ "sm:/@,2", "dm:/NAME", NULL },
		{ "dm:/@/x,2", "region name", "name: region name" },
		{ "dm:/,2", "region name", "name: region name" },
		{ "dm:/@_and_a_name_much_longer_than_27_characters,2", "longer than 27", NULL },
		{ "hv:/@,2,0,mem=shm", "hypervisor-land", NULL },
		{ "dm:/@,2,0,mem=hugetlbfs,hugetlbfs=/nonexistent-ivdev-dir", "hugetlbfs=", NULL },
		{ "dm:/@,2,0,mem=hugetlbfs,hugetlbfs=/tmp", "dm:/", NULL },
	};

	char log[4096];
	log_capture_begin();
	assert_true(test_add(vm, SLOT, 0, "ivshmem", NULL) < 0);
	log_capture_end(log, sizeof(log));
	assert_non_null(strstr(log, "missing configuration"));

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char config[128];
		with_name(config, sizeof(config), cases[i].text, n);
		log_capture_begin();
		int ret = test_add(vm, SLOT, 0, "ivshmem", config);
		log_capture_end(log, sizeof(log));
		if (ret >= 0)
			fail_msg("'%s' was accepted", config);
		if (!strstr(log, cases[i].says))
			fail_msg("'%s': the message does not say '%s': %s", config, cases[i].says,
				 log);
		if (cases[i].never && strstr(log, cases[i].never))
			fail_msg("'%s': the message says '%s': %s", config, cases[i].never, log);
		/* One line from the device (and the bus's own "initialisation failed"). */
		assert_non_null(strstr(log, "00:05.0 ivshmem"));
		assert_null(pci_bus_find(vm->pci, 0, SLOT, 0));
		assert_false(region_exists(n, NULL));
	}
	/* Nothing half-made stops the bus from starting. */
	start(vm);
	assert_int_equal(nlive, 0);
	assert_int_equal(ncreated, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_space_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_id_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar2_map_unmap_remap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar2_refused_places, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_moves_do_not_flood_the_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_memory_is_the_region_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_after_decode_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_region_of_another_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hv_land_hand_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hv_land_needs_acrn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hv_land_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_room_for_bar2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
