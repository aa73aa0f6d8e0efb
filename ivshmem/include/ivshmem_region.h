/*
 * Shared memory regions behind an ivshmem device: POSIX shm (the ACRN dm:/NAME contract),
 * a named file on hugetlbfs, an anonymous memfd, or an fd received from an ivshmem server.
 * Used by acrn-dm's ivshmem device and by acrn-ivshmem-server; depends on nothing else.
 *
 * Named regions (shm, hugetlbfs) follow ACRN: create with O_EXCL; on EEXIST open the existing
 * object and refuse it when its size differs; only the creator sizes it; nobody ever unlinks it
 * on close, so a rebooted VM finds its data again.
 */
#ifndef IVSHMEM_REGION_H
#define IVSHMEM_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ivshmem_error.h"

/* ACRN: 27 characters + "hv:/" + NUL fill the hypervisor's 32-byte name. */
#define IVSHMEM_NAME_MAX 27
/* ACRN accepts 2..512 MB; callers may pass a bigger maximum to ivshmem_parse_size_mb. */
#define IVSHMEM_SIZE_MB_MIN 2u
#define IVSHMEM_SIZE_MB_MAX_DEFAULT 512u
/* The region id becomes the 16-bit PCI subsystem ID. */
#define IVSHMEM_REGION_ID_MAX 0xFFFFu

enum ivshmem_backend {
	IVSHMEM_BACKEND_SHM,		/* shm_open("/NAME"): /dev/shm/NAME on glibc */
	IVSHMEM_BACKEND_HUGETLBFS,	/* DIR/NAME on a hugetlbfs mount */
	IVSHMEM_BACKEND_MEMFD,		/* memfd_create: anonymous, shared only by passing the fd */
	IVSHMEM_BACKEND_ADOPTED,	/* an fd received from an ivshmem server */
};

struct ivshmem_region {
	char name[IVSHMEM_NAME_MAX + 1];	/* "" for adopted regions */
	char path[256];			/* for messages: /dev/shm/NAME, DIR/NAME, memfd:NAME, fd */
	enum ivshmem_backend backend;
	uint64_t size;			/* bytes */
	int fd;				/* -1 when closed */
	void *addr;			/* MAP_SHARED read/write mapping of [0, size), NULL if unmapped */
	bool created;			/* this process created (and sized) the object */
	uint64_t page_size;		/* huge page size for hugetlb backings, else the base page size */
	bool is_open;			/* set by open/adopt, so a zeroed struct is never "fd 0" */
};

struct ivshmem_region_opts {
	enum ivshmem_backend backend;	/* SHM, HUGETLBFS or MEMFD (ADOPTED: ivshmem_region_adopt) */
	const char *name;		/* validated by ivshmem_name_check (memfd: label only) */
	uint64_t size;			/* bytes, > 0; hugetlb: a multiple of the huge page size */
	const char *hugetlbfs_dir;	/* HUGETLBFS: mount point; NULL = first hugetlbfs in /proc/mounts */
	bool memfd_hugetlb;		/* MEMFD: back it with huge pages (MFD_HUGETLB) */
	bool no_map;			/* open and size only (a server hands out the fd, never touches it) */
};

/*
 * 1..27 of [A-Za-z0-9_.-], not starting with '.'. With the rule broken in err: -ENODATA (empty or
 * NULL), -ENAMETOOLONG, -EINVAL (a character, or the leading '.').
 */
int ivshmem_name_check(const char *name, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

/*
 * ACRN's size argument: decimal MB, a power of two in [2, max_mb] (max_mb 0 = 512), nothing else
 * (no sign, spaces, suffix, hex). *bytes = MB << 20. -EINVAL (syntax) / -ERANGE (value).
 */
int ivshmem_parse_size_mb(const char *text, unsigned max_mb, uint64_t *bytes,
			  struct ivshmem_error *err) __attribute__((warn_unused_result));

/*
 * ACRN's region id: decimal or 0x-hex (either case), 0..0xFFFF, the whole text and nothing else
 * (no sign, spaces, empty digits). -EINVAL (syntax) / -ERANGE (value); *id untouched on failure.
 */
int ivshmem_parse_region_id(const char *text, uint16_t *id, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

/*
 * Creates or opens the region described by opts and maps it (unless opts->no_map). On failure
 * r is left closed (fd -1) and an object this call created is removed again.
 */
int ivshmem_region_open(struct ivshmem_region *r, const struct ivshmem_region_opts *opts,
			struct ivshmem_error *err) __attribute__((warn_unused_result));

/*
 * Wraps an fd received from a server: fstat gives the size, which must equal expected_size
 * unless that is 0; then maps it. Takes ownership of fd in every case (closed on failure).
 */
int ivshmem_region_adopt(struct ivshmem_region *r, int fd, uint64_t expected_size,
			 struct ivshmem_error *err) __attribute__((warn_unused_result));

/* Maps a region opened with no_map. No-op when already mapped. */
int ivshmem_region_map(struct ivshmem_region *r, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

/* Unmaps and closes; never unlinks. Safe on a zeroed, closed or half-opened region. */
void ivshmem_region_close(struct ivshmem_region *r);
/*
 * For a start-up that failed after the region was opened: closes it and, only if this process
 * created the named object (r->created), removes it again. An existing region is never removed.
 */
void ivshmem_region_discard(struct ivshmem_region *r);

const char *ivshmem_backend_name(enum ivshmem_backend backend);

/* The first hugetlbfs mount point (what a region with no hugetlbfs_dir uses). -ENOENT if none. */
int ivshmem_hugetlbfs_default_dir(char *dir, size_t len, struct ivshmem_error *err)
	__attribute__((warn_unused_result));

#endif
