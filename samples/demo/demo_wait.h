/*
 * Timeouts for the demo guests' polling loops. The clock is read only every 64 polls: reading
 * the TSC and converting it costs more than polling a ring, and on a paravirtual KVM that
 * emulates guest kernel code it costs tens of microseconds.
 */
#ifndef SAMPLES_DEMO_WAIT_H
#define SAMPLES_DEMO_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"

struct demo_wait {
	uint64_t timeout_us;
	uint64_t start;
	unsigned polls;
};

static inline struct demo_wait demo_wait_start(uint64_t timeout_us)
{
	return (struct demo_wait){ timeout_us, time_us(), 0 };
}

/* Call once per poll: true once timeout_us have passed since demo_wait_start. */
static inline bool demo_wait_expired(struct demo_wait *w)
{
	if (++w->polls % 64)
		return false;
	return time_us() - w->start > w->timeout_us;
}

#endif
