/* The wire codec over real socketpairs: good messages and every malformed one. */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivshmem_proto.h"
#include "test_fd_util.h"

static int sv[2];		/* [0] "server" end, [1] "client" end */


static int setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

static int teardown(void **state)
{
	(void)state;
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Raw sendmsg with any number of fds and any ancillary payload, as a hostile server would. */
static void send_raw(int sock, const void *data, size_t len, const int *fds, unsigned nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * 64)];
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		memset(ctl, 0, sizeof(ctl));
		msg.msg_control = ctl;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(sock, &msg, 0), (ssize_t)len);
}

static void test_roundtrip_values_and_fds(void **state)
{
	(void)state;
	const int64_t values[] = { 0, 1, -1, 65535, 65536, INT64_MAX, INT64_MIN, -2 };
	int efd = eventfd(0, EFD_CLOEXEC);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		int64_t v = 42;
		int fd = -5;
		assert_int_equal(ivshmem_proto_send(sv[0], values[i], -1, NULL), 0);
		assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, NULL), 0);
		assert_int_equal(v, values[i]);
		assert_int_equal(fd, -1);

		assert_int_equal(ivshmem_proto_send(sv[0], values[i], efd, NULL), 0);
		assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, NULL), 0);
		assert_int_equal(v, values[i]);
		assert_true(fd >= 0 && fd != efd);
		assert_true(same_file(fd, efd));
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}
	close(efd);
}

/* On the wire: exactly 8 bytes, little endian, as QEMU's server writes them. */
static void test_wire_format_is_le64(void **state)
{
	(void)state;
	uint8_t buf[16];
	assert_int_equal(ivshmem_proto_send(sv[0], 0x0102030405060708LL, -1, NULL), 0);
	assert_int_equal(ivshmem_proto_send(sv[0], -1, -1, NULL), 0);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 16);
	const uint8_t want[16] = { 8, 7, 6, 5, 4, 3, 2, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				   0xff, 0xff };
	assert_memory_equal(buf, want, 16);

	/* And what arrives in pieces is reassembled. */
	uint64_t le = htole64(77);
	assert_int_equal(write(sv[0], &le, 3), 3);
	assert_int_equal(write(sv[0], (char *)&le + 3, 5), 5);
	int64_t v;
	int fd;
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, NULL), 0);
	assert_int_equal(v, 77);
}

static void test_clean_eof(void **state)
{
	(void)state;
	struct ivshmem_error err = { "" };
	int64_t v;
	int fd = 7;
	close(sv[0]);
	sv[0] = -1;
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, &err), IVSHMEM_PROTO_EOF);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err.msg, "closed"));
}

static void test_truncated_value(void **state)
{
	(void)state;
	struct ivshmem_error err = { "" };
	int64_t v;
	int fd;
	unsigned fds = count_fds();
	int efd = eventfd(0, EFD_CLOEXEC);
	uint8_t half[4] = { 1, 0, 0, 0 };
	/* Half a value with an fd, then the server goes away: the fd must not leak. */
	send_raw(sv[0], half, sizeof(half), &efd, 1);
	close(efd);
	close(sv[0]);
	sv[0] = -1;
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "4 of 8 bytes"));
	assert_int_equal(fd, -1);
	assert_int_equal(count_fds(), fds - 1);	/* sv[0] was closed */
}

static void test_partial_value_times_out_nonblocking(void **state)
{
	(void)state;
	struct ivshmem_error err = { "" };
	int64_t v;
	int fd;
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, &err), -EAGAIN);
	uint8_t part[5] = { 0 };
	assert_int_equal(write(sv[0], part, sizeof(part)), 5);
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.msg, "5 of 8 bytes"));
}

static void test_two_fds_refused_and_closed(void **state)
{
	(void)state;
	struct ivshmem_error err = { "" };
	int64_t v;
	int fd;
	unsigned fds = count_fds();
	int efds[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
	uint64_t le = htole64(3);
	send_raw(sv[0], &le, 8, efds, 2);
	close(efds[0]);
	close(efds[1]);
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "2 fds"));
	assert_int_equal(fd, -1);
	assert_int_equal(count_fds(), fds);

	/* The stream stays in step: the next message is read normally. */
	assert_int_equal(ivshmem_proto_send(sv[0], 9, -1, NULL), 0);
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, &err), 0);
	assert_int_equal(v, 9);
}

static void test_too_many_fds_truncated_and_closed(void **state)
{
	(void)state;
	struct ivshmem_error err = { "" };
	int64_t v;
	int fd;
	unsigned fds = count_fds();
	int efds[40];
	for (int i = 0; i < 40; i++)
		efds[i] = eventfd(0, EFD_CLOEXEC);
	uint64_t le = htole64(3);
	send_raw(sv[0], &le, 8, efds, 40);
	for (int i = 0; i < 40; i++)
		close(efds[i]);
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_int_equal(count_fds(), fds);
}

static void test_fd_on_second_half_counts_too(void **state)
{
	(void)state;
	struct ivshmem_error err = { "" };
	int64_t v;
	int fd;
	unsigned fds = count_fds();
	int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
	uint8_t bytes[8] = { 0 };
	send_raw(sv[0], bytes, 4, &a, 1);
	send_raw(sv[0], bytes + 4, 4, &b, 1);
	close(a);
	close(b);
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "2 fds"));
	assert_int_equal(count_fds(), fds);
}

static void test_credentials_refused(void **state)
{
	(void)state;
	struct ivshmem_error err = { "" };
	int64_t v;
	int fd;
	int on = 1;
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
	assert_int_equal(ivshmem_proto_send(sv[0], 1, -1, NULL), 0);
	assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "unexpected ancillary data"));
}

static void test_send_full_buffer_and_closed_peer(void **state)
{
	(void)state;
	struct ivshmem_error err = { "" };
	int sndbuf = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	int ret = 0;
	for (int i = 0; i < 100000 && ret == 0; i++)
		ret = ivshmem_proto_send(sv[0], i, -1, &err);
	assert_int_equal(ret, -EAGAIN);
	assert_non_null(strstr(err.msg, "full"));

	/* No SIGPIPE (it would kill the test): a plain error. */
	close(sv[1]);
	sv[1] = -1;
	ret = ivshmem_proto_send(sv[0], 1, -1, &err);
	assert_true(ret == -EPIPE || ret == -ECONNRESET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_values_and_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wire_format_is_le64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_value_times_out_nonblocking, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_fds_refused_and_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_fds_truncated_and_closed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd_on_second_half_counts_too, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_full_buffer_and_closed_peer, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
