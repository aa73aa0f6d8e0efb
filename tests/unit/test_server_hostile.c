/*
 * The server under clients that misbehave on purpose (issue 13): fd exhaustion on both listening
 * sockets, churn while an honest peer reads slowly, silent identity connections, and log floods.
 * Counts are asserted, never timing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "test_server_fixture.h"
#include "test_stderr_capture.h"
#include "../../tools/acrn-ivshmem-server/server_priv.h"

static struct ivs_server_params id_params(void)
{
	struct ivs_server_params p = default_params;
	p.vectors = 1;
	p.id_socket = true;
	p.id_listen_fd = F->id_listen_fd;
	return p;
}

/* A connection that never says anything. */
static int silent_connect(const char *path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	strcpy(sun.sun_path, path);
	assert_int_equal(connect(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return s;
}

/*
 * Out of fds, a connection waiting in the backlog keeps its socket readable: each listening
 * socket must fail one accept and pause, not spin (the identity socket used to spin, logging a
 * line per try).
 */
static void test_accept_pauses_on_both_sockets_when_out_of_fds(void **state)
{
	(void)state;
	start_server(id_params());
	int waiting_main = silent_connect(F->path);
	int waiting_id = silent_connect(F->id_path);

	struct rlimit saved, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = count_fds() + 16;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int fillers[32];
	unsigned nfill = 0;
	for (int fd; nfill < 32 && (fd = dup(STDERR_FILENO)) >= 0;)
		fillers[nfill++] = fd;
	assert_true(nfill < 32);	/* the limit was reached */

	/* Many turns of the loop; a spinning socket fails an accept on every one. */
	for (int i = 0; i < 100; i++)
		pump();
	unsigned failed = ivs_server_get_stats(F->srv)->accept_failed;

	for (unsigned i = 0; i < nfill; i++)
		close(fillers[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	/* One failure and one pause per socket (two if a pause of 1 s ended during the turns). */
	assert_true(failed >= 2 && failed <= 4);

	/* Both sockets accept again once the pause is over. */
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 1 && ivs_server_pending_count(F->srv) == 1);
	close(waiting_main);
	close(waiting_id);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0 && ivs_server_pending_count(F->srv) == 0);
}

/*
 * One client joins and leaves hundreds of times while an honest peer does not read: the
 * announcements of the peers that came and went are taken back from its queue, so it stays within
 * the bound of the live peers, is not dropped (it reads within --stall-timeout), and finally sees
 * exactly the peers that are there.
 */
static void test_slow_peer_survives_churn(void **state)
{
	(void)state;
	struct ivs_server_params p = default_params;
	p.vectors = 1;
	p.max_peers = 4;
	p.stall_timeout_ms = 60000;	/* not reading during the churn is well within it */
	start_server(p);
	struct client *a = client_connect(1), *slow = client_connect(1);
	PUMP_UNTIL(ivshmem_client_ready(a->sm) && ivshmem_client_ready(slow->sm) &&
		   ivshmem_client_peer_count(a->sm) == 1, a, slow);

	/* Its socket holds a few hundred messages; past that, everything waits in its queue. */
	unsigned most_queued = 0;
	for (int i = 0; i < 400; i++) {
		struct client *c = client_connect(1);
		PUMP_UNTIL(ivshmem_client_ready(c->sm), a, c);	/* slow does not read */
		most_queued = MAX(most_queued, ivs_server_queued_messages(F->srv));
		client_close(c);
		PUMP_UNTIL(ivs_server_peer_count(F->srv) == 2, a);
		most_queued = MAX(most_queued, ivs_server_queued_messages(F->srv));
	}
	const struct ivs_server_stats *st = ivs_server_get_stats(F->srv);
	assert_int_equal(st->dropped_stalled + st->dropped_error, 0);
	assert_int_equal(ivs_server_peer_count(F->srv), 2);
	assert_true(most_queued <= ivs_server_queue_bound(F->srv));
	print_message("slow peer: at most %u messages queued for it over 400 joins and leaves "
		      "(bound %u)\n", most_queued, ivs_server_queue_bound(F->srv));

	/* Now it reads: a consistent view, the one peer that is there, with a working doorbell. */
	unsigned a_id = (unsigned)ivshmem_client_own_id(a->sm);
	PUMP_UNTIL(ivs_server_queued_messages(F->srv) == 0 && !client_read(slow), a, slow);
	assert_false(slow->eof);
	assert_false(ivshmem_client_failed(slow->sm));
	uint16_t ids[8];
	assert_int_equal(ivshmem_client_peer_ids(slow->sm, ids, 8), 1);
	assert_int_equal(ids[0], a_id);
	assert_int_equal(ivshmem_client_peer_vectors(slow->sm, a_id), 1);
	ring(ivshmem_client_peer_fd(slow->sm, a_id, 0));
	assert_true(rung(ivshmem_client_own_fd(a->sm, 0)));
	assert_int_equal(ivshmem_client_peer_count(a->sm), 1);
	client_close(slow);
	client_close(a);
}

/*
 * Silent identity connections have their own slots (--max-pending), and the newest evicts the
 * oldest: they keep neither a protocol-0 client nor an identity client out.
 */
static void test_silent_hellos_do_not_keep_clients_out(void **state)
{
	(void)state;
	struct ivs_server_params p = id_params();
	p.max_peers = 4;
	p.max_pending = 4;
	start_server(p);
	int silent[4 + 4 * 20];
	unsigned nsilent = 0;
	for (int i = 0; i < 4; i++)
		silent[nsilent++] = silent_connect(F->id_path);
	PUMP_UNTIL(ivs_server_pending_count(F->srv) == 4);

	struct client *plain = client_connect(1);
	PUMP_UNTIL(ivshmem_client_ready(plain->sm), plain);

	/* Each round: the attacker re-opens its four, then an honest identity client comes. */
	unsigned admitted = 0, rounds = 20;
	for (unsigned r = 0; r < rounds; r++) {
		for (int i = 0; i < 4; i++)
			silent[nsilent++] = silent_connect(F->id_path);
		struct client *honest = client_hello("honest", 1);
		PUMP_UNTIL(ivshmem_client_ready(honest->sm) || honest->eof, honest, plain);
		admitted += ivshmem_client_ready(honest->sm);
		client_close(honest);
		PUMP_UNTIL(ivs_server_peer_count(F->srv) == 1, plain);
	}
	print_message("honest identity client admitted %u of %u times beside silent connections\n",
		      admitted, rounds);
	assert_int_equal(admitted, rounds);
	assert_true(ivs_server_pending_count(F->srv) <= 4);
	assert_int_equal(ivs_server_get_stats(F->srv)->evicted_pending, 4 * rounds);
	assert_int_equal(ivs_server_get_stats(F->srv)->refused_full, 0);

	/* --max-peers still holds for peers. */
	struct client *c[4];
	for (int i = 0; i < 4; i++)
		c[i] = client_connect(1);
	PUMP_UNTIL(ivs_server_get_stats(F->srv)->refused_full == 1, plain, c[0], c[1], c[2], c[3]);
	assert_int_equal(ivs_server_peer_count(F->srv), 4);
	for (int i = 0; i < 4; i++)
		client_close(c[i]);
	for (unsigned i = 0; i < nsilent; i++)
		close(silent[i]);
	client_close(plain);
}

/* Runs fn with stderr in a file; returns the lines it wrote that contain word. */
static unsigned count_log_lines(void (*fn)(void), const char *word, bool *suppressed_noted)
{
	char *out = capture_stderr(fn);
	unsigned n = 0;
	*suppressed_noted = false;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		n += strstr(line, word) != NULL;
		*suppressed_noted |= strstr(line, "suppressed") != NULL;
	}
	free(out);
	return n;
}

static gint64 churn_seconds;

static long monotonic_second(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* 100 peers join and leave beside one that stays; then, in the next second, one more joins. */
static void churn_100(void)
{
	gint64 start = g_get_monotonic_time();
	struct client *a = client_connect(1);
	PUMP_UNTIL(ivshmem_client_ready(a->sm), a);
	for (int i = 0; i < 100; i++) {
		struct client *c = client_connect(1);
		PUMP_UNTIL(ivshmem_client_ready(c->sm), a, c);
		client_close(c);
		PUMP_UNTIL(ivs_server_peer_count(F->srv) == 1, a);
	}
	churn_seconds = (g_get_monotonic_time() - start) / G_USEC_PER_SEC + 1;
	/* The log limiter's window is the monotonic second: the next one starts a fresh budget. */
	for (long sec = monotonic_second(); monotonic_second() == sec;)
		g_usleep(10 * 1000);
	struct client *last = client_connect(1);
	PUMP_UNTIL(ivshmem_client_ready(last->sm), a, last);
	client_close(last);
	client_close(a);
	PUMP_UNTIL(ivs_server_peer_count(F->srv) == 0);
}

/*
 * 102 joins and 102 departures make at most IVS_MEMBER_LOG_BURST lines a second, and the first
 * line after a suppression says how many were left out.
 */
static void test_member_log_rate_limited(void **state)
{
	(void)state;
	struct ivs_server_params p = default_params;
	p.vectors = 1;
	start_server(p);
	log_set_level(LOG_INFO);
	bool noted;
	unsigned lines = count_log_lines(churn_100, "ivshmem-server: info: peer", &noted);
	log_set_level(LOG_ERR);
	/* The churn's seconds, plus a window cut in two, plus the last join's second. */
	unsigned bound = IVS_MEMBER_LOG_BURST * (unsigned)(churn_seconds + 2);
	print_message("%u join and leave lines for 204 events (churn of about %lld s)\n", lines,
		      (long long)churn_seconds);
	assert_true(lines >= 1 && lines <= bound);
	assert_int_equal(ivs_server_get_stats(F->srv)->joined, 102);
	assert_int_equal(ivs_server_get_stats(F->srv)->left, 102);
	if (lines < 204)
		assert_true(noted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accept_pauses_on_both_sockets_when_out_of_fds,
						server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_slow_peer_survives_churn, server_setup,
						server_teardown),
		cmocka_unit_test_setup_teardown(test_silent_hellos_do_not_keep_clients_out,
						server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_member_log_rate_limited, server_setup,
						server_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
