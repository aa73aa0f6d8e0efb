/*
 * Huge page backings: a named file on hugetlbfs and hugetlb memfds. Needs root (it reserves a few
 * 2 MiB pages and mounts a private hugetlbfs); skipped otherwise. Everything reserved or mounted
 * is given back in the group teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivshmem_region.h"
#include "../../ivshmem/region_internal.h"

#define MiB (1ull << 20)
#define NR_PATH "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
#define EXTRA_PAGES 4

static char mnt[] = "/tmp/ivt-huge-XXXXXX";
static long old_nr = -1;
static bool mounted;
static const char *skip_why;

static long read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", v);
	return fclose(f);
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip_why = "needs root";
		return 0;
	}
	old_nr = read_long(NR_PATH);
	if (old_nr < 0 || write_long(NR_PATH, old_nr + EXTRA_PAGES) < 0) {
		skip_why = "cannot reserve 2 MiB huge pages";
		old_nr = -1;
		return 0;
	}
	if (read_long("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") < 2) {
		skip_why = "the kernel gave fewer than 2 free huge pages";
		return 0;
	}
	if (!mkdtemp(mnt)) {
		skip_why = "cannot create a mount point";
		return 0;
	}
	if (mount("none", mnt, "hugetlbfs", 0, "pagesize=2M") < 0) {
		skip_why = "cannot mount hugetlbfs";
		rmdir(mnt);
		return 0;
	}
	mounted = true;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (mounted) {
		umount(mnt);
		rmdir(mnt);
	}
	if (old_nr >= 0)
		write_long(NR_PATH, old_nr);
	return 0;
}

static void clean_files(void)
{
	char path[256];
	const char *names[] = { "a", "big", "odd", "fake" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", mnt, names[i]);
		unlink(path);
	}
}

static struct ivshmem_region_opts huge_opts(const char *name, uint64_t size)
{
	return (struct ivshmem_region_opts){
		.backend = IVSHMEM_BACKEND_HUGETLBFS, .name = name, .size = size,
		.hugetlbfs_dir = mnt,
	};
}

#define SKIP_UNLESS_READY() do { if (skip_why) { print_message("skip: %s\n", skip_why); skip(); } } while (0)

static void test_create_open_share(void **state)
{
	(void)state;
	SKIP_UNLESS_READY();
	struct ivshmem_region a, b;
	struct ivshmem_error err = { "" };
	struct ivshmem_region_opts o = huge_opts("a", 4 * MiB);

	assert_int_equal(ivshmem_region_open(&a, &o, &err), 0);
	assert_true(a.created);
	assert_int_equal(a.page_size, 2 * MiB);
	struct stat st;
	assert_int_equal(fstat(a.fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal((uint64_t)st.st_blocks * 512, 4 * MiB);	/* both pages allocated up front */
	strcpy((char *)a.addr + 3 * MiB, "huge");

	/* The opener needs no new pages, however few are free now. */
	assert_int_equal(ivshmem_region_open(&b, &o, &err), 0);
	assert_false(b.created);
	assert_string_equal((char *)b.addr + 3 * MiB, "huge");
	ivshmem_region_close(&b);

	o.size = 2 * MiB;
	assert_int_equal(ivshmem_region_open(&b, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "4194304 bytes (4 MiB)"));
	ivshmem_region_close(&a);

	/* Kept after close, like shm. */
	char path[256];
	snprintf(path, sizeof(path), "%s/a", mnt);
	assert_int_equal(access(path, F_OK), 0);
	clean_files();
}

static void test_size_not_multiple(void **state)
{
	(void)state;
	SKIP_UNLESS_READY();
	struct ivshmem_region r;
	struct ivshmem_error err = { "" };
	struct ivshmem_region_opts o = huge_opts("odd", 3 * MiB);
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a multiple of the huge page size 2048 kB"));
	o = huge_opts("odd", 1 * MiB);
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -EINVAL);
	clean_files();
}

static void test_too_few_pages(void **state)
{
	(void)state;
	SKIP_UNLESS_READY();
	struct ivshmem_region r;
	struct ivshmem_error err = { "" };
	long free_pages = read_long("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
	uint64_t size = (uint64_t)(free_pages + 8) * 2 * MiB;
	/* Round up to a power of two, as a real region would be. */
	uint64_t pow2 = 2 * MiB;
	while (pow2 < size)
		pow2 <<= 1;
	struct ivshmem_region_opts o = huge_opts("big", pow2);
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -ENOMEM);
	assert_non_null(strstr(err.msg, "more huge pages of 2048 kB"));
	assert_non_null(strstr(err.msg, "nr_hugepages"));
	/* The failed creator removed its file again. */
	char path[256];
	snprintf(path, sizeof(path), "%s/big", mnt);
	assert_int_equal(access(path, F_OK), -1);
}

/* Counters that lie (another process raced us): fallocate still fails cleanly, no SIGBUS. */
static void test_fallocate_guards_against_races(void **state)
{
	(void)state;
	SKIP_UNLESS_READY();
	char fake[] = "/tmp/ivt-sysfs-XXXXXX";
	char path[256];
	assert_non_null(mkdtemp(fake));
	snprintf(path, sizeof(path), "%s/hugepages-2048kB", fake);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/hugepages-2048kB/free_hugepages", fake);
	assert_int_equal(write_long(path, 1000000), 0);

	const char *saved = ivshmem_sysfs_hugepages;
	ivshmem_sysfs_hugepages = fake;
	struct ivshmem_region r;
	struct ivshmem_error err = { "" };
	struct ivshmem_region_opts o = huge_opts("fake", 1024 * MiB);
	int ret = ivshmem_region_open(&r, &o, &err);
	ivshmem_sysfs_hugepages = saved;
	assert_true(ret == -ENOSPC || ret == -ENOMEM);
	assert_non_null(strstr(err.msg, "allocating"));

	unlink(path);
	snprintf(path, sizeof(path), "%s/hugepages-2048kB", fake);
	rmdir(path);
	rmdir(fake);
	clean_files();
}

static void test_first_mount_is_found(void **state)
{
	(void)state;
	SKIP_UNLESS_READY();
	char mounts[] = "/tmp/ivt-mounts-XXXXXX";
	int fd = mkstemp(mounts);
	assert_true(fd >= 0);
	dprintf(fd, "tmpfs /dev/shm tmpfs rw 0 0\nnone %s hugetlbfs rw 0 0\n", mnt);
	close(fd);

	const char *saved = ivshmem_proc_mounts;
	ivshmem_proc_mounts = mounts;
	struct ivshmem_region r;
	struct ivshmem_error err = { "" };
	struct ivshmem_region_opts o = huge_opts("a", 2 * MiB);
	o.hugetlbfs_dir = NULL;
	int ret = ivshmem_region_open(&r, &o, &err);
	ivshmem_proc_mounts = saved;
	unlink(mounts);
	assert_int_equal(ret, 0);
	char want[256];
	snprintf(want, sizeof(want), "%s/a", mnt);
	assert_string_equal(r.path, want);
	ivshmem_region_close(&r);
	clean_files();
}

static void test_memfd_hugetlb(void **state)
{
	(void)state;
	SKIP_UNLESS_READY();
	struct ivshmem_region r;
	struct ivshmem_error err = { "" };
	struct ivshmem_region_opts o = {
		.backend = IVSHMEM_BACKEND_MEMFD, .name = "hm", .size = 2 * MiB, .memfd_hugetlb = true,
	};
	assert_int_equal(ivshmem_region_open(&r, &o, &err), 0);
	assert_int_equal(r.page_size, 2 * MiB);
	memset(r.addr, 0x5a, 2 * MiB);
	ivshmem_region_close(&r);

	o.size = 3 * MiB;
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a multiple"));
	o.size = 4096 * MiB;
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -ENOMEM);
	assert_non_null(strstr(err.msg, "huge pages"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_open_share),
		cmocka_unit_test(test_size_not_multiple),
		cmocka_unit_test(test_too_few_pages),
		cmocka_unit_test(test_fallocate_guards_against_races),
		cmocka_unit_test(test_first_mount_is_found),
		cmocka_unit_test(test_memfd_hugetlb),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
