/*
 * The one accept loop of the server, for the protocol-0 socket and the identity socket alike:
 * accept until the backlog is empty, hand each connection on, and pause when accept() fails for a
 * reason that waiting for the next wake-up would not clear (EMFILE, ENFILE, ENOBUFS, ENOMEM): the
 * pending connection keeps the socket readable, so without the pause the loop would spin.
 */
#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>

#include "server_priv.h"

static gboolean listener_input(gint fd, GIOCondition cond, gpointer data);

static void listener_arm(struct ivs_listener *l)
{
	l->watch = g_unix_fd_add(l->fd, G_IO_IN, listener_input, l);
}

static gboolean listener_resume(gpointer data)
{
	struct ivs_listener *l = data;
	l->pause = 0;
	listener_arm(l);
	return G_SOURCE_REMOVE;
}

static gboolean listener_input(gint fd, GIOCondition cond, gpointer data)
{
	struct ivs_listener *l = data;
	struct ivs_server *s = l->srv;
	(void)cond;

	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0) {
			l->on_accept(s, c);
			server_process_drops(s);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return G_SOURCE_CONTINUE;
		s->stats.accept_failed++;
		/* At most one line per pause and socket: a spin can no longer flood the log either. */
		pr_err(LOG_PREFIX, "%s: accept failed: %s; pausing for %u ms", l->what, strerror(errno),
		       IVS_ACCEPT_PAUSE_MS);
		l->watch = 0;
		l->pause = g_timeout_add(IVS_ACCEPT_PAUSE_MS, listener_resume, l);
		return G_SOURCE_REMOVE;
	}
}

void listener_start(struct ivs_listener *l, struct ivs_server *s, int fd, const char *what,
		    void (*on_accept)(struct ivs_server *s, int fd))
{
	*l = (struct ivs_listener){ .srv = s, .fd = fd, .what = what, .on_accept = on_accept };
	listener_arm(l);
}

void listener_stop(struct ivs_listener *l)
{
	if (l->watch)
		g_source_remove(l->watch);
	if (l->pause)
		g_source_remove(l->pause);
	l->watch = l->pause = 0;
}
