/*
 * The demo guests' link to each other: the ivshmem device, the ivmsg channel on it and, when
 * the device is the doorbell variant (acrn-dm's vectors=N), doorbells in both directions so a
 * waiting guest halts until its peer rings instead of spinning.
 */
#ifndef SAMPLES_DEMO_LINK_H
#define SAMPLES_DEMO_LINK_H

#include <stdbool.h>

#include "guest_ivshmem.h"
#include "ivmsg.h"

#define DEMO_VECTOR	0x50	/* LAPIC vector of every MSI-X entry */
#define DEMO_IDLE_US	1000	/* a halt never lasts longer: a missed ring costs 1 ms, no more */

struct demo_link {
	struct guest_ivshmem dev;
	struct ivmsg_chan chan;
	bool doorbells;
	unsigned rung, timeouts;	/* how halts ended: a doorbell, or DEMO_IDLE_US */
};

/*
 * Finds the device (region_id=N on the command line, else DEMO_REGION_ID), maps it and sets up
 * MSI-X when it has it; prints what it found, prefixed with who. 0, or -1 (printed).
 */
int demo_link_open(struct demo_link *l, const char *cmdline, const char *who);

/* After ivmsg_format or ivmsg_attach: publishes our peer id and rings the peer on every send. */
void demo_link_ready(struct demo_link *l);

/* One idle step of a wait loop: halt until rung (or DEMO_IDLE_US), else a pause. */
void demo_link_idle(struct demo_link *l);

/* Prints how the halts ended (doorbell devices only). */
void demo_link_report(const struct demo_link *l, const char *who);

#endif
