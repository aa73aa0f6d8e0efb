/*
 * The real-time VM's fake plant and its command language, shared by the demo guests and the
 * Linux sample (samples/linux/ivshmem-ping). Freestanding: no libc.
 *
 * Commands (one per ivmsg message of type DEMO_MSG_CMD, text without a NUL):
 *	set-speed RPM		0..3000
 *	start-line N		N = 1..PLANT_LINES
 *	stop-line N
 *	read-temp
 *	status
 *	ping
 *	stop			ends the session: the real-time VM answers and powers off
 * Each is answered by one DEMO_MSG_RESP message whose ref is the command's seq: "ok ...",
 * a reading, or "error: ...".
 */
#ifndef SAMPLES_DEMO_PLANT_H
#define SAMPLES_DEMO_PLANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEMO_MSG_CMD		1	/* operator -> real-time */
#define DEMO_MSG_RESP		2	/* real-time -> operator */
#define DEMO_REGION_ID		0x1000	/* the first ACRN region id left to users */
#define DEMO_SLOTS		16	/* messages per ring */

#define PLANT_LINES		4
#define PLANT_MAX_RPM		3000

struct plant {
	uint32_t speed_rpm;
	bool line_running[PLANT_LINES];
	uint32_t commands;	/* executed, errors included */
};

void plant_init(struct plant *p);

/* Temperature in tenths of a degree Celsius, a function of speed and running lines. */
uint32_t plant_temp_decic(const struct plant *p);

/*
 * Executes the command cmd[0..len) and writes the NUL-terminated answer into out (truncated to
 * outlen). Returns true when the command was "stop".
 */
bool plant_exec(struct plant *p, const char *cmd, size_t len, char *out, size_t outlen);

#endif
