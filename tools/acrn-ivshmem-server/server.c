/*
 * Membership: accepting clients, peer ids, and the join/leave announcements, byte for byte in
 * the order of QEMU's contrib/ivshmem-server (see ivshmem_proto.h for the protocol).
 */
#include <errno.h>
#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_priv.h"

/* Identity-socket connections saying hello at once, when the parameters leave it at 0. */
#define DEFAULT_MAX_PENDING 16

bool server_id_used(const struct ivs_server *s, uint16_t id)
{
	return s->used[id / 8] & (1u << (id % 8));
}

static void id_set(struct ivs_server *s, uint16_t id, bool used)
{
	if (used)
		s->used[id / 8] |= (uint8_t)(1u << (id % 8));
	else
		s->used[id / 8] &= (uint8_t)~(1u << (id % 8));
}

/*
 * QEMU's rule: an incrementing 16-bit counter that skips ids in use; ours also skips ids held
 * for a departed identity.
 */
bool server_id_alloc(struct ivs_server *s, uint16_t *id)
{
	for (unsigned i = 0; i <= IVSHMEM_MAX_PEER_ID; i++) {
		uint16_t cand = s->next_id++;
		if (!server_id_used(s, cand) && !ident_id_reserved(s, cand)) {
			*id = cand;
			return true;
		}
	}
	return false;
}

static void peer_destroy(struct ivs_peer *p)
{
	if (p->in_watch)
		g_source_remove(p->in_watch);
	if (p->out_watch)
		g_source_remove(p->out_watch);
	peer_queue_clear(p);
	close(p->sock);
	for (unsigned v = 0; v < p->nfds; v++)
		close(p->fds[v]);
	id_set(p->srv, p->id, false);
	g_free(p);
}

void server_process_drops(struct ivs_server *s)
{
	struct ivs_peer *p;
	bool removed = false;

	while ((p = g_queue_pop_head(&s->drops))) {
		g_queue_remove(&s->peers, p);
		ident_peer_left(s, p);
		if (p->announced) {
			/*
			 * One message without fd per departure, as QEMU's server sends, to those
			 * that heard of it: whoever has its announcement still queued just loses it.
			 */
			struct ivshmem_msg left = ivshmem_encode_left(p->id);
			for (GList *l = s->peers.head; l; l = l->next)
				if (peer_forget(l->data, p->id, p->nfds))
					peer_send(l->data, &left, QMSG_LEAVE);
			s->stats.left++;
			removed = true;
		}
		peer_destroy(p);
	}
	if (removed && s->had_peer && g_queue_is_empty(&s->peers) && s->p.on_idle)
		s->p.on_idle(s->p.opaque);
}

static gboolean peer_input(gint fd, GIOCondition cond, gpointer data)
{
	struct ivs_peer *p = data;
	struct ivs_server *s = p->srv;
	char byte;

	/* Clients only receive: data means a confused or hostile client, EOF a departure. */
	ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0) {
		peer_mark_drop(p, &s->stats.dropped_sent_data,
			       "it sent data, but clients may only receive");
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(cond & (G_IO_HUP | G_IO_ERR))) {
		return G_SOURCE_CONTINUE;
	} else {
		server_log_member(s, LOG_INFO, "peer %u (pid %d) left", p->id, (int)p->pid);
		p->dropping = true;
		g_queue_push_tail(&s->drops, p);
	}
	p->in_watch = 0;
	server_process_drops(s);
	return G_SOURCE_REMOVE;
}

static bool creds_allowed(const struct ivs_server *s, const struct ucred *cred)
{
	if (!s->p.n_allow_uids && !s->p.n_allow_gids)
		return true;
	for (unsigned i = 0; i < s->p.n_allow_uids; i++)
		if (s->p.allow_uids[i] == cred->uid)
			return true;
	for (unsigned i = 0; i < s->p.n_allow_gids; i++)
		if (s->p.allow_gids[i] == cred->gid)
			return true;
	return false;
}

void server_refuse(struct ivs_server *s, int fd, unsigned *counter, const char *why,
		   const struct ucred *cred)
{
	(*counter)++;
	/* A flood must not flood the journal too. */
	if (log_ratelimit_ok(&s->refuse_rl, 5))
		pr_warn(LOG_PREFIX, "refused a connection from pid %d uid %u: %s", (int)cred->pid,
			(unsigned)cred->uid, why);
	close(fd);
}

void server_log_member(struct ivs_server *s, enum log_level level, const char *fmt, ...)
{
	if (level > log_get_level() || !log_ratelimit_ok(&s->member_rl, IVS_MEMBER_LOG_BURST))
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	unsigned missed = s->member_rl.suppressed - s->member_suppressed_told;
	s->member_suppressed_told = s->member_rl.suppressed;
	if (missed)
		dm_log(level, LOG_PREFIX, "%s (%u more join, leave and drop lines suppressed)", msg,
		       missed);
	else
		dm_log(level, LOG_PREFIX, "%s", msg);
}

/* QEMU's initial info through the library's encoder, announcing the newcomer in between. */
static void welcome(struct ivs_server *s, struct ivs_peer *p)
{
	size_t npeers = s->peers.length, i = 0;
	struct ivshmem_peer_fds *others = g_new(struct ivshmem_peer_fds, npeers + 1);
	for (GList *l = s->peers.head; l; l = l->next, i++) {
		const struct ivs_peer *o = l->data;
		others[i] = (struct ivshmem_peer_fds){ .id = o->id, .fds = o->fds };
	}
	struct ivshmem_msg *msgs = g_new(struct ivshmem_msg, ivshmem_welcome_len(npeers, p->nfds));
	size_t n = ivshmem_encode_welcome(msgs, p->id, s->shm_fd, others, npeers, p->fds, p->nfds);

	/* Version, own id, shared memory. */
	for (i = 0; i < IVSHMEM_WELCOME_SETUP_LEN; i++)
		peer_send(p, &msgs[i], QMSG_SETUP);
	if (!p->dropping) {
		/* Then the others hear of the newcomer, before it hears of them and, last, itself. */
		const struct ivshmem_peer_fds self = { .id = p->id, .fds = p->fds };
		struct ivshmem_msg joined[IVSHMEM_MAX_VECTORS];
		size_t nj = ivshmem_encode_joined(joined, &self, p->nfds);
		for (GList *l = s->peers.head; l; l = l->next)
			for (size_t v = 0; v < nj; v++)
				peer_send(l->data, &joined[v], QMSG_JOIN);
		p->announced = true;
		for (i = IVSHMEM_WELCOME_SETUP_LEN; i < n; i++)
			peer_send(p, &msgs[i], QMSG_JOIN);
	}
	g_free(msgs);
	g_free(others);
}

bool server_check_creds(struct ivs_server *s, int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	*cred = (struct ucred){ .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0) {
		server_refuse(s, fd, &s->stats.refused_creds, "no peer credentials", cred);
		return false;
	}
	if (!creds_allowed(s, cred)) {
		server_refuse(s, fd, &s->stats.refused_creds, "not in --allow-uid / --allow-gid",
			      cred);
		return false;
	}
	return true;
}

bool server_check_room(struct ivs_server *s, int fd, const struct ucred *cred)
{
	/* Connections still saying hello do not count: they have their own limit (--max-pending). */
	if (s->peers.length >= s->p.max_peers) {
		server_refuse(s, fd, &s->stats.refused_full, "--max-peers reached", cred);
		return false;
	}
	return true;
}

struct ivs_peer *server_start_peer(struct ivs_server *s, int fd, const struct ucred *cred,
				   uint16_t id)
{
	struct ivs_peer *p = g_new0(struct ivs_peer, 1);
	p->srv = s;
	p->id = id;
	p->sock = fd;
	p->pid = cred->pid;
	p->uid = cred->uid;
	g_queue_init(&p->outq);
	id_set(s, id, true);
	for (; p->nfds < s->p.vectors; p->nfds++) {
		p->fds[p->nfds] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (p->fds[p->nfds] < 0) {
			pr_err(LOG_PREFIX, "refused a connection from pid %d: eventfd: %s",
			       (int)cred->pid, strerror(errno));
			peer_destroy(p);
			return NULL;
		}
	}

	welcome(s, p);
	if (p->dropping)
		return NULL;	/* on s->drops, never announced: server_process_drops frees it */
	g_queue_push_tail(&s->peers, p);
	s->had_peer = true;
	s->stats.joined++;
	p->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, peer_input, p);
	server_log_member(s, LOG_INFO, "peer %u joined (pid %d, uid %u), %u peers", id,
			  (int)cred->pid, (unsigned)cred->uid, s->peers.length);
	return p;
}

/* The protocol-0 socket's on_accept: the welcome goes out at once, as QEMU's device expects. */
static void handle_new(struct ivs_server *s, int fd)
{
	struct ucred cred;
	uint16_t id;

	if (!server_check_creds(s, fd, &cred) || !server_check_room(s, fd, &cred))
		return;
	if (!server_id_alloc(s, &id)) {
		server_refuse(s, fd, &s->stats.refused_full, "every peer id is in use", &cred);
		return;
	}
	server_start_peer(s, fd, &cred, id);
}

static gboolean tick(gpointer data)
{
	struct ivs_server *s = data;
	ident_expire(s);
	peer_check_stalls(s);
	server_process_drops(s);
	return G_SOURCE_CONTINUE;
}

struct ivs_server *ivs_server_new(const struct ivs_server_params *params, int listen_fd,
				  int shm_fd)
{
	if (params->vectors < 1 || params->vectors > IVSHMEM_MAX_VECTORS || params->max_peers < 1) {
		pr_err(LOG_PREFIX, "bad server parameters: %u vectors, %u peers", params->vectors,
		       params->max_peers);
		return NULL;
	}
	struct ivs_server *s = g_new0(struct ivs_server, 1);
	s->p = *params;
	if (!s->p.stall_timeout_ms)
		s->p.stall_timeout_ms = 5000;
	if (!s->p.max_pending)
		s->p.max_pending = DEFAULT_MAX_PENDING;
	s->shm_fd = shm_fd;
	g_queue_init(&s->peers);
	g_queue_init(&s->drops);
	unsigned peers = MIN(s->p.max_peers, IVSHMEM_MAX_PEER_ID + 1);
	s->queue_cap = IVSHMEM_WELCOME_SETUP_LEN + peers * (s->p.vectors + 1);
	listener_start(&s->listener, s, listen_fd, "socket", handle_new);
	ident_init(s);
	hello_init(s);
	/* Stalls are checked at a tenth of the timeout, at least once a second. */
	s->tick = g_timeout_add(MIN(1000u, MAX(10u, s->p.stall_timeout_ms / 10)), tick, s);
	return s;
}

void ivs_server_free(struct ivs_server *s)
{
	if (!s)
		return;
	struct ivs_peer *p;
	while ((p = g_queue_pop_head(&s->peers))) {
		ident_peer_left(s, p);
		peer_destroy(p);
	}
	g_queue_clear(&s->drops);
	hello_fini(s);
	ident_fini(s);
	listener_stop(&s->listener);
	g_source_remove(s->tick);
	g_free(s);
}

unsigned ivs_server_peer_count(const struct ivs_server *s)
{
	return s->peers.length;
}

unsigned ivs_server_queued_messages(const struct ivs_server *s)
{
	unsigned n = 0;
	for (const GList *l = s->peers.head; l; l = l->next)
		n += ((const struct ivs_peer *)l->data)->outq.length;
	return n;
}

unsigned ivs_server_queue_bound(const struct ivs_server *s)
{
	return s->queue_cap;
}

unsigned ivs_server_pending_count(const struct ivs_server *s)
{
	return hello_pending_count(s);
}

void ivs_server_set_next_id(struct ivs_server *s, uint16_t id)
{
	s->next_id = id;
}

const struct ivs_server_stats *ivs_server_get_stats(const struct ivs_server *s)
{
	return &s->stats;
}
