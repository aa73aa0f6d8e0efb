/*
 * The identity hello of acrn-ivshmem-server's identity socket: ivshmem_decode_hello() on the
 * first 80 bytes of the input (what a client sends), and ivshmem_encode_hello() /
 * ivshmem_proto_send_hello() on the input as an identity.
 *
 * Properties: a decoded identity passes ivshmem_identity_check and encodes back to exactly the
 * bytes it came from (the decoder accepts one spelling of each hello); an identity is encoded
 * exactly when it is valid, and what is sent decodes back to it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "ivshmem_proto.h"

static void check_decode(const uint8_t *data, size_t size)
{
	uint8_t in[IVSHMEM_HELLO_LEN] = { 0 }, again[IVSHMEM_HELLO_LEN];
	char identity[IVSHMEM_IDENTITY_MAX + 1];
	struct ivshmem_error err = { { 0 } };

	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	int ret = ivshmem_decode_hello(in, identity, &err);
	if (ret < 0) {
		FUZZ_CHECK(ret == -EPROTO && err.msg[0], "decode: %d '%s'", ret, err.msg);
		return;
	}
	FUZZ_CHECK(ret == 0, "decode: %d", ret);
	FUZZ_CHECK(ivshmem_identity_check(identity, &err) == 0, "decoded '%s': %s", identity,
		   err.msg);
	FUZZ_CHECK(ivshmem_encode_hello(identity, again, &err) == 0, "re-encode '%s': %s",
		   identity, err.msg);
	FUZZ_CHECK(memcmp(in, again, sizeof(in)) == 0, "'%s' was accepted in another spelling",
		   identity);
}

static void check_encode(const uint8_t *data, size_t size)
{
	char *identity = fuzz_strdup(data, size);
	uint8_t out[IVSHMEM_HELLO_LEN], got[IVSHMEM_HELLO_LEN];
	char back[IVSHMEM_IDENTITY_MAX + 1];
	struct ivshmem_error err = { { 0 } };
	bool valid = ivshmem_identity_check(identity, &err) == 0;
	int ret = ivshmem_encode_hello(identity, out, &err);

	FUZZ_CHECK((ret == 0) == valid, "encode %d for an identity that is %svalid", ret,
		   valid ? "" : "in");
	if (ret == 0) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			abort();
		FUZZ_CHECK(ivshmem_proto_send_hello(sv[0], identity, &err) == 0, "send: %s",
			   err.msg);
		FUZZ_CHECK(recv(sv[1], got, sizeof(got), MSG_WAITALL) == (ssize_t)sizeof(got),
			   "short hello");
		close(sv[0]);
		close(sv[1]);
		FUZZ_CHECK(memcmp(got, out, sizeof(out)) == 0, "sent other bytes than encoded");
		FUZZ_CHECK(ivshmem_decode_hello(got, back, &err) == 0 && strcmp(back, identity) == 0,
			   "'%s' does not decode back: %s", identity, err.msg);
	}
	free(identity);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode(data, size);
	check_encode(data, size);
	return 0;
}
