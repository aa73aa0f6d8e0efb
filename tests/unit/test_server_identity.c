/* The identity socket: returning identities get their peer id back; everything else is refused. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_server_fixture.h"

static struct ivs_server_params id_params(unsigned reserve_ms)
{
	struct ivs_server_params p = default_params;
	p.vectors = 1;
	p.id_socket = true;
	p.id_listen_fd = F->id_listen_fd;
	p.id_reserve_ms = reserve_ms;
	return p;
}

static void test_identity_gets_its_id_back(void **state)
{
	(void)state;
	start_server(id_params(60000));
	struct client *x = client_hello("vm1", 1);
	PUMP_UNTIL(ivshmem_client_ready(x->sm), x);
	assert_int_equal(ivshmem_client_own_id(x->sm), 0);
	struct client *y = client_connect(1);
	PUMP_UNTIL(ivshmem_client_ready(y->sm) && ivshmem_client_peer_count(x->sm) == 1, x, y);
	assert_int_equal(ivshmem_client_own_id(y->sm), 1);

	client_close(x);
	PUMP_UNTIL(ivshmem_client_peer_count(y->sm) == 0, y);
	/* Even when the counter comes round to it, a reserved id is skipped. */
	ivs_server_set_next_id(F->srv, 0);
	struct client *p = client_connect(1);
	PUMP_UNTIL(ivshmem_client_ready(p->sm), y, p);
	assert_int_equal(ivshmem_client_own_id(p->sm), 2);

	x = client_hello("vm1", 1);
	PUMP_UNTIL(ivshmem_client_ready(x->sm) && ivshmem_client_peer_vectors(y->sm, 0) == 1, x, y, p);
	assert_int_equal(ivshmem_client_own_id(x->sm), 0);
	assert_int_equal(ivs_server_get_stats(F->srv)->reclaimed, 1);
	/* Protocol-0 peers see an ordinary leave and join, and can ring it again. */
	ring(ivshmem_client_peer_fd(y->sm, 0, 0));
	assert_true(rung(ivshmem_client_own_fd(x->sm, 0)));

	/* The same identity twice at once is refused: two VMs must not share an id. */
	struct client *dup = client_hello("vm1", 1);
	PUMP_UNTIL(dup->eof, dup);
	assert_int_equal(ivs_server_get_stats(F->srv)->refused_hello, 1);
	/* Another identity is a stranger: a new id. */
	struct client *z = client_hello("vm2", 1);
	PUMP_UNTIL(ivshmem_client_ready(z->sm), x, y, p, z);
	assert_int_equal(ivshmem_client_own_id(z->sm), 3);
	client_close(dup);
	client_close(z);
	client_close(p);
	client_close(x);
	client_close(y);
}

static void test_identity_reservation_expires(void **state)
{
	(void)state;
	start_server(id_params(100));
	struct client *x = client_hello("vm1", 1);
	PUMP_UNTIL(ivshmem_client_ready(x->sm), x);
	client_close(x);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);
	g_usleep(200 * 1000);
	ivs_server_set_next_id(F->srv, 0);
	struct client *p = client_connect(1);
	PUMP_UNTIL(ivshmem_client_ready(p->sm), p);
	assert_int_equal(ivshmem_client_own_id(p->sm), 0);	/* no longer held */
	x = client_hello("vm1", 1);
	PUMP_UNTIL(ivshmem_client_ready(x->sm), p, x);
	assert_int_equal(ivshmem_client_own_id(x->sm), 1);	/* its old id is taken */
	assert_int_equal(ivs_server_get_stats(F->srv)->reclaimed, 0);
	client_close(x);
	client_close(p);
}

static void test_identity_bad_hellos(void **state)
{
	(void)state;
	start_server(id_params(60000));
	unsigned fds = count_fds();

	struct client *c = client_connect_to(F->id_path, 1);
	uint8_t junk[IVSHMEM_HELLO_LEN] = "NOTMAGIC";
	assert_int_equal(write(c->sock, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	PUMP_UNTIL(c->eof, c);
	assert_int_equal(ivshmem_client_own_id(c->sm), -1);
	client_close(c);

	c = client_connect_to(F->id_path, 1);
	assert_int_equal(write(c->sock, "ACRN", 4), 4);
	close(c->sock);
	c->sock = -1;
	PUMP_UNTIL(ivs_server_get_stats(F->srv)->refused_hello == 2);
	ivshmem_client_free(c->sm);
	free(c);

	/* Anything after the hello is data from a client: dropped like on the main socket. */
	uint8_t hello[IVSHMEM_HELLO_LEN + 1];
	assert_int_equal(ivshmem_encode_hello("vm9", hello, NULL), 0);
	hello[IVSHMEM_HELLO_LEN] = 'x';
	c = client_connect_to(F->id_path, 1);
	assert_int_equal(write(c->sock, hello, sizeof(hello)), (ssize_t)sizeof(hello));
	PUMP_UNTIL(c->eof, c);
	assert_int_equal(ivs_server_get_stats(F->srv)->dropped_sent_data, 1);
	client_close(c);

	/* Silence: closed after the hello timeout, not kept forever. */
	c = client_connect_to(F->id_path, 1);
	gint64 start = g_get_monotonic_time();
	PUMP_UNTIL(c->eof, c);
	assert_true(g_get_monotonic_time() - start >= G_USEC_PER_SEC);
	assert_int_equal(ivs_server_get_stats(F->srv)->refused_hello, 3);
	client_close(c);
	assert_int_equal(count_fds(), fds);
}

/* Another user presenting the same identity never gets its id (needs root to be another user). */
static void test_identity_bound_to_uid(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("skip: needs root\n");
		skip();
	}
	start_server(id_params(60000));
	struct client *x = client_hello("vm1", 1);
	PUMP_UNTIL(ivshmem_client_ready(x->sm), x);
	client_close(x);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);

	assert_int_equal(chmod(F->dir, 0711), 0);
	assert_int_equal(chmod(F->id_path, 0666), 0);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* As nobody: say hello as vm1, report the id the server gave. */
		close(pipefd[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		int sock = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		strcpy(sun.sun_path, F->id_path);
		if (connect(sock, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
		    ivshmem_proto_send_hello(sock, "vm1", NULL) < 0)
			_exit(3);
		int64_t v[2];
		int fd;
		for (int i = 0; i < 2; i++)
			if (ivshmem_proto_recv(sock, &v[i], &fd, NULL) < 0)
				_exit(4);
		if (write(pipefd[1], &v[1], sizeof(v[1])) != sizeof(v[1]))
			_exit(5);
		_exit(0);
	}
	close(pipefd[1]);
	int64_t child_id = -1;
	struct pollfd pf = { .fd = pipefd[0], .events = POLLIN };
	gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (poll(&pf, 1, 0) == 0 && g_get_monotonic_time() < end) {
		pump();
		g_usleep(1000);
	}
	assert_int_equal(read(pipefd[0], &child_id, sizeof(child_id)), sizeof(child_id));
	close(pipefd[0]);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_not_equal(child_id, 0);
	assert_int_equal(ivs_server_get_stats(F->srv)->reclaimed, 0);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);
}

/* Says hello as name, waits for the welcome, leaves: the identity's id is then reserved. */
static void visit(const char *name)
{
	struct client *c = client_hello(name, 1);
	PUMP_UNTIL(ivshmem_client_ready(c->sm) || c->eof, c);
	assert_true(ivshmem_client_ready(c->sm));
	client_close(c);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);
}

/*
 * Newcomers never push out a reservation that has not expired: 16 hellos under other names (the
 * table holds 4 x --max-peers) leave vm1's id reserved, and vm1 gets it back. One user may hold
 * half the table; the names beyond get fresh ids without being remembered.
 */
static void test_identity_reservation_survives_newcomers(void **state)
{
	(void)state;
	struct ivs_server_params p = id_params(60000);
	p.max_peers = 4;
	start_server(p);
	struct client *x = client_hello("vm1", 1);
	PUMP_UNTIL(ivshmem_client_ready(x->sm), x);
	int vm1_id = ivshmem_client_own_id(x->sm);
	client_close(x);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);

	for (int i = 0; i < 16; i++) {
		char name[32];
		snprintf(name, sizeof(name), "other%d", i);
		visit(name);
	}
	/* vm1 and 7 others fill this user's half (8); the 9 names after them are not kept. */
	assert_int_equal(ivs_server_get_stats(F->srv)->not_remembered, 9);

	x = client_hello("vm1", 1);
	PUMP_UNTIL(ivshmem_client_ready(x->sm), x);
	assert_int_equal(ivshmem_client_own_id(x->sm), vm1_id);
	assert_int_equal(ivs_server_get_stats(F->srv)->reclaimed, 1);
	client_close(x);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);

	/* A name that was not kept gets no reservation: it comes back as a stranger. */
	visit("other15");
	assert_int_equal(ivs_server_get_stats(F->srv)->reclaimed, 1);
}

/* Lapsed reservations make room again: the gone-longest entry is forgotten for a newcomer. */
static void test_identity_lapsed_entries_are_forgotten(void **state)
{
	(void)state;
	struct ivs_server_params p = id_params(100);
	p.max_peers = 1;	/* a table of 4, 2 per user */
	start_server(p);
	visit("vm1");
	visit("vm2");
	visit("vm3");
	assert_int_equal(ivs_server_get_stats(F->srv)->not_remembered, 1);
	g_usleep(200 * 1000);	/* past the reservations */
	PUMP_UNTIL(true);
	visit("vm4");
	visit("vm5");
	assert_int_equal(ivs_server_get_stats(F->srv)->not_remembered, 1);
	/* vm5 is remembered: back at once, it gets its id again. */
	ivs_server_set_next_id(F->srv, 100);
	struct client *c = client_hello("vm5", 1);
	PUMP_UNTIL(ivshmem_client_ready(c->sm), c);
	assert_int_equal(ivs_server_get_stats(F->srv)->reclaimed, 1);
	client_close(c);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);
}

/* As another user (a forked child): says hello under each name in turn and leaves. */
static void foreign_visits(uid_t uid, const char *prefix, int n)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(uid) < 0 || setuid(uid) < 0)
			_exit(2);
		for (int i = 0; i < n; i++) {
			char name[32];
			snprintf(name, sizeof(name), "%s%d", prefix, i);
			int sock = socket(AF_UNIX, SOCK_STREAM, 0);
			struct sockaddr_un sun = { .sun_family = AF_UNIX };
			strcpy(sun.sun_path, F->id_path);
			if (connect(sock, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
			    ivshmem_proto_send_hello(sock, name, NULL) < 0)
				_exit(3);
			/* The whole welcome: then it has joined. */
			struct ivshmem_client *sm = ivshmem_client_new(1, NULL, NULL);
			while (!ivshmem_client_ready(sm)) {
				int64_t v;
				int fd;
				if (ivshmem_proto_recv(sock, &v, &fd, NULL) < 0 ||
				    ivshmem_client_feed(sm, v, fd, NULL) < 0)
					_exit(4);
			}
			ivshmem_client_free(sm);
			close(sock);
		}
		_exit(0);
	}
	int status;
	gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (g_get_monotonic_time() > end)
			fail_msg("the child as uid %u did not finish", (unsigned)uid);
		pump();
		g_usleep(200);
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);
}

/*
 * Per-user quotas (needs root to be other users): one user filling its half cannot push out
 * another's reservation, and once the table is full of live entries a third user's newcomer is
 * served with a fresh id, not remembered.
 */
static void test_identity_quota_per_uid(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("skip: needs root\n");
		skip();
	}
	struct ivs_server_params p = id_params(60000);
	p.max_peers = 4;	/* a table of 16, 8 per user */
	start_server(p);
	assert_int_equal(chmod(F->dir, 0711), 0);
	assert_int_equal(chmod(F->id_path, 0666), 0);

	visit("vm1");
	foreign_visits(65534, "nobody", 12);		/* 8 kept, 4 not */
	assert_int_equal(ivs_server_get_stats(F->srv)->not_remembered, 4);
	for (int i = 0; i < 7; i++) {			/* root's half: vm1 and 7 more */
		char name[32];
		snprintf(name, sizeof(name), "root%d", i);
		visit(name);
	}
	assert_int_equal(ivs_server_get_stats(F->srv)->not_remembered, 4);
	foreign_visits(65533, "third", 1);		/* the table is full */
	assert_int_equal(ivs_server_get_stats(F->srv)->not_remembered, 5);

	struct client *x = client_hello("vm1", 1);
	PUMP_UNTIL(ivshmem_client_ready(x->sm), x);
	assert_int_equal(ivshmem_client_own_id(x->sm), 0);
	assert_int_equal(ivs_server_get_stats(F->srv)->reclaimed, 1);
	client_close(x);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_gets_its_id_back, server_setup,
						server_teardown),
		cmocka_unit_test_setup_teardown(test_identity_reservation_expires, server_setup,
						server_teardown),
		cmocka_unit_test_setup_teardown(test_identity_bad_hellos, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_identity_bound_to_uid, server_setup,
						server_teardown),
		cmocka_unit_test_setup_teardown(test_identity_reservation_survives_newcomers,
						server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_identity_lapsed_entries_are_forgotten,
						server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_identity_quota_per_uid, server_setup,
						server_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
