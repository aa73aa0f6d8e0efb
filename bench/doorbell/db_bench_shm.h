/*
 * What the doorbell bench guest (db_bench.c, freestanding) and the host's db-stats agree on: the
 * layout of the shared region during a ping-pong. Only <stdint.h>, so both sides include it.
 *
 *   0     struct db_bench_shm: where the two VMs meet, and the ping's summary
 *   4096  DB_BENCH_SAMPLES_OFF: result_n round-trip times, uint64_t TSC ticks, in run order
 */
#ifndef DB_BENCH_SHM_H
#define DB_BENCH_SHM_H

#include <stdint.h>

#define DB_BENCH_SAMPLES_OFF	4096

struct db_bench_shm {
	uint64_t ping_nonce;		/* the run's nonce, stored after ping_id */
	uint32_t ping_id;		/* the ping's IVPosition */
	uint32_t pad0;
	uint64_t pong_nonce;		/* stored after pong_id, once the pong's MSI-X is on */
	uint32_t pong_id;
	uint32_t pad1;
	uint64_t done;			/* the nonce, once the ping has finished */
	uint64_t result_nonce;		/* the nonce, stored after the three below */
	uint64_t result_n;		/* samples from DB_BENCH_SAMPLES_OFF */
	uint64_t result_lost;		/* round trips without an answer within 1 s */
	uint64_t result_tsc_khz;	/* the ping's calibrated TSC frequency */
};

#endif
