/*
 * acrn-ivshmem-server: QEMU's ivshmem server protocol (version 0) for acrn-dm and QEMU clients,
 * sharing a region that follows ACRN's dm:/NAME contract. See docs/ivshmem-server.md.
 */
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon.h"
#include "ivshmem_region.h"
#include "listen.h"
#include "log.h"
#include "options.h"
#include "server.h"

#define PREFIX "ivshmem-server"

static gboolean on_signal(gpointer data)
{
	pr_info(PREFIX, "terminating on signal");
	g_main_loop_quit(data);
	return G_SOURCE_CONTINUE;
}

static void on_idle(void *opaque)
{
	pr_info(PREFIX, "the last peer left: exiting (--exit-when-idle)");
	g_main_loop_quit(opaque);
}

/* Every peer costs vectors eventfds plus copies in flight: use all the fds we may have. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The daemon changes to /, so relative paths are resolved first. */
static char *absolute(const char *path)
{
	if (!path || path[0] == '/')
		return g_strdup(path);
	char *cwd = g_get_current_dir();
	char *abs = g_build_filename(cwd, path, NULL);
	g_free(cwd);
	return abs;
}

static int open_region(const struct ivs_config *cfg, struct ivshmem_region *region)
{
	struct ivshmem_error err;
	const struct ivshmem_region_opts opts = {
		.backend = cfg->backend,
		.name = cfg->shm_name,
		.size = cfg->size,
		.hugetlbfs_dir = cfg->hugetlbfs_dir,
		.memfd_hugetlb = cfg->hugetlb,
		.no_map = true,		/* the server only hands the fd out */
	};
	int ret = ivshmem_region_open(region, &opts, &err);
	if (ret < 0) {
		pr_err(PREFIX, "%s", err.msg);
		return ret;
	}
	pr_info(PREFIX, "region %s: %s, %llu bytes, %s", region->path,
		ivshmem_backend_name(region->backend), (unsigned long long)region->size,
		region->created ? "created" : "existing one reused");
	return 0;
}

int main(int argc, char **argv)
{
	struct ivs_config cfg;
	struct ivshmem_region region = { 0 };
	char *err = NULL, *socket_path = NULL, *pidfile = NULL, *id_path = NULL;
	int listen_fd = -1, id_fd = -1, ready_fd = -1, status = 1;
	bool pidfile_written = false;
	struct ivs_server *server = NULL;
	GMainLoop *loop = NULL;

	switch (ivs_parse_options(argc, argv, &cfg, &err, stdout)) {
	case IVS_PARSE_EXIT:
		return 0;
	case IVS_PARSE_ERROR:
		fprintf(stderr, "acrn-ivshmem-server: %s (see --help)\n", err);
		g_free(err);
		return 1;
	case IVS_PARSE_OK:
		break;
	}
	log_set_level(cfg.verbose ? LOG_DEBUG : LOG_INFO);
	/* A client vanishing mid-send must not kill us; sends use MSG_NOSIGNAL too. */
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	socket_path = absolute(cfg.socket_path);
	pidfile = absolute(cfg.pidfile);
	id_path = absolute(cfg.id_socket_path);

	if (open_region(&cfg, &region) < 0)
		goto out;
	listen_fd = ivs_listen(socket_path, cfg.has_group, cfg.group, &err);
	if (listen_fd < 0) {
		pr_err(PREFIX, "%s", err);
		goto out;
	}
	if (id_path) {
		id_fd = ivs_listen(id_path, cfg.has_group, cfg.group, &err);
		if (id_fd < 0) {
			pr_err(PREFIX, "--id-socket: %s", err);
			goto out_socket;
		}
	}
	if (!cfg.foreground && ivs_daemonize(&ready_fd, &err) < 0) {
		pr_err(PREFIX, "%s", err);
		goto out_socket;
	}
	if (pidfile) {
		if (ivs_write_pidfile(pidfile, &err) < 0) {
			pr_err(PREFIX, "%s", err);
			goto out_socket;
		}
		pidfile_written = true;
	}

	loop = g_main_loop_new(NULL, FALSE);
	const struct ivs_server_params params = {
		.vectors = cfg.vectors,
		.max_peers = cfg.max_peers,
		.max_pending = cfg.max_pending,
		.stall_timeout_ms = cfg.stall_timeout * 1000,
		.allow_uids = cfg.allow_uids, .n_allow_uids = cfg.n_allow_uids,
		.allow_gids = cfg.allow_gids, .n_allow_gids = cfg.n_allow_gids,
		.id_socket = id_fd >= 0, .id_listen_fd = id_fd,
		.id_reserve_ms = cfg.id_reserve * 1000,
		.on_idle = cfg.exit_when_idle ? on_idle : NULL,
		.opaque = loop,
	};
	server = ivs_server_new(&params, listen_fd, region.fd);
	if (!server)
		goto out_socket;
	guint sigterm = g_unix_signal_add(SIGTERM, on_signal, loop);
	guint sigint = g_unix_signal_add(SIGINT, on_signal, loop);

	pr_info(PREFIX, "listening on %s%s%s: %u vector%s per peer, at most %u peers", socket_path,
		id_path ? " and identity socket " : "", id_path ? id_path : "", cfg.vectors,
		cfg.vectors == 1 ? "" : "s", cfg.max_peers);
	if (ready_fd >= 0)
		ivs_daemon_ready(ready_fd);
	ready_fd = -1;
	g_main_loop_run(loop);
	status = 0;

	g_source_remove(sigterm);
	g_source_remove(sigint);
	ivs_server_free(server);
out_socket:
	if (id_fd >= 0) {
		close(id_fd);
		unlink(id_path);
	}
	close(listen_fd);
	unlink(socket_path);
out:
	if (pidfile_written)
		unlink(pidfile);
	/* Closing never unlinks the region: like ACRN, its data outlives us. */
	ivshmem_region_close(&region);
	if (loop)
		g_main_loop_unref(loop);
	g_free(err);
	g_free(socket_path);
	g_free(pidfile);
	g_free(id_path);
	ivs_config_clear(&cfg);
	return status;
}
