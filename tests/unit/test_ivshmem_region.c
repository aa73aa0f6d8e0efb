/* Region backends that need no privileges: POSIX shm (the ACRN contract), memfd, adopt. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivshmem_region.h"
#include "../../ivshmem/region_internal.h"
#include "test_fd_util.h"

#define MiB (1ull << 20)

static char shm_name[64];	/* unique per test, removed by teardown */


static int setup(void **state)
{
	static unsigned seq;
	(void)state;
	snprintf(shm_name, sizeof(shm_name), "ivt-region-%d-%u", (int)getpid(), seq++);
	ivshmem_size_wait_ms = 2000;
	return 0;
}

static int teardown(void **state)
{
	char path[80];
	(void)state;
	snprintf(path, sizeof(path), "/%s", shm_name);
	shm_unlink(path);
	return 0;
}

static struct ivshmem_region_opts shm_opts(uint64_t size)
{
	return (struct ivshmem_region_opts){
		.backend = IVSHMEM_BACKEND_SHM, .name = shm_name, .size = size,
	};
}

static void test_shm_create_then_open_shares(void **state)
{
	(void)state;
	struct ivshmem_region a, b;
	struct ivshmem_region_opts o = shm_opts(2 * MiB);
	struct ivshmem_error err = { "" };
	unsigned fds = count_fds();

	assert_int_equal(ivshmem_region_open(&a, &o, &err), 0);
	assert_true(a.created);
	assert_int_equal(a.size, 2 * MiB);
	assert_non_null(a.addr);
	assert_string_equal(a.name, shm_name);

	/* The object is /dev/shm/NAME, mode 0600, as ACRN creates it. */
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "/dev/shm/%s", shm_name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 2 * MiB);
	assert_string_equal(a.path, path);

	assert_int_equal(ivshmem_region_open(&b, &o, &err), 0);
	assert_false(b.created);
	memcpy((char *)a.addr + MiB, "hello", 6);
	assert_string_equal((char *)b.addr + MiB, "hello");

	ivshmem_region_close(&a);
	ivshmem_region_close(&b);
	assert_int_equal(count_fds(), fds);
	assert_int_equal(a.fd, -1);

	/* Never unlinked: a rebooted VM finds its data again. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(ivshmem_region_open(&a, &o, &err), 0);
	assert_false(a.created);
	assert_string_equal((char *)a.addr + MiB, "hello");
	ivshmem_region_close(&a);
	ivshmem_region_close(&a);	/* twice is harmless */
}

static void test_shm_size_mismatch_names_both(void **state)
{
	(void)state;
	struct ivshmem_region a, b;
	struct ivshmem_region_opts o = shm_opts(4 * MiB);
	struct ivshmem_error err = { "" };

	assert_int_equal(ivshmem_region_open(&a, &o, &err), 0);
	unsigned fds = count_fds();
	o.size = 2 * MiB;
	assert_int_equal(ivshmem_region_open(&b, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "4194304 bytes (4 MiB)"));
	assert_non_null(strstr(err.msg, "2097152 bytes (2 MiB)"));
	assert_int_equal(b.fd, -1);
	assert_false(b.is_open);
	assert_int_equal(count_fds(), fds);
	ivshmem_region_close(&b);	/* a failed open leaves nothing to close */
	ivshmem_region_close(&a);
}

struct late_sizer {
	char name[80];
	uint64_t size;
	unsigned delay_ms;
};

static void *size_later(void *arg)
{
	struct late_sizer *ls = arg;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ls->delay_ms * 1000000L };
	nanosleep(&ts, NULL);
	int fd = shm_open(ls->name, O_RDWR, 0);
	if (fd >= 0) {
		if (ftruncate(fd, (off_t)ls->size) < 0)
			perror("ftruncate");
		close(fd);
	}
	return NULL;
}

/* Two VMs starting at once: the opener sees size 0 until the creator's ftruncate. */
static void test_shm_opener_waits_for_creator(void **state)
{
	(void)state;
	struct late_sizer ls = { .size = 2 * MiB, .delay_ms = 100 };
	snprintf(ls.name, sizeof(ls.name), "/%s", shm_name);
	int fd = shm_open(ls.name, O_CREAT | O_EXCL | O_RDWR, 0600);	/* a creator, not sized yet */
	assert_true(fd >= 0);

	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, size_later, &ls), 0);
	struct ivshmem_region r;
	struct ivshmem_region_opts o = shm_opts(2 * MiB);
	struct ivshmem_error err = { "" };
	int ret = ivshmem_region_open(&r, &o, &err);
	pthread_join(t, NULL);
	assert_int_equal(ret, 0);
	assert_false(r.created);
	assert_int_equal(r.size, 2 * MiB);
	ivshmem_region_close(&r);
	close(fd);
}

/* A creator that never sizes it: a bounded wait, then a clear error (no hang). */
static void test_shm_never_sized_times_out(void **state)
{
	(void)state;
	char name[80];
	snprintf(name, sizeof(name), "/%s", shm_name);
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	assert_true(fd >= 0);
	ivshmem_size_wait_ms = 50;

	struct ivshmem_region r;
	struct ivshmem_region_opts o = shm_opts(2 * MiB);
	struct ivshmem_error err = { "" };
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -EAGAIN);
	assert_non_null(strstr(err.msg, "size 0"));
	close(fd);
}

static void test_shm_bad_name_and_size(void **state)
{
	(void)state;
	struct ivshmem_region r;
	struct ivshmem_error err = { "" };
	struct ivshmem_region_opts o = shm_opts(2 * MiB);
	o.name = "../x";
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "must not start with '.'"));
	o = shm_opts(0);
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -EINVAL);
	o = shm_opts(2 * MiB);
	o.backend = IVSHMEM_BACKEND_ADOPTED;
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -EINVAL);
}

static void test_shm_no_map(void **state)
{
	(void)state;
	struct ivshmem_region r;
	struct ivshmem_region_opts o = shm_opts(2 * MiB);
	o.no_map = true;
	assert_int_equal(ivshmem_region_open(&r, &o, NULL), 0);
	assert_null(r.addr);
	assert_true(r.fd >= 0);
	assert_int_equal(ivshmem_region_map(&r, NULL), 0);
	assert_non_null(r.addr);
	assert_int_equal(ivshmem_region_map(&r, NULL), 0);	/* idempotent */
	ivshmem_region_close(&r);
}

/* A failed start-up removes the region only if it created it. */
static void test_shm_discard_removes_only_what_it_created(void **state)
{
	(void)state;
	char path[96];
	struct stat st;
	snprintf(path, sizeof(path), "/dev/shm/%s", shm_name);
	struct ivshmem_region r, other;
	struct ivshmem_region_opts o = shm_opts(2 * MiB);
	assert_int_equal(ivshmem_region_open(&r, &o, NULL), 0);
	assert_true(r.created);
	ivshmem_region_discard(&r);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(r.fd, -1);

	assert_int_equal(ivshmem_region_open(&r, &o, NULL), 0);
	assert_int_equal(ivshmem_region_open(&other, &o, NULL), 0);
	assert_false(other.created);
	ivshmem_region_discard(&other);		/* someone else's: stays */
	assert_int_equal(stat(path, &st), 0);
	ivshmem_region_close(&r);		/* closing never removes */
	assert_int_equal(stat(path, &st), 0);
	struct ivshmem_region zero = { 0 };
	ivshmem_region_discard(&zero);		/* never opened: nothing to do */
}

static void test_memfd_and_adopt(void **state)
{
	(void)state;
	struct ivshmem_region m, a, b;
	struct ivshmem_region_opts o = {
		.backend = IVSHMEM_BACKEND_MEMFD, .name = "anon", .size = 4 * MiB,
	};
	struct ivshmem_error err = { "" };
	unsigned fds = count_fds();

	assert_int_equal(ivshmem_region_open(&m, &o, &err), 0);
	assert_true(m.created);
	assert_string_equal(m.path, "memfd:anon");
	/* Sealed: nobody holding the fd can shrink it under the others' mappings. */
	assert_int_equal(ftruncate(m.fd, 4096), -1);
	assert_int_equal(errno, EPERM);

	/* As a client adopts the fd a server passed: same memory. */
	int dupfd = dup(m.fd);
	assert_int_equal(ivshmem_region_adopt(&a, dupfd, 4 * MiB, &err), 0);
	assert_int_equal(a.backend, IVSHMEM_BACKEND_ADOPTED);
	assert_int_equal(a.size, 4 * MiB);
	strcpy((char *)m.addr + 100, "shared");
	assert_string_equal((char *)a.addr + 100, "shared");
	ivshmem_region_close(&a);

	/* Any size is fine when none is expected; a wrong expectation is refused and fd closed. */
	assert_int_equal(ivshmem_region_adopt(&a, dup(m.fd), 0, &err), 0);
	ivshmem_region_close(&a);
	assert_int_equal(ivshmem_region_adopt(&b, dup(m.fd), 2 * MiB, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "4194304 bytes (4 MiB)"));
	assert_non_null(strstr(err.msg, "expected 2097152 bytes (2 MiB)"));
	ivshmem_region_close(&m);
	assert_int_equal(count_fds(), fds);
}

static void test_adopt_refuses_bad_fds(void **state)
{
	(void)state;
	struct ivshmem_region r;
	struct ivshmem_error err = { "" };
	unsigned fds = count_fds();
	int p[2];

	assert_int_equal(ivshmem_region_adopt(&r, -1, 0, &err), -EBADF);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ivshmem_region_adopt(&r, p[0], 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	close(p[1]);
	int fd = memfd_create("empty", MFD_CLOEXEC);
	assert_int_equal(ivshmem_region_adopt(&r, fd, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "size 0"));
	/* A size the page size does not divide cannot be mapped whole. */
	fd = memfd_create("odd", MFD_CLOEXEC);
	assert_int_equal(ftruncate(fd, 1000), 0);
	assert_int_equal(ivshmem_region_adopt(&r, fd, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a multiple"));
	assert_int_equal(count_fds(), fds);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_hugetlbfs_mount_lookup(void **state)
{
	(void)state;
	char path[] = "/tmp/ivt-mounts-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char dir[256];
	struct ivshmem_error err = { "" };

	write_file(path, "proc /proc proc rw 0 0\ntmpfs /dev/shm tmpfs rw 0 0\n");
	assert_int_equal(hugetlbfs_find_mount(path, dir, sizeof(dir), &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no hugetlbfs mount"));

	write_file(path, "tmpfs /dev/shm tmpfs rw 0 0\n"
			 "none /mnt/huge\\040pages hugetlbfs rw,pagesize=2M 0 0\n"
			 "none /dev/hugepages hugetlbfs rw 0 0\n");
	assert_int_equal(hugetlbfs_find_mount(path, dir, sizeof(dir), &err), 0);
	assert_string_equal(dir, "/mnt/huge pages");
	assert_int_equal(hugetlbfs_find_mount(path, dir, 8, &err), -ENAMETOOLONG);
	unlink(path);
	assert_int_equal(hugetlbfs_find_mount(path, dir, sizeof(dir), &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot read"));
}

static void test_hugetlbfs_refuses_other_dirs(void **state)
{
	(void)state;
	struct ivshmem_region r;
	struct ivshmem_error err = { "" };
	struct ivshmem_region_opts o = {
		.backend = IVSHMEM_BACKEND_HUGETLBFS, .name = shm_name, .size = 2 * MiB,
		.hugetlbfs_dir = "/tmp",
	};
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "/tmp is not on a hugetlbfs mount"));
	o.hugetlbfs_dir = "/nonexistent-ivt";
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent-ivt"));

	/* No directory given and no mount listed: a clear error, not a guess. */
	char path[] = "/tmp/ivt-mounts-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	const char *saved = ivshmem_proc_mounts;
	ivshmem_proc_mounts = path;
	o.hugetlbfs_dir = NULL;
	assert_int_equal(ivshmem_region_open(&r, &o, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no hugetlbfs mount"));
	ivshmem_proc_mounts = saved;
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shm_create_then_open_shares, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shm_size_mismatch_names_both, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shm_opener_waits_for_creator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shm_never_sized_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shm_bad_name_and_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shm_no_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shm_discard_removes_only_what_it_created, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_memfd_and_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_refuses_bad_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hugetlbfs_mount_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hugetlbfs_refuses_other_dirs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
