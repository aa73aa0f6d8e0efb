/*
 * A doorbell device's session with its ivshmem server (ivshmem_session.c): the set-up sequence,
 * the messages that follow it, and reconnecting when the server goes away.
 */
#ifndef DM_IVSHMEM_SESSION_H
#define DM_IVSHMEM_SESSION_H

#include <pthread.h>
#include <stddef.h>

#include "ivshmem_config.h"
#include "ivshmem_proto.h"

struct ivshmem_session;

/* What the session tells its owner, always with the owner's lock held, on the main loop. */
struct ivshmem_session_ops {
	/* A message changed the live client: a peer joined or left, an own vector came late. */
	void (*event)(void *owner, const struct ivshmem_client_event *ev);
	/* The server is gone: unbind whatever uses the client's fds, which close right after. */
	void (*lost)(void *owner);
	/*
	 * A reconnection has its set-up done and client is live (ivshmem_session_client answers
	 * it): bind what it offers, or refuse it (a negative errno, after logging why), and the
	 * session stays disconnected and tries again later.
	 */
	int (*reconnected)(void *owner, struct ivshmem_client *client);
};

struct ivshmem_session_params {
	const char *name;		/* "00:05.0 ivshmem", for logs */
	const struct ivshmem_config *cfg;
	const char *identity;		/* the VM's UUID: its identity at the server */
	pthread_mutex_t *lock;		/* the owner's: guards the live client */
	const struct ivshmem_session_ops *ops;
	void *owner;
};

/*
 * Connects (starting a server where acrn-dm may) and runs the set-up sequence, blocking: this is
 * device start-up, before the main loop runs. Later messages are read on the main loop. Returns
 * 0 with *out, or a negative errno with one line in err.
 */
int ivshmem_session_open(const struct ivshmem_session_params *p, struct ivshmem_session **out,
			 char *err, size_t errlen) __attribute__((warn_unused_result));
/* Disconnects; an attempt still running on its worker thread is abandoned. NULL is fine. */
void ivshmem_session_close(struct ivshmem_session *s);

/* The live client, NULL while disconnected. Call with the owner's lock held. */
struct ivshmem_client *ivshmem_session_client(const struct ivshmem_session *s);

#endif
