/*
 * The HSM backend's life cycle against a fake /dev/acrn_hsm: the exact ioctl sequence of create,
 * map, start, run, stop and destroy with every field checked, the boot vCPU state, parameters
 * refused before any ioctl, and stop and destroy in every state.
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

/* ---- the whole life cycle, every field ---- */

static void check_create_vm_fields(void)
{
	const struct fake_call *c = fake_hsm_call(ACRN_IOCTL_CREATE_VM, 1);
	assert_non_null(c);
	const struct acrn_vm_creation *cv = FAKE_ARG(c, struct acrn_vm_creation);
	assert_int_equal(cv->vmid, 0);
	assert_int_equal(cv->reserved0, 0);
	/* As ACRN's device model: the hypervisor fills vcpu_num in. */
	assert_int_equal(cv->vcpu_num, 0);
	assert_int_equal(cv->reserved1, 0);
	/* ACRN 3.x: the VM name, NUL-padded, in the 16 bytes the uapi header calls uuid. */
	char name[16] = "POST_STD_VM1";
	assert_memory_equal(&cv->uuid, name, sizeof(name));
	assert_int_equal(cv->vm_flag, 0);
	assert_int_equal(cv->cpu_affinity, 0);
	assert_true(cv->ioreq_buf != 0);
	assert_int_equal(cv->ioreq_buf % PAGE, 0);
	assert_ptr_equal((void *)(uintptr_t)cv->ioreq_buf, fake_hsm_ioreq_buf());
}

static void check_memseg(unsigned nth, uint64_t gpa, uint64_t len, void *hva, uint32_t attr)
{
	const struct fake_call *c = fake_hsm_call(ACRN_IOCTL_SET_MEMSEG, nth);
	assert_non_null(c);
	const struct acrn_vm_memmap *m = FAKE_ARG(c, struct acrn_vm_memmap);
	assert_int_equal(m->type, ACRN_MEMMAP_RAM);
	assert_int_equal(m->attr, attr);
	assert_int_equal(m->user_vm_pa, gpa);
	assert_int_equal(m->vma_base, (uintptr_t)hva);
	assert_int_equal(m->len, len);
}

static void check_protected32_regs(const struct acrn_vcpu_regs *r)
{
	struct acrn_vcpu_regs want;
	memset(&want, 0, sizeof(want));
	want.vcpu_id = 0;
	want.vcpu_regs.gprs.rax = 0x2BADB002;
	want.vcpu_regs.gprs.rbx = 0x9000;
	want.vcpu_regs.gprs.rsp = 0x8000;
	want.vcpu_regs.gprs.rsi = 0x1234;
	want.vcpu_regs.rip = 0x100000;
	want.vcpu_regs.cs_base = 0;
	want.vcpu_regs.cr0 = 0x31;	/* PE | ET | NE */
	want.vcpu_regs.cr3 = 0;
	want.vcpu_regs.cr4 = 0;
	want.vcpu_regs.ia32_efer = 0;
	want.vcpu_regs.rflags = 0x2;
	want.vcpu_regs.cs_ar = 0xC09B;
	want.vcpu_regs.cs_limit = 0xFFFFFFFF;
	want.vcpu_regs.cs_sel = 0x08;
	want.vcpu_regs.ss_sel = want.vcpu_regs.ds_sel = want.vcpu_regs.es_sel = 0x10;
	want.vcpu_regs.fs_sel = want.vcpu_regs.gs_sel = 0x10;
	/* Field by field first, for readable failures; then every byte (reserved ones included). */
	assert_int_equal(r->vcpu_id, 0);
	assert_int_equal(r->vcpu_regs.gprs.rax, want.vcpu_regs.gprs.rax);
	assert_int_equal(r->vcpu_regs.gprs.rbx, want.vcpu_regs.gprs.rbx);
	assert_int_equal(r->vcpu_regs.gprs.rsp, want.vcpu_regs.gprs.rsp);
	assert_int_equal(r->vcpu_regs.gprs.rsi, want.vcpu_regs.gprs.rsi);
	assert_int_equal(r->vcpu_regs.rip, want.vcpu_regs.rip);
	assert_int_equal(r->vcpu_regs.cr0, want.vcpu_regs.cr0);
	assert_int_equal(r->vcpu_regs.cs_ar, want.vcpu_regs.cs_ar);
	assert_int_equal(r->vcpu_regs.cs_limit, want.vcpu_regs.cs_limit);
	assert_int_equal(r->vcpu_regs.cs_sel, 0x08);
	assert_int_equal(r->vcpu_regs.ds_sel, 0x10);
	assert_int_equal(r->vcpu_regs.rflags, 0x2);
	assert_memory_equal(r, &want, sizeof(want));
}

static void test_lifecycle_sequence(void **state)
{
	struct fixture *f = *state;
	create_ok(f, "POST_STD_VM1", 1);
	check_create_vm_fields();
	assert_int_equal(fake_hsm_opens(), 1);
	assert_true(fake_hsm_client_exists());

	void *high = (char *)f->ram + (2ull << 30);
	assert_int_equal(vmm_hsm_ops.map_ram(&f->vmm, 0, 2ull << 30, f->ram, true), 0);
	assert_int_equal(vmm_hsm_ops.map_ram(&f->vmm, 1ull << 32, 1ull << 30, high, true), 0);
	check_memseg(1, 0, 2ull << 30, f->ram, ACRN_MEM_ACCESS_READ | ACRN_MEM_ACCESS_WRITE |
					      ACRN_MEM_ACCESS_EXEC);
	check_memseg(2, 1ull << 32, 1ull << 30, high, ACRN_MEM_ACCESS_READ |
				ACRN_MEM_ACCESS_WRITE | ACRN_MEM_ACCESS_EXEC);

	struct vcpu_boot_state boot = multiboot_boot();
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), 0);
	const struct fake_call *regs = fake_hsm_call(ACRN_IOCTL_SET_VCPU_REGS, 1);
	assert_non_null(regs);
	check_protected32_regs(FAKE_ARG(regs, struct acrn_vcpu_regs));

	run_one_request(f, 0);
	run_one_request(f, 1);
	const struct fake_call *n = fake_hsm_call(ACRN_IOCTL_NOTIFY_REQUEST_FINISH, 2);
	assert_non_null(n);
	assert_false(n->main_thread);
	assert_int_equal(FAKE_ARG(n, struct acrn_ioreq_notify)->vmid, 3);
	assert_int_equal(FAKE_ARG(n, struct acrn_ioreq_notify)->reserved, 0);
	assert_int_equal(FAKE_ARG(n, struct acrn_ioreq_notify)->vcpu, 0);
	assert_int_equal(exit_count(f, NULL), 0);

	vmm_hsm_ops.stop(&f->vmm);
	struct vm_exit_info info;
	assert_int_equal(exit_count(f, &info), 1);
	assert_int_equal(info.reason, VM_EXIT_STOPPED);
	assert_false(fake_hsm_client_exists());

	vmm_hsm_ops.destroy_vm(&f->vmm);
	assert_null(f->vmm.priv);
	assert_false(fake_hsm_fd_open());
	assert_false(fake_hsm_vm_exists());

	static const unsigned long want[] = {
		ACRN_IOCTL_CREATE_VM, ACRN_IOCTL_CREATE_IOREQ_CLIENT,
		ACRN_IOCTL_SET_MEMSEG, ACRN_IOCTL_SET_MEMSEG,
		ACRN_IOCTL_SET_VCPU_REGS, ACRN_IOCTL_START_VM,
		ACRN_IOCTL_PAUSE_VM, ACRN_IOCTL_DESTROY_IOREQ_CLIENT, ACRN_IOCTL_CLEAR_VM_IOREQ,
		ACRN_IOCTL_DESTROY_VM,
	};
	assert_sequence(want, sizeof(want) / sizeof(want[0]));
	/* The thread only ever attached and notified. */
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_NOTIFY_REQUEST_FINISH), 2);
	/* At least one wait per request (a request posted during a scan needs no new wait). */
	assert_true(fake_hsm_count(ACRN_IOCTL_ATTACH_IOREQ_CLIENT) >= 2);
	for (unsigned i = 1; i <= fake_hsm_count(ACRN_IOCTL_ATTACH_IOREQ_CLIENT); i++)
		assert_false(fake_hsm_call(ACRN_IOCTL_ATTACH_IOREQ_CLIENT, i)->main_thread);
}

static void test_map_without_exec_and_unmap(void **state)
{
	struct fixture *f = *state;
	create_ok(f, "vm", 1);
	void *bar = (char *)f->ram + 0x10000000;
	assert_int_equal(vmm_hsm_ops.map_ram(&f->vmm, 0xc0000000, 2u << 20, bar, false), 0);
	check_memseg(1, 0xc0000000, 2u << 20, bar, ACRN_MEM_ACCESS_READ | ACRN_MEM_ACCESS_WRITE);

	/* The upstream HSM removes mappings only as MMIO (it refuses RAM with EINVAL). */
	assert_int_equal(vmm_hsm_ops.unmap_ram(&f->vmm, 0xc0000000, 2u << 20, bar), 0);
	const struct fake_call *c = fake_hsm_call(ACRN_IOCTL_UNSET_MEMSEG, 1);
	assert_non_null(c);
	const struct acrn_vm_memmap *m = FAKE_ARG(c, struct acrn_vm_memmap);
	assert_int_equal(m->type, ACRN_MEMMAP_MMIO);
	assert_int_equal(m->user_vm_pa, 0xc0000000);
	assert_int_equal(m->len, 2u << 20);
	assert_int_equal(m->attr, ACRN_MEM_ACCESS_READ | ACRN_MEM_ACCESS_WRITE);
	assert_int_equal(c->err, 0);

	/* Misaligned requests never reach the HSM. */
	assert_int_equal(vmm_hsm_ops.map_ram(&f->vmm, 0x1001, PAGE, f->ram, false), -EINVAL);
	assert_int_equal(vmm_hsm_ops.map_ram(&f->vmm, 0x1000, 100, f->ram, false), -EINVAL);
	assert_int_equal(vmm_hsm_ops.map_ram(&f->vmm, 0x1000, PAGE, (char *)f->ram + 8, false),
			 -EINVAL);
	assert_int_equal(vmm_hsm_ops.map_ram(&f->vmm, 0x1000, 0, f->ram, false), -EINVAL);
	assert_int_equal(vmm_hsm_ops.unmap_ram(&f->vmm, 0x1800, PAGE, f->ram), -EINVAL);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_SET_MEMSEG), 1);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_UNSET_MEMSEG), 1);
}

static void test_long_mode_regs(void **state)
{
	(void)state;
	struct vcpu_boot_state boot = { .mode = VCPU_START_LONG64, .rip = 0xffff800000100000ull,
					.rsp = 0x7ff000, .rsi = 0x7000, .cr3 = 0x1000,
					.gdt_base = 0x500, .gdt_limit = 0x17 };
	struct acrn_vcpu_regs r;
	assert_int_equal(hsm_fill_vcpu_regs(&boot, &r), 0);
	assert_int_equal(r.vcpu_id, 0);
	assert_int_equal(r.vcpu_regs.cr0, 0x80000031);	/* PG | NE | ET | PE */
	assert_int_equal(r.vcpu_regs.cr4, 0x20);		/* PAE */
	assert_int_equal(r.vcpu_regs.cr3, 0x1000);
	assert_int_equal(r.vcpu_regs.ia32_efer, 0x500);	/* LMA | LME */
	assert_int_equal(r.vcpu_regs.cs_ar, 0xA09B);		/* L, not D/B */
	assert_int_equal(r.vcpu_regs.cs_limit, 0xFFFFFFFF);
	assert_int_equal(r.vcpu_regs.cs_base, 0);
	assert_int_equal(r.vcpu_regs.cs_sel, 0x08);
	assert_int_equal(r.vcpu_regs.ss_sel, 0x10);
	assert_int_equal(r.vcpu_regs.ds_sel, 0x10);
	assert_int_equal(r.vcpu_regs.es_sel, 0x10);
	assert_int_equal(r.vcpu_regs.fs_sel, 0x10);
	assert_int_equal(r.vcpu_regs.gs_sel, 0x10);
	assert_int_equal(r.vcpu_regs.gdt.base, 0x500);
	assert_int_equal(r.vcpu_regs.gdt.limit, 0x17);
	assert_int_equal(r.vcpu_regs.idt.base, 0);
	assert_int_equal(r.vcpu_regs.idt.limit, 0);
	assert_int_equal(r.vcpu_regs.rip, 0xffff800000100000ull);
	assert_int_equal(r.vcpu_regs.gprs.rsp, 0x7ff000);
	assert_int_equal(r.vcpu_regs.gprs.rsi, 0x7000);
	assert_int_equal(r.vcpu_regs.gprs.rax, 0);
	assert_int_equal(r.vcpu_regs.rflags, 0x2);
	assert_int_equal(r.vcpu_regs.ldt_sel, 0);
	assert_int_equal(r.vcpu_regs.tr_sel, 0);

	boot.mode = (enum vcpu_start_mode)7;
	assert_int_equal(hsm_fill_vcpu_regs(&boot, &r), -EINVAL);
}

/* ---- bad parameters never reach the HSM ---- */

static void test_create_bad_params(void **state)
{
	struct fixture *f = *state;
	const struct { const char *name; unsigned vcpus; } bad[] = {
		{ "", 1 }, { "sixteen_chars_xx", 1 }, { "vm", 0 }, { "vm", 17 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vmm_vm_params p = params(bad[i].name, bad[i].vcpus);
		assert_int_equal(vmm_hsm_ops.create_vm(&f->vmm, &p), -EINVAL);
		assert_null(f->vmm.priv);
	}
	assert_int_equal(vmm_hsm_ops.create_vm(&f->vmm, NULL), -EINVAL);
	assert_int_equal(fake_hsm_opens(), 0);

	/* 15 bytes is the longest name ACRN takes. */
	create_ok(f, "fifteen_chars_x", 16);
	struct vmm_vm_params p = params("again", 1);
	assert_int_equal(vmm_hsm_ops.create_vm(&f->vmm, &p), -EBUSY);
	assert_int_equal(fake_hsm_opens(), 1);
}

static void test_start_twice_refused(void **state)
{
	struct fixture *f = *state;
	create_ok(f, "vm1", 1);
	struct vcpu_boot_state boot = multiboot_boot();
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), 0);
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), -EBUSY);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_START_VM), 1);
}

/* ---- stop and destroy in every state ---- */

static void test_stop_destroy_any_state(void **state)
{
	struct fixture *f = *state;
	/* Before create. */
	vmm_hsm_ops.stop(&f->vmm);
	vmm_hsm_ops.destroy_vm(&f->vmm);

	/* Created, never started: stop touches nothing. */
	create_ok(f, "vm1", 1);
	vmm_hsm_ops.stop(&f->vmm);
	vmm_hsm_ops.stop(&f->vmm);
	static const unsigned long created[] = {
		ACRN_IOCTL_CREATE_VM, ACRN_IOCTL_CREATE_IOREQ_CLIENT,
	};
	assert_sequence(created, 2);

	/* Running, destroyed without a stop: destroy stops first. */
	struct vcpu_boot_state boot = multiboot_boot();
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), 0);
	vmm_hsm_ops.destroy_vm(&f->vmm);
	vmm_hsm_ops.destroy_vm(&f->vmm);
	vmm_hsm_ops.stop(&f->vmm);
	static const unsigned long want[] = {
		ACRN_IOCTL_CREATE_VM, ACRN_IOCTL_CREATE_IOREQ_CLIENT,
		ACRN_IOCTL_SET_VCPU_REGS, ACRN_IOCTL_START_VM,
		ACRN_IOCTL_PAUSE_VM, ACRN_IOCTL_DESTROY_IOREQ_CLIENT, ACRN_IOCTL_CLEAR_VM_IOREQ,
		ACRN_IOCTL_DESTROY_VM,
	};
	assert_sequence(want, sizeof(want) / sizeof(want[0]));
	fake_hsm_assert_clean();
	assert_int_equal(exit_count(f, NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle_sequence, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_map_without_exec_and_unmap, hsm_setup, hsm_teardown),
		cmocka_unit_test(test_long_mode_regs),
		cmocka_unit_test_setup_teardown(test_create_bad_params, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_start_twice_refused, hsm_setup, hsm_teardown),
		cmocka_unit_test_setup_teardown(test_stop_destroy_any_state, hsm_setup, hsm_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
