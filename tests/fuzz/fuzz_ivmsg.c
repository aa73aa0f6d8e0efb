/*
 * ivmsg with a hostile peer: both ends of a channel (side A formats, side B attaches) on one
 * region, driven by a script from the input: sends, receives, polls, re-formats, re-attaches,
 * doorbell ids, and writes of arbitrary bytes anywhere in the region between the calls (the peer
 * VM may write anything at any time). The region is a heap block of exactly its size, so ASan
 * sees any access outside it.
 *
 * Properties, always: no access outside the region; results are among those each call
 * documents; a received message's length is within a slot; a channel's ECORRUPT or ERESET is
 * sticky. While nobody has scribbled since side A last formatted and B attached after that: the
 * channel is a pair of FIFOs of the ring's size (each message arrives once, in order, as sent;
 * EFULL exactly when the ring is full; EEMPTY exactly when it is empty; nothing is ever corrupt).
 */
#include <string.h>

#include "fuzz_util.h"
#include "ivmsg.h"

#define MAX_OPS 256
#define MAX_SLOTS_LOG2 3

struct fifo {
	struct ivmsg_msg q[1u << MAX_SLOTS_LOG2];
	unsigned head, n;
};

struct end {
	struct ivmsg_chan c;
	int sticky;		/* ECORRUPT or ERESET seen, until a re-format or re-attach */
	bool live;		/* formatted / attached at least once */
};

struct run {
	uint8_t *region;
	size_t size;
	struct end a, b;
	uint32_t slots;		/* of the current format */
	struct fifo to_b, to_a;	/* the model: what each side must receive next */
	unsigned step, hostile_at, format_at, attach_at;
	bool a_model, b_model;
};

/*
 * Whether the model binds each side: set for A by a format (unless B, left on the session it
 * replaced, read that session after somebody scribbled: the new session might then carry B's old
 * number, and B's calls would reach it); for B by an attach to a modelled session; cleared for
 * both by any scribbling, for B by a format.
 */
static bool modelled(const struct run *r, const struct end *e)
{
	return e == &r->a ? r->a_model : r->b_model;
}

/*
 * B attached to a session that A has since replaced, with nobody scribbling since B attached
 * (so the session number really moved on): every call B makes must say ERESET.
 */
static bool b_must_see_reset(const struct run *r, const struct end *e)
{
	return e == &r->b && r->format_at > r->attach_at && r->hostile_at < r->attach_at &&
	       e->sticky != IVMSG_ECORRUPT;
}

static void check_sticky(const struct run *r, struct end *e, int ret, const char *what)
{
	if (b_must_see_reset(r, e))
		FUZZ_CHECK(ret == IVMSG_ERESET, "%s on a replaced session: %s", what,
			   ivmsg_strerror(ret));
	if (e->sticky)
		FUZZ_CHECK(ret == e->sticky, "%s after %s gave %s", what, ivmsg_strerror(e->sticky),
			   ivmsg_strerror(ret));
	if (ret == IVMSG_ECORRUPT || ret == IVMSG_ERESET)
		e->sticky = ret;
}

static void do_send(struct run *r, struct fuzz_input *in, struct end *e, struct fifo *f)
{
	uint16_t type = fuzz_u16(in);
	uint32_t ref = fuzz_u32(in), seq = 0;
	size_t want = fuzz_u8(in) % (IVMSG_PAYLOAD_MAX + 2), len;
	uint8_t buf[IVMSG_PAYLOAD_MAX + 1] = { 0 };
	const uint8_t *p = fuzz_bytes(in, want, &len);

	memcpy(buf, p, len);
	if (want > IVMSG_PAYLOAD_MAX)
		len = want; /* one byte too long */
	int ret = ivmsg_send(&e->c, type, ref, buf, len, &seq);
	FUZZ_CHECK(ret == 0 || ret == IVMSG_EFULL || ret == IVMSG_EMSGSIZE ||
			   ret == IVMSG_ECORRUPT || ret == IVMSG_ERESET,
		   "send: %s", ivmsg_strerror(ret));
	check_sticky(r, e, ret, "send");
	if (!modelled(r, e))
		return;
	if (len > IVMSG_PAYLOAD_MAX) {
		FUZZ_CHECK(ret == IVMSG_EMSGSIZE, "send of %zu bytes: %s", len, ivmsg_strerror(ret));
		return;
	}
	FUZZ_CHECK(ret == (f->n == r->slots ? IVMSG_EFULL : 0), "send with %u of %u queued: %s",
		   f->n, r->slots, ivmsg_strerror(ret));
	if (ret == 0) {
		struct ivmsg_msg *m = &f->q[(f->head + f->n++) % r->slots];

		memset(m, 0, sizeof(*m));
		m->seq = seq;
		m->type = type;
		m->ref = ref;
		m->len = (uint16_t)len;
		memcpy(m->data, buf, len);
	}
}

static void do_recv(struct run *r, struct end *e, struct fifo *f)
{
	struct ivmsg_msg msg;
	int ret = ivmsg_recv(&e->c, &msg);

	FUZZ_CHECK(ret == 0 || ret == IVMSG_EEMPTY || ret == IVMSG_ECORRUPT || ret == IVMSG_ERESET,
		   "recv: %s", ivmsg_strerror(ret));
	check_sticky(r, e, ret, "recv");
	if (ret == 0)
		FUZZ_CHECK(msg.len <= IVMSG_PAYLOAD_MAX, "received a length of %u", msg.len);
	if (!modelled(r, e))
		return;
	FUZZ_CHECK(ret == (f->n ? 0 : IVMSG_EEMPTY), "recv with %u queued: %s", f->n,
		   ivmsg_strerror(ret));
	if (ret == 0) {
		const struct ivmsg_msg *want = &f->q[f->head];

		FUZZ_CHECK(msg.seq == want->seq && msg.type == want->type && msg.ref == want->ref &&
				   msg.len == want->len && memcmp(msg.data, want->data, msg.len) == 0,
			   "message %u arrived as something else", want->seq);
		f->head = (f->head + 1) % r->slots;
		f->n--;
	}
}

static void do_poll(struct run *r, struct end *e, const struct fifo *f)
{
	int ret = ivmsg_poll(&e->c);

	FUZZ_CHECK(ret >= 0 ? (uint32_t)ret <= IVMSG_MAX_SLOTS :
			      ret == IVMSG_ECORRUPT || ret == IVMSG_ERESET,
		   "poll: %d", ret);
	check_sticky(r, e, ret < 0 ? ret : 0, "poll");
	if (modelled(r, e))
		FUZZ_CHECK(ret == (int)f->n, "poll %d with %u queued", ret, f->n);
}

static void do_format(struct run *r, struct fuzz_input *in)
{
	uint32_t slots = 1u << (fuzz_u8(in) % (MAX_SLOTS_LOG2 + 1));
	int ret = ivmsg_format(&r->a.c, r->region, r->size, slots);

	if (ivmsg_layout_size(slots) > r->size) {
		FUZZ_CHECK(ret == IVMSG_EINVAL, "format of %u slots in %zu bytes: %s", slots,
			   r->size, ivmsg_strerror(ret));
		return;
	}
	FUZZ_CHECK(ret == 0, "format: %s", ivmsg_strerror(ret));
	r->a.live = true;
	r->a.sticky = 0;
	r->a_model = !(r->b.live && r->hostile_at > r->attach_at);
	r->b_model = false;
	r->slots = slots;
	r->to_a.n = r->to_b.n = r->to_a.head = r->to_b.head = 0;
	r->format_at = r->step;
}

static void do_attach(struct run *r)
{
	int ret = ivmsg_attach(&r->b.c, r->region, r->size);

	FUZZ_CHECK(ret == 0 || ret == IVMSG_ENOTREADY || ret == IVMSG_EMAGIC ||
			   ret == IVMSG_EVERSION || ret == IVMSG_ELAYOUT,
		   "attach: %s", ivmsg_strerror(ret));
	if (r->a_model)
		FUZZ_CHECK(ret == 0, "attach to a clean channel: %s", ivmsg_strerror(ret));
	r->b_model = ret == 0 && r->a_model;
	if (ret == 0) {
		r->b.live = true;
		r->b.sticky = 0;
		r->attach_at = r->step;
		if (r->a_model)
			FUZZ_CHECK(ivmsg_peer_attached(&r->a.c), "A does not see B attached");
	} else {
		/* A failed attach leaves B without a channel: its calls say EINVAL. */
		r->b.live = false;
	}
}

static void scribble(struct run *r, struct fuzz_input *in)
{
	size_t at = fuzz_u16(in) % r->size, len;
	const uint8_t *p = fuzz_bytes(in, 1 + fuzz_u8(in) % 8, &len);

	if (len > r->size - at)
		len = r->size - at;
	memcpy(r->region + at, p, len);
	r->hostile_at = r->step;
	r->a_model = r->b_model = false;
}

static void doorbell_ids(struct run *r, struct fuzz_input *in)
{
	uint16_t id = fuzz_u16(in);
	struct end *self = fuzz_u8(in) & 1 ? &r->b : &r->a, *peer = self == &r->a ? &r->b : &r->a;

	if (!self->live || !peer->live)
		return;
	ivmsg_set_local_id(&self->c, id);
	int got = ivmsg_peer_id(&peer->c);
	FUZZ_CHECK(got >= -1 && got <= 0xffff, "peer id %d", got);
	if (modelled(r, &r->b))
		FUZZ_CHECK(got == id, "published id %u, the peer reads %d", id, got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size, 0 };
	static struct run r;
	uint32_t slots = 1u << (fuzz_u8(&in) % (MAX_SLOTS_LOG2 + 1));

	memset(&r, 0, sizeof(r));
	r.size = ivmsg_layout_size(slots) + IVMSG_ALIGN * (fuzz_u8(&in) % 3);
	r.region = aligned_alloc(IVMSG_ALIGN, r.size);
	if (!r.region)
		abort();
	memset(r.region, 0, r.size);
	r.step = 1;
	r.hostile_at = 0;
	FUZZ_CHECK(ivmsg_format(&r.a.c, r.region, r.size, slots) == 0, "first format");
	r.a.live = true;
	r.a_model = true;
	r.slots = slots;
	r.format_at = r.step++;
	do_attach(&r);
	r.step++;

	for (; r.step < MAX_OPS && fuzz_more(&in); r.step++) {
		switch (fuzz_u8(&in) % 11) {
		case 0: do_send(&r, &in, &r.a, &r.to_b); break;
		case 1: if (r.b.live) do_send(&r, &in, &r.b, &r.to_a); break;
		case 2: if (r.b.live) do_recv(&r, &r.b, &r.to_b); break;
		case 3: do_recv(&r, &r.a, &r.to_a); break;
		case 4: do_poll(&r, &r.a, &r.to_a); break;
		case 5: if (r.b.live) do_poll(&r, &r.b, &r.to_b); break;
		case 6: do_format(&r, &in); break;
		case 7: do_attach(&r); break;
		case 8: doorbell_ids(&r, &in); break;
		default: scribble(&r, &in); break;
		}
	}
	free(r.region);
	return 0;
}
