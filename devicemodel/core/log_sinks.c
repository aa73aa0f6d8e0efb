/*
 * The kmsg and disk sinks of ACRN's --logger_setting.
 *
 * kmsg: one record per message in the kernel log, tagged "acrn_dm" as ACRN's are, with the
 * message's syslog priority so dmesg shows its level.
 * disk: as ACRN's disk logger: <dir>/<vm>_log_<n>, the newest n appended to after a separator,
 * a new file every 2 MiB and the one eight files back removed; each line starts with the
 * monotonic time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log_priv.h"

#define KMSG_RECORD_MAX 976	/* the kernel cuts records near 1 KiB */
#define DISK_SEPARATOR "\n\n----------------new vm instance------------------\n\n"

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
/* Set while no vCPU runs (start-up and exit); read by every logging thread. */
static unsigned kmsg_level, disk_level;
static bool kmsg_on, disk_on;
/* Under sink_lock. */
static int kmsg_fd = -1, disk_fd = -1;
static char disk_dir[256], disk_vm[32];
static uint16_t disk_index;
static uint64_t disk_size;

bool log_sinks_want(unsigned acrn_level)
{
	return (kmsg_on && acrn_level <= kmsg_level) || (disk_on && acrn_level <= disk_level);
}

static void disk_name(char *buf, size_t len, uint16_t index)
{
	snprintf(buf, len, "%s/%s_log_%u", disk_dir, disk_vm, (unsigned)index);
}

/* Opens <vm>_log_<index> for appending; the caller holds sink_lock or runs alone. */
static int disk_open(uint16_t index, bool truncate)
{
	char path[320];
	disk_name(path, sizeof(path), index);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0),
		      0644);
	if (fd < 0)
		return -errno;
	struct stat st;
	disk_size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	disk_fd = fd;
	disk_index = index;
	return 0;
}

/* ACRN's order of indexes, which wrap at 65536: is a newer than b? */
static bool index_after(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(b - a) < 0;
}

/* The newest existing index of this VM's log files, or 0 when there is none. */
static uint16_t disk_newest(void)
{
	DIR *dir = opendir(disk_dir);
	if (!dir)
		return 0;
	char prefix[48];
	snprintf(prefix, sizeof(prefix), "%s_log_", disk_vm);
	size_t plen = strlen(prefix);
	bool found = false;
	uint16_t newest = 0;
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, prefix, plen) != 0 || d->d_name[plen] == '\0')
			continue;
		char *end;
		unsigned long n = strtoul(d->d_name + plen, &end, 10);
		if (*end || n > UINT16_MAX)
			continue;
		if (!found || index_after((uint16_t)n, newest))
			newest = (uint16_t)n;
		found = true;
	}
	closedir(dir);
	return newest;
}

static int disk_start(const char *dir, const char *vm_name)
{
	if (snprintf(disk_dir, sizeof(disk_dir), "%s", dir) >= (int)sizeof(disk_dir) ||
	    snprintf(disk_vm, sizeof(disk_vm), "%s", vm_name) >= (int)sizeof(disk_vm))
		return -ENAMETOOLONG;
	if (mkdir(disk_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	int ret = disk_open(disk_newest(), false);
	if (ret < 0)
		return ret;
	ssize_t n = write(disk_fd, DISK_SEPARATOR, strlen(DISK_SEPARATOR));
	if (n > 0)
		disk_size += (uint64_t)n;
	return 0;
}

/* After a file passed the limit: the next index, and the one LOG_DISK_FILES back removed. */
static void disk_rotate(void)
{
	char old[320];
	uint16_t next = (uint16_t)(disk_index + 1);
	disk_name(old, sizeof(old), (uint16_t)(next - LOG_DISK_FILES));
	unlink(old);
	close(disk_fd);
	disk_fd = -1;
	if (disk_open(next, true) < 0)
		disk_on = false;
}

void log_sinks_write(enum log_level level, unsigned acrn_level, const char *prefix,
		     const char *level_name, const char *msg)
{
	char line[1200];
	pthread_mutex_lock(&sink_lock);
	if (kmsg_on && acrn_level <= kmsg_level && kmsg_fd >= 0) {
		int n = snprintf(line, KMSG_RECORD_MAX, "%sacrn_dm: %s: %s: %s: %s\n",
				 log_priority_tags[level], disk_vm, prefix, level_name, msg);
		if (n > 0 && write(kmsg_fd, line, strnlen(line, KMSG_RECORD_MAX)) < 0) {
			/* A kernel log that refuses us once would refuse every line. */
			close(kmsg_fd);
			kmsg_fd = -1;
			kmsg_on = false;
		}
	}
	if (disk_on && acrn_level <= disk_level && disk_fd >= 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int n = snprintf(line, sizeof(line), "[%5lu.%06lu] %s: %s: %s\n",
				 (unsigned long)ts.tv_sec, (unsigned long)(ts.tv_nsec / 1000), prefix,
				 level_name, msg);
		ssize_t w = n > 0 ? write(disk_fd, line, strnlen(line, sizeof(line))) : 0;
		if (w < 0) {
			close(disk_fd);
			disk_fd = -1;
			disk_on = false;
		} else {
			disk_size += (uint64_t)w;
			if (disk_size > LOG_DISK_FILE_LIMIT)
				disk_rotate();
		}
	}
	pthread_mutex_unlock(&sink_lock);
}

int log_sinks_open(const struct log_settings *settings, const char *vm_name,
		   const char *kmsg_path, const char *disk_dir_path)
{
	int failed = 0;
	log_close_sinks();
	pthread_mutex_lock(&sink_lock);
	snprintf(disk_vm, sizeof(disk_vm), "%s", vm_name);
	if (settings->named[LOG_SINK_KMSG] && settings->level[LOG_SINK_KMSG]) {
		kmsg_fd = open(kmsg_path, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
		if (kmsg_fd >= 0) {
			kmsg_level = settings->level[LOG_SINK_KMSG];
			kmsg_on = true;
		} else {
			failed++;
		}
	}
	int kmsg_err = errno;
	int disk_err = 0;
	if (settings->named[LOG_SINK_DISK] && settings->level[LOG_SINK_DISK]) {
		disk_err = disk_start(disk_dir_path, vm_name);
		if (disk_err == 0) {
			disk_level = settings->level[LOG_SINK_DISK];
			disk_on = true;
		} else {
			failed++;
		}
	}
	pthread_mutex_unlock(&sink_lock);
	/* Reported after the lock: pr_warn comes back through log_sinks_write. */
	if (settings->named[LOG_SINK_KMSG] && settings->level[LOG_SINK_KMSG] && !kmsg_on)
		pr_warn("log", "--logger_setting kmsg: %s: %s; the kernel log gets nothing",
			kmsg_path, strerror(kmsg_err));
	if (disk_err)
		pr_warn("log", "--logger_setting disk: %s: %s; no log file is written",
			disk_dir_path, strerror(-disk_err));
	return failed;
}

void log_close_sinks(void)
{
	pthread_mutex_lock(&sink_lock);
	kmsg_on = disk_on = false;
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	if (disk_fd >= 0) {
		fsync(disk_fd);
		close(disk_fd);
	}
	kmsg_fd = disk_fd = -1;
	pthread_mutex_unlock(&sink_lock);
}
