/*
 * Connecting an ivshmem doorbell device to its server, and starting the server when the user did
 * not: ACRN users should not have to run a daemon by hand for two VMs to ring each other.
 *
 * The auto-started server listens at IVSHMEM_SERVER_DIR/NAME.sock, owns the region NAME with the
 * device's backend and size, and exits after its last peer leaves (--exit-when-idle). Its log is
 * IVSHMEM_SERVER_DIR/NAME.log. A lock file NAME.lock, held with flock() around "connect, else
 * start and wait until it listens", makes two VMs starting at once share one server.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ivshmem_server_link.h"
#include "ivshmem_proto.h"
#include "log.h"

#define SERVER_PROGRAM		"acrn-ivshmem-server"
#define SERVER_START_TIMEOUT_MS	5000

bool ivshmem_server_is_default(const struct ivshmem_config *cfg)
{
	char path[sizeof(cfg->server)];
	snprintf(path, sizeof(path), "%s/%s.sock", IVSHMEM_SERVER_DIR, cfg->name);
	return strcmp(path, cfg->server) == 0;
}

static int connect_once(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = -errno;
		close(sock);
		return err;
	}
	return sock;
}

/* Connects to PATH.id and introduces this VM; -ENOENT when the server has no identity socket. */
static int connect_with_identity(const char *server, const char *identity)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s.id", server);
	if (!identity || stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -ENOENT;
	int sock = connect_once(path);
	if (sock < 0)
		return sock;
	struct ivshmem_error err = { { 0 } };
	int ret = ivshmem_proto_send_hello(sock, identity, &err);
	if (ret < 0) {
		pr_warn("ivshmem", "identity hello to %s failed: %s", path, err.msg);
		close(sock);
		return ret;
	}
	return sock;
}

/* The identity socket when there is one, else the protocol-0 socket. */
static int connect_server(const char *server, const char *identity)
{
	int sock = connect_with_identity(server, identity);
	return sock >= 0 ? sock : connect_once(server);
}

/* The server binary next to acrn-dm (a build tree or an install), else the one on PATH. */
static void find_server_program(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(out, len, "%s/%s", dirname(self), SERVER_PROGRAM);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, len, "%s", SERVER_PROGRAM);
}

/*
 * Starts the server detached from this process (double fork: it is reparented to init and never
 * becomes our zombie), with no inherited descriptors but a log file.
 */
static int spawn_server(const struct ivshmem_config *cfg, const char *hugetlbfs_dir,
			const char *logpath)
{
	char program[PATH_MAX + 32], size[32], vectors[16];
	find_server_program(program, sizeof(program));
	snprintf(size, sizeof(size), "%lluM", (unsigned long long)(cfg->size >> 20));
	snprintf(vectors, sizeof(vectors), "%u", cfg->vectors);

	char id_socket[sizeof(cfg->server) + 3];
	snprintf(id_socket, sizeof(id_socket), "%s.id", cfg->server);

	const char *argv[20];
	int argc = 0;
	argv[argc++] = program;
	argv[argc++] = "-F";
	argv[argc++] = "--exit-when-idle";
	argv[argc++] = "-S";
	argv[argc++] = cfg->server;
	argv[argc++] = "--id-socket";
	argv[argc++] = id_socket;
	argv[argc++] = "-l";
	argv[argc++] = size;
	argv[argc++] = "-n";
	argv[argc++] = vectors;
	switch (cfg->backend) {
	case IVSHMEM_BACKEND_MEMFD:
		argv[argc++] = "--memfd";
		if (cfg->memfd_hugetlb)
			argv[argc++] = "--hugetlb";
		break;
	case IVSHMEM_BACKEND_HUGETLBFS:
		argv[argc++] = "-m";
		argv[argc++] = hugetlbfs_dir;
		/* the file in the mount is named like the shm object */
		__attribute__((fallthrough));
	case IVSHMEM_BACKEND_SHM:
	case IVSHMEM_BACKEND_ADOPTED:
		argv[argc++] = "-M";
		argv[argc++] = cfg->name;
		break;
	}
	argv[argc] = NULL;

	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Only async-signal-safe calls from here on. */
		if (fork() != 0)
			_exit(0);
		/*
		 * A reconnection runs on a worker thread with every signal blocked; the server must
		 * not inherit that mask (it stops on SIGTERM).
		 */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		int devnull = open("/dev/null", O_RDONLY);
		int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		if (log >= 0) {
			dup2(log, STDOUT_FILENO);
			dup2(log, STDERR_FILENO);
		}
		close_range(3, ~0U, 0);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pr_info("ivshmem", "started %s for %s (log: %s)", program, cfg->name, logpath);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int start_and_connect(const struct ivshmem_config *cfg, const char *identity, char *err,
			     size_t errlen)
{
	if (mkdir(IVSHMEM_SERVER_DIR, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s for the server socket: %s", IVSHMEM_SERVER_DIR,
			 strerror(errno));
		return -errno;
	}
	char lockpath[PATH_MAX], logpath[PATH_MAX];
	snprintf(lockpath, sizeof(lockpath), "%s/%s.lock", IVSHMEM_SERVER_DIR, cfg->name);
	snprintf(logpath, sizeof(logpath), "%s/%s.log", IVSHMEM_SERVER_DIR, cfg->name);
	int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot lock %s: %s", lockpath, strerror(e));
		if (lock >= 0)
			close(lock);
		return -e;
	}

	char hugetlbfs_dir[sizeof(cfg->hugetlbfs_dir)];
	snprintf(hugetlbfs_dir, sizeof(hugetlbfs_dir), "%s", cfg->hugetlbfs_dir);
	if (cfg->backend == IVSHMEM_BACKEND_HUGETLBFS && !hugetlbfs_dir[0]) {
		struct ivshmem_error herr = { { 0 } };
		int ret = ivshmem_hugetlbfs_default_dir(hugetlbfs_dir, sizeof(hugetlbfs_dir), &herr);
		if (ret < 0) {
			snprintf(err, errlen, "%s", herr.msg);
			flock(lock, LOCK_UN);
			close(lock);
			return ret;
		}
	}

	/* Somebody may have started it while we waited for the lock. */
	int sock = connect_server(cfg->server, identity);
	if (sock < 0) {
		unlink(cfg->server); /* a stale socket from a server that died */
		int ret = spawn_server(cfg, hugetlbfs_dir, logpath);
		if (ret < 0) {
			snprintf(err, errlen, "cannot start %s: %s", SERVER_PROGRAM, strerror(-ret));
			sock = ret;
		} else {
			long deadline = now_ms() + SERVER_START_TIMEOUT_MS;
			do {
				usleep(10000);
				sock = connect_server(cfg->server, identity);
			} while (sock < 0 && now_ms() < deadline);
			if (sock < 0)
				snprintf(err, errlen, "started %s, but nothing listens at %s after %d ms "
					 "(see %s)", SERVER_PROGRAM, cfg->server,
					 SERVER_START_TIMEOUT_MS, logpath);
		}
	}
	flock(lock, LOCK_UN);
	close(lock);
	return sock;
}

int ivshmem_server_connect(const struct ivshmem_config *cfg, bool may_start,
			   const char *identity, char *err, size_t errlen)
{
	int sock = connect_server(cfg->server, identity);
	if (sock >= 0)
		return sock;
	if (!may_start || (sock != -ENOENT && sock != -ECONNREFUSED)) {
		snprintf(err, errlen, "cannot connect to the ivshmem server at %s: %s%s", cfg->server,
			 strerror(-sock),
			 may_start ? "" : " (start acrn-ivshmem-server there, or leave out server= "
					  "to let acrn-dm start one)");
		return sock;
	}
	return start_and_connect(cfg, identity, err, errlen);
}
