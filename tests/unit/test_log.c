/* Logging: levels filter, lines are whole, journal priorities, and the rate limiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "test_stderr_capture.h"

static void log_some(void)
{
	pr_err("dev", "broken %d", 1);
	pr_warn("dev", "odd");
	pr_info("dev", "fine");
	pr_dbg("dev", "detail");
}

static void test_levels_and_journal_priorities(void **state)
{
	(void)state;
	/* Set before the first message: the logger asks once whether stderr is the journal. */
	setenv("JOURNAL_STREAM", "8:12345", 1);
	log_set_level(LOG_INFO);
	char *out = capture_stderr(log_some);
	assert_string_equal(out, "<3>dev: error: broken 1\n"
				 "<4>dev: warning: odd\n"
				 "<6>dev: info: fine\n");
	free(out);
	log_set_level(LOG_DEBUG);
	out = capture_stderr(log_some);
	assert_non_null(strstr(out, "<7>dev: debug: detail\n"));
	free(out);
	log_set_level(LOG_ERR);
	out = capture_stderr(log_some);
	assert_string_equal(out, "<3>dev: error: broken 1\n");
	free(out);
	assert_int_equal(log_get_level(), LOG_ERR);
}

static void long_message(void)
{
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pr_err("dev", "%s", big);
}

static void test_long_message_truncated_to_one_line(void **state)
{
	(void)state;
	log_set_level(LOG_INFO);
	char *out = capture_stderr(long_message);
	const char *nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_int_equal(nl[1], '\0');
	free(out);
}

static void test_ratelimit(void **state)
{
	(void)state;
	struct log_ratelimit rl = { 0 };
	unsigned ok = 0;
	for (int i = 0; i < 100; i++)
		ok += log_ratelimit_ok(&rl, 5);
	/* All in the same second or across one boundary: 5, or at most 10. */
	assert_true(ok >= 5 && ok <= 10);
	assert_int_equal(rl.suppressed, 100 - ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_and_journal_priorities),
		cmocka_unit_test(test_long_message_truncated_to_one_line),
		cmocka_unit_test(test_ratelimit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
