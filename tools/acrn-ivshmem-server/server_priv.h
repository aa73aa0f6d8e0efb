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

/* How long accepting on a socket pauses when accept() fails (out of fds): see accept_loop.c. */
#define IVS_ACCEPT_PAUSE_MS 1000u
/* Join, leave and drop lines per second; the rest are counted and the count logged later. */
#define IVS_MEMBER_LOG_BURST 10u

/* A listening socket and its accept loop (accept_loop.c). */
struct ivs_listener {
	struct ivs_server *srv;
	int fd;
	const char *what;		/* for log lines: "socket", "identity socket" */
	void (*on_accept)(struct ivs_server *s, int fd);
	guint watch, pause;		/* one of them is set while the listener runs */
};

/* What a message in a peer's queue is, so that a departure can take back its announcement. */
enum ivs_qmsg_kind {
	QMSG_SETUP,			/* version, own id, shared memory */
	QMSG_JOIN,			/* a peer's vector (value: its id, with an eventfd) */
	QMSG_LEAVE,			/* a peer left (value: its id, no fd) */
};

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
	/*
	 * The client has not read what is already in its socket: the last send found the socket
	 * full. Cleared by the next send that goes through, or when the tick sees the socket's
	 * unread bytes (SIOCOUTQ) fall. Messages wait, in the socket or in outq, while it is set.
	 */
	bool blocked;
	int unread;			/* SIOCOUTQ at the last tick while blocked */
	gint64 last_progress_us;	/* monotonic time it last read (or became blocked) */
	bool announced;			/* the others were told about it */
	bool dropping;			/* on srv->drops; receives nothing more */
};

struct ivs_server {
	struct ivs_server_params p;
	int shm_fd;
	struct ivs_listener listener, id_listener;
	guint tick;
	GQueue peers;			/* struct ivs_peer *, in joining order (as QEMU's list) */
	GQueue drops;			/* peers to remove once the current event is handled */
	GHashTable *idents;		/* name -> struct ivs_identity * (owned) */
	GHashTable *uid_idents;		/* uid -> how many identities of idents it holds */
	GHashTable *reserved;		/* id -> struct ivs_identity * whose id is held */
	GQueue pending;			/* identity-socket connections waiting for their hello */
	uint16_t next_id;
	uint8_t used[(IVSHMEM_MAX_PEER_ID + 1) / 8];
	bool had_peer;
	/*
	 * The most messages a peer's queue can hold (see peer_send): a safety net, never reached
	 * while departures take back unsent announcements.
	 */
	unsigned queue_cap;
	struct ivs_server_stats stats;
	struct log_ratelimit refuse_rl, member_rl;
	unsigned member_suppressed_told;	/* member_rl.suppressed already reported in a line */
};

/* accept_loop.c: starts accepting on fd, handing each connection to on_accept. */
void listener_start(struct ivs_listener *l, struct ivs_server *s, int fd, const char *what,
		    void (*on_accept)(struct ivs_server *s, int fd));
void listener_stop(struct ivs_listener *l);

/* A join, leave or drop line, at most IVS_MEMBER_LOG_BURST a second (server.c). */
void server_log_member(struct ivs_server *s, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Sends now if the socket takes it and nothing waits, else queues it (with a dup of its fd). A hard
 * error puts the peer on srv->drops; nothing is sent to a dropping peer.
 */
void peer_send(struct ivs_peer *p, const struct ivshmem_msg *m, enum ivs_qmsg_kind kind);
/*
 * Peer id (nvectors vectors) has left: takes its announcement out of p's queue. Returns whether
 * p must still be told of the departure (some of the announcement had already been sent).
 */
bool peer_forget(struct ivs_peer *p, uint16_t id, unsigned nvectors);
/* Marks p for removal (reason logged once); the caller ends its event with server_process_drops. */
void peer_mark_drop(struct ivs_peer *p, unsigned *counter, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Flushes p's queue as far as the socket allows; true while messages still wait. */
bool peer_flush(struct ivs_peer *p);
/* Drops queued messages, closing their fds. */
void peer_queue_clear(struct ivs_peer *p);
/* Per-tick check: retries queues and drops peers that read nothing for the stall timeout. */
void peer_check_stalls(struct ivs_server *s);

/* Removes dropped peers, announcing each departure to the others (which may drop more). */
void server_process_drops(struct ivs_server *s);

/* server.c, for identity.c */
/* Credentials check for a new connection; closes fd and returns false if refused. */
bool server_check_creds(struct ivs_server *s, int fd, struct ucred *cred);
/* Room for one more peer (--max-peers); closes fd and returns false if not. */
bool server_check_room(struct ivs_server *s, int fd, const struct ucred *cred);
/* Closes fd with a (rate limited) line saying why, counting it in *counter. */
void server_refuse(struct ivs_server *s, int fd, unsigned *counter, const char *why,
		   const struct ucred *cred);
/* Next free id from the counter (skipping ids in use or reserved). */
bool server_id_alloc(struct ivs_server *s, uint16_t *id);
bool server_id_used(const struct ivs_server *s, uint16_t id);
/* Makes fd peer id and sends the welcome; NULL if that failed (fd closed). */
struct ivs_peer *server_start_peer(struct ivs_server *s, int fd, const struct ucred *cred,
				   uint16_t id);

/* identity.c: the identity table */
void ident_init(struct ivs_server *s);
void ident_fini(struct ivs_server *s);
/* A valid hello naming name arrived on sock: chooses the id and starts the peer, or refuses. */
void ident_join(struct ivs_server *s, int sock, const struct ucred *cred, const char *name);
bool ident_id_reserved(const struct ivs_server *s, uint16_t id);
void ident_peer_left(struct ivs_server *s, struct ivs_peer *p);
void ident_expire(struct ivs_server *s);

/* hello.c: identity-socket connections until their hello is complete */
void hello_init(struct ivs_server *s);
void hello_fini(struct ivs_server *s);
unsigned hello_pending_count(const struct ivs_server *s);

#endif
