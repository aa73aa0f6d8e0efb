/* acrn-ivshmem-server's command line: QEMU's ivshmem-server options plus access control. */
#ifndef IVS_OPTIONS_H
#define IVS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ivshmem_region.h"

#define IVS_DEFAULT_SOCKET	  "/tmp/ivshmem_socket"
#define IVS_DEFAULT_SHM		  "ivshmem"
#define IVS_DEFAULT_SIZE	  (4ull << 20)
#define IVS_DEFAULT_MAX_PEERS	  64u
#define IVS_DEFAULT_MAX_PENDING	  16u
#define IVS_MAX_MAX_PENDING	  1024u
#define IVS_DEFAULT_STALL_TIMEOUT 5u
#define IVS_DEFAULT_ID_RESERVE	  60u

struct ivs_config {
	char *socket_path;		/* -S */
	char *shm_name;			/* -M (also the file name with -m) */
	char *hugetlbfs_dir;		/* -m */
	bool memfd;			/* --memfd */
	bool hugetlb;			/* --hugetlb, with --memfd */
	enum ivshmem_backend backend;	/* derived from the above */
	uint64_t size;			/* -l, bytes */
	unsigned vectors;		/* -n, 1..64 */
	bool foreground;		/* -F */
	char *pidfile;			/* -p */
	bool verbose;			/* -v */
	unsigned max_peers;		/* --max-peers */
	unsigned max_pending;		/* --max-pending: identity connections still saying hello */
	bool has_group;			/* --group */
	gid_t group;
	uid_t *allow_uids;		/* --allow-uid, n_allow_uids entries */
	unsigned n_allow_uids;
	gid_t *allow_gids;		/* --allow-gid */
	unsigned n_allow_gids;
	bool exit_when_idle;		/* --exit-when-idle */
	unsigned stall_timeout;		/* --stall-timeout, seconds */
	char *id_socket_path;		/* --id-socket (NULL: none) */
	unsigned id_reserve;		/* --id-reserve, seconds */
};

enum ivs_parse_result { IVS_PARSE_OK, IVS_PARSE_EXIT, IVS_PARSE_ERROR };

/*
 * Fills cfg (zeroed first, then defaults) from argv. On IVS_PARSE_ERROR *err is a g_malloc'd
 * one-line message naming the option; -h output goes to out (IVS_PARSE_EXIT). Never exits.
 */
enum ivs_parse_result ivs_parse_options(int argc, char **argv, struct ivs_config *cfg, char **err,
					FILE *out);
void ivs_config_clear(struct ivs_config *cfg);

/* "4194304", "4M", "1g", "64k" -> bytes: a power of two of at least 4 KiB. -EINVAL / -ERANGE. */
int ivs_parse_size(const char *text, uint64_t *bytes) __attribute__((warn_unused_result));

#endif
