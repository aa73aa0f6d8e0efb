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
#include "log.h"
#include "options.h"
#include "server.h"
#include "startup.h"

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

int main(int argc, char **argv)
{
	struct ivs_config cfg;
	struct ivs_resources res;
	char *err = NULL;
	int ready_fd = -1;
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

	if (ivs_resources_open(&cfg, &res, &err) < 0) {
		pr_err(PREFIX, "%s", err);
		g_free(err);
		ivs_config_clear(&cfg);
		return 1;
	}
	if ((!cfg.foreground && ivs_daemonize(&ready_fd, &err) < 0) ||
	    ivs_resources_write_pidfile(&res, &err) < 0)
		goto fail;

	loop = g_main_loop_new(NULL, FALSE);
	const struct ivs_server_params params = {
		.vectors = cfg.vectors,
		.max_peers = cfg.max_peers,
		.max_pending = cfg.max_pending,
		.stall_timeout_ms = cfg.stall_timeout * 1000,
		.allow_uids = cfg.allow_uids, .n_allow_uids = cfg.n_allow_uids,
		.allow_gids = cfg.allow_gids, .n_allow_gids = cfg.n_allow_gids,
		.id_socket = res.id_fd >= 0, .id_listen_fd = res.id_fd,
		.id_reserve_ms = cfg.id_reserve * 1000,
		.on_idle = cfg.exit_when_idle ? on_idle : NULL,
		.opaque = loop,
	};
	server = ivs_server_new(&params, res.listen_fd, res.region.fd);
	if (!server)
		goto fail;	/* logged */
	guint sigterm = g_unix_signal_add(SIGTERM, on_signal, loop);
	guint sigint = g_unix_signal_add(SIGINT, on_signal, loop);

	pr_info(PREFIX, "listening on %s%s%s: %u vector%s per peer, at most %u peers",
		res.socket_path, res.id_path ? " and identity socket " : "",
		res.id_path ? res.id_path : "", cfg.vectors, cfg.vectors == 1 ? "" : "s",
		cfg.max_peers);
	if (ready_fd >= 0)
		ivs_daemon_ready(ready_fd);
	g_main_loop_run(loop);

	g_source_remove(sigterm);
	g_source_remove(sigint);
	ivs_server_free(server);
	ivs_resources_close(&res);
	g_main_loop_unref(loop);
	ivs_config_clear(&cfg);
	return 0;

fail:
	if (err)
		pr_err(PREFIX, "%s", err);
	g_free(err);
	/* Nothing of this start stays behind, a region it created included. */
	ivs_resources_abort(&res);
	if (loop)
		g_main_loop_unref(loop);
	ivs_config_clear(&cfg);
	return 1;
}
