/*
 * The client state machine fed message by message (no sockets), the server-side encoder, and
 * one end-to-end pass of an encoded welcome through a socketpair into the client.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivshmem_proto.h"
#include "test_fd_util.h"

#define MAX_EVENTS 64

struct recorder {
	unsigned n;
	struct ivshmem_client_event ev[MAX_EVENTS];
	struct ivshmem_client *c;
	int fd_valid_at_removal;	/* peer's vector-0 fd was still open during PEER_REMOVED */
};

static void record(void *opaque, const struct ivshmem_client_event *ev)
{
	struct recorder *r = opaque;
	if (ev->type == IVSHMEM_EV_PEER_REMOVED) {
		int fd = ivshmem_client_peer_fd(r->c, ev->peer, 0);
		r->fd_valid_at_removal = fd >= 0 && fcntl(fd, F_GETFD) >= 0;
	}
	if (r->n < MAX_EVENTS)
		r->ev[r->n++] = *ev;
}


static int efd(void)
{
	return eventfd(0, EFD_CLOEXEC);
}

static int shmfd(void)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	if (ftruncate(fd, 4096) < 0)
		return -1;
	return fd;
}

static void feed_ok(struct ivshmem_client *c, int64_t v, int fd)
{
	struct ivshmem_error err = { "" };
	int ret = ivshmem_client_feed(c, v, fd, &err);
	if (ret != 0)
		fail_msg("feeding %lld: %d %s", (long long)v, ret, err.msg);
}

static void feed_bad(struct ivshmem_client *c, int64_t v, int fd, const char *why)
{
	struct ivshmem_error err = { "" };
	int ret = ivshmem_client_feed(c, v, fd, &err);
	if (ret != -EPROTO || !strstr(err.msg, why))
		fail_msg("feeding %lld: %d '%s', expected -EPROTO '%s'", (long long)v, ret, err.msg,
			 why);
}

static void test_full_setup_and_peer_life(void **state)
{
	(void)state;
	unsigned fds = count_fds();
	struct recorder rec = { 0 };
	struct ivshmem_client *c = ivshmem_client_new(2, record, &rec);
	rec.c = c;
	assert_non_null(c);
	assert_int_equal(ivshmem_client_own_id(c), -1);

	feed_ok(c, 0, -1);
	feed_ok(c, 5, -1);
	assert_int_equal(ivshmem_client_own_id(c), 5);
	feed_ok(c, -1, shmfd());
	assert_true(ivshmem_client_shm_fd(c) >= 0);
	/* A peer already there: two vectors. */
	feed_ok(c, 3, efd());
	feed_ok(c, 3, efd());
	assert_false(ivshmem_client_ready(c));
	feed_ok(c, 5, efd());
	assert_false(ivshmem_client_ready(c));
	feed_ok(c, 5, efd());
	assert_true(ivshmem_client_ready(c));

	assert_int_equal(ivshmem_client_peer_count(c), 1);
	assert_int_equal(ivshmem_client_peer_vectors(c, 3), 2);
	assert_true(ivshmem_client_peer_fd(c, 3, 1) >= 0);
	assert_int_equal(ivshmem_client_peer_fd(c, 3, 2), -1);
	assert_int_equal(ivshmem_client_peer_fd(c, 4, 0), -1);
	assert_int_equal(ivshmem_client_own_vectors(c), 2);
	assert_true(ivshmem_client_own_fd(c, 0) >= 0);
	assert_int_equal(ivshmem_client_own_fd(c, 2), -1);

	/* Events, in order. */
	const struct {
		enum ivshmem_client_event_type type;
		unsigned peer, vector;
		bool own;
	} want[] = {
		{ IVSHMEM_EV_SHM, 5, 0, false },
		{ IVSHMEM_EV_PEER_ADDED, 3, 0, false },
		{ IVSHMEM_EV_VECTOR_ADDED, 3, 0, false },
		{ IVSHMEM_EV_VECTOR_ADDED, 3, 1, false },
		{ IVSHMEM_EV_VECTOR_ADDED, 5, 0, true },
		{ IVSHMEM_EV_VECTOR_ADDED, 5, 1, true },
		{ IVSHMEM_EV_SETUP_COMPLETE, 5, 0, false },
	};
	assert_int_equal(rec.n, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < rec.n; i++) {
		assert_int_equal(rec.ev[i].type, want[i].type);
		assert_int_equal(rec.ev[i].peer, want[i].peer);
		assert_int_equal(rec.ev[i].vector, want[i].vector);
		assert_int_equal(rec.ev[i].own, want[i].own);
	}
	assert_int_equal(rec.ev[2].fd, ivshmem_client_peer_fd(c, 3, 0));

	/* A new peer joins, then both peers leave; an unknown departure is ignored. */
	rec.n = 0;
	feed_ok(c, 9, efd());
	feed_ok(c, 9, efd());
	assert_int_equal(ivshmem_client_peer_count(c), 2);
	uint16_t ids[4];
	assert_int_equal(ivshmem_client_peer_ids(c, ids, 4), 2);
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[1], 9);
	assert_int_equal(ivshmem_client_peer_ids(c, ids, 1), 2);
	feed_ok(c, 3, -1);
	assert_true(rec.fd_valid_at_removal);
	assert_int_equal(ivshmem_client_peer_count(c), 1);
	assert_int_equal(ivshmem_client_peer_fd(c, 3, 0), -1);
	feed_ok(c, 1234, -1);
	assert_int_equal(rec.n, 4);	/* added, vector, vector, removed */
	assert_int_equal(rec.ev[0].type, IVSHMEM_EV_PEER_ADDED);
	assert_int_equal(rec.ev[3].type, IVSHMEM_EV_PEER_REMOVED);
	assert_int_equal(rec.ev[3].peer, 3);

	/* A peer id reissued later starts from vector 0 again. */
	feed_ok(c, 3, efd());
	assert_int_equal(ivshmem_client_peer_vectors(c, 3), 1);

	/* The caller may take the shared memory fd; the client then no longer closes it. */
	int shm = ivshmem_client_take_shm_fd(c);
	assert_true(shm >= 0);
	assert_int_equal(ivshmem_client_shm_fd(c), -1);
	ivshmem_client_free(c);
	close(shm);
	assert_int_equal(count_fds(), fds);
	ivshmem_client_free(NULL);
}

/* A client set up with one callback reports later events to another, and only to it. */
static void test_callback_handed_over(void **state)
{
	(void)state;
	unsigned fds = count_fds();
	struct recorder setup = { 0 }, later = { 0 };
	struct ivshmem_client *c = ivshmem_client_new(1, record, &setup);
	setup.c = later.c = c;
	feed_ok(c, 0, -1);
	feed_ok(c, 5, -1);
	feed_ok(c, -1, shmfd());
	feed_ok(c, 5, efd());
	assert_true(ivshmem_client_ready(c));
	unsigned during_setup = setup.n;

	ivshmem_client_set_callback(c, record, &later);
	feed_ok(c, 3, efd());
	feed_ok(c, 3, -1);
	assert_int_equal(setup.n, during_setup);
	assert_int_equal(later.n, 3);
	assert_int_equal(later.ev[0].type, IVSHMEM_EV_PEER_ADDED);
	assert_int_equal(later.ev[1].type, IVSHMEM_EV_VECTOR_ADDED);
	assert_int_equal(later.ev[2].type, IVSHMEM_EV_PEER_REMOVED);

	/* None at all: events are dropped, the state still follows. */
	ivshmem_client_set_callback(c, NULL, NULL);
	feed_ok(c, 4, efd());
	assert_int_equal(later.n, 3);
	assert_int_equal(ivshmem_client_peer_vectors(c, 4), 1);
	ivshmem_client_free(c);
	assert_int_equal(count_fds(), fds);
}

static void test_bad_version(void **state)
{
	(void)state;
	unsigned fds = count_fds();
	struct ivshmem_client *c = ivshmem_client_new(1, NULL, NULL);
	feed_bad(c, 1, -1, "unsupported ivshmem protocol version 1");
	assert_true(ivshmem_client_failed(c));
	/* Everything after a fatal error is refused, and fds fed are closed. */
	feed_bad(c, 0, efd(), "already failed: unsupported ivshmem protocol version 1");
	ivshmem_client_free(c);

	c = ivshmem_client_new(1, NULL, NULL);
	feed_bad(c, -1, shmfd(), "unsupported ivshmem protocol version -1");
	ivshmem_client_free(c);
	c = ivshmem_client_new(1, NULL, NULL);
	feed_bad(c, 0, efd(), "version message carried an fd");
	ivshmem_client_free(c);
	assert_int_equal(count_fds(), fds);
}

static void test_bad_own_id(void **state)
{
	(void)state;
	unsigned fds = count_fds();
	const int64_t bad[] = { -1, -2, 65536, INT64_MAX, INT64_MIN };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ivshmem_client *c = ivshmem_client_new(1, NULL, NULL);
		feed_ok(c, 0, -1);
		feed_bad(c, bad[i], -1, "out of range 0..65535");
		assert_true(ivshmem_client_failed(c));
		ivshmem_client_free(c);
	}
	struct ivshmem_client *c = ivshmem_client_new(1, NULL, NULL);
	feed_ok(c, 0, -1);
	feed_bad(c, 4, efd(), "own id message (4) carried an fd");
	ivshmem_client_free(c);
	/* The highest id is fine. */
	c = ivshmem_client_new(1, NULL, NULL);
	feed_ok(c, 0, -1);
	feed_ok(c, 65535, -1);
	assert_int_equal(ivshmem_client_own_id(c), 65535);
	ivshmem_client_free(c);
	assert_int_equal(count_fds(), fds);
}

static void test_shm_message_problems(void **state)
{
	(void)state;
	unsigned fds = count_fds();
	struct ivshmem_client *c = ivshmem_client_new(1, NULL, NULL);
	feed_ok(c, 0, -1);
	feed_ok(c, 1, -1);
	feed_bad(c, -1, -1, "without an fd");
	assert_true(ivshmem_client_failed(c));
	ivshmem_client_free(c);

	c = ivshmem_client_new(1, NULL, NULL);
	feed_ok(c, 0, -1);
	feed_ok(c, 1, -1);
	feed_ok(c, -1, shmfd());
	int first = ivshmem_client_shm_fd(c);
	feed_bad(c, -1, shmfd(), "second shared memory message");
	assert_false(ivshmem_client_failed(c));
	assert_int_equal(ivshmem_client_shm_fd(c), first);
	ivshmem_client_free(c);
	assert_int_equal(count_fds(), fds);
}

static void test_bad_peer_messages_are_rejected_alone(void **state)
{
	(void)state;
	unsigned fds = count_fds();
	struct ivshmem_client *c = ivshmem_client_new(1, NULL, NULL);
	feed_ok(c, 0, -1);
	feed_ok(c, 7, -1);
	/* Peers may be announced before the shared memory, as QEMU allows. */
	feed_ok(c, 2, efd());
	feed_ok(c, -1, shmfd());
	feed_ok(c, 7, efd());
	assert_true(ivshmem_client_ready(c));

	feed_bad(c, 65536, efd(), "peer id 65536 is out of range");
	feed_bad(c, -2, efd(), "peer id -2 is out of range");
	feed_bad(c, INT64_MIN, -1, "out of range");
	feed_bad(c, 7, -1, "our own id 7 as gone");
	assert_false(ivshmem_client_failed(c));
	assert_int_equal(ivshmem_client_peer_count(c), 1);
	feed_ok(c, 2, -1);
	assert_int_equal(ivshmem_client_peer_count(c), 0);
	ivshmem_client_free(c);
	assert_int_equal(count_fds(), fds);
}

/* More fds than our vectors: dropped (closed) and reported, for peers and for ourselves. */
static void test_extra_vectors_dropped(void **state)
{
	(void)state;
	unsigned fds = count_fds();
	struct recorder rec = { 0 };
	struct ivshmem_client *c = ivshmem_client_new(1, record, &rec);
	rec.c = c;
	feed_ok(c, 0, -1);
	feed_ok(c, 1, -1);
	feed_ok(c, -1, shmfd());
	feed_ok(c, 0, efd());
	feed_ok(c, 0, efd());
	feed_ok(c, 1, efd());
	assert_true(ivshmem_client_ready(c));
	feed_ok(c, 1, efd());
	assert_int_equal(ivshmem_client_peer_vectors(c, 0), 1);
	assert_int_equal(ivshmem_client_own_vectors(c), 1);
	assert_int_equal(count_fds(), fds + 3);	/* shm, peer 0 vector 0, own vector 0 */

	unsigned dropped = 0;
	for (unsigned i = 0; i < rec.n; i++) {
		if (rec.ev[i].type != IVSHMEM_EV_VECTOR_DROPPED)
			continue;
		assert_int_equal(rec.ev[i].vector, 1);
		dropped++;
	}
	assert_int_equal(dropped, 2);
	ivshmem_client_free(c);
	assert_int_equal(count_fds(), fds);
}

static void test_nvectors_bounds(void **state)
{
	(void)state;
	assert_null(ivshmem_client_new(0, NULL, NULL));
	assert_null(ivshmem_client_new(IVSHMEM_MAX_VECTORS + 1, NULL, NULL));
	struct ivshmem_client *c = ivshmem_client_new(IVSHMEM_MAX_VECTORS, NULL, NULL);
	assert_non_null(c);
	assert_int_equal(ivshmem_client_nvectors(c), IVSHMEM_MAX_VECTORS);
	ivshmem_client_free(c);
}

static void test_encoder_order(void **state)
{
	(void)state;
	int p1[2] = { 10, 11 }, p2[2] = { 20, 21 }, own[2] = { 30, 31 };
	struct ivshmem_peer_fds peers[2] = { { 4, p1 }, { 6, p2 } };
	struct ivshmem_msg out[16];
	size_t n = ivshmem_encode_welcome(out, 8, 99, peers, 2, own, 2);
	assert_int_equal(n, ivshmem_welcome_len(2, 2));
	const struct ivshmem_msg want[] = {
		{ 0, -1 }, { 8, -1 }, { -1, 99 }, { 4, 10 }, { 4, 11 }, { 6, 20 }, { 6, 21 },
		{ 8, 30 }, { 8, 31 },
	};
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].value, want[i].value);
		assert_int_equal(out[i].fd, want[i].fd);
	}
	assert_int_equal(ivshmem_encode_joined(out, &peers[1], 2), 2);
	assert_int_equal(out[1].value, 6);
	assert_int_equal(out[1].fd, 21);
	struct ivshmem_msg left = ivshmem_encode_left(6);
	assert_int_equal(left.value, 6);
	assert_int_equal(left.fd, -1);
}

/* Encoder -> wire -> decoder -> state machine: a client sees exactly what the server meant. */
static void test_end_to_end_over_socketpair(void **state)
{
	(void)state;
	unsigned fds = count_fds();
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int shm = shmfd();
	int peer_fds[3] = { efd(), efd(), efd() }, own[3] = { efd(), efd(), efd() };
	struct ivshmem_peer_fds peer = { 2, peer_fds };
	struct ivshmem_msg out[16];
	size_t n = ivshmem_encode_welcome(out, 3, shm, &peer, 1, own, 3);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ivshmem_proto_send(sv[0], out[i].value, out[i].fd, NULL), 0);

	struct ivshmem_client *c = ivshmem_client_new(3, NULL, NULL);
	while (!ivshmem_client_ready(c)) {
		int64_t v;
		int fd;
		assert_int_equal(ivshmem_proto_recv(sv[1], &v, &fd, NULL), 0);
		feed_ok(c, v, fd);
	}
	assert_int_equal(ivshmem_client_own_id(c), 3);
	assert_int_equal(ivshmem_client_peer_vectors(c, 2), 3);

	/* Ringing peer 2's vector 1 through the received fd reaches the server's eventfd. */
	uint64_t one = 1, got = 0;
	assert_int_equal(write(ivshmem_client_peer_fd(c, 2, 1), &one, 8), 8);
	assert_int_equal(read(peer_fds[1], &got, 8), 8);
	assert_int_equal(got, 1);

	ivshmem_client_free(c);
	close(shm);
	for (int i = 0; i < 3; i++) {
		close(peer_fds[i]);
		close(own[i]);
	}
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_setup_and_peer_life),
		cmocka_unit_test(test_callback_handed_over),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_own_id),
		cmocka_unit_test(test_shm_message_problems),
		cmocka_unit_test(test_bad_peer_messages_are_rejected_alone),
		cmocka_unit_test(test_extra_vectors_dropped),
		cmocka_unit_test(test_nvectors_bounds),
		cmocka_unit_test(test_encoder_order),
		cmocka_unit_test(test_end_to_end_over_socketpair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
