/*
 * The HSM backend's ioreq client thread against a fake /dev/acrn_hsm: PIO, MMIO and PCICFG
 * requests in several vCPU slots (reads and writes, sizes 1/2/4/8) go through a real io_registry
 * and a fake PCI config hook; results and completions are checked, and slots that are not
 * PROCESSING (or belong to an in-kernel client) are left alone.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io_dispatch.h"
#include "test_vmm_hsm_fake.h"
#include "../../devicemodel/vmm/vmm_hsm_priv.h"

#define NVCPUS 6
#define PIO_BASE 0x60
#define MMIO_BASE 0xfed00000ull
#define MMIO_FAIL_BASE 0xfee80000ull

struct access {
	uint64_t offset;
	unsigned size;
	bool is_write;
	uint64_t value;
};

struct recorder {
	pthread_mutex_t lock;
	struct access log[64];
	unsigned n;
	uint64_t reply;
};

struct cfg_access {
	unsigned bus, dev, func, reg, size;
	bool is_write;
	uint32_t value;
};

struct fixture {
	struct vmm vmm;
	struct io_registry *io;
	struct recorder pio, mmio;
	struct cfg_access cfg[32];
	unsigned ncfg;
	uint32_t cfg_reply;
	int cfg_ret;
	pthread_mutex_t exit_lock;
	unsigned exits;
	struct vm_exit_info exit;
};

static void on_exit_record(void *opaque, const struct vm_exit_info *info)
{
	struct fixture *f = opaque;
	pthread_mutex_lock(&f->exit_lock);
	f->exits++;
	f->exit = *info;
	pthread_mutex_unlock(&f->exit_lock);
}

static unsigned exits(struct fixture *f, struct vm_exit_info *info)
{
	pthread_mutex_lock(&f->exit_lock);
	unsigned n = f->exits;
	if (info)
		*info = f->exit;
	pthread_mutex_unlock(&f->exit_lock);
	return n;
}

static int record(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct recorder *r = opaque;
	pthread_mutex_lock(&r->lock);
	assert_true(r->n < 64);
	r->log[r->n++] = (struct access){ offset, size, is_write, is_write ? *value : 0 };
	if (!is_write)
		*value = r->reply;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int fail_handler(void *opaque, uint64_t offset, unsigned size, bool is_write,
			uint64_t *value)
{
	(void)opaque; (void)offset; (void)size; (void)is_write;
	*value = 0x1234;
	return -EIO;
}

static int pci_cfg_hook(void *opaque, unsigned bus, unsigned dev, unsigned func, unsigned reg,
			unsigned size, bool is_write, uint32_t *value)
{
	struct fixture *f = opaque;
	assert_true(f->ncfg < 32);
	f->cfg[f->ncfg++] = (struct cfg_access){ bus, dev, func, reg, size, is_write,
						 is_write ? *value : 0 };
	if (!is_write)
		*value = f->cfg_reply;
	return f->cfg_ret;
}

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	pthread_mutex_init(&f.pio.lock, NULL);
	pthread_mutex_init(&f.mmio.lock, NULL);
	pthread_mutex_init(&f.exit_lock, NULL);
	fake_hsm_reset();
	hsm_timing = (struct hsm_timing){ .create_tries = 1, .join_timeout_ms = 1000 };

	f.io = io_registry_new();
	assert_non_null(f.io);
	const struct io_range ranges[] = {
		{ .name = "pio", .space = IO_SPACE_PIO, .base = PIO_BASE, .len = 0x10,
		  .handler = record, .opaque = &f.pio },
		{ .name = "mmio", .space = IO_SPACE_MMIO, .base = MMIO_BASE, .len = 0x1000,
		  .handler = record, .opaque = &f.mmio },
		{ .name = "broken", .space = IO_SPACE_MMIO, .base = MMIO_FAIL_BASE, .len = 0x1000,
		  .handler = fail_handler },
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		assert_int_equal(io_register(f.io, &ranges[i]), 0);

	f.vmm.ops = &vmm_hsm_ops;
	f.vmm.io = f.io;
	f.vmm.pci_cfg = pci_cfg_hook;
	f.vmm.pci_cfg_opaque = &f;
	f.vmm.on_exit = on_exit_record;
	f.vmm.on_exit_opaque = &f;

	/* The scenario's VM has NVCPUS vCPUs: the hypervisor says so in CREATE_VM's answer. */
	fake_hsm_set_reply(3, NVCPUS);
	struct vmm_vm_params p = { .name = "ioreq-vm", .vcpus = NVCPUS, .memsize = 1 << 28 };
	assert_int_equal(vmm_hsm_ops.create_vm(&f.vmm, &p), 0);
	struct vcpu_boot_state boot = { .mode = VCPU_START_LONG64, .rip = 0x100000, .cr3 = 0x1000 };
	assert_int_equal(vmm_hsm_ops.start(&f.vmm, &boot), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vmm_hsm_ops.stop(&f->vmm);
	vmm_hsm_ops.destroy_vm(&f->vmm);
	fake_hsm_assert_clean();
	io_registry_free(f->io);
	pthread_mutex_destroy(&f->pio.lock);
	pthread_mutex_destroy(&f->mmio.lock);
	pthread_mutex_destroy(&f->exit_lock);
	return 0;
}

static struct acrn_io_request *slot(unsigned vcpu)
{
	struct acrn_io_request *req = &fake_hsm_ioreq_buf()->req_slot[vcpu];
	return req;
}

static struct acrn_io_request *pio(unsigned vcpu, bool write, uint64_t port, unsigned size,
				   uint32_t value)
{
	struct acrn_io_request *req = slot(vcpu);
	memset(req, 0, sizeof(*req));
	req->type = ACRN_IOREQ_TYPE_PORTIO;
	req->reqs.pio_request = (struct acrn_pio_request){
		.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ,
		.address = port, .size = size, .value = write ? value : 0xcccccccc };
	return req;
}

static struct acrn_io_request *mmio(unsigned vcpu, bool write, uint64_t addr, unsigned size,
				    uint64_t value)
{
	struct acrn_io_request *req = slot(vcpu);
	memset(req, 0, sizeof(*req));
	req->type = ACRN_IOREQ_TYPE_MMIO;
	req->reqs.mmio_request = (struct acrn_mmio_request){
		.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ,
		.address = addr, .size = size, .value = write ? value : 0xccccccccccccccccull };
	return req;
}

static struct acrn_io_request *pcicfg(unsigned vcpu, bool write, unsigned bus, unsigned dev,
				      unsigned func, unsigned reg, unsigned size, uint32_t value)
{
	struct acrn_io_request *req = slot(vcpu);
	memset(req, 0, sizeof(*req));
	req->type = ACRN_IOREQ_TYPE_PCICFG;
	req->reqs.pci_request = (struct acrn_pci_request){
		.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ,
		.size = size, .value = write ? value : 0xcccccccc,
		.bus = bus, .dev = dev, .func = func, .reg = reg };
	return req;
}

static unsigned notified_total;

/* Posts the slots of mask and waits until each was completed. */
static void run(uint32_t mask)
{
	static unsigned total;
	if (fake_hsm_count(ACRN_IOCTL_NOTIFY_REQUEST_FINISH) == 0)
		total = 0;
	total += (unsigned)__builtin_popcount(mask);
	fake_hsm_post(mask);
	assert_true(fake_hsm_wait_notified(total, 2000));
	for (unsigned v = 0; v < NVCPUS; v++)
		if (mask & (1u << v))
			assert_int_equal(__atomic_load_n(&slot(v)->processed, __ATOMIC_ACQUIRE),
					 ACRN_IOREQ_STATE_COMPLETE);
	notified_total = total;
}

static void test_mixed_slots(void **state)
{
	struct fixture *f = *state;
	f->pio.reply = 0xabcd1234;
	f->cfg_reply = 0x1110;
	pio(0, false, PIO_BASE + 1, 1, 0);
	mmio(1, true, MMIO_BASE + 8, 8, 0x1122334455667788ull);
	pcicfg(2, false, 0, 8, 0, 0x02, 2, 0);
	pio(3, true, PIO_BASE + 4, 4, 0xdeadbeef);
	mmio(5, false, MMIO_BASE + 0x10, 4, 0);
	f->mmio.reply = 0x8877665544332211ull;
	run(0x2f);

	assert_int_equal(slot(0)->reqs.pio_request.value, 0x34);
	assert_int_equal(slot(2)->reqs.pci_request.value, 0x1110);
	assert_int_equal(slot(5)->reqs.mmio_request.value, 0x44332211);
	/* Writes keep their value. */
	assert_int_equal(slot(1)->reqs.mmio_request.value, 0x1122334455667788ull);
	assert_int_equal(slot(3)->reqs.pio_request.value, 0xdeadbeef);

	assert_int_equal(f->pio.n, 2);
	assert_int_equal(f->mmio.n, 2);
	for (unsigned i = 0; i < f->pio.n; i++) {
		struct access a = f->pio.log[i];
		if (a.is_write) {
			assert_int_equal(a.offset, 4);
			assert_int_equal(a.size, 4);
			assert_int_equal(a.value, 0xdeadbeef);
		} else {
			assert_int_equal(a.offset, 1);
			assert_int_equal(a.size, 1);
		}
	}
	for (unsigned i = 0; i < f->mmio.n; i++) {
		struct access a = f->mmio.log[i];
		if (a.is_write) {
			assert_int_equal(a.offset, 8);
			assert_int_equal(a.size, 8);
			assert_int_equal(a.value, 0x1122334455667788ull);
		} else {
			assert_int_equal(a.offset, 0x10);
			assert_int_equal(a.size, 4);
		}
	}
	assert_int_equal(f->ncfg, 1);
	assert_int_equal(f->cfg[0].bus, 0);
	assert_int_equal(f->cfg[0].dev, 8);
	assert_int_equal(f->cfg[0].func, 0);
	assert_int_equal(f->cfg[0].reg, 2);
	assert_int_equal(f->cfg[0].size, 2);
	assert_false(f->cfg[0].is_write);

	/* One completion per slot, each naming its vCPU, all from the ioreq thread. */
	unsigned vcpus[16];
	size_t n = fake_hsm_notified(vcpus, 16);
	assert_int_equal(n, 5);
	uint32_t seen = 0;
	for (size_t i = 0; i < n; i++)
		seen |= 1u << vcpus[i];
	assert_int_equal(seen, 0x2f);
	for (unsigned i = 1; i <= 5; i++) {
		const struct fake_call *c = fake_hsm_call(ACRN_IOCTL_NOTIFY_REQUEST_FINISH, i);
		assert_false(c->main_thread);
		assert_int_equal(FAKE_ARG(c, struct acrn_ioreq_notify)->vmid, 3);
		assert_int_equal(FAKE_ARG(c, struct acrn_ioreq_notify)->reserved, 0);
	}
}

static void test_read_sizes(void **state)
{
	struct fixture *f = *state;
	f->mmio.reply = 0x8877665544332211ull;
	f->pio.reply = 0x44332211;
	f->cfg_reply = 0xa1b2c3d4;
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	static const uint64_t mmio_want[] = { 0x11, 0x2211, 0x44332211, 0x8877665544332211ull };
	static const uint32_t pio_want[] = { 0x11, 0x2211, 0x44332211 };
	static const uint32_t cfg_want[] = { 0xd4, 0xc3d4, 0xa1b2c3d4 };
	for (unsigned i = 0; i < 4; i++)
		mmio(i, false, MMIO_BASE + 0x100, sizes[i], 0);
	run(0xf);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(slot(i)->reqs.mmio_request.value, mmio_want[i]);

	for (unsigned i = 0; i < 3; i++)
		pio(i, false, PIO_BASE, sizes[i], 0);
	for (unsigned i = 0; i < 3; i++)
		pcicfg(3 + i, false, 1, 31, 7, 0x40, sizes[i], 0);
	run(0x3f);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(slot(i)->reqs.pio_request.value, pio_want[i]);
		assert_int_equal(slot(3 + i)->reqs.pci_request.value, cfg_want[i]);
	}
	for (unsigned i = 0; i < f->ncfg; i++) {
		assert_int_equal(f->cfg[i].bus, 1);
		assert_int_equal(f->cfg[i].dev, 31);
		assert_int_equal(f->cfg[i].func, 7);
		assert_int_equal(f->cfg[i].reg, 0x40);
	}
}

static void test_write_sizes(void **state)
{
	struct fixture *f = *state;
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	/* Bytes above the access size never reach a handler. */
	for (unsigned i = 0; i < 4; i++)
		mmio(i, true, MMIO_BASE + 0x20 * i, sizes[i], 0xf0e0d0c0b0a09080ull);
	run(0xf);
	assert_int_equal(f->mmio.n, 4);
	for (unsigned i = 0; i < 4; i++) {
		struct access a = f->mmio.log[i];
		unsigned idx = (unsigned)(a.offset / 0x20);
		assert_int_equal(a.size, sizes[idx]);
		uint64_t want = sizes[idx] == 8 ? 0xf0e0d0c0b0a09080ull :
			0xf0e0d0c0b0a09080ull & ((1ull << (8 * sizes[idx])) - 1);
		assert_int_equal(a.value, want);
	}

	for (unsigned i = 0; i < 3; i++) {
		pio(i, true, PIO_BASE + i, sizes[i], 0xa1b2c3d4);
		pcicfg(3 + i, true, 0, 3, 1, 0x10 + 4 * i, sizes[i], 0xa1b2c3d4);
	}
	run(0x3f);
	assert_int_equal(f->pio.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		struct access a = f->pio.log[i];
		assert_int_equal(a.size, sizes[a.offset]);
		assert_int_equal(a.value, 0xa1b2c3d4 & (uint32_t)((1ull << (8 * sizes[a.offset])) - 1));
	}
	assert_int_equal(f->ncfg, 3);
	for (unsigned i = 0; i < 3; i++) {
		struct cfg_access c = f->cfg[i];
		unsigned idx = (c.reg - 0x10) / 4;
		assert_true(c.is_write);
		assert_int_equal(c.dev, 3);
		assert_int_equal(c.func, 1);
		assert_int_equal(c.size, sizes[idx]);
		assert_int_equal(c.value, 0xa1b2c3d4 & (uint32_t)((1ull << (8 * sizes[idx])) - 1));
	}
}

/* Unclaimed, failing and malformed accesses read all ones and are still completed. */
static void test_errors_read_all_ones(void **state)
{
	struct fixture *f = *state;
	f->cfg_ret = -ENOENT;
	f->cfg_reply = 0x1234;
	pio(0, false, 0x1000, 2, 0);			/* nobody there */
	mmio(1, false, 0xd0000000, 8, 0);		/* nobody there */
	mmio(2, false, MMIO_FAIL_BASE, 4, 0);		/* the handler fails */
	mmio(3, false, MMIO_BASE, 3, 0);		/* no such size */
	pio(4, false, PIO_BASE, 8, 0);			/* ports are at most 4 bytes */
	pcicfg(5, false, 0, 30, 0, 0, 4, 0);		/* the PCI core says no */
	run(0x3f);
	assert_int_equal(slot(0)->reqs.pio_request.value, 0xffff);
	assert_int_equal(slot(1)->reqs.mmio_request.value, ~0ull);
	assert_int_equal(slot(2)->reqs.mmio_request.value, 0xffffffff);
	assert_int_equal(slot(3)->reqs.mmio_request.value, ~0ull);
	assert_int_equal(slot(4)->reqs.pio_request.value, 0xffffffff);
	assert_int_equal(slot(5)->reqs.pci_request.value, 0xffffffff);
	assert_int_equal(f->mmio.n, 0);	/* the bad size never reached the handler */
	assert_int_equal(f->pio.n, 0);

	/* Without a PCI hook, config reads float high too. */
	f->vmm.pci_cfg = NULL;
	pcicfg(0, false, 0, 0, 0, 0, 2, 0);
	pcicfg(1, true, 0, 0, 0, 4, 2, 7);
	run(0x3);
	assert_int_equal(slot(0)->reqs.pci_request.value, 0xffff);
	assert_int_equal(slot(1)->reqs.pci_request.value, 7);
}

/* Only PROCESSING slots of the device model's client are touched. */
static void test_other_states_left_alone(void **state)
{
	struct fixture *f = *state;
	static const uint32_t states[] = { ACRN_IOREQ_STATE_PENDING, ACRN_IOREQ_STATE_FREE,
					   ACRN_IOREQ_STATE_COMPLETE };
	for (unsigned v = 0; v < 3; v++) {
		pio(v, false, PIO_BASE, 4, 0);
		__atomic_store_n(&slot(v)->processed, states[v], __ATOMIC_RELEASE);
	}
	/* PROCESSING, but handed to an in-kernel client (an ioeventfd). */
	mmio(3, true, MMIO_BASE, 4, 0x99);
	slot(3)->kernel_handled = 1;
	__atomic_store_n(&slot(3)->processed, ACRN_IOREQ_STATE_PROCESSING, __ATOMIC_RELEASE);
	/* A PROCESSING slot with completion polling: handled and notified like any other. */
	struct acrn_io_request before[4];
	memcpy(before, fake_hsm_ioreq_buf()->req_slot, sizeof(before));

	mmio(4, false, MMIO_BASE + 4, 4, 0);
	slot(4)->completion_polling = 1;
	f->mmio.reply = 0x77;
	run(1u << 4);
	assert_int_equal(slot(4)->reqs.mmio_request.value, 0x77);
	/* Join the thread so nothing can still be looking at the page. */
	vmm_hsm_ops.stop(&f->vmm);
	assert_memory_equal(fake_hsm_ioreq_buf()->req_slot, before, sizeof(before));
	unsigned vcpus[8];
	assert_int_equal(fake_hsm_notified(vcpus, 8), 1);
	assert_int_equal(vcpus[0], 4);
	assert_int_equal(f->pio.n, 0);
	assert_int_equal(f->mmio.n, 1);
}

static void test_unknown_type_completed_once_logged(void **state)
{
	struct fixture *f = *state;
	struct hsm_vm *h = f->vmm.priv;
	for (unsigned v = 0; v < 2; v++) {
		memset(slot(v), 0, sizeof(*slot(v)));
		slot(v)->type = 3;	/* ACRN's write-protect type, unknown upstream */
		slot(v)->reqs.data[0] = 0x1122;
	}
	assert_false(atomic_load(&h->unknown_type_logged));
	run(0x3);
	assert_true(atomic_load(&h->unknown_type_logged));
	assert_int_equal(slot(0)->reqs.data[0], 0x1122);
	assert_int_equal(slot(1)->reqs.data[0], 0x1122);
	assert_int_equal(f->pio.n + f->mmio.n + f->ncfg, 0);
}

/* Many rounds on the same slots: the thread keeps up and never completes a slot twice. */
static void test_many_rounds(void **state)
{
	struct fixture *f = *state;
	for (unsigned round = 0; round < 100; round++) {
		for (unsigned v = 0; v < NVCPUS; v++)
			mmio(v, true, MMIO_BASE + 8 * v, 4, round);
		run((1u << NVCPUS) - 1);
	}
	assert_int_equal(notified_total, 100 * NVCPUS);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_NOTIFY_REQUEST_FINISH), 100 * NVCPUS);
	assert_int_equal(f->mmio.n, 64);	/* the recorder is full; the rest are counted */
}

/*
 * ACRN reports a post-launched guest's triple fault (or S5) as a write of SLP_EN | S5 to PM1A_CNT
 * at port 0x404; unclaimed, it ends the VM as a shutdown.
 */
static void test_pm1a_shutdown(void **state)
{
	struct fixture *f = *state;
	struct recorder pm = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const struct io_range acpi = { .name = "pm1a", .space = IO_SPACE_PIO, .base = 0x400,
				       .len = 8, .handler = record, .opaque = &pm };
	assert_int_equal(io_register(f->io, &acpi), 0);
	pio(0, true, 0x404, 2, 0x3400);
	run(0x1);
	assert_int_equal(pm.n, 1);	/* a device that emulates PM1A gets it, as it is */
	assert_int_equal(exits(f, NULL), 0);
	assert_int_equal(io_unregister(f->io, IO_SPACE_PIO, 0x400), 0);

	pio(0, true, 0x404, 2, 0x2000 | (3u << 10));	/* S3: not a power off */
	pio(1, true, 0x404, 4, 0x3400);			/* not the 2-byte write ACRN makes */
	pio(2, false, 0x404, 2, 0);
	run(0x7);
	assert_int_equal(exits(f, NULL), 0);

	pio(3, true, 0x404, 2, 0x3400);
	run(1u << 3);
	struct vm_exit_info info;
	assert_int_equal(exits(f, &info), 1);
	assert_int_equal(info.reason, VM_EXIT_SHUTDOWN);
	assert_non_null(strstr(info.detail, "triple fault"));
	/* Reported once; the VM's stop does not report again. */
	pio(3, true, 0x404, 2, 0x3400);
	run(1u << 3);
	vmm_hsm_ops.stop(&f->vmm);
	assert_int_equal(exits(f, NULL), 1);
}

static int record_saturating(void *opaque, uint64_t offset, unsigned size, bool is_write,
			     uint64_t *value)
{
	struct recorder *r = opaque;
	(void)offset; (void)size; (void)is_write; (void)value;
	pthread_mutex_lock(&r->lock);
	if (r->n < 64)
		r->n++;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int setup_rounds(void **state)
{
	int ret = setup(state);
	struct fixture *f = *state;
	assert_int_equal(io_unregister(f->io, IO_SPACE_MMIO, MMIO_BASE), 0);
	const struct io_range r = { .name = "count", .space = IO_SPACE_MMIO, .base = MMIO_BASE,
				    .len = 0x1000, .handler = record_saturating, .opaque = &f->mmio };
	assert_int_equal(io_register(f->io, &r), 0);
	return ret;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mixed_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_read_all_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_states_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type_completed_once_logged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pm1a_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_rounds, setup_rounds, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
