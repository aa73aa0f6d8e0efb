/*
 * eventfd-pingpong: the host floor under a doorbell round trip. Two processes ping-pong a
 * counter through two eventfds, the way two VMs' vCPU threads are woken by ioeventfd + irqfd:
 * the parent writes "ping", the child blocks in read() on it and writes "pong", the parent
 * blocks in read() on that. Each round trip is timed with CLOCK_MONOTONIC.
 *
 * Usage: eventfd-pingpong [-n ROUND_TRIPS] [-w WARMUP] [-c CPU_PARENT,CPU_CHILD]
 * -c pins the two processes to those CPUs (the default leaves them to the scheduler).
 * Prints: RESULT eventfd n=N median=.. mean=.. min=.. p10=.. p90=.. p99=.. max=.. cpus=..  (nanoseconds)
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int signal_fd(int fd)
{
	uint64_t one = 1;

	for (;;) {
		ssize_t r = write(fd, &one, sizeof(one));
		if (r == (ssize_t)sizeof(one))
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static int wait_fd(int fd)
{
	uint64_t v;

	for (;;) {
		ssize_t r = read(fd, &v, sizeof(v));
		if (r == (ssize_t)sizeof(v))
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int parse_count(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 10000000)
		return -1;
	*out = v;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: eventfd-pingpong [-n ROUND_TRIPS] [-w WARMUP] [-c CPU,CPU]\n");
}

int main(int argc, char **argv)
{
	long n = 20000, warm = 1000;
	int cpu_parent = -1, cpu_child = -1;
	const char *cpus = "any";
	int opt;

	while ((opt = getopt(argc, argv, "n:w:c:h")) != -1) {
		switch (opt) {
		case 'n':
			if (parse_count(optarg, &n)) {
				usage();
				return 1;
			}
			break;
		case 'w':
			if (parse_count(optarg, &warm)) {
				usage();
				return 1;
			}
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &cpu_parent, &cpu_child) != 2 || cpu_parent < 0 ||
			    cpu_child < 0) {
				usage();
				return 1;
			}
			cpus = optarg;
			break;
		default:
			usage();
			return opt == 'h' ? 0 : 1;
		}
	}

	int ping = eventfd(0, EFD_CLOEXEC), pong = eventfd(0, EFD_CLOEXEC);
	uint64_t *rt = calloc((size_t)n, sizeof(*rt));

	if (ping < 0 || pong < 0 || !rt) {
		perror("eventfd-pingpong: setup");
		return 1;
	}
	pid_t child = fork();

	if (child < 0) {
		perror("eventfd-pingpong: fork");
		return 1;
	}
	if (child == 0) {
		if (pin(cpu_child))
			_exit(1);
		/* Answers until the parent kills it. */
		for (;;)
			if (wait_fd(ping) || signal_fd(pong))
				_exit(1);
	}
	if (pin(cpu_parent)) {
		perror("eventfd-pingpong: sched_setaffinity");
		kill(child, SIGKILL);
		return 1;
	}

	int ret = 0;
	for (long i = 0; i < warm + n && !ret; i++) {
		uint64_t t0 = now_ns();

		if (signal_fd(ping) || wait_fd(pong)) {
			perror("eventfd-pingpong: round trip");
			ret = 1;
			break;
		}
		if (i >= warm)
			rt[i - warm] = now_ns() - t0;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (ret)
		return ret;

	printf("RESULT eventfd");
	stats_print(rt, (size_t)n);
	printf(" cpus=%s\n", cpus);
	free(rt);
	return 0;
}
