/* Reaching the ivshmem server: connect, and start one when none listens at the default socket. */
#ifndef DM_IVSHMEM_SERVER_LINK_H
#define DM_IVSHMEM_SERVER_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "ivshmem_config.h"

/*
 * Connects to cfg->server. When nothing listens there and may_start is true, starts
 * acrn-ivshmem-server for the region (it exits after its last peer leaves) and connects to it.
 * Two acrn-dm processes starting at once start one server: a lock file beside the socket
 * serialises the check-and-start.
 *
 * When the server also listens on its identity socket (PATH.id, docs/ivshmem-server.md), the
 * connection goes there and introduces this VM by identity (its UUID), so a restarted acrn-dm
 * gets its previous peer id (IVPosition) back. Otherwise it is a plain protocol-0 client, as QEMU.
 *
 * Returns a connected blocking socket, or a negative errno with one line in err.
 */
int ivshmem_server_connect(const struct ivshmem_config *cfg, bool may_start,
			   const char *identity, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* True when cfg->server is the default path for the region (so acrn-dm may start a server). */
bool ivshmem_server_is_default(const struct ivshmem_config *cfg);

#endif
