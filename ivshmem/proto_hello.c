/* The identity hello of acrn-ivshmem-server's identity socket (see ivshmem_proto.h). */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "ivshmem_proto.h"

static bool identity_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '-';
}

int ivshmem_identity_check(const char *identity, struct ivshmem_error *err)
{
	if (!identity || !identity[0])
		return ivshmem_fail(err, EINVAL, "identity is empty (1..%d characters)",
				    IVSHMEM_IDENTITY_MAX);
	size_t len = strnlen(identity, IVSHMEM_IDENTITY_MAX + 1);
	if (len > IVSHMEM_IDENTITY_MAX)
		return ivshmem_fail(err, EINVAL, "identity is longer than %d characters",
				    IVSHMEM_IDENTITY_MAX);
	for (size_t i = 0; i < len; i++)
		if (!identity_char_ok(identity[i]))
			return ivshmem_fail(err, EINVAL, "identity: character %zu is not one of "
					    "letters, digits, '_', '.', ':', '-'", i + 1);
	return 0;
}

int ivshmem_encode_hello(const char *identity, uint8_t out[IVSHMEM_HELLO_LEN],
			 struct ivshmem_error *err)
{
	int ret = ivshmem_identity_check(identity, err);
	if (ret < 0)
		return ret;
	uint32_t version = htole32(IVSHMEM_HELLO_VERSION), flags = 0;
	memset(out, 0, IVSHMEM_HELLO_LEN);
	memcpy(out, IVSHMEM_HELLO_MAGIC, 8);
	memcpy(out + 8, &version, 4);
	memcpy(out + 12, &flags, 4);
	memcpy(out + 16, identity, strlen(identity));
	return 0;
}

int ivshmem_decode_hello(const uint8_t in[IVSHMEM_HELLO_LEN],
			 char identity[IVSHMEM_IDENTITY_MAX + 1], struct ivshmem_error *err)
{
	uint32_t version, flags;
	if (memcmp(in, IVSHMEM_HELLO_MAGIC, 8) != 0)
		return ivshmem_fail(err, EPROTO, "hello: bad magic (expected \"%s\")",
				    IVSHMEM_HELLO_MAGIC);
	memcpy(&version, in + 8, 4);
	memcpy(&flags, in + 12, 4);
	if (le32toh(version) != IVSHMEM_HELLO_VERSION)
		return ivshmem_fail(err, EPROTO, "hello: unsupported version %u (expected %d)",
				    le32toh(version), IVSHMEM_HELLO_VERSION);
	if (flags)
		return ivshmem_fail(err, EPROTO, "hello: unknown flags %#x", le32toh(flags));
	const char *field = (const char *)in + 16;
	size_t len = strnlen(field, IVSHMEM_IDENTITY_MAX + 1);
	if (len > IVSHMEM_IDENTITY_MAX)
		return ivshmem_fail(err, EPROTO, "hello: identity is not NUL-terminated within %d "
				    "characters", IVSHMEM_IDENTITY_MAX);
	/* Padding must be zero too, so the field can never smuggle anything. */
	for (size_t i = len; i < IVSHMEM_HELLO_LEN - 16; i++)
		if (field[i])
			return ivshmem_fail(err, EPROTO, "hello: identity padding is not zero");
	memcpy(identity, field, len);
	identity[len] = '\0';
	struct ivshmem_error cerr;
	if (ivshmem_identity_check(identity, &cerr) < 0)
		return ivshmem_fail(err, EPROTO, "hello: %s", cerr.msg);
	return 0;
}

int ivshmem_proto_send_hello(int sock, const char *identity, struct ivshmem_error *err)
{
	uint8_t buf[IVSHMEM_HELLO_LEN];
	int ret = ivshmem_encode_hello(identity, buf, err);
	if (ret < 0)
		return ret;
	size_t off = 0;
	while (off < sizeof(buf)) {
		ssize_t n = send(sock, buf + off, sizeof(buf) - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = sock, .events = POLLOUT };
			if (poll(&p, 1, 1000) <= 0)
				return ivshmem_fail(err, ETIMEDOUT, "sending the hello timed out");
			continue;
		}
		if (n < 0)
			return ivshmem_fail(err, errno, "sending the hello failed: %s",
					    strerror(errno));
		off += (size_t)n;
	}
	return 0;
}
