/* POSIX shm backend: exactly what ACRN's device model does for dm:/NAME. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ivshmem_region.h"
#include "region_internal.h"

int region_open_shm(struct ivshmem_region *r, const struct ivshmem_region_opts *o,
		    struct ivshmem_error *err)
{
	char shm_name[IVSHMEM_NAME_MAX + 2];
	int fd, ret;

	/* POSIX wants one leading slash; glibc then uses /dev/shm/NAME. */
	snprintf(shm_name, sizeof(shm_name), "/%s", o->name);
	snprintf(r->path, sizeof(r->path), "/dev/shm/%s", o->name);

	/*
	 * Create-or-open, twice at most: if the creator gives up and unlinks the object between our
	 * EEXIST and our open, the second round creates it ourselves.
	 */
	for (int attempt = 0; attempt < 2; attempt++) {
		fd = shm_open(shm_name, O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd >= 0) {
			if (ftruncate(fd, (off_t)o->size) < 0) {
				ret = ivshmem_fail(err, errno, "sizing shm %s failed: %s", r->path,
						   strerror(errno));
				close(fd);
				shm_unlink(shm_name);
				return ret;
			}
			r->fd = fd;
			r->created = true;
			return 0;
		}
		if (errno != EEXIST)
			return ivshmem_fail(err, errno, "creating shm %s failed: %s", r->path,
					    strerror(errno));

		fd = shm_open(shm_name, O_RDWR, 0);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			return ivshmem_fail(err, errno, "opening existing shm %s failed: %s", r->path,
					    strerror(errno));
		ret = region_check_existing_size(fd, o->size, r->path, err);
		if (ret < 0) {
			close(fd);
			return ret;
		}
		r->fd = fd;
		r->created = false;
		return 0;
	}
	return ivshmem_fail(err, EAGAIN, "shm %s kept disappearing while being opened", r->path);
}
