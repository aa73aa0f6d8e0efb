/* Summary statistics of the host-side bench programs: sorts in place, prints nanoseconds. */
#ifndef DB_STATS_H
#define DB_STATS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline int stats_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Prints " n=N median=.. mean=.. min=.. p10=.. p90=.. p99=.. max=.." (n > 0) after sorting v. */
static inline void stats_print(uint64_t *v, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	qsort(v, n, sizeof(*v), stats_cmp_u64);
	printf(" n=%zu median=%llu mean=%llu min=%llu p10=%llu p90=%llu p99=%llu max=%llu", n,
	       (unsigned long long)v[n / 2], (unsigned long long)(sum / n),
	       (unsigned long long)v[0], (unsigned long long)v[n / 10],
	       (unsigned long long)v[n * 9 / 10],
	       (unsigned long long)v[n * 99 / 100], (unsigned long long)v[n - 1]);
}

#endif
