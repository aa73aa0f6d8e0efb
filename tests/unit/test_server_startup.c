/*
 * A server start that fails leaves nothing behind (issue 13, point 6): the sockets are bound
 * before the region is created, and a failure after that removes a region this start created,
 * never one that was there before.
 */
#include <fcntl.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "../../tools/acrn-ivshmem-server/startup.h"

static char dir[64], name[64], shm_path[96], sock[128];

static int setup(void **state)
{
	static unsigned seq;
	(void)state;
	strcpy(dir, "/tmp/ivt-start-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(name, sizeof(name), "ivt_start_%d_%u", (int)getpid(), seq++);
	snprintf(shm_path, sizeof(shm_path), "/dev/shm/%s", name);
	snprintf(sock, sizeof(sock), "%s/s", dir);
	log_set_level(LOG_ERR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(shm_path);
	unlink(sock);
	rmdir(dir);
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Parses a command line as main() does. */
static struct ivs_config config(const char *socket_path, const char *size, const char *id_socket)
{
	struct ivs_config cfg;
	char *err = NULL;
	char *argv[16] = { "acrn-ivshmem-server", "-S", (char *)socket_path, "-M", name, "-l",
			   (char *)size };
	int argc = 7;
	if (id_socket) {
		argv[argc++] = "--id-socket";
		argv[argc++] = (char *)id_socket;
	}
	FILE *out = fopen("/dev/null", "w");
	assert_int_equal(ivs_parse_options(argc, argv, &cfg, &err, out), IVS_PARSE_OK);
	fclose(out);
	return cfg;
}

static void test_socket_path_too_long_creates_no_region(void **state)
{
	(void)state;
	char long_path[300];
	snprintf(long_path, sizeof(long_path), "%s/%0200d", dir, 0);
	struct ivs_config cfg = config(long_path, "2M", NULL);
	struct ivs_resources res;
	char *err = NULL;
	assert_true(ivs_resources_open(&cfg, &res, &err) < 0);
	assert_non_null(strstr(err, "-S: socket path"));
	assert_false(exists(shm_path));
	g_free(err);
	ivs_config_clear(&cfg);
}

static void test_id_socket_failure_leaves_nothing(void **state)
{
	(void)state;
	char long_path[300];
	snprintf(long_path, sizeof(long_path), "%s/%0200d", dir, 0);
	struct ivs_config cfg = config(sock, "2M", long_path);
	struct ivs_resources res;
	char *err = NULL;
	assert_true(ivs_resources_open(&cfg, &res, &err) < 0);
	assert_non_null(strstr(err, "--id-socket: socket path"));
	assert_false(exists(shm_path));
	assert_false(exists(sock));
	g_free(err);
	ivs_config_clear(&cfg);
}

/* The region fails (an existing one of another size): the sockets bound before it go. */
static void test_region_failure_removes_sockets_keeps_existing_region(void **state)
{
	(void)state;
	int fd = open(shm_path, O_CREAT | O_EXCL | O_RDWR, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 << 20), 0);
	close(fd);
	char id_sock[160];
	snprintf(id_sock, sizeof(id_sock), "%s.id", sock);
	struct ivs_config cfg = config(sock, "2M", id_sock);
	struct ivs_resources res;
	char *err = NULL;
	assert_true(ivs_resources_open(&cfg, &res, &err) < 0);
	assert_non_null(strstr(err, "exists with size"));
	assert_false(exists(sock));
	assert_false(exists(id_sock));
	assert_true(exists(shm_path));	/* not ours: never removed */
	g_free(err);
	ivs_config_clear(&cfg);
}

/* A later step fails (the pidfile): what this start created goes, the region included. */
static void test_abort_after_start_removes_created_region(void **state)
{
	(void)state;
	struct ivs_config cfg = config(sock, "2M", NULL);
	g_free(cfg.pidfile);
	cfg.pidfile = g_strdup_printf("%s/no/such/dir/pid", dir);
	struct ivs_resources res;
	char *err = NULL;
	assert_int_equal(ivs_resources_open(&cfg, &res, &err), 0);
	assert_true(exists(sock) && exists(shm_path));
	assert_true(ivs_resources_write_pidfile(&res, &err) < 0);
	assert_non_null(strstr(err, "pidfile"));
	ivs_resources_abort(&res);
	assert_false(exists(sock));
	assert_false(exists(shm_path));
	g_free(err);
	ivs_config_clear(&cfg);
}

/* The same failure with a region that was there before: it stays. */
static void test_abort_keeps_existing_region(void **state)
{
	(void)state;
	struct ivs_config cfg = config(sock, "2M", NULL);
	struct ivs_resources res;
	char *err = NULL;
	assert_int_equal(ivs_resources_open(&cfg, &res, &err), 0);
	ivs_resources_close(&res);		/* a clean run: the region stays */
	assert_false(exists(sock));
	assert_true(exists(shm_path));
	assert_int_equal(ivs_resources_open(&cfg, &res, &err), 0);
	assert_false(res.region.created);
	ivs_resources_abort(&res);
	assert_false(exists(sock));
	assert_true(exists(shm_path));
	ivs_config_clear(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_path_too_long_creates_no_region, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_id_socket_failure_leaves_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_region_failure_removes_sockets_keeps_existing_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_after_start_removes_created_region, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_abort_keeps_existing_region, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
