/* Leveled logging to stderr; see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
	/*
	 * Under systemd (stderr connected to the journal, which sets JOURNAL_STREAM), a "<N>" syslog
	 * priority in front of each line lets journalctl -p filter by level.
	 */
	static const char *const journal_priorities[] = {
		[LOG_ERR] = "<3>", [LOG_WARN] = "<4>", [LOG_INFO] = "<6>", [LOG_DEBUG] = "<7>",
	};
	static int to_journal = -1;
	if (to_journal < 0)
		to_journal = getenv("JOURNAL_STREAM") != NULL;
	fprintf(stderr, "%s%s: %s: %s\n", to_journal ? journal_priorities[level] : "", prefix,
		level_names[level], msg);
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
