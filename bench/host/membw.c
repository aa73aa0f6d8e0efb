/*
 * membw: the host baselines for the bandwidth benchmark, measured in the same run as the guests.
 *	memcpy:	one thread copying chunk-sized blocks between two buffers (what BAR2 traffic is
 *		compared with);
 *	pipe:	two threads running bench/bwproto.c through ordinary memory, exactly the code the
 *		guests run, with memcpy as the copy.
 * Each is run three times and the best is printed: other load on the machine only ever makes a
 * baseline slower, so the best run is the most repeatable estimate.
 * Usage: membw [MIB [CHUNK_KIB [PINGS]]] (defaults 1024, 1024, 10000). Prints "HOST ..." lines.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bwproto.h"

#define MiB (1ull << 20)

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Spin, but yield now and then: on a busy two-CPU host the peer thread may share our CPU, and
 * pure spinning would then cost a whole time slice per message.
 */
static void relax(void)
{
	static __thread unsigned spins;

	if (++spins % 128 == 0)
		sched_yield();
	else
		__builtin_ia32_pause();
}

static void copy(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

static const struct bw_ops ops = { now_us, relax, copy };

static void *xalloc(size_t n)
{
	void *p = aligned_alloc(4096, (n + 4095) & ~(size_t)4095);

	if (!p) {
		fprintf(stderr, "membw: out of memory\n");
		exit(1);
	}
	memset(p, 0x5a, n);	/* fault every page in before timing */
	return p;
}

#define TRIES 3

static void bench_memcpy(uint64_t bytes, size_t chunk)
{
	uint8_t *src = xalloc(chunk), *dst = xalloc(2 * chunk);
	uint64_t best = UINT64_MAX;

	for (int t = 0; t < TRIES; t++) {
		uint64_t t0 = now_us();

		for (uint64_t done = 0, i = 0; done < bytes; done += chunk, i++)
			memcpy(dst + (i % 2) * chunk, src, chunk);
		uint64_t us = now_us() - t0;
		/* Keep the copies observable so the compiler cannot drop them. */
		__asm__ volatile("" : : "r"(dst) : "memory");
		if (us < best)
			best = us;
	}
	printf("HOST memcpy bytes=%llu us=%llu\n", (unsigned long long)bytes, (unsigned long long)best);
	free(src);
	free(dst);
}

struct pipe_side {
	struct ivmsg_chan chan;
	uint8_t *region, *buf;
	size_t region_size, chunk;
	struct bw_params params;
	struct bw_result result;
	int ret;
};

static void *rx_thread(void *arg)
{
	struct pipe_side *s = arg;

	s->ret = bw_attach(&s->chan, s->region, BW_DATA_OFF, &ops, &s->result);
	if (s->ret == 0)
		s->ret = bw_rx(&s->chan, s->region + BW_DATA_OFF, s->region_size - BW_DATA_OFF,
			       s->buf, s->chunk, &ops, &s->result);
	return NULL;
}

/* One run of the two-thread pipe: 0 with *res filled, or 1 with a message printed. */
static int pipe_once(uint64_t bytes, size_t chunk, uint32_t pings, struct bw_result *res)
{
	struct pipe_side tx = { 0 }, rx = { 0 };
	size_t size = BW_DATA_OFF + 2 * chunk;
	uint8_t *region = xalloc(size);
	pthread_t t;

	memset(region, 0, BW_DATA_OFF);
	tx.buf = xalloc(chunk);
	rx.buf = xalloc(chunk);
	rx.region = region;
	rx.region_size = size;
	rx.chunk = chunk;
	if (ivmsg_format(&tx.chan, region, BW_DATA_OFF, BW_SLOTS) != 0 ||
	    (errno = pthread_create(&t, NULL, rx_thread, &rx)) != 0) {
		perror("membw: pipe set-up");
		return 1;
	}
	tx.params = (struct bw_params){ pings, bytes, (uint32_t)chunk, 2 };
	tx.ret = bw_tx(&tx.chan, region + BW_DATA_OFF, tx.buf, &tx.params, &ops, &tx.result);
	pthread_join(t, NULL);
	if (tx.ret || rx.ret) {
		struct bw_result *r = tx.ret ? &tx.result : &rx.result;
		fprintf(stderr, "membw: pipe %s: %s (%s)\n", tx.ret ? "tx" : "rx", r->err,
			ivmsg_strerror(r->ivmsg_err));
		return 1;
	}
	*res = tx.result;
	free(region);
	free(tx.buf);
	free(rx.buf);
	return 0;
}

/* The best transfer and the best ping phase of TRIES runs. */
static int bench_pipe(uint64_t bytes, size_t chunk, uint32_t pings)
{
	struct bw_result best = { 0 }, r;

	for (int t = 0; t < TRIES; t++) {
		if (pipe_once(bytes, chunk, pings, &r))
			return 1;
		if (t == 0 || r.xfer_us < best.xfer_us)
			best.xfer_us = r.xfer_us;
		if (t == 0 || r.ping_us < best.ping_us)
			best.ping_us = r.ping_us;
		best.bytes = r.bytes;
		best.pings = r.pings;
	}
	printf("HOST pipe bytes=%llu xfer_us=%llu pings=%u ping_us=%llu\n",
	       (unsigned long long)best.bytes, (unsigned long long)best.xfer_us, best.pings,
	       (unsigned long long)best.ping_us);
	return 0;
}

static unsigned long long arg(int argc, char **argv, int i, unsigned long long def)
{
	char *end;
	unsigned long long v;

	if (argc <= i)
		return def;
	errno = 0;
	v = strtoull(argv[i], &end, 0);
	if (errno || *end || !v) {
		fprintf(stderr, "membw: bad number '%s'\n", argv[i]);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t bytes = arg(argc, argv, 1, 1024) * MiB;
	size_t chunk = (size_t)arg(argc, argv, 2, 1024) << 10;
	uint32_t pings = (uint32_t)arg(argc, argv, 3, 10000);

	if (chunk > 64 * MiB) {
		fprintf(stderr, "membw: chunk too large\n");
		return 2;
	}
	bench_memcpy(bytes, chunk);
	return bench_pipe(bytes, chunk, pings);
}
