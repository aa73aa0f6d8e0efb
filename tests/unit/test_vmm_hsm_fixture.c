/* The life-cycle fixture: see test_vmm_hsm_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "test_vmm_hsm_fixture.h"

static void on_exit_record(void *opaque, const struct vm_exit_info *info)
{
	struct exits *e = opaque;
	pthread_mutex_lock(&e->lock);
	e->count++;
	e->last = *info;
	pthread_mutex_unlock(&e->lock);
}

static int port_handler(void *opaque, uint64_t offset, unsigned size, bool is_write,
			uint64_t *value)
{
	struct fixture *f = opaque;
	(void)offset;
	(void)size;
	f->port_calls++;
	if (is_write)
		f->port_written = *value;
	else
		*value = 0x5a;
	return 0;
}

int hsm_setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	fake_hsm_reset();
	hsm_timing = (struct hsm_timing){ .create_tries = 1, .create_retry_ms = 0,
					  .join_timeout_ms = 200 };
	pthread_mutex_init(&f.exits.lock, NULL);
	f.io = io_registry_new();
	assert_non_null(f.io);
	const struct io_range port = { .name = "test-port", .space = IO_SPACE_PIO, .base = 0x3f8,
				       .len = 8, .handler = port_handler, .opaque = &f };
	assert_int_equal(io_register(f.io, &port), 0);
	f.vmm.ops = &vmm_hsm_ops;
	f.vmm.io = f.io;
	f.vmm.on_exit = on_exit_record;
	f.vmm.on_exit_opaque = &f.exits;
	f.ram = (void *)(uintptr_t)0x7f0000200000ull;	/* never touched: the fake only records it */
	*state = &f;
	return 0;
}

int hsm_teardown(void **state)
{
	struct fixture *f = *state;
	vmm_hsm_ops.destroy_vm(&f->vmm);
	assert_null(f->vmm.priv);
	fake_hsm_assert_clean();
	io_registry_free(f->io);
	pthread_mutex_destroy(&f->exits.lock);
	return 0;
}

struct vmm_vm_params params(const char *name, unsigned vcpus)
{
	struct vmm_vm_params p = { .name = name, .vcpus = vcpus, .memsize = 256ull << 20 };
	uuid_parse("d2795438-25d6-11e8-864e-cb7a18b34643", p.uuid);
	return p;
}

struct vcpu_boot_state multiboot_boot(void)
{
	return (struct vcpu_boot_state){ .mode = VCPU_START_PROTECTED32, .rip = 0x100000,
					 .rsp = 0x8000, .rax = 0x2BADB002, .rbx = 0x9000,
					 .rsi = 0x1234 };
}

unsigned exit_count(struct fixture *f, struct vm_exit_info *last)
{
	pthread_mutex_lock(&f->exits.lock);
	unsigned n = f->exits.count;
	if (last)
		*last = f->exits.last;
	pthread_mutex_unlock(&f->exits.lock);
	return n;
}

void assert_sequence(const unsigned long *want, size_t n)
{
	unsigned long got[MAX_SEQ];
	size_t m = fake_hsm_main_sequence(got, MAX_SEQ);
	for (size_t i = 0; i < n && i < m; i++) {
		if (got[i] != want[i])
			fail_msg("ioctl %zu: got %s, want %s", i, fake_hsm_req_name(got[i]),
				 fake_hsm_req_name(want[i]));
	}
	if (m != n)
		fail_msg("%zu ioctls from the main thread, want %zu (last %s)", m, n,
			 m ? fake_hsm_req_name(got[m - 1]) : "none");
}

void create_ok(struct fixture *f, const char *name, unsigned vcpus)
{
	struct vmm_vm_params p = params(name, vcpus);
	assert_int_equal(vmm_hsm_ops.create_vm(&f->vmm, &p), 0);
	assert_non_null(f->vmm.priv);
}

void run_one_request(struct fixture *f, unsigned already_notified)
{
	struct acrn_io_request *req = &fake_hsm_ioreq_buf()->req_slot[0];
	memset(req, 0, sizeof(*req));
	req->type = ACRN_IOREQ_TYPE_PORTIO;
	req->reqs.pio_request = (struct acrn_pio_request){
		.direction = ACRN_IOREQ_DIR_WRITE, .address = 0x3f8, .size = 1, .value = 0x41 };
	fake_hsm_post(1u << 0);
	assert_true(fake_hsm_wait_notified(already_notified + 1, 2000));
	assert_int_equal(f->port_written, 0x41);
}

void start_running(struct fixture *f)
{
	create_ok(f, "vm1", 1);
	struct vcpu_boot_state boot = multiboot_boot();
	assert_int_equal(vmm_hsm_ops.start(&f->vmm, &boot), 0);
	run_one_request(f, 0);
}
