#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_stderr_capture.h"

char *capture_stderr(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	long len = ftell(tmp);
	assert_true(len >= 0);
	rewind(tmp);
	char *buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (size_t)len, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}
