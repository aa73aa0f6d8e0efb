/* Command line parsing for acrn-ivshmem-server (GOptionContext; never exits, never aborts). */
#include <errno.h>
#include <glib.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "ivshmem_proto.h"
#include "options.h"

/* Largest region accepted: 1 TiB, far beyond any BAR a guest firmware would place. */
#define MAX_SIZE (1ull << 40)

static bool parse_uint(const char *text, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (!text || !*text)
		return false;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (v > max)
			return false;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

int ivs_parse_size(const char *text, uint64_t *bytes)
{
	if (!text || !*text)
		return -EINVAL;
	size_t ndigits = strspn(text, "0123456789");
	unsigned shift = 0;
	if (ndigits == 0)
		return -EINVAL;
	if (text[ndigits]) {
		if (text[ndigits + 1])
			return -EINVAL;
		switch (text[ndigits]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -EINVAL;
		}
	}
	/* Bounded digit by digit, so no number of digits can overflow. */
	unsigned long long v = 0;
	for (size_t i = 0; i < ndigits; i++) {
		v = v * 10 + (unsigned long long)(text[i] - '0');
		if (v > (MAX_SIZE >> shift))
			return -ERANGE;
	}
	v <<= shift;
	if (v < 4096 || (v & (v - 1)))
		return -ERANGE;
	*bytes = v;
	return 0;
}

/* "1000,1001" or "alice" -> ids appended to *ids. */
static bool parse_id_list(const char *text, bool groups, GArray *ids, char **err)
{
	gchar **parts = g_strsplit(text, ",", -1);
	bool ok = true;
	for (gchar **p = parts; *p && ok; p++) {
		unsigned long long v;
		guint32 id;
		if (parse_uint(*p, UINT32_MAX - 1, &v)) {
			id = (guint32)v;
		} else if (groups && getgrnam(*p)) {
			id = getgrnam(*p)->gr_gid;
		} else if (!groups && getpwnam(*p)) {
			id = getpwnam(*p)->pw_uid;
		} else {
			*err = g_strdup_printf("--allow-%s: '%s' is neither a number nor a known %s",
					       groups ? "gid" : "uid", *p, groups ? "group" : "user");
			ok = false;
			break;
		}
		g_array_append_val(ids, id);
	}
	g_strfreev(parts);
	return ok;
}

void ivs_config_clear(struct ivs_config *cfg)
{
	g_free(cfg->socket_path);
	g_free(cfg->shm_name);
	g_free(cfg->hugetlbfs_dir);
	g_free(cfg->pidfile);
	g_free(cfg->id_socket_path);
	g_free(cfg->allow_uids);
	g_free(cfg->allow_gids);
	memset(cfg, 0, sizeof(*cfg));
}

struct raw_opts {
	gchar *socket, *shm, *huge, *size, *vectors, *pidfile, *max_peers, *max_pending, *group;
	gchar *stall;
	gchar *id_socket, *id_reserve;
	gchar **uids, **gids;
	gboolean memfd, hugetlb, foreground, verbose, idle, help;
};

static void raw_free(struct raw_opts *r)
{
	g_free(r->socket);
	g_free(r->shm);
	g_free(r->huge);
	g_free(r->size);
	g_free(r->vectors);
	g_free(r->pidfile);
	g_free(r->max_peers);
	g_free(r->max_pending);
	g_free(r->group);
	g_free(r->stall);
	g_free(r->id_socket);
	g_free(r->id_reserve);
	g_strfreev(r->uids);
	g_strfreev(r->gids);
}

/* Checks the raw strings and fills cfg; *err names the option on failure. */
static bool apply(struct raw_opts *r, struct ivs_config *cfg, char **err)
{
	unsigned long long v;
	struct ivshmem_error ierr;

	cfg->socket_path = g_strdup(r->socket ? r->socket : IVS_DEFAULT_SOCKET);
	cfg->shm_name = g_strdup(r->shm ? r->shm : IVS_DEFAULT_SHM);
	cfg->hugetlbfs_dir = g_strdup(r->huge);
	cfg->pidfile = g_strdup(r->pidfile);
	cfg->memfd = r->memfd;
	cfg->hugetlb = r->hugetlb;
	cfg->foreground = r->foreground;
	cfg->verbose = r->verbose;
	cfg->exit_when_idle = r->idle;

	if (ivshmem_name_check(cfg->shm_name, &ierr) < 0) {
		*err = g_strdup_printf("-M: %s", ierr.msg);
		return false;
	}
	if (!*cfg->socket_path) {
		*err = g_strdup("-S: the socket path is empty");
		return false;
	}
	if (r->memfd && r->huge) {
		*err = g_strdup("--memfd and -m exclude each other (use --memfd --hugetlb for an "
				"anonymous huge page region)");
		return false;
	}
	if (r->memfd && r->shm) {
		*err = g_strdup("--memfd and -M exclude each other: a memfd has no name to share");
		return false;
	}
	if (r->hugetlb && !r->memfd) {
		*err = g_strdup("--hugetlb only applies to --memfd (use -m DIR for hugetlbfs)");
		return false;
	}
	cfg->backend = r->memfd ? IVSHMEM_BACKEND_MEMFD
		     : r->huge ? IVSHMEM_BACKEND_HUGETLBFS : IVSHMEM_BACKEND_SHM;

	cfg->size = IVS_DEFAULT_SIZE;
	if (r->size) {
		int ret = ivs_parse_size(r->size, &cfg->size);
		if (ret < 0) {
			*err = g_strdup_printf("-l: '%s' %s", r->size, ret == -EINVAL
				? "is not a size (digits with an optional K, M or G suffix)"
				: "must be a power of two from 4K to 1024G");
			return false;
		}
	}
	cfg->vectors = 1;
	if (r->vectors) {
		if (!parse_uint(r->vectors, IVSHMEM_MAX_VECTORS, &v) || v < 1) {
			*err = g_strdup_printf("-n: '%s' is not a vector count from 1 to %d",
					       r->vectors, IVSHMEM_MAX_VECTORS);
			return false;
		}
		cfg->vectors = (unsigned)v;
	}
	cfg->max_peers = IVS_DEFAULT_MAX_PEERS;
	if (r->max_peers) {
		if (!parse_uint(r->max_peers, IVSHMEM_MAX_PEER_ID + 1, &v) || v < 1) {
			*err = g_strdup_printf("--max-peers: '%s' is not a number from 1 to %d",
					       r->max_peers, IVSHMEM_MAX_PEER_ID + 1);
			return false;
		}
		cfg->max_peers = (unsigned)v;
	}
	cfg->max_pending = IVS_DEFAULT_MAX_PENDING;
	if (r->max_pending) {
		if (!parse_uint(r->max_pending, IVS_MAX_MAX_PENDING, &v) || v < 1) {
			*err = g_strdup_printf("--max-pending: '%s' is not a number from 1 to %u",
					       r->max_pending, IVS_MAX_MAX_PENDING);
			return false;
		}
		cfg->max_pending = (unsigned)v;
	}
	cfg->stall_timeout = IVS_DEFAULT_STALL_TIMEOUT;
	if (r->stall) {
		if (!parse_uint(r->stall, 3600, &v) || v < 1) {
			*err = g_strdup_printf("--stall-timeout: '%s' is not a number of seconds "
					       "from 1 to 3600", r->stall);
			return false;
		}
		cfg->stall_timeout = (unsigned)v;
	}
	if (r->id_socket) {
		if (!*r->id_socket || g_strcmp0(r->id_socket, cfg->socket_path) == 0) {
			*err = g_strdup_printf("--id-socket: '%s' must be a path other than -S",
					       r->id_socket);
			return false;
		}
		cfg->id_socket_path = g_strdup(r->id_socket);
	}
	cfg->id_reserve = IVS_DEFAULT_ID_RESERVE;
	if (r->id_reserve) {
		if (!parse_uint(r->id_reserve, 86400, &v) || v < 1) {
			*err = g_strdup_printf("--id-reserve: '%s' is not a number of seconds "
					       "from 1 to 86400", r->id_reserve);
			return false;
		}
		cfg->id_reserve = (unsigned)v;
	}
	if (r->group) {
		struct group *g = getgrnam(r->group);
		if (g) {
			cfg->group = g->gr_gid;
		} else if (parse_uint(r->group, UINT32_MAX - 1, &v)) {
			cfg->group = (gid_t)v;
		} else {
			*err = g_strdup_printf("--group: '%s' is neither a known group nor a number",
					       r->group);
			return false;
		}
		cfg->has_group = true;
	}

	GArray *uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	GArray *gids = g_array_new(FALSE, FALSE, sizeof(guint32));
	bool ok = true;
	for (gchar **p = r->uids; ok && p && *p; p++)
		ok = parse_id_list(*p, false, uids, err);
	for (gchar **p = r->gids; ok && p && *p; p++)
		ok = parse_id_list(*p, true, gids, err);
	cfg->n_allow_uids = uids->len;
	cfg->n_allow_gids = gids->len;
	cfg->allow_uids = (uid_t *)(void *)g_array_free(uids, FALSE);
	cfg->allow_gids = (gid_t *)(void *)g_array_free(gids, FALSE);
	return ok;
}

enum ivs_parse_result ivs_parse_options(int argc, char **argv, struct ivs_config *cfg, char **err,
					FILE *out)
{
	struct raw_opts r = { 0 };
	const GOptionEntry entries[] = {
		{ "socket", 'S', 0, G_OPTION_ARG_STRING, &r.socket,
		  "UNIX socket to listen on (default " IVS_DEFAULT_SOCKET ")", "PATH" },
		{ "shm", 'M', 0, G_OPTION_ARG_STRING, &r.shm,
		  "POSIX shm name, the ACRN dm:/NAME region (default " IVS_DEFAULT_SHM ")", "NAME" },
		{ "hugetlbfs", 'm', 0, G_OPTION_ARG_STRING, &r.huge,
		  "back the region with DIR/NAME on hugetlbfs instead", "DIR" },
		{ "memfd", 0, 0, G_OPTION_ARG_NONE, &r.memfd,
		  "anonymous region (memfd), shared only with this server's clients", NULL },
		{ "hugetlb", 0, 0, G_OPTION_ARG_NONE, &r.hugetlb,
		  "with --memfd: use huge pages", NULL },
		{ "size", 'l', 0, G_OPTION_ARG_STRING, &r.size,
		  "region size, power of two, K/M/G suffix (default 4M)", "SIZE" },
		{ "vectors", 'n', 0, G_OPTION_ARG_STRING, &r.vectors,
		  "interrupt vectors per peer, 1..64 (default 1)", "N" },
		{ "foreground", 'F', 0, G_OPTION_ARG_NONE, &r.foreground,
		  "stay in the foreground (default: daemonize)", NULL },
		{ "pidfile", 'p', 0, G_OPTION_ARG_STRING, &r.pidfile, "write the pid to FILE", "FILE" },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &r.verbose, "log every message", NULL },
		{ "max-peers", 0, 0, G_OPTION_ARG_STRING, &r.max_peers,
		  "refuse connections beyond N peers (default 64)", "N" },
		{ "max-pending", 0, 0, G_OPTION_ARG_STRING, &r.max_pending,
		  "identity-socket connections waiting for their hello, apart from the peers; the "
		  "oldest makes room for a newer one (default 16)", "N" },
		{ "group", 0, 0, G_OPTION_ARG_STRING, &r.group,
		  "socket group, mode 0660 (default: owner only, 0600)", "GROUP" },
		{ "allow-uid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &r.uids,
		  "accept only these users (SO_PEERCRED); repeatable, comma lists", "UID" },
		{ "allow-gid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &r.gids,
		  "accept only these primary groups; repeatable, comma lists", "GID" },
		{ "exit-when-idle", 0, 0, G_OPTION_ARG_NONE, &r.idle,
		  "exit when the last peer has left", NULL },
		{ "stall-timeout", 0, 0, G_OPTION_ARG_STRING, &r.stall,
		  "drop a peer that reads nothing for SECONDS while messages wait (default 5)",
		  "SECONDS" },
		{ "id-socket", 0, 0, G_OPTION_ARG_STRING, &r.id_socket,
		  "also listen on PATH for clients that send an identity hello first and get "
		  "their previous peer id back", "PATH" },
		{ "id-reserve", 0, 0, G_OPTION_ARG_STRING, &r.id_reserve,
		  "keep a departed identity's id for SECONDS (default 60)", "SECONDS" },
		{ "help", 'h', 0, G_OPTION_ARG_NONE, &r.help, "show this help", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new("- ivshmem server (QEMU protocol 0) for ACRN");
	GError *gerr = NULL;
	enum ivs_parse_result res = IVS_PARSE_ERROR;

	memset(cfg, 0, sizeof(*cfg));
	*err = NULL;
	/* GOption's own --help would exit(); ours prints and returns. */
	g_option_context_set_help_enabled(ctx, FALSE);
	g_option_context_add_main_entries(ctx, entries, NULL);

	gchar **args = g_new0(gchar *, (gsize)argc + 1);
	for (int i = 0; i < argc; i++)
		args[i] = argv[i];
	int n = argc;
	gchar **argp = args;
	if (!g_option_context_parse(ctx, &n, &argp, &gerr)) {
		*err = g_strdup(gerr->message);
		g_error_free(gerr);
		goto out;
	}
	if (r.help) {
		gchar *help = g_option_context_get_help(ctx, TRUE, NULL);
		fputs(help, out);
		g_free(help);
		res = IVS_PARSE_EXIT;
		goto out;
	}
	if (n > 1) {
		*err = g_strdup_printf("unexpected argument '%s'", argp[1]);
		goto out;
	}
	if (apply(&r, cfg, err))
		res = IVS_PARSE_OK;
	else
		ivs_config_clear(cfg);
out:
	g_free(args);
	raw_free(&r);
	g_option_context_free(ctx);
	return res;
}
