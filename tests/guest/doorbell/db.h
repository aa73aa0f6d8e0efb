/*
 * The doorbell test guest (doorbell.c, db_dev.c, db_echo.c): one ELF that several VMs run at once
 * on one ivshmem region, under acrn-dm or QEMU, each told its role on the command line.
 *
 * The shared region (BAR2) is how the guests find each other: no guest assumes another's peer id.
 *
 *   0x00000  struct db_ctl    written by the host (integration scripts) only: "STOP" ends echo
 *                             guests
 *   0x10000  struct db_slot   one per guest index (index=K on the command line), 64 KiB apart:
 *                             the guest's IVPosition, barrier phase, heartbeat, and the mailboxes
 *                             through which it is pinged and answers
 *   slot + 0x1000             DB_DATA_BYTES of a pattern the guest writes and the others check
 *
 * A request from guest i to guest j is slot[j].req[i] = seq << 16 | vector, then a doorbell to
 * j's id on that vector; j answers with slot[i].ack[j] = the same value and a doorbell to i's id
 * on the same vector.
 */
#ifndef DB_H
#define DB_H

#include "guest.h"

#define DB_MAX_PEERS	8
#define DB_VEC_BASE	0x40		/* MSI-X entry k -> LAPIC vector 0x40 + k */
#define DB_MAX_VECTORS	64

#define DB_CTL_OFF	0x0
#define DB_CTL_STOP	0x504f5453u	/* "STOP" as the host's printf writes it */
#define DB_SLOT_OFF(k)	(0x10000ull + (uint64_t)(k) * 0x10000)
#define DB_DATA_OFF	0x1000
#define DB_DATA_BYTES	0x4000
#define DB_REGION_MIN	(DB_SLOT_OFF(DB_MAX_PEERS))

#define DB_SLOT_MAGIC	0x534c4244u	/* "DBLS" */

/* BAR0 registers. */
#define DB_REG_INTR_MASK	0x00
#define DB_REG_INTR_STATUS	0x04
#define DB_REG_IV_POSITION	0x08
#define DB_REG_DOORBELL		0x0c

struct db_ctl {
	volatile uint32_t stop;
};

struct db_slot {
	volatile uint32_t magic;	/* DB_SLOT_MAGIC once the fields below are valid */
	volatile uint32_t id;		/* IVPosition as the guest last read it */
	volatile uint32_t nvec;		/* MSI-X vectors of its device (0: plain) */
	volatile uint32_t phase;	/* barrier counter */
	volatile uint64_t beat;		/* heartbeat of echo guests */
	volatile uint64_t boot;		/* TSC at boot: tells a restarted guest from its predecessor */
	volatile uint64_t req[DB_MAX_PEERS];	/* written by guest i: its request to this guest */
	volatile uint64_t ack[DB_MAX_PEERS];	/* written by guest j: its answer to our request */
};

/* The device and the guest's view of the others. */
struct db {
	uint16_t bdf;
	uint64_t bar0, shm, shm_size;
	uint64_t msix_table, pba;	/* 0 for the plain device */
	uint8_t msix_cap;
	unsigned nvec;
	unsigned index, npeers;
	uint32_t id;			/* our IVPosition */
	uint64_t timeout_us;		/* one doorbell round trip, strict tests */
	uint64_t wait_us;		/* a barrier (all guests up, a phase done) */
};

extern struct db db;

static inline struct db_slot *db_slot(unsigned k)
{
	return (struct db_slot *)(uintptr_t)(db.shm + DB_SLOT_OFF(k));
}

static inline struct db_ctl *db_ctl(void)
{
	return (struct db_ctl *)(uintptr_t)(db.shm + DB_CTL_OFF);
}

static inline void db_fence(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

/* db_dev.c: the device. */
void db_find_device(const char *cmdline);	/* fills db: BARs mapped, MSI-X set up */
uint32_t db_reg_read(unsigned off);
void db_reg_write(unsigned off, uint32_t v);
void db_ring(uint32_t peer, uint32_t vector);
void db_vector_mask(unsigned k, bool masked);
void db_function_mask(bool masked);
bool db_pba_pending(unsigned k);
/* Writes our slot (id, vector count, boot stamp) and the data pattern; magic last. */
void db_publish(void);
/* The slot of guest k once it has published, else NULL. */
struct db_slot *db_peer(unsigned k);
/*
 * Everyone (index < npeers) reaches phase p. One interrupt taken meanwhile is kept for the next
 * db_wait_irq (a peer that left the barrier first may ring us at once); a second one, or one
 * still unclaimed at the next barrier, fails the test.
 */
void db_barrier(uint32_t p);
/* wait_irq, taking first the interrupt a barrier kept. */
int db_wait_irq(uint64_t timeout_us);
/* Word w of the data of guest index, booted at boot (so a restarted guest writes new data). */
uint64_t db_pattern(unsigned index, uint64_t boot, unsigned word);
/* Checks the data of every published guest (peers < npeers, or all slots when all). */
void db_check_data(bool all);

/* db_echo.c: the long-running role of the disruption tests. */
int db_echo(const char *cmdline);

#endif
