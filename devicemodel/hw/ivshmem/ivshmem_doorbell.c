/*
 * The doorbell device (vectors=N): peers, eventfds and interrupts, through an ivshmem server that
 * speaks QEMU's protocol, so QEMU VMs on ivshmem-doorbell can join the same region.
 *
 * Three parts, one file each:
 *   ivshmem_session.c  the server: set-up, peers joining and leaving, reconnecting off the main
 *                      loop's back;
 *   ivshmem_vectors.c  receiving: our own eventfds routed to the MSI-X vectors (irqfd while a
 *                      vector is usable, else read here and left pending in the PBA);
 *   this file          ringing: a guest write of (peer << 16 | vector) to the Doorbell register
 *                      signals that peer's eventfd, through an ioeventfd the PCI core binds
 *                      wherever BAR0 decodes, or from here when the write was trapped; and the
 *                      glue: what a new, lost or changed server connection means for the other two.
 * Where the backend has no ioeventfd or irqfd, the same happens in user space with identical
 * guest-visible behaviour, as in QEMU's ivshmem-doorbell.
 *
 * Threads: vCPU threads ring and change MSI-X state; the main loop handles server messages and
 * eventfd watches. db->lock guards the session's live client and everything bound to its fds.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ivshmem_priv.h"
#include "ivshmem_proto.h"
#include "ivshmem_session.h"
#include "ivshmem_vectors.h"
#include "pci.h"
#include "vm.h"

struct ivshmem_doorbell {
	struct ivshmem *iv;
	pthread_mutex_t lock;
	struct ivshmem_session *session;
	struct ivshmem_vectors *vectors;
	int peer_id;			/* IVPosition; kept across a server loss */
	bool ioeventfds;		/* declare them (ioeventfd=on) */
	uint64_t rung_user;		/* doorbells written to a peer's eventfd here */
	bool wrong_region_logged;
};

static struct ivshmem_client *client_locked(struct ivshmem_doorbell *db)
{
	return db->session ? ivshmem_session_client(db->session) : NULL;
}

/* ---- ringing peers: the slow path ---- */

static int peer_fd_locked(struct ivshmem_doorbell *db, unsigned peer, unsigned vector)
{
	struct ivshmem_client *client = client_locked(db);
	if (!client)
		return -1;
	if ((int)peer == db->peer_id)
		return ivshmem_client_own_fd(client, vector);
	return ivshmem_client_peer_fd(client, peer, vector);
}

void ivshmem_doorbell_ring(struct ivshmem *iv, uint32_t value)
{
	struct ivshmem_doorbell *db = iv->doorbell;
	unsigned peer = value >> 16, vector = value & 0xffff;
	pthread_mutex_lock(&db->lock);
	int fd = peer_fd_locked(db, peer, vector);
	if (fd >= 0) {
		uint64_t one = 1;
		/* Held under the lock: the fd cannot be closed and reused meanwhile. */
		if (write(fd, &one, sizeof(one)) != sizeof(one))
			fd = -1;
		else
			db->rung_user++;
	}
	pthread_mutex_unlock(&db->lock);
	if (fd < 0) {
		/* An absent peer, a vector it lacks, or no server yet: dropped, as the spec says. */
		__atomic_add_fetch(&iv->dropped_doorbells, 1, __ATOMIC_RELAXED);
		if (log_ratelimit_ok(&iv->drop_log, 5))
			pr_dbg("ivshmem", "%s: doorbell to peer %u vector %u dropped (no such peer or "
			       "vector)", iv->dev->name, peer, vector);
	}
}

/*
 * ---- ringing peers: the fast path, one ioeventfd per (peer, vector) at BAR0 + Doorbell ----
 *
 * Declared to the PCI core, which binds them wherever BAR0 decodes. Joins and departures change
 * only their own entries, so a client that floods the server with connections costs each VM a few
 * ioctls per connection, not a rebuild of the whole table.
 */

static struct pci_bar_ioeventfd doorbell_ioeventfd(unsigned peer, unsigned vector, int fd)
{
	return (struct pci_bar_ioeventfd){
		.off = IVSHMEM_REG_DOORBELL, .len = 4, .datamatch = true,
		.data = (uint64_t)peer << 16 | vector, .fd = fd,
	};
}

static void ioevent_add_locked(struct ivshmem_doorbell *db, unsigned peer, unsigned vector, int fd)
{
	if (!db->ioeventfds || fd < 0)
		return;
	const struct pci_bar_ioeventfd ev = doorbell_ioeventfd(peer, vector, fd);
	/* Refused (and logged by the core): that peer vector's doorbells take the slow path. */
	pci_bar_add_ioeventfd(db->iv->dev, IVSHMEM_BAR_REGS, &ev);
}

/* Unbinds the ioeventfds of one peer (its fds are about to be closed). */
static void ioevents_remove_peer_locked(struct ivshmem_doorbell *db, unsigned peer)
{
	struct ivshmem_client *client = client_locked(db);
	for (unsigned v = 0; v < ivshmem_client_peer_vectors(client, peer); v++) {
		const struct pci_bar_ioeventfd ev =
			doorbell_ioeventfd(peer, v, ivshmem_client_peer_fd(client, peer, v));
		(void)pci_bar_del_ioeventfd(db->iv->dev, IVSHMEM_BAR_REGS, &ev); /* -ENOENT: never added */
	}
}

/* ---- what the server connection means for the rest ---- */

/* Binds everything a client that just became live offers: peers, and our own vectors. */
static void client_live_locked(struct ivshmem_doorbell *db, struct ivshmem_client *client)
{
	db->peer_id = ivshmem_client_own_id(client);
	unsigned count = ivshmem_client_peer_count(client);
	uint16_t *ids = g_new(uint16_t, count ? count : 1);
	unsigned n = ivshmem_client_peer_ids(client, ids, count);
	for (unsigned i = 0; i < n; i++)
		for (unsigned v = 0; v < ivshmem_client_peer_vectors(client, ids[i]); v++)
			ioevent_add_locked(db, ids[i], v, ivshmem_client_peer_fd(client, ids[i], v));
	g_free(ids);
	for (unsigned v = 0; v < db->iv->cfg.vectors; v++) {
		int fd = ivshmem_client_own_fd(client, v);
		ioevent_add_locked(db, (unsigned)db->peer_id, v, fd);
		ivshmem_vectors_set_fd_locked(db->vectors, v, fd);
	}
}

static void on_session_event(void *owner, const struct ivshmem_client_event *ev)
{
	struct ivshmem_doorbell *db = owner;
	const char *name = db->iv->dev->name;
	switch (ev->type) {
	case IVSHMEM_EV_PEER_ADDED:
		pr_info("ivshmem", "%s: peer %u joined", name, ev->peer);
		break;
	case IVSHMEM_EV_VECTOR_ADDED:
		/* A new peer's vector, or one of ours that came after the set-up. */
		ioevent_add_locked(db, ev->peer, ev->vector, ev->fd);
		if (ev->own)
			ivshmem_vectors_set_fd_locked(db->vectors, ev->vector, ev->fd);
		break;
	case IVSHMEM_EV_PEER_REMOVED:
		pr_info("ivshmem", "%s: peer %u left", name, ev->peer);
		/* Its fds are still open: unbind them from the kernel before the client closes them. */
		ioevents_remove_peer_locked(db, ev->peer);
		break;
	case IVSHMEM_EV_VECTOR_DROPPED:
	case IVSHMEM_EV_SHM:
	case IVSHMEM_EV_SETUP_COMPLETE:
		break;
	}
}

static void on_session_lost(void *owner)
{
	struct ivshmem_doorbell *db = owner;
	pci_bar_clear_ioeventfds(db->iv->dev, IVSHMEM_BAR_REGS);
	for (unsigned v = 0; v < db->iv->cfg.vectors; v++)
		ivshmem_vectors_set_fd_locked(db->vectors, v, -1);
}

/* "2, 5, 7" or "none": the peers the server told us about, for the log. */
static void peers_str(const struct ivshmem_client *client, char *buf, size_t len)
{
	uint16_t ids[16];
	unsigned n = ivshmem_client_peer_ids(client, ids, 16);
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < n && i < 16 && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%u", i ? ", " : "", ids[i]);
	if (n > 16 && at < len)
		snprintf(buf + at, len - at, " and %u more", n - 16);
	if (n == 0)
		snprintf(buf, len, "none");
}

/*
 * Keep the mapping the guest has: the new fd must be the same memory (the same shm or hugetlbfs
 * file). A restarted --memfd server offers new, empty memory: adopting it behind the guest's back
 * would split the VMs into two groups that no longer share anything.
 */
static int on_session_reconnected(void *owner, struct ivshmem_client *client)
{
	struct ivshmem_doorbell *db = owner;
	const char *name = db->iv->dev->name;
	struct stat st, mine;
	int shm = ivshmem_client_take_shm_fd(client);
	bool same = shm >= 0 && fstat(shm, &st) == 0 && fstat(db->iv->region.fd, &mine) == 0 &&
		    st.st_dev == mine.st_dev && st.st_ino == mine.st_ino;
	if (shm >= 0)
		close(shm);
	if (!same) {
		if (!db->wrong_region_logged)
			pr_err("ivshmem", "%s: the restarted server offers other memory than the region "
			       "this VM maps (a memfd server, or another file); staying disconnected",
			       name);
		db->wrong_region_logged = true;
		return -ESTALE;
	}
	db->wrong_region_logged = false;
	int old_id = db->peer_id;
	client_live_locked(db, client);
	char peers[128];
	peers_str(client, peers, sizeof(peers));
	pr_info("ivshmem", "%s: reconnected to the ivshmem server as peer %d%s; peers present: %s",
		name, db->peer_id, old_id == db->peer_id ? "" : " (IVPosition changed)", peers);
	return 0;
}

static const struct ivshmem_session_ops session_ops = {
	.event = on_session_event,
	.lost = on_session_lost,
	.reconnected = on_session_reconnected,
};

/* ---- life cycle ---- */

uint32_t ivshmem_doorbell_peer_id(struct ivshmem *iv)
{
	struct ivshmem_doorbell *db = iv->doorbell;
	pthread_mutex_lock(&db->lock);
	uint32_t id = db->peer_id < 0 ? 0 : (uint32_t)db->peer_id;
	pthread_mutex_unlock(&db->lock);
	return id;
}

int ivshmem_doorbell_init(struct ivshmem *iv)
{
	struct ivshmem_doorbell *db = calloc(1, sizeof(*db));
	if (!db) {
		pr_err("ivshmem", "%s: out of memory", iv->dev->name);
		return -ENOMEM;
	}
	pthread_mutex_init(&db->lock, NULL);
	db->iv = iv;
	db->peer_id = -1;
	db->ioeventfds = iv->cfg.ioeventfd;
	iv->doorbell = db;

	/* The VM's UUID (stable: derived from its name unless -U gives one) is its identity. */
	char identity[37], err[256];
	vm_uuid_str(iv->dev->vm, identity);
	const struct ivshmem_session_params params = {
		.name = iv->dev->name, .cfg = &iv->cfg, .identity = identity, .lock = &db->lock,
		.ops = &session_ops, .owner = db,
	};
	int ret = ivshmem_session_open(&params, &db->session, err, sizeof(err));
	if (ret < 0) {
		pr_err("ivshmem", "%s: dm:/%s: %s", iv->dev->name, iv->cfg.name, err);
		return ret;
	}
	pthread_mutex_lock(&db->lock);
	struct ivshmem_client *client = client_locked(db);
	int shm = ivshmem_client_take_shm_fd(client);
	pthread_mutex_unlock(&db->lock);

	struct ivshmem_error rerr = { { 0 } };
	ret = ivshmem_region_adopt(&iv->region, shm, iv->cfg.size, &rerr);
	if (ret < 0) {
		pr_err("ivshmem", "%s: dm:/%s: the server's region: %s", iv->dev->name, iv->cfg.name,
		       rerr.msg);
		return ret;
	}
	ret = ivshmem_vectors_new(iv->dev, iv->cfg.vectors, IVSHMEM_BAR_MSIX, iv->cfg.irqfd,
				  &db->lock, &db->vectors);
	if (ret < 0)
		return ret;

	char peers[128];
	pthread_mutex_lock(&db->lock);
	client_live_locked(db, client);
	peers_str(client, peers, sizeof(peers));
	pthread_mutex_unlock(&db->lock);
	pr_info("ivshmem", "%s: dm:/%s: peer %d with %u vectors via %s; peers present: %s",
		iv->dev->name, iv->cfg.name, db->peer_id, iv->cfg.vectors, iv->cfg.server, peers);
	return 0;
}

void ivshmem_doorbell_free(struct ivshmem *iv)
{
	struct ivshmem_doorbell *db = iv->doorbell;
	if (!db)
		return;
	if (db->vectors)
		pr_info("ivshmem", "%s: doorbells: %llu rung from user space, %llu dropped; %llu "
			"received in user space", iv->dev->name, (unsigned long long)db->rung_user,
			(unsigned long long)__atomic_load_n(&iv->dropped_doorbells, __ATOMIC_RELAXED),
			(unsigned long long)ivshmem_vectors_received_user(db->vectors));
	/* Everything bound to the client's fds goes before the session closes them. */
	pci_bar_clear_ioeventfds(iv->dev, IVSHMEM_BAR_REGS);
	ivshmem_vectors_free(db->vectors);
	ivshmem_session_close(db->session);
	pthread_mutex_destroy(&db->lock);
	free(db);
	iv->doorbell = NULL;
}
