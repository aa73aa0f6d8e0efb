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
#include <unistd.h>
#include <cmocka.h>

#include "ivshmem_proto.h"
#include "log.h"
#include "../../tools/acrn-ivshmem-server/listen.h"
#include "../../tools/acrn-ivshmem-server/server.h"

struct fixture {
	char dir[64];
	char path[128];
	int listen_fd;
	int shm_fd;
	struct ivs_server *srv;
	unsigned idle_calls;
};

struct client {
	int sock;
	struct ivshmem_client *sm;
	bool eof;
};

static struct fixture *F;

static unsigned count_fds(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void on_idle(void *opaque)
{
	((struct fixture *)opaque)->idle_calls++;
}

static void start_server(struct ivs_server_params params)
{
	params.on_idle = on_idle;
	params.opaque = F;
	F->srv = ivs_server_new(&params, F->listen_fd, F->shm_fd);
	assert_non_null(F->srv);
}

static int setup(void **state)
{
	(void)state;
	F = calloc(1, sizeof(*F));
	strcpy(F->dir, "/tmp/ivt-srv-XXXXXX");
	if (!mkdtemp(F->dir))
		return -1;
	snprintf(F->path, sizeof(F->path), "%s/sock", F->dir);
	char *err = NULL;
	F->listen_fd = ivs_listen(F->path, false, 0, &err);
	if (F->listen_fd < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	F->shm_fd = memfd_create("ivt", MFD_CLOEXEC);
	if (ftruncate(F->shm_fd, 1 << 20) < 0)
		return -1;
	log_set_level(LOG_ERR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ivs_server_free(F->srv);
	close(F->listen_fd);
	close(F->shm_fd);
	unlink(F->path);
	rmdir(F->dir);
	/* Let GLib dispatch what removing the sources left behind. */
	while (g_main_context_iteration(NULL, FALSE))
		;
	free(F);
	return 0;
}

static void pump(void)
{
	for (int i = 0; i < 8 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static struct client *client_connect(unsigned vectors)
{
	struct client *c = calloc(1, sizeof(*c));
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	strcpy(sun.sun_path, F->path);
	assert_int_equal(connect(c->sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
	c->sm = ivshmem_client_new(vectors, NULL, NULL);
	return c;
}

/* Reads and feeds whatever has arrived; true if anything did. */
static bool client_read(struct client *c)
{
	bool any = false;
	while (!c->eof) {
		struct pollfd p = { .fd = c->sock, .events = POLLIN };
		if (poll(&p, 1, 0) != 1)
			break;
		int64_t v;
		int fd;
		struct ivshmem_error err;
		int ret = ivshmem_proto_recv(c->sock, &v, &fd, &err);
		if (ret == IVSHMEM_PROTO_EOF || ret == -ECONNRESET) {
			c->eof = true;
			break;
		}
		if (ret < 0)
			fail_msg("client recv: %s", err.msg);
		ret = ivshmem_client_feed(c->sm, v, fd, &err);
		if (ret < 0)
			fail_msg("client feed: %s", err.msg);
		any = true;
	}
	return any;
}

/* Runs the server and the clients until cond holds (5 s at most). */
#define PUMP_UNTIL(cond, ...) do {							\
		struct client *cl_[] = { NULL, __VA_ARGS__ };				\
		gint64 end_ = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;		\
		while (!(cond)) {							\
			if (g_get_monotonic_time() > end_)				\
				fail_msg("timed out waiting for: %s", #cond);		\
			pump();								\
			for (size_t i_ = 1; i_ < sizeof(cl_) / sizeof(cl_[0]); i_++)	\
				client_read(cl_[i_]);					\
			g_usleep(200);							\
		}									\
	} while (0)

static void client_close(struct client *c)
{
	close(c->sock);
	ivshmem_client_free(c->sm);
	free(c);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

static void ring(int fd)
{
	uint64_t one = 1;
	assert_int_equal(write(fd, &one, 8), 8);
}

static bool rung(int fd)
{
	uint64_t v = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 1000) == 1 && read(fd, &v, 8) == 8 && v >= 1;
}

static const struct ivs_server_params default_params = {
	.vectors = 2, .max_peers = 8, .stall_timeout_ms = 5000,
};

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

/* A client that stops reading is dropped; the ones that read never notice. */
static void test_stalled_client_dropped(void **state)
{
	(void)state;
	struct ivs_server_params p = default_params;
	p.vectors = 1;
	p.max_peers = 4;
	start_server(p);
	struct client *a = client_connect(1), *stuck = client_connect(1);
	PUMP_UNTIL(ivshmem_client_ready(a->sm) && ivshmem_client_peer_count(a->sm) == 1, a);
	/* stuck never reads: every join and leave below piles up for it. */
	for (int i = 0; i < 3000 && !ivs_server_get_stats(F->srv)->dropped_stalled; i++) {
		struct client *c = client_connect(1);
		PUMP_UNTIL(ivshmem_client_ready(c->sm), a, c);
		client_close(c);
		PUMP_UNTIL(ivs_server_peer_count(F->srv) <= 2, a);
	}
	assert_int_equal(ivs_server_get_stats(F->srv)->dropped_stalled, 1);
	PUMP_UNTIL(ivshmem_client_peer_count(a->sm) == 0, a);
	assert_false(ivshmem_client_failed(a->sm));
	client_close(stuck);
	client_close(a);
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
	/* Churn only until something has to wait in the server's queue for stuck. */
	for (int i = 0; i < 3000 && !ivs_server_queued_messages(F->srv); i++) {
		struct client *c = client_connect(1);
		PUMP_UNTIL(ivshmem_client_ready(c->sm), a, c);
		client_close(c);
		PUMP_UNTIL(ivs_server_peer_count(F->srv) <= 2, a);
	}
	assert_true(ivs_server_queued_messages(F->srv) > 0);
	gint64 start = g_get_monotonic_time();
	PUMP_UNTIL(ivs_server_get_stats(F->srv)->dropped_stalled == 1, a);
	gint64 waited_ms = (g_get_monotonic_time() - start) / 1000;
	assert_true(waited_ms >= 250 && waited_ms < 2000);
	assert_int_equal(ivs_server_queued_messages(F->srv), 0);
	PUMP_UNTIL(ivshmem_client_peer_count(a->sm) == 0, a);
	client_close(stuck);
	client_close(a);
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
		cmocka_unit_test_setup_teardown(test_two_clients_meet_and_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_welcome_sequence_is_qemus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_that_sends_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_beyond_max_peers_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_list_matches_us, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_client_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
