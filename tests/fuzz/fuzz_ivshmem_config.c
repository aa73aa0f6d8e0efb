/*
 * The ivshmem option string (everything after "-s <slot>,ivshmem,"): ivshmem_parse_config().
 *
 * Properties: an accepted string gives a configuration that keeps every rule the header states
 * (name, size, keys and their combinations); the canonical string written back from it parses to
 * the same configuration; a refused one says why in one line, naming something.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "ivshmem_config.h"
#include "ivshmem_region.h"

#define MiB (1ULL << 20)

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static void check_config(const struct ivshmem_config *cfg, const char *text)
{
	struct ivshmem_error ierr;

	FUZZ_CHECK(ivshmem_name_check(cfg->name, &ierr) == 0, "'%s' gave name '%s'", text,
		   cfg->name);
	FUZZ_CHECK(is_pow2(cfg->size) && cfg->size >= 2 * MiB &&
			   cfg->size <= (uint64_t)IVSHMEM_LARGE_SIZE_MB * MiB,
		   "'%s' gave size %llu", text, (unsigned long long)cfg->size);
	FUZZ_CHECK(cfg->vectors <= IVSHMEM_MAX_VECTORS, "'%s': vectors %u", text, cfg->vectors);
	FUZZ_CHECK(memchr(cfg->server, '\0', sizeof(cfg->server)) &&
			   memchr(cfg->hugetlbfs_dir, '\0', sizeof(cfg->hugetlbfs_dir)),
		   "'%s': an unterminated path", text);
	if (cfg->land == IVSHMEM_HV_LAND) {
		FUZZ_CHECK(cfg->backend == IVSHMEM_BACKEND_SHM && cfg->vectors == 0 &&
				   cfg->size <= IVSHMEM_SIZE_MB_MAX_DEFAULT * MiB,
			   "'%s': a hypervisor-land region with device-model keys", text);
	}
	FUZZ_CHECK(cfg->vectors ? cfg->server[0] == '/' : cfg->server[0] == '\0',
		   "'%s': server '%s' with %u vectors", text, cfg->server, cfg->vectors);
	FUZZ_CHECK(cfg->backend != IVSHMEM_BACKEND_MEMFD || cfg->vectors,
		   "'%s': memfd without a server", text);
	FUZZ_CHECK(!cfg->hugetlbfs_dir[0] || (cfg->backend == IVSHMEM_BACKEND_HUGETLBFS &&
					       cfg->hugetlbfs_dir[0] == '/'),
		   "'%s': hugetlbfs='%s'", text, cfg->hugetlbfs_dir);
	FUZZ_CHECK(!cfg->memfd_hugetlb || cfg->backend == IVSHMEM_BACKEND_MEMFD,
		   "'%s': hugepages=on without mem=memfd", text);
	FUZZ_CHECK(cfg->vectors || (cfg->ioeventfd && cfg->irqfd),
		   "'%s': fast paths switched off on a device without interrupts", text);

	char label[64], want[64];
	ivshmem_config_label(cfg, label, sizeof(label));
	snprintf(want, sizeof(want), "%s:/%s", cfg->land == IVSHMEM_HV_LAND ? "hv" : "dm",
		 cfg->name);
	FUZZ_CHECK(strcmp(label, want) == 0, "label '%s'", label);
}

/* The configuration as its shortest option string: what a launch script generator writes. */
static void canonical(const struct ivshmem_config *cfg, char *buf, size_t len)
{
	static const char *const backends[] = { "shm", "hugetlbfs", "memfd" };
	size_t at = (size_t)snprintf(buf, len, "%s:/%s,%llu,%u",
				     cfg->land == IVSHMEM_HV_LAND ? "hv" : "dm", cfg->name,
				     (unsigned long long)(cfg->size / MiB), cfg->region_id);

#define KEY(...) (at += (size_t)snprintf(buf + at, len - at, __VA_ARGS__))
	if (cfg->backend != IVSHMEM_BACKEND_SHM)
		KEY(",mem=%s", backends[cfg->backend]);
	if (cfg->hugetlbfs_dir[0])
		KEY(",hugetlbfs=%s", cfg->hugetlbfs_dir);
	if (cfg->memfd_hugetlb)
		KEY(",hugepages=on");
	if (cfg->size > IVSHMEM_SIZE_MB_MAX_DEFAULT * MiB)
		KEY(",large=on");
	if (cfg->vectors)
		KEY(",vectors=%u,server=%s", cfg->vectors, cfg->server);
	if (!cfg->ioeventfd)
		KEY(",ioeventfd=off");
	if (!cfg->irqfd)
		KEY(",irqfd=off");
#undef KEY
	FUZZ_CHECK(at < len, "canonical form too long");
}

static void check_same(const struct ivshmem_config *a, const struct ivshmem_config *b,
		       const char *text, const char *again)
{
	FUZZ_CHECK(a->land == b->land && strcmp(a->name, b->name) == 0 && a->size == b->size &&
			   a->region_id == b->region_id && a->backend == b->backend &&
			   strcmp(a->hugetlbfs_dir, b->hugetlbfs_dir) == 0 &&
			   a->memfd_hugetlb == b->memfd_hugetlb && a->vectors == b->vectors &&
			   strcmp(a->server, b->server) == 0 && a->ioeventfd == b->ioeventfd &&
			   a->irqfd == b->irqfd,
		   "'%s' and its canonical form '%s' differ", text, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	struct ivshmem_config cfg, again;
	char err[256], canon[1024];

	memset(err, 0x55, sizeof(err));
	int ret = ivshmem_parse_config(text, &cfg, err, sizeof(err));
	if (ret == 0) {
		check_config(&cfg, text);
		canonical(&cfg, canon, sizeof(canon));
		ret = ivshmem_parse_config(canon, &again, err, sizeof(err));
		FUZZ_CHECK(ret == 0, "'%s' accepted, its canonical form '%s' refused: %s", text,
			   canon, err);
		check_same(&cfg, &again, text, canon);
	} else {
		FUZZ_CHECK(ret == -EINVAL, "'%s': %d", text, ret);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0], "'%s': no message", text);
		/* One line: only what the user typed may bring a newline in. */
		FUZZ_CHECK(strchr(text, '\n') || !strchr(err, '\n'), "'%s': '%s'", text, err);
	}
	free(text);
	return 0;
}
