/* POSIX shm backend: exactly what ACRN's device model does for dm:/NAME. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ivshmem_region.h"
#include "region_internal.h"

/* shm_open sets FD_CLOEXEC itself. */
static const struct named_object_ops shm_ops = {
	.open = shm_open,
	.unlink = shm_unlink,
};

int region_open_shm(struct ivshmem_region *r, const struct ivshmem_region_opts *o,
		    struct ivshmem_error *err)
{
	char shm_name[IVSHMEM_NAME_MAX + 2];

	/* POSIX wants one leading slash; glibc then uses /dev/shm/NAME. */
	snprintf(shm_name, sizeof(shm_name), "/%s", o->name);
	snprintf(r->path, sizeof(r->path), "/dev/shm/%s", o->name);
	return region_create_or_open(r, shm_name, &shm_ops, err);
}
