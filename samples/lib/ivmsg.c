/*
 * ivmsg: the channel's implementation. Freestanding: no libc calls, so every copy is an explicit
 * loop and shared memory is touched only through the helpers below.
 */
#include "ivmsg.h"

/* Offsets inside a ring's control block: producer and consumer on separate cache lines. */
#define CTRL_HEAD 0
#define CTRL_TAIL 64

/* ivmsg_send writes a message's header as two words: this is the layout it assumes. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire format is little-endian");
_Static_assert(offsetof(struct ivmsg_msg, session) == 4 && offsetof(struct ivmsg_msg, type) == 8 &&
		       offsetof(struct ivmsg_msg, len) == 10 && offsetof(struct ivmsg_msg, ref) == 12 &&
		       offsetof(struct ivmsg_msg, data) == IVMSG_MSG_HDR_SIZE,
	       "struct ivmsg_msg layout");

/* A uint64_t that may alias anything, for copying messages a word at a time. */
typedef uint64_t __attribute__((may_alias)) u64_alias;

static struct ivmsg_shm_header *hdr(const struct ivmsg_chan *c)
{
	return (struct ivmsg_shm_header *)(void *)c->base;
}

static uint32_t load32(const void *p)
{
	return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
}

static void store32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE);
}

/* A full fence: orders earlier stores (also write-combining ones) before the next store. */
static void publish_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

size_t ivmsg_layout_size(uint32_t slots)
{
	if (!is_pow2(slots) || slots > IVMSG_MAX_SLOTS)
		return 0;
	return IVMSG_HEADER_AREA + 2 * IVMSG_RING_CTRL_SIZE + 2 * (size_t)slots * IVMSG_MSG_SIZE;
}

static void chan_reset(struct ivmsg_chan *c, uint8_t *base, size_t size, int side)
{
	c->base = base;
	c->size = size;
	c->session = 0;
	c->slots = 0;
	c->side = side;
	c->broken = 0;
	c->tx.ctrl = c->tx.slots = c->rx.ctrl = c->rx.slots = NULL;
	c->tx_head = c->rx_tail = 0;
	c->doorbell = NULL;
	c->doorbell_ctx = NULL;
}

/* Points the channel's rings at a layout that has been checked to fit. */
static void chan_bind(struct ivmsg_chan *c, const uint32_t ring_off[2], const uint32_t slot_off[2])
{
	int tx = c->side == 0 ? IVMSG_RING_A_TO_B : IVMSG_RING_B_TO_A;
	int rx = 1 - tx;

	c->tx.ctrl = c->base + ring_off[tx];
	c->tx.slots = c->base + slot_off[tx];
	c->rx.ctrl = c->base + ring_off[rx];
	c->rx.slots = c->base + slot_off[rx];
}

int ivmsg_format(struct ivmsg_chan *c, void *base, size_t size, uint32_t slots)
{
	size_t need = ivmsg_layout_size(slots);
	uint32_t ring_off[2], slot_off[2];
	struct ivmsg_shm_header *h = base;

	if (!c || !base || ((uintptr_t)base % IVMSG_ALIGN) || !need || size < need ||
	    need > UINT32_MAX)
		return IVMSG_EINVAL;
	chan_reset(c, base, size, 0);

	/*
	 * Readers ignore the header until the state says ready again. The new session is
	 * published before any index is reset, so a peer still working in the old session that
	 * finds an index it did not expect can tell a reset from corruption (see anomaly()).
	 */
	store32(&h->state, 0);
	publish_fence();
	uint32_t session = load32(&h->magic) == IVMSG_MAGIC ? load32(&h->session) + 1 : 1;
	if (session == 0)
		session = 1;
	store32(&h->session, session);
	publish_fence();

	ring_off[0] = IVMSG_HEADER_AREA;
	ring_off[1] = IVMSG_HEADER_AREA + IVMSG_RING_CTRL_SIZE;
	slot_off[0] = IVMSG_HEADER_AREA + 2 * IVMSG_RING_CTRL_SIZE;
	slot_off[1] = slot_off[0] + slots * IVMSG_MSG_SIZE;
	/*
	 * Each session's indices start somewhere else, so an index a stale peer expects to find
	 * (see publish_index()) is practically never the one a new session starts from.
	 */
	uint32_t first = session * 0x9e3779b1u;
	for (int r = 0; r < 2; r++) {
		store32(c->base + ring_off[r] + CTRL_HEAD, first);
		store32(c->base + ring_off[r] + CTRL_TAIL, first);
		store32(&h->ring_off[r], ring_off[r]);
		store32(&h->slot_off[r], slot_off[r]);
	}
	store32(&h->magic, IVMSG_MAGIC);
	__atomic_store_n(&h->version_major, (uint16_t)IVMSG_VERSION_MAJOR, __ATOMIC_RELEASE);
	__atomic_store_n(&h->version_minor, (uint16_t)IVMSG_VERSION_MINOR, __ATOMIC_RELEASE);
	store32(&h->peer_session, 0);
	store32(&h->doorbell_id[0], 0);
	store32(&h->doorbell_id[1], 0);
	store32(&h->msg_size, IVMSG_MSG_SIZE);
	store32(&h->slots, slots);
	store32(&h->total_size, (uint32_t)need);
	publish_fence();
	store32(&h->state, IVMSG_STATE_READY);

	c->session = session;
	c->slots = slots;
	c->tx_head = c->rx_tail = first;
	chan_bind(c, ring_off, slot_off);
	return 0;
}

/* [off, off + len) lies inside the channel, after the header. */
static bool span_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off >= IVMSG_HEADER_AREA && off <= size && len <= size - off;
}

static bool spans_disjoint(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a + alen <= b || b + blen <= a;
}

/* Checks a header snapshot against the region size: nothing may point outside or overlap. */
static int check_layout(uint32_t msg_size, uint32_t slots, const uint32_t ring_off[2],
			const uint32_t slot_off[2], uint64_t size)
{
	uint64_t ring_bytes, spans[4][2];

	if (msg_size != IVMSG_MSG_SIZE || !is_pow2(slots) || slots > IVMSG_MAX_SLOTS)
		return IVMSG_ELAYOUT;
	ring_bytes = (uint64_t)slots * IVMSG_MSG_SIZE;
	for (int r = 0; r < 2; r++) {
		if (ring_off[r] % IVMSG_ALIGN || slot_off[r] % 8)
			return IVMSG_ELAYOUT;
		spans[2 * r][0] = ring_off[r];
		spans[2 * r][1] = IVMSG_RING_CTRL_SIZE;
		spans[2 * r + 1][0] = slot_off[r];
		spans[2 * r + 1][1] = ring_bytes;
	}
	for (int i = 0; i < 4; i++) {
		if (!span_ok(spans[i][0], spans[i][1], size))
			return IVMSG_ELAYOUT;
		for (int j = i + 1; j < 4; j++)
			if (!spans_disjoint(spans[i][0], spans[i][1], spans[j][0], spans[j][1]))
				return IVMSG_ELAYOUT;
	}
	return 0;
}

int ivmsg_attach(struct ivmsg_chan *c, void *base, size_t size)
{
	struct ivmsg_shm_header *h = base;
	uint32_t ring_off[2], slot_off[2], session, slots, msg_size, magic;
	int ret;

	if (!c || !base || ((uintptr_t)base % IVMSG_ALIGN) || size < IVMSG_HEADER_AREA)
		return IVMSG_EINVAL;
	chan_reset(c, base, size, 1);

	magic = load32(&h->magic);
	if (magic == 0)
		return IVMSG_ENOTREADY;	/* a fresh, zeroed region */
	if (magic != IVMSG_MAGIC)
		return IVMSG_EMAGIC;
	if (load32(&h->state) != IVMSG_STATE_READY)
		return IVMSG_ENOTREADY;
	/* One snapshot of the header: everything below uses these copies only. */
	session = load32(&h->session);
	if (__atomic_load_n(&h->version_major, __ATOMIC_ACQUIRE) != IVMSG_VERSION_MAJOR)
		return IVMSG_EVERSION;
	msg_size = load32(&h->msg_size);
	slots = load32(&h->slots);
	for (int r = 0; r < 2; r++) {
		ring_off[r] = load32(&h->ring_off[r]);
		slot_off[r] = load32(&h->slot_off[r]);
	}
	/* Side A was formatting meanwhile: the snapshot may be torn. */
	publish_fence();
	if (load32(&h->state) != IVMSG_STATE_READY || load32(&h->session) != session ||
	    session == 0)
		return IVMSG_ENOTREADY;
	ret = check_layout(msg_size, slots, ring_off, slot_off, size);
	if (ret)
		return ret;

	c->session = session;
	c->slots = slots;
	chan_bind(c, ring_off, slot_off);
	/*
	 * Carry on from our own published indices: where side A started them in a fresh session,
	 * where we left off when we attach again (our VM rebooted). Every call checks them
	 * against the peer's.
	 */
	c->rx_tail = load32(c->rx.ctrl + CTRL_TAIL);
	c->tx_head = load32(c->tx.ctrl + CTRL_HEAD);
	store32(&h->peer_session, session);
	return 0;
}

bool ivmsg_peer_attached(const struct ivmsg_chan *c)
{
	return c && c->base && c->side == 0 && c->session &&
	       load32(&hdr(c)->peer_session) == c->session;
}

void ivmsg_set_doorbell(struct ivmsg_chan *c, ivmsg_doorbell_fn fn, void *ctx)
{
	if (!c)
		return;
	c->doorbell = fn;
	c->doorbell_ctx = fn ? ctx : NULL;
}

void ivmsg_set_local_id(struct ivmsg_chan *c, uint16_t id)
{
	if (c && c->base && c->session)
		store32(&hdr(c)->doorbell_id[c->side], IVMSG_ID_VALID | id);
}

int ivmsg_peer_id(const struct ivmsg_chan *c)
{
	if (!c || !c->base || !c->session)
		return -1;
	uint32_t v = load32(&hdr(c)->doorbell_id[1 - c->side]);
	return v & IVMSG_ID_VALID ? (int)(v & 0xffff) : -1;
}

/* Side A is formatting the region again, or has: our session is over. */
static bool session_over(const struct ivmsg_chan *c)
{
	return load32(&hdr(c)->state) != IVMSG_STATE_READY ||
	       load32(&hdr(c)->session) != c->session;
}

/* 0 while the channel is usable; else its sticky error. */
static int chan_check(struct ivmsg_chan *c)
{
	if (!c || !c->base || !c->session)
		return IVMSG_EINVAL;
	if (c->broken)
		return c->broken;
	if (session_over(c))
		return c->broken = IVMSG_ERESET;
	return 0;
}

/*
 * Something from the region was impossible. If side A re-formatted meanwhile (it zeroes the
 * indices after publishing the new session), that explains it: a reset. Otherwise the peer
 * broke the channel. Sticky either way.
 */
static int anomaly(struct ivmsg_chan *c)
{
	publish_fence();
	return c->broken = session_over(c) ? IVMSG_ERESET : IVMSG_ECORRUPT;
}

/*
 * Publishes our own index: only we write it, so it must still hold the value we last wrote.
 * If not (side A zeroed it in a re-format, or the peer scribbled on it), nothing is written.
 */
static bool publish_index(uint8_t *p, uint32_t expected, uint32_t value)
{
	return __atomic_compare_exchange_n((uint32_t *)(void *)p, &expected, value, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE);
}

static uint8_t *slot_at(const struct ivmsg_ring *r, uint32_t index, uint32_t slots)
{
	return r->slots + (size_t)(index & (slots - 1)) * IVMSG_MSG_SIZE;
}

int ivmsg_send(struct ivmsg_chan *c, uint16_t type, uint32_t ref, const void *data, size_t len,
	       uint32_t *seq)
{
	const uint8_t *src = data;
	int ret = chan_check(c);

	if (ret)
		return ret;
	if (len > IVMSG_PAYLOAD_MAX)
		return IVMSG_EMSGSIZE;
	if (len && !data)
		return IVMSG_EINVAL;

	uint32_t tail = load32(c->tx.ctrl + CTRL_TAIL);
	uint32_t used = c->tx_head - tail;	/* modulo 2^32, as the indices are */
	if (used > c->slots)
		return anomaly(c);
	if (used == c->slots)
		return IVMSG_EFULL;

	/*
	 * The slot is written a word at a time (the header as struct ivmsg_msg lays it out on a
	 * little-endian CPU), the unused rest zeroed: no stale bytes of ours reach the peer. Few
	 * instructions matter: a guest whose every instruction is emulated pays per instruction.
	 */
	volatile u64_alias *dst = (volatile u64_alias *)(void *)slot_at(&c->tx, c->tx_head, c->slots);
	dst[0] = (uint64_t)c->tx_head | (uint64_t)c->session << 32;
	dst[1] = (uint64_t)type | (uint64_t)len << 16 | (uint64_t)ref << 32;
	for (size_t w = 0; w < IVMSG_PAYLOAD_MAX / 8; w++) {
		size_t off = w * 8;
		uint64_t q = 0;

		if (off + 8 <= len) {
			__builtin_memcpy(&q, src + off, 8);
		} else {
			for (size_t i = off; i < len; i++)
				q |= (uint64_t)src[i] << (8 * (i - off));
		}
		dst[2 + w] = q;
	}
	/* The exchange is a full barrier: the slot is written before the index says so. */
	if (!publish_index(c->tx.ctrl + CTRL_HEAD, c->tx_head, c->tx_head + 1))
		return anomaly(c);
	if (seq)
		*seq = c->tx_head;
	c->tx_head++;
	if (c->doorbell)
		c->doorbell(c->doorbell_ctx);
	return 0;
}

int ivmsg_send_str(struct ivmsg_chan *c, uint16_t type, uint32_t ref, const char *s, uint32_t *seq)
{
	size_t len = 0;

	if (!s)
		return IVMSG_EINVAL;
	/* Stop counting once it is too long to send anyway. */
	while (s[len] && len <= IVMSG_PAYLOAD_MAX)
		len++;
	return ivmsg_send(c, type, ref, s, len, seq);
}

/* Messages queued on the receive ring, or a negative error. */
static int rx_queued(struct ivmsg_chan *c)
{
	int ret = chan_check(c);

	if (ret)
		return ret;
	uint32_t avail = load32(c->rx.ctrl + CTRL_HEAD) - c->rx_tail;
	if (avail > c->slots)
		return anomaly(c);
	return (int)avail;
}

int ivmsg_recv(struct ivmsg_chan *c, struct ivmsg_msg *msg)
{
	int avail = rx_queued(c);

	if (avail < 0)
		return avail;
	if (!msg)
		return IVMSG_EINVAL;
	if (avail == 0)
		return IVMSG_EEMPTY;

	/* Copy first, then check the copy: the peer may change the slot meanwhile. */
	const volatile u64_alias *src =
		(const volatile u64_alias *)(const void *)slot_at(&c->rx, c->rx_tail, c->slots);
	u64_alias *dst = (u64_alias *)(void *)msg;
	for (size_t i = 0; i < IVMSG_MSG_SIZE / 8; i++)
		dst[i] = src[i];
	if (msg->seq != c->rx_tail || msg->session != c->session || msg->len > IVMSG_PAYLOAD_MAX)
		return anomaly(c);
	/* The slot was copied out before the producer may reuse it (the exchange is a barrier). */
	if (!publish_index(c->rx.ctrl + CTRL_TAIL, c->rx_tail, c->rx_tail + 1))
		return anomaly(c);
	c->rx_tail++;
	return 0;
}

int ivmsg_poll(struct ivmsg_chan *c)
{
	return rx_queued(c);
}

const char *ivmsg_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case IVMSG_EEMPTY: return "no message queued";
	case IVMSG_EFULL: return "ring full";
	case IVMSG_ENOTREADY: return "channel not formatted yet";
	case IVMSG_EINVAL: return "invalid argument";
	case IVMSG_EMSGSIZE: return "message too long";
	case IVMSG_EMAGIC: return "region holds no ivmsg channel";
	case IVMSG_EVERSION: return "unsupported protocol version";
	case IVMSG_ELAYOUT: return "impossible channel layout";
	case IVMSG_ECORRUPT: return "peer corrupted the channel";
	case IVMSG_ERESET: return "channel was formatted again";
	default: return "unknown error";
	}
}
