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
#include "../../tools/acrn-ivshmem-server/listen.h"
#include "../../tools/acrn-ivshmem-server/server.h"

struct fixture {
	char dir[64];
	char path[128];
	char id_path[128];
	int listen_fd;
	int id_listen_fd;
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
	snprintf(F->id_path, sizeof(F->id_path), "%s/id.sock", F->dir);
	F->id_listen_fd = ivs_listen(F->id_path, false, 0, &err);
	if (F->id_listen_fd < 0) {
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
	close(F->id_listen_fd);
	close(F->shm_fd);
	unlink(F->path);
	unlink(F->id_path);
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

static struct client *client_connect_to(const char *path, unsigned vectors)
{
	struct client *c = calloc(1, sizeof(*c));
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	strcpy(sun.sun_path, path);
	assert_int_equal(connect(c->sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
	c->sm = ivshmem_client_new(vectors, NULL, NULL);
	return c;
}

static struct client *client_connect(unsigned vectors)
{
	return client_connect_to(F->path, vectors);
}

/* A client of the identity socket: the hello first, then protocol 0. */
static struct client *client_hello(const char *identity, unsigned vectors)
{
	struct client *c = client_connect_to(F->id_path, vectors);
	assert_int_equal(ivshmem_proto_send_hello(c->sock, identity, NULL), 0);
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
		cmocka_unit_test_setup_teardown(test_identity_gets_its_id_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_reservation_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_bad_hellos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_bound_to_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
