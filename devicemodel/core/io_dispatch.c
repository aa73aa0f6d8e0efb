/*
 * The range registry behind io_dispatch.h: one sorted array per address space, searched by
 * binary search. Ranges are few (tens), lookups are on every trapped guest access, and changes
 * happen only on BAR moves, so a sorted array under a mutex is both the simplest and the fastest.
 *
 * A handler runs without the registry lock held: io_dispatch copies the range out first. That lets
 * a handler (a PCI config write moving a BAR) register and unregister ranges, and lets several
 * vCPUs dispatch at once. Devices live as long as the VM, so a copied handler stays valid.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "io_dispatch.h"
#include "log.h"

struct range_table {
	struct io_range *ranges;
	size_t count;
	size_t capacity;
};

struct io_registry {
	pthread_mutex_t lock;
	struct range_table spaces[2]; /* indexed by enum io_space */
};

struct io_registry *io_registry_new(void)
{
	struct io_registry *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return NULL;
	pthread_mutex_init(&reg->lock, NULL);
	return reg;
}

void io_registry_free(struct io_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < 2; i++)
		free(reg->spaces[i].ranges);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

static struct range_table *table_of(struct io_registry *reg, enum io_space space)
{
	return &reg->spaces[space == IO_SPACE_PIO ? 0 : 1];
}

/* Index of the first range whose end lies above addr (the only candidate that can contain it). */
static size_t first_ending_above(const struct range_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct io_range *r = &t->ranges[mid];
		if (r->base + r->len - 1 < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool overlaps_locked(const struct range_table *t, uint64_t base, uint64_t len)
{
	size_t i = first_ending_above(t, base);
	return i < t->count && t->ranges[i].base <= base + len - 1;
}

static bool range_valid(uint64_t base, uint64_t len)
{
	return len != 0 && base + len - 1 >= base;
}

int io_register(struct io_registry *reg, const struct io_range *range)
{
	if (!range_valid(range->base, range->len))
		return -EINVAL;

	pthread_mutex_lock(&reg->lock);
	struct range_table *t = table_of(reg, range->space);
	int ret = 0;
	if (overlaps_locked(t, range->base, range->len)) {
		ret = -EEXIST;
		goto out;
	}
	if (t->count == t->capacity) {
		size_t cap = t->capacity ? t->capacity * 2 : 16;
		struct io_range *grown = realloc(t->ranges, cap * sizeof(*grown));
		if (!grown) {
			ret = -ENOMEM;
			goto out;
		}
		t->ranges = grown;
		t->capacity = cap;
	}
	size_t at = first_ending_above(t, range->base);
	memmove(&t->ranges[at + 1], &t->ranges[at], (t->count - at) * sizeof(*t->ranges));
	t->ranges[at] = *range;
	t->count++;
out:
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

int io_unregister(struct io_registry *reg, enum io_space space, uint64_t base)
{
	pthread_mutex_lock(&reg->lock);
	struct range_table *t = table_of(reg, space);
	size_t at = first_ending_above(t, base);
	int ret = -ENOENT;
	if (at < t->count && t->ranges[at].base == base) {
		memmove(&t->ranges[at], &t->ranges[at + 1], (t->count - at - 1) * sizeof(*t->ranges));
		t->count--;
		ret = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

bool io_range_free(struct io_registry *reg, enum io_space space, uint64_t base, uint64_t len)
{
	if (!range_valid(base, len))
		return false;
	pthread_mutex_lock(&reg->lock);
	bool is_free = !overlaps_locked(table_of(reg, space), base, len);
	pthread_mutex_unlock(&reg->lock);
	return is_free;
}

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? UINT64_MAX : (1ULL << (size * 8)) - 1;
}

int io_dispatch(struct io_registry *reg, struct io_request *req)
{
	struct io_range hit;
	bool found = false;

	pthread_mutex_lock(&reg->lock);
	const struct range_table *t = table_of(reg, req->space);
	size_t at = first_ending_above(t, req->addr);
	if (at < t->count && t->ranges[at].base <= req->addr && t->ranges[at].handler) {
		hit = t->ranges[at];
		found = true;
	}
	pthread_mutex_unlock(&reg->lock);

	if (!found) {
		pr_dbg("io", "unclaimed %s %s at 0x%llx size %u", req->is_write ? "write" : "read",
		       req->space == IO_SPACE_PIO ? "port" : "mmio", (unsigned long long)req->addr,
		       req->size);
		if (!req->is_write)
			req->value = all_ones(req->size);
		return -ENOENT;
	}

	uint64_t value = req->is_write ? req->value & all_ones(req->size) : 0;
	int ret = hit.handler(hit.opaque, req->addr - hit.base, req->size, req->is_write, &value);
	if (ret < 0) {
		pr_dbg("io", "%s: %s at +0x%llx size %u failed: %d", hit.name,
		       req->is_write ? "write" : "read",
		       (unsigned long long)(req->addr - hit.base), req->size, ret);
		value = all_ones(req->size);
	}
	if (!req->is_write)
		req->value = value & all_ones(req->size);
	return 0;
}
