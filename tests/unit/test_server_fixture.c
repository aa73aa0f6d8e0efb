/* See test_server_fixture.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "test_server_fixture.h"
#include "../../tools/acrn-ivshmem-server/listen.h"
#include "test_fd_util.h"

struct fixture *F;


static void on_idle(void *opaque)
{
	((struct fixture *)opaque)->idle_calls++;
}

void start_server(struct ivs_server_params params)
{
	params.on_idle = on_idle;
	params.opaque = F;
	F->srv = ivs_server_new(&params, F->listen_fd, F->shm_fd);
	assert_non_null(F->srv);
}

int server_setup(void **state)
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

int server_teardown(void **state)
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

void pump(void)
{
	for (int i = 0; i < 8 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

struct client *client_connect_to(const char *path, unsigned vectors)
{
	struct client *c = calloc(1, sizeof(*c));
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	strcpy(sun.sun_path, path);
	assert_int_equal(connect(c->sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
	c->sm = ivshmem_client_new(vectors, NULL, NULL);
	return c;
}

struct client *client_connect(unsigned vectors)
{
	return client_connect_to(F->path, vectors);
}

/* A client of the identity socket: the hello first, then protocol 0. */
struct client *client_hello(const char *identity, unsigned vectors)
{
	struct client *c = client_connect_to(F->id_path, vectors);
	assert_int_equal(ivshmem_proto_send_hello(c->sock, identity, NULL), 0);
	return c;
}

/* Reads and feeds whatever has arrived; true if anything did. NULL: nothing. */
bool client_read(struct client *c)
{
	bool any = false;
	if (!c)
		return false;
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

void client_close(struct client *c)
{
	close(c->sock);
	ivshmem_client_free(c->sm);
	free(c);
}

bool same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

void ring(int fd)
{
	uint64_t one = 1;
	assert_int_equal(write(fd, &one, 8), 8);
}

bool rung(int fd)
{
	uint64_t v = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 1000) == 1 && read(fd, &v, 8) == 8 && v >= 1;
}

const struct ivs_server_params default_params = {
	.vectors = 2, .max_peers = 8, .stall_timeout_ms = 5000,
};

