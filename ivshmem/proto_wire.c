/* The ivshmem protocol on the wire: one little-endian int64 plus at most one SCM_RIGHTS fd. */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ivshmem_proto.h"

#define MSG_LEN 8
/* Room for several fds, so that a message with too many is detected rather than truncated. */
#define CTL_FDS 16
/* How long the rest of a message that has begun to arrive is awaited on a non-blocking socket. */
#define PARTIAL_WAIT_MS 1000

int ivshmem_proto_send(int sock, int64_t value, int fd, struct ivshmem_error *err)
{
	uint64_t le = htole64((uint64_t)value);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		/* MSG_NOSIGNAL: a vanished client must not kill the server with SIGPIPE. */
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return ivshmem_fail(err, EAGAIN, "socket send buffer full");
	if (n < 0)
		return ivshmem_fail(err, errno, "sending message %lld failed: %s", (long long)value,
				    strerror(errno));
	if (n != MSG_LEN)
		return ivshmem_fail(err, EIO, "short send of message %lld: %zd of %d bytes",
				    (long long)value, n, MSG_LEN);
	return 0;
}

/*
 * Takes every fd out of msg's control data into *fd (at most one per message, across the reads
 * of one message). Anything unexpected closes all of them, so no fd leaks on a bad message.
 */
static int collect_fds(struct msghdr *msg, int *fd, struct ivshmem_error *err)
{
	int fds[CTL_FDS + 1];
	unsigned nfds = 0;
	int ret = 0;

	if (*fd >= 0)
		fds[nfds++] = *fd;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			if (!ret)
				ret = ivshmem_fail(err, EPROTO, "unexpected ancillary data (level %d, "
						   "type %d): only SCM_RIGHTS is allowed",
						   c->cmsg_level, c->cmsg_type);
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n && nfds < CTL_FDS + 1; i++)
			memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	if (!ret && (msg->msg_flags & MSG_CTRUNC))
		ret = ivshmem_fail(err, EPROTO, "control data truncated (more fds than a message may "
				   "carry)");
	if (!ret && nfds > 1)
		ret = ivshmem_fail(err, EPROTO, "message carried %u fds, at most one is allowed", nfds);
	if (ret) {
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		*fd = -1;
		return ret;
	}
	*fd = nfds ? fds[0] : -1;
	return 0;
}

static int wait_rest(int sock, struct timespec *deadline, size_t got, struct ivshmem_error *err)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int n = ms > 0 ? poll(&p, 1, (int)ms) : 0;
	if (n < 0 && errno != EINTR)
		return ivshmem_fail(err, errno, "poll failed: %s", strerror(errno));
	if (n == 0)
		return ivshmem_fail(err, ETIMEDOUT, "message stopped after %zu of %d bytes", got,
				    MSG_LEN);
	return 0;
}

int ivshmem_proto_recv(int sock, int64_t *value, int *fd_out, struct ivshmem_error *err)
{
	uint8_t buf[MSG_LEN];
	size_t got = 0;
	int fd = -1, ret;
	struct timespec deadline = { 0, 0 };
	bool waiting = false;

	*fd_out = -1;
	while (got < MSG_LEN) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * CTL_FDS)];
		} ctl;
		struct iovec iov = { .iov_base = buf + got, .iov_len = MSG_LEN - got };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (got == 0) {
				ret = ivshmem_fail(err, EAGAIN, "no message pending");
				goto fail;
			}
			/* A message never straddles sends, so the rest is at most a moment away. */
			if (!waiting) {
				clock_gettime(CLOCK_MONOTONIC, &deadline);
				deadline.tv_sec += PARTIAL_WAIT_MS / 1000;
				waiting = true;
			}
			ret = wait_rest(sock, &deadline, got, err);
			if (ret < 0)
				goto fail;
			continue;
		}
		if (n < 0) {
			ret = ivshmem_fail(err, errno, "receiving a message failed: %s", strerror(errno));
			goto fail;
		}
		ret = collect_fds(&msg, &fd, err);
		if (ret < 0)
			goto fail;
		if (n == 0) {
			if (got == 0 && fd < 0)
				return ivshmem_fail(err, -IVSHMEM_PROTO_EOF, "connection closed by peer");
			ret = ivshmem_fail(err, EPROTO,
					   "connection closed in the middle of a message (%zu of %d "
					   "bytes received)", got, MSG_LEN);
			goto fail;
		}
		got += (size_t)n;
	}
	uint64_t le;
	memcpy(&le, buf, sizeof(le));
	*value = (int64_t)le64toh(le);
	*fd_out = fd;
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	return ret;
}
