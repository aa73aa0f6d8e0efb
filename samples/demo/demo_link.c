/* The demo's link: device, channel and doorbells (see demo_link.h). */
#include "demo_link.h"

#include "guest.h"
#include "plant.h"

static void ring_peer(void *ctx)
{
	struct demo_link *l = ctx;
	int peer = ivmsg_peer_id(&l->chan);

	/* Before the peer has said who it is, it cannot be rung: it wakes up by itself (1 ms). */
	if (peer >= 0)
		guest_ivshmem_doorbell(&l->dev, (uint16_t)peer, 0);
}

int demo_link_open(struct demo_link *l, const char *cmdline, const char *who)
{
	if (guest_ivshmem_open(&l->dev, guest_ivshmem_cmdline_region(cmdline, DEMO_REGION_ID)))
		return -1;
	l->doorbells = guest_ivshmem_doorbells(&l->dev, DEMO_VECTOR) > 0;
	printf("%s: ivshmem %s, region id 0x%x, %lu KiB shared at 0x%lx\n", who,
	       pci_bdf_str(l->dev.bdf), l->dev.region_id, l->dev.size >> 10, l->dev.bar2);
	if (l->doorbells)
		printf("%s: doorbells: IVPosition %u, %u MSI-X vector(s); waiting halts until rung\n",
		       who, guest_ivshmem_ivposition(&l->dev), l->dev.vectors);
	else
		printf("%s: plain device (no MSI-X): waiting polls the ring\n", who);
	return 0;
}

void demo_link_ready(struct demo_link *l)
{
	if (!l->doorbells)
		return;
	ivmsg_set_local_id(&l->chan, (uint16_t)guest_ivshmem_ivposition(&l->dev));
	ivmsg_set_doorbell(&l->chan, ring_peer, l);
	/* The peer may be halted waiting for us to show up. */
	ring_peer(l);
}

void demo_link_idle(struct demo_link *l)
{
	if (!l->doorbells) {
		cpu_relax();
		return;
	}
	if (wait_irq(DEMO_IDLE_US) == DEMO_VECTOR)
		l->rung++;
	else
		l->timeouts++;
}

void demo_link_report(const struct demo_link *l, const char *who)
{
	if (l->doorbells)
		printf("%s: woken %u times by the peer's doorbell, %u times by the %u us timeout\n",
		       who, l->rung, l->timeouts, DEMO_IDLE_US);
}
