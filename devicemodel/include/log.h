/*
 * Leveled logging with a module prefix: pr_err("ivshmem", "bad size %u", n).
 *
 * Messages go to the sinks of ACRN's --logger_setting: the console (stderr, on by default at
 * info), the kernel log (/dev/kmsg) and a log file per VM (ACRN's /var/log/acrn-dm/<vm>_log_<n>,
 * rotated at 2 MiB, eight kept), each with its own level.
 */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* The console's level; main.c raises it with --debug. */
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

/* ---- ACRN's --logger_setting ---- */

enum log_sink { LOG_SINK_CONSOLE, LOG_SINK_KMSG, LOG_SINK_DISK, LOG_SINKS };

/* ACRN's scale: 1 error, 2 warning, 3 notice, 4 info, 5 debug; 0 logs nothing. */
#define LOG_ACRN_LEVEL_MAX 5
#define LOG_DEBUG_DOMAINS_MAX 8

struct log_settings {
	bool named[LOG_SINKS];		/* named in the setting: enabled at level[] */
	unsigned level[LOG_SINKS];
	/* debug_domains=all or =a,b: only debug lines of these prefixes (ACRN's domains). */
	bool debug_all;
	unsigned ndomains;
	char domains[LOG_DEBUG_DOMAINS_MAX][16];
};

/*
 * "console,level=4;kmsg,level=3;disk,level=5[;debug_domains=all|a,b]". Returns 0, or -EINVAL
 * with one line in why naming the part that is wrong.
 */
int log_parse_settings(const char *text, struct log_settings *out, char *why, size_t whylen);

/*
 * Turns the sinks on as settings names them. kmsg_path and disk_dir default (NULL) to ACRN's
 * places, /dev/kmsg and /var/log/acrn-dm; the disk log of vm_name is the newest
 * <vm_name>_log_<n> there, appended to after a separator line, as ACRN does. A sink that cannot
 * be opened is reported on the console and stays off; returns how many failed.
 */
int log_apply_settings(const struct log_settings *settings, const char *vm_name,
		       const char *kmsg_path, const char *disk_dir);
/* Closes the kmsg and disk sinks (the console stays). */
void log_close_sinks(void);

#define LOG_DISK_DIR		"/var/log/acrn-dm"
#define LOG_DISK_FILE_LIMIT	(2u << 20)	/* ACRN's LOG_SIZE_LIMIT */
#define LOG_DISK_FILES		8		/* ACRN's LOG_FILES_COUNT */

#endif
