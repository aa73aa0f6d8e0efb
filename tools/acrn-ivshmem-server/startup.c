/* Creating and removing what a server start needs (see startup.h). */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "startup.h"

#define PREFIX "ivshmem-server"

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

static int open_region(const struct ivs_config *cfg, struct ivshmem_region *region, char **err)
{
	struct ivshmem_error ierr;
	const struct ivshmem_region_opts opts = {
		.backend = cfg->backend,
		.name = cfg->shm_name,
		.size = cfg->size,
		.hugetlbfs_dir = cfg->hugetlbfs_dir,
		.memfd_hugetlb = cfg->hugetlb,
		.no_map = true,		/* the server only hands the fd out */
	};
	int ret = ivshmem_region_open(region, &opts, &ierr);
	if (ret < 0) {
		*err = g_strdup(ierr.msg);
		return ret;
	}
	pr_info(PREFIX, "region %s: %s, %llu bytes, %s", region->path,
		ivshmem_backend_name(region->backend), (unsigned long long)region->size,
		region->created ? "created" : "existing one reused");
	return 0;
}

static void close_sockets(struct ivs_resources *res)
{
	if (res->id_fd >= 0) {
		close(res->id_fd);
		unlink(res->id_path);
		res->id_fd = -1;
	}
	if (res->listen_fd >= 0) {
		close(res->listen_fd);
		unlink(res->socket_path);
		res->listen_fd = -1;
	}
}

static void free_paths(struct ivs_resources *res)
{
	if (res->pidfile_written)
		unlink(res->pidfile);
	res->pidfile_written = false;
	g_free(res->socket_path);
	g_free(res->id_path);
	g_free(res->pidfile);
	res->socket_path = res->id_path = res->pidfile = NULL;
}

int ivs_resources_open(const struct ivs_config *cfg, struct ivs_resources *res, char **err)
{
	char *why = NULL;
	int ret;

	memset(res, 0, sizeof(*res));
	res->listen_fd = res->id_fd = -1;
	res->region.fd = -1;
	res->socket_path = absolute(cfg->socket_path);
	res->id_path = absolute(cfg->id_socket_path);
	res->pidfile = absolute(cfg->pidfile);

	ret = ivs_listen(res->socket_path, cfg->has_group, cfg->group, &why);
	if (ret < 0) {
		*err = g_strdup_printf("-S: %s", why);
		goto fail;
	}
	res->listen_fd = ret;
	if (res->id_path) {
		ret = ivs_listen(res->id_path, cfg->has_group, cfg->group, &why);
		if (ret < 0) {
			*err = g_strdup_printf("--id-socket: %s", why);
			goto fail;
		}
		res->id_fd = ret;
	}
	ret = open_region(cfg, &res->region, err);
	if (ret < 0)
		goto fail;
	return 0;

fail:
	g_free(why);
	close_sockets(res);
	free_paths(res);
	return ret;
}

int ivs_resources_write_pidfile(struct ivs_resources *res, char **err)
{
	if (!res->pidfile)
		return 0;
	int ret = ivs_write_pidfile(res->pidfile, err);
	/* -EIO: created, then the write failed; any other error created nothing. */
	res->pidfile_written = ret == 0 || ret == -EIO;
	return ret;
}

void ivs_resources_abort(struct ivs_resources *res)
{
	close_sockets(res);
	free_paths(res);
	ivshmem_region_discard(&res->region);
}

void ivs_resources_close(struct ivs_resources *res)
{
	close_sockets(res);
	free_paths(res);
	/* Closing never unlinks the region: like ACRN, its data outlives us. */
	ivshmem_region_close(&res->region);
}
