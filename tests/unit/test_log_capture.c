/* See test_log_capture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_log_capture.h"

static int saved_stderr = -1;
static FILE *capture;

void log_capture_begin(void)
{
	fflush(stderr);
	capture = tmpfile();
	assert_non_null(capture);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
}

void log_capture_end(char *buf, unsigned len)
{
	fflush(stderr);
	assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
	close(saved_stderr);
	saved_stderr = -1;
	rewind(capture);
	size_t n = fread(buf, 1, len - 1, capture);
	buf[n] = '\0';
	fclose(capture);
	capture = NULL;
	fputs(buf, stderr); /* still shown, for whoever reads the test output */
}

unsigned log_lines(const char *buf, const char *level)
{
	char tag[32];
	unsigned n = 0;
	snprintf(tag, sizeof(tag), ": %s: ", level);
	for (const char *line = buf; line && *line;) {
		const char *end = strchr(line, '\n');
		const char *hit = strstr(line, tag);
		if (hit && (!end || hit < end))
			n++;
		line = end ? end + 1 : NULL;
	}
	return n;
}
