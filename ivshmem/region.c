/* Region life cycle common to every backend: dispatch, adopt, map, close. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "ivshmem_region.h"
#include "region_internal.h"

unsigned ivshmem_size_wait_ms = 2000;

const char *ivshmem_backend_name(enum ivshmem_backend backend)
{
	switch (backend) {
	case IVSHMEM_BACKEND_SHM:
		return "shm";
	case IVSHMEM_BACKEND_HUGETLBFS:
		return "hugetlbfs";
	case IVSHMEM_BACKEND_MEMFD:
		return "memfd";
	case IVSHMEM_BACKEND_ADOPTED:
		return "adopted";
	}
	return "unknown";
}

const char *region_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes && bytes % (1u << 20) == 0)
		snprintf(buf, len, "%" PRIu64 " bytes (%" PRIu64 " MiB)", bytes, bytes >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
	return buf;
}

int region_check_existing_size(int fd, uint64_t want, const char *what, struct ivshmem_error *err)
{
	struct stat st;
	unsigned waited_ms = 0;

	for (;;) {
		if (fstat(fd, &st) < 0)
			return ivshmem_fail(err, errno, "fstat of %s failed: %s", what, strerror(errno));
		/* Size 0: the creator has not ftruncated yet (two VMs starting at once). */
		if (st.st_size != 0 || waited_ms >= ivshmem_size_wait_ms)
			break;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		waited_ms += 5;
	}
	if (st.st_size == 0)
		return ivshmem_fail(err, EAGAIN,
				    "%s exists but still has size 0 after %u ms: its creator did not "
				    "size it (remove it if no VM uses it)", what, ivshmem_size_wait_ms);
	if ((uint64_t)st.st_size != want) {
		char have_s[64], want_s[64];
		return ivshmem_fail(err, EINVAL, "%s exists with size %s, but %s was asked for", what,
				    region_fmt_size((uint64_t)st.st_size, have_s, sizeof(have_s)),
				    region_fmt_size(want, want_s, sizeof(want_s)));
	}
	return 0;
}

static void region_reset(struct ivshmem_region *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* Removes the named object behind r if this process created it. */
static void region_unlink_created(const struct ivshmem_region *r)
{
	if (r->created && r->backend == IVSHMEM_BACKEND_SHM) {
		char shm_name[IVSHMEM_NAME_MAX + 2];
		snprintf(shm_name, sizeof(shm_name), "/%s", r->name);
		shm_unlink(shm_name);
	} else if (r->created && r->backend == IVSHMEM_BACKEND_HUGETLBFS) {
		unlink(r->path);
	}
}

int ivshmem_region_open(struct ivshmem_region *r, const struct ivshmem_region_opts *opts,
			struct ivshmem_error *err)
{
	int ret;

	region_reset(r);
	ret = ivshmem_name_check(opts->name, err);
	if (ret < 0)
		return ret;
	if (opts->size == 0 || opts->size > INT64_MAX)
		return ivshmem_fail(err, EINVAL, "region '%s': size %" PRIu64 " is out of range",
				    opts->name, opts->size);
	snprintf(r->name, sizeof(r->name), "%s", opts->name);
	r->size = opts->size;
	r->backend = opts->backend;
	r->page_size = (uint64_t)sysconf(_SC_PAGESIZE);

	switch (opts->backend) {
	case IVSHMEM_BACKEND_SHM:
		ret = region_open_shm(r, opts, err);
		break;
	case IVSHMEM_BACKEND_HUGETLBFS:
		ret = region_open_hugetlbfs(r, opts, err);
		break;
	case IVSHMEM_BACKEND_MEMFD:
		ret = region_open_memfd(r, opts, err);
		break;
	case IVSHMEM_BACKEND_ADOPTED:
	default:
		ret = ivshmem_fail(err, EINVAL, "region '%s': backend %s cannot be opened by name",
				   opts->name, ivshmem_backend_name(opts->backend));
		break;
	}
	if (ret < 0)
		goto fail;
	r->is_open = true;

	if (!opts->no_map) {
		ret = ivshmem_region_map(r, err);
		if (ret < 0)
			goto fail_unlink;
	}
	return 0;

fail_unlink:
	/* Nobody can have stored data in an object created a moment ago: do not leave it behind. */
	region_unlink_created(r);
fail:
	/* The backends close their fd on failure; a failed map leaves an fd to close here. */
	if (r->fd >= 0)
		close(r->fd);
	region_reset(r);
	return ret;
}

int ivshmem_region_adopt(struct ivshmem_region *r, int fd, uint64_t expected_size,
			 struct ivshmem_error *err)
{
	struct stat st;
	struct statfs sfs;
	int ret;

	region_reset(r);
	r->backend = IVSHMEM_BACKEND_ADOPTED;
	if (fd < 0)
		return ivshmem_fail(err, EBADF, "no shared memory fd to adopt");
	if (fstat(fd, &st) < 0) {
		ret = ivshmem_fail(err, errno, "fstat of the shared memory fd failed: %s",
				   strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = ivshmem_fail(err, EINVAL, "the shared memory fd is not a regular file or memfd");
		goto fail;
	}
	if (st.st_size <= 0) {
		ret = ivshmem_fail(err, EINVAL, "the shared memory fd has size 0");
		goto fail;
	}
	if (expected_size && (uint64_t)st.st_size != expected_size) {
		char have_s[64], want_s[64];
		ret = ivshmem_fail(err, EINVAL, "the shared memory fd has size %s, expected %s",
				   region_fmt_size((uint64_t)st.st_size, have_s, sizeof(have_s)),
				   region_fmt_size(expected_size, want_s, sizeof(want_s)));
		goto fail;
	}
	r->fd = fd;
	snprintf(r->path, sizeof(r->path), "fd");
	r->size = (uint64_t)st.st_size;
	r->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == HUGETLBFS_MAGIC)
		r->page_size = (uint64_t)sfs.f_bsize;
	r->is_open = true;
	ret = ivshmem_region_map(r, err);
	if (ret < 0) {
		region_reset(r);
		goto fail;
	}
	return 0;

fail:
	close(fd);
	return ret;
}

int ivshmem_region_map(struct ivshmem_region *r, struct ivshmem_error *err)
{
	if (!r->is_open || r->fd < 0)
		return ivshmem_fail(err, EBADF, "region '%s' is not open", r->name);
	if (r->addr)
		return 0;
	if (r->size % r->page_size) {
		char size_s[64];
		return ivshmem_fail(err, EINVAL,
				    "region '%s': size %s is not a multiple of its page size %" PRIu64,
				    r->name, region_fmt_size(r->size, size_s, sizeof(size_s)),
				    r->page_size);
	}
	void *addr = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (addr == MAP_FAILED) {
		char size_s[64];
		return ivshmem_fail(err, errno, "mapping region '%s' (%s, %s) failed: %s", r->name,
				    ivshmem_backend_name(r->backend),
				    region_fmt_size(r->size, size_s, sizeof(size_s)), strerror(errno));
	}
	r->addr = addr;
	return 0;
}

void ivshmem_region_close(struct ivshmem_region *r)
{
	if (!r->is_open)
		return;
	if (r->addr)
		munmap(r->addr, r->size);
	if (r->fd >= 0)
		close(r->fd);
	/* Never unlinked: ACRN keeps a dm:/ region for the next boot of the VM. */
	region_reset(r);
}

void ivshmem_region_discard(struct ivshmem_region *r)
{
	if (r->is_open)
		region_unlink_created(r);
	ivshmem_region_close(r);
}

int region_create_or_open(struct ivshmem_region *r, const char *name,
			  const struct named_object_ops *ops, struct ivshmem_error *err)
{
	int fd, ret;

	/*
	 * Create-or-open, twice at most: if the creator gives up and removes the object between our
	 * EEXIST and our open, the second round creates it ourselves.
	 */
	for (int attempt = 0; attempt < 2; attempt++) {
		fd = ops->open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd >= 0) {
			ret = 0;
			if (ftruncate(fd, (off_t)r->size) < 0)
				ret = ivshmem_fail(err, errno, "sizing %s failed: %s", r->path,
						   strerror(errno));
			if (ret == 0 && ops->ready)
				ret = ops->ready(fd, r, err);
			if (ret < 0) {
				close(fd);
				ops->unlink(name);
				return ret;
			}
			r->fd = fd;
			r->created = true;
			return 0;
		}
		if (errno != EEXIST)
			return ivshmem_fail(err, errno, "creating %s failed: %s", r->path,
					    strerror(errno));

		fd = ops->open(name, O_RDWR, 0);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			return ivshmem_fail(err, errno, "opening existing %s failed: %s", r->path,
					    strerror(errno));
		ret = region_check_existing_size(fd, r->size, r->path, err);
		if (ret == 0 && ops->ready)
			ret = ops->ready(fd, r, err);
		if (ret < 0) {
			close(fd);
			return ret;
		}
		r->fd = fd;
		r->created = false;
		return 0;
	}
	return ivshmem_fail(err, EAGAIN, "%s kept disappearing while being opened", r->path);
}
