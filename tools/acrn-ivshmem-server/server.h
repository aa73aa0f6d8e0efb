/*
 * The ivshmem server's core: accepts clients on a listening socket, hands out peer ids and
 * eventfds, and announces joins and departures exactly as QEMU's contrib/ivshmem-server does.
 * Runs on the default GMainContext; main.c owns the sockets' paths, the region and the loop.
 */
#ifndef IVS_SERVER_H
#define IVS_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ivs_server_params {
	unsigned vectors;		/* eventfds per peer, 1..64 */
	unsigned max_peers;		/* connections beyond this are closed at once */
	/*
	 * Identity-socket connections still saying hello, apart from max_peers (0 = 16). When full,
	 * the oldest of the user holding the most of them is closed to make room.
	 */
	unsigned max_pending;
	unsigned stall_timeout_ms;	/* a peer reading nothing this long while messages wait is dropped */
	const uid_t *allow_uids;	/* SO_PEERCRED allow-lists; both empty = anyone who can connect */
	unsigned n_allow_uids;
	const gid_t *allow_gids;
	unsigned n_allow_gids;
	/* Identity socket (docs/ivshmem-server.md): a second listening socket where clients say who
	 * they are first, so a returning identity gets its previous id back. */
	bool id_socket;
	int id_listen_fd;
	unsigned id_reserve_ms;		/* how long a departed identity's id stays reserved; 0 = 60 s */
	/* Called (from the loop) when the last peer has left, if at least one ever joined. */
	void (*on_idle)(void *opaque);
	void *opaque;
};

struct ivs_server_stats {
	unsigned joined, left;
	unsigned dropped_sent_data;	/* a client wrote to us: clients only receive */
	unsigned dropped_stalled;	/* read nothing for the stall timeout while messages waited */
	unsigned dropped_error;		/* a send failed outright (peer gone mid-send) */
	unsigned refused_full;		/* --max-peers reached */
	unsigned refused_creds;		/* not in the allow-lists */
	unsigned refused_hello;		/* identity socket: bad, late or duplicate hello */
	unsigned reclaimed;		/* identity socket: a returning identity got its id back */
	unsigned evicted_pending;	/* identity socket: a silent connection closed for a newer one */
	unsigned not_remembered;	/* identity socket: table or user quota full of live entries */
	unsigned accept_failed;		/* accept() failed (out of fds): each paused that socket */
};

struct ivs_server;

/*
 * listen_fd (and params->id_listen_fd): listening, non-blocking AF_UNIX stream sockets. shm_fd: the
 * region handed to every client. All stay owned by the caller and must outlive the server. NULL on
 * failure (logged).
 */
struct ivs_server *ivs_server_new(const struct ivs_server_params *params, int listen_fd,
				  int shm_fd);
/* Closes every client connection and eventfd (no announcements: everyone is going). */
void ivs_server_free(struct ivs_server *s);

unsigned ivs_server_peer_count(const struct ivs_server *s);
/* Messages waiting in all peers' queues (their sockets were full). */
unsigned ivs_server_queued_messages(const struct ivs_server *s);
/* The most one peer's queue can hold: 3 + max_peers * (vectors + 1). */
unsigned ivs_server_queue_bound(const struct ivs_server *s);
/* Identity-socket connections that have not finished their hello. */
unsigned ivs_server_pending_count(const struct ivs_server *s);
const struct ivs_server_stats *ivs_server_get_stats(const struct ivs_server *s);
/* Test seam: where the id counter continues (QEMU's counter only wraps after 65536 joins). */
void ivs_server_set_next_id(struct ivs_server *s, uint16_t id);

#endif
