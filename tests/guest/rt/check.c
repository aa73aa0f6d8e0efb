#include "check.h"

#include <stdarg.h>

#include "exit.h"
#include "print.h"

static const char *current;

const char *test_current(void)
{
	return current ? current : guest_name;
}

void test_begin(const char *name)
{
	current = name;
}

void test_pass(void)
{
	printf("PASS: %s\n", test_current());
	current = NULL;
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: %s: ", test_current());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	current = NULL;
}

void test_fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: %s: ", test_current());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	guest_exit(1);
}

void check_failed(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	/* fmt starts with the space CHECK put in front of the message. */
	printf("FAIL: %s: %s:%d:", test_current(), file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("%s[%s]\n", fmt[0] && fmt[1] ? " " : "", cond);
	guest_exit(1);
}
