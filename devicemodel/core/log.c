/*
 * Leveled logging (see log.h): the console sink, the dispatch to the other sinks, and ACRN's
 * --logger_setting syntax. The kmsg and disk sinks are in log_sinks.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "log_priv.h"

static const char *const level_names[] = {
	[LOG_ERR] = "error",
	[LOG_WARN] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

/* Where each of our levels sits on ACRN's scale (it has notice at 3, which we never use). */
static const unsigned acrn_levels[] = {
	[LOG_ERR] = 1, [LOG_WARN] = 2, [LOG_INFO] = 4, [LOG_DEBUG] = 5,
};

/* syslog priorities, for the journal (stderr under systemd) and /dev/kmsg. */
const char *const log_priority_tags[] = {
	[LOG_ERR] = "<3>", [LOG_WARN] = "<4>", [LOG_INFO] = "<6>", [LOG_DEBUG] = "<7>",
};

/* Levels on ACRN's scale; read by every logging thread, set before the VM starts. */
static unsigned console_level = 4;
static struct log_settings domains;	/* only its debug-domain fields are used */

void log_set_level(enum log_level level)
{
	console_level = acrn_levels[level];
}

enum log_level log_get_level(void)
{
	if (console_level >= 5)
		return LOG_DEBUG;
	if (console_level >= 4)
		return LOG_INFO;
	return console_level >= 2 ? LOG_WARN : LOG_ERR;
}

static bool domain_selected(enum log_level level, const char *prefix)
{
	if (level != LOG_DEBUG || domains.debug_all || !domains.ndomains)
		return true;
	for (unsigned i = 0; i < domains.ndomains; i++)
		if (strcmp(prefix, domains.domains[i]) == 0)
			return true;
	return false;
}

void dm_log(enum log_level level, const char *prefix, const char *fmt, ...)
{
	unsigned acrn = acrn_levels[level];
	bool console = acrn <= console_level;
	bool others = log_sinks_want(acrn);
	if ((!console && !others) || !domain_selected(level, prefix))
		return;

	/* One write per message and sink keeps lines from different threads whole. */
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (console) {
		/*
		 * Under systemd (stderr connected to the journal, which sets JOURNAL_STREAM), a
		 * "<N>" syslog priority in front of each line lets journalctl -p filter by level.
		 */
		static int to_journal = -1;
		if (to_journal < 0)
			to_journal = getenv("JOURNAL_STREAM") != NULL;
		fprintf(stderr, "%s%s: %s: %s\n", to_journal ? log_priority_tags[level] : "", prefix,
			level_names[level], msg);
	}
	if (others)
		log_sinks_write(level, acrn, prefix, level_names[level], msg);
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

/* ---- --logger_setting ---- */

static const char *const sink_names[LOG_SINKS] = {
	[LOG_SINK_CONSOLE] = "console", [LOG_SINK_KMSG] = "kmsg", [LOG_SINK_DISK] = "disk",
};

static int bad(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_domains(const char *list, size_t len, struct log_settings *out, char *why,
			 size_t whylen)
{
	if (len == 3 && strncmp(list, "all", 3) == 0) {
		out->debug_all = true;
		return 0;
	}
	const char *p = list, *end = list + len;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
		if (n == 0 || n >= sizeof(out->domains[0]))
			return bad(why, whylen, "debug_domains: '%.*s' is not a log prefix (all, or "
				   "names such as kvm,ivshmem)", (int)n, p);
		if (out->ndomains == LOG_DEBUG_DOMAINS_MAX)
			return bad(why, whylen, "debug_domains: more than %d domains",
				   LOG_DEBUG_DOMAINS_MAX);
		memcpy(out->domains[out->ndomains], p, n);
		out->domains[out->ndomains++][n] = '\0';
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

static int parse_sink(const char *elem, size_t len, struct log_settings *out, char *why,
		      size_t whylen)
{
	const char *comma = memchr(elem, ',', len);
	size_t name_len = comma ? (size_t)(comma - elem) : len;
	int sink = -1;
	for (int i = 0; i < LOG_SINKS; i++)
		if (strlen(sink_names[i]) == name_len && strncmp(elem, sink_names[i], name_len) == 0)
			sink = i;
	if (sink < 0)
		return bad(why, whylen, "'%.*s' is not a log sink (console, kmsg or disk)",
			   (int)name_len, elem);
	if (out->named[sink])
		return bad(why, whylen, "%s is set twice", sink_names[sink]);
	const char *level = comma ? comma + 1 : elem + len;
	size_t level_len = (size_t)(elem + len - level);
	if (!comma || level_len < 7 || strncmp(level, "level=", 6) != 0)
		return bad(why, whylen, "%.*s: expected %s,level=N (N from 1, error, to 5, debug)",
			   (int)len, elem, sink_names[sink]);
	if (level_len != 7 || level[6] < '0' || level[6] > '0' + LOG_ACRN_LEVEL_MAX)
		return bad(why, whylen, "%s: level '%.*s' is not 0 to %d (1 error, 2 warning, "
			   "3 notice, 4 info, 5 debug; 0 nothing)", sink_names[sink],
			   (int)(level_len - 6), level + 6, LOG_ACRN_LEVEL_MAX);
	out->named[sink] = true;
	out->level[sink] = (unsigned)(level[6] - '0');
	return 0;
}

int log_parse_settings(const char *text, struct log_settings *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		return bad(why, whylen, "empty (expected console,level=N;kmsg,level=N;disk,level=N)");
	const char *p = text;
	for (;;) {
		size_t len = strcspn(p, ";");
		int ret;
		if (len == 0)
			ret = bad(why, whylen, "an empty part between ';' separators");
		else if (len >= 14 && strncmp(p, "debug_domains=", 14) == 0)
			ret = parse_domains(p + 14, len - 14, out, why, whylen);
		else
			ret = parse_sink(p, len, out, why, whylen);
		if (ret < 0)
			return ret;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

int log_apply_settings(const struct log_settings *settings, const char *vm_name,
		       const char *kmsg_path, const char *disk_dir)
{
	if (settings->named[LOG_SINK_CONSOLE])
		console_level = settings->level[LOG_SINK_CONSOLE];
	domains = *settings;
	return log_sinks_open(settings, vm_name, kmsg_path ? kmsg_path : "/dev/kmsg",
			      disk_dir ? disk_dir : LOG_DISK_DIR);
}
