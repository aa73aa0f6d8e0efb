/* The server's listening socket: created owner-only (or group) from the first moment. */
#ifndef IVS_LISTEN_H
#define IVS_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Binds and listens on path (non-blocking, close-on-exec). A stale socket nobody listens on is
 * replaced; a live one, or anything that is not a socket, is an error. Mode 0600, or 0660 with
 * group ownership when has_group. Returns the fd or -errno with *err (g_malloc'd) set.
 */
int ivs_listen(const char *path, bool has_group, gid_t group, char **err)
	__attribute__((warn_unused_result));

#endif
