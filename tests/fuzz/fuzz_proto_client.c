/*
 * The client side of the ivshmem server protocol as a hostile server drives it: the input is a
 * script of sends on a UNIX socket pair, each some bytes (raw, or one well-formed message) with
 * zero to three fds attached (eventfds or memfds); the other end is read with
 * ivshmem_proto_recv() and every message fed to an ivshmem_client, as acrn-dm does.
 *
 * Properties: no crash and no fd leaked, whatever arrives (a message split or merged across
 * sends, fds on the wrong bytes, too many fds); every fd the client reports is open; what it
 * holds stays within its vector count; a ready client has its memory and all its own vectors.
 */
#include <endian.h>
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

#define MAX_SENDS 64
#define MAX_FDS_PER_SEND 3

static bool fd_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

struct watch {
	struct ivshmem_client *c;
	unsigned nvectors;
};

static void on_event(void *opaque, const struct ivshmem_client_event *ev)
{
	const struct watch *w = opaque;

	switch (ev->type) {
	case IVSHMEM_EV_SHM:
		FUZZ_CHECK(fd_open(ev->fd), "shared memory fd %d is not open", ev->fd);
		break;
	case IVSHMEM_EV_VECTOR_ADDED:
		FUZZ_CHECK(ev->vector < w->nvectors && fd_open(ev->fd),
			   "vector %u of peer %u: fd %d", ev->vector, ev->peer, ev->fd);
		break;
	case IVSHMEM_EV_VECTOR_DROPPED:
		FUZZ_CHECK(ev->vector >= w->nvectors, "vector %u dropped of %u", ev->vector,
			   w->nvectors);
		break;
	case IVSHMEM_EV_PEER_REMOVED:
		/* Its fds are still valid during the callback. */
		for (unsigned v = 0; v < ivshmem_client_peer_vectors(w->c, ev->peer); v++)
			FUZZ_CHECK(fd_open(ivshmem_client_peer_fd(w->c, ev->peer, v)),
				   "departing peer %u: vector %u closed early", ev->peer, v);
		break;
	case IVSHMEM_EV_PEER_ADDED:
	case IVSHMEM_EV_SETUP_COMPLETE:
		break;
	}
}

/* One send of the script; false when the socket will take no more. */
static bool send_one(struct fuzz_input *in, int sock)
{
	uint8_t op = fuzz_u8(in);
	unsigned nfds = (op >> 4) & 3;
	int fds[MAX_FDS_PER_SEND];
	uint8_t bytes[16];
	size_t len;
	bool sent;

	for (unsigned i = 0; i < nfds; i++) {
		fds[i] = op & 0x40 ? memfd_create("fuzz-shm", MFD_CLOEXEC)
				   : eventfd(0, EFD_CLOEXEC);
		if (fds[i] < 0)
			abort();
	}
	if (op & 0x80) {
		/* One well-formed message: a small signed value (-1 is the memory, 0.. are ids). */
		int64_t value = (int16_t)fuzz_u16(in);
		struct ivshmem_error err;

		if (nfds <= 1) {
			int ret = ivshmem_proto_send(sock, value, nfds ? fds[0] : -1, &err);

			FUZZ_CHECK(ret == 0 || ret == -EAGAIN, "send: %s", err.msg);
			sent = ret == 0;
			goto out;
		}
		uint64_t le = htole64((uint64_t)value);
		memcpy(bytes, &le, 8);
		len = 8;
	} else {
		const uint8_t *p = fuzz_bytes(in, op & 0x0f, &len);

		memcpy(bytes, p, len);
	}

	struct iovec iov = { .iov_base = bytes, .iov_len = len };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_SEND)];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	sent = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0;
out:
	/* The receiver has its own copies of what was sent. */
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	return sent;
}

static void check_client(const struct ivshmem_client *c, unsigned nvectors)
{
	uint16_t ids[64];
	unsigned n = ivshmem_client_peer_ids(c, ids, 64);

	FUZZ_CHECK(n == ivshmem_client_peer_count(c), "%u ids for %u peers", n,
		   ivshmem_client_peer_count(c));
	for (unsigned i = 0; i < n && i < 64; i++) {
		unsigned nv = ivshmem_client_peer_vectors(c, ids[i]);

		FUZZ_CHECK(i == 0 || ids[i - 1] < ids[i], "peer ids not ascending");
		FUZZ_CHECK((int)ids[i] != ivshmem_client_own_id(c), "ourselves among the peers");
		FUZZ_CHECK(nv >= 1 && nv <= nvectors, "peer %u with %u vectors", ids[i], nv);
		for (unsigned v = 0; v < nv; v++)
			FUZZ_CHECK(fd_open(ivshmem_client_peer_fd(c, ids[i], v)), "peer %u vector %u",
				   ids[i], v);
		FUZZ_CHECK(ivshmem_client_peer_fd(c, ids[i], nv) == -1, "a vector beyond the count");
	}
	unsigned own = ivshmem_client_own_vectors(c);
	FUZZ_CHECK(own <= nvectors, "%u own vectors of %u", own, nvectors);
	for (unsigned v = 0; v < own; v++)
		FUZZ_CHECK(fd_open(ivshmem_client_own_fd(c, v)), "own vector %u", v);
	if (ivshmem_client_ready(c))
		FUZZ_CHECK(fd_open(ivshmem_client_shm_fd(c)) && own == nvectors &&
				   ivshmem_client_own_id(c) >= 0,
			   "ready without its memory or vectors");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size, 0 };
	unsigned fds_before = count_fds();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	struct watch w = { .nvectors = 1 + fuzz_u8(&in) % IVSHMEM_MAX_VECTORS };
	w.c = ivshmem_client_new(w.nvectors, on_event, &w);
	FUZZ_CHECK(w.c, "ivshmem_client_new(%u)", w.nvectors);

	for (unsigned i = 0; i < MAX_SENDS && fuzz_more(&in); i++)
		if (!send_one(&in, sv[0]))
			break;
	/* Everything is queued before reading starts, so a cut message ends in EOF at once. */
	shutdown(sv[0], SHUT_WR);
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0)
		abort();

	for (;;) {
		struct ivshmem_error err = { { 0 } };
		int64_t value;
		int fd = 7777;
		int ret = ivshmem_proto_recv(sv[1], &value, &fd, &err);

		if (ret < 0) {
			FUZZ_CHECK(fd == -1 && err.msg[0], "recv %d: fd %d, '%s'", ret, fd, err.msg);
			FUZZ_CHECK(ret == IVSHMEM_PROTO_EOF || ret == -EPROTO,
				   "recv %d on a closed stream: %s", ret, err.msg);
			break;
		}
		FUZZ_CHECK(fd == -1 || fd_open(fd), "received fd %d is not open", fd);
		ret = ivshmem_client_feed(w.c, value, fd, &err);
		FUZZ_CHECK(ret == 0 || (ret == -EPROTO && err.msg[0]), "feed %lld: %d",
			   (long long)value, ret);
		check_client(w.c, w.nvectors);
	}
	ivshmem_client_free(w.c);
	close(sv[0]);
	close(sv[1]);
	FUZZ_CHECK(count_fds() == fds_before, "%u fds open after, %u before", count_fds(),
		   fds_before);
	return 0;
}
