/*
 * ivshmem-ping: the demo from Linux user space, over ivshmem_guest (libpciaccess) and ivmsg.
 *
 *	ivshmem-ping [-d BDF] [-r ID] [-n COUNT] [--stop] [COMMAND...]
 *		The operator (ivmsg side A): formats the region, waits for the peer, sends COUNT
 *		"ping" commands and reports their round trips, then each COMMAND (e.g. "set-speed
 *		1200", read-temp), then "stop" with --stop. The peer is the demo's real-time guest
 *		(samples/demo/rt.c) or another ivshmem-ping --serve.
 *	ivshmem-ping --serve [-d BDF] [-r ID]
 *		The real-time side (ivmsg side B): runs commands on the demo plant until "stop".
 *	ivshmem-ping --list
 *		Lists the ivshmem devices.
 * Options: -d/--device BDF and -r/--region ID pick the device (default: the first one);
 * --doorbell PEER[:VECTOR] rings that peer after every message (doorbell devices);
 * -t/--timeout SECONDS for every wait (default 30).
 * Exit status: 0 success, 1 error, 2 no ivshmem device found.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ivmsg.h"
#include "ivshmem_guest.h"
#include "plant.h"

#define EXIT_NODEV 2

struct opts {
	const char *bdf;
	int region_id;
	unsigned count;
	bool count_given;
	bool stop, serve, list;
	int db_peer;		/* -1: no doorbell */
	unsigned db_vector;
	unsigned timeout_s;
	char **cmds;
	int ncmds;
};

struct doorbell {
	const struct ivshmem_guest *dev;
	uint16_t peer, vector;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * One wait step: spin a while (a peer on another CPU answers within microseconds), then sleep
 * in short steps (a peer that is a slow or busy VM should not cost us a CPU).
 */
static void backoff(unsigned *n)
{
	if ((*n)++ < 2000) {
		__builtin_ia32_pause();
	} else {
		struct timespec ts = { 0, 50 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static int recv_wait(struct ivmsg_chan *c, struct ivmsg_msg *m, unsigned timeout_s)
{
	uint64_t t0 = now_us();
	unsigned n = 0;
	int ret;

	while ((ret = ivmsg_recv(c, m)) == IVMSG_EEMPTY) {
		if (now_us() - t0 > timeout_s * 1000000ull)
			return IVMSG_EEMPTY;
		backoff(&n);
	}
	return ret;
}

static int send_wait(struct ivmsg_chan *c, uint16_t type, uint32_t ref, const char *text,
		     uint32_t *seq, unsigned timeout_s)
{
	uint64_t t0 = now_us();
	unsigned n = 0;
	int ret;

	while ((ret = ivmsg_send_str(c, type, ref, text, seq)) == IVMSG_EFULL) {
		if (now_us() - t0 > timeout_s * 1000000ull)
			return IVMSG_EFULL;
		backoff(&n);
	}
	return ret;
}

static void ring(void *ctx)
{
	const struct doorbell *d = ctx;

	ivshmem_guest_doorbell(d->dev, d->peer, d->vector);
}

/* Sends cmd and waits for its answer: 0 with *answer and *rtt_us, or -1 (printed). */
static int transact(struct ivmsg_chan *c, const char *cmd, struct ivmsg_msg *answer,
		    uint64_t *rtt_us, const struct opts *o)
{
	uint64_t t0 = now_us();
	uint32_t seq;
	int ret = send_wait(c, DEMO_MSG_CMD, 0, cmd, &seq, o->timeout_s);

	if (ret == 0)
		ret = recv_wait(c, answer, o->timeout_s);
	*rtt_us = now_us() - t0;
	if (ret == IVMSG_EEMPTY || ret == IVMSG_EFULL) {
		fprintf(stderr, "ivshmem-ping: '%s': no answer within %u s\n", cmd, o->timeout_s);
		return -1;
	}
	if (ret) {
		fprintf(stderr, "ivshmem-ping: '%s': %s\n", cmd, ivmsg_strerror(ret));
		return -1;
	}
	if (answer->type != DEMO_MSG_RESP || answer->ref != seq) {
		fprintf(stderr, "ivshmem-ping: '%s': the answer belongs to another command\n", cmd);
		return -1;
	}
	return 0;
}

static int run_operator(struct ivmsg_chan *c, const struct ivshmem_guest *g, const struct opts *o,
			struct doorbell *db)
{
	struct ivmsg_msg answer;
	uint64_t rtt, sum = 0, min = UINT64_MAX, max = 0;
	int ret = ivmsg_format(c, g->mem, g->size, DEMO_SLOTS);

	if (ret) {
		fprintf(stderr, "ivshmem-ping: %s: %s\n", g->info.bdf, ivmsg_strerror(ret));
		return 1;
	}
	if (db)
		ivmsg_set_doorbell(c, ring, db);
	printf("ivshmem-ping: channel ready on %s (session %u), waiting for the peer\n",
	       g->info.bdf, c->session);
	uint64_t t0 = now_us();
	unsigned n = 0;
	while (!ivmsg_peer_attached(c)) {
		if (now_us() - t0 > o->timeout_s * 1000000ull) {
			fprintf(stderr, "ivshmem-ping: no peer attached within %u s\n", o->timeout_s);
			return 1;
		}
		backoff(&n);
	}
	for (unsigned i = 0; i < o->count; i++) {
		if (transact(c, "ping", &answer, &rtt, o))
			return 1;
		if (answer.len != 4 || memcmp(answer.data, "pong", 4) != 0) {
			fprintf(stderr, "ivshmem-ping: ping answered with '%.*s'\n", (int)answer.len,
				(const char *)answer.data);
			return 1;
		}
		sum += rtt;
		min = rtt < min ? rtt : min;
		max = rtt > max ? rtt : max;
	}
	if (o->count)
		printf("ivshmem-ping: %u pings, round trip min/avg/max %llu/%llu/%llu us\n", o->count,
		       (unsigned long long)min, (unsigned long long)(sum / o->count),
		       (unsigned long long)max);
	for (int i = 0; i <= o->ncmds; i++) {
		const char *cmd = i < o->ncmds ? o->cmds[i] : "stop";

		if (i == o->ncmds && !o->stop)
			break;
		if (transact(c, cmd, &answer, &rtt, o))
			return 1;
		printf("> %s\n< %.*s   (%llu us)\n", cmd, (int)answer.len, (const char *)answer.data,
		       (unsigned long long)rtt);
	}
	return 0;
}

static int attach_wait(struct ivmsg_chan *c, const struct ivshmem_guest *g, const struct opts *o,
		       struct doorbell *db)
{
	uint64_t t0 = now_us();
	unsigned n = 0;
	int ret;

	while ((ret = ivmsg_attach(c, g->mem, g->size)) != 0) {
		if (now_us() - t0 > o->timeout_s * 1000000ull) {
			fprintf(stderr, "ivshmem-ping: no channel to attach to within %u s: %s\n",
				o->timeout_s, ivmsg_strerror(ret));
			return -1;
		}
		backoff(&n);
	}
	if (db)
		ivmsg_set_doorbell(c, ring, db);
	printf("ivshmem-ping: serving on %s (session %u)\n", g->info.bdf, c->session);
	return 0;
}

static int run_serve(struct ivmsg_chan *c, const struct ivshmem_guest *g, const struct opts *o,
		     struct doorbell *db)
{
	struct plant plant;
	struct ivmsg_msg cmd;
	char text[IVMSG_PAYLOAD_MAX + 1];
	unsigned served = 0;	/* messages answered: sequence numbers need not start at 0 */

	plant_init(&plant);
	if (attach_wait(c, g, o, db))
		return 1;
	for (;;) {
		int ret = recv_wait(c, &cmd, o->timeout_s);

		if (ret == IVMSG_ERESET) {
			printf("ivshmem-ping: the operator formatted the channel again\n");
			if (attach_wait(c, g, o, db))
				return 1;
			continue;
		}
		if (ret) {
			fprintf(stderr, "ivshmem-ping: %s\n", ret == IVMSG_EEMPTY ?
				"no command within the timeout" : ivmsg_strerror(ret));
			return 1;
		}
		bool stop = cmd.type == DEMO_MSG_CMD &&
			    plant_exec(&plant, (const char *)cmd.data, cmd.len, text, sizeof(text));
		if (cmd.type != DEMO_MSG_CMD)
			snprintf(text, sizeof(text), "error: not a command");
		ret = send_wait(c, DEMO_MSG_RESP, cmd.seq, text, NULL, o->timeout_s);
		if (ret) {
			fprintf(stderr, "ivshmem-ping: answering: %s\n", ivmsg_strerror(ret));
			return 1;
		}
		/* Pings would flood the console: only the other commands are shown. */
		if (strcmp(text, "pong") != 0)
			printf("#%u %.*s -> %s\n", served, (int)cmd.len, (const char *)cmd.data,
			       text);
		served++;
		if (stop)
			return 0;
	}
}

static int run_list(void)
{
	struct ivshmem_guest_info infos[32];
	char err[IVSHMEM_GUEST_ERRLEN];
	int n = ivshmem_guest_scan(infos, 32, err, sizeof(err));

	if (n < 0) {
		fprintf(stderr, "ivshmem-ping: %s\n", err);
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, "ivshmem-ping: no ivshmem device found (PCI %04x:%04x)\n",
			IVSHMEM_GUEST_VENDOR, IVSHMEM_GUEST_DEVICE);
		return EXIT_NODEV;
	}
	for (int i = 0; i < n && i < 32; i++)
		printf("%s  region id 0x%04x (subsystem vendor 0x%04x)  %llu KiB shared  %s\n",
		       infos[i].bdf, infos[i].region_id, infos[i].subvendor,
		       (unsigned long long)(infos[i].bar2_size >> 10),
		       infos[i].doorbell ? "doorbell (MSI-X)" : "plain");
	return 0;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return s[0] && s[0] != '-' && !*end && !errno && *v <= max;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ivshmem-ping [-d BDF] [-r ID] [-n COUNT] [--stop] [COMMAND...]\n"
		   "       ivshmem-ping --serve [-d BDF] [-r ID]\n"
		   "       ivshmem-ping --list\n"
		   "options: --doorbell PEER[:VECTOR], -t/--timeout SECONDS (default 30)\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "region", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "doorbell", required_argument, NULL, 'b' },
		{ "stop", no_argument, NULL, 's' },
		{ "serve", no_argument, NULL, 'S' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *colon;
	int c;

	*o = (struct opts){ .region_id = IVSHMEM_GUEST_ANY, .count = 10, .db_peer = -1,
			    .timeout_s = 30 };
	while ((c = getopt_long(argc, argv, "d:r:n:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->bdf = optarg; break;
		case 'r':
			if (!parse_uint(optarg, 0xffff, &v))
				goto bad;
			o->region_id = (int)v;
			break;
		case 'n':
			if (!parse_uint(optarg, 1000000, &v))
				goto bad;
			o->count = (unsigned)v;
			o->count_given = true;
			break;
		case 't':
			if (!parse_uint(optarg, 3600, &v) || !v)
				goto bad;
			o->timeout_s = (unsigned)v;
			break;
		case 'b':
			colon = strchr(optarg, ':');
			if (colon) {
				*colon = '\0';
				if (!parse_uint(colon + 1, 0xffff, &v))
					goto bad;
				o->db_vector = (unsigned)v;
			}
			if (!parse_uint(optarg, 0xffff, &v))
				goto bad;
			o->db_peer = (int)v;
			break;
		case 's': o->stop = true; break;
		case 'S': o->serve = true; break;
		case 'l': o->list = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	o->cmds = argv + optind;
	o->ncmds = argc - optind;
	/* Commands given: no pings unless asked for. */
	if (o->ncmds && !o->count_given)
		o->count = 0;
	if ((o->serve || o->list) && (o->ncmds || o->stop)) {
		fprintf(stderr, "ivshmem-ping: --serve and --list take no commands\n");
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "ivshmem-ping: bad value '%s'\n", optarg);
	return -1;
}

int main(int argc, char **argv)
{
	struct ivshmem_guest g;
	struct ivmsg_chan chan;
	struct doorbell db, *dbp = NULL;
	struct opts o;
	char err[IVSHMEM_GUEST_ERRLEN];
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse(argc, argv, &o))
		return 1;
	if (o.list)
		return run_list();
	ret = ivshmem_guest_open(&g, o.bdf, o.region_id, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ivshmem-ping: %s\n", err);
		return ret == -ENODEV ? EXIT_NODEV : 1;
	}
	printf("ivshmem-ping: %s, region id 0x%04x, %zu KiB shared, IVPosition %d\n", g.info.bdf,
	       g.info.region_id, g.size >> 10, ivshmem_guest_ivposition(&g));
	if (o.db_peer >= 0) {
		if (!g.regs) {
			fprintf(stderr, "ivshmem-ping: --doorbell: BAR0 (resource0) is not mapped\n");
			ivshmem_guest_close(&g);
			return 1;
		}
		db = (struct doorbell){ &g, (uint16_t)o.db_peer, (uint16_t)o.db_vector };
		dbp = &db;
	}
	ret = o.serve ? run_serve(&chan, &g, &o, dbp) : run_operator(&chan, &g, &o, dbp);
	ivshmem_guest_close(&g);
	return ret;
}
