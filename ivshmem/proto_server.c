/* Server side of the ivshmem protocol: which messages to send, in QEMU's server's order. */
#include "ivshmem_proto.h"

size_t ivshmem_welcome_len(size_t npeers, unsigned nvectors)
{
	return IVSHMEM_WELCOME_SETUP_LEN + (npeers + 1) * nvectors;
}

size_t ivshmem_encode_joined(struct ivshmem_msg *out, const struct ivshmem_peer_fds *peer,
			     unsigned nvectors)
{
	for (unsigned v = 0; v < nvectors; v++)
		out[v] = (struct ivshmem_msg){ .value = peer->id, .fd = peer->fds[v] };
	return nvectors;
}

struct ivshmem_msg ivshmem_encode_left(uint16_t id)
{
	return (struct ivshmem_msg){ .value = id, .fd = -1 };
}

size_t ivshmem_encode_welcome(struct ivshmem_msg *out, uint16_t own_id, int shm_fd,
			      const struct ivshmem_peer_fds *peers, size_t npeers,
			      const int *own_fds, unsigned nvectors)
{
	size_t n = 0;

	out[n++] = (struct ivshmem_msg){ .value = IVSHMEM_PROTOCOL_VERSION, .fd = -1 };
	out[n++] = (struct ivshmem_msg){ .value = own_id, .fd = -1 };
	out[n++] = (struct ivshmem_msg){ .value = IVSHMEM_SHM_MSG, .fd = shm_fd };
	for (size_t i = 0; i < npeers; i++)
		n += ivshmem_encode_joined(out + n, &peers[i], nvectors);
	/* Own vectors last: a client knows its set-up is complete when the last one arrives. */
	struct ivshmem_peer_fds self = { .id = own_id, .fds = own_fds };
	n += ivshmem_encode_joined(out + n, &self, nvectors);
	return n;
}
