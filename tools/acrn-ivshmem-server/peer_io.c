/*
 * Output to one peer. Sockets are non-blocking, so one client that stops reading can never block
 * the server or the other clients: what its socket will not take waits in a bounded queue, and a
 * peer whose queue overflows or does not move for the stall timeout is dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "server_priv.h"

struct ivs_qmsg {
	int64_t value;
	int fd;		/* a dup owned by the queue, or -1 */
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
	pr_warn(LOG_PREFIX, "peer %u (pid %d) dropped: %s", p->id, (int)p->pid, why);
	if (counter)
		(*counter)++;
	p->dropping = true;
	g_queue_push_tail(&p->srv->drops, p);
}

static gboolean out_ready(gint fd, GIOCondition cond, gpointer data)
{
	struct ivs_peer *p = data;
	struct ivs_server *s = p->srv;
	(void)fd;
	(void)cond;

	gboolean keep = peer_flush(p) && p->out_watch != 0;
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
	if (ret == 0)
		return SENT;
	if (ret == -EAGAIN)
		return FULL;
	/*
	 * Too many fds in flight for this user: it clears as clients read. Not a poll condition
	 * (the socket stays writable), so the per-second tick retries instead of the out watch.
	 */
	if (ret == -ETOOMANYREFS)
		return FD_LIMIT;
	peer_mark_drop(p, &p->srv->stats.dropped_error, "%s", err.msg);
	return DROPPED;
}

void peer_send(struct ivs_peer *p, int64_t value, int fd)
{
	if (p->dropping)
		return;
	pr_dbg(LOG_PREFIX, "peer %u <- %lld%s", p->id, (long long)value, fd >= 0 ? " + fd" : "");
	if (g_queue_is_empty(&p->outq)) {
		enum send_result ret = try_send(p, value, fd);
		if (ret == SENT || ret == DROPPED)
			return;
		/* The stall clock starts when a message first has to wait. */
		p->last_progress_us = g_get_monotonic_time();
	}
	if (g_queue_get_length(&p->outq) >= p->srv->queue_cap) {
		peer_mark_drop(p, &p->srv->stats.dropped_stalled,
			       "stalled: it does not read, %u messages are waiting",
			       g_queue_get_length(&p->outq));
		return;
	}
	struct ivs_qmsg *m = g_new(struct ivs_qmsg, 1);
	m->value = value;
	/* A dup, so the fd stays valid even if its owner leaves before this is sent. */
	m->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (fd >= 0 && m->fd < 0) {
		g_free(m);
		peer_mark_drop(p, &p->srv->stats.dropped_error, "cannot queue an fd: %s",
			       g_strerror(errno));
		return;
	}
	g_queue_push_tail(&p->outq, m);
	if (g_queue_get_length(&p->outq) == 1)
		arm_out_watch(p);
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
		p->last_progress_us = g_get_monotonic_time();
	}
	return false;
}

void peer_check_stalls(struct ivs_server *s)
{
	gint64 now = g_get_monotonic_time();
	for (GList *l = s->peers.head; l; l = l->next) {
		struct ivs_peer *p = l->data;
		if (p->dropping || g_queue_is_empty(&p->outq))
			continue;
		if (peer_flush(p)) {
			arm_out_watch(p);
			if (now - p->last_progress_us > (gint64)s->p.stall_timeout_ms * 1000)
				peer_mark_drop(p, &s->stats.dropped_stalled,
					       "stalled: nothing read for %u ms, %u messages waiting",
					       s->p.stall_timeout_ms, g_queue_get_length(&p->outq));
		} else {
			disarm_out_watch(p);
		}
	}
}
