/*
 * ACRN's --logger_setting: the syntax, the console's level and debug domains, the kernel log
 * sink and the disk sink with ACRN's file names, separator and rotation.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/acrn-log-test.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_close_sinks();
	log_set_level(LOG_INFO);
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[384];
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	return 0;
}

/* A whole file into a malloc'd string. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *capture(void (*fn)(void))
{
	static char buf[4096];
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	size_t n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static void log_all_levels(void)
{
	pr_err("dev", "broken");
	pr_warn("dev", "odd");
	pr_info("dev", "fine");
	pr_dbg("dev", "detail");
	pr_dbg("kvm", "vcpu detail");
}

static struct log_settings parse_ok(const char *text)
{
	struct log_settings s;
	char why[160];
	if (log_parse_settings(text, &s, why, sizeof(why)) != 0)
		fail_msg("'%s' refused: %s", text, why);
	return s;
}

static void test_parse(void **state)
{
	(void)state;
	struct log_settings s = parse_ok("console,level=4;kmsg,level=3;disk,level=5");
	assert_true(s.named[LOG_SINK_CONSOLE] && s.named[LOG_SINK_KMSG] && s.named[LOG_SINK_DISK]);
	assert_int_equal(s.level[LOG_SINK_CONSOLE], 4);
	assert_int_equal(s.level[LOG_SINK_KMSG], 3);
	assert_int_equal(s.level[LOG_SINK_DISK], 5);

	s = parse_ok("disk,level=0");
	assert_false(s.named[LOG_SINK_CONSOLE]);
	assert_true(s.named[LOG_SINK_DISK]);
	assert_int_equal(s.level[LOG_SINK_DISK], 0);

	s = parse_ok("console,level=5;debug_domains=kvm,uart");
	assert_int_equal(s.ndomains, 2);
	assert_string_equal(s.domains[1], "uart");
	s = parse_ok("debug_domains=all");
	assert_true(s.debug_all);

	const struct { const char *text, *expect; } bad[] = {
		{ "", "empty" },
		{ "console", "expected console,level=N" },
		{ "kmsg,level=9", "kmsg: level '9' is not 0 to 5" },
		{ "disk,level=-1", "disk: level '-1'" },
		{ "syslog,level=3", "'syslog' is not a log sink" },
		{ "console,level=4;;disk,level=5", "an empty part" },
		{ "disk,level=5;disk,level=5", "disk is set twice" },
		{ "debug_domains=a,b,c,d,e,f,g,h,i", "more than 8 domains" },
		{ "debug_domains=averyveryverylongname", "is not a log prefix" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char why[160] = "";
		if (log_parse_settings(bad[i].text, &s, why, sizeof(why)) == 0 ||
		    !strstr(why, bad[i].expect))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].text, why, bad[i].expect);
	}
}

static void test_console_level_and_domains(void **state)
{
	(void)state;
	struct log_settings s = parse_ok("console,level=2");
	assert_int_equal(log_apply_settings(&s, "vm1", NULL, NULL), 0);
	assert_string_equal(capture(log_all_levels), "dev: error: broken\ndev: warning: odd\n");
	assert_int_equal(log_get_level(), LOG_WARN);

	/* Debug lines only from the named domains; other levels are not filtered. */
	s = parse_ok("console,level=5;debug_domains=kvm");
	assert_int_equal(log_apply_settings(&s, "vm1", NULL, NULL), 0);
	assert_string_equal(capture(log_all_levels), "dev: error: broken\ndev: warning: odd\n"
						      "dev: info: fine\nkvm: debug: vcpu detail\n");
	s = parse_ok("console,level=0;debug_domains=all");
	assert_int_equal(log_apply_settings(&s, "vm1", NULL, NULL), 0);
	assert_string_equal(capture(log_all_levels), "");
}

static char missing_kmsg[128];
static int apply_failures;

static void apply_missing_kmsg(void)
{
	struct log_settings s = parse_ok("console,level=2;kmsg,level=3");
	apply_failures = log_apply_settings(&s, "vm1", missing_kmsg, tmpdir);
}

static void test_kmsg(void **state)
{
	(void)state;
	char kmsg[128];
	snprintf(kmsg, sizeof(kmsg), "%s/kmsg", tmpdir);
	close(open(kmsg, O_WRONLY | O_CREAT, 0600));
	struct log_settings s = parse_ok("console,level=0;kmsg,level=3");
	assert_int_equal(log_apply_settings(&s, "vm1", kmsg, tmpdir), 0);
	log_all_levels();
	log_close_sinks();
	char *text = slurp(kmsg);
	/* One record per message, with its syslog priority and ACRN's tag. */
	assert_string_equal(text, "<3>acrn_dm: vm1: dev: error: broken\n"
				  "<4>acrn_dm: vm1: dev: warning: odd\n");
	free(text);

	/* A kernel log that cannot be opened is reported, and the rest goes on. */
	snprintf(missing_kmsg, sizeof(missing_kmsg), "%s/no/such/kmsg", tmpdir);
	const char *out = capture(apply_missing_kmsg);
	assert_int_equal(apply_failures, 1);
	assert_non_null(strstr(out, "log: warning: --logger_setting kmsg: "));
	assert_non_null(strstr(out, "No such file or directory; the kernel log gets nothing"));
	assert_string_equal(capture(log_all_levels), "dev: error: broken\ndev: warning: odd\n");
}

static void count_files(const char *prefix, unsigned *n, unsigned *lowest, unsigned *highest)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	*n = 0;
	*lowest = 999;
	*highest = 0;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		unsigned v = (unsigned)atoi(e->d_name + strlen(prefix));
		(*n)++;
		if (v < *lowest)
			*lowest = v;
		if (v > *highest)
			*highest = v;
	}
	closedir(d);
}

static void test_disk(void **state)
{
	(void)state;
	char path[160];
	struct log_settings s = parse_ok("console,level=0;disk,level=4");
	assert_int_equal(log_apply_settings(&s, "vm1", NULL, tmpdir), 0);
	log_all_levels();
	log_close_sinks();
	/* A second instance of the VM appends to the same file after a new separator. */
	assert_int_equal(log_apply_settings(&s, "vm1", NULL, tmpdir), 0);
	pr_info("dev", "second run");
	log_close_sinks();

	snprintf(path, sizeof(path), "%s/vm1_log_0", tmpdir);
	char *text = slurp(path);
	assert_non_null(text);
	const char *sep = "----------------new vm instance------------------";
	const char *first = strstr(text, sep);
	assert_non_null(first);
	assert_non_null(strstr(first + 1, sep));
	assert_non_null(strstr(text, "] dev: error: broken\n"));
	assert_non_null(strstr(text, "] dev: info: fine\n"));
	assert_null(strstr(text, "detail"));
	assert_non_null(strstr(text, "] dev: info: second run\n"));
	/* Each line starts with the monotonic time, "[    s.us] ". */
	const char *line = strstr(text, "\n[");
	assert_non_null(line);
	assert_non_null(strchr(line, '.'));
	free(text);

	/* The newest existing file is continued; after 2 MiB the next one starts. */
	for (unsigned i = 1; i <= 7; i++) {
		snprintf(path, sizeof(path), "%s/vm1_log_%u", tmpdir, i);
		close(open(path, O_WRONLY | O_CREAT, 0644));
	}
	snprintf(path, sizeof(path), "%s/other_log_9", tmpdir);	/* another VM's: untouched */
	close(open(path, O_WRONLY | O_CREAT, 0644));
	assert_int_equal(log_apply_settings(&s, "vm1", NULL, tmpdir), 0);
	char line_text[200];
	memset(line_text, 'x', sizeof(line_text) - 1);
	line_text[sizeof(line_text) - 1] = '\0';
	for (unsigned i = 0; i < (LOG_DISK_FILE_LIMIT / 180) + 10; i++)
		pr_info("dev", "%s", line_text);
	log_close_sinks();
	unsigned n, lowest, highest;
	count_files("vm1_log_", &n, &lowest, &highest);
	/* 0..7 existed; 7 filled up, 8 started and 0 (eight back) was removed. */
	assert_int_equal(n, LOG_DISK_FILES);
	assert_int_equal(lowest, 1);
	assert_int_equal(highest, 8);
	snprintf(path, sizeof(path), "%s/vm1_log_7", tmpdir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > (off_t)LOG_DISK_FILE_LIMIT);
	count_files("other_log_", &n, &lowest, &highest);
	assert_int_equal(n, 1);

	/* A directory that cannot be made is reported; the console goes on. */
	snprintf(path, sizeof(path), "%s/vm1_log_1/sub", tmpdir);
	s = parse_ok("console,level=1;disk,level=4");
	static char bad_dir[160];
	snprintf(bad_dir, sizeof(bad_dir), "%s", path);
	assert_int_equal(log_apply_settings(&s, "vm1", NULL, bad_dir), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console_level_and_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kmsg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
