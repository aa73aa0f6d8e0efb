/*
 * The session with the ivshmem server: connect (ivshmem_server_link.c, which may start a server),
 * the set-up sequence (version, own id, the shared memory, the peers, our own vectors), then the
 * server's messages on the main loop (peers joining and leaving), and reconnecting when it goes.
 *
 * A connection attempt blocks: the connect may wait for a lock another acrn-dm holds while it
 * starts a server (up to 5 s), and a server may take up to 5 s over its set-up sequence. At
 * start-up that is fine (the device cannot exist without its region). A reconnection must not
 * stop the main loop for that long, since the loop serves signals, the exit pipe and every
 * device's eventfds: each attempt runs on a worker thread of its own, which hands the result back
 * through an eventfd the main loop watches. The loop then adopts the new client (asking the
 * owner whether it is acceptable) or schedules the next attempt, waiting twice as long after each
 * failure (500 ms up to 4 s), so a server that cannot start is not retried at a pace that matters.
 *
 * Ownership: an attempt is shared by the session and its worker (a reference each). A session
 * closed while a worker runs drops its reference and its watch; the worker finishes alone and the
 * last reference frees whatever the attempt made.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ivshmem_server_link.h"
#include "ivshmem_session.h"
#include "log.h"

#define HANDSHAKE_TIMEOUT_MS	5000
#define OWN_VECTORS_GRACE_MS	200	/* see handshake() */
#define RETRY_FIRST_MS		500	/* the first retry; each failure doubles it... */
#define RETRY_MAX_MS		4000	/* ...up to this */

/* One connection attempt: inputs copied, so that the worker needs nothing of the session. */
struct attempt {
	gint refs;
	int done_fd;			/* eventfd: signalled when the attempt has finished */
	char name[48];
	struct ivshmem_config cfg;
	char identity[IVSHMEM_IDENTITY_MAX + 1];

	/* results */
	int ret;
	int sock;
	struct ivshmem_client *client;
	int dropped_from;		/* the first own or peer vector beyond ours, or -1 */
	char err[256];
};

struct ivshmem_session {
	char name[48];
	struct ivshmem_config cfg;
	char identity[IVSHMEM_IDENTITY_MAX + 1];
	pthread_mutex_t *lock;
	const struct ivshmem_session_ops *ops;
	void *owner;

	struct ivshmem_client *client;	/* under *lock; NULL while disconnected */

	/* Main loop only. */
	int sock;
	guint sock_watch;
	guint retry_timer;
	unsigned retry_ms;		/* the delay of the pending retry */
	struct attempt *attempt;	/* running on a worker, or NULL */
	guint attempt_watch;
	bool extra_vectors_logged;
};

/* ---- one attempt: connect and set up, blocking ---- */

static struct attempt *attempt_new(const struct ivshmem_session *s)
{
	struct attempt *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->done_fd < 0) {
		free(a);
		return NULL;
	}
	a->refs = 1;
	a->sock = -1;
	a->dropped_from = -1;
	snprintf(a->name, sizeof(a->name), "%s", s->name);
	a->cfg = s->cfg;
	snprintf(a->identity, sizeof(a->identity), "%s", s->identity);
	return a;
}

static void attempt_unref(struct attempt *a)
{
	if (!a || !g_atomic_int_dec_and_test(&a->refs))
		return;
	ivshmem_client_free(a->client);
	if (a->sock >= 0)
		close(a->sock);
	close(a->done_fd);
	free(a);
}

/* Events during the set-up: only the vectors beyond ours matter (the owner binds the rest). */
static void on_setup_event(void *opaque, const struct ivshmem_client_event *ev)
{
	struct attempt *a = opaque;
	if (ev->type == IVSHMEM_EV_VECTOR_DROPPED && a->dropped_from < 0)
		a->dropped_from = (int)ev->vector;
}

/*
 * Runs the set-up sequence on the blocking socket a->sock. Returns the ready client, or NULL with
 * a->err set.
 */
static struct ivshmem_client *handshake(struct attempt *a)
{
	int sock = a->sock;
	struct ivshmem_client *client = ivshmem_client_new(a->cfg.vectors, on_setup_event, a);
	if (!client) {
		snprintf(a->err, sizeof(a->err), "out of memory");
		return NULL;
	}
	/*
	 * One deadline for the whole sequence, not per message: a server that trickles messages (or
	 * announces peers without end) must not keep acrn-dm from starting, or an attempt from
	 * finishing, for longer than this.
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
				snprintf(a->err, sizeof(a->err),
					 "the server sent no complete set-up within 5 s");
			else if (ret == IVSHMEM_PROTO_EOF)
				/* The server says nothing about why; these are the two reasons it has. */
				snprintf(a->err, sizeof(a->err), "the server closed the connection during "
					 "set-up: it has --max-peers peers already, or another VM with "
					 "this VM's identity (UUID %s) is connected (a VM of the same name?)",
					 a->identity);
			else
				snprintf(a->err, sizeof(a->err), "%s", perr.msg);
			ivshmem_client_free(client);
			return NULL;
		}
	}
	if (ivshmem_client_own_vectors(client) < a->cfg.vectors)
		pr_warn("ivshmem", "%s: the server gives %u vectors, the device has %u: vectors "
			"from %u on never fire", a->name, ivshmem_client_own_vectors(client),
			a->cfg.vectors, ivshmem_client_own_vectors(client));
	struct timeval none = { 0, 0 };
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	return client;
}

static void attempt_run(struct attempt *a)
{
	a->sock = ivshmem_server_connect(&a->cfg, ivshmem_server_is_default(&a->cfg), a->identity,
					 a->err, sizeof(a->err));
	if (a->sock < 0) {
		a->ret = a->sock;
		return;
	}
	a->client = handshake(a);
	if (!a->client) {
		close(a->sock);
		a->sock = -1;
		a->ret = -EPROTO;
	}
}

static void *attempt_worker(void *data)
{
	struct attempt *a = data;
	attempt_run(a);
	uint64_t one = 1;
	if (write(a->done_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("ivshmem", "%s: cannot report a connection attempt: %s", a->name,
			strerror(errno));
	attempt_unref(a);
	return NULL;
}

/*
 * Starts the worker with every signal blocked: the main loop handles them, and a blocking call in
 * the worker must not end early with EINTR.
 */
static int attempt_start(struct attempt *a)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;

	g_atomic_int_inc(&a->refs);
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int ret = pthread_create(&thread, &attr, attempt_worker, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ret != 0) {
		g_atomic_int_dec_and_test(&a->refs); /* the session's reference stays */
		return -ret;
	}
	return 0;
}

/* ---- the live connection ---- */

static void on_client_event(void *opaque, const struct ivshmem_client_event *ev)
{
	struct ivshmem_session *s = opaque;
	if (ev->type == IVSHMEM_EV_VECTOR_DROPPED) {
		/* Once: with many peers this would come for every extra vector of each. */
		if (!s->extra_vectors_logged)
			pr_warn("ivshmem", "%s: the server offers more vectors than vectors=%u; the "
				"extra ones (from vector %u on) are ignored", s->name, s->cfg.vectors,
				ev->vector);
		s->extra_vectors_logged = true;
		return;
	}
	s->ops->event(s->owner, ev);
}

static gboolean on_server_message(gint fd, GIOCondition cond, gpointer data);

/* The attempt's connection becomes the live one. Under *lock. */
static void adopt_locked(struct ivshmem_session *s, struct attempt *a)
{
	s->client = a->client;
	a->client = NULL;
	s->sock = a->sock;
	a->sock = -1;
	ivshmem_client_set_callback(s->client, on_client_event, s);
	if (a->dropped_from >= 0) {
		const struct ivshmem_client_event ev = {
			.type = IVSHMEM_EV_VECTOR_DROPPED, .vector = (unsigned)a->dropped_from,
		};
		on_client_event(s, &ev);
	}
	s->sock_watch = g_unix_fd_add(s->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, on_server_message, s);
}

/* Closes the live connection. Under *lock. */
static void drop_locked(struct ivshmem_session *s)
{
	if (s->sock_watch)
		g_source_remove(s->sock_watch);
	s->sock_watch = 0;
	ivshmem_client_free(s->client);
	s->client = NULL;
	if (s->sock >= 0)
		close(s->sock);
	s->sock = -1;
}

static void schedule_retry(struct ivshmem_session *s, unsigned ms);

static gboolean on_server_message(gint fd, GIOCondition cond, gpointer data)
{
	struct ivshmem_session *s = data;
	(void)cond;
	pthread_mutex_lock(s->lock);
	for (;;) {
		int64_t value;
		int msg_fd;
		struct ivshmem_error err = { { 0 } };
		int ret = ivshmem_proto_recv(fd, &value, &msg_fd, &err);
		if (ret == -EAGAIN)
			break;
		if (ret < 0) {
			pr_warn("ivshmem", "%s: lost the ivshmem server (%s); doorbells are dropped "
				"until it is back, the shared memory stays mapped", s->name,
				ret == IVSHMEM_PROTO_EOF ? "it closed the connection" : err.msg);
			s->ops->lost(s->owner);
			s->sock_watch = 0; /* this watch: removed by returning G_SOURCE_REMOVE */
			drop_locked(s);
			pthread_mutex_unlock(s->lock);
			schedule_retry(s, RETRY_FIRST_MS);
			return G_SOURCE_REMOVE;
		}
		if (ivshmem_client_feed(s->client, value, msg_fd, &err) < 0)
			pr_warn("ivshmem", "%s: server message ignored: %s", s->name, err.msg);
	}
	pthread_mutex_unlock(s->lock);
	return G_SOURCE_CONTINUE;
}

/* ---- reconnecting ---- */

static gboolean on_retry_timer(gpointer data);

static void schedule_retry(struct ivshmem_session *s, unsigned ms)
{
	s->retry_ms = ms > RETRY_MAX_MS ? RETRY_MAX_MS : ms;
	s->retry_timer = g_timeout_add(s->retry_ms, on_retry_timer, s);
}

static gboolean on_attempt_done(gint fd, GIOCondition cond, gpointer data)
{
	struct ivshmem_session *s = data;
	struct attempt *a = s->attempt;
	(void)fd;
	(void)cond;
	s->attempt = NULL;
	s->attempt_watch = 0;
	if (a->ret < 0) {
		pr_dbg("ivshmem", "%s: reconnecting: %s", s->name, a->err);
		attempt_unref(a);
		schedule_retry(s, 2 * s->retry_ms);
		return G_SOURCE_REMOVE;
	}
	pthread_mutex_lock(s->lock);
	adopt_locked(s, a);
	int ret = s->ops->reconnected(s->owner, s->client);
	if (ret < 0)
		drop_locked(s);
	pthread_mutex_unlock(s->lock);
	attempt_unref(a);
	if (ret < 0)
		schedule_retry(s, 2 * s->retry_ms);
	return G_SOURCE_REMOVE;
}

static gboolean on_retry_timer(gpointer data)
{
	struct ivshmem_session *s = data;
	s->retry_timer = 0;
	struct attempt *a = attempt_new(s);
	int ret = a ? attempt_start(a) : -ENOMEM;
	if (ret < 0) {
		pr_warn("ivshmem", "%s: cannot start a reconnection attempt: %s", s->name,
			strerror(-ret));
		attempt_unref(a);
		schedule_retry(s, 2 * s->retry_ms);
		return G_SOURCE_REMOVE;
	}
	s->attempt = a;
	s->attempt_watch = g_unix_fd_add(a->done_fd, G_IO_IN, on_attempt_done, s);
	return G_SOURCE_REMOVE;
}

/* ---- life cycle ---- */

int ivshmem_session_open(const struct ivshmem_session_params *p, struct ivshmem_session **out,
			 char *err, size_t errlen)
{
	struct ivshmem_session *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(s->name, sizeof(s->name), "%s", p->name);
	s->cfg = *p->cfg;
	snprintf(s->identity, sizeof(s->identity), "%s", p->identity);
	s->lock = p->lock;
	s->ops = p->ops;
	s->owner = p->owner;
	s->sock = -1;

	/* Start-up: the same attempt, run here. */
	struct attempt *a = attempt_new(s);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return -ENOMEM;
	}
	attempt_run(a);
	int ret = a->ret;
	if (ret < 0) {
		snprintf(err, errlen, "%s", a->err);
		attempt_unref(a);
		free(s);
		return ret;
	}
	pthread_mutex_lock(s->lock);
	adopt_locked(s, a);
	pthread_mutex_unlock(s->lock);
	attempt_unref(a);
	*out = s;
	return 0;
}

void ivshmem_session_close(struct ivshmem_session *s)
{
	if (!s)
		return;
	if (s->retry_timer)
		g_source_remove(s->retry_timer);
	if (s->attempt) {
		g_source_remove(s->attempt_watch);
		attempt_unref(s->attempt);
	}
	pthread_mutex_lock(s->lock);
	drop_locked(s);
	pthread_mutex_unlock(s->lock);
	free(s);
}

struct ivshmem_client *ivshmem_session_client(const struct ivshmem_session *s)
{
	return s->client;
}
