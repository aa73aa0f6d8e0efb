/*
 * -s <slot>,uart,vuart_idx:<K>: the ACRN hypervisor's PCI vUART, created on a PCI bus whose VM
 * runs on the HSM backend over the fake /dev/acrn_hsm, so the struct acrn_vdev of CREATE_VDEV
 * and DESTROY_VDEV is checked byte for byte against what ACRN's acrn-dm sends; and the errors
 * on a backend without hypervisor devices (KVM) and when the hypervisor refuses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pci_emuls.h"
#include "io_dispatch.h"
#include "test_pci_fixture.h"
#include "test_vmm_hsm_fake.h"
#include "../../devicemodel/vmm/vmm_hsm_priv.h"

/* A VM on the HSM backend (over the fake) with the fixture's bus. */
static struct vm *hsm_vm_new(void)
{
	fake_hsm_reset();
	hsm_timing = (struct hsm_timing){ .create_tries = 1, .join_timeout_ms = 500 };
	struct vm *vm = test_vm_new();
	vm->vmm.ops = &vmm_hsm_ops;
	struct vmm_vm_params p = { .name = "POST_RT_VM1", .vcpus = 1, .memsize = 1 << 28 };
	assert_int_equal(vmm_hsm_ops.create_vm(&vm->vmm, &p), 0);
	return vm;
}

static void hsm_vm_free(struct vm *vm)
{
	/* Devices first (they hand their vdevs back), then the VM, as vm_destroy does. */
	pci_bus_free(vm->pci);
	vm->pci = NULL;
	vmm_hsm_ops.destroy_vm(&vm->vmm);
	fake_hsm_assert_clean();
	io_registry_free(vm->io);
	free(vm);
}

static void check_vdev(const struct acrn_vdev *d, uint64_t slot, const struct pci_dev *dev,
		       uint32_t idx)
{
	assert_int_equal(d->id.fields.vendor, 0x131f);
	assert_int_equal(d->id.fields.device, 0x2000);
	assert_int_equal(d->id.fields.legacy_id, 0);
	assert_int_equal(d->slot, slot);
	/* BAR0 256 bytes and BAR1 4 KiB, 32-bit memory: their registers as programmed. */
	assert_int_equal(dev->bars[0].size, 256);
	assert_int_equal(dev->bars[1].size, 4096);
	assert_int_equal(d->io_addr[0], dev->bars[0].addr);
	assert_int_equal(d->io_addr[1], dev->bars[1].addr);
	assert_true(d->io_addr[0] >= 0xC0000000u && d->io_addr[1] >= 0xC0000000u);
	for (int i = 2; i < 6; i++)
		assert_int_equal(d->io_addr[i], 0);
	/* ACRN's acrn-dm sends no sizes for the vUART. */
	for (int i = 0; i < 6; i++)
		assert_int_equal(d->io_size[i], 0);
	/* The index as a native 32-bit number at the start of args; the rest zero. */
	uint32_t got;
	memcpy(&got, d->args, sizeof(got));
	assert_int_equal(got, idx);
	for (size_t i = 4; i < sizeof(d->args); i++)
		assert_int_equal(d->args[i], 0);
}

static void test_handed_to_the_hypervisor(void **state)
{
	(void)state;
	struct vm *vm = hsm_vm_new();
	assert_int_equal(test_add(vm, 16, 0, "uart", "vuart_idx:1"), 0);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_CREATE_VDEV), 1);
	const struct fake_call *c = fake_hsm_call(ACRN_IOCTL_CREATE_VDEV, 1);
	check_vdev(FAKE_ARG(c, struct acrn_vdev), 16 << 3, test_dev(vm, 16, 0), 1);

	/* Another slot, function and index. */
	assert_int_equal(test_add(vm, 17, 2, "uart", "vuart_idx:7"), 0);
	c = fake_hsm_call(ACRN_IOCTL_CREATE_VDEV, 2);
	check_vdev(FAKE_ARG(c, struct acrn_vdev), 17 << 3 | 2, test_dev(vm, 17, 2), 7);

	/* DESTROY_VDEV names the device by vendor, device and BDF, as ACRN's acrn-dm does. */
	pci_bus_free(vm->pci);
	vm->pci = NULL;
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_DESTROY_VDEV), 2);
	uint64_t slots[2];
	for (unsigned n = 1; n <= 2; n++) {
		const struct acrn_vdev *d =
			FAKE_ARG(fake_hsm_call(ACRN_IOCTL_DESTROY_VDEV, n), struct acrn_vdev);
		assert_int_equal(d->id.fields.vendor, 0x131f);
		assert_int_equal(d->id.fields.device, 0x2000);
		slots[n - 1] = d->slot;
	}
	assert_true((slots[0] == 0x80 && slots[1] == 0x8a) || (slots[0] == 0x8a && slots[1] == 0x80));
	hsm_vm_free(vm);
}

static void test_hypervisor_refuses(void **state)
{
	(void)state;
	struct vm *vm = hsm_vm_new();
	fake_hsm_fail(ACRN_IOCTL_CREATE_VDEV, 1, EINVAL);
	char log[2048];
	log_capture_begin();
	assert_int_equal(test_add(vm, 16, 0, "uart", "vuart_idx:3"), -EINVAL);
	log_capture_end(log, sizeof(log));
	assert_non_null(strstr(log, "the hypervisor refused vUART 3"));
	/* Nothing was created, so nothing is destroyed. */
	hsm_vm_free(vm);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_DESTROY_VDEV), 0);
}

static void test_needs_the_acrn_hypervisor(void **state)
{
	(void)state;
	/* The fixture's own backend has no hypervisor devices, as KVM has none. */
	struct vm *vm = test_vm_new();
	char log[2048];
	log_capture_begin();
	assert_int_equal(test_add(vm, 16, 0, "uart", "vuart_idx:1"), -ENOTSUP);
	log_capture_end(log, sizeof(log));
	assert_non_null(strstr(log, "uart,vuart_idx:1 is the ACRN hypervisor's PCI vUART, and this "
				    "VM runs on fake; use -l com2,<backend>"));
	test_vm_free(vm);
}

static void test_config_checked(void **state)
{
	(void)state;
	const struct pci_dev_ops *ops = pci_emul_find("uart");
	assert_non_null(ops);
	char why[256];
	assert_int_equal(ops->check_config("vuart_idx:0", why, sizeof(why)), 0);
	assert_int_equal(ops->check_config("vuart_idx:7", why, sizeof(why)), 0);
	assert_int_equal(ops->check_config("vuart_idx:8", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "0 to 7"));
	assert_int_equal(ops->check_config("vuart_idx:01x", why, sizeof(why)), -EINVAL);
	/* ACRN's device-model UART: reported as not provided here, not as a syntax error. */
	assert_int_equal(ops->check_config("stdio", why, sizeof(why)), -EOPNOTSUPP);
	assert_int_equal(ops->check_config(NULL, why, sizeof(why)), -EOPNOTSUPP);
	assert_non_null(strstr(why, "use -l com1|com2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handed_to_the_hypervisor),
		cmocka_unit_test(test_hypervisor_refuses),
		cmocka_unit_test(test_needs_the_acrn_hypervisor),
		cmocka_unit_test(test_config_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
