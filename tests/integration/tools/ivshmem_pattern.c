/*
 * ivshmem-pattern: the host's side of the ivshmem guests' region layout
 * (tests/guest/ivshmem/ivshmem_test.h), for the integration scripts.
 *
 *   ivshmem-pattern verify FILE [--seed N] [--answered]
 *       The writer's header is complete, every data word is the pattern of its seed, and the
 *       checksum matches; --seed: the seed must be N; --answered: a reader also answered OK
 *       with the same checksum. Exit 0 and one "ok: ..." line, or 1 and what is wrong.
 *   ivshmem-pattern data FILE SEED
 *       Every data word is the pattern of SEED (a guest's fill, without the writer's header).
 *   ivshmem-pattern text FILE OFFSET          prints the NUL-terminated text at OFFSET
 *   ivshmem-pattern puttext FILE OFFSET TEXT  writes TEXT and a NUL at OFFSET
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../guest/ivshmem/ivshmem_test.h"

static int usage(void)
{
	fprintf(stderr, "usage: ivshmem-pattern verify FILE [--seed N] [--answered]\n"
			"       ivshmem-pattern data FILE SEED\n"
			"       ivshmem-pattern text FILE OFFSET\n"
			"       ivshmem-pattern puttext FILE OFFSET TEXT\n");
	return 2;
}

/* Maps the whole file; NULL after printing why. */
static void *map_file(const char *path, bool writable, size_t *size)
{
	int fd = open(path, writable ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "ivshmem-pattern: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		fprintf(stderr, "ivshmem-pattern: %s: empty or unreadable\n", path);
		close(fd);
		return NULL;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
		       fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "ivshmem-pattern: mmap %s: %s\n", path, strerror(errno));
		return NULL;
	}
	*size = (size_t)st.st_size;
	return p;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return *s && !*end && !errno;
}

static int verify(const char *path, int argc, char **argv)
{
	uint64_t want_seed = 0;
	bool seed_given = false, answered = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc && parse_u64(argv[i + 1], &want_seed)) {
			seed_given = true;
			i++;
		} else if (strcmp(argv[i], "--answered") == 0) {
			answered = true;
		} else {
			return usage();
		}
	}

	size_t size;
	uint8_t *p = map_file(path, false, &size);
	if (!p)
		return 1;
	const struct ivt_header *h = (const struct ivt_header *)p;
	int ret = 1;
	if (size <= IVT_DATA_OFF) {
		fprintf(stderr, "%s: %zu bytes, too small for the test layout\n", path, size);
	} else if (memcmp(h->magic, IVT_MAGIC, 8) != 0 || h->written != IVT_WRITTEN) {
		fprintf(stderr, "%s: no complete pattern (magic %.8s, written 0x%08x)\n", path,
			h->magic, h->written);
	} else if (h->size != size) {
		fprintf(stderr, "%s: the writer saw %" PRIu64 " bytes, the file has %zu\n", path,
			h->size, size);
	} else if (seed_given && h->seed != want_seed) {
		fprintf(stderr, "%s: seed %" PRIu64 ", expected %" PRIu64 "\n", path, h->seed,
			want_seed);
	} else {
		const uint64_t *w = (const uint64_t *)(p + IVT_DATA_OFF);
		uint64_t n = (size - IVT_DATA_OFF) / 8, state = ivt_seed_state(h->seed);
		uint64_t sum = IVT_SUM_INIT, errors = 0, first = 0;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t want = ivt_next(&state);
			if (w[i] != want && errors++ == 0)
				first = i;
			sum = ivt_sum(sum, w[i]);
		}
		if (errors)
			fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " words differ, the first at "
				"offset 0x%" PRIx64 "\n", path, errors, n, IVT_DATA_OFF + first * 8);
		else if (sum != h->checksum)
			fprintf(stderr, "%s: checksum 0x%016" PRIx64 ", header says 0x%016" PRIx64 "\n",
				path, sum, h->checksum);
		else if (answered && (h->answer != IVT_ANSWER_OK || h->reader_checksum != sum))
			fprintf(stderr, "%s: no good answer from a reader (answer 0x%08x, reader "
				"checksum 0x%016" PRIx64 ", %" PRIu64 " errors)\n", path, h->answer,
				h->reader_checksum, h->reader_errors);
		else
			ret = 0;
		if (ret == 0)
			printf("ok: %s: seed %" PRIu64 ", %zu bytes, checksum 0x%016" PRIx64
			       ", answer 0x%08x, %" PRIu64 " reader run(s)\n", path, h->seed, size, sum,
			       h->answer, h->reader_runs);
	}
	munmap(p, size);
	return ret;
}

static int data(const char *path, const char *seed_text)
{
	uint64_t seed;
	if (!parse_u64(seed_text, &seed))
		return usage();
	size_t size;
	uint8_t *p = map_file(path, false, &size);
	if (!p)
		return 1;
	int ret = 0;
	if (size <= IVT_DATA_OFF) {
		fprintf(stderr, "%s: %zu bytes, too small for the test layout\n", path, size);
		ret = 1;
	} else {
		const uint64_t *w = (const uint64_t *)(p + IVT_DATA_OFF);
		uint64_t n = (size - IVT_DATA_OFF) / 8, state = ivt_seed_state(seed);
		for (uint64_t i = 0; i < n; i++) {
			uint64_t want = ivt_next(&state);
			if (w[i] != want) {
				fprintf(stderr, "%s: word at offset 0x%" PRIx64 " is 0x%016" PRIx64
					", the pattern of seed %" PRIu64 " has 0x%016" PRIx64 "\n", path,
					IVT_DATA_OFF + i * 8, w[i], seed, want);
				ret = 1;
				break;
			}
		}
		if (ret == 0)
			printf("ok: %s: %" PRIu64 " words of seed %" PRIu64 "\n", path, n, seed);
	}
	munmap(p, size);
	return ret;
}

static int text(const char *path, const char *offset, const char *put)
{
	uint64_t off;
	if (!parse_u64(offset, &off))
		return usage();
	size_t size;
	char *p = map_file(path, put != NULL, &size);
	if (!p)
		return 1;
	int ret = 0;
	if (off >= size || size - off < IVT_TEXT_MAX) {
		fprintf(stderr, "%s: offset %" PRIu64 " is beyond the file\n", path, off);
		ret = 1;
	} else if (put) {
		size_t len = strlen(put);
		if (len >= IVT_TEXT_MAX) {
			fprintf(stderr, "ivshmem-pattern: text longer than %d bytes\n", IVT_TEXT_MAX - 1);
			ret = 1;
		} else {
			memcpy(p + off, put, len + 1);
		}
	} else {
		printf("%.*s\n", (int)strnlen(p + off, IVT_TEXT_MAX - 1), p + off);
	}
	munmap(p, size);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "verify") == 0)
		return verify(argv[2], argc - 3, argv + 3);
	if (argc == 4 && strcmp(argv[1], "data") == 0)
		return data(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "text") == 0)
		return text(argv[2], argv[3], NULL);
	if (argc == 5 && strcmp(argv[1], "puttext") == 0)
		return text(argv[2], argv[3], argv[4]);
	return usage();
}
