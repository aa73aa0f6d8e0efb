/* Region name rules and ACRN's size-in-MB argument. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ivshmem_region.h"

static void test_names_accepted(void **state)
{
	(void)state;
	const char *good[] = { "a", "shm_region_0", "VM-1.data", "0", "a.", "x-_.y",
			       "123456789012345678901234567" /* 27 */ };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ivshmem_error err = { "" };
		assert_int_equal(ivshmem_name_check(good[i], &err), 0);
	}
}

static void test_names_refused(void **state)
{
	(void)state;
	struct {
		const char *name;
		int ret;
		const char *why;	/* a word the message must contain */
	} bad[] = {
		{ "", -ENODATA, "empty" },
		{ "1234567890123456789012345678", -ENAMETOOLONG, "longer than 27" },
		{ ".", -EINVAL, "must not start with '.'" },
		{ "..", -EINVAL, "must not start with '.'" },
		{ ".hidden", -EINVAL, "must not start with '.'" },
		{ "a/b", -EINVAL, "character 2" },
		{ "../etc", -EINVAL, "must not start with '.'" },
		{ "a b", -EINVAL, "character 2" },
		{ "a\\b", -EINVAL, "character 2" },
		{ "name\n", -EINVAL, "character 5" },
		{ "caf\xc3\xa9", -EINVAL, "character 4" },
		{ "dm:/x", -EINVAL, "character 3" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ivshmem_error err = { "" };
		assert_int_equal(ivshmem_name_check(bad[i].name, &err), bad[i].ret);
		if (!strstr(err.msg, bad[i].why))
			fail_msg("name '%s': message '%s' lacks '%s'", bad[i].name, err.msg,
				 bad[i].why);
	}
	assert_int_equal(ivshmem_name_check(NULL, NULL), -ENODATA);
}

static void test_sizes_accepted(void **state)
{
	(void)state;
	uint64_t bytes = 0;
	assert_int_equal(ivshmem_parse_size_mb("2", 0, &bytes, NULL), 0);
	assert_int_equal(bytes, 2u << 20);
	assert_int_equal(ivshmem_parse_size_mb("512", 0, &bytes, NULL), 0);
	assert_int_equal(bytes, 512u << 20);
	assert_int_equal(ivshmem_parse_size_mb("064", 0, &bytes, NULL), 0);
	assert_int_equal(bytes, 64u << 20);
	/* A caller allowed to go higher. */
	assert_int_equal(ivshmem_parse_size_mb("4096", 8192, &bytes, NULL), 0);
	assert_int_equal(bytes, 4096ull << 20);
	assert_int_equal(ivshmem_parse_size_mb("2097152", 4194304, &bytes, NULL), 0);
	assert_int_equal(bytes, 2097152ull << 20);
}

static void test_sizes_refused(void **state)
{
	(void)state;
	struct {
		const char *text;
		int ret;
		const char *why;
	} bad[] = {
		{ "4098", -ERANGE, "above the maximum" },	/* ACRN wraps this to 2 MB */
		{ "1024", -ERANGE, "above the maximum 512" },
		{ "2x", -EINVAL, "not a decimal" },
		{ "-2", -EINVAL, "not a decimal" },
		{ "+2", -EINVAL, "not a decimal" },
		{ "0x2", -EINVAL, "not a decimal" },
		{ "", -EINVAL, "empty" },
		{ " 2", -EINVAL, "not a decimal" },
		{ "2 ", -EINVAL, "not a decimal" },
		{ "0", -ERANGE, "below the minimum" },
		{ "1", -ERANGE, "below the minimum" },
		{ "3", -ERANGE, "power of two" },
		{ "384", -ERANGE, "power of two" },
		{ "18446744073709551616", -ERANGE, "above the maximum" },	/* 2^64 */
		{ "18446744073709551618", -ERANGE, "above the maximum" },	/* wraps to 2 */
		{ "99999999999999999999999999999999", -ERANGE, "above the maximum" },
		{ "2M", -EINVAL, "not a decimal" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ivshmem_error err = { "" };
		uint64_t bytes = 12345;
		int ret = ivshmem_parse_size_mb(bad[i].text, 0, &bytes, &err);
		if (ret != bad[i].ret || !strstr(err.msg, bad[i].why) || bytes != 12345)
			fail_msg("size '%s': ret %d (want %d), message '%s' (want '%s')", bad[i].text,
				 ret, bad[i].ret, err.msg, bad[i].why);
	}
	uint64_t bytes;
	assert_int_equal(ivshmem_parse_size_mb(NULL, 0, &bytes, NULL), -EINVAL);
	/* The largest possible maximum still cannot overflow. */
	assert_int_equal(ivshmem_parse_size_mb("8589934592", UINT32_MAX, &bytes, NULL), -ERANGE);
	assert_int_equal(ivshmem_parse_size_mb("2147483648", UINT32_MAX, &bytes, NULL), 0);
	assert_int_equal(bytes, 2147483648ull << 20);
}

static void test_region_ids(void **state)
{
	(void)state;
	const struct {
		const char *text;
		int ret;
		unsigned id;
	} cases[] = {
		{ "0", 0, 0 }, { "4097", 0, 4097 }, { "65535", 0, 65535 }, { "0x1001", 0, 0x1001 },
		{ "0XfFfF", 0, 0xFFFF }, { "000000000001", 0, 1 }, { "0x0000000010", 0, 0x10 },
		{ "65536", -ERANGE, 0 }, { "0x10000", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 }, { "0xffffffffffffffffffff1", -ERANGE, 0 },
		{ "", -EINVAL, 0 }, { "0x", -EINVAL, 0 }, { "12a", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 }, { " 1", -EINVAL, 0 }, { "1 ", -EINVAL, 0 }, { "0x1g", -EINVAL, 0 },
		{ "0b1", -EINVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ivshmem_error err = { "" };
		uint16_t id = 0xabcd;
		int ret = ivshmem_parse_region_id(cases[i].text, &id, &err);
		if (ret != cases[i].ret || (ret == 0 && id != cases[i].id) ||
		    (ret < 0 && (id != 0xabcd || !strstr(err.msg, "region id"))))
			fail_msg("'%s': ret %d id %u ('%s')", cases[i].text, ret, id, err.msg);
	}
	uint16_t id;
	assert_int_equal(ivshmem_parse_region_id(NULL, &id, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_accepted),
		cmocka_unit_test(test_names_refused),
		cmocka_unit_test(test_sizes_accepted),
		cmocka_unit_test(test_sizes_refused),
		cmocka_unit_test(test_region_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
