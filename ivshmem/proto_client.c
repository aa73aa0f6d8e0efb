/*
 * Client side of the ivshmem protocol as a pure state machine: it is fed decoded messages
 * (value, fd) and never touches a socket, so every server misbehaviour can be unit tested.
 * Semantics follow QEMU's hw/misc/ivshmem.c: peer notifications may arrive before the shared
 * memory message; a departure of an unknown peer is ignored.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ivshmem_proto.h"

enum client_state { WANT_VERSION, WANT_ID, RUNNING, FAILED };

struct peer {
	uint16_t id;
	unsigned received;	/* fds announced so far, including dropped ones */
	unsigned n;		/* fds kept: min(received, nvectors) */
	int fds[IVSHMEM_MAX_VECTORS];
};

struct ivshmem_client {
	unsigned nvectors;
	ivshmem_client_cb cb;
	void *opaque;
	enum client_state state;
	char failure[IVSHMEM_ERROR_LEN];	/* why it failed, repeated on later feeds */
	int own_id;
	int shm_fd;
	bool shm_received;
	bool ready;
	struct peer own;
	GHashTable *peers;	/* id -> struct peer *, other peers only */
};

static void peer_close_fds(struct peer *p)
{
	for (unsigned i = 0; i < p->n; i++)
		close(p->fds[i]);
	p->n = 0;
}

static void peer_free(gpointer data)
{
	struct peer *p = data;
	peer_close_fds(p);
	g_free(p);
}

struct ivshmem_client *ivshmem_client_new(unsigned nvectors, ivshmem_client_cb cb, void *opaque)
{
	if (nvectors < 1 || nvectors > IVSHMEM_MAX_VECTORS)
		return NULL;
	struct ivshmem_client *c = g_new0(struct ivshmem_client, 1);
	c->nvectors = nvectors;
	c->cb = cb;
	c->opaque = opaque;
	c->state = WANT_VERSION;
	c->own_id = -1;
	c->shm_fd = -1;
	c->peers = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, peer_free);
	return c;
}

void ivshmem_client_free(struct ivshmem_client *c)
{
	if (!c)
		return;
	g_hash_table_destroy(c->peers);
	peer_close_fds(&c->own);
	if (c->shm_fd >= 0)
		close(c->shm_fd);
	g_free(c);
}

void ivshmem_client_set_callback(struct ivshmem_client *c, ivshmem_client_cb cb, void *opaque)
{
	c->cb = cb;
	c->opaque = opaque;
}

static void emit(struct ivshmem_client *c, enum ivshmem_client_event_type type, unsigned peer,
		 unsigned vector, int fd, bool own)
{
	if (!c->cb)
		return;
	struct ivshmem_client_event ev = {
		.type = type, .peer = (uint16_t)peer, .vector = vector, .fd = fd, .own = own,
	};
	c->cb(c->opaque, &ev);
}

/* Fatal: the connection can no longer be trusted to describe the peers correctly. */
static int fail_fatal(struct ivshmem_client *c, int fd, struct ivshmem_error *err)
{
	if (fd >= 0)
		close(fd);
	c->state = FAILED;
	snprintf(c->failure, sizeof(c->failure), "%s", err ? err->msg : "protocol error");
	return -EPROTO;
}

static int reject(int fd)
{
	if (fd >= 0)
		close(fd);
	return -EPROTO;
}

static void check_ready(struct ivshmem_client *c)
{
	if (!c->ready && c->shm_received && c->own.received >= c->nvectors) {
		c->ready = true;
		emit(c, IVSHMEM_EV_SETUP_COMPLETE, (unsigned)c->own_id, 0, -1, false);
	}
}

/* One more eventfd for p: kept as its next vector, or closed beyond our vector count. */
static void add_vector(struct ivshmem_client *c, struct peer *p, int fd, bool own)
{
	unsigned vector = p->received++;
	if (vector < c->nvectors) {
		p->fds[p->n++] = fd;
		emit(c, IVSHMEM_EV_VECTOR_ADDED, p->id, vector, fd, own);
	} else {
		close(fd);
		emit(c, IVSHMEM_EV_VECTOR_DROPPED, p->id, vector, -1, own);
	}
}

static int feed_shm(struct ivshmem_client *c, int fd, struct ivshmem_error *err)
{
	if (fd < 0) {
		ivshmem_fail(err, EPROTO, "shared memory message (-1) arrived without an fd");
		return fail_fatal(c, fd, err);
	}
	if (c->shm_received) {
		ivshmem_fail(err, EPROTO, "unexpected second shared memory message");
		return reject(fd);
	}
	c->shm_fd = fd;
	c->shm_received = true;
	emit(c, IVSHMEM_EV_SHM, (unsigned)c->own_id, 0, fd, false);
	check_ready(c);
	return 0;
}

static int feed_peer(struct ivshmem_client *c, uint16_t id, int fd, struct ivshmem_error *err)
{
	if (id == c->own_id) {
		if (fd < 0) {
			ivshmem_fail(err, EPROTO, "server announced our own id %u as gone", id);
			return -EPROTO;
		}
		add_vector(c, &c->own, fd, true);
		check_ready(c);
		return 0;
	}

	struct peer *p = g_hash_table_lookup(c->peers, GUINT_TO_POINTER(id));
	if (fd < 0) {
		/* QEMU ignores a departure of a peer it never heard of; so do we. */
		if (p) {
			emit(c, IVSHMEM_EV_PEER_REMOVED, id, 0, -1, false);
			g_hash_table_remove(c->peers, GUINT_TO_POINTER(id));
		}
		return 0;
	}
	if (!p) {
		p = g_new0(struct peer, 1);
		p->id = id;
		g_hash_table_insert(c->peers, GUINT_TO_POINTER(id), p);
		emit(c, IVSHMEM_EV_PEER_ADDED, id, 0, -1, false);
	}
	add_vector(c, p, fd, false);
	return 0;
}

int ivshmem_client_feed(struct ivshmem_client *c, int64_t value, int fd, struct ivshmem_error *err)
{
	switch (c->state) {
	case FAILED:
		ivshmem_fail(err, EPROTO, "connection already failed: %s", c->failure);
		return reject(fd);
	case WANT_VERSION:
		if (value != IVSHMEM_PROTOCOL_VERSION) {
			ivshmem_fail(err, EPROTO, "unsupported ivshmem protocol version %lld",
				     (long long)value);
			return fail_fatal(c, fd, err);
		}
		if (fd >= 0) {
			ivshmem_fail(err, EPROTO, "the version message carried an fd");
			return fail_fatal(c, fd, err);
		}
		c->state = WANT_ID;
		return 0;
	case WANT_ID:
		if (value < 0 || value > IVSHMEM_MAX_PEER_ID) {
			ivshmem_fail(err, EPROTO, "own peer id %lld is out of range 0..%d",
				     (long long)value, IVSHMEM_MAX_PEER_ID);
			return fail_fatal(c, fd, err);
		}
		if (fd >= 0) {
			ivshmem_fail(err, EPROTO, "the own id message (%lld) carried an fd",
				     (long long)value);
			return fail_fatal(c, fd, err);
		}
		c->own_id = (int)value;
		c->own.id = (uint16_t)value;
		c->state = RUNNING;
		return 0;
	case RUNNING:
		break;
	}

	if (value == IVSHMEM_SHM_MSG)
		return feed_shm(c, fd, err);
	if (value < 0 || value > IVSHMEM_MAX_PEER_ID) {
		ivshmem_fail(err, EPROTO, "peer id %lld is out of range 0..%d", (long long)value,
			     IVSHMEM_MAX_PEER_ID);
		return reject(fd);
	}
	return feed_peer(c, (uint16_t)value, fd, err);
}

bool ivshmem_client_ready(const struct ivshmem_client *c)
{
	return c->ready;
}

bool ivshmem_client_failed(const struct ivshmem_client *c)
{
	return c->state == FAILED;
}

int ivshmem_client_own_id(const struct ivshmem_client *c)
{
	return c->own_id;
}

unsigned ivshmem_client_nvectors(const struct ivshmem_client *c)
{
	return c->nvectors;
}

int ivshmem_client_shm_fd(const struct ivshmem_client *c)
{
	return c->shm_fd;
}

int ivshmem_client_take_shm_fd(struct ivshmem_client *c)
{
	int fd = c->shm_fd;
	c->shm_fd = -1;
	return fd;
}

int ivshmem_client_own_fd(const struct ivshmem_client *c, unsigned vector)
{
	return vector < c->own.n ? c->own.fds[vector] : -1;
}

unsigned ivshmem_client_own_vectors(const struct ivshmem_client *c)
{
	return c->own.n;
}

int ivshmem_client_peer_fd(const struct ivshmem_client *c, unsigned peer, unsigned vector)
{
	const struct peer *p = g_hash_table_lookup(c->peers, GUINT_TO_POINTER(peer));
	return p && vector < p->n ? p->fds[vector] : -1;
}

unsigned ivshmem_client_peer_vectors(const struct ivshmem_client *c, unsigned peer)
{
	const struct peer *p = g_hash_table_lookup(c->peers, GUINT_TO_POINTER(peer));
	return p ? p->n : 0;
}

unsigned ivshmem_client_peer_count(const struct ivshmem_client *c)
{
	return g_hash_table_size(c->peers);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

unsigned ivshmem_client_peer_ids(const struct ivshmem_client *c, uint16_t *ids, unsigned max)
{
	unsigned total = g_hash_table_size(c->peers);
	uint16_t *all = g_new(uint16_t, total ? total : 1);
	GHashTableIter it;
	gpointer key;
	unsigned n = 0;

	g_hash_table_iter_init(&it, c->peers);
	while (g_hash_table_iter_next(&it, &key, NULL))
		all[n++] = (uint16_t)GPOINTER_TO_UINT(key);
	qsort(all, n, sizeof(all[0]), cmp_u16);
	for (unsigned i = 0; i < n && i < max; i++)
		ids[i] = all[i];
	g_free(all);
	return total;
}
