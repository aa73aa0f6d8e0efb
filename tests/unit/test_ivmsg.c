/*
 * The ivmsg channel on the host: both sides in one process over one buffer. The buffer is
 * exactly as long as the region a test claims, so ASan reports any access past it; the
 * corruption tests play the hostile peer by writing into the shared header and rings.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ivmsg.h"

#define SLOTS 4

struct fx {
	uint8_t *mem;
	size_t size;
	struct ivmsg_chan a, b;
	uint32_t base;		/* where the session's indices started */
};

static struct fx *fx_new(uint32_t slots, size_t size)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->size = size ? size : ivmsg_layout_size(slots);
	/* aligned_alloc wants a multiple of the alignment; ASan still bounds the exact size. */
	f->mem = aligned_alloc(IVMSG_ALIGN, (f->size + IVMSG_ALIGN - 1) & ~(size_t)(IVMSG_ALIGN - 1));
	assert_non_null(f->mem);
	memset(f->mem, 0, f->size);
	return f;
}

/* A formatted and attached pair. */
static struct fx *fx_pair(uint32_t slots)
{
	struct fx *f = fx_new(slots, 0);
	assert_int_equal(ivmsg_format(&f->a, f->mem, f->size, slots), 0);
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), 0);
	f->base = f->a.tx_head;
	return f;
}

static void fx_free(struct fx *f)
{
	free(f->mem);
	free(f);
}

static struct ivmsg_shm_header *shm_hdr(struct fx *f)
{
	return (struct ivmsg_shm_header *)(void *)f->mem;
}

/* The shared head or tail of ring r. */
static uint32_t *ring_index(struct fx *f, int r, bool tail)
{
	return (uint32_t *)(void *)(f->mem + shm_hdr(f)->ring_off[r] + (tail ? 64 : 0));
}

static struct ivmsg_msg *slot(struct fx *f, int r, uint32_t index)
{
	uint32_t slots = shm_hdr(f)->slots;
	return (struct ivmsg_msg *)(void *)(f->mem + shm_hdr(f)->slot_off[r] +
					    (size_t)(index % slots) * IVMSG_MSG_SIZE);
}

static void send_u32(struct ivmsg_chan *c, uint32_t v)
{
	assert_int_equal(ivmsg_send(c, 7, v, &v, sizeof(v), NULL), 0);
}

static void expect_u32(struct ivmsg_chan *c, uint32_t v)
{
	struct ivmsg_msg m;
	uint32_t got;

	assert_int_equal(ivmsg_recv(c, &m), 0);
	assert_int_equal(m.type, 7);
	assert_int_equal(m.len, sizeof(got));
	memcpy(&got, m.data, sizeof(got));
	assert_int_equal(got, v);
	assert_int_equal(m.ref, v);
}

static void test_layout_size(void **state)
{
	(void)state;
	assert_int_equal(ivmsg_layout_size(0), 0);
	assert_int_equal(ivmsg_layout_size(3), 0);
	assert_int_equal(ivmsg_layout_size(IVMSG_MAX_SLOTS * 2), 0);
	assert_int_equal(ivmsg_layout_size(1), 512 + 2 * IVMSG_MSG_SIZE);
	assert_int_equal(ivmsg_layout_size(16), 512 + 32 * IVMSG_MSG_SIZE);
}

static void test_format_bad_args(void **state)
{
	struct fx *f = fx_new(SLOTS, 0);
	(void)state;
	assert_int_equal(ivmsg_format(NULL, f->mem, f->size, SLOTS), IVMSG_EINVAL);
	assert_int_equal(ivmsg_format(&f->a, NULL, f->size, SLOTS), IVMSG_EINVAL);
	assert_int_equal(ivmsg_format(&f->a, f->mem + 8, f->size - 8, SLOTS), IVMSG_EINVAL);
	assert_int_equal(ivmsg_format(&f->a, f->mem, f->size - 1, SLOTS), IVMSG_EINVAL);
	assert_int_equal(ivmsg_format(&f->a, f->mem, f->size, 3), IVMSG_EINVAL);
	assert_int_equal(ivmsg_format(&f->a, f->mem, f->size, 0), IVMSG_EINVAL);
	assert_int_equal(ivmsg_attach(&f->b, f->mem, 64), IVMSG_EINVAL);
	/* A channel that failed to format refuses to work. */
	assert_int_equal(ivmsg_send(&f->a, 1, 0, NULL, 0, NULL), IVMSG_EINVAL);
	fx_free(f);
}

static void test_attach_blank_and_foreign(void **state)
{
	struct fx *f = fx_new(SLOTS, 0);
	struct ivmsg_msg m;
	(void)state;
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), IVMSG_ENOTREADY);
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_EINVAL);
	memcpy(f->mem, "\x7f" "ELF", 4);
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), IVMSG_EMAGIC);
	fx_free(f);
}

static void test_roundtrip(void **state)
{
	struct fx *f = fx_new(SLOTS, 0);
	struct ivmsg_msg m;
	uint32_t seq = 99;
	(void)state;

	assert_int_equal(ivmsg_format(&f->a, f->mem, f->size, SLOTS), 0);
	assert_false(ivmsg_peer_attached(&f->a));
	/* A may send before B attaches: the message waits in the ring. */
	assert_int_equal(ivmsg_send_str(&f->a, 1, 0, "set-speed 1200", &seq), 0);
	/* Indices start where the session says, not at 0. */
	assert_int_equal(seq, f->a.session * 0x9e3779b1u);
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), 0);
	assert_true(ivmsg_peer_attached(&f->a));
	assert_false(ivmsg_peer_attached(&f->b));
	assert_int_equal(ivmsg_poll(&f->b), 1);
	assert_int_equal(ivmsg_recv(&f->b, &m), 0);
	assert_int_equal(m.seq, seq);
	assert_int_equal(m.type, 1);
	assert_int_equal(m.len, 14);
	assert_memory_equal(m.data, "set-speed 1200", 14);
	assert_int_equal(m.data[14], 0);	/* the rest of the slot is zeroed */
	assert_int_equal(ivmsg_send_str(&f->b, 2, m.seq, "ok speed=1200", NULL), 0);
	assert_int_equal(ivmsg_recv(&f->a, &m), 0);
	assert_int_equal(m.type, 2);
	assert_int_equal(m.ref, seq);
	assert_memory_equal(m.data, "ok speed=1200", 13);
	assert_int_equal(ivmsg_poll(&f->a), 0);
	fx_free(f);
}

static void test_empty(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	struct ivmsg_msg m;
	(void)state;
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_EEMPTY);
	assert_int_equal(ivmsg_recv(&f->a, &m), IVMSG_EEMPTY);
	assert_int_equal(ivmsg_recv(&f->b, NULL), IVMSG_EINVAL);
	/* Empty is not an error state. */
	send_u32(&f->a, 5);
	expect_u32(&f->b, 5);
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_EEMPTY);
	fx_free(f);
}

static void test_full(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	(void)state;
	for (uint32_t i = 0; i < SLOTS; i++)
		send_u32(&f->a, i);
	assert_int_equal(ivmsg_send(&f->a, 7, 0, NULL, 0, NULL), IVMSG_EFULL);
	assert_int_equal(ivmsg_poll(&f->b), SLOTS);
	expect_u32(&f->b, 0);
	send_u32(&f->a, SLOTS);
	assert_int_equal(ivmsg_send(&f->a, 7, 0, NULL, 0, NULL), IVMSG_EFULL);
	for (uint32_t i = 1; i <= SLOTS; i++)
		expect_u32(&f->b, i);
	fx_free(f);
}

static void test_wraparound(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	uint32_t sent = 0, got = 0;
	(void)state;
	for (int round = 0; round < 1000; round++) {
		unsigned batch = 1 + (unsigned)round % SLOTS;
		for (unsigned i = 0; i < batch; i++)
			send_u32(&f->a, sent++);
		for (unsigned i = 0; i < batch; i++)
			expect_u32(&f->b, got++);
	}
	assert_int_equal(*ring_index(f, 0, false), f->base + sent);
	assert_int_equal(*ring_index(f, 0, true), f->base + got);
	fx_free(f);
}

/* The 32-bit indices overflow: head - tail stays right across 2^32. */
static void test_index_overflow(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	const uint32_t start = UINT32_MAX - 2;
	struct ivmsg_msg m;
	(void)state;
	*ring_index(f, 0, false) = *ring_index(f, 0, true) = start;
	f->a.tx_head = start;
	f->b.rx_tail = start;
	for (uint32_t i = 0; i < 8; i++) {
		send_u32(&f->a, i);
		send_u32(&f->a, 100 + i);
		assert_int_equal(ivmsg_poll(&f->b), 2);
		assert_int_equal(ivmsg_recv(&f->b, &m), 0);
		assert_int_equal(m.seq, start + 2 * i);
		assert_int_equal(m.ref, i);
		expect_u32(&f->b, 100 + i);
	}
	assert_int_equal(*ring_index(f, 0, false), start + 16);
	fx_free(f);
}

static void test_corrupt_head(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	struct ivmsg_msg m;
	(void)state;
	send_u32(&f->a, 1);
	/* The producer claims more than the ring holds. */
	*ring_index(f, 0, false) = f->base + SLOTS + 1;
	assert_int_equal(ivmsg_poll(&f->b), IVMSG_ECORRUPT);
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ECORRUPT);
	/* Sticky: putting it back does not make the channel trusted again. */
	*ring_index(f, 0, false) = f->base + 1;
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ECORRUPT);
	assert_int_equal(ivmsg_send(&f->b, 1, 0, NULL, 0, NULL), IVMSG_ECORRUPT);
	/* Attaching again is the way back. */
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), 0);
	expect_u32(&f->b, 1);

	/* A head far behind (tail - head wraps to a huge count). */
	*ring_index(f, 0, false) = f->base - 1;
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ECORRUPT);
	fx_free(f);
}

static void test_corrupt_tail(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	(void)state;
	send_u32(&f->a, 1);
	/* The consumer claims to have read more than was sent. */
	*ring_index(f, 0, true) = f->base + 5;
	assert_int_equal(ivmsg_send(&f->a, 7, 0, NULL, 0, NULL), IVMSG_ECORRUPT);
	assert_int_equal(ivmsg_send(&f->a, 7, 0, NULL, 0, NULL), IVMSG_ECORRUPT);
	fx_free(f);
}

static void test_corrupt_message(void **state)
{
	struct ivmsg_msg m;
	(void)state;

	struct fx *f = fx_pair(SLOTS);
	send_u32(&f->a, 1);
	slot(f, 0, f->base)->len = IVMSG_PAYLOAD_MAX + 1;
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ECORRUPT);
	fx_free(f);

	f = fx_pair(SLOTS);
	send_u32(&f->a, 1);
	slot(f, 0, f->base)->len = 0xffff;
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ECORRUPT);
	fx_free(f);

	/* A slot that was never written (head moved without a message). */
	f = fx_pair(SLOTS);
	send_u32(&f->a, 1);
	expect_u32(&f->b, 1);
	*ring_index(f, 0, false) = f->base + 2;
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ECORRUPT);
	fx_free(f);

	/* A message left over from an earlier session. */
	f = fx_pair(SLOTS);
	send_u32(&f->a, 1);
	slot(f, 0, f->base)->session ^= 1;
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ECORRUPT);
	fx_free(f);

	/* Maximal payloads are fine, one byte more is the sender's error, not corruption. */
	f = fx_pair(SLOTS);
	uint8_t big[IVMSG_PAYLOAD_MAX + 1];
	memset(big, 0xab, sizeof(big));
	assert_int_equal(ivmsg_send(&f->a, 1, 0, big, sizeof(big), NULL), IVMSG_EMSGSIZE);
	assert_int_equal(ivmsg_send(&f->a, 1, 0, big, IVMSG_PAYLOAD_MAX, NULL), 0);
	assert_int_equal(ivmsg_send(&f->a, 1, 0, NULL, 3, NULL), IVMSG_EINVAL);
	assert_int_equal(ivmsg_recv(&f->b, &m), 0);
	assert_int_equal(m.len, IVMSG_PAYLOAD_MAX);
	assert_memory_equal(m.data, big, IVMSG_PAYLOAD_MAX);
	memset(big, 'x', sizeof(big));
	big[IVMSG_PAYLOAD_MAX] = 0;
	assert_int_equal(ivmsg_send_str(&f->a, 1, 0, (char *)big, NULL), 0);
	fx_free(f);
}

static void test_version(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	(void)state;
	shm_hdr(f)->version_major = IVMSG_VERSION_MAJOR + 1;
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), IVMSG_EVERSION);
	shm_hdr(f)->version_major = 0;
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), IVMSG_EVERSION);
	/* A newer minor version only adds what we may ignore. */
	shm_hdr(f)->version_major = IVMSG_VERSION_MAJOR;
	shm_hdr(f)->version_minor = IVMSG_VERSION_MINOR + 3;
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), 0);
	fx_free(f);
}

static void test_not_ready(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	(void)state;
	shm_hdr(f)->state = 0;	/* side A is formatting */
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), IVMSG_ENOTREADY);
	shm_hdr(f)->state = IVMSG_STATE_READY;
	shm_hdr(f)->session = 0;
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), IVMSG_ENOTREADY);
	fx_free(f);
}

/* Each mutation of a good header that attach must refuse as an impossible layout. */
static void test_bad_layouts(void **state)
{
	enum { MSG_SIZE, SLOTS0, SLOTS3, SLOTS_HUGE, SLOTS_BIG, RING_BEYOND, RING_MISALIGNED,
	       SLOT_IN_HEADER, RINGS_OVERLAP, SLOTS_OVERLAP, SLOT_WRAPS, RING_IN_SLOTS, N_CASES };
	(void)state;
	for (int i = 0; i < N_CASES; i++) {
		struct fx *f = fx_pair(SLOTS);
		struct ivmsg_shm_header *h = shm_hdr(f);
		switch (i) {
		case MSG_SIZE: h->msg_size = 64; break;
		case SLOTS0: h->slots = 0; break;
		case SLOTS3: h->slots = 3; break;
		case SLOTS_HUGE: h->slots = 0x80000000u; break;
		case SLOTS_BIG: h->slots = SLOTS * 2; break;	/* fits no more */
		case RING_BEYOND: h->ring_off[1] = (uint32_t)f->size; break;
		case RING_MISALIGNED: h->ring_off[0] += 4; break;
		case SLOT_IN_HEADER: h->slot_off[0] = 64; break;
		case RINGS_OVERLAP: h->ring_off[1] = h->ring_off[0]; break;
		case SLOTS_OVERLAP: h->slot_off[1] = h->slot_off[0] + IVMSG_MSG_SIZE; break;
		case SLOT_WRAPS: h->slot_off[1] = UINT32_MAX - 7; break;
		case RING_IN_SLOTS: h->ring_off[0] = h->slot_off[1]; break;
		}
		assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), IVMSG_ELAYOUT);
		fx_free(f);
	}
}

/* After attach the header is never trusted again: rewriting it changes nothing we read. */
static void test_header_rewritten_after_attach(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	struct ivmsg_shm_header *h = shm_hdr(f);
	(void)state;
	h->slots = 0x80000000u;
	h->ring_off[0] = h->ring_off[1] = 0xfffffff0u;
	h->slot_off[0] = h->slot_off[1] = 0xfffffff0u;
	h->msg_size = 1;
	for (uint32_t i = 0; i < 3 * SLOTS; i++) {
		send_u32(&f->a, i);
		expect_u32(&f->b, i);
		send_u32(&f->b, i);
		expect_u32(&f->a, i);
	}
	fx_free(f);
}

static void test_reset(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	struct ivmsg_msg m;
	uint32_t old = f->a.session;
	(void)state;
	send_u32(&f->a, 1);
	/* The operator restarts and formats the region again. */
	assert_int_equal(ivmsg_format(&f->a, f->mem, f->size, SLOTS), 0);
	assert_int_not_equal(f->a.session, old);
	assert_false(ivmsg_peer_attached(&f->a));
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ERESET);
	assert_int_equal(ivmsg_send(&f->b, 7, 0, NULL, 0, NULL), IVMSG_ERESET);
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), 0);
	assert_true(ivmsg_peer_attached(&f->a));
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_EEMPTY);	/* the old message is gone */
	send_u32(&f->a, 2);
	expect_u32(&f->b, 2);

	/* A second formatter takes over: the first one notices too. */
	struct ivmsg_chan other;
	assert_int_equal(ivmsg_format(&other, f->mem, f->size, SLOTS), 0);
	assert_int_equal(ivmsg_send(&f->a, 7, 0, NULL, 0, NULL), IVMSG_ERESET);
	fx_free(f);
}

/* Side B attaches again in the same session (its VM rebooted): nothing lost or repeated. */
static void test_reattach_same_session(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	(void)state;
	send_u32(&f->a, 1);
	send_u32(&f->a, 2);
	expect_u32(&f->b, 1);
	send_u32(&f->b, 10);
	memset(&f->b, 0xee, sizeof(f->b));
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), 0);
	expect_u32(&f->b, 2);
	send_u32(&f->b, 11);
	expect_u32(&f->a, 10);
	expect_u32(&f->a, 11);
	fx_free(f);
}

/* Only we write our own index: finding another value there is corruption, and nothing is written. */
static void test_own_index_overwritten(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	struct ivmsg_msg m;
	(void)state;
	send_u32(&f->a, 1);
	send_u32(&f->a, 2);
	*ring_index(f, 0, true) = f->base + 1;	/* someone else moved B's tail */
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ECORRUPT);
	assert_int_equal(*ring_index(f, 0, true), f->base + 1);
	fx_free(f);

	f = fx_pair(SLOTS);
	*ring_index(f, 1, false) = f->base + 1;	/* and B's head */
	assert_int_equal(ivmsg_send(&f->b, 7, 0, NULL, 0, NULL), IVMSG_ECORRUPT);
	assert_int_equal(*ring_index(f, 1, false), f->base + 1);
	fx_free(f);
}

/* A peer of an old session writes nothing into the new one. */
static void test_stale_peer_writes_nothing(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	struct ivmsg_msg m;
	(void)state;
	send_u32(&f->a, 1);
	send_u32(&f->b, 2);
	assert_int_equal(ivmsg_format(&f->a, f->mem, f->size, SLOTS), 0);
	uint32_t first = f->a.tx_head;
	assert_int_not_equal(first, f->base);
	assert_int_equal(ivmsg_recv(&f->b, &m), IVMSG_ERESET);
	assert_int_equal(ivmsg_send(&f->b, 7, 0, NULL, 0, NULL), IVMSG_ERESET);
	for (int r = 0; r < 2; r++) {
		assert_int_equal(*ring_index(f, r, false), first);
		assert_int_equal(*ring_index(f, r, true), first);
	}
	assert_int_equal(ivmsg_recv(&f->a, &m), IVMSG_EEMPTY);
	fx_free(f);
}

/*
 * Side A formats again and again while side B, in another thread, works the channel and
 * attaches again whenever it sees IVMSG_ERESET. Resets must never look like corruption to
 * either side, and messages must get through in between.
 */
struct stress {
	struct fx *f;
	int stop;
	unsigned b_resets, b_msgs, a_msgs, corrupt;
};

static void *stress_b(void *arg)
{
	struct stress *st = arg;
	struct ivmsg_msg m;

	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		if (ivmsg_attach(&st->f->b, st->f->mem, st->f->size) != 0)
			continue;
		for (;;) {
			int ret = ivmsg_recv(&st->f->b, &m);
			if (ret == 0) {
				st->b_msgs++;
				ret = ivmsg_send(&st->f->b, 7, m.seq, NULL, 0, NULL);
			}
			if (ret == IVMSG_ECORRUPT)
				__atomic_fetch_add(&st->corrupt, 1, __ATOMIC_RELAXED);
			if (ret == IVMSG_ERESET || ret == IVMSG_ECORRUPT) {
				st->b_resets++;
				break;
			}
			if (__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE))
				break;
		}
	}
	return NULL;
}

static void test_reset_stress(void **state)
{
	struct stress st = { fx_new(SLOTS, 0), 0, 0, 0, 0, 0 };
	struct ivmsg_msg m;
	pthread_t t;
	(void)state;

	assert_int_equal(pthread_create(&t, NULL, stress_b, &st), 0);
	time_t end = time(NULL) + 3;
	for (int round = 0; time(NULL) < end && (round < 2000 || st.b_msgs < 5000); round++) {
		assert_int_equal(ivmsg_format(&st.f->a, st.f->mem, st.f->size, SLOTS), 0);
		/* Mostly let B attach first, sometimes reset it while it is still attaching. */
		for (int spin = 0; round % 4 && spin < 100000 && !ivmsg_peer_attached(&st.f->a); spin++)
			sched_yield();
		for (int k = 0; k < round % 50; k++) {
			int ret = ivmsg_send(&st.f->a, 7, 0, NULL, 0, NULL);
			if (ret == IVMSG_EFULL)
				ret = 0;
			if (ret == 0 && (ret = ivmsg_recv(&st.f->a, &m)) == 0)
				st.a_msgs++;
			if (ret == IVMSG_EEMPTY)
				ret = 0;
			assert_int_equal(ret, 0);
		}
	}
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	printf("reset stress: %u answers to A, %u messages to B, %u resets seen by B\n", st.a_msgs,
	       st.b_msgs, st.b_resets);
	assert_int_equal(st.corrupt, 0);
	assert_true(st.a_msgs > 0 && st.b_msgs > 0 && st.b_resets > 0);
	fx_free(st.f);
}

static void test_doorbell_ids(void **state)
{
	struct fx *f = fx_pair(SLOTS);
	(void)state;
	assert_int_equal(ivmsg_peer_id(&f->a), -1);
	assert_int_equal(ivmsg_peer_id(&f->b), -1);
	ivmsg_set_local_id(&f->a, 0);		/* 0 is a valid peer id */
	ivmsg_set_local_id(&f->b, 65535);
	assert_int_equal(ivmsg_peer_id(&f->b), 0);
	assert_int_equal(ivmsg_peer_id(&f->a), 65535);
	/* Only 16 bits of whatever the peer wrote are used. */
	shm_hdr(f)->doorbell_id[1] = 0xffffffffu;
	assert_int_equal(ivmsg_peer_id(&f->a), 0xffff);
	shm_hdr(f)->doorbell_id[1] = 0x7fffffffu;
	assert_int_equal(ivmsg_peer_id(&f->a), -1);
	/* A new session forgets both. */
	assert_int_equal(ivmsg_format(&f->a, f->mem, f->size, SLOTS), 0);
	assert_int_equal(ivmsg_peer_id(&f->a), -1);
	assert_int_equal(shm_hdr(f)->doorbell_id[0], 0);
	struct ivmsg_chan none = { 0 };
	assert_int_equal(ivmsg_peer_id(&none), -1);
	ivmsg_set_local_id(&none, 1);
	fx_free(f);
}

static unsigned rings;

static void count_ring(void *ctx)
{
	assert_ptr_equal(ctx, &rings);
	rings++;
}

static void test_doorbell(void **state)
{
	struct fx *f = fx_pair(1);
	(void)state;
	rings = 0;
	ivmsg_set_doorbell(&f->a, count_ring, &rings);
	send_u32(&f->a, 1);
	assert_int_equal(rings, 1);
	assert_int_equal(ivmsg_send(&f->a, 7, 0, NULL, 0, NULL), IVMSG_EFULL);
	assert_int_equal(ivmsg_send(&f->a, 7, 0, NULL, IVMSG_PAYLOAD_MAX + 1, NULL), IVMSG_EMSGSIZE);
	assert_int_equal(rings, 1);	/* only published messages ring */
	expect_u32(&f->b, 1);
	ivmsg_set_doorbell(&f->a, NULL, &rings);
	send_u32(&f->a, 2);
	assert_int_equal(rings, 1);
	fx_free(f);
}

/* A region larger than the channel: the channel stays in its part. */
static void test_region_larger(void **state)
{
	size_t need = ivmsg_layout_size(SLOTS);
	struct fx *f = fx_new(SLOTS, need + 4096);
	(void)state;
	memset(f->mem + need, 0x5a, 4096);
	assert_int_equal(ivmsg_format(&f->a, f->mem, f->size, SLOTS), 0);
	assert_int_equal(ivmsg_attach(&f->b, f->mem, f->size), 0);
	for (uint32_t i = 0; i < 10; i++) {
		send_u32(&f->a, i);
		expect_u32(&f->b, i);
	}
	for (size_t i = need; i < f->size; i++)
		assert_int_equal(f->mem[i], 0x5a);
	fx_free(f);
}

/*
 * A hostile peer writing random values everywhere: attach, send, recv and poll must return
 * (ASan checks every access stays inside the region) with a defined result.
 */
static void test_random_garbage(void **state)
{
	(void)state;
	srand(12345);
	for (int iter = 0; iter < 3000; iter++) {
		struct fx *f = fx_pair(SLOTS);
		struct ivmsg_shm_header *h = shm_hdr(f);
		struct ivmsg_msg m;
		uint32_t *words = (uint32_t *)(void *)f->mem;
		size_t nwords = f->size / 4;
		size_t n = 1 + (size_t)rand() % 16;

		send_u32(&f->a, 1);
		for (size_t i = 0; i < n; i++) {
			size_t w = (size_t)rand() % nwords;
			/* Small values hit the interesting cases more often than random ones. */
			words[w] = rand() % 2 ? (uint32_t)rand() : (uint32_t)(rand() % 8);
		}
		if (iter % 3 == 0) {
			h->magic = IVMSG_MAGIC;
			h->state = IVMSG_STATE_READY;
			h->version_major = IVMSG_VERSION_MAJOR;
			if (h->session == 0)
				h->session = 1;
		}
		int ret = ivmsg_attach(&f->b, f->mem, f->size);
		assert_true(ret <= 0 && ret >= IVMSG_ERESET);
		for (int k = 0; k < 2 * SLOTS + 2; k++) {
			ret = ivmsg_recv(&f->b, &m);
			assert_true(ret <= 0 && ret >= IVMSG_ERESET);
			if (ret == 0)
				assert_true(m.len <= IVMSG_PAYLOAD_MAX);
			ret = ivmsg_send(&f->b, 1, 0, "x", 1, NULL);
			assert_true(ret <= 0 && ret >= IVMSG_ERESET);
			ret = ivmsg_recv(&f->a, &m);
			assert_true(ret <= 0 && ret >= IVMSG_ERESET);
			ret = ivmsg_poll(&f->a);
			assert_true(ret <= SLOTS && ret >= IVMSG_ERESET);
		}
		fx_free(f);
	}
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = 0; e >= IVMSG_ERESET; e--)
		assert_string_not_equal(ivmsg_strerror(e), "unknown error");
	assert_string_equal(ivmsg_strerror(-1000), "unknown error");
	assert_string_equal(ivmsg_strerror(1), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_size),
		cmocka_unit_test(test_format_bad_args),
		cmocka_unit_test(test_attach_blank_and_foreign),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_index_overflow),
		cmocka_unit_test(test_corrupt_head),
		cmocka_unit_test(test_corrupt_tail),
		cmocka_unit_test(test_corrupt_message),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_not_ready),
		cmocka_unit_test(test_bad_layouts),
		cmocka_unit_test(test_header_rewritten_after_attach),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_reattach_same_session),
		cmocka_unit_test(test_own_index_overwritten),
		cmocka_unit_test(test_stale_peer_writes_nothing),
		cmocka_unit_test(test_reset_stress),
		cmocka_unit_test(test_doorbell),
		cmocka_unit_test(test_doorbell_ids),
		cmocka_unit_test(test_region_larger),
		cmocka_unit_test(test_random_garbage),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
