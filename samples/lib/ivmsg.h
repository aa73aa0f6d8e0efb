/*
 * ivmsg: a message channel between two peers over one ivshmem region.
 *
 * The seed's scenario: an operator VM sends commands to a real-time VM and reads its answers.
 * The region holds a header and two single-producer single-consumer rings of fixed-size
 * messages: ring 0 carries commands from side A (the one that formats the region, e.g. the
 * operator) to side B; ring 1 carries responses from B to A.
 *
 * The core is freestanding C: no libc, only memory, GCC's __atomic builtins and fences. It
 * builds into bare-metal guests (samples/demo), Linux user space (samples/linux) and the host's
 * unit tests alike.
 *
 * Trust: the peer may be buggy or hostile. Everything read from shared memory is checked before
 * use: the layout once, when attaching (and then kept in private memory, never read again), the
 * ring indices and each message's sequence number, session and length on every call. A bad
 * value makes the channel return IVMSG_ECORRUPT from then on; no function ever indexes outside
 * the region or loops on a value the peer controls.
 *
 * Wire layout (little-endian; offsets from the start of the channel, which is 64-byte aligned):
 *
 *	0	struct ivmsg_shm_header (IVMSG_HEADER_AREA bytes reserved)
 *	ring_off[r]	ring r's indices: head (producer) at +0, tail (consumer) at +64, 128 bytes
 *	slot_off[r]	ring r's slots: slots * IVMSG_MSG_SIZE bytes
 *
 * Indices are free-running 32-bit counters, starting at a value derived from the session;
 * slot = index % slots (slots is a power of two), head - tail = messages queued (0..slots).
 * A message carries its index as its sequence number and the session it was sent in.
 *
 * Memory ordering: the producer fills a slot, then publishes head; the consumer reads head
 * (acquire), copies the slot out, then publishes tail. Each side publishes its own index with
 * a compare-and-exchange from the value it last wrote (a full barrier): when side A has reset
 * the index meanwhile by formatting again, the store does not happen and the caller gets
 * IVMSG_ERESET. A peer that keeps writing after a reset can still spoil a message of the new
 * session; that is detected (IVMSG_ECORRUPT), not prevented.
 * Map the region write-back (guests, the host) or uncached (Linux's sysfs resource2): on x86
 * an acquire load is a plain load, which a write-combining mapping would let pass earlier loads.
 */
#ifndef SAMPLES_IVMSG_H
#define SAMPLES_IVMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IVMSG_MAGIC		0x47534d49u	/* "IMSG" in memory */
#define IVMSG_VERSION_MAJOR	1		/* a different major version is refused */
#define IVMSG_VERSION_MINOR	1		/* a newer minor version is accepted */
#define IVMSG_STATE_READY	0x52454459u	/* "YDER": the header is complete */

#define IVMSG_MSG_SIZE		128		/* bytes per slot */
#define IVMSG_MSG_HDR_SIZE	16
#define IVMSG_PAYLOAD_MAX	(IVMSG_MSG_SIZE - IVMSG_MSG_HDR_SIZE)
#define IVMSG_MAX_SLOTS		65536u		/* per ring */
#define IVMSG_HEADER_AREA	256		/* bytes reserved for the header */
#define IVMSG_RING_CTRL_SIZE	128		/* head and tail, each on its own cache line */
#define IVMSG_ALIGN		64		/* of the channel and of each ring */

/* Rings by direction. */
#define IVMSG_RING_A_TO_B	0		/* commands */
#define IVMSG_RING_B_TO_A	1		/* responses */

/* Results: 0, or one of these (negative). */
enum ivmsg_error {
	IVMSG_EEMPTY = -1,	/* recv: nothing queued */
	IVMSG_EFULL = -2,	/* send: the peer has not consumed enough yet */
	IVMSG_ENOTREADY = -3,	/* attach: side A has not formatted the region (yet) */
	IVMSG_EINVAL = -4,	/* a bad argument from the caller */
	IVMSG_EMSGSIZE = -5,	/* send: payload longer than IVMSG_PAYLOAD_MAX */
	IVMSG_EMAGIC = -6,	/* attach: the region holds something else */
	IVMSG_EVERSION = -7,	/* attach: another major version of the protocol */
	IVMSG_ELAYOUT = -8,	/* attach: the header describes an impossible layout */
	IVMSG_ECORRUPT = -9,	/* an index, sequence number or length from the peer is wrong */
	IVMSG_ERESET = -10,	/* side A formatted the region again: attach again */
};

/* The shared header, as it lies in the region. Only ivmsg.c reads or writes it. */
struct ivmsg_shm_header {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t state;		/* IVMSG_STATE_READY once every other field is written */
	uint32_t session;	/* bumped by every format; never 0 when ready */
	uint32_t peer_session;	/* written by side B: the session it attached to */
	uint32_t msg_size;
	uint32_t slots;
	uint32_t ring_off[2];
	uint32_t slot_off[2];
	uint32_t total_size;	/* bytes of the region the channel uses */
	/* Since 1.1: each side's doorbell peer id (IVPosition) | IVMSG_ID_VALID, or 0. */
	uint32_t doorbell_id[2];
};

#define IVMSG_ID_VALID		0x80000000u

/* One message, as copied out of (or into) a slot. */
struct ivmsg_msg {
	uint32_t seq;		/* set by ivmsg_send: the message's index in its ring (an
				   identifier to match answers with: it need not start at 0) */
	uint32_t session;	/* set by ivmsg_send: the channel's session */
	uint16_t type;		/* the application's */
	uint16_t len;		/* bytes of data used */
	uint32_t ref;		/* the application's, e.g. the seq of the command answered */
	uint8_t data[IVMSG_PAYLOAD_MAX];
};

_Static_assert(sizeof(struct ivmsg_msg) == IVMSG_MSG_SIZE, "a message fills exactly one slot");
_Static_assert(sizeof(struct ivmsg_shm_header) <= IVMSG_HEADER_AREA, "header area too small");

/* Called after each message is published, to ring the peer (e.g. an ivshmem doorbell). */
typedef void (*ivmsg_doorbell_fn)(void *ctx);

struct ivmsg_ring {
	uint8_t *ctrl;		/* head at +0, tail at +64 */
	uint8_t *slots;
};

/* One end of a channel, in the caller's private memory. Treat the fields as private. */
struct ivmsg_chan {
	uint8_t *base;
	size_t size;
	uint32_t session;
	uint32_t slots;		/* validated copy: never re-read from shared memory */
	int side;		/* 0: A (formats), 1: B (attaches) */
	int broken;		/* a sticky IVMSG_ECORRUPT or IVMSG_ERESET, or 0 */
	struct ivmsg_ring tx, rx;
	uint32_t tx_head;	/* our own indices: the shared copies are only published */
	uint32_t rx_tail;
	ivmsg_doorbell_fn doorbell;
	void *doorbell_ctx;
};

/* Bytes of region a channel with this many slots per ring needs (0 for an invalid count). */
size_t ivmsg_layout_size(uint32_t slots);

/*
 * Side A: lays out a fresh channel at base (64-byte aligned, size bytes available) with slots
 * messages per ring (a power of two, 1..IVMSG_MAX_SLOTS), in a new session. Any peer attached
 * to an earlier session sees IVMSG_ERESET. Returns 0, IVMSG_EINVAL.
 */
int ivmsg_format(struct ivmsg_chan *c, void *base, size_t size, uint32_t slots);

/*
 * Side B: attaches to the channel side A formatted at base, and tells A so. Returns 0,
 * IVMSG_ENOTREADY (not formatted yet: try again later), IVMSG_EINVAL, IVMSG_EMAGIC,
 * IVMSG_EVERSION or IVMSG_ELAYOUT.
 */
int ivmsg_attach(struct ivmsg_chan *c, void *base, size_t size);

/* Side A: true once a side B has attached to the current session. */
bool ivmsg_peer_attached(const struct ivmsg_chan *c);

/* Sets (or, with fn NULL, clears) the doorbell called after every successful send. */
void ivmsg_set_doorbell(struct ivmsg_chan *c, ivmsg_doorbell_fn fn, void *ctx);

/*
 * Doorbell devices: tells the peer which id rings us (our IVPosition, 0..65535), and reads
 * the id the peer published (-1 while it has not). Each format clears both. The peer's value
 * is only ever used as a doorbell destination, so it is not trusted beyond its 16 bits.
 */
void ivmsg_set_local_id(struct ivmsg_chan *c, uint16_t id);
int ivmsg_peer_id(const struct ivmsg_chan *c);

/*
 * Queues one message: type, ref and len bytes of data. *seq (if seq is not NULL) gets the
 * message's sequence number. Returns 0, IVMSG_EFULL, IVMSG_EMSGSIZE, IVMSG_EINVAL,
 * IVMSG_ECORRUPT or IVMSG_ERESET.
 */
int ivmsg_send(struct ivmsg_chan *c, uint16_t type, uint32_t ref, const void *data, size_t len,
	       uint32_t *seq);
/* ivmsg_send with a NUL-terminated string (the NUL is not sent). */
int ivmsg_send_str(struct ivmsg_chan *c, uint16_t type, uint32_t ref, const char *s,
		   uint32_t *seq);

/*
 * Takes the next message into *msg (copied out of shared memory, then checked). Returns 0,
 * IVMSG_EEMPTY, IVMSG_ECORRUPT or IVMSG_ERESET.
 */
int ivmsg_recv(struct ivmsg_chan *c, struct ivmsg_msg *msg);

/* Messages waiting to be received (> 0), 0, or a negative error as ivmsg_recv gives. */
int ivmsg_poll(struct ivmsg_chan *c);

/* A short English name for a result code. */
const char *ivmsg_strerror(int err);

#endif
