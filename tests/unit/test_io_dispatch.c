/* The range registry: overlaps refused, lookups at range edges, unclaimed accesses, re-entrancy. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "io_dispatch.h"

struct recorder {
	uint64_t offset;
	unsigned size;
	bool is_write;
	uint64_t written;
	uint64_t reply;
	int calls;
};

static int record(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct recorder *r = opaque;
	r->offset = offset;
	r->size = size;
	r->is_write = is_write;
	r->calls++;
	if (is_write)
		r->written = *value;
	else
		*value = r->reply;
	return 0;
}

static int fails(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	(void)opaque; (void)offset; (void)size; (void)is_write;
	*value = 0x1234;
	return -EIO;
}

static struct io_range mmio(uint64_t base, uint64_t len, struct recorder *r)
{
	return (struct io_range){ .name = "t", .space = IO_SPACE_MMIO, .base = base, .len = len,
				  .handler = record, .opaque = r };
}

static void test_overlaps_refused(void **state)
{
	(void)state;
	struct io_registry *reg = io_registry_new();
	struct recorder r = { 0 };
	struct io_range a = mmio(0x1000, 0x1000, &r);
	assert_int_equal(io_register(reg, &a), 0);
	struct io_range cases[] = {
		mmio(0x1000, 0x1000, &r), /* identical */
		mmio(0x0fff, 2, &r),	  /* straddles the start */
		mmio(0x1fff, 1, &r),	  /* last byte */
		mmio(0x1800, 0x10, &r),	  /* inside */
		mmio(0x0, 0x10000, &r),	  /* encloses */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(io_register(reg, &cases[i]), -EEXIST);
	/* Adjacent ranges on both sides are fine. */
	struct io_range below = mmio(0x0, 0x1000, &r), above = mmio(0x2000, 0x1000, &r);
	assert_int_equal(io_register(reg, &below), 0);
	assert_int_equal(io_register(reg, &above), 0);
	/* The same addresses in the other space do not collide. */
	struct io_range pio = a;
	pio.space = IO_SPACE_PIO;
	assert_int_equal(io_register(reg, &pio), 0);
	io_registry_free(reg);
}

static void test_bad_ranges(void **state)
{
	(void)state;
	struct io_registry *reg = io_registry_new();
	struct recorder r = { 0 };
	struct io_range zero = mmio(0x1000, 0, &r), wrap = mmio(UINT64_MAX - 10, 100, &r);
	assert_int_equal(io_register(reg, &zero), -EINVAL);
	assert_int_equal(io_register(reg, &wrap), -EINVAL);
	struct io_range top = mmio(UINT64_MAX - 15, 16, &r);
	assert_int_equal(io_register(reg, &top), 0);
	assert_false(io_range_free(reg, IO_SPACE_MMIO, UINT64_MAX, 1));
	io_registry_free(reg);
}

static void test_dispatch_offsets_and_edges(void **state)
{
	(void)state;
	struct io_registry *reg = io_registry_new();
	struct recorder a = { .reply = 0xaabbccdd }, b = { .reply = 0x11 };
	struct io_range ra = mmio(0x1000, 0x100, &a), rb = mmio(0x1100, 0x100, &b);
	assert_int_equal(io_register(reg, &ra), 0);
	assert_int_equal(io_register(reg, &rb), 0);

	struct io_request req = { .space = IO_SPACE_MMIO, .addr = 0x10ff, .size = 1 };
	assert_int_equal(io_dispatch(reg, &req), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.offset, 0xff);
	assert_int_equal(req.value, 0xdd); /* truncated to the access size */

	req = (struct io_request){ .space = IO_SPACE_MMIO, .addr = 0x1100, .size = 4,
				   .is_write = true, .value = 0x1122334455ULL };
	assert_int_equal(io_dispatch(reg, &req), 0);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.offset, 0);
	assert_int_equal(b.written, 0x22334455); /* only the access's bytes reach the device */
	io_registry_free(reg);
}

static void test_unclaimed_reads_all_ones(void **state)
{
	(void)state;
	struct io_registry *reg = io_registry_new();
	unsigned sizes[] = { 1, 2, 4, 8 };
	uint64_t expect[] = { 0xff, 0xffff, 0xffffffff, UINT64_MAX };
	for (size_t i = 0; i < 4; i++) {
		struct io_request req = { .space = IO_SPACE_PIO, .addr = 0x80, .size = sizes[i] };
		assert_int_equal(io_dispatch(reg, &req), -ENOENT);
		assert_int_equal(req.value, expect[i]);
	}
	/* A reserved range (RAM) has no handler: trapped accesses there are unclaimed. */
	struct io_range ram = { .name = "ram", .space = IO_SPACE_MMIO, .base = 0, .len = 0x1000 };
	assert_int_equal(io_register(reg, &ram), 0);
	struct io_request req = { .space = IO_SPACE_MMIO, .addr = 0x10, .size = 4 };
	assert_int_equal(io_dispatch(reg, &req), -ENOENT);
	assert_int_equal(req.value, 0xffffffff);
	io_registry_free(reg);
}

static void test_failing_handler_reads_all_ones(void **state)
{
	(void)state;
	struct io_registry *reg = io_registry_new();
	struct io_range r = { .name = "f", .space = IO_SPACE_PIO, .base = 0x60, .len = 1,
			      .handler = fails };
	assert_int_equal(io_register(reg, &r), 0);
	struct io_request req = { .space = IO_SPACE_PIO, .addr = 0x60, .size = 2 };
	assert_int_equal(io_dispatch(reg, &req), 0);
	assert_int_equal(req.value, 0xffff);
	io_registry_free(reg);
}

static void test_unregister(void **state)
{
	(void)state;
	struct io_registry *reg = io_registry_new();
	struct recorder r = { 0 };
	struct io_range a = mmio(0x5000, 0x1000, &r);
	assert_int_equal(io_register(reg, &a), 0);
	assert_int_equal(io_unregister(reg, IO_SPACE_MMIO, 0x5001), -ENOENT);
	assert_int_equal(io_unregister(reg, IO_SPACE_PIO, 0x5000), -ENOENT);
	assert_false(io_range_free(reg, IO_SPACE_MMIO, 0x5800, 1));
	assert_int_equal(io_unregister(reg, IO_SPACE_MMIO, 0x5000), 0);
	assert_true(io_range_free(reg, IO_SPACE_MMIO, 0x5800, 1));
	struct io_request req = { .space = IO_SPACE_MMIO, .addr = 0x5000, .size = 4 };
	assert_int_equal(io_dispatch(reg, &req), -ENOENT);
	assert_int_equal(r.calls, 0);
	io_registry_free(reg);
}

/* A handler that moves itself, as a BAR write does: it must not deadlock. */
struct mover {
	struct io_registry *reg;
	uint64_t base;
};

static int move_self(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	(void)offset; (void)size; (void)is_write;
	struct mover *m = opaque;
	assert_int_equal(io_unregister(m->reg, IO_SPACE_MMIO, m->base), 0);
	m->base = *value;
	struct io_range moved = { .name = "mover", .space = IO_SPACE_MMIO, .base = m->base,
				  .len = 0x100, .handler = move_self, .opaque = m };
	return io_register(m->reg, &moved);
}

static void test_handler_may_move_itself(void **state)
{
	(void)state;
	struct mover m = { .reg = io_registry_new(), .base = 0x9000 };
	struct io_range r = { .name = "mover", .space = IO_SPACE_MMIO, .base = 0x9000,
			      .len = 0x100, .handler = move_self, .opaque = &m };
	assert_int_equal(io_register(m.reg, &r), 0);
	struct io_request req = { .space = IO_SPACE_MMIO, .addr = 0x9000, .size = 8,
				  .is_write = true, .value = 0xa000 };
	assert_int_equal(io_dispatch(m.reg, &req), 0);
	assert_true(io_range_free(m.reg, IO_SPACE_MMIO, 0x9000, 0x100));
	assert_false(io_range_free(m.reg, IO_SPACE_MMIO, 0xa000, 0x100));
	io_registry_free(m.reg);
}

static void test_many_ranges_sorted(void **state)
{
	(void)state;
	struct io_registry *reg = io_registry_new();
	struct recorder r[64] = { 0 };
	/* Registered out of order; each must still be found at its own address. */
	for (int i = 0; i < 64; i++) {
		int slot = (i * 37) % 64;
		struct io_range range = mmio(0x100000 + (uint64_t)slot * 0x1000, 0x1000, &r[slot]);
		assert_int_equal(io_register(reg, &range), 0);
	}
	for (int slot = 0; slot < 64; slot++) {
		struct io_request req = { .space = IO_SPACE_MMIO,
					  .addr = 0x100000 + (uint64_t)slot * 0x1000 + 0x10, .size = 4 };
		assert_int_equal(io_dispatch(reg, &req), 0);
		assert_int_equal(r[slot].calls, 1);
		assert_int_equal(r[slot].offset, 0x10);
	}
	io_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlaps_refused),
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_dispatch_offsets_and_edges),
		cmocka_unit_test(test_unclaimed_reads_all_ones),
		cmocka_unit_test(test_failing_handler_reads_all_ones),
		cmocka_unit_test(test_unregister),
		cmocka_unit_test(test_handler_may_move_itself),
		cmocka_unit_test(test_many_ranges_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
