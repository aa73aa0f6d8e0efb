/* Creating the server's UNIX socket safely (see listen.h). */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"

static int fill_addr(struct sockaddr_un *sun, const char *path, char **err)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		*err = g_strdup_printf("socket path %s is longer than %zu bytes", path,
				       sizeof(sun->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* Removes a leftover socket of a dead server; refuses to touch anything else. */
static int clear_stale(const char *path, const struct sockaddr_un *sun, char **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		*err = g_strdup_printf("%s exists and is not a socket", path);
		return -EEXIST;
	}
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	int ret = connect(probe, (const struct sockaddr *)sun, sizeof(*sun));
	int saved = errno;
	close(probe);
	if (ret == 0) {
		*err = g_strdup_printf("another server is already listening on %s", path);
		return -EADDRINUSE;
	}
	if (saved != ECONNREFUSED) {
		*err = g_strdup_printf("cannot check existing socket %s: %s", path, strerror(saved));
		return -saved;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		*err = g_strdup_printf("cannot remove stale socket %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int ivs_listen(const char *path, bool has_group, gid_t group, char **err)
{
	struct sockaddr_un sun;
	int fd, ret;

	*err = NULL;
	ret = fill_addr(&sun, path, err);
	if (ret < 0)
		return ret;
	ret = clear_stale(path, &sun, err);
	if (ret < 0) {
		if (!*err)
			*err = g_strdup_printf("%s: %s", path, strerror(-ret));
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		*err = g_strdup_printf("socket: %s", strerror(errno));
		return ret;
	}
	/* The umask makes the socket 0600 at birth: no window where others could connect. */
	mode_t old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	int saved = errno;
	umask(old);
	if (ret < 0) {
		*err = g_strdup_printf("cannot bind %s: %s", path, strerror(saved));
		ret = -saved;
		goto fail_close;
	}
	if (has_group && (chown(path, (uid_t)-1, group) < 0 || chmod(path, 0660) < 0)) {
		ret = -errno;
		*err = g_strdup_printf("cannot give %s to group %u: %s", path, (unsigned)group,
				       strerror(errno));
		goto fail_unlink;
	}
	if (listen(fd, 64) < 0) {
		ret = -errno;
		*err = g_strdup_printf("listen on %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	return fd;

fail_unlink:
	unlink(path);
fail_close:
	close(fd);
	return ret;
}
