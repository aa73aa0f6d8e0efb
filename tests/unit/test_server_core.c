/*
 * The server core in-process: a real listening socket, real client sockets, and the library's
 * client state machine on the other end. The test drives the GLib loop itself, so everything is
 * deterministic and runs under ASan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivshmem_proto.h"
#include "log.h"

#include "test_server_fixture.h"

static void test_two_clients_meet_and_ring(void **state)
{
	(void)state;
	start_server(default_params);
	struct client *a = client_connect(2);
	PUMP_UNTIL(ivshmem_client_ready(a->sm), a);
	assert_int_equal(ivshmem_client_own_id(a->sm), 0);
	assert_true(same_file(ivshmem_client_shm_fd(a->sm), F->shm_fd));
	assert_int_equal(ivshmem_client_peer_count(a->sm), 0);

	struct client *b = client_connect(2);
	PUMP_UNTIL(ivshmem_client_ready(b->sm) && ivshmem_client_peer_vectors(a->sm, 1) == 2, a, b);
	assert_int_equal(ivshmem_client_own_id(b->sm), 1);
	assert_int_equal(ivshmem_client_peer_vectors(b->sm, 0), 2);
	assert_int_equal(ivs_server_peer_count(F->srv), 2);

	/* A rings B's vector 1, B rings A's vector 0: eventfds as QEMU's doorbell would use them. */
	ring(ivshmem_client_peer_fd(a->sm, 1, 1));
	assert_true(rung(ivshmem_client_own_fd(b->sm, 1)));
	ring(ivshmem_client_peer_fd(b->sm, 0, 0));
	assert_true(rung(ivshmem_client_own_fd(a->sm, 0)));

	/* The shared memory really is shared. */
	void *ma = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ivshmem_client_shm_fd(a->sm), 0);
	void *mb = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ivshmem_client_shm_fd(b->sm), 0);
	strcpy(ma, "hi B");
	assert_string_equal(mb, "hi B");
	munmap(ma, 4096);
	munmap(mb, 4096);

	/* B leaves: A is told, the server forgets B. */
	client_close(b);
	PUMP_UNTIL(ivshmem_client_peer_count(a->sm) == 0, a);
	assert_int_equal(ivs_server_peer_count(F->srv), 1);
	assert_int_equal(ivs_server_get_stats(F->srv)->left, 1);
	assert_int_equal(F->idle_calls, 0);

	/* Ids keep counting up rather than reusing B's at once. */
	struct client *c = client_connect(2);
	PUMP_UNTIL(ivshmem_client_ready(c->sm), a, c);
	assert_int_equal(ivshmem_client_own_id(c->sm), 2);
	client_close(c);
	client_close(a);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);
	assert_int_equal(F->idle_calls, 1);
}

/* The exact sequence QEMU's server sends, checked on raw messages. */
static void test_welcome_sequence_is_qemus(void **state)
{
	(void)state;
	start_server(default_params);
	struct client *a = client_connect(2);
	PUMP_UNTIL(ivshmem_client_ready(a->sm), a);

	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	strcpy(sun.sun_path, F->path);
	assert_int_equal(connect(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	const struct {
		int64_t value;
		bool fd;
	} want[] = { { 0, false }, { 1, false }, { -1, true }, { 0, true }, { 0, true },
		     { 1, true }, { 1, true } };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int64_t v;
		int fd = -1;
		struct pollfd p = { .fd = s, .events = POLLIN };
		while (poll(&p, 1, 0) != 1)
			pump();
		assert_int_equal(ivshmem_proto_recv(s, &v, &fd, NULL), 0);
		assert_int_equal(v, want[i].value);
		assert_int_equal(fd >= 0, want[i].fd);
		if (fd >= 0)
			close(fd);
	}
	/* And the existing peer hears of the newcomer once per vector. */
	PUMP_UNTIL(ivshmem_client_peer_vectors(a->sm, 1) == 2, a);
	close(s);
	PUMP_UNTIL(ivshmem_client_peer_count(a->sm) == 0, a);
	client_close(a);
}

static void test_client_that_sends_is_dropped(void **state)
{
	(void)state;
	start_server(default_params);
	struct client *a = client_connect(2), *b = client_connect(2), *bad = client_connect(2);
	PUMP_UNTIL(ivshmem_client_ready(a->sm) && ivshmem_client_ready(b->sm) &&
		   ivshmem_client_ready(bad->sm) && ivshmem_client_peer_count(a->sm) == 2, a, b, bad);
	int bad_id = ivshmem_client_own_id(bad->sm);

	assert_int_equal(write(bad->sock, "x", 1), 1);
	PUMP_UNTIL(bad->eof && ivshmem_client_peer_count(a->sm) == 1 &&
		   ivshmem_client_peer_count(b->sm) == 1, a, b, bad);
	assert_int_equal(ivshmem_client_peer_vectors(a->sm, (unsigned)bad_id), 0);
	assert_int_equal(ivs_server_get_stats(F->srv)->dropped_sent_data, 1);

	/* The others still work. */
	ring(ivshmem_client_peer_fd(a->sm, 1, 0));
	assert_true(rung(ivshmem_client_own_fd(b->sm, 0)));
	client_close(bad);
	client_close(a);
	client_close(b);
}

static void test_flood_beyond_max_peers_refused(void **state)
{
	(void)state;
	struct ivs_server_params p = default_params;
	p.max_peers = 3;
	start_server(p);
	struct client *c[3];
	for (int i = 0; i < 3; i++)
		c[i] = client_connect(2);
	PUMP_UNTIL(ivshmem_client_ready(c[0]->sm) && ivshmem_client_ready(c[1]->sm) &&
		   ivshmem_client_ready(c[2]->sm), c[0], c[1], c[2]);

	unsigned fds = count_fds();
	struct client *extra[20];
	for (int i = 0; i < 20; i++)
		extra[i] = client_connect(2);
	for (int i = 0; i < 20; i++) {
		PUMP_UNTIL(extra[i]->eof, extra[i]);
		/* Closed at once: not even the version message. */
		assert_int_equal(ivshmem_client_own_id(extra[i]->sm), -1);
		client_close(extra[i]);
	}
	assert_int_equal(ivs_server_get_stats(F->srv)->refused_full, 20);
	assert_int_equal(ivs_server_peer_count(F->srv), 3);
	assert_int_equal(count_fds(), fds);	/* the server kept nothing of them */

	/* Room again once someone leaves. */
	client_close(c[2]);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 2, c[0], c[1]);
	c[2] = client_connect(2);
	PUMP_UNTIL(ivshmem_client_ready(c[2]->sm), c[0], c[1], c[2]);
	for (int i = 0; i < 3; i++)
		client_close(c[i]);
}

static void test_allow_lists(void **state)
{
	(void)state;
	struct ivs_server_params p = default_params;
	const uid_t uids[] = { 12345 };
	const gid_t gids[] = { 54321 };
	p.allow_uids = uids;
	p.n_allow_uids = 1;
	p.allow_gids = gids;
	p.n_allow_gids = 1;
	start_server(p);
	struct client *c = client_connect(2);
	PUMP_UNTIL(c->eof, c);
	assert_int_equal(ivshmem_client_own_id(c->sm), -1);
	assert_int_equal(ivs_server_get_stats(F->srv)->refused_creds, 1);
	client_close(c);
}

static void test_allow_list_matches_us(void **state)
{
	(void)state;
	struct ivs_server_params p = default_params;
	const uid_t uids[] = { 12345 };
	const gid_t gids[] = { getgid() };
	p.allow_uids = uids;
	p.n_allow_uids = 1;
	p.allow_gids = gids;
	p.n_allow_gids = 1;
	start_server(p);
	struct client *c = client_connect(2);
	PUMP_UNTIL(ivshmem_client_ready(c->sm), c);
	client_close(c);
}

/* A reader whose queue stops moving is dropped after the stall timeout, well below the cap. */
static void test_stall_timeout(void **state)
{
	(void)state;
	struct ivs_server_params p = default_params;
	p.vectors = 1;
	p.max_peers = 4;
	p.stall_timeout_ms = 300;
	start_server(p);
	struct client *a = client_connect(1), *stuck = client_connect(1);
	PUMP_UNTIL(ivshmem_client_ready(a->sm) && ivshmem_client_peer_count(a->sm) == 1, a);
	/* Churn until stuck's socket is full; the peer that finds it full stays, its news waiting. */
	struct client *c = NULL;
	for (int i = 0; i < 3000; i++) {
		c = client_connect(1);
		PUMP_UNTIL(ivshmem_client_ready(c->sm), a, c);
		if (ivs_server_queued_messages(F->srv))
			break;
		client_close(c);
		c = NULL;
		PUMP_UNTIL(ivs_server_peer_count(F->srv) <= 2, a);
	}
	assert_non_null(c);
	gint64 start = g_get_monotonic_time();
	PUMP_UNTIL(ivs_server_get_stats(F->srv)->dropped_stalled == 1, a);
	gint64 waited_ms = (g_get_monotonic_time() - start) / 1000;
	assert_true(waited_ms >= 250 && waited_ms < 2000);
	assert_int_equal(ivs_server_queued_messages(F->srv), 0);
	PUMP_UNTIL(ivshmem_client_peer_count(a->sm) == 1, a, c);
	client_close(c);
	client_close(stuck);
	client_close(a);
}

/*
 * Churns beside a peer that never reads until its socket is full while its queue is empty (the
 * last announcement was queued, then taken back when its peer left). Which message fills the
 * socket depends on its size, so an extra peer shifts the count by one when the first try ends
 * with a departure queued instead. Returns false if neither try got there.
 */
static bool fill_socket_leave_queue_empty(struct ivs_server_params p, struct client **a,
					  struct client **stuck, struct client **extra)
{
	for (int shift = 0; shift < 2; shift++) {
		start_server(p);
		*a = client_connect(1);
		PUMP_UNTIL(ivshmem_client_ready((*a)->sm), *a);
		*extra = shift ? client_connect(1) : NULL;
		if (*extra)
			PUMP_UNTIL(ivshmem_client_ready((*extra)->sm), *a, *extra);
		*stuck = client_connect(1);
		PUMP_UNTIL(ivs_server_peer_count(F->srv) == 2u + shift, *a, *extra);
		for (int i = 0; i < 3000; i++) {
			struct client *c = client_connect(1);
			PUMP_UNTIL(ivshmem_client_ready(c->sm), *a, *extra, c);
			unsigned queued = ivs_server_queued_messages(F->srv);
			client_close(c);
			PUMP_UNTIL(ivs_server_peer_count(F->srv) == 2u + shift, *a, *extra);
			if (queued && !ivs_server_queued_messages(F->srv))
				return true;
			if (ivs_server_queued_messages(F->srv))
				break;	/* a departure waits: the wrong parity */
		}
		client_close(*a);
		client_close(*stuck);
		if (*extra)
			client_close(*extra);
		ivs_server_free(F->srv);
		F->srv = NULL;
	}
	return false;
}

/* Nothing queued, but the socket full and unread: still dropped after the stall timeout. */
static void test_stall_timeout_with_empty_queue(void **state)
{
	(void)state;
	struct ivs_server_params p = default_params;
	p.vectors = 1;
	p.max_peers = 4;
	p.stall_timeout_ms = 300;
	struct client *a, *stuck, *extra;
	assert_true(fill_socket_leave_queue_empty(p, &a, &stuck, &extra));
	PUMP_UNTIL(ivs_server_get_stats(F->srv)->dropped_stalled == 1, a, extra);
	assert_true(ivs_server_peer_count(F->srv) == (extra ? 2u : 1u));
	client_close(stuck);
	client_close(a);
	if (extra)
		client_close(extra);
}

static void test_bad_params(void **state)
{
	(void)state;
	struct ivs_server_params p = default_params;
	p.vectors = 0;
	assert_null(ivs_server_new(&p, F->listen_fd, F->shm_fd));
	p.vectors = 65;
	assert_null(ivs_server_new(&p, F->listen_fd, F->shm_fd));
	p = default_params;
	p.max_peers = 0;
	assert_null(ivs_server_new(&p, F->listen_fd, F->shm_fd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_clients_meet_and_ring, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_welcome_sequence_is_qemus, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_client_that_sends_is_dropped, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_flood_beyond_max_peers_refused, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_allow_lists, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_allow_list_matches_us, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_stall_timeout, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_stall_timeout_with_empty_queue, server_setup,
						server_teardown),
		cmocka_unit_test_setup_teardown(test_bad_params, server_setup, server_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
