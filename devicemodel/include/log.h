/* Leveled logging with a module prefix: pr_err("ivshmem", "bad size %u", n). */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped; main.c raises it with --debug / ACRN_DM_LOG=debug. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Logs go to stderr so that a guest's serial console on stdout stays clean. */
void dm_log(enum log_level level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pr_err(prefix, ...)  dm_log(LOG_ERR, prefix, __VA_ARGS__)
#define pr_warn(prefix, ...) dm_log(LOG_WARN, prefix, __VA_ARGS__)
#define pr_info(prefix, ...) dm_log(LOG_INFO, prefix, __VA_ARGS__)
#define pr_dbg(prefix, ...)  dm_log(LOG_DEBUG, prefix, __VA_ARGS__)

/*
 * Rate limiting for messages a guest can trigger at will (a doorbell to an absent peer):
 * returns true at most `burst` times per second per limiter.
 */
struct log_ratelimit {
	long window_start_sec;
	unsigned printed;
	unsigned suppressed;
};
bool log_ratelimit_ok(struct log_ratelimit *rl, unsigned burst);

#endif
