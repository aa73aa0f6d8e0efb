/* acrn-ivshmem-server's command line: defaults, every option, and clear refusals. */
#include <errno.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../tools/acrn-ivshmem-server/options.h"

#define ARGV(...) ((char *[]){ "acrn-ivshmem-server", __VA_ARGS__, NULL })
#define ARGC(argv) ((int)(g_strv_length(argv)))

static enum ivs_parse_result parse(char **argv, struct ivs_config *cfg, char **err)
{
	FILE *out = fopen("/dev/null", "w");
	enum ivs_parse_result r = ivs_parse_options(ARGC(argv), argv, cfg, err, out);
	fclose(out);
	return r;
}

static void test_defaults_are_qemus(void **state)
{
	(void)state;
	struct ivs_config cfg;
	char *err;
	char *argv[] = { "acrn-ivshmem-server", NULL };
	assert_int_equal(parse(argv, &cfg, &err), IVS_PARSE_OK);
	assert_string_equal(cfg.socket_path, "/tmp/ivshmem_socket");
	assert_string_equal(cfg.shm_name, "ivshmem");
	assert_int_equal(cfg.backend, IVSHMEM_BACKEND_SHM);
	assert_int_equal(cfg.size, 4 << 20);
	assert_int_equal(cfg.vectors, 1);
	assert_false(cfg.foreground);
	assert_null(cfg.pidfile);
	assert_int_equal(cfg.max_peers, IVS_DEFAULT_MAX_PEERS);
	assert_int_equal(cfg.max_pending, IVS_DEFAULT_MAX_PENDING);
	assert_false(cfg.has_group);
	assert_int_equal(cfg.n_allow_uids + cfg.n_allow_gids, 0);
	assert_false(cfg.exit_when_idle);
	assert_null(cfg.id_socket_path);
	assert_int_equal(cfg.id_reserve, IVS_DEFAULT_ID_RESERVE);
	ivs_config_clear(&cfg);
}

static void test_every_option(void **state)
{
	(void)state;
	struct ivs_config cfg;
	char *err;
	char **argv = ARGV("-S", "/run/x.sock", "-M", "shm_region_0", "-l", "2M", "-n", "64", "-F",
			   "-p", "/run/x.pid", "-v", "--max-peers", "3", "--group", "0",
			   "--allow-uid", "0,1000", "--allow-uid", "root", "--allow-gid", "5",
			   "--exit-when-idle", "--stall-timeout", "9", "--id-socket", "/run/x.id",
			   "--id-reserve", "30", "--max-pending", "5");
	assert_int_equal(parse(argv, &cfg, &err), IVS_PARSE_OK);
	assert_string_equal(cfg.socket_path, "/run/x.sock");
	assert_string_equal(cfg.shm_name, "shm_region_0");
	assert_int_equal(cfg.size, 2 << 20);
	assert_int_equal(cfg.vectors, 64);
	assert_true(cfg.foreground);
	assert_string_equal(cfg.pidfile, "/run/x.pid");
	assert_true(cfg.verbose);
	assert_int_equal(cfg.max_peers, 3);
	assert_true(cfg.has_group);
	assert_int_equal(cfg.group, 0);
	assert_int_equal(cfg.n_allow_uids, 3);
	assert_int_equal(cfg.allow_uids[1], 1000);
	assert_int_equal(cfg.allow_uids[2], 0);
	assert_int_equal(cfg.n_allow_gids, 1);
	assert_int_equal(cfg.allow_gids[0], 5);
	assert_true(cfg.exit_when_idle);
	assert_int_equal(cfg.stall_timeout, 9);
	assert_string_equal(cfg.id_socket_path, "/run/x.id");
	assert_int_equal(cfg.id_reserve, 30);
	assert_int_equal(cfg.max_pending, 5);
	ivs_config_clear(&cfg);

	argv = ARGV("-m", "/dev/hugepages", "-l", "1G");
	assert_int_equal(parse(argv, &cfg, &err), IVS_PARSE_OK);
	assert_int_equal(cfg.backend, IVSHMEM_BACKEND_HUGETLBFS);
	assert_string_equal(cfg.hugetlbfs_dir, "/dev/hugepages");
	assert_int_equal(cfg.size, 1ull << 30);
	ivs_config_clear(&cfg);

	argv = ARGV("--memfd", "--hugetlb");
	assert_int_equal(parse(argv, &cfg, &err), IVS_PARSE_OK);
	assert_int_equal(cfg.backend, IVSHMEM_BACKEND_MEMFD);
	assert_true(cfg.hugetlb);
	ivs_config_clear(&cfg);
}

static void test_sizes(void **state)
{
	(void)state;
	uint64_t b;
	assert_int_equal(ivs_parse_size("4194304", &b), 0);
	assert_int_equal(b, 4 << 20);
	assert_int_equal(ivs_parse_size("64k", &b), 0);
	assert_int_equal(b, 64 << 10);
	assert_int_equal(ivs_parse_size("4K", &b), 0);
	assert_int_equal(ivs_parse_size("512m", &b), 0);
	assert_int_equal(b, 512 << 20);
	assert_int_equal(ivs_parse_size("1024G", &b), 0);
	assert_int_equal(b, 1ull << 40);
	const char *syntax[] = { "", "M", "4MB", "4 M", " 4M", "-4M", "0x4M", "4T", "4.5M", "4MM" };
	for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
		if (ivs_parse_size(syntax[i], &b) != -EINVAL)
			fail_msg("'%s' should be a syntax error", syntax[i]);
	const char *range[] = { "3M", "0", "2K", "2048G", "99999999999999999999999G", "4097" };
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++)
		if (ivs_parse_size(range[i], &b) != -ERANGE)
			fail_msg("'%s' should be out of range", range[i]);
}

static void test_refusals_name_the_option(void **state)
{
	(void)state;
	struct {
		char **argv;
		const char *why;
	} bad[] = {
		{ ARGV("-n", "0"), "-n: '0'" },
		{ ARGV("-n", "65"), "-n: '65'" },
		{ ARGV("-n", "x"), "-n: 'x'" },
		{ ARGV("-l", "3M"), "power of two" },
		{ ARGV("-l", "4X"), "is not a size" },
		{ ARGV("-M", "../etc"), "-M: region name" },
		{ ARGV("-M", "a/b"), "-M: region name" },
		{ ARGV("--memfd", "-m", "/dev/hugepages"), "--memfd and -m" },
		{ ARGV("--memfd", "-M", "x"), "--memfd and -M" },
		{ ARGV("--hugetlb"), "--hugetlb only applies to --memfd" },
		{ ARGV("--max-peers", "0"), "--max-peers: '0'" },
		{ ARGV("--max-peers", "65537"), "--max-peers" },
		{ ARGV("--max-pending", "0"), "--max-pending: '0'" },
		{ ARGV("--max-pending", "1025"), "--max-pending: '1025'" },
		{ ARGV("--group", "no-such-group-ivt"), "--group: 'no-such-group-ivt'" },
		{ ARGV("--allow-uid", "no-such-user-ivt"), "--allow-uid: 'no-such-user-ivt'" },
		{ ARGV("--allow-gid", "1,,2"), "--allow-gid: ''" },
		{ ARGV("--stall-timeout", "0"), "--stall-timeout" },
		{ ARGV("-S", ""), "-S" },
		{ ARGV("-S", "/a", "--id-socket", "/a"), "--id-socket: '/a' must be a path other than -S" },
		{ ARGV("--id-reserve", "0"), "--id-reserve: '0'" },
		{ ARGV("--id-reserve", "86401"), "--id-reserve" },
		{ ARGV("--bogus"), "bogus" },
		{ ARGV("extra"), "unexpected argument 'extra'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ivs_config cfg;
		char *err = NULL;
		enum ivs_parse_result r = parse(bad[i].argv, &cfg, &err);
		if (r != IVS_PARSE_ERROR || !err || !strstr(err, bad[i].why))
			fail_msg("case %zu: result %d, message '%s', expected '%s'", i, r,
				 err ? err : "(none)", bad[i].why);
		g_free(err);
		assert_null(cfg.socket_path);	/* nothing half-filled is left to free */
	}
}

static void test_help_exits_cleanly(void **state)
{
	(void)state;
	struct ivs_config cfg;
	char *err = NULL;
	char buf[8192] = "";
	FILE *out = fmemopen(buf, sizeof(buf) - 1, "w");
	char **argv = ARGV("-h");
	assert_int_equal(ivs_parse_options(ARGC(argv), argv, &cfg, &err, out), IVS_PARSE_EXIT);
	fclose(out);
	assert_non_null(strstr(buf, "--exit-when-idle"));
	assert_non_null(strstr(buf, "-S, --socket"));
	assert_null(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_qemus),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_refusals_name_the_option),
		cmocka_unit_test(test_help_exits_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
