/*
 * QEMU's ivshmem server protocol, version 0 (docs/specs/ivshmem-spec.txt), both sides.
 *
 * UNIX stream socket; the server only sends. Each message is one little-endian int64, optionally
 * carrying one fd (SCM_RIGHTS). On connect a client receives: 0 (the version), its own id, -1 with
 * the shared memory fd, then every present peer's id once per vector with that vector's eventfd,
 * then its own id once per vector with its own eventfds. Later: id + fd = that peer's next vector
 * (a peer joined), id without fd = that peer left.
 */
#ifndef IVSHMEM_PROTO_H
#define IVSHMEM_PROTO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ivshmem_error.h"

#define IVSHMEM_PROTOCOL_VERSION 0
#define IVSHMEM_MAX_PEER_ID	 65535	/* ids are 16 bits: the doorbell's bits 31..16 */
#define IVSHMEM_MAX_VECTORS	 64	/* QEMU's server and device limit */
#define IVSHMEM_SHM_MSG		 (-1)	/* the value sent with the shared memory fd */

/* ---- wire: one message each way ---- */

/*
 * Sends value with fd attached (fd < 0: none). Never raises SIGPIPE. A non-blocking socket whose
 * buffer is full gives -EAGAIN and nothing is sent; a partial send (never seen on AF_UNIX) is -EIO.
 */
int ivshmem_proto_send(int sock, int64_t value, int fd, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

/* Returned by ivshmem_proto_recv when the peer closed the connection cleanly between messages. */
#define IVSHMEM_PROTO_EOF (-EPIPE)

/*
 * Receives one message: *value, and *fd (the received fd, or -1). Blocks on a blocking socket;
 * on a non-blocking one, -EAGAIN when nothing is pending, and the rest of a message that has
 * started is awaited for up to one second. Errors (each with a message in err, and no fd left
 * open): IVSHMEM_PROTO_EOF for a clean close; -EPROTO for a value cut short by EOF, more than one
 * fd, truncated control data (MSG_CTRUNC) or ancillary data other than SCM_RIGHTS; -ETIMEDOUT for
 * a message that stopped halfway; other -errno from recvmsg.
 */
int ivshmem_proto_recv(int sock, int64_t *value, int *fd, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

/* ---- client side: a state machine fed one received message at a time ---- */

enum ivshmem_client_event_type {
	IVSHMEM_EV_SHM,			/* fd = the shared memory fd (still owned by the client) */
	IVSHMEM_EV_PEER_ADDED,		/* a peer id appeared (reported before its first vector) */
	IVSHMEM_EV_VECTOR_ADDED,	/* peer's eventfd for vector; own = our own (to be rung on) */
	IVSHMEM_EV_VECTOR_DROPPED,	/* an fd beyond our vector count was closed (vector = its index) */
	IVSHMEM_EV_PEER_REMOVED,	/* peer left; its fds are still valid during the callback */
	IVSHMEM_EV_SETUP_COMPLETE,	/* shm received and all own vectors known */
};

struct ivshmem_client_event {
	enum ivshmem_client_event_type type;
	uint16_t peer;			/* peer id (own id for own vectors and SETUP_COMPLETE) */
	unsigned vector;		/* VECTOR_ADDED / VECTOR_DROPPED */
	int fd;				/* SHM / VECTOR_ADDED: borrowed, owned by the client */
	bool own;			/* VECTOR_ADDED / VECTOR_DROPPED of our own vectors */
};

typedef void (*ivshmem_client_cb)(void *opaque, const struct ivshmem_client_event *ev);

struct ivshmem_client;

/*
 * nvectors: how many vectors this client uses (1..IVSHMEM_MAX_VECTORS). A server with more vectors
 * is tolerated: fds beyond nvectors, ours or a peer's, are closed and reported as VECTOR_DROPPED
 * (such vectors can then neither be rung nor received). cb may be NULL. NULL on a bad nvectors.
 */
struct ivshmem_client *ivshmem_client_new(unsigned nvectors, ivshmem_client_cb cb, void *opaque);
/* Closes every fd the client still owns. NULL is fine. */
void ivshmem_client_free(struct ivshmem_client *c);

/*
 * Feeds one message; always takes ownership of fd (stored, or closed when rejected). Errors in the
 * set-up sequence (wrong version, an fd on the version or id message, own id out of range, the
 * shared memory message without an fd) are fatal: every later feed fails with -EPROTO. Other bad
 * messages (an id out of range, a second shared memory message, a departure of ourselves) are
 * rejected alone and the client stays usable. All errors are -EPROTO with err set.
 */
int ivshmem_client_feed(struct ivshmem_client *c, int64_t value, int fd, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

bool ivshmem_client_ready(const struct ivshmem_client *c);	/* SETUP_COMPLETE was reported */
bool ivshmem_client_failed(const struct ivshmem_client *c);
int ivshmem_client_own_id(const struct ivshmem_client *c);	/* -1 until received */
unsigned ivshmem_client_nvectors(const struct ivshmem_client *c);
/* The shared memory fd, still owned by the client; -1 until received or after take. */
int ivshmem_client_shm_fd(const struct ivshmem_client *c);
/* Hands the shared memory fd over to the caller (e.g. to ivshmem_region_adopt). */
int ivshmem_client_take_shm_fd(struct ivshmem_client *c);
/* Own eventfd for vector (to be rung on), or -1. */
int ivshmem_client_own_fd(const struct ivshmem_client *c, unsigned vector);
unsigned ivshmem_client_own_vectors(const struct ivshmem_client *c);
/* Another peer's eventfd for vector (writing 1 rings it), or -1 when unknown. */
int ivshmem_client_peer_fd(const struct ivshmem_client *c, unsigned peer, unsigned vector);
unsigned ivshmem_client_peer_vectors(const struct ivshmem_client *c, unsigned peer);
unsigned ivshmem_client_peer_count(const struct ivshmem_client *c);	/* other peers known */
/* Ids of the known peers, ascending, into ids[0..max); returns how many there are. */
unsigned ivshmem_client_peer_ids(const struct ivshmem_client *c, uint16_t *ids, unsigned max);

/* ---- server side: what to send, in QEMU's order ---- */

struct ivshmem_msg {
	int64_t value;
	int fd;			/* borrowed from the caller; -1 for none */
};

struct ivshmem_peer_fds {
	uint16_t id;
	const int *fds;		/* nvectors eventfds */
};

/* The welcome's first messages: version, own id, -1 + shm_fd. */
#define IVSHMEM_WELCOME_SETUP_LEN 3

/*
 * The sequence a newly connected client receives: version, own id, -1 + shm_fd, each peer's
 * vectors (peers[] in order), then its own vectors. out must hold
 * ivshmem_welcome_len(npeers, nvectors) messages. Returns the count written.
 */
size_t ivshmem_welcome_len(size_t npeers, unsigned nvectors);
size_t ivshmem_encode_welcome(struct ivshmem_msg *out, uint16_t own_id, int shm_fd,
			      const struct ivshmem_peer_fds *peers, size_t npeers,
			      const int *own_fds, unsigned nvectors);
/* What every other client receives when peer joins (nvectors messages) or leaves (one). */
size_t ivshmem_encode_joined(struct ivshmem_msg *out, const struct ivshmem_peer_fds *peer,
			     unsigned nvectors);
struct ivshmem_msg ivshmem_encode_left(uint16_t id);

/*
 * ---- beyond protocol 0: the identity hello (docs/ivshmem-server.md) ----
 * Sent once by a client, first, on the server's identity socket only (never on the protocol-0
 * socket): 8-byte magic, LE32 version 1, LE32 flags 0, 64-byte NUL-padded identity. The server
 * then runs the ordinary protocol-0 welcome, giving a returning identity its previous peer id.
 */
#define IVSHMEM_HELLO_MAGIC	 "ACRNIVSH"
#define IVSHMEM_HELLO_VERSION	 1
#define IVSHMEM_HELLO_LEN	 80
#define IVSHMEM_IDENTITY_MAX	 63	/* characters, [A-Za-z0-9_.:-] */

/* -EINVAL with the rule broken when identity is not 1..63 of [A-Za-z0-9_.:-]. */
int ivshmem_identity_check(const char *identity, struct ivshmem_error *err)
	__attribute__((warn_unused_result));
int ivshmem_encode_hello(const char *identity, uint8_t out[IVSHMEM_HELLO_LEN],
			 struct ivshmem_error *err) __attribute__((warn_unused_result));
/* Validates every field; -EPROTO naming the bad one. identity gets the NUL-terminated name. */
int ivshmem_decode_hello(const uint8_t in[IVSHMEM_HELLO_LEN],
			 char identity[IVSHMEM_IDENTITY_MAX + 1], struct ivshmem_error *err)
	__attribute__((warn_unused_result));
/* Encodes and writes the hello (whole, retrying short writes; no SIGPIPE). */
int ivshmem_proto_send_hello(int sock, const char *identity, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

#endif
