/* Between log.c (levels, console, settings) and log_sinks.c (kmsg and disk). */
#ifndef DM_LOG_PRIV_H
#define DM_LOG_PRIV_H

#include <stdbool.h>

#include "log.h"

/* "<3>" .. "<7>": the syslog priority of each level. */
extern const char *const log_priority_tags[];

/* True when the kmsg or disk sink takes messages of this level (ACRN's scale). */
bool log_sinks_want(unsigned acrn_level);
void log_sinks_write(enum log_level level, unsigned acrn_level, const char *prefix,
		     const char *level_name, const char *msg);
int log_sinks_open(const struct log_settings *settings, const char *vm_name,
		   const char *kmsg_path, const char *disk_dir);

#endif
