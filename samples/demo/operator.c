/*
 * demo_operator: the operator VM of the seed's scenario (a Windows HMI in real life). It formats
 * the shared region as an ivmsg channel, sends the operator's commands one at a time to the
 * real-time VM, prints each answer with its round-trip time, and powers off after "stop".
 *
 * Command line: region_id=N picks the ivshmem device (default DEMO_REGION_ID). On the doorbell
 * device (vectors=N) it rings the real-time VM after each command and halts while it waits.
 * Exit status: 0 when every command was answered, 1 otherwise.
 */
#include "guest.h"
#include "demo_link.h"
#include "demo_wait.h"
#include "plant.h"

#define ATTACH_TIMEOUT_US	(20ull * 1000 * 1000)
#define REPLY_TIMEOUT_US	(5ull * 1000 * 1000)

/* What the operator types: a session on the plant, with two mistakes in it. */
static const char *const commands[] = {
	"status",
	"set-speed 1200",
	"start-line 3",
	"start-line 1",
	"read-temp",
	"open-valve 7",
	"set-speed 9000",
	"stop-line 3",
	"read-temp",
	"stop",
};

static struct demo_link link;

__attribute__((noreturn)) static void fail(const char *what, int err)
{
	printf("operator: %s: %s\n", what, ivmsg_strerror(err));
	guest_exit(1);
}

/* Sends one command and waits for its answer; the round trip in microseconds. */
static uint64_t transact(const char *cmd, struct ivmsg_msg *answer)
{
	uint64_t t0 = time_us();
	struct demo_wait w = { REPLY_TIMEOUT_US, t0, 0 };
	uint32_t seq;
	int ret;

	while ((ret = ivmsg_send_str(&link.chan, DEMO_MSG_CMD, 0, cmd, &seq)) == IVMSG_EFULL) {
		if (demo_wait_expired(&w))
			fail("command ring stays full", ret);
		demo_link_idle(&link);
	}
	if (ret)
		fail("send", ret);
	while ((ret = ivmsg_recv(&link.chan, answer)) == IVMSG_EEMPTY) {
		if (demo_wait_expired(&w))
			fail("no answer from the real-time VM within 5 s", ret);
		demo_link_idle(&link);
	}
	if (ret)
		fail("receive", ret);
	if (answer->type != DEMO_MSG_RESP || answer->ref != seq)
		fail("answer does not match the command", IVMSG_ECORRUPT);
	return time_us() - t0;
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	struct ivmsg_msg answer;
	size_t n = sizeof(commands) / sizeof(commands[0]);
	int ret;

	(void)mbi;
	timer_init();
	if (demo_link_open(&link, cmdline, "operator"))
		guest_exit(1);
	ret = ivmsg_format(&link.chan, guest_ivshmem_mem(&link.dev, 0), link.dev.size, DEMO_SLOTS);
	if (ret)
		fail("format", ret);
	demo_link_ready(&link);
	printf("operator: channel ready (session %u, %u slots per ring), waiting for the "
	       "real-time VM\n", link.chan.session, DEMO_SLOTS);
	uint64_t t0 = time_us();
	struct demo_wait w = { ATTACH_TIMEOUT_US, t0, 0 };
	while (!ivmsg_peer_attached(&link.chan)) {
		if (demo_wait_expired(&w))
			fail("the real-time VM did not attach within 20 s", IVMSG_ENOTREADY);
		demo_link_idle(&link);
	}
	printf("operator: real-time VM attached after %lu ms\n", (time_us() - t0) / 1000);

	for (size_t i = 0; i < n; i++) {
		uint64_t rtt = transact(commands[i], &answer);

		/* Numbered by us: sequence numbers are the channel's, they need not start at 0. */
		printf("operator: #%zu > %-16s < %.*s   (%lu us)\n", i, commands[i],
		       (int)answer.len, (const char *)answer.data, rtt);
	}
	demo_link_report(&link, "operator");
	printf("operator: %zu commands answered, real-time VM stopped: done\n", n);
	guest_exit(0);
}
