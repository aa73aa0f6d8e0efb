/* Pieces shared by the region backends, and the seams unit tests use. Not installed. */
#ifndef IVSHMEM_REGION_INTERNAL_H
#define IVSHMEM_REGION_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ivshmem_region.h"

/*
 * Test seams: where the backends look for mounts and huge page counters, and how long an opener
 * waits for the creator to size a named object. Tests point them elsewhere; nothing else writes them.
 */
extern const char *ivshmem_proc_mounts;		/* "/proc/mounts" */
extern const char *ivshmem_sysfs_hugepages;	/* "/sys/kernel/mm/hugepages" */
extern unsigned ivshmem_size_wait_ms;		/* 2000 */

int region_open_shm(struct ivshmem_region *r, const struct ivshmem_region_opts *o,
		    struct ivshmem_error *err) __attribute__((warn_unused_result));
int region_open_hugetlbfs(struct ivshmem_region *r, const struct ivshmem_region_opts *o,
			  struct ivshmem_error *err) __attribute__((warn_unused_result));
int region_open_memfd(struct ivshmem_region *r, const struct ivshmem_region_opts *o,
		      struct ivshmem_error *err) __attribute__((warn_unused_result));

/*
 * How a backend reaches its named objects: POSIX shm (shm_open/shm_unlink on "/NAME") or a file in
 * a hugetlbfs mount (open/unlink on DIR/NAME). ready, when set, runs on the fd of a created (and
 * sized) or opened object before it is accepted: hugetlbfs allocates its huge pages there.
 */
struct named_object_ops {
	int (*open)(const char *name, int flags, mode_t mode);
	int (*unlink)(const char *name);
	int (*ready)(int fd, const struct ivshmem_region *r, struct ivshmem_error *err);
};

/*
 * ACRN's contract for a named region: create it exclusively with mode 0600 and size it, or open the
 * existing one and insist on its size (region_check_existing_size). A creator that fails removes
 * what it created. Sets r->fd and r->created; r->path and r->size name and size the object.
 */
int region_create_or_open(struct ivshmem_region *r, const char *name,
			  const struct named_object_ops *ops, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

/*
 * For an opener of an existing named object: waits (at most ivshmem_size_wait_ms) while its size is
 * still 0, because the creator ftruncates it right after creating it; then the size must be want.
 */
int region_check_existing_size(int fd, uint64_t want, const char *what, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

/* First hugetlbfs mount point listed in mounts_file, into dir. -ENOENT when there is none. */
int hugetlbfs_find_mount(const char *mounts_file, char *dir, size_t len, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

/* Free, not reserved huge pages of page_size from sysfs. -ENOENT when the counters are missing. */
int hugetlb_available_pages(uint64_t page_size, uint64_t *avail) __attribute__((warn_unused_result));

/*
 * Makes sure every huge page of the hugetlb file fd is allocated, so touching the mapping can
 * never SIGBUS: counts the pages the file still lacks against the free pool (clear error), then
 * fallocate()s them (which fails with ENOSPC instead of faulting later).
 */
int hugetlb_allocate(int fd, uint64_t size, uint64_t page_size, const char *what,
		     struct ivshmem_error *err) __attribute__((warn_unused_result));

/* "2097152 bytes (2 MiB)" style, for messages naming sizes. */
const char *region_fmt_size(uint64_t bytes, char *buf, size_t len);

#endif
