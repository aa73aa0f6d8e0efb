/* The benchmark protocol (see bwproto.h). Every wait has a timeout; nothing from the peer is trusted. */
#include "bwproto.h"

struct bw_chunk {
	uint32_t offset;	/* in the data area */
	uint32_t len;
};

/*
 * A wait with a timeout that reads the clock only every 64 polls: in a guest whose instructions
 * are emulated, reading the TSC and converting it costs more than a poll of the ring.
 */
struct waiter {
	unsigned polls;
	uint64_t start;
};

static bool timed_out(struct waiter *w, const struct bw_ops *ops)
{
	if (++w->polls % 64)
		return false;
	if (w->polls == 64)
		w->start = ops->now_us();
	return ops->now_us() - w->start > BW_TIMEOUT_US;
}

static int fail(struct bw_result *r, const char *what, int err)
{
	r->err = what;
	r->ivmsg_err = err;
	return -1;
}

static int send_msg(struct ivmsg_chan *c, uint16_t type, uint32_t ref, const void *data,
		    size_t len, const struct bw_ops *ops, struct bw_result *r)
{
	struct waiter w = { 0, 0 };
	int ret;

	while ((ret = ivmsg_send(c, type, ref, data, len, NULL)) == IVMSG_EFULL) {
		if (timed_out(&w, ops))
			return fail(r, "the peer stopped reading", ret);
		ops->relax();
	}
	return ret ? fail(r, "send", ret) : 0;
}

static int recv_msg(struct ivmsg_chan *c, struct ivmsg_msg *m, const struct bw_ops *ops,
		    struct bw_result *r)
{
	struct waiter w = { 0, 0 };
	int ret;

	while ((ret = ivmsg_recv(c, m)) == IVMSG_EEMPTY) {
		if (timed_out(&w, ops))
			return fail(r, "the peer went silent", ret);
		ops->relax();
	}
	return ret ? fail(r, "receive", ret) : 0;
}

/* Waits for the reply of the given type to ref. */
static int expect(struct ivmsg_chan *c, uint16_t type, uint32_t ref, const struct bw_ops *ops,
		  struct bw_result *r)
{
	struct ivmsg_msg m;

	if (recv_msg(c, &m, ops, r))
		return -1;
	if (m.type != type || m.ref != ref)
		return fail(r, "unexpected reply", IVMSG_ECORRUPT);
	return 0;
}

int bw_attach(struct ivmsg_chan *c, void *base, size_t size, const struct bw_ops *ops,
	      struct bw_result *r)
{
	struct waiter w = { 0, 0 };
	int ret;

	while ((ret = ivmsg_attach(c, base, size)) != 0) {
		if (timed_out(&w, ops))
			return fail(r, "no channel to attach to", ret);
		ops->relax();
	}
	return 0;
}

static void stamp(uint8_t *chunk, uint32_t len, uint64_t v)
{
	*(uint64_t *)(void *)chunk = v;
	*(uint64_t *)(void *)(chunk + len - 8) = ~v;
}

static int stamped(const uint8_t *chunk, uint32_t len, uint64_t v)
{
	return *(const uint64_t *)(const void *)chunk == v &&
	       *(const uint64_t *)(const void *)(chunk + len - 8) == ~v;
}

int bw_tx(struct ivmsg_chan *c, uint8_t *data, uint8_t *src, const struct bw_params *p,
	  const struct bw_ops *ops, struct bw_result *r)
{
	uint64_t t0;
	uint32_t n, acked = 0;

	if (!p->chunk || p->chunk % 8 || p->bytes % 8 || !p->nbuf)
		return fail(r, "bad parameters", IVMSG_EINVAL);
	r->pings = p->pings;
	/* An untimed first ping: the peer may still be starting up. */
	if (send_msg(c, BW_PING, UINT32_MAX, NULL, 0, ops, r) ||
	    expect(c, BW_PONG, UINT32_MAX, ops, r))
		return -1;
	t0 = ops->now_us();
	for (uint32_t k = 0; k < p->pings; k++)
		if (send_msg(c, BW_PING, k, NULL, 0, ops, r) || expect(c, BW_PONG, k, ops, r))
			return -1;
	r->ping_us = ops->now_us() - t0;

	n = (uint32_t)((p->bytes + p->chunk - 1) / p->chunk);
	t0 = ops->now_us();
	for (uint32_t i = 0; i < n; i++) {
		uint64_t left = p->bytes - (uint64_t)i * p->chunk;
		struct bw_chunk ch = { (i % p->nbuf) * p->chunk,
				       left < p->chunk ? (uint32_t)left : p->chunk };

		/* Buffer i % nbuf is free once chunk i - nbuf was acknowledged. */
		while (i - acked >= p->nbuf)
			if (expect(c, BW_ACK, acked++, ops, r))
				return -1;
		stamp(src, ch.len, i);
		ops->copy(data + ch.offset, src, ch.len);
		if (send_msg(c, BW_DATA, i, &ch, sizeof(ch), ops, r))
			return -1;
	}
	while (acked < n)
		if (expect(c, BW_ACK, acked++, ops, r))
			return -1;
	r->xfer_us = ops->now_us() - t0;
	r->bytes = p->bytes;
	return send_msg(c, BW_DONE, n, NULL, 0, ops, r);
}

int bw_rx(struct ivmsg_chan *c, const uint8_t *data, size_t data_size, uint8_t *dst,
	  size_t dst_size, const struct bw_ops *ops, struct bw_result *r)
{
	struct ivmsg_msg m;
	struct bw_chunk ch;
	uint64_t first = 0, last = 0;
	uint32_t next = 0;

	for (;;) {
		if (recv_msg(c, &m, ops, r))
			return -1;
		switch (m.type) {
		case BW_PING:
			r->pings += m.ref != UINT32_MAX;
			if (send_msg(c, BW_PONG, m.ref, NULL, 0, ops, r))
				return -1;
			break;
		case BW_DATA:
			if (m.len != sizeof(ch) || m.ref != next)
				return fail(r, "bad chunk message", IVMSG_ECORRUPT);
			__builtin_memcpy(&ch, m.data, sizeof(ch));
			if (ch.len < 8 || ch.len % 8 || ch.offset % 8 || ch.len > dst_size ||
			    ch.offset > data_size || ch.len > data_size - ch.offset)
				return fail(r, "chunk outside the data area", IVMSG_ECORRUPT);
			if (next == 0)
				first = ops->now_us();
			ops->copy(dst, data + ch.offset, ch.len);
			if (!stamped(dst, ch.len, next))
				return fail(r, "chunk content is not what was sent", IVMSG_ECORRUPT);
			if (send_msg(c, BW_ACK, next++, NULL, 0, ops, r))
				return -1;
			r->bytes += ch.len;
			last = ops->now_us();
			break;
		case BW_DONE:
			r->xfer_us = last - first;
			return 0;
		default:
			return fail(r, "unknown message", IVMSG_ECORRUPT);
		}
	}
}
