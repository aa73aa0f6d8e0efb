/*
 * UART backends: stdio, a file, or a TCP console on 127.0.0.1 (see uart_backend.h).
 *
 * The TCP console serves one client at a time, as ACRN's: a second connection is told the
 * console is busy and closed. Output written while no client is connected is kept (the last
 * TCP_BACKLOG bytes) and handed to the next client, so what the guest printed at boot is seen.
 * Writes come from vCPU threads and never block them: a client too slow for its socket buffer
 * loses bytes, which are counted and reported once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "uart_16550.h"
#include "uart_backend.h"

#define TCP_BACKLOG	16384u
#define TCP_PREFIX	"tcp:"

enum backend_kind { BACKEND_STDIO, BACKEND_FILE, BACKEND_TCP };

struct uart_backend {
	enum backend_kind kind;
	char label[8];
	int fd;			/* stdio/file: the output; tcp: the listening socket */
	unsigned port;
	uart_rx_fn rx;
	void *opaque;

	pthread_mutex_t lock;	/* tcp: client, backlog, counters */
	int client;		/* -1 while none is connected */
	guint listen_watch, client_watch;
	char backlog[TCP_BACKLOG];	/* a ring of what was written while no client was there */
	size_t backlog_start, backlog_len;
	uint64_t dropped;
	bool drop_logged;
};

/* "tcp:<port>" with port 1..65535 (0 only for tests, through uart_backend_open). */
static int parse_tcp_port(const char *spec, bool allow_zero, unsigned *port)
{
	const char *p = spec + strlen(TCP_PREFIX);
	if (!*p || strlen(p) > 5)
		return -EINVAL;
	unsigned v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > 65535 || (v == 0 && !allow_zero))
		return -EINVAL;
	*port = v;
	return 0;
}

int uart_backend_check(const char *spec, char *why, size_t len)
{
	unsigned port;
	if (!spec || !*spec) {
		snprintf(why, len, "missing backend (stdio, tcp:<port> or a file)");
		return -EINVAL;
	}
	if (strncmp(spec, TCP_PREFIX, strlen(TCP_PREFIX)) == 0 &&
	    parse_tcp_port(spec, false, &port) < 0) {
		snprintf(why, len, "'%s': the TCP port must be 1 to 65535 (tcp:4321)", spec);
		return -EINVAL;
	}
	return 0;
}

/* ---- tcp ---- */

static void backlog_append_locked(struct uart_backend *be, const char *buf, size_t len)
{
	if (len >= TCP_BACKLOG) {
		buf += len - TCP_BACKLOG;
		len = TCP_BACKLOG;
	}
	for (size_t i = 0; i < len; i++) {
		size_t at = (be->backlog_start + be->backlog_len) % TCP_BACKLOG;
		be->backlog[at] = buf[i];
		if (be->backlog_len < TCP_BACKLOG)
			be->backlog_len++;
		else
			be->backlog_start = (be->backlog_start + 1) % TCP_BACKLOG;
	}
}

/* Sends what it can without blocking; the rest is counted as dropped. */
static void send_locked(struct uart_backend *be, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(be->client, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* EAGAIN: the client is not reading; a broken connection ends at its HUP. */
			be->dropped += len;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void close_client_locked(struct uart_backend *be)
{
	if (be->client_watch)
		g_source_remove(be->client_watch);
	be->client_watch = 0;
	if (be->client >= 0)
		close(be->client);
	be->client = -1;
}

static gboolean on_client(gint fd, GIOCondition cond, gpointer data)
{
	struct uart_backend *be = data;
	uint8_t buf[512];
	ssize_t n = 0;
	if (cond & G_IO_IN)
		n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		if (be->rx)
			be->rx(be->opaque, buf, (size_t)n);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	pthread_mutex_lock(&be->lock);
	/* The source is being removed by returning; close_client_locked must not remove it. */
	be->client_watch = 0;
	close_client_locked(be);
	pthread_mutex_unlock(&be->lock);
	pr_info("uart", "%s: the console client on 127.0.0.1:%u left", be->label, be->port);
	return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
	(void)cond;
	struct uart_backend *be = data;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return G_SOURCE_CONTINUE;	/* the client gave up already, or EMFILE: next time */
	pthread_mutex_lock(&be->lock);
	if (be->client >= 0) {
		pthread_mutex_unlock(&be->lock);
		char msg[96];
		int len = snprintf(msg, sizeof(msg),
				   "acrn-dm: the %s console is in use by another client\r\n",
				   be->label);
		if (send(c, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_dbg("uart", "%s: telling a second client: %s", be->label, strerror(errno));
		close(c);
		pr_info("uart", "%s: a second console client was turned away (one at a time)",
			be->label);
		return G_SOURCE_CONTINUE;
	}
	int one = 1;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	be->client = c;
	/* What the guest printed meanwhile, oldest first. */
	size_t first = TCP_BACKLOG - be->backlog_start;
	if (first > be->backlog_len)
		first = be->backlog_len;
	send_locked(be, be->backlog + be->backlog_start, first);
	send_locked(be, be->backlog, be->backlog_len - first);
	be->backlog_start = be->backlog_len = 0;
	be->client_watch = g_unix_fd_add(c, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client, be);
	pthread_mutex_unlock(&be->lock);
	pr_info("uart", "%s: console client connected on 127.0.0.1:%u", be->label, be->port);
	return G_SOURCE_CONTINUE;
}

static int tcp_listen(struct uart_backend *be, unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t salen = sizeof(sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	be->fd = fd;
	be->port = ntohs(sa.sin_port);
	be->listen_watch = g_unix_fd_add(fd, G_IO_IN, on_accept, be);
	return 0;
}

/* ---- all kinds ---- */

int uart_backend_open(const char *spec, const char *label, uart_rx_fn rx, void *opaque,
		      struct uart_backend **out)
{
	struct uart_backend *be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	snprintf(be->label, sizeof(be->label), "%s", label);
	be->rx = rx;
	be->opaque = opaque;
	be->client = -1;
	be->fd = -1;
	pthread_mutex_init(&be->lock, NULL);

	int ret = 0;
	unsigned port;
	if (strcmp(spec, "stdio") == 0) {
		be->kind = BACKEND_STDIO;
		be->fd = STDOUT_FILENO;
	} else if (strncmp(spec, TCP_PREFIX, strlen(TCP_PREFIX)) == 0) {
		be->kind = BACKEND_TCP;
		ret = parse_tcp_port(spec, true, &port);
		if (ret == 0)
			ret = tcp_listen(be, port);
		if (ret < 0)
			pr_err("uart", "%s: cannot serve the console on 127.0.0.1:%s: %s%s", label,
			       spec + strlen(TCP_PREFIX), strerror(-ret),
			       ret == -EADDRINUSE ? " (another program listens there)" : "");
		else
			pr_info("uart", "%s: console on 127.0.0.1:%u (one client at a time)", label,
				be->port);
	} else {
		be->kind = BACKEND_FILE;
		be->fd = open(spec, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (be->fd < 0) {
			ret = -errno;
			pr_err("uart", "%s: cannot open %s for the serial output: %s", label, spec,
			       strerror(errno));
		}
	}
	if (ret < 0) {
		pthread_mutex_destroy(&be->lock);
		free(be);
		return ret;
	}
	*out = be;
	return 0;
}

void uart_backend_write(struct uart_backend *be, const void *buf, size_t len)
{
	if (be->kind != BACKEND_TCP) {
		const char *p = buf;
		while (len) {
			ssize_t n = write(be->fd, p, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return; /* a closed stdout must not stop the guest */
			p += n;
			len -= (size_t)n;
		}
		return;
	}
	pthread_mutex_lock(&be->lock);
	if (be->client < 0) {
		backlog_append_locked(be, buf, len);
	} else {
		send_locked(be, buf, len);
		if (be->dropped && !be->drop_logged) {
			be->drop_logged = true;
			pthread_mutex_unlock(&be->lock);
			pr_warn("uart", "%s: the console client on 127.0.0.1:%u does not keep up; "
				"output it cannot take is dropped", be->label, be->port);
			return;
		}
	}
	pthread_mutex_unlock(&be->lock);
}

unsigned uart_backend_tcp_port(const struct uart_backend *be)
{
	return be && be->kind == BACKEND_TCP ? be->port : 0;
}

void uart_backend_close(struct uart_backend *be)
{
	if (!be)
		return;
	if (be->kind == BACKEND_TCP) {
		pthread_mutex_lock(&be->lock);
		close_client_locked(be);
		pthread_mutex_unlock(&be->lock);
		if (be->listen_watch)
			g_source_remove(be->listen_watch);
		if (be->dropped)
			pr_info("uart", "%s: %llu bytes of output were dropped for a slow client",
				be->label, (unsigned long long)be->dropped);
	}
	if (be->kind != BACKEND_STDIO && be->fd >= 0)
		close(be->fd);
	pthread_mutex_destroy(&be->lock);
	free(be);
}
