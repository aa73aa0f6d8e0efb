/*
 * demo_rt: the real-time VM of the seed's scenario. It attaches to the channel the operator
 * formats, executes each command on a fake plant (samples/demo/plant.c), answers, and powers off
 * after "stop". It answers before printing: the serial port costs a VM exit per character, and
 * the operator is waiting.
 *
 * Command line: region_id=N picks the ivshmem device (default DEMO_REGION_ID). On the doorbell
 * device (vectors=N) it halts until the operator rings, and rings back with each answer.
 * Exit status: 0 after "stop", 1 on a channel error or 30 s without a command.
 */
#include "guest.h"
#include "demo_link.h"
#include "demo_wait.h"
#include "plant.h"

#define ATTACH_TIMEOUT_US	(20ull * 1000 * 1000)
#define IDLE_TIMEOUT_US		(30ull * 1000 * 1000)

static struct demo_link link;
static struct plant plant;

__attribute__((noreturn)) static void fail(const char *what, int err)
{
	printf("rt: %s: %s\n", what, ivmsg_strerror(err));
	guest_exit(1);
}

/* Waits for the operator to format the region (it may boot later than we do). */
static void attach(void)
{
	uint64_t t0 = time_us();
	int ret, last = 0;

	while ((ret = ivmsg_attach(&link.chan, guest_ivshmem_mem(&link.dev, 0), link.dev.size))) {
		if (ret != last && ret != IVMSG_ENOTREADY)
			printf("rt: not attached yet: %s\n", ivmsg_strerror(ret));
		last = ret;
		if (time_us() - t0 > ATTACH_TIMEOUT_US)
			fail("no channel to attach to within 20 s", ret);
		udelay(100);
	}
	demo_link_ready(&link);
	printf("rt: attached to session %u, waiting for commands\n", link.chan.session);
}

static void answer(uint32_t seq, const char *text)
{
	struct demo_wait w = demo_wait_start(IDLE_TIMEOUT_US);
	int ret;

	while ((ret = ivmsg_send_str(&link.chan, DEMO_MSG_RESP, seq, text, NULL)) == IVMSG_EFULL) {
		if (demo_wait_expired(&w))
			fail("response ring stays full", ret);
		demo_link_idle(&link);
	}
	if (ret)
		fail("send", ret);
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	struct ivmsg_msg cmd;
	char text[IVMSG_PAYLOAD_MAX + 1];

	(void)mbi;
	timer_init();
	plant_init(&plant);
	if (demo_link_open(&link, cmdline, "rt"))
		guest_exit(1);
	attach();

	struct demo_wait idle = demo_wait_start(IDLE_TIMEOUT_US);
	for (;;) {
		int ret = ivmsg_recv(&link.chan, &cmd);

		if (ret == IVMSG_EEMPTY) {
			if (demo_wait_expired(&idle))
				fail("no command for 30 s", ret);
			demo_link_idle(&link);
			continue;
		}
		if (ret == IVMSG_ERESET) {
			printf("rt: the operator formatted the channel again\n");
			attach();
			continue;
		}
		if (ret)
			fail("receive", ret);
		if (cmd.type != DEMO_MSG_CMD) {
			answer(cmd.seq, "error: not a command");
			continue;
		}
		bool stop = plant_exec(&plant, (const char *)cmd.data, cmd.len, text, sizeof(text));

		answer(cmd.seq, text);
		/* Numbered by count: sequence numbers need not start at 0. */
		printf("rt: #%u %.*s -> %s\n", plant.commands - 1, (int)cmd.len,
		       (const char *)cmd.data, text);
		if (stop) {
			demo_link_report(&link, "rt");
			printf("rt: stopped after %u commands\n", plant.commands);
			guest_exit(0);
		}
		idle = demo_wait_start(IDLE_TIMEOUT_US);
	}
}
