/*
 * The HSM backend's hypervisor-land devices and interrupt paths against a fake /dev/acrn_hsm:
 * struct acrn_vdev for hv-land ivshmem at several BDFs, BAR addresses, sizes and region names;
 * the message when the hypervisor refuses; INJECT_MSI, IOEVENTFD and the IRQFD handle table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "io_dispatch.h"
#include "test_vmm_hsm_fake.h"
#include "../../devicemodel/vmm/vmm_hsm_priv.h"

#define MiB (1ull << 20)

struct fixture {
	struct vmm vmm;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	fake_hsm_reset();
	hsm_timing = (struct hsm_timing){ .create_tries = 1, .join_timeout_ms = 1000 };
	f.vmm.ops = &vmm_hsm_ops;
	struct vmm_vm_params p = { .name = "POST_STD_VM1", .vcpus = 1, .memsize = 1 << 28 };
	assert_int_equal(vmm_hsm_ops.create_vm(&f.vmm, &p), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vmm_hsm_ops.destroy_vm(&f->vmm);
	fake_hsm_assert_clean();
	return 0;
}

/* ---- stderr capture, for the messages users see ---- */

struct capture {
	int saved, fd;
};

static void capture_start(struct capture *c)
{
	fflush(stderr);
	c->fd = memfd_create("stderr", 0);
	assert_true(c->fd >= 0);
	c->saved = dup(STDERR_FILENO);
	assert_true(dup2(c->fd, STDERR_FILENO) >= 0);
}

static char *capture_end(struct capture *c)
{
	static char text[4096];
	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	ssize_t n = pread(c->fd, text, sizeof(text) - 1, 0);
	close(c->fd);
	text[n > 0 ? n : 0] = '\0';
	fputs(text, stderr);	/* still visible in the test's output */
	return text;
}

/* ---- hv-land ivshmem ---- */

struct vdev_case {
	unsigned bus, dev, func;
	uint64_t bar0, bar1, bar2, size;
	bool caller_sizes;	/* the device filled bar_size[0] and [1] itself */
	const char *args;
};

static struct vmm_vdev ivshmem_vdev(const struct vdev_case *c)
{
	struct vmm_vdev v;
	memset(&v, 0, sizeof(v));
	v.vendor = 0x1af4;
	v.device = 0x1110;
	v.bus = c->bus;
	v.dev = c->dev;
	v.func = c->func;
	v.bar_addr[0] = c->bar0;
	v.bar_addr[1] = c->bar1;
	v.bar_addr[2] = c->bar2;
	v.bar_mem64[2] = true;
	v.bar_size[2] = c->size;
	if (c->caller_sizes) {
		v.bar_size[0] = 0x100;
		v.bar_size[1] = 0x1000;
	}
	snprintf(v.args, sizeof(v.args), "%s", c->args);
	return v;
}

static void test_hv_land_ivshmem_fields(void **state)
{
	struct fixture *f = *state;
	static const struct vdev_case cases[] = {
		{ 0, 8, 0, 0xdf000000, 0xdf001000, 0x4000000000ull, 2 * MiB, false,
		  "hv:/shm_region_0" },
		{ 0, 0x1e, 7, 0xc0000000, 0xc0001000, 0xc0200000, 512 * MiB, true,
		  "hv:/abcdefghijklmnopqrstuvwxyz0" },
		{ 1, 3, 2, 0xa0000000, 0xa0001000, 0x123456000000ull, 64 * MiB, true, "hv:/r1" },
		{ 0, 9, 1, 0xdf002000, 0xdf003000, 0xfff000000ull, 4 * MiB, false, "hv:/x" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vdev_case *c = &cases[i];
		struct vmm_vdev v = ivshmem_vdev(c);
		assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), 0);
		const struct fake_call *call = fake_hsm_call(ACRN_IOCTL_CREATE_VDEV, i + 1);
		assert_non_null(call);
		const struct acrn_vdev *d = FAKE_ARG(call, struct acrn_vdev);

		assert_int_equal(d->id.fields.vendor, 0x1af4);
		assert_int_equal(d->id.fields.device, 0x1110);
		assert_int_equal(d->id.fields.legacy_id, 0);
		assert_int_equal(d->slot, c->bus << 8 | c->dev << 3 | c->func);
		assert_int_equal(d->io_addr[0], c->bar0);
		assert_int_equal(d->io_addr[1], c->bar1);
		assert_int_equal(d->io_addr[2], (uint32_t)c->bar2 | 0x0c);
		assert_int_equal(d->io_addr[3], (uint32_t)(c->bar2 >> 32));
		assert_int_equal(d->io_addr[4], 0);
		assert_int_equal(d->io_addr[5], 0);
		assert_int_equal(d->io_size[0], 0x100);
		assert_int_equal(d->io_size[1], 0x1000);
		assert_int_equal(d->io_size[2], c->size);
		assert_int_equal(d->io_size[3], 0);
		assert_int_equal(d->io_size[4], 0);
		assert_int_equal(d->io_size[5], 0);
		/* "hv:/NAME", NUL-terminated, the rest zero. */
		char args[128] = { 0 };
		memcpy(args, c->args, strlen(c->args));
		assert_memory_equal(d->args, args, sizeof(args));

		assert_int_equal(vmm_hsm_ops.destroy_vdev(&f->vmm, &v), 0);
		call = fake_hsm_call(ACRN_IOCTL_DESTROY_VDEV, i + 1);
		assert_non_null(call);
		/* As ACRN's device model: id and slot only. */
		struct acrn_vdev want;
		memset(&want, 0, sizeof(want));
		want.id.fields.vendor = 0x1af4;
		want.id.fields.device = 0x1110;
		want.slot = c->bus << 8 | c->dev << 3 | c->func;
		assert_memory_equal(call->arg, &want, sizeof(want));
	}
}

static void test_hv_land_refused_message(void **state)
{
	struct fixture *f = *state;
	static const struct vdev_case c = { 0, 8, 0, 0xdf000000, 0xdf001000, 0x4000000000ull,
					    2 * MiB, false, "hv:/shm_region_0" };
	struct vmm_vdev v = ivshmem_vdev(&c);
	struct capture cap;

	fake_hsm_fail(ACRN_IOCTL_CREATE_VDEV, 1, EINVAL);
	capture_start(&cap);
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -EINVAL);
	const char *msg = capture_end(&cap);
	assert_non_null(strstr(msg, "ACRN_IOCTL_CREATE_VDEV"));
	assert_non_null(strstr(msg, "\"hv:/shm_region_0\" of 2 MB"));
	assert_non_null(strstr(msg, "00:08.0"));
	assert_non_null(strstr(msg, "IVSHMEM_REGION"));
	assert_non_null(strstr(msg, "IVSHMEM_VMS"));
	assert_non_null(strstr(msg, "VM name \"POST_STD_VM1\" on the acrn-dm command line differs"));
	assert_non_null(strstr(msg, "EINVAL"));

	/* Other errors say what they are. */
	fake_hsm_fail(ACRN_IOCTL_CREATE_VDEV, 2, ENOTTY);
	capture_start(&cap);
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -ENOTTY);
	msg = capture_end(&cap);
	assert_non_null(strstr(msg, "ACRN_IOCTL_CREATE_VDEV"));
	assert_non_null(strstr(msg, "errno 25"));
	assert_non_null(strstr(msg, "newer Service VM kernel"));

	fake_hsm_fail(ACRN_IOCTL_CREATE_VDEV, 3, ENOMEM);
	capture_start(&cap);
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -ENOMEM);
	msg = capture_end(&cap);
	assert_non_null(strstr(msg, "errno 12"));
	assert_null(strstr(msg, "IVSHMEM_REGION"));

	fake_hsm_fail(ACRN_IOCTL_DESTROY_VDEV, 1, EINVAL);
	capture_start(&cap);
	assert_int_equal(vmm_hsm_ops.destroy_vdev(&f->vmm, &v), -EINVAL);
	msg = capture_end(&cap);
	assert_non_null(strstr(msg, "ACRN_IOCTL_DESTROY_VDEV"));
	assert_non_null(strstr(msg, "errno 22"));
}

static void test_hv_land_invalid(void **state)
{
	struct fixture *f = *state;
	static const struct vdev_case ok = { 0, 8, 0, 0xdf000000, 0xdf001000, 0x4000000000ull,
					     2 * MiB, false, "hv:/shm_region_0" };
	struct vmm_vdev v;

	/* NAME of 28 bytes: "hv:/NAME" and its NUL no longer fit the hypervisor's 32 bytes. */
	v = ivshmem_vdev(&ok);
	snprintf(v.args, sizeof(v.args), "hv:/%s", "abcdefghijklmnopqrstuvwxyz01");
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -ENAMETOOLONG);
	v = ivshmem_vdev(&ok);
	memset(v.args, 'a', sizeof(v.args));	/* no NUL at all */
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -ENAMETOOLONG);
	v = ivshmem_vdev(&ok);
	snprintf(v.args, sizeof(v.args), "dm:/shm_region_0");
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -EINVAL);
	v = ivshmem_vdev(&ok);
	v.bar_mem64[2] = false;
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -EINVAL);
	v = ivshmem_vdev(&ok);
	v.bar_size[2] = 0;
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -EINVAL);
	v = ivshmem_vdev(&ok);
	v.bus = 256;
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -EINVAL);
	assert_int_equal(vmm_hsm_ops.destroy_vdev(&f->vmm, &v), -EINVAL);
	v = ivshmem_vdev(&ok);
	v.dev = 32;
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -EINVAL);
	v = ivshmem_vdev(&ok);
	v.bar_addr[0] = 0x100000000ull;	/* a 32-bit BAR above 4 GiB */
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -EINVAL);
	v = ivshmem_vdev(&ok);
	v.bar_mem64[5] = true;		/* a 64-bit BAR needs the next slot */
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), -EINVAL);
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, NULL), -EINVAL);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_CREATE_VDEV), 0);

	/* Another vendor's device is translated as it is, with no ivshmem rules. */
	memset(&v, 0, sizeof(v));
	v.vendor = 0x8086;
	v.device = 0x1234;
	v.dev = 4;
	v.bar_addr[0] = 0xe0000000;
	v.bar_size[0] = 0x2000;
	snprintf(v.args, sizeof(v.args), "whatever");
	assert_int_equal(vmm_hsm_ops.create_vdev(&f->vmm, &v), 0);
	const struct acrn_vdev *d = FAKE_ARG(fake_hsm_call(ACRN_IOCTL_CREATE_VDEV, 1),
					     struct acrn_vdev);
	assert_int_equal(d->slot, 4 << 3);
	assert_int_equal(d->io_addr[0], 0xe0000000);
	assert_int_equal(d->io_size[0], 0x2000);
	assert_int_equal(d->io_size[1], 0);
	assert_string_equal((const char *)d->args, "whatever");
}

/* ---- MSI, ioeventfd, irqfd ---- */

static void test_send_msi(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(vmm_hsm_ops.send_msi(&f->vmm, 0xfee01000, 0x4041), 0);
	const struct acrn_msi_entry *m = FAKE_ARG(fake_hsm_call(ACRN_IOCTL_INJECT_MSI, 1),
						  struct acrn_msi_entry);
	assert_int_equal(m->msi_addr, 0xfee01000);
	assert_int_equal(m->msi_data, 0x4041);
	fake_hsm_fail(ACRN_IOCTL_INJECT_MSI, 2, EINVAL);
	assert_int_equal(vmm_hsm_ops.send_msi(&f->vmm, 0xfee00000, 0x30), -EINVAL);
}

static void test_ioeventfd(void **state)
{
	struct fixture *f = *state;
	struct vmm_ioeventfd ev = { .fd = 42, .addr = 0xdf00000c, .len = 4, .datamatch = true,
				    .data = 0x00010003 };
	assert_int_equal(vmm_hsm_ops.ioeventfd_add(&f->vmm, &ev), 0);
	const struct acrn_ioeventfd *a = FAKE_ARG(fake_hsm_call(ACRN_IOCTL_IOEVENTFD, 1),
						  struct acrn_ioeventfd);
	assert_int_equal(a->fd, 42);
	assert_int_equal(a->flags, ACRN_IOEVENTFD_FLAG_DATAMATCH);
	assert_int_equal(a->addr, 0xdf00000c);
	assert_int_equal(a->len, 4);
	assert_int_equal(a->reserved, 0);
	assert_int_equal(a->data, 0x00010003);

	assert_int_equal(vmm_hsm_ops.ioeventfd_del(&f->vmm, &ev), 0);
	a = FAKE_ARG(fake_hsm_call(ACRN_IOCTL_IOEVENTFD, 2), struct acrn_ioeventfd);
	assert_int_equal(a->flags, ACRN_IOEVENTFD_FLAG_DATAMATCH | ACRN_IOEVENTFD_FLAG_DEASSIGN);
	assert_int_equal(a->fd, 42);
	assert_int_equal(a->addr, 0xdf00000c);

	/* Without datamatch: any write signals, and no data is passed. */
	ev = (struct vmm_ioeventfd){ .fd = 7, .addr = 0xdf000010, .len = 8, .data = 99 };
	assert_int_equal(vmm_hsm_ops.ioeventfd_add(&f->vmm, &ev), 0);
	a = FAKE_ARG(fake_hsm_call(ACRN_IOCTL_IOEVENTFD, 3), struct acrn_ioeventfd);
	assert_int_equal(a->flags, 0);
	assert_int_equal(a->len, 8);
	assert_int_equal(a->data, 0);
	assert_int_equal(vmm_hsm_ops.ioeventfd_del(&f->vmm, &ev), 0);
	a = FAKE_ARG(fake_hsm_call(ACRN_IOCTL_IOEVENTFD, 4), struct acrn_ioeventfd);
	assert_int_equal(a->flags, ACRN_IOEVENTFD_FLAG_DEASSIGN);

	ev.len = 3;
	assert_int_equal(vmm_hsm_ops.ioeventfd_add(&f->vmm, &ev), -EINVAL);
	ev.len = 4;
	ev.fd = -1;
	assert_int_equal(vmm_hsm_ops.ioeventfd_add(&f->vmm, &ev), -EINVAL);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_IOEVENTFD), 4);

	ev.fd = 7;
	fake_hsm_fail(ACRN_IOCTL_IOEVENTFD, 5, EEXIST);
	assert_int_equal(vmm_hsm_ops.ioeventfd_add(&f->vmm, &ev), -EEXIST);
}

static void assert_irqfd(unsigned nth, int fd, bool deassign, uint64_t addr, uint32_t data)
{
	const struct fake_call *c = fake_hsm_call(ACRN_IOCTL_IRQFD, nth);
	assert_non_null(c);
	const struct acrn_irqfd *a = FAKE_ARG(c, struct acrn_irqfd);
	assert_int_equal(a->fd, fd);
	assert_int_equal(a->flags, deassign ? ACRN_IRQFD_FLAG_DEASSIGN : 0);
	assert_int_equal(a->msi.msi_addr, addr);
	assert_int_equal(a->msi.msi_data, data);
}

static void test_irqfd_table(void **state)
{
	struct fixture *f = *state;
	int h0 = vmm_hsm_ops.irqfd_add(&f->vmm, 10, 0xfee00000, 0x31);
	int h1 = vmm_hsm_ops.irqfd_add(&f->vmm, 11, 0xfee01000, 0x32);
	assert_true(h0 >= 0 && h1 >= 0 && h0 != h1);
	assert_irqfd(1, 10, false, 0xfee00000, 0x31);
	assert_irqfd(2, 11, false, 0xfee01000, 0x32);

	/* Update: deassign the old message, assign the new one. */
	assert_int_equal(vmm_hsm_ops.irqfd_update(&f->vmm, h0, 0xfee02000, 0x41), 0);
	assert_irqfd(3, 10, true, 0xfee00000, 0x31);
	assert_irqfd(4, 10, false, 0xfee02000, 0x41);
	/* The same message again: nothing to do. */
	assert_int_equal(vmm_hsm_ops.irqfd_update(&f->vmm, h0, 0xfee02000, 0x41), 0);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_IRQFD), 4);

	/* A failed assign puts the old binding back. */
	fake_hsm_fail(ACRN_IOCTL_IRQFD, 6, EINVAL);
	assert_int_equal(vmm_hsm_ops.irqfd_update(&f->vmm, h1, 0xfee03000, 0x51), -EINVAL);
	assert_irqfd(5, 11, true, 0xfee01000, 0x32);
	assert_irqfd(6, 11, false, 0xfee03000, 0x51);
	assert_irqfd(7, 11, false, 0xfee01000, 0x32);
	/* The handle still means the old message. */
	assert_int_equal(vmm_hsm_ops.irqfd_del(&f->vmm, h1), 0);
	assert_irqfd(8, 11, true, 0xfee01000, 0x32);
	assert_int_equal(vmm_hsm_ops.irqfd_del(&f->vmm, h1), -EINVAL);
	assert_int_equal(vmm_hsm_ops.irqfd_update(&f->vmm, h1, 0, 0), -EINVAL);
	assert_int_equal(vmm_hsm_ops.irqfd_del(&f->vmm, -1), -EINVAL);
	assert_int_equal(vmm_hsm_ops.irqfd_del(&f->vmm, HSM_MAX_IRQFDS), -EINVAL);
	assert_int_equal(vmm_hsm_ops.irqfd_add(&f->vmm, -1, 0xfee00000, 0x31), -EBADF);

	/* A failed assign uses no handle. */
	fake_hsm_fail(ACRN_IOCTL_IRQFD, 9, EBUSY);
	assert_int_equal(vmm_hsm_ops.irqfd_add(&f->vmm, 10, 0xfee00000, 0x31), -EBUSY);

	/* The table has room for HSM_MAX_IRQFDS bindings; h0 is still one of them. */
	int handles[HSM_MAX_IRQFDS];
	for (int i = 0; i < HSM_MAX_IRQFDS - 1; i++) {
		handles[i] = vmm_hsm_ops.irqfd_add(&f->vmm, 100 + i, 0xfee00000, 0x20 + i);
		assert_true(handles[i] >= 0);
	}
	assert_int_equal(vmm_hsm_ops.irqfd_add(&f->vmm, 999, 0xfee00000, 0x99), -ENOSPC);
	assert_int_equal(vmm_hsm_ops.irqfd_del(&f->vmm, handles[5]), 0);
	assert_int_equal(vmm_hsm_ops.irqfd_add(&f->vmm, 999, 0xfee00000, 0x99), handles[5]);

	/* A failing deassign still frees the handle (the HSM only fails for a dead fd or VM). */
	fake_hsm_fail(ACRN_IOCTL_IRQFD, FAKE_FAIL_ALWAYS, EINVAL);
	assert_int_equal(vmm_hsm_ops.irqfd_del(&f->vmm, h0), -EINVAL);
	assert_int_equal(vmm_hsm_ops.irqfd_del(&f->vmm, h0), -EINVAL);
}

static void test_no_vm(void **state)
{
	(void)state;
	struct vmm vmm = { .ops = &vmm_hsm_ops };
	struct vmm_vdev v;
	memset(&v, 0, sizeof(v));
	struct vmm_ioeventfd ev = { .fd = 1, .len = 4 };
	assert_int_equal(vmm_hsm_ops.create_vdev(&vmm, &v), -ENODEV);
	assert_int_equal(vmm_hsm_ops.destroy_vdev(&vmm, &v), -ENODEV);
	assert_int_equal(vmm_hsm_ops.ioeventfd_add(&vmm, &ev), -ENODEV);
	assert_int_equal(vmm_hsm_ops.ioeventfd_del(&vmm, &ev), -ENODEV);
	assert_int_equal(vmm_hsm_ops.irqfd_update(&vmm, 0, 0, 0), -ENODEV);
	assert_int_equal(vmm_hsm_ops.irqfd_del(&vmm, 0), -ENODEV);
	assert_int_equal(vmm_hsm_ops.unmap_ram(&vmm, 0, 4096, NULL), -ENODEV);
	assert_string_equal(vmm_hsm_ops.name, "hsm");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hv_land_ivshmem_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hv_land_refused_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hv_land_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioeventfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irqfd_table, setup, teardown),
		cmocka_unit_test(test_no_vm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
