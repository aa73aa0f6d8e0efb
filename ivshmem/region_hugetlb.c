/*
 * hugetlbfs backend (a named file on a hugetlbfs mount) and the huge page accounting shared with
 * hugetlb memfds. The rule here: every huge page is allocated before the region is mapped, so a
 * short pool gives a clear error at start-up instead of a SIGBUS when the guest touches memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "ivshmem_region.h"
#include "region_internal.h"

const char *ivshmem_proc_mounts = "/proc/mounts";
const char *ivshmem_sysfs_hugepages = "/sys/kernel/mm/hugepages";

int hugetlbfs_find_mount(const char *mounts_file, char *dir, size_t len, struct ivshmem_error *err)
{
	FILE *f = setmntent(mounts_file, "r");
	if (!f)
		return ivshmem_fail(err, errno, "cannot read %s: %s", mounts_file, strerror(errno));

	struct mntent ent;
	char buf[4096];
	int ret = ivshmem_fail(err, ENOENT,
			       "no hugetlbfs mount found in %s (mount one, e.g. 'mount -t hugetlbfs "
			       "none /dev/hugepages', or name the directory)", mounts_file);
	/* getmntent_r also undoes the octal escapes (\040) of mount points with spaces. */
	while (getmntent_r(f, &ent, buf, sizeof(buf))) {
		if (strcmp(ent.mnt_type, "hugetlbfs") != 0)
			continue;
		if (strlen(ent.mnt_dir) >= len) {
			ret = ivshmem_fail(err, ENAMETOOLONG, "hugetlbfs mount point %s is too long",
					   ent.mnt_dir);
		} else {
			strcpy(dir, ent.mnt_dir);
			ret = 0;
		}
		break;
	}
	endmntent(f);
	return ret;
}

static int read_counter(const char *path, uint64_t *value)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	int ret = fscanf(f, "%" SCNu64, value) == 1 ? 0 : -EINVAL;
	fclose(f);
	return ret;
}

int hugetlb_available_pages(uint64_t page_size, uint64_t *avail)
{
	char path[512];
	uint64_t free_pages, resv_pages;
	int ret;

	snprintf(path, sizeof(path), "%s/hugepages-%" PRIu64 "kB/free_hugepages",
		 ivshmem_sysfs_hugepages, page_size >> 10);
	ret = read_counter(path, &free_pages);
	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "%s/hugepages-%" PRIu64 "kB/resv_hugepages",
		 ivshmem_sysfs_hugepages, page_size >> 10);
	/* Free pages reserved for other mappings' future faults are not ours to take. */
	if (read_counter(path, &resv_pages) < 0)
		resv_pages = 0;
	*avail = free_pages > resv_pages ? free_pages - resv_pages : 0;
	return 0;
}

int hugetlb_allocate(int fd, uint64_t size, uint64_t page_size, const char *what,
		     struct ivshmem_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ivshmem_fail(err, errno, "fstat of %s failed: %s", what, strerror(errno));

	/* hugetlbfs counts allocated pages in st_blocks: a reopened region needs no new pages. */
	uint64_t total = size / page_size;
	uint64_t have = (uint64_t)st.st_blocks * 512 / page_size;
	uint64_t need = have < total ? total - have : 0;
	if (need == 0)
		return 0;

	uint64_t avail;
	if (hugetlb_available_pages(page_size, &avail) == 0 && avail < need)
		return ivshmem_fail(err, ENOMEM,
				    "%s needs %" PRIu64 " more huge pages of %" PRIu64 " kB, but only %"
				    PRIu64 " are free (raise /proc/sys/vm/nr_hugepages)",
				    what, need, page_size >> 10, avail);

	/* fallocate fails with ENOSPC where a page fault would raise SIGBUS. */
	if (fallocate(fd, 0, 0, (off_t)size) < 0)
		return ivshmem_fail(err, errno,
				    "allocating %" PRIu64 " huge pages of %" PRIu64 " kB for %s failed: "
				    "%s", need, page_size >> 10, what, strerror(errno));
	return 0;
}

static int hugetlbfs_dir(const struct ivshmem_region_opts *o, char *dir, size_t len,
			 uint64_t *page_size, struct ivshmem_error *err)
{
	struct statfs sfs;
	int ret;

	if (o->hugetlbfs_dir) {
		if (strlen(o->hugetlbfs_dir) >= len)
			return ivshmem_fail(err, ENAMETOOLONG, "hugetlbfs directory %s is too long",
					    o->hugetlbfs_dir);
		strcpy(dir, o->hugetlbfs_dir);
	} else {
		ret = hugetlbfs_find_mount(ivshmem_proc_mounts, dir, len, err);
		if (ret < 0)
			return ret;
	}
	if (statfs(dir, &sfs) < 0)
		return ivshmem_fail(err, errno, "hugetlbfs directory %s: %s", dir, strerror(errno));
	if (sfs.f_type != HUGETLBFS_MAGIC)
		return ivshmem_fail(err, EINVAL, "%s is not on a hugetlbfs mount", dir);
	if (sfs.f_bsize <= 0)
		return ivshmem_fail(err, EINVAL, "%s reports no huge page size", dir);
	*page_size = (uint64_t)sfs.f_bsize;
	return 0;
}

static int hugetlbfs_file_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags | O_CLOEXEC, mode);
}

/* Every huge page is allocated before the region is used: a short pool fails here, not as SIGBUS. */
static int hugetlbfs_file_ready(int fd, const struct ivshmem_region *r, struct ivshmem_error *err)
{
	return hugetlb_allocate(fd, r->size, r->page_size, r->path, err);
}

static const struct named_object_ops hugetlbfs_file_ops = {
	.open = hugetlbfs_file_open,
	.unlink = unlink,
	.ready = hugetlbfs_file_ready,
};

int region_open_hugetlbfs(struct ivshmem_region *r, const struct ivshmem_region_opts *o,
			  struct ivshmem_error *err)
{
	/* Room for "/NAME" after the directory inside r->path. */
	char dir[sizeof(r->path) - IVSHMEM_NAME_MAX - 1];
	uint64_t page_size = 0;
	int ret;

	ret = hugetlbfs_dir(o, dir, sizeof(dir), &page_size, err);
	if (ret < 0)
		return ret;
	if (o->size % page_size) {
		char size_s[64];
		return ivshmem_fail(err, EINVAL,
				    "region '%s': size %s is not a multiple of the huge page size %"
				    PRIu64 " kB of %s", o->name,
				    region_fmt_size(o->size, size_s, sizeof(size_s)), page_size >> 10, dir);
	}
	r->page_size = page_size;
	snprintf(r->path, sizeof(r->path), "%s/%s", dir, o->name);
	return region_create_or_open(r, r->path, &hugetlbfs_file_ops, err);
}

int ivshmem_hugetlbfs_default_dir(char *dir, size_t len, struct ivshmem_error *err)
{
	return hugetlbfs_find_mount(ivshmem_proc_mounts, dir, len, err);
}
