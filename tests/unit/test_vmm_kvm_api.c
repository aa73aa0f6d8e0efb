/*
 * The KVM backend's bookkeeping, without running a guest: VM life cycle (partial, repeated),
 * memory slot allocation, the irqfd/GSI table, argument checks. Skipped without a usable /dev/kvm.
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
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/kvm.h>

#include "log.h"
#include "mem_layout.h"
#include "vmm.h"

#define BUF_SIZE	(4 * MiB)
#define SLOTS_TRACKED	512	/* the backend's cap on memory slots */

struct fixture {
	struct vmm vmm;
	uint8_t *buf;
};

static void skip_without_kvm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm < 0) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		skip();
	}
	int vm = ioctl(kvm, KVM_GET_API_VERSION, 0) == 12 ? ioctl(kvm, KVM_CREATE_VM, 0) : -1;

	close(kvm);
	if (vm < 0) {
		printf("SKIP: /dev/kvm unusable: KVM_GET_API_VERSION or KVM_CREATE_VM fails\n");
		skip();
	}
	close(vm);
}

static void create(struct fixture *f)
{
	struct vmm_vm_params params = { .name = "api", .vcpus = 1, .memsize = BUF_SIZE };

	skip_without_kvm();
	assert_int_equal(vmm_kvm_ops.create_vm(&f->vmm, &params), 0);
	assert_non_null(f->vmm.priv);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->vmm.ops = &vmm_kvm_ops;
	f->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->buf == MAP_FAILED)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vmm_kvm_ops.destroy_vm(&f->vmm);
	munmap(f->buf, BUF_SIZE);
	free(f);
	return 0;
}

static void test_life_cycle(void **state)
{
	struct fixture *f = *state;
	struct vmm_vm_params zero = { .name = "api", .vcpus = 0 };
	struct vmm_vm_params many = { .name = "api", .vcpus = 100000 };

	skip_without_kvm();
	/* Nothing created yet: every op says so instead of crashing. */
	assert_int_equal(vmm_kvm_ops.send_msi(&f->vmm, LAPIC_BASE, 0x30), -ENODEV);
	assert_int_equal(vmm_kvm_ops.map_ram(&f->vmm, 0, 4096, f->buf, true), -ENODEV);
	assert_int_equal(vmm_kvm_ops.irqfd_add(&f->vmm, 0, LAPIC_BASE, 0x30), -ENODEV);
	vmm_kvm_ops.stop(&f->vmm);
	vmm_kvm_ops.destroy_vm(&f->vmm);

	/* Failed creates leave nothing behind (ASan checks the leaks). */
	assert_int_equal(vmm_kvm_ops.create_vm(&f->vmm, &zero), -EINVAL);
	assert_int_equal(vmm_kvm_ops.create_vm(&f->vmm, NULL), -EINVAL);
	assert_true(vmm_kvm_ops.create_vm(&f->vmm, &many) < 0);
	assert_null(f->vmm.priv);

	create(f);
	struct vmm_vm_params again = { .name = "api", .vcpus = 1 };
	assert_int_equal(vmm_kvm_ops.create_vm(&f->vmm, &again), -EBUSY);
	vmm_kvm_ops.stop(&f->vmm);	/* never started */
	/* The LAPIC is still software-disabled: the MSI is accepted and dropped. */
	assert_int_equal(vmm_kvm_ops.send_msi(&f->vmm, LAPIC_BASE, 0x30), 0);
	vmm_kvm_ops.destroy_vm(&f->vmm);
	assert_null(f->vmm.priv);
	vmm_kvm_ops.destroy_vm(&f->vmm);
	vmm_kvm_ops.stop(&f->vmm);

	/* A second VM after the first is gone. */
	create(f);
}

static void test_memory_slots(void **state)
{
	struct fixture *f = *state;
	struct vmm *v = &f->vmm;

	create(f);
	assert_int_equal(vmm_kvm_ops.map_ram(v, 0x1001, 4096, f->buf, true), -EINVAL);
	assert_int_equal(vmm_kvm_ops.map_ram(v, 0, 4095, f->buf, true), -EINVAL);
	assert_int_equal(vmm_kvm_ops.map_ram(v, 0, 4096, f->buf + 1, true), -EINVAL);
	assert_int_equal(vmm_kvm_ops.map_ram(v, 0, 0, f->buf, true), -EINVAL);
	assert_int_equal(vmm_kvm_ops.map_ram(v, ~0xfffULL, 0x2000, f->buf, true), -EINVAL);

	assert_int_equal(vmm_kvm_ops.map_ram(v, 0, 2 * MiB, f->buf, true), 0);
	assert_int_equal(vmm_kvm_ops.map_ram(v, MiB, 2 * MiB, f->buf, true), -EEXIST);
	assert_int_equal(vmm_kvm_ops.map_ram(v, 2 * MiB, 2 * MiB, f->buf + 2 * MiB, false), 0);

	assert_int_equal(vmm_kvm_ops.unmap_ram(v, 0, MiB, f->buf), -ENOENT);
	assert_int_equal(vmm_kvm_ops.unmap_ram(v, 0, 2 * MiB, f->buf + 4096), -EINVAL);
	assert_int_equal(vmm_kvm_ops.unmap_ram(v, 0, 2 * MiB, f->buf), 0);
	assert_int_equal(vmm_kvm_ops.unmap_ram(v, 0, 2 * MiB, f->buf), -ENOENT);
	/* The range and the slot are free again. */
	assert_int_equal(vmm_kvm_ops.map_ram(v, 0, 2 * MiB, f->buf, true), 0);
	assert_int_equal(vmm_kvm_ops.unmap_ram(v, 0, 2 * MiB, f->buf), 0);
	assert_int_equal(vmm_kvm_ops.unmap_ram(v, 2 * MiB, 2 * MiB, f->buf + 2 * MiB), 0);

	/* Fill every slot with one page each (BAR-like mappings at 1 GiB+), then one more. */
	const uint64_t base = GiB;
	unsigned n = 0;
	while (n < SLOTS_TRACKED + 1) {
		int r = vmm_kvm_ops.map_ram(v, base + n * 4096ULL, 4096, f->buf + (n % 1024) * 4096,
					    false);
		if (r < 0) {
			assert_int_equal(r, -ENOSPC);
			break;
		}
		n++;
	}
	assert_true(n >= 32 && n <= SLOTS_TRACKED);
	/* Freeing one slot makes room for exactly one mapping. */
	assert_int_equal(vmm_kvm_ops.unmap_ram(v, base + 5 * 4096ULL, 4096, f->buf + 5 * 4096), 0);
	assert_int_equal(vmm_kvm_ops.map_ram(v, base - 4096, 4096, f->buf, false), 0);
	assert_int_equal(vmm_kvm_ops.map_ram(v, base - 8192, 4096, f->buf, false), -ENOSPC);
}

static void test_irqfd_table(void **state)
{
	struct fixture *f = *state;
	struct vmm *v = &f->vmm;
	int e1 = eventfd(0, EFD_CLOEXEC), e2 = eventfd(0, EFD_CLOEXEC);

	assert_true(e1 >= 0 && e2 >= 0);
	create(f);
	assert_int_equal(vmm_kvm_ops.irqfd_add(v, -1, LAPIC_BASE, 0x30), -EINVAL);
	int h1 = vmm_kvm_ops.irqfd_add(v, e1, LAPIC_BASE, 0x30);
	int h2 = vmm_kvm_ops.irqfd_add(v, e2, LAPIC_BASE, 0x31);
	/* GSIs 0..23 belong to the IOAPIC: irqfd handles start above them. */
	assert_true(h1 >= 24 && h2 >= 24 && h1 != h2);
	/* The same eventfd twice on one VM is refused by KVM, and the GSI is given back. */
	assert_true(vmm_kvm_ops.irqfd_add(v, e1, LAPIC_BASE, 0x32) < 0);

	assert_int_equal(vmm_kvm_ops.irqfd_update(v, h1, LAPIC_BASE | (1 << 12), 0x40), 0);
	assert_int_equal(vmm_kvm_ops.irqfd_update(v, 3, LAPIC_BASE, 0x40), -ENOENT);
	assert_int_equal(vmm_kvm_ops.irqfd_update(v, -1, LAPIC_BASE, 0x40), -ENOENT);
	assert_int_equal(vmm_kvm_ops.irqfd_update(v, 1 << 30, LAPIC_BASE, 0x40), -ENOENT);

	assert_int_equal(vmm_kvm_ops.irqfd_del(v, h1), 0);
	assert_int_equal(vmm_kvm_ops.irqfd_del(v, h1), -ENOENT);
	assert_int_equal(vmm_kvm_ops.irqfd_update(v, h1, LAPIC_BASE, 0x40), -ENOENT);
	/* The freed GSI is the next one handed out. */
	assert_int_equal(vmm_kvm_ops.irqfd_add(v, e1, LAPIC_BASE, 0x30), h1);
	assert_int_equal(vmm_kvm_ops.irqfd_del(v, h1), 0);
	assert_int_equal(vmm_kvm_ops.irqfd_del(v, h2), 0);
	close(e1);
	close(e2);
}

static void test_argument_checks(void **state)
{
	struct fixture *f = *state;
	struct vmm_ioeventfd bad_len = { .fd = 0, .addr = 0xd0000000, .len = 3 };
	struct vmm_ioeventfd bad_fd = { .fd = -1, .addr = 0xd0000000, .len = 4 };
	struct vmm_vdev vdev = { .vendor = 0x1af4, .device = 0x1110 };

	create(f);
	assert_int_equal(vmm_kvm_ops.ioeventfd_add(&f->vmm, &bad_len), -EINVAL);
	assert_int_equal(vmm_kvm_ops.ioeventfd_add(&f->vmm, &bad_fd), -EINVAL);
	assert_int_equal(vmm_kvm_ops.ioeventfd_add(&f->vmm, NULL), -EINVAL);
	assert_int_equal(vmm_kvm_ops.create_vdev(&f->vmm, &vdev), -ENOTSUP);
	assert_int_equal(vmm_kvm_ops.destroy_vdev(&f->vmm, &vdev), -ENOTSUP);
	assert_int_equal(vmm_kvm_ops.start(&f->vmm, NULL), -EINVAL);
	struct vcpu_boot_state no_gdt = { .mode = VCPU_START_LONG64, .rip = 0x100000 };
	assert_int_equal(vmm_kvm_ops.start(&f->vmm, &no_gdt), -EINVAL);
	struct vcpu_boot_state bad_mode = { .mode = (enum vcpu_start_mode)7 };
	assert_int_equal(vmm_kvm_ops.start(&f->vmm, &bad_mode), -EINVAL);
	assert_string_equal(vmm_kvm_ops.name, "kvm");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_life_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irqfd_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argument_checks, setup, teardown),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
