/* State shared by server.c (membership) and peer_io.c (per-peer output queues). */
#ifndef IVS_SERVER_PRIV_H
#define IVS_SERVER_PRIV_H

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ivshmem_proto.h"
#include "log.h"
#include "server.h"

#define LOG_PREFIX "ivshmem-server"

/* What the server remembers of a client that introduced itself on the identity socket. */
struct ivs_identity {
	char name[IVSHMEM_IDENTITY_MAX + 1];
	uint16_t id;			/* its last peer id */
	uid_t uid;			/* only this user may claim the id back */
	struct ivs_peer *peer;		/* connected as this peer, or NULL */
	gint64 left_us;			/* when it last left (monotonic) */
	bool reserved;			/* in srv->reserved: its id is held for it */
};

struct ivs_peer {
	struct ivs_server *srv;
	struct ivs_identity *ident;	/* NULL for protocol-0 clients */
	uint16_t id;
	int sock;
	pid_t pid;
	uid_t uid;
	int fds[IVSHMEM_MAX_VECTORS];	/* its eventfds, one per vector; the server owns them */
	unsigned nfds;
	guint in_watch, out_watch;
	GQueue outq;			/* struct ivs_qmsg waiting for room in the socket */
	gint64 last_progress_us;	/* monotonic time the queue last moved (or started) */
	bool announced;			/* the others were told about it */
	bool dropping;			/* on srv->drops; receives nothing more */
};

struct ivs_server {
	struct ivs_server_params p;
	int listen_fd, shm_fd;
	guint listen_watch, tick, listen_pause;
	GQueue peers;			/* struct ivs_peer *, in joining order (as QEMU's list) */
	GQueue drops;			/* peers to remove once the current event is handled */
	guint id_listen_watch;
	GHashTable *idents;		/* name -> struct ivs_identity * (owned) */
	GHashTable *reserved;		/* id -> struct ivs_identity * whose id is held */
	GQueue pending;			/* identity-socket connections waiting for their hello */
	uint16_t next_id;
	uint8_t used[(IVSHMEM_MAX_PEER_ID + 1) / 8];
	bool had_peer;
	unsigned queue_cap;		/* messages a peer may have waiting before it counts as stalled */
	struct ivs_server_stats stats;
	struct log_ratelimit refuse_rl;
};

/*
 * Sends now if the socket takes it, else queues it (with a dup of fd). A hard error, or a queue
 * beyond queue_cap, puts the peer on srv->drops; nothing is sent to a dropping peer.
 */
void peer_send(struct ivs_peer *p, int64_t value, int fd);
/* Marks p for removal (reason logged once); the caller ends its event with server_process_drops. */
void peer_mark_drop(struct ivs_peer *p, unsigned *counter, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Flushes p's queue as far as the socket allows; true while messages still wait. */
bool peer_flush(struct ivs_peer *p);
/* Drops queued messages, closing their fds. */
void peer_queue_clear(struct ivs_peer *p);
/* Per-second check: retries queues and drops peers stalled longer than the timeout. */
void peer_check_stalls(struct ivs_server *s);

/* Removes dropped peers, announcing each departure to the others (which may drop more). */
void server_process_drops(struct ivs_server *s);

/* server.c, for identity.c */
/* Credentials and capacity checks for a new connection; closes fd and returns false if refused. */
bool server_admit(struct ivs_server *s, int fd, struct ucred *cred);
/* Next free id from the counter (skipping ids in use or reserved). */
bool server_id_alloc(struct ivs_server *s, uint16_t *id);
bool server_id_used(const struct ivs_server *s, uint16_t id);
/* Makes fd peer id and sends the welcome; NULL if that failed (fd closed). */
struct ivs_peer *server_start_peer(struct ivs_server *s, int fd, const struct ucred *cred,
				   uint16_t id);

/* identity.c */
void ident_init(struct ivs_server *s);
void ident_fini(struct ivs_server *s);
bool ident_id_reserved(const struct ivs_server *s, uint16_t id);
void ident_peer_left(struct ivs_server *s, struct ivs_peer *p);
void ident_expire(struct ivs_server *s);
unsigned ident_pending_count(const struct ivs_server *s);

#endif
