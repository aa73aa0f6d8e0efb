/*
 * The benchmark's transfer protocol over an ivmsg channel, written once and run both by two
 * guests through an ivshmem region and by two host threads through ordinary memory, so the
 * ratio between the two compares like with like.
 *
 * Region layout: the ivmsg channel at 0, the data area at BW_DATA_OFF (nbuf buffers of chunk
 * bytes each). Side A (tx) formats the channel, side B (rx) attaches.
 *	ping phase: tx sends BW_PING(ref=k) and waits for BW_PONG(ref=k), pings times.
 *	bulk phase: tx copies chunk i into buffer i % nbuf and sends BW_DATA(ref=i, {offset, len});
 *	rx copies it out, checks the chunk's stamps and answers BW_ACK(ref=i); tx reuses a buffer
 *	only once it was acknowledged. BW_DONE ends the run.
 * Freestanding: the environment comes in through struct bw_ops.
 */
#ifndef BENCH_BWPROTO_H
#define BENCH_BWPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ivmsg.h"

#define BW_DATA_OFF	0x10000u	/* 64 KiB: after the channel, page aligned */
#define BW_SLOTS	16
#define BW_TIMEOUT_US	(60ull * 1000 * 1000)

enum { BW_PING = 1, BW_PONG, BW_DATA, BW_ACK, BW_DONE };

struct bw_ops {
	uint64_t (*now_us)(void);
	void (*relax)(void);
	/* dst, src and n are multiples of 8 bytes. */
	void (*copy)(void *dst, const void *src, size_t n);
};

struct bw_params {
	uint32_t pings;
	uint64_t bytes;		/* total to transfer, a multiple of 8 */
	uint32_t chunk;		/* bytes per chunk, a multiple of 8 */
	uint32_t nbuf;		/* buffers in the data area */
};

struct bw_result {
	uint32_t pings;
	uint64_t ping_us;	/* all round trips together */
	uint64_t bytes;
	uint64_t xfer_us;	/* first chunk sent (received) to last acknowledged (copied) */
	const char *err;	/* what went wrong, when a function returns -1 */
	int ivmsg_err;
};

/* Side B: attaches, retrying until side A has formatted the channel (or BW_TIMEOUT_US). */
int bw_attach(struct ivmsg_chan *c, void *base, size_t size, const struct bw_ops *ops,
	      struct bw_result *r);

/*
 * Side A, after ivmsg_format: the ping phase, then the bulk phase from src (chunk bytes, its
 * first and last 8 bytes get stamped) into data (nbuf * chunk bytes), then BW_DONE.
 */
int bw_tx(struct ivmsg_chan *c, uint8_t *data, uint8_t *src, const struct bw_params *p,
	  const struct bw_ops *ops, struct bw_result *r);

/* Side B: answers pings and copies chunks out of data (data_size bytes) into dst until BW_DONE. */
int bw_rx(struct ivmsg_chan *c, const uint8_t *data, size_t data_size, uint8_t *dst,
	  size_t dst_size, const struct bw_ops *ops, struct bw_result *r);

#endif
