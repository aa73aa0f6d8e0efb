/* The identity hello: encoding, every malformed field, and sending it over a socket. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivshmem_proto.h"

static void test_roundtrip(void **state)
{
	(void)state;
	uint8_t buf[IVSHMEM_HELLO_LEN];
	char id[IVSHMEM_IDENTITY_MAX + 1];
	const char *names[] = { "vm1", "d2b5d1a8-5f2e-4a8e-9c1e-0123456789ab", "a",
				"123456789012345678901234567890123456789012345678901234567890123" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(ivshmem_encode_hello(names[i], buf, NULL), 0);
		assert_memory_equal(buf, "ACRNIVSH\x01\0\0\0\0\0\0\0", 16);
		assert_int_equal(ivshmem_decode_hello(buf, id, NULL), 0);
		assert_string_equal(id, names[i]);
	}
}

static void expect_bad(const uint8_t *buf, const char *why)
{
	char id[IVSHMEM_IDENTITY_MAX + 1];
	struct ivshmem_error err = { "" };
	int ret = ivshmem_decode_hello(buf, id, &err);
	if (ret != -EPROTO || !strstr(err.msg, why))
		fail_msg("decode: %d '%s', expected -EPROTO '%s'", ret, err.msg, why);
}

static void test_malformed(void **state)
{
	(void)state;
	uint8_t good[IVSHMEM_HELLO_LEN], b[IVSHMEM_HELLO_LEN];
	assert_int_equal(ivshmem_encode_hello("vm1", good, NULL), 0);

	memcpy(b, good, sizeof(b));
	b[0] = 'X';
	expect_bad(b, "bad magic");
	memcpy(b, good, sizeof(b));
	b[8] = 2;
	expect_bad(b, "unsupported version 2");
	memcpy(b, good, sizeof(b));
	b[12] = 1;
	expect_bad(b, "unknown flags");
	memcpy(b, good, sizeof(b));
	memset(b + 16, 'a', 64);
	expect_bad(b, "not NUL-terminated");
	memcpy(b, good, sizeof(b));
	b[40] = 'x';
	expect_bad(b, "padding is not zero");
	memcpy(b, good, sizeof(b));
	b[17] = '/';
	expect_bad(b, "character 2");
	memcpy(b, good, sizeof(b));
	memset(b + 16, 0, 64);
	expect_bad(b, "empty");
	/* An all-zero buffer (a protocol-0 client's silence never looks like this, but still). */
	memset(b, 0, sizeof(b));
	expect_bad(b, "bad magic");
}

static void test_encode_refuses_bad_identities(void **state)
{
	(void)state;
	uint8_t buf[IVSHMEM_HELLO_LEN];
	struct ivshmem_error err = { "" };
	assert_int_equal(ivshmem_encode_hello("", buf, &err), -EINVAL);
	assert_int_equal(ivshmem_encode_hello(NULL, buf, &err), -EINVAL);
	assert_int_equal(ivshmem_encode_hello("a b", buf, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "character 2"));
	assert_int_equal(
		ivshmem_encode_hello("1234567890123456789012345678901234567890123456789012345678901234",
				     buf, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "longer than 63"));
}

static void test_send_hello(void **state)
{
	(void)state;
	int sv[2];
	uint8_t buf[IVSHMEM_HELLO_LEN + 1];
	char id[IVSHMEM_IDENTITY_MAX + 1];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(ivshmem_proto_send_hello(sv[0], "vm-7", NULL), 0);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), IVSHMEM_HELLO_LEN);
	assert_int_equal(ivshmem_decode_hello(buf, id, NULL), 0);
	assert_string_equal(id, "vm-7");
	struct ivshmem_error err = { "" };
	assert_int_equal(ivshmem_proto_send_hello(sv[0], "bad/id", &err), -EINVAL);
	close(sv[1]);
	int ret = ivshmem_proto_send_hello(sv[0], "vm-7", &err);
	assert_true(ret == -EPIPE || ret == -ECONNRESET);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_encode_refuses_bad_identities),
		cmocka_unit_test(test_send_hello),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
