/*
 * What a server start creates, in an order that leaves nothing behind when it fails: the sockets
 * are bound (every path checked) before the region is created, and a step that fails after that
 * removes what this start created (a region only if it created it; an existing one stays).
 */
#ifndef IVS_STARTUP_H
#define IVS_STARTUP_H

#include <stdbool.h>

#include "ivshmem_region.h"
#include "options.h"

struct ivs_resources {
	char *socket_path, *id_path, *pidfile;	/* absolute (the daemon changes to /) */
	int listen_fd, id_fd;			/* -1 when absent */
	struct ivshmem_region region;
	bool pidfile_written;
};

/* Binds -S (and --id-socket), then opens the region. On failure *err says why and nothing is left. */
int ivs_resources_open(const struct ivs_config *cfg, struct ivs_resources *res, char **err)
	__attribute__((warn_unused_result));
/* Writes the pidfile (-p), if any. */
int ivs_resources_write_pidfile(struct ivs_resources *res, char **err)
	__attribute__((warn_unused_result));
/* A later step failed: removes the sockets, the pidfile and a region this start created. */
void ivs_resources_abort(struct ivs_resources *res);
/* The end of a run: removes the sockets and the pidfile; the region stays, as ACRN's does. */
void ivs_resources_close(struct ivs_resources *res);

#endif
