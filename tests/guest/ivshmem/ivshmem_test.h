/*
 * What the ivshmem test guests (ivshmem_plain.c) and the host's checker
 * (tests/integration/tools/ivshmem_pattern.c) agree on: the layout of the shared region, the
 * pseudo-random pattern and its checksum. Freestanding: only <stdint.h>, so both sides include it.
 *
 * Region layout (offsets in bytes):
 *   0      struct ivt_header: the writer's description of the pattern and the reader's answer
 *   256    IVT_HOST_TEXT_OFF   text the host put there before the VM started (NUL-terminated)
 *   512    IVT_MARK_OFF        text a guest leaves for the host (after moving BAR2, per device...)
 *   768    IVT_MARK2_OFF       a second mark (after moving BAR2 back)
 *   4096   IVT_DATA_OFF        the pattern: 64-bit words up to the end of the region
 */
#ifndef IVSHMEM_TEST_H
#define IVSHMEM_TEST_H

#include <stdint.h>

#define IVT_MAGIC		"IVTEST01"	/* 8 bytes, no NUL */
#define IVT_HOST_TEXT_OFF	256
#define IVT_MARK_OFF		512
#define IVT_MARK2_OFF		768
#define IVT_TEXT_MAX		200		/* bytes per text slot, NUL included */
#define IVT_DATA_OFF		4096

#define IVT_WRITTEN		0x54495257u	/* "WRIT": the pattern and checksum are complete */
#define IVT_ANSWER_OK		0x600d600du	/* the reader found the pattern and checksum intact */
#define IVT_ANSWER_BAD		0xbad0bad0u

struct ivt_header {
	char magic[8];			/* IVT_MAGIC once written */
	uint64_t seed;
	uint64_t size;			/* the region size the writer saw (BAR2 size) */
	uint64_t checksum;		/* ivt_sum over the data words */
	uint32_t written;		/* IVT_WRITTEN, stored last by the writer */
	uint32_t answer;		/* IVT_ANSWER_*, stored last by the reader */
	uint64_t reader_checksum;	/* what the reader computed */
	uint64_t reader_errors;		/* words that differed from the pattern */
	uint64_t reader_runs;		/* readers that verified the data so far */
};

/*
 * The pattern's words, one after another from IVT_DATA_OFF: a Weyl sequence through splitmix64's
 * mixing step. Few instructions per word on purpose: on a paravirtual KVM that emulates every
 * guest instruction (see ENVIRONMENT.md) the guests' loops cost about 1 us per instruction.
 */
static inline uint64_t ivt_seed_state(uint64_t seed)
{
	return seed * 0xd1b54a32d192ed03ull;
}

static inline uint64_t ivt_mix(uint64_t x)
{
	return (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
}

static inline uint64_t ivt_next(uint64_t *state)
{
	return ivt_mix(*state += 0x9e3779b97f4a7c15ull);
}

/* Word i of the pattern of seed without the ones before it (for spot checks). */
static inline uint64_t ivt_word(uint64_t seed, uint64_t i)
{
	return ivt_mix(ivt_seed_state(seed) + (i + 1) * 0x9e3779b97f4a7c15ull);
}

/* FNV-1a over 64-bit words: cheap enough for a guest to run over the whole region. */
#define IVT_SUM_INIT	0xcbf29ce484222325ull

static inline uint64_t ivt_sum(uint64_t h, uint64_t word)
{
	return (h ^ word) * 0x100000001b3ull;
}

#endif
