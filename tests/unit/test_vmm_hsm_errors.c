/*
 * The HSM backend with a failure injected at each ioctl (and at open and mmap): every error is
 * returned, what was set up is undone (descriptor closed, ioreq page unmapped, VM destroyed), and
 * later calls stay safe.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "test_vmm_hsm_fixture.h"

/* ---- a failure at each step of create: everything undone, later calls safe ---- */

static void assert_create_fails(struct fixture *f, int want)
{
	struct vmm_vm_params p = params("vm1", 1);
	assert_int_equal(vmm_hsm_ops.create_vm(&f->vmm, &p), want);
	assert_null(f->vmm.priv);
	fake_hsm_assert_clean();
	/* Every op is safe on a VM that does not exist. */
	vmm_hsm_ops.stop(&f->vmm);
	vmm_hsm_ops.destroy_vm(&f->vmm);
	vmm_hsm_ops.destroy_vm(&f->vmm);
	struct vcpu_boot_state boot = multiboot_boot();
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), -ENODEV);
	assert_int_equal(vmm_hsm_ops.map_ram(&f->vmm, 0, PAGE, f->ram, true), -ENODEV);
	assert_int_equal(vmm_hsm_ops.send_msi(&f->vmm, 0xfee00000, 0x30), -ENODEV);
	assert_int_equal(vmm_hsm_ops.irqfd_add(&f->vmm, 5, 0xfee00000, 0x30), -ENODEV);
}

static void test_create_fails_open(void **state)
{
	struct fixture *f = *state;
	fake_hsm_fail_open(ENOENT);
	assert_create_fails(f, -ENOENT);
	fake_hsm_fail_open(EACCES);
	assert_create_fails(f, -EACCES);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_CREATE_VM), 0);
}

static void test_create_fails_mmap(void **state)
{
	struct fixture *f = *state;
	fake_hsm_fail_mmap(ENOMEM);
	assert_create_fails(f, -ENOMEM);
	assert_int_equal(fake_hsm_opens(), 0);
}

static void test_create_fails_create_vm(void **state)
{
	struct fixture *f = *state;
	fake_hsm_fail(ACRN_IOCTL_CREATE_VM, FAKE_FAIL_ALWAYS, ENOMEM);
	assert_create_fails(f, -ENOMEM);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_CREATE_VM), 1);	/* not retried */
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_DESTROY_VM), 0);
}

static void test_create_vm_retried_on_einval(void **state)
{
	struct fixture *f = *state;
	hsm_timing.create_tries = 3;
	fake_hsm_fail(ACRN_IOCTL_CREATE_VM, FAKE_FAIL_ALWAYS, EINVAL);
	assert_create_fails(f, -EINVAL);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_CREATE_VM), 3);

	/* A previous instance that goes away in time: the second try succeeds. */
	fake_hsm_reset();
	fake_hsm_fail(ACRN_IOCTL_CREATE_VM, 1, EINVAL);
	create_ok(f, "vm1", 1);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_CREATE_VM), 2);
}

static void test_create_fails_ioreq_client(void **state)
{
	struct fixture *f = *state;
	fake_hsm_fail(ACRN_IOCTL_CREATE_IOREQ_CLIENT, 1, ENOMEM);
	assert_create_fails(f, -ENOMEM);
	static const unsigned long want[] = {
		ACRN_IOCTL_CREATE_VM, ACRN_IOCTL_CREATE_IOREQ_CLIENT, ACRN_IOCTL_DESTROY_VM,
	};
	assert_sequence(want, 3);
	assert_false(fake_hsm_vm_exists());
}

static void test_create_too_many_vcpus_from_hypervisor(void **state)
{
	struct fixture *f = *state;
	fake_hsm_set_reply(4, 17);
	assert_create_fails(f, -ERANGE);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_DESTROY_VM), 1);
}

/* ---- failures in start ---- */

static void test_start_fails_set_regs(void **state)
{
	struct fixture *f = *state;
	create_ok(f, "vm1", 1);
	fake_hsm_fail(ACRN_IOCTL_SET_VCPU_REGS, 1, EFAULT);
	struct vcpu_boot_state boot = multiboot_boot();
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), -EFAULT);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_START_VM), 0);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_ATTACH_IOREQ_CLIENT), 0);
	vmm_hsm_ops.stop(&f->vmm);
	vmm_hsm_ops.destroy_vm(&f->vmm);
	static const unsigned long want[] = {
		ACRN_IOCTL_CREATE_VM, ACRN_IOCTL_CREATE_IOREQ_CLIENT, ACRN_IOCTL_SET_VCPU_REGS,
		ACRN_IOCTL_DESTROY_VM,
	};
	assert_sequence(want, 4);
	assert_int_equal(exit_count(f, NULL), 0);
}

static void test_start_fails_start_vm_then_retries(void **state)
{
	struct fixture *f = *state;
	create_ok(f, "vm1", 1);
	fake_hsm_fail(ACRN_IOCTL_START_VM, 1, EBUSY);
	struct vcpu_boot_state boot = multiboot_boot();
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), -EBUSY);
	/* The thread was woken (client destroyed) and joined; nothing is reported as an exit. */
	assert_false(fake_hsm_client_exists());
	assert_int_equal(exit_count(f, NULL), 0);
	vmm_hsm_ops.stop(&f->vmm);

	/* A second start makes a new client and runs. */
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), 0);
	run_one_request(f, 0);
	vmm_hsm_ops.stop(&f->vmm);
	vmm_hsm_ops.destroy_vm(&f->vmm);
	static const unsigned long want[] = {
		ACRN_IOCTL_CREATE_VM, ACRN_IOCTL_CREATE_IOREQ_CLIENT,
		ACRN_IOCTL_SET_VCPU_REGS, ACRN_IOCTL_START_VM, ACRN_IOCTL_DESTROY_IOREQ_CLIENT,
		ACRN_IOCTL_SET_VCPU_REGS, ACRN_IOCTL_CREATE_IOREQ_CLIENT, ACRN_IOCTL_START_VM,
		ACRN_IOCTL_PAUSE_VM, ACRN_IOCTL_DESTROY_IOREQ_CLIENT, ACRN_IOCTL_CLEAR_VM_IOREQ,
		ACRN_IOCTL_DESTROY_VM,
	};
	assert_sequence(want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(exit_count(f, NULL), 1);
}

/* ---- failures in stop and destroy: teardown goes on ---- */

static void test_stop_pause_fails(void **state)
{
	struct fixture *f = *state;
	start_running(f);
	fake_hsm_fail(ACRN_IOCTL_PAUSE_VM, 1, EIO);
	vmm_hsm_ops.stop(&f->vmm);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_DESTROY_IOREQ_CLIENT), 1);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_CLEAR_VM_IOREQ), 1);
	assert_int_equal(exit_count(f, NULL), 1);
}

static void test_stop_destroy_client_fails(void **state)
{
	struct fixture *f = *state;
	start_running(f);
	fake_hsm_fail(ACRN_IOCTL_DESTROY_IOREQ_CLIENT, 1, EIO);
	assert_true(fake_hsm_wait_attach_blocked(2000));
	/* The thread cannot be woken: stop gives up after the join timeout... */
	vmm_hsm_ops.stop(&f->vmm);
	assert_int_equal(exit_count(f, NULL), 0);
	/* ...and destroy wakes it with DESTROY_VM, then joins it. */
	vmm_hsm_ops.destroy_vm(&f->vmm);
	assert_null(f->vmm.priv);
	fake_hsm_assert_clean();
	assert_int_equal(exit_count(f, NULL), 1);
}

static void test_stop_clear_and_destroy_fail(void **state)
{
	struct fixture *f = *state;
	start_running(f);
	fake_hsm_fail(ACRN_IOCTL_CLEAR_VM_IOREQ, 1, EIO);
	fake_hsm_fail(ACRN_IOCTL_DESTROY_VM, 1, EIO);
	vmm_hsm_ops.stop(&f->vmm);
	vmm_hsm_ops.destroy_vm(&f->vmm);
	/* Closing the descriptor is the HSM's last word: the VM is gone anyway. */
	fake_hsm_assert_clean();
	assert_false(fake_hsm_vm_exists());
}

static void test_attach_failure_reported(void **state)
{
	struct fixture *f = *state;
	create_ok(f, "vm1", 1);
	fake_hsm_fail(ACRN_IOCTL_ATTACH_IOREQ_CLIENT, 2, EFAULT);
	struct vcpu_boot_state boot = multiboot_boot();
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), 0);
	run_one_request(f, 0);	/* the first wait works; the second fails */
	struct vm_exit_info info;
	for (int i = 0; i < 200 && exit_count(f, &info) == 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	assert_int_equal(exit_count(f, &info), 1);
	assert_int_equal(info.reason, VM_EXIT_INTERNAL_ERROR);
	assert_int_equal(info.code, EFAULT);
	assert_non_null(strstr(info.detail, "ACRN_IOCTL_ATTACH_IOREQ_CLIENT"));
	/* Teardown after the thread left on its own. */
	vmm_hsm_ops.stop(&f->vmm);
	vmm_hsm_ops.destroy_vm(&f->vmm);
	assert_int_equal(exit_count(f, NULL), 1);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_PAUSE_VM), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_fails_open, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_create_fails_mmap, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_create_fails_create_vm, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_create_vm_retried_on_einval, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_create_fails_ioreq_client, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_create_too_many_vcpus_from_hypervisor, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_start_fails_set_regs, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_start_fails_start_vm_then_retries, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_stop_pause_fails, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_stop_destroy_client_fails, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_stop_clear_and_destroy_fail, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_attach_failure_reported, hsm_setup, hsm_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
