/*
 * A running acrn-ivshmem-server core for unit tests: listening sockets in a private directory,
 * a memfd region, clients that use the library's client state machine, and a pump that runs the
 * GLib loop and the clients in one thread (deterministic, ASan-friendly).
 */
#ifndef TEST_SERVER_FIXTURE_H
#define TEST_SERVER_FIXTURE_H

#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ivshmem_proto.h"
#include "../../tools/acrn-ivshmem-server/server.h"

#include "test_fd_util.h"

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

extern struct fixture *F;
extern const struct ivs_server_params default_params;

/* cmocka group hooks: a fresh directory, sockets and region per test; the server is started by
 * the test (start_server) so each can pick its parameters. */
int server_setup(void **state);
int server_teardown(void **state);
void start_server(struct ivs_server_params params);
void pump(void);
struct client *client_connect_to(const char *path, unsigned vectors);
struct client *client_connect(unsigned vectors);
/* A client of the identity socket: the hello first, then protocol 0. */
struct client *client_hello(const char *identity, unsigned vectors);
/* Reads and feeds whatever has arrived; true if anything did. NULL: nothing. */
bool client_read(struct client *c);
void client_close(struct client *c);
bool same_file(int a, int b);
void ring(int fd);
bool rung(int fd);

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

#endif
