/*
 * The doorbell device (vectors=N): peers, eventfds and interrupts, through an ivshmem server that
 * speaks QEMU's protocol, so QEMU VMs on ivshmem-doorbell can join the same region.
 *
 * Fast paths, as QEMU's ivshmem-doorbell:
 *   ringing   a guest write of (peer << 16 | vector) to the Doorbell register is an ioeventfd with
 *             that datamatch, bound to the peer's eventfd: the write never leaves the kernel.
 *   receiving each own eventfd is an irqfd on the vector's MSI-X message while the vector is
 *             usable (MSI-X on, nothing masked).
 * While a vector is masked its irqfd is detached and the eventfd is read here instead: the event
 * becomes the vector's PBA bit and is delivered on unmask by the MSI-X helper. Where the backend
 * has no ioeventfd or irqfd, the same happens in user space (ivshmem_doorbell_ring, and the
 * eventfd watch calling pci_msix_notify) with identical guest-visible behaviour.
 *
 * Threads: vCPU threads ring and change MSI-X state; the main loop handles server
 * messages and eventfd watches. db->lock covers everything below; it is never held while calling
 * into the MSI-X helper (the helper calls our notifier without its own lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ivshmem_priv.h"
#include "ivshmem_proto.h"
#include "ivshmem_server_link.h"
#include "pci.h"
#include "pci_msix.h"
#include "vm.h"

#define HANDSHAKE_TIMEOUT_MS	5000
#define OWN_VECTORS_GRACE_MS	200	/* see handshake() */
#define RECONNECT_INTERVAL_MS	500	/* the first retry; each failure doubles it... */
#define RECONNECT_MAX_MS	4000	/* ...up to this */

struct own_vector {
	int irqfd;		/* backend handle while attached, else -1 */
	guint watch;		/* GLib source reading the eventfd in user space, else 0 */
	bool usable;
	uint64_t addr;
	uint32_t data;
};

struct ivshmem_doorbell {
	struct ivshmem *iv;
	pthread_mutex_t lock;

	int sock;
	guint sock_watch;
	guint reconnect_timer;
	unsigned reconnect_ms;		/* the delay of the pending retry */
	struct ivshmem_client *client;	/* NULL while disconnected */
	int peer_id;			/* IVPosition; kept across a server loss */

	unsigned nvectors;
	struct own_vector vec[IVSHMEM_MAX_VECTORS];

	bool ioeventfds;		/* declare them (ioeventfd=on) */
	bool irqfd_ok;
	struct log_ratelimit fastpath_log;

	/* What went through this process rather than the kernel's fast paths (logged at exit). */
	uint64_t rung_user;		/* doorbells written to a peer's eventfd here */
	uint64_t received_user;		/* own eventfd signals read here (masked or no irqfd) */
	bool wrong_region_logged;
	bool extra_vectors_logged;
	bool live;			/* init completed */
};

static void db_vector_event(struct ivshmem_doorbell *db, unsigned k);

/* ---- ringing peers ---- */

static int peer_fd_locked(struct ivshmem_doorbell *db, unsigned peer, unsigned vector)
{
	if (!db->client)
		return -1;
	if ((int)peer == db->peer_id)
		return ivshmem_client_own_fd(db->client, vector);
	return ivshmem_client_peer_fd(db->client, peer, vector);
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
 * ---- ioeventfds: one per (peer, vector) at BAR0 + Doorbell ----
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
	int ret = pci_bar_add_ioeventfd(db->iv->dev, IVSHMEM_BAR_REGS, &ev);
	if (ret < 0 && log_ratelimit_ok(&db->fastpath_log, 5))
		pr_warn("ivshmem", "%s: ioeventfd for peer %u vector %u: %s (using the slow path)",
			db->iv->dev->name, peer, vector, strerror(-ret));
}

/* Unbinds the ioeventfds of one peer (its fds are about to be closed). */
static void ioevents_remove_peer_locked(struct ivshmem_doorbell *db, unsigned peer)
{
	for (unsigned v = 0; v < ivshmem_client_peer_vectors(db->client, peer); v++) {
		const struct pci_bar_ioeventfd ev =
			doorbell_ioeventfd(peer, v, ivshmem_client_peer_fd(db->client, peer, v));
		(void)pci_bar_del_ioeventfd(db->iv->dev, IVSHMEM_BAR_REGS, &ev); /* -ENOENT: never added */
	}
}

/* Every (peer, vector) of a client that just became live, ours included. */
static void ioevents_add_all_locked(struct ivshmem_doorbell *db)
{
	unsigned count = ivshmem_client_peer_count(db->client);
	uint16_t *ids = g_new(uint16_t, count ? count : 1);
	unsigned n = ivshmem_client_peer_ids(db->client, ids, count);
	for (unsigned i = 0; i < n; i++)
		for (unsigned v = 0; v < ivshmem_client_peer_vectors(db->client, ids[i]); v++)
			ioevent_add_locked(db, ids[i], v, ivshmem_client_peer_fd(db->client, ids[i], v));
	g_free(ids);
	for (unsigned v = 0; v < ivshmem_client_own_vectors(db->client); v++)
		ioevent_add_locked(db, (unsigned)db->peer_id, v, ivshmem_client_own_fd(db->client, v));
}

static void ioevents_clear_locked(struct ivshmem_doorbell *db)
{
	pci_bar_clear_ioeventfds(db->iv->dev, IVSHMEM_BAR_REGS);
}

/* ---- receiving: own eventfds to MSI-X vectors ---- */

struct watch_ctx {
	struct ivshmem_doorbell *db;
	unsigned vector;
};

static gboolean on_own_eventfd(gint fd, GIOCondition cond, gpointer data)
{
	struct watch_ctx *ctx = data;
	(void)cond;
	uint64_t count;
	ssize_t n = read(fd, &count, sizeof(count));
	if (n == sizeof(count)) {
		__atomic_add_fetch(&ctx->db->received_user, 1, __ATOMIC_RELAXED);
		db_vector_event(ctx->db, ctx->vector);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	/*
	 * Readable but not an eventfd's 8 bytes (a server handed us a pipe or a file): watching it
	 * would spin the main loop. The vector goes quiet instead, and says so once.
	 */
	struct ivshmem_doorbell *db = ctx->db;
	pr_warn("ivshmem", "%s: the server's fd for vector %u is not an eventfd; the vector is "
		"ignored", db->iv->dev->name, ctx->vector);
	pthread_mutex_lock(&db->lock);
	db->vec[ctx->vector].watch = 0;
	pthread_mutex_unlock(&db->lock);
	return G_SOURCE_REMOVE;
}

static void watch_start_locked(struct ivshmem_doorbell *db, unsigned k)
{
	int fd = db->client ? ivshmem_client_own_fd(db->client, k) : -1;
	if (db->vec[k].watch || fd < 0)
		return;
	struct watch_ctx *ctx = g_new(struct watch_ctx, 1);
	*ctx = (struct watch_ctx){ db, k };
	GSource *src = g_unix_fd_source_new(fd, G_IO_IN);
	g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_own_eventfd, ctx, g_free);
	db->vec[k].watch = g_source_attach(src, NULL);
	g_source_unref(src);
}

static void watch_stop_locked(struct ivshmem_doorbell *db, unsigned k)
{
	if (db->vec[k].watch)
		g_source_remove(db->vec[k].watch);
	db->vec[k].watch = 0;
}

static void irqfd_detach_locked(struct ivshmem_doorbell *db, unsigned k)
{
	if (db->vec[k].irqfd >= 0)
		vm_irqfd_del(db->iv->dev->vm, db->vec[k].irqfd);
	db->vec[k].irqfd = -1;
}

/* Puts vector k on the right path for its current state. */
static void vector_route_locked(struct ivshmem_doorbell *db, unsigned k)
{
	struct own_vector *v = &db->vec[k];
	int fd = db->client ? ivshmem_client_own_fd(db->client, k) : -1;
	if (fd < 0) {
		irqfd_detach_locked(db, k);
		watch_stop_locked(db, k);
		return;
	}
	if (v->usable && db->irqfd_ok) {
		int ret = v->irqfd >= 0 ? vm_irqfd_update(db->iv->dev->vm, v->irqfd, v->addr, v->data)
					: vm_irqfd_add(db->iv->dev->vm, fd, v->addr, v->data);
		if (ret >= 0) {
			if (v->irqfd < 0)
				v->irqfd = ret;
			watch_stop_locked(db, k);
			return;
		}
		if (ret == -ENOTSUP)
			db->irqfd_ok = false;
		else if (log_ratelimit_ok(&db->fastpath_log, 5))
			pr_warn("ivshmem", "%s: irqfd for vector %u: %s (using the slow path)",
				db->iv->dev->name, k, strerror(-ret));
		irqfd_detach_locked(db, k);
	} else {
		irqfd_detach_locked(db, k);
	}
	/* Masked, disabled or no irqfd: events are read here and latched or delivered. */
	watch_start_locked(db, k);
}

static void db_vector_event(struct ivshmem_doorbell *db, unsigned k)
{
	/* Delivers now when usable, else sets the PBA bit: the helper decides. */
	pci_msix_notify(db->iv->dev, k);
}

static void on_msix_vector(struct pci_dev *dev, unsigned vector, bool usable, uint64_t addr,
			   uint32_t data, void *opaque)
{
	(void)dev;
	struct ivshmem_doorbell *db = opaque;
	if (vector >= db->nvectors)
		return;
	pthread_mutex_lock(&db->lock);
	db->vec[vector].usable = usable;
	db->vec[vector].addr = addr;
	db->vec[vector].data = data;
	vector_route_locked(db, vector);
	pthread_mutex_unlock(&db->lock);
}

static void vectors_route_all_locked(struct ivshmem_doorbell *db)
{
	for (unsigned k = 0; k < db->nvectors; k++)
		vector_route_locked(db, k);
}

static void vectors_release_all_locked(struct ivshmem_doorbell *db)
{
	for (unsigned k = 0; k < db->nvectors; k++) {
		irqfd_detach_locked(db, k);
		watch_stop_locked(db, k);
	}
}

/* ---- the server connection ---- */

static void on_client_event(void *opaque, const struct ivshmem_client_event *ev)
{
	struct ivshmem_doorbell *db = opaque;
	const char *name = db->iv->dev->name;
	if (ev->type == IVSHMEM_EV_VECTOR_DROPPED) {
		/* Once: with many peers this would come for every extra vector of each. */
		if (!db->extra_vectors_logged)
			pr_warn("ivshmem", "%s: the server offers more vectors than vectors=%u; the "
				"extra ones (from vector %u on) are ignored", name, db->nvectors,
				ev->vector);
		db->extra_vectors_logged = true;
		return;
	}
	/* During a set-up sequence the client is not live yet: nothing is bound to its fds. */
	if (!db->client)
		return;
	switch (ev->type) {
	case IVSHMEM_EV_PEER_ADDED:
		pr_info("ivshmem", "%s: peer %u joined", name, ev->peer);
		break;
	case IVSHMEM_EV_VECTOR_ADDED:
		/* A new peer's vector, or one of ours that came after the set-up (see handshake). */
		ioevent_add_locked(db, ev->peer, ev->vector, ev->fd);
		if (ev->own && ev->vector < db->nvectors)
			vector_route_locked(db, ev->vector);
		break;
	case IVSHMEM_EV_PEER_REMOVED:
		pr_info("ivshmem", "%s: peer %u left", name, ev->peer);
		/* Its fds are still open: unbind them from the kernel before the client closes them. */
		ioevents_remove_peer_locked(db, ev->peer);
		break;
	case IVSHMEM_EV_VECTOR_DROPPED:
		break;
	case IVSHMEM_EV_SHM:
	case IVSHMEM_EV_SETUP_COMPLETE:
		break;
	}
}

static gboolean on_server_message(gint fd, GIOCondition cond, gpointer data);
static gboolean on_reconnect_timer(gpointer data);
static void schedule_reconnect(struct ivshmem_doorbell *db);

static void server_lost_locked(struct ivshmem_doorbell *db, const char *why)
{
	pr_warn("ivshmem", "%s: lost the ivshmem server (%s); doorbells are dropped until it is "
		"back, the shared memory stays mapped", db->iv->dev->name, why);
	ioevents_clear_locked(db);
	vectors_release_all_locked(db);
	ivshmem_client_free(db->client);
	db->client = NULL;
	if (db->sock >= 0)
		close(db->sock);
	db->sock = -1;
	db->sock_watch = 0;
}

static gboolean on_server_message(gint fd, GIOCondition cond, gpointer data)
{
	struct ivshmem_doorbell *db = data;
	(void)cond;
	pthread_mutex_lock(&db->lock);
	for (;;) {
		int64_t value;
		int msg_fd;
		struct ivshmem_error err = { { 0 } };
		int ret = ivshmem_proto_recv(fd, &value, &msg_fd, &err);
		if (ret == -EAGAIN)
			break;
		if (ret < 0) {
			server_lost_locked(db, ret == IVSHMEM_PROTO_EOF ? "it closed the connection"
									: err.msg);
			pthread_mutex_unlock(&db->lock);
			schedule_reconnect(db);
			return G_SOURCE_REMOVE;
		}
		if (ivshmem_client_feed(db->client, value, msg_fd, &err) < 0)
			pr_warn("ivshmem", "%s: server message ignored: %s", db->iv->dev->name, err.msg);
	}
	pthread_mutex_unlock(&db->lock);
	return G_SOURCE_CONTINUE;
}

/*
 * Runs the set-up sequence on a blocking socket: version, own id, the shared memory fd, the
 * present peers and our own vectors. Returns the ready client, or NULL with err set.
 */
static struct ivshmem_client *handshake(struct ivshmem_doorbell *db, int sock,
					const char *identity, char *err, size_t errlen)
{
	struct ivshmem_client *client = ivshmem_client_new(db->nvectors, on_client_event, db);
	if (!client) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/*
	 * One deadline for the whole sequence, not per message: a server that trickles messages (or
	 * announces peers without end) must not keep acrn-dm from starting, or a reconnection from
	 * returning to the main loop, for longer than this.
	 */
	int64_t deadline = g_get_monotonic_time() + HANDSHAKE_TIMEOUT_MS * (int64_t)1000;
	while (!ivshmem_client_ready(client)) {
		int64_t value;
		int fd = -1;
		struct ivshmem_error perr = { { 0 } };
		int64_t left = deadline - g_get_monotonic_time();
		int ret = -EAGAIN;
		/*
		 * A server with fewer vectors than the device never completes the set-up as the
		 * client counts it: our own vectors come last, in one burst, so once we have the
		 * memory and one of them, a pause ends the sequence (QEMU's device does not wait for
		 * all of them either).
		 */
		bool partial = ivshmem_client_shm_fd(client) >= 0 &&
			       ivshmem_client_own_vectors(client) > 0;
		if (partial && left > OWN_VECTORS_GRACE_MS * 1000)
			left = OWN_VECTORS_GRACE_MS * 1000;
		if (left > 0) {
			struct timeval tv = { (time_t)(left / 1000000), (suseconds_t)(left % 1000000) };
			setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			ret = ivshmem_proto_recv(sock, &value, &fd, &perr);
		}
		if (ret == -EAGAIN && partial)
			break;
		if (ret == 0)
			ret = ivshmem_client_feed(client, value, fd, &perr);
		if (ret < 0) {
			if (ret == -EAGAIN)
				snprintf(err, errlen, "the server sent no complete set-up within 5 s");
			else if (ret == IVSHMEM_PROTO_EOF)
				/* The server says nothing about why; these are the two reasons it has. */
				snprintf(err, errlen, "the server closed the connection during set-up: it "
					 "has --max-peers peers already, or another VM with this VM's "
					 "identity (UUID %s) is connected (a VM of the same name?)",
					 identity);
			else
				snprintf(err, errlen, "%s", perr.msg);
			ivshmem_client_free(client);
			return NULL;
		}
	}
	if (ivshmem_client_own_vectors(client) < db->nvectors)
		pr_warn("ivshmem", "%s: the server gives %u vectors, the device has %u: vectors "
			"from %u on never fire", db->iv->dev->name, ivshmem_client_own_vectors(client),
			db->nvectors, ivshmem_client_own_vectors(client));
	struct timeval none = { 0, 0 };
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	return client;
}

/* Connects (starting a server when allowed) and completes the set-up. */
static int db_connect(struct ivshmem_doorbell *db, struct ivshmem_client **out, int *sock_out,
		      char *err, size_t errlen)
{
	const struct ivshmem_config *cfg = &db->iv->cfg;
	/* The VM's UUID (stable: derived from its name unless -U gives one) is its identity. */
	char identity[37];
	uuid_unparse_lower(db->iv->dev->vm->cfg->uuid, identity);
	int sock = ivshmem_server_connect(cfg, ivshmem_server_is_default(cfg), identity, err,
					  errlen);
	if (sock < 0)
		return sock;
	struct ivshmem_client *client = handshake(db, sock, identity, err, errlen);
	if (!client) {
		close(sock);
		return -EPROTO;
	}
	*out = client;
	*sock_out = sock;
	return 0;
}

/* "2, 5, 7" or "none": the peers the server told us about, for the log. */
static void peers_str(struct ivshmem_client *client, char *buf, size_t len)
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

static void watch_socket_locked(struct ivshmem_doorbell *db)
{
	db->sock_watch = g_unix_fd_add(db->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, on_server_message,
				       db);
}

/*
 * A failed attempt waits twice as long for the next one: an attempt may start a server and wait
 * for it (in this main loop), which must not repeat every 500 ms when the server cannot start.
 */
static gboolean retry_later(struct ivshmem_doorbell *db)
{
	pthread_mutex_lock(&db->lock);
	db->reconnect_ms = db->reconnect_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS
								    : db->reconnect_ms * 2;
	db->reconnect_timer = g_timeout_add(db->reconnect_ms, on_reconnect_timer, db);
	pthread_mutex_unlock(&db->lock);
	return G_SOURCE_REMOVE;
}

static gboolean on_reconnect_timer(gpointer data)
{
	struct ivshmem_doorbell *db = data;
	struct ivshmem_client *client;
	int sock;
	char err[256];
	if (db_connect(db, &client, &sock, err, sizeof(err)) < 0) {
		pr_dbg("ivshmem", "%s: reconnecting: %s", db->iv->dev->name, err);
		return retry_later(db);
	}
	/*
	 * Keep the mapping the guest has: the new fd must be the same memory (the same shm or
	 * hugetlbfs file). A restarted --memfd server offers new, empty memory: adopting it behind
	 * the guest's back would split the VMs into two groups that no longer share anything.
	 */
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
			       db->iv->dev->name);
		db->wrong_region_logged = true;
		ivshmem_client_free(client);
		close(sock);
		return retry_later(db);
	}
	pthread_mutex_lock(&db->lock);
	db->client = client;
	db->sock = sock;
	int old_id = db->peer_id;
	db->peer_id = ivshmem_client_own_id(client);
	char peers[128];
	peers_str(client, peers, sizeof(peers));
	db->wrong_region_logged = false;
	pr_info("ivshmem", "%s: reconnected to the ivshmem server as peer %d%s; peers present: %s",
		db->iv->dev->name, db->peer_id,
		old_id == db->peer_id ? "" : " (IVPosition changed)", peers);
	vectors_route_all_locked(db);
	ioevents_add_all_locked(db);
	watch_socket_locked(db);
	db->reconnect_timer = 0;
	pthread_mutex_unlock(&db->lock);
	return G_SOURCE_REMOVE;
}

static void schedule_reconnect(struct ivshmem_doorbell *db)
{
	pthread_mutex_lock(&db->lock);
	if (!db->reconnect_timer) {
		db->reconnect_ms = RECONNECT_INTERVAL_MS;
		db->reconnect_timer = g_timeout_add(db->reconnect_ms, on_reconnect_timer, db);
	}
	pthread_mutex_unlock(&db->lock);
}

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
	if (!db)
		return -ENOMEM;
	pthread_mutex_init(&db->lock, NULL);
	db->iv = iv;
	db->sock = -1;
	db->peer_id = -1;
	db->nvectors = iv->cfg.vectors;
	db->ioeventfds = iv->cfg.ioeventfd;
	db->irqfd_ok = iv->cfg.irqfd;
	for (unsigned k = 0; k < IVSHMEM_MAX_VECTORS; k++)
		db->vec[k].irqfd = -1;
	iv->doorbell = db;

	char err[256];
	int ret = db_connect(db, &db->client, &db->sock, err, sizeof(err));
	if (ret < 0) {
		pr_err("ivshmem", "%s: dm:/%s: %s", iv->dev->name, iv->cfg.name, err);
		return ret;
	}
	db->peer_id = ivshmem_client_own_id(db->client);

	struct ivshmem_error rerr = { { 0 } };
	ret = ivshmem_region_adopt(&iv->region, ivshmem_client_take_shm_fd(db->client), iv->cfg.size,
				   &rerr);
	if (ret < 0) {
		pr_err("ivshmem", "%s: dm:/%s: the server's region: %s", iv->dev->name, iv->cfg.name,
		       rerr.msg);
		return ret;
	}
	ret = pci_msix_init(iv->dev, db->nvectors, IVSHMEM_BAR_MSIX);
	if (ret < 0) {
		pr_err("ivshmem", "%s: cannot add MSI-X with %u vectors", iv->dev->name, db->nvectors);
		return ret;
	}
	pci_msix_set_notifier(iv->dev, on_msix_vector, db);

	pthread_mutex_lock(&db->lock);
	vectors_route_all_locked(db);
	ioevents_add_all_locked(db);
	watch_socket_locked(db);
	db->live = true;
	pthread_mutex_unlock(&db->lock);
	char peers[128];
	peers_str(db->client, peers, sizeof(peers));
	pr_info("ivshmem", "%s: dm:/%s: peer %d with %u vectors via %s; peers present: %s",
		iv->dev->name, iv->cfg.name, db->peer_id, db->nvectors, iv->cfg.server, peers);
	return 0;
}

void ivshmem_doorbell_free(struct ivshmem *iv)
{
	struct ivshmem_doorbell *db = iv->doorbell;
	if (!db)
		return;
	if (db->live)
		pr_info("ivshmem", "%s: doorbells: %llu rung from user space, %llu dropped; %llu "
			"received in user space", iv->dev->name, (unsigned long long)db->rung_user,
			(unsigned long long)__atomic_load_n(&iv->dropped_doorbells, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&db->received_user, __ATOMIC_RELAXED));
	pthread_mutex_lock(&db->lock);
	ioevents_clear_locked(db);
	vectors_release_all_locked(db);
	if (db->sock_watch)
		g_source_remove(db->sock_watch);
	if (db->reconnect_timer)
		g_source_remove(db->reconnect_timer);
	ivshmem_client_free(db->client);
	if (db->sock >= 0)
		close(db->sock);
	pthread_mutex_unlock(&db->lock);
	pthread_mutex_destroy(&db->lock);
	free(db);
	iv->doorbell = NULL;
}
