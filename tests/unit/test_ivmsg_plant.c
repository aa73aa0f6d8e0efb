/*
 * The demo plant's command language (samples/demo/plant.c): every command, the bounds on its
 * arguments, and answers that always fit the buffer, whatever the other VM sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plant.h"

static struct plant p;
static char out[128];

static bool run(const char *cmd)
{
	return plant_exec(&p, cmd, strlen(cmd), out, sizeof(out));
}

static int setup(void **state)
{
	(void)state;
	plant_init(&p);
	return 0;
}

static void test_speed(void **state)
{
	(void)state;
	assert_false(run("set-speed 1200"));
	assert_string_equal(out, "ok speed=1200 rpm");
	assert_int_equal(p.speed_rpm, 1200);
	assert_false(run("set-speed 3000"));
	assert_int_equal(p.speed_rpm, 3000);
	assert_false(run("set-speed 0"));
	assert_int_equal(p.speed_rpm, 0);
	/* Out of range, malformed or missing: refused, state unchanged. */
	const char *bad[] = { "set-speed 3001", "set-speed 99999999999999999999", "set-speed -5",
			      "set-speed 12x", "set-speed", "set-speed ", "set-speed 1 2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(run(bad[i]));
		assert_string_equal(out, "error: speed must be 0..3000 rpm");
	}
	assert_int_equal(p.speed_rpm, 0);
}

static void test_lines_and_temperature(void **state)
{
	(void)state;
	assert_false(run("read-temp"));
	assert_string_equal(out, "temp=20.0 C");
	assert_false(run("start-line 3"));
	assert_string_equal(out, "ok line 3 running");
	assert_false(run("start-line 1"));
	assert_false(run("set-speed 1200"));
	assert_false(run("read-temp"));
	assert_string_equal(out, "temp=39.0 C");	/* 20 + 12 + 2 * 3.5 */
	assert_false(run("stop-line 3"));
	assert_string_equal(out, "ok line 3 stopped");
	assert_false(run("status"));
	assert_string_equal(out, "speed=1200 rpm lines=1--- temp=35.5 C");
	assert_false(run("start-line 0"));
	assert_string_equal(out, "error: line must be 1..4");
	assert_false(run("start-line 5"));
	assert_false(run("stop-line"));
	assert_string_equal(out, "error: line must be 1..4");
}

static void test_stop_and_unknown(void **state)
{
	(void)state;
	assert_false(run("ping"));
	assert_string_equal(out, "pong");
	assert_false(run("stop-line 2"));	/* a prefix of "stop" is not "stop" */
	assert_false(run("stopper"));
	assert_string_equal(out, "error: unknown command 'stopper'");
	assert_false(run(""));
	assert_string_equal(out, "error: unknown command ''");
	/* Control characters are not echoed back raw. */
	assert_false(run("\x1b[2Jx"));
	assert_string_equal(out, "error: unknown command '?[2Jx'");
	assert_true(run("stop"));
	assert_string_equal(out, "ok stopping: speed=0 rpm lines=---- temp=20.0 C");
	assert_int_equal(p.commands, 6);
}

/* The command is cmd[0..len): no NUL needed, nothing read beyond len. */
static void test_length_bounds(void **state)
{
	char *cmd = malloc(9);	/* exactly "read-temp", no NUL: ASan catches a read past it */
	char small[8];
	(void)state;
	assert_non_null(cmd);
	memcpy(cmd, "read-temp", 9);
	assert_false(plant_exec(&p, cmd, 9, out, sizeof(out)));
	assert_string_equal(out, "temp=20.0 C");
	assert_false(plant_exec(&p, cmd, 4, out, sizeof(out)));	/* "read" */
	assert_string_equal(out, "error: unknown command 'read'");
	free(cmd);

	/* Answers are cut to the caller's buffer and stay terminated. */
	assert_false(plant_exec(&p, "status", 6, small, sizeof(small)));
	assert_string_equal(small, "speed=0");
	assert_false(plant_exec(&p, "status", 6, small, 1));
	assert_string_equal(small, "");
	assert_false(plant_exec(&p, "status", 6, NULL, 0));

	/* A long unknown command is quoted only in part. */
	char longcmd[200];
	memset(longcmd, 'z', sizeof(longcmd));
	assert_false(plant_exec(&p, longcmd, sizeof(longcmd), out, sizeof(out)));
	assert_int_equal(strlen(out), strlen("error: unknown command ''") + 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_speed, setup),
		cmocka_unit_test_setup(test_lines_and_temperature, setup),
		cmocka_unit_test_setup(test_stop_and_unknown, setup),
		cmocka_unit_test_setup(test_length_bounds, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
