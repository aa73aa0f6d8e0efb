/*
 * Interrupts and eventfds on real guests: KVM_SIGNAL_MSI, irqfd (with an update of its MSI
 * route), and ioeventfd with datamatch. Skipped without a usable /dev/kvm.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <cmocka.h>

#include "log.h"
#include "test_vmm_kvm_fixture.h"

/*
 * A guest waiting with interrupts on. Its handler reports the vector and finishes without
 * returning (this paravirtual KVM triple-faults on an iret after an MSI).
 */
static const uint8_t msi_guest[] = {
	0x0f, 0x01, 0x1d, 0x00, 0x28, 0x00, 0x00,	/* lidtl 0x2800 */
	0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe,
	0xff, 0x01, 0x00, 0x00,				/* movl $0x1ff,0xfee000f0 (LAPIC on) */
	0x66, 0xba, 0x02, 0x05,				/* mov $0x502,%dx */
	0xee,						/* out %al,(%dx)   ready */
	0xfb,						/* 1: sti */
	0xf4,						/* hlt */
	0xeb, 0xfc,					/* jmp 1b */
	/* handler, at offset 0x1a */
	0x66, 0xba, 0x00, 0x05,				/* mov $0x500,%dx */
	0xb8, MSI_VECTOR, 0x00, 0x00, 0x00,		/* mov $0x30,%eax */
	0xef,						/* out %eax,(%dx) */
	0x66, 0xba, 0x01, 0x05,				/* mov $0x501,%dx */
	0xee,						/* out %al,(%dx) */
	0xeb, 0xfe,					/* jmp . */
};
#define MSI_HANDLER_OFF 0x1a

static void start_msi_guest(struct fixture *f)
{
	uint32_t handler = (uint32_t)(CODE_GPA + MSI_HANDLER_OFF);
	uint8_t *gate = ram(f, 0x2000 + MSI_VECTOR * 8);
	uint16_t limit = MSI_VECTOR * 8 + 7;
	uint32_t base = 0x2000;

	/* A 32-bit interrupt gate: offset, selector 0x08, present DPL 0 type 0xE. */
	gate[0] = (uint8_t)handler;
	gate[1] = (uint8_t)(handler >> 8);
	gate[2] = 0x08;
	gate[3] = 0x00;
	gate[4] = 0x00;
	gate[5] = 0x8e;
	gate[6] = (uint8_t)(handler >> 16);
	gate[7] = (uint8_t)(handler >> 24);
	memcpy(ram(f, 0x2800), &limit, 2);
	memcpy(ram(f, 0x2802), &base, 4);
	start32(f, msi_guest, sizeof(msi_guest));
	if (!wait_sem(&f->ready))
		fail_msg("the guest did not get ready (exit: %s)", f->nexit ? f->exit.detail : "none");
}

static void test_send_msi(void **state)
{
	struct fixture *f = *state;

	vm_up(f, 1);
	start_msi_guest(f);
	assert_int_equal(vmm_kvm_ops.send_msi(&f->vm.vmm, LAPIC_BASE, MSI_VECTOR), 0);
	wait_done(f);
	assert_int_equal(f->nout, 1);
	expect_out(f, 0, MSI_VECTOR, 4);
}

/* An eventfd bound with irqfd_add injects the MSI without the device model in the path. */
static void test_irqfd(void **state)
{
	struct fixture *f = *state;
	int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t one = 1;

	assert_true(efd >= 0);
	vm_up(f, 1);
	/* Added with a wrong vector first, then retargeted: the update must reach the kernel. */
	int h = vmm_kvm_ops.irqfd_add(&f->vm.vmm, efd, LAPIC_BASE, 0x40);
	assert_true(h >= 0);
	assert_int_equal(vmm_kvm_ops.irqfd_update(&f->vm.vmm, h, LAPIC_BASE, MSI_VECTOR), 0);
	start_msi_guest(f);
	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	wait_done(f);
	expect_out(f, 0, MSI_VECTOR, 4);
	assert_int_equal(vmm_kvm_ops.irqfd_del(&f->vm.vmm, h), 0);
	close(efd);
}

/* A matching write signals the eventfd in the kernel; any other value exits to the handler. */
static void test_ioeventfd(void **state)
{
	struct fixture *f = *state;
	static const uint8_t code[] = {
		0xc7, 0x05, 0x00, 0x01, 0x00, 0xd0,
		0x07, 0x00, 0x00, 0x00,		/* movl $7,0xd0000100 (matches) */
		0xc7, 0x05, 0x00, 0x01, 0x00, 0xd0,
		0x08, 0x00, 0x00, 0x00,		/* movl $8,0xd0000100 (does not) */
		0x66, 0xba, 0x01, 0x05,		/* mov $0x501,%dx */
		0xee,				/* out %al,(%dx) */
		0xeb, 0xfe,			/* jmp . */
	};
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct vmm_ioeventfd io = {
		.fd = efd, .addr = MMIO_DEV + 0x100, .len = 4, .datamatch = true, .data = 7,
	};
	uint64_t count = 0;

	assert_true(efd >= 0);
	vm_up(f, 1);
	assert_int_equal(vmm_kvm_ops.ioeventfd_add(&f->vm.vmm, &io), 0);
	start32(f, code, sizeof(code));
	wait_done(f);
	assert_int_equal(read(efd, &count, sizeof(count)), sizeof(count));
	assert_int_equal(count, 1);
	assert_int_equal(f->nmw, 1);
	assert_int_equal(f->mw[0].value, 8);
	assert_int_equal(vmm_kvm_ops.ioeventfd_del(&f->vm.vmm, &io), 0);
	assert_int_equal(vmm_kvm_ops.ioeventfd_del(&f->vm.vmm, &io), -ENOENT);
	close(efd);
}

#define GUEST_TEST(fn) cmocka_unit_test_setup_teardown(fn, kvm_fixture_setup, kvm_fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		GUEST_TEST(test_send_msi),
		GUEST_TEST(test_irqfd),
		GUEST_TEST(test_ioeventfd),
	};

	log_set_level(LOG_WARN);
	/* A vCPU that never leaves KVM_RUN would hang stop(): let SIGALRM end the run instead. */
	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
