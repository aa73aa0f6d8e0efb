/*
 * The server side of the ivshmem protocol against the client side: the input chooses the
 * server's and the client's vector counts, the client's id, the peers present, then peers joining
 * and leaving. The messages come from the encoders (ivshmem_encode_welcome/joined/left), go
 * through ivshmem_proto_send/recv on a UNIX socket pair with their fds, and are fed to an
 * ivshmem_client; a model of the server's peer table says what the client must then know.
 *
 * Properties: every encoded message is accepted; the client knows exactly the model's peers,
 * each with min(server, client) vectors, becomes ready exactly when the server has at least as
 * many vectors as it uses, and no fd is leaked.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "ivshmem_proto.h"
#include "test_fd_util.h"

#define MAX_PEERS 8
#define MAX_SERVER_VECTORS 16
#define MAX_EVENTS 32

struct model {
	uint16_t ids[MAX_PEERS];
	unsigned n;
};

static bool model_has(const struct model *m, uint16_t id)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->ids[i] == id)
			return true;
	return false;
}

/* Sends msgs[0..n) whole; the socket buffer holds far more than one batch. */
static void send_all(int sock, const struct ivshmem_msg *msgs, size_t n)
{
	struct ivshmem_error err;

	for (size_t i = 0; i < n; i++) {
		int ret = ivshmem_proto_send(sock, msgs[i].value, msgs[i].fd, &err);

		FUZZ_CHECK(ret == 0, "send %zu of %zu: %s", i, n, err.msg);
	}
}

/* Feeds everything that has arrived; every message must be accepted. */
static void drain(int sock, struct ivshmem_client *c)
{
	for (;;) {
		struct ivshmem_error err = { { 0 } };
		int64_t value;
		int fd;
		int ret = ivshmem_proto_recv(sock, &value, &fd, &err);

		if (ret == -EAGAIN)
			return;
		FUZZ_CHECK(ret == 0, "recv: %s", err.msg);
		ret = ivshmem_client_feed(c, value, fd, &err);
		FUZZ_CHECK(ret == 0, "the client refused %lld from the encoder: %s",
			   (long long)value, err.msg);
	}
}

static void check_against(const struct ivshmem_client *c, const struct model *m,
			  unsigned server_nv, unsigned client_nv, uint16_t own_id)
{
	unsigned kept = server_nv < client_nv ? server_nv : client_nv;
	uint16_t ids[MAX_PEERS + 1];

	FUZZ_CHECK(!ivshmem_client_failed(c), "the client failed");
	FUZZ_CHECK(ivshmem_client_own_id(c) == own_id, "own id %d, not %u",
		   ivshmem_client_own_id(c), own_id);
	FUZZ_CHECK(ivshmem_client_ready(c) == (server_nv >= client_nv),
		   "ready %d with %u server and %u client vectors", ivshmem_client_ready(c),
		   server_nv, client_nv);
	FUZZ_CHECK(ivshmem_client_own_vectors(c) == kept, "%u own vectors, not %u",
		   ivshmem_client_own_vectors(c), kept);
	unsigned n = ivshmem_client_peer_ids(c, ids, MAX_PEERS + 1);
	FUZZ_CHECK(n == m->n, "%u peers, the server has %u", n, m->n);
	for (unsigned i = 0; i < n; i++) {
		FUZZ_CHECK(model_has(m, ids[i]), "peer %u unknown to the server", ids[i]);
		FUZZ_CHECK(ivshmem_client_peer_vectors(c, ids[i]) == kept, "peer %u: %u vectors",
			   ids[i], ivshmem_client_peer_vectors(c, ids[i]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size, 0 };
	unsigned fds_before = count_fds();
	unsigned server_nv = 1 + fuzz_u8(&in) % MAX_SERVER_VECTORS;
	unsigned client_nv = 1 + fuzz_u8(&in) % IVSHMEM_MAX_VECTORS;
	uint16_t own_id = fuzz_u16(&in);
	struct model m = { .n = 0 };
	int sv[2];

	/* One eventfd stands for every vector (each send gives the client a new fd for it). */
	int efd = eventfd(0, EFD_CLOEXEC), shm = memfd_create("fuzz-shm", MFD_CLOEXEC);
	int vec_fds[MAX_SERVER_VECTORS];
	if (efd < 0 || shm < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0)
		abort();
	for (unsigned v = 0; v < MAX_SERVER_VECTORS; v++)
		vec_fds[v] = efd;

	/* The peers present when the client connects: distinct, never the client's own id. */
	unsigned want = fuzz_u8(&in) % (MAX_PEERS + 1);
	struct ivshmem_peer_fds peers[MAX_PEERS];
	for (unsigned i = 0; i < want && fuzz_more(&in); i++) {
		uint16_t id = fuzz_u16(&in);

		if (id != own_id && !model_has(&m, id)) {
			peers[m.n] = (struct ivshmem_peer_fds){ .id = id, .fds = vec_fds };
			m.ids[m.n++] = id;
		}
	}
	struct ivshmem_msg msgs[3 + (MAX_PEERS + 1) * MAX_SERVER_VECTORS];
	size_t n = ivshmem_encode_welcome(msgs, own_id, shm, peers, m.n, vec_fds, server_nv);
	FUZZ_CHECK(n == ivshmem_welcome_len(m.n, server_nv), "welcome of %zu messages, not %zu", n,
		   ivshmem_welcome_len(m.n, server_nv));

	struct ivshmem_client *c = ivshmem_client_new(client_nv, NULL, NULL);
	FUZZ_CHECK(c, "ivshmem_client_new(%u)", client_nv);
	send_all(sv[0], msgs, n);
	drain(sv[1], c);
	check_against(c, &m, server_nv, client_nv, own_id);

	/* Peers come and go: an even byte joins a new id, an odd one makes a present peer leave. */
	for (unsigned e = 0; e < MAX_EVENTS && fuzz_more(&in); e++) {
		uint8_t op = fuzz_u8(&in);

		if (op & 1) {
			if (m.n == 0)
				continue;
			unsigned at = (op >> 1) % m.n;
			struct ivshmem_msg left = ivshmem_encode_left(m.ids[at]);

			m.ids[at] = m.ids[--m.n];
			send_all(sv[0], &left, 1);
		} else {
			uint16_t id = fuzz_u16(&in);
			struct ivshmem_peer_fds p = { .id = id, .fds = vec_fds };

			if (id == own_id || model_has(&m, id) || m.n == MAX_PEERS)
				continue;
			m.ids[m.n++] = id;
			n = ivshmem_encode_joined(msgs, &p, server_nv);
			FUZZ_CHECK(n == server_nv, "a join of %zu messages", n);
			send_all(sv[0], msgs, n);
		}
		drain(sv[1], c);
		check_against(c, &m, server_nv, client_nv, own_id);
	}

	ivshmem_client_free(c);
	close(sv[0]);
	close(sv[1]);
	close(efd);
	close(shm);
	FUZZ_CHECK(count_fds() == fds_before, "%u fds open after, %u before", count_fds(),
		   fds_before);
	return 0;
}
