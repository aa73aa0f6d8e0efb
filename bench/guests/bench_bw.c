/*
 * bench_bw: one side of the guest-to-guest transfer through BAR2 (bench/bwproto.c).
 * Command line: role=tx|rx, mib=N (default 16), chunk_kib=N (default 1024), pings=N (default
 * 100), region_id=N. Prints one "BENCH ..." line for bench/run-bench.sh and exits 0.
 * Copies use rep movsq, what a tuned memcpy uses on x86; time comes from the TSC.
 */
#include "guest.h"
#include "guest_ivshmem.h"
#include "bwproto.h"

#define MiB (1ull << 20)
#define MAX_CHUNK MiB

static uint8_t buf[MAX_CHUNK] __attribute__((aligned(4096)));
static struct ivmsg_chan chan;

static uint64_t now_us(void)
{
	return time_us();
}

static void relax(void)
{
	cpu_relax();
}

static void copy_movsq(void *dst, const void *src, size_t n)
{
	size_t q = n / 8;

	__asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(q) : : "memory");
}

static const struct bw_ops ops = { now_us, relax, copy_movsq };

static uint64_t arg(const char *cmdline, const char *key, uint64_t def)
{
	uint64_t v;

	return cmdline_get_u64(cmdline, key, &v) ? v : def;
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	struct guest_ivshmem dev;
	struct bw_result r = { 0 };
	char role[8] = "";
	int ret;

	(void)mbi;
	timer_init();
	cmdline_get(cmdline, "role", role, sizeof(role));
	if (guest_ivshmem_open(&dev, guest_ivshmem_cmdline_region(cmdline, -1)))
		return 1;
	uint64_t chunk = arg(cmdline, "chunk_kib", 1024) << 10;
	struct bw_params p = { (uint32_t)arg(cmdline, "pings", 100), arg(cmdline, "mib", 16) * MiB,
			       (uint32_t)chunk, 2 };
	CHECK(chunk && chunk <= MAX_CHUNK && chunk % 8 == 0, "chunk_kib must be 1..1024");
	CHECK(BW_DATA_OFF + p.nbuf * chunk <= dev.size, "region of %lu KiB too small",
	      dev.size >> 10);
	uint8_t *data = guest_ivshmem_mem(&dev, BW_DATA_OFF);

	if (strcmp(role, "tx") == 0) {
		/* Something other than zeros to send (slow here: it runs before timing starts). */
		for (size_t i = 0; i < chunk; i += 8)
			*(uint64_t *)(void *)&buf[i] = i * 0x9e3779b97f4a7c15ull;
		ret = ivmsg_format(&chan, guest_ivshmem_mem(&dev, 0), BW_DATA_OFF, BW_SLOTS);
		CHECK(ret == 0, "format: %s", ivmsg_strerror(ret));
		ret = bw_tx(&chan, data, buf, &p, &ops, &r);
	} else if (strcmp(role, "rx") == 0) {
		ret = bw_attach(&chan, guest_ivshmem_mem(&dev, 0), BW_DATA_OFF, &ops, &r);
		if (ret == 0)
			ret = bw_rx(&chan, data, dev.size - BW_DATA_OFF, buf, sizeof(buf), &ops, &r);
	} else {
		printf("bench_bw: role=tx or role=rx, please\n");
		return 1;
	}
	if (ret) {
		printf("bench_bw %s: %s (%s)\n", role, r.err, ivmsg_strerror(r.ivmsg_err));
		return 1;
	}
	printf("BENCH role=%s bytes=%lu xfer_us=%lu pings=%u ping_us=%lu tsc_khz=%lu timer=%s\n",
	       role, r.bytes, r.xfer_us, r.pings, r.ping_us, tsc_khz(), timer_source());
	return 0;
}
