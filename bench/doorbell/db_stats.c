/*
 * db-stats: the summary of doorbell ping-pongs, from the regions the bench guests shared (the
 * ping leaves every round trip's TSC delta there; see db_bench_shm.h). The guest cannot sort them
 * quickly enough on the development machines, so the host does.
 *
 * Usage: db-stats [-k HOST_TSC_KHZ] FILE:NONCE...   the samples of all runs, pooled
 *        db-stats -T                                 measure this host's TSC frequency (kHz)
 * Prints: RESULT doorbell n=N median=.. mean=.. min=.. p10=.. p90=.. p99=.. max=.. lost=L runs=R
 *         rescaled=S   (nanoseconds)
 * Each run's ticks are converted with the frequency its guest calibrated, unless -k is given
 * and the guest's figure is more than 5% off the host's (a PIT calibration disturbed by a busy
 * host): then with the host's, and the run counts in rescaled=. KVM guests here run on the
 * host's TSC, unscaled. Exits 1 when a region holds no complete result of its run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "db_bench_shm.h"
#include "stats.h"

struct pool {
	uint64_t *ns;
	size_t n, cap;
	uint64_t lost;
	unsigned runs, rescaled;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The TSC against CLOCK_MONOTONIC_RAW over 200 ms: the best of five 40 ms windows. */
static uint64_t host_tsc_khz(void)
{
	uint64_t best = 0;

	for (int i = 0; i < 5; i++) {
		uint64_t n0 = now_ns(), t0 = __rdtsc();
		struct timespec d = { 0, 40 * 1000 * 1000 };

		nanosleep(&d, NULL);
		uint64_t t1 = __rdtsc(), n1 = now_ns();
		uint64_t khz = (t1 - t0) * 1000000ull / (n1 - n0);

		/* A window stretched by preemption between the two reads only lowers the figure
		 * slightly; the median would be as good, the maximum is simpler. */
		if (khz > best)
			best = khz;
	}
	return best;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end || s == end ? -1 : 0;
}

static int add_run(struct pool *p, const char *arg, uint64_t host_khz)
{
	char path[4096];
	const char *colon = strrchr(arg, ':');
	uint64_t nonce;

	if (!colon || (size_t)(colon - arg) >= sizeof(path) || parse_u64(colon + 1, &nonce) ||
	    !nonce) {
		fprintf(stderr, "db-stats: expected FILE:NONCE, got '%s'\n", arg);
		return -1;
	}
	memcpy(path, arg, (size_t)(colon - arg));
	path[colon - arg] = '\0';

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "db-stats: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((size_t)st.st_size < DB_BENCH_SAMPLES_OFF + sizeof(uint64_t)) {
		fprintf(stderr, "db-stats: %s: too small for results\n", path);
		close(fd);
		return -1;
	}
	const uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);

	close(fd);
	if (map == MAP_FAILED) {
		fprintf(stderr, "db-stats: mmap %s: %s\n", path, strerror(errno));
		return -1;
	}

	struct db_bench_shm hdr;
	size_t room = ((size_t)st.st_size - DB_BENCH_SAMPLES_OFF) / sizeof(uint64_t);
	int ret = -1;

	memcpy(&hdr, map, sizeof(hdr));
	if (hdr.result_nonce != nonce || !hdr.result_n || hdr.result_n > room ||
	    !hdr.result_tsc_khz) {
		fprintf(stderr, "db-stats: %s holds no complete result of run %llu\n", path,
			(unsigned long long)nonce);
		goto out;
	}
	uint64_t khz = hdr.result_tsc_khz;

	if (host_khz && (khz > host_khz * 105 / 100 || khz < host_khz * 95 / 100)) {
		khz = host_khz;
		p->rescaled++;
	}
	size_t n = (size_t)hdr.result_n;

	if (p->n + n > p->cap) {
		size_t cap = (p->n + n) * 2;
		uint64_t *ns = realloc(p->ns, cap * sizeof(*ns));

		if (!ns) {
			fprintf(stderr, "db-stats: out of memory\n");
			goto out;
		}
		p->ns = ns;
		p->cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t ticks;

		memcpy(&ticks, map + DB_BENCH_SAMPLES_OFF + i * sizeof(ticks), sizeof(ticks));
		p->ns[p->n++] = ticks * 1000000ull / khz;
	}
	p->lost += hdr.result_lost;
	p->runs++;
	ret = 0;
out:
	munmap((void *)map, (size_t)st.st_size);
	return ret;
}

static void usage(void)
{
	fprintf(stderr, "usage: db-stats [-k HOST_TSC_KHZ] FILE:NONCE...\n"
			"       db-stats -T\n");
}

int main(int argc, char **argv)
{
	uint64_t host_khz = 0;
	struct pool p = { 0 };
	int opt;

	while ((opt = getopt(argc, argv, "k:Th")) != -1) {
		switch (opt) {
		case 'k':
			if (parse_u64(optarg, &host_khz)) {
				usage();
				return 1;
			}
			break;
		case 'T':
			printf("%llu\n", (unsigned long long)host_tsc_khz());
			return 0;
		default:
			usage();
			return opt == 'h' ? 0 : 1;
		}
	}
	if (optind >= argc) {
		usage();
		return 1;
	}
	for (int i = optind; i < argc; i++)
		if (add_run(&p, argv[i], host_khz))
			return 1;

	printf("RESULT doorbell");
	stats_print(p.ns, p.n);
	printf(" lost=%llu runs=%u rescaled=%u\n", (unsigned long long)p.lost, p.runs,
	       p.rescaled);
	free(p.ns);
	return 0;
}
