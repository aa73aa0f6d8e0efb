/*
 * Connections on the identity socket until their hello is complete (docs/ivshmem-server.md,
 * "The identity socket"). They have their own limit, --max-pending, apart from --max-peers: a
 * connection that says nothing costs a slot for two seconds at most, and when every slot is taken
 * the oldest connection of the user holding the most is closed for the newcomer, so silent
 * connections re-opened as fast as they time out cannot keep an honest client out.
 */
#include <errno.h>
#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_priv.h"

/* How long a connection on the identity socket may take to send its hello. */
#define HELLO_TIMEOUT_MS 2000

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

static void pending_close(struct ivs_pending *pd, unsigned *counter, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pending_close(struct ivs_pending *pd, unsigned *counter, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	(*counter)++;
	if (log_ratelimit_ok(&pd->srv->refuse_rl, 5))
		pr_warn(LOG_PREFIX, "identity socket: refused pid %d uid %u: %s", (int)pd->cred.pid,
			(unsigned)pd->cred.uid, why);
	pending_free(pd, true);
}

/*
 * Reads what has arrived of the hello; once it is complete, hands the connection to identity.c.
 * Returns false while more is to come (pd still pending), true once pd is gone.
 */
static bool pending_read(struct ivs_pending *pd)
{
	struct ivs_server *s = pd->srv;
	unsigned *refused = &s->stats.refused_hello;

	/* Exactly the hello: anything after it stays queued, and server.c drops a sender. */
	ssize_t n = recv(pd->sock, pd->buf + pd->got, sizeof(pd->buf) - pd->got, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n > 0) {
		pd->got += (size_t)n;
		if (pd->got < sizeof(pd->buf))
			return false;
	}
	if (n <= 0) {
		pending_close(pd, refused, "closed after %zu of %d hello bytes", pd->got,
			      IVSHMEM_HELLO_LEN);
		return true;
	}
	char name[IVSHMEM_IDENTITY_MAX + 1];
	struct ivshmem_error err;
	if (ivshmem_decode_hello(pd->buf, name, &err) < 0) {
		pending_close(pd, refused, "%s", err.msg);
		return true;
	}
	int sock = pd->sock;
	struct ucred cred = pd->cred;
	pending_free(pd, false);
	ident_join(s, sock, &cred, name);
	return true;
}

static gboolean pending_input(gint fd, GIOCondition cond, gpointer data)
{
	struct ivs_pending *pd = data;
	struct ivs_server *s = pd->srv;
	(void)fd;
	(void)cond;

	guint watch = pd->watch;
	pd->watch = 0;		/* freeing pd must leave this source to end by returning REMOVE */
	if (!pending_read(pd)) {
		pd->watch = watch;
		return G_SOURCE_CONTINUE;
	}
	server_process_drops(s);
	return G_SOURCE_REMOVE;
}

static gboolean pending_timeout(gpointer data)
{
	struct ivs_pending *pd = data;
	pd->timer = 0;
	pending_close(pd, &pd->srv->stats.refused_hello, "no complete hello within %d ms",
		      HELLO_TIMEOUT_MS);
	return G_SOURCE_REMOVE;
}

/* When every slot is taken: the oldest connection of the user holding the most. */
static struct ivs_pending *pending_victim(const struct ivs_server *s)
{
	GHashTable *counts = g_hash_table_new(g_direct_hash, g_direct_equal);
	unsigned most = 0;
	uid_t uid = 0;

	for (const GList *l = s->pending.head; l; l = l->next) {
		const struct ivs_pending *pd = l->data;
		gpointer key = GUINT_TO_POINTER(pd->cred.uid);
		unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, key)) + 1;
		g_hash_table_insert(counts, key, GUINT_TO_POINTER(n));
		if (n > most) {
			most = n;
			uid = pd->cred.uid;
		}
	}
	g_hash_table_destroy(counts);
	for (const GList *l = s->pending.head; l; l = l->next) {
		struct ivs_pending *pd = l->data;
		if (pd->cred.uid == uid)
			return pd;
	}
	return NULL;
}

static void hello_accept(struct ivs_server *s, int fd)
{
	struct ucred cred;
	if (!server_check_creds(s, fd, &cred))
		return;
	struct ivs_pending *pd = g_new0(struct ivs_pending, 1);
	pd->srv = s;
	pd->sock = fd;
	pd->cred = cred;
	/* A client whose hello arrived with the connection never takes a slot. */
	if (pending_read(pd))
		return;
	struct ivs_pending *victim =
		s->pending.length >= s->p.max_pending ? pending_victim(s) : NULL;
	if (victim)
		pending_close(victim, &s->stats.evicted_pending,
			      "closed to make room: %u connections were waiting for their hello "
			      "(--max-pending)", s->p.max_pending);
	pd->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, pending_input, pd);
	pd->timer = g_timeout_add(HELLO_TIMEOUT_MS, pending_timeout, pd);
	g_queue_push_tail(&s->pending, pd);
}

void hello_init(struct ivs_server *s)
{
	g_queue_init(&s->pending);
	if (s->p.id_socket)
		listener_start(&s->id_listener, s, s->p.id_listen_fd, "identity socket",
			       hello_accept);
}

void hello_fini(struct ivs_server *s)
{
	struct ivs_pending *pd;
	listener_stop(&s->id_listener);
	while ((pd = g_queue_peek_head(&s->pending)))
		pending_free(pd, true);
}

unsigned hello_pending_count(const struct ivs_server *s)
{
	return s->pending.length;
}
