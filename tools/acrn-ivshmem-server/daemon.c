/* Daemonizing and the pidfile (see daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

int ivs_daemonize(int *ready_fd, char **err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		*err = g_strdup_printf("pipe: %s", strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int ret = -errno;
		*err = g_strdup_printf("fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return ret;
	}
	if (pid > 0) {
		/* The launching process: wait for the daemon to say it is ready. */
		char byte;
		ssize_t n;
		close(pipefd[1]);
		waitpid(pid, NULL, 0);
		do {
			n = read(pipefd[0], &byte, 1);
		} while (n < 0 && errno == EINTR);
		_exit(n == 1 ? 0 : 1);
	}

	/* A new session, then a second fork so the daemon can never regain a terminal. */
	close(pipefd[0]);
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);

	if (chdir("/") < 0) {
		/* Not fatal: paths were made absolute before. */
	}
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		/* stderr stays: it carries the log (a journal, or the launching terminal). */
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	*ready_fd = pipefd[1];
	return 0;
}

void ivs_daemon_ready(int ready_fd)
{
	char byte = 1;
	if (write(ready_fd, &byte, 1) != 1) {
		/* The launcher is gone; nothing left to tell. */
	}
	close(ready_fd);
}

int ivs_write_pidfile(const char *path, char **err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int ret = -errno;
		*err = g_strdup_printf("cannot write pidfile %s: %s", path, strerror(errno));
		return ret;
	}
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	int ret = 0;
	if (write(fd, buf, (size_t)len) != len) {
		ret = -EIO;
		*err = g_strdup_printf("cannot write pidfile %s", path);
	}
	close(fd);
	return ret;
}
