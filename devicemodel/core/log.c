/* Leveled logging to stderr; see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static enum log_level current_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERR] = "error",
	[LOG_WARN] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void dm_log(enum log_level level, const char *prefix, const char *fmt, ...)
{
	if (level > current_level)
		return;

	/* One fprintf per message keeps lines from different threads whole. */
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s: %s\n", prefix, level_names[level], msg);
}

bool log_ratelimit_ok(struct log_ratelimit *rl, unsigned burst)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != rl->window_start_sec) {
		rl->window_start_sec = now.tv_sec;
		rl->printed = 0;
	}
	if (rl->printed < burst) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
