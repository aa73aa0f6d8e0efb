/*
 * memfd backend: an anonymous region that only processes given the fd (by a server) share.
 * The size is sealed, so no peer holding the fd can shrink it under the others' mappings
 * (which would SIGBUS them).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ivshmem_region.h"
#include "region_internal.h"

int region_open_memfd(struct ivshmem_region *r, const struct ivshmem_region_opts *o,
		      struct ivshmem_error *err)
{
	char label[64];
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd, ret;

	if (o->memfd_hugetlb)
		flags |= MFD_HUGETLB;
	snprintf(label, sizeof(label), "ivshmem:%s", o->name);
	snprintf(r->path, sizeof(r->path), "memfd:%s", o->name);

	fd = memfd_create(label, flags);
	if (fd < 0 && o->memfd_hugetlb && errno == EINVAL)
		return ivshmem_fail(err, EINVAL,
				    "region '%s': this kernel cannot back a memfd with huge pages "
				    "(memfd_create with MFD_HUGETLB failed)", o->name);
	if (fd < 0)
		return ivshmem_fail(err, errno, "region '%s': memfd_create failed: %s", o->name,
				    strerror(errno));

	if (o->memfd_hugetlb) {
		struct statfs sfs;
		if (fstatfs(fd, &sfs) < 0) {
			ret = ivshmem_fail(err, errno, "region '%s': fstatfs failed: %s", o->name,
					   strerror(errno));
			goto fail;
		}
		r->page_size = (uint64_t)sfs.f_bsize;
		if (o->size % r->page_size) {
			char size_s[64];
			ret = ivshmem_fail(err, EINVAL,
					   "region '%s': size %s is not a multiple of the huge page "
					   "size %" PRIu64 " kB", o->name,
					   region_fmt_size(o->size, size_s, sizeof(size_s)),
					   r->page_size >> 10);
			goto fail;
		}
	}
	if (ftruncate(fd, (off_t)o->size) < 0) {
		ret = ivshmem_fail(err, errno, "region '%s': sizing the memfd failed: %s", o->name,
				   strerror(errno));
		goto fail;
	}
	if (o->memfd_hugetlb) {
		ret = hugetlb_allocate(fd, o->size, r->page_size, r->path, err);
		if (ret < 0)
			goto fail;
	}
	/* Best effort: kernels without sealing for this memfd type still work, just unprotected. */
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);

	r->fd = fd;
	r->created = true;
	return 0;

fail:
	close(fd);
	return ret;
}
