/*
 * Output to one peer. Sockets are non-blocking, so one client that stops reading can never block
 * the server or the other clients: what its socket will not take waits in a queue, and a peer that
 * reads nothing for the stall timeout while messages wait is dropped.
 *
 * The queue stays bounded by the live peers, whatever the churn: a departure takes its unsent
 * announcement back out of every queue (peer_forget), so a peer that joined and left while a slow
 * client was not reading costs that client nothing. What can wait is then the welcome, one
 * announcement per live peer, and one departure per peer that was already known to the client
 * when its queue started: 3 + max_peers * (vectors + 1) messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/sockios.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "server_priv.h"

struct ivs_qmsg {
	int64_t value;
	int fd;		/* a dup owned by the queue, or -1 */
	enum ivs_qmsg_kind kind;
};

static void qmsg_free(gpointer data)
{
	struct ivs_qmsg *m = data;
	if (m->fd >= 0)
		close(m->fd);
	g_free(m);
}

void peer_queue_clear(struct ivs_peer *p)
{
	struct ivs_qmsg *m;
	while ((m = g_queue_pop_head(&p->outq)))
		qmsg_free(m);
}

void peer_mark_drop(struct ivs_peer *p, unsigned *counter, const char *fmt, ...)
{
	if (p->dropping)
		return;
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	server_log_member(p->srv, LOG_WARN, "peer %u (pid %d) dropped: %s", p->id, (int)p->pid, why);
	if (counter)
		(*counter)++;
	p->dropping = true;
	g_queue_push_tail(&p->srv->drops, p);
}

/* Bytes the client has not read yet (SIOCOUTQ of a UNIX socket); -1 if unknown. */
static int unread_bytes(const struct ivs_peer *p)
{
	int n;
	return ioctl(p->sock, SIOCOUTQ, &n) == 0 ? n : -1;
}

static void made_progress(struct ivs_peer *p)
{
	p->blocked = false;
	p->last_progress_us = g_get_monotonic_time();
}

static void became_blocked(struct ivs_peer *p)
{
	if (p->blocked)
		return;
	/* The stall clock starts when a message first has to wait. */
	p->blocked = true;
	p->last_progress_us = g_get_monotonic_time();
	p->unread = unread_bytes(p);
}

static gboolean out_ready(gint fd, GIOCondition cond, gpointer data)
{
	struct ivs_peer *p = data;
	struct ivs_server *s = p->srv;
	(void)fd;
	(void)cond;

	gboolean keep = peer_flush(p) && p->out_watch != 0;
	/* Writable with nothing left to send: the client read what its socket held. */
	if (!keep && !p->dropping && g_queue_is_empty(&p->outq))
		made_progress(p);
	if (!keep)
		p->out_watch = 0;
	/* p may be freed from here on. */
	server_process_drops(s);
	return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void arm_out_watch(struct ivs_peer *p)
{
	if (!p->out_watch)
		p->out_watch = g_unix_fd_add(p->sock, G_IO_OUT, out_ready, p);
}

static void disarm_out_watch(struct ivs_peer *p)
{
	if (p->out_watch) {
		g_source_remove(p->out_watch);
		p->out_watch = 0;
	}
}

enum send_result { SENT, FULL, FD_LIMIT, DROPPED };

static enum send_result try_send(struct ivs_peer *p, int64_t value, int fd)
{
	struct ivshmem_error err;
	int ret = ivshmem_proto_send(p->sock, value, fd, &err);
	if (ret == 0) {
		if (p->blocked)
			made_progress(p);
		return SENT;
	}
	if (ret == -EAGAIN) {
		became_blocked(p);
		return FULL;
	}
	/*
	 * Too many fds in flight for this user: it clears as clients read. Not a poll condition
	 * (the socket stays writable), so the tick retries instead of the out watch.
	 */
	if (ret == -ETOOMANYREFS) {
		became_blocked(p);
		return FD_LIMIT;
	}
	peer_mark_drop(p, &p->srv->stats.dropped_error, "%s", err.msg);
	return DROPPED;
}

void peer_send(struct ivs_peer *p, const struct ivshmem_msg *msg, enum ivs_qmsg_kind kind)
{
	if (p->dropping)
		return;
	pr_dbg(LOG_PREFIX, "peer %u <- %lld%s", p->id, (long long)msg->value,
	       msg->fd >= 0 ? " + fd" : "");
	if (g_queue_is_empty(&p->outq)) {
		enum send_result ret = try_send(p, msg->value, msg->fd);
		if (ret == SENT || ret == DROPPED)
			return;
	}
	if (g_queue_get_length(&p->outq) >= p->srv->queue_cap) {
		/* Cannot happen while peer_forget keeps the bound (see the top of this file). */
		peer_mark_drop(p, &p->srv->stats.dropped_error,
			       "its queue reached %u messages, beyond what %u peers can need",
			       g_queue_get_length(&p->outq), p->srv->p.max_peers);
		return;
	}
	struct ivs_qmsg *m = g_new(struct ivs_qmsg, 1);
	m->value = msg->value;
	m->kind = kind;
	/* A dup, so the fd stays valid even if its owner leaves before this is sent. */
	m->fd = msg->fd >= 0 ? fcntl(msg->fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (msg->fd >= 0 && m->fd < 0) {
		g_free(m);
		peer_mark_drop(p, &p->srv->stats.dropped_error, "cannot queue an fd: %s",
			       g_strerror(errno));
		return;
	}
	g_queue_push_tail(&p->outq, m);
	arm_out_watch(p);
}

bool peer_forget(struct ivs_peer *p, uint16_t id, unsigned nvectors)
{
	unsigned taken = 0;
	GList *next;

	/*
	 * Only its own announcement can be in the queue: an earlier stay under the same id either
	 * had its announcement taken back the same way or ended with a departure message.
	 */
	for (GList *l = p->outq.head; l; l = next) {
		struct ivs_qmsg *m = l->data;
		next = l->next;
		if (m->kind == QMSG_JOIN && m->value == id) {
			qmsg_free(m);
			g_queue_delete_link(&p->outq, l);
			taken++;
		}
	}
	return taken < nvectors;
}

bool peer_flush(struct ivs_peer *p)
{
	struct ivs_qmsg *m;
	while (!p->dropping && (m = g_queue_peek_head(&p->outq))) {
		enum send_result ret = try_send(p, m->value, m->fd);
		if (ret == DROPPED)
			break;
		if (ret == FD_LIMIT)
			disarm_out_watch(p);
		if (ret != SENT)
			return true;
		g_queue_pop_head(&p->outq);
		qmsg_free(m);
	}
	return false;
}

void peer_check_stalls(struct ivs_server *s)
{
	gint64 now = g_get_monotonic_time();
	for (GList *l = s->peers.head; l; l = l->next) {
		struct ivs_peer *p = l->data;
		if (p->dropping)
			continue;
		bool waiting = peer_flush(p);
		if (!p->blocked) {
			if (!waiting)
				disarm_out_watch(p);
			continue;
		}
		/* Reading a little frees less than the out watch waits for: look at the socket. */
		int unread = unread_bytes(p);
		if (unread >= 0 && (unread < p->unread || unread == 0))
			made_progress(p);
		p->unread = unread;
		if (!p->blocked && !waiting) {
			disarm_out_watch(p);
			continue;
		}
		arm_out_watch(p);
		if (p->blocked && now - p->last_progress_us > (gint64)s->p.stall_timeout_ms * 1000)
			peer_mark_drop(p, &s->stats.dropped_stalled,
				       "stalled: nothing read for %u ms, %u messages waiting",
				       s->p.stall_timeout_ms, g_queue_get_length(&p->outq));
	}
}
