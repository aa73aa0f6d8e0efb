/*
 * The identity socket (docs/ivshmem-server.md, "Beyond QEMU"): clients that connect here send an
 * 80-byte hello naming themselves first; a returning identity from the same user gets its previous
 * peer id back. After the hello the connection is ordinary protocol 0, served by server.c.
 */
#include <errno.h>
#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_priv.h"

/* How long a connection on the identity socket may take to send its hello. */
#define HELLO_TIMEOUT_MS 2000
#define DEFAULT_RESERVE_MS 60000
/* Identities remembered per allowed peer; the longest gone is forgotten first. */
#define IDENTS_PER_PEER 4

struct ivs_pending {
	struct ivs_server *srv;
	int sock;
	struct ucred cred;
	uint8_t buf[IVSHMEM_HELLO_LEN];
	size_t got;
	guint watch, timer;
};

static void pending_free(struct ivs_pending *pd, bool close_sock)
{
	g_queue_remove(&pd->srv->pending, pd);
	if (pd->watch)
		g_source_remove(pd->watch);
	if (pd->timer)
		g_source_remove(pd->timer);
	if (close_sock)
		close(pd->sock);
	g_free(pd);
}

static void pending_refuse(struct ivs_pending *pd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pending_refuse(struct ivs_pending *pd, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pd->srv->stats.refused_hello++;
	if (log_ratelimit_ok(&pd->srv->refuse_rl, 5))
		pr_warn(LOG_PREFIX, "identity socket: refused pid %d uid %u: %s", (int)pd->cred.pid,
			(unsigned)pd->cred.uid, why);
	pending_free(pd, true);
}

static void unreserve(struct ivs_server *s, struct ivs_identity *ident)
{
	/* Its entry may have been taken over by a later holder of the same id: leave that one. */
	if (ident->reserved && g_hash_table_lookup(s->reserved, GUINT_TO_POINTER(ident->id)) == ident)
		g_hash_table_remove(s->reserved, GUINT_TO_POINTER(ident->id));
	ident->reserved = false;
}

/* The id may go back to ident: nobody uses it and it is not held for another identity. */
static bool can_reclaim(const struct ivs_server *s, const struct ivs_identity *ident)
{
	if (!ident->left_us || server_id_used(s, ident->id))
		return false;
	const struct ivs_identity *holder =
		g_hash_table_lookup(s->reserved, GUINT_TO_POINTER(ident->id));
	return !holder || holder == ident || !ident_id_reserved(s, ident->id);
}

/* Makes room in the table by forgetting the identity gone longest; false when all are here. */
static bool evict_one(struct ivs_server *s)
{
	GHashTableIter it;
	gpointer value;
	struct ivs_identity *oldest = NULL;

	g_hash_table_iter_init(&it, s->idents);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct ivs_identity *ident = value;
		if (!ident->peer && (!oldest || ident->left_us < oldest->left_us))
			oldest = ident;
	}
	if (!oldest)
		return false;
	unreserve(s, oldest);
	g_hash_table_remove(s->idents, oldest->name);
	return true;
}

static struct ivs_identity *remember(struct ivs_server *s, const char *name, uid_t uid)
{
	if (g_hash_table_size(s->idents) >= s->p.max_peers * IDENTS_PER_PEER && !evict_one(s))
		return NULL;
	struct ivs_identity *ident = g_new0(struct ivs_identity, 1);
	g_strlcpy(ident->name, name, sizeof(ident->name));
	ident->uid = uid;
	g_hash_table_insert(s->idents, ident->name, ident);
	return ident;
}

/* The hello is complete: choose the id and hand the connection to server.c. */
static void hello_done(struct ivs_pending *pd)
{
	struct ivs_server *s = pd->srv;
	char name[IVSHMEM_IDENTITY_MAX + 1];
	struct ivshmem_error err;
	uint16_t id;
	bool reclaimed = false;

	if (ivshmem_decode_hello(pd->buf, name, &err) < 0) {
		pending_refuse(pd, "%s", err.msg);
		return;
	}
	struct ivs_identity *ident = g_hash_table_lookup(s->idents, name);
	if (ident && ident->peer) {
		pending_refuse(pd, "identity %s is already connected as peer %u", name,
			       ident->peer->id);
		return;
	}
	if (ident && ident->uid != pd->cred.uid) {
		/* Never hand one user's id to another: served, but as a stranger. */
		pr_warn(LOG_PREFIX, "identity socket: %s belongs to uid %u, not %u: new id", name,
			(unsigned)ident->uid, (unsigned)pd->cred.uid);
		ident = NULL;
	} else if (!ident) {
		ident = remember(s, name, pd->cred.uid);
	}
	if (ident && can_reclaim(s, ident)) {
		id = ident->id;
		reclaimed = true;
	} else if (!server_id_alloc(s, &id)) {
		pending_refuse(pd, "every peer id is in use");
		return;
	}
	if (ident)
		unreserve(s, ident);

	int sock = pd->sock;
	struct ucred cred = pd->cred;
	pending_free(pd, false);
	struct ivs_peer *p = server_start_peer(s, sock, &cred, id);
	if (!p)
		return;
	if (reclaimed) {
		s->stats.reclaimed++;
		pr_info(LOG_PREFIX, "identity %s is back as peer %u", name, id);
	}
	if (ident) {
		ident->id = id;
		ident->peer = p;
		p->ident = ident;
	}
}

static gboolean pending_input(gint fd, GIOCondition cond, gpointer data)
{
	struct ivs_pending *pd = data;
	struct ivs_server *s = pd->srv;
	(void)cond;

	/* Exactly the hello: anything after it stays queued, and server.c drops a sender. */
	ssize_t n = recv(fd, pd->buf + pd->got, sizeof(pd->buf) - pd->got, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n > 0) {
		pd->got += (size_t)n;
		if (pd->got < sizeof(pd->buf))
			return G_SOURCE_CONTINUE;
	}
	pd->watch = 0;	/* this source ends on every path below */
	if (n <= 0) {
		pending_refuse(pd, "closed after %zu of %d hello bytes", pd->got, IVSHMEM_HELLO_LEN);
		return G_SOURCE_REMOVE;
	}
	hello_done(pd);
	server_process_drops(s);
	return G_SOURCE_REMOVE;
}

static gboolean pending_timeout(gpointer data)
{
	struct ivs_pending *pd = data;
	pd->timer = 0;
	pending_refuse(pd, "no complete hello within %d ms", HELLO_TIMEOUT_MS);
	return G_SOURCE_REMOVE;
}

static gboolean id_listen_input(gint fd, GIOCondition cond, gpointer data)
{
	struct ivs_server *s = data;
	(void)cond;

	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (c < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				pr_err(LOG_PREFIX, "identity socket: accept failed: %s",
				       strerror(errno));
			break;
		}
		struct ucred cred;
		if (!server_admit(s, c, &cred))
			continue;
		struct ivs_pending *pd = g_new0(struct ivs_pending, 1);
		pd->srv = s;
		pd->sock = c;
		pd->cred = cred;
		pd->watch = g_unix_fd_add(c, G_IO_IN | G_IO_HUP | G_IO_ERR, pending_input, pd);
		pd->timer = g_timeout_add(HELLO_TIMEOUT_MS, pending_timeout, pd);
		g_queue_push_tail(&s->pending, pd);
	}
	return G_SOURCE_CONTINUE;
}

void ident_init(struct ivs_server *s)
{
	s->idents = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	s->reserved = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_queue_init(&s->pending);
	if (!s->p.id_reserve_ms)
		s->p.id_reserve_ms = DEFAULT_RESERVE_MS;
	if (s->p.id_socket)
		s->id_listen_watch = g_unix_fd_add(s->p.id_listen_fd, G_IO_IN, id_listen_input, s);
}

void ident_fini(struct ivs_server *s)
{
	struct ivs_pending *pd;
	while ((pd = g_queue_peek_head(&s->pending)))
		pending_free(pd, true);
	if (s->id_listen_watch)
		g_source_remove(s->id_listen_watch);
	g_hash_table_destroy(s->reserved);
	g_hash_table_destroy(s->idents);
}

unsigned ident_pending_count(const struct ivs_server *s)
{
	return s->pending.length;
}

bool ident_id_reserved(const struct ivs_server *s, uint16_t id)
{
	const struct ivs_identity *ident = g_hash_table_lookup(s->reserved, GUINT_TO_POINTER(id));
	return ident && g_get_monotonic_time() - ident->left_us < (gint64)s->p.id_reserve_ms * 1000;
}

void ident_peer_left(struct ivs_server *s, struct ivs_peer *p)
{
	struct ivs_identity *ident = p->ident;
	if (!ident)
		return;
	p->ident = NULL;
	ident->peer = NULL;
	ident->left_us = g_get_monotonic_time();
	struct ivs_identity *old = g_hash_table_lookup(s->reserved, GUINT_TO_POINTER(ident->id));
	if (old && old != ident)
		old->reserved = false;	/* its reservation had lapsed: the id went on to ident */
	ident->reserved = true;
	g_hash_table_replace(s->reserved, GUINT_TO_POINTER(ident->id), ident);
}

void ident_expire(struct ivs_server *s)
{
	GHashTableIter it;
	gpointer value;
	gint64 now = g_get_monotonic_time();

	g_hash_table_iter_init(&it, s->reserved);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct ivs_identity *ident = value;
		if (now - ident->left_us >= (gint64)s->p.id_reserve_ms * 1000) {
			ident->reserved = false;
			g_hash_table_iter_remove(&it);
		}
	}
}
