/*
 * The fake plant: a conveyor speed and a few production lines whose temperature follows them.
 * Commands come from the other VM, so parsing trusts nothing: lengths are explicit, numbers are
 * bounded, and every answer fits the caller's buffer.
 */
#include "plant.h"

/* A bounded string builder: appends what fits, always NUL-terminated. */
struct out {
	char *buf;
	size_t len, cap;
};

static void put_char(struct out *o, char c)
{
	if (o->len + 1 < o->cap) {
		o->buf[o->len++] = c;
		o->buf[o->len] = '\0';
	}
}

static void put_str(struct out *o, const char *s)
{
	while (*s)
		put_char(o, *s++);
}

static void put_mem(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_char(o, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
}

static void put_uint(struct out *o, uint32_t v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_char(o, digits[--n]);
}

/* 325 -> "32.5" */
static void put_decic(struct out *o, uint32_t v)
{
	put_uint(o, v / 10);
	put_char(o, '.');
	put_char(o, (char)('0' + v % 10));
}

void plant_init(struct plant *p)
{
	p->speed_rpm = 0;
	for (int i = 0; i < PLANT_LINES; i++)
		p->line_running[i] = false;
	p->commands = 0;
}

uint32_t plant_temp_decic(const struct plant *p)
{
	uint32_t t = 200 + p->speed_rpm / 10;	/* 20.0 C at rest, +1 C per 100 rpm */

	for (int i = 0; i < PLANT_LINES; i++)
		t += p->line_running[i] ? 35 : 0;
	return t;
}

/* The command word: cmd[0..len) up to the first space. */
static bool word_is(const char *cmd, size_t len, const char *word)
{
	size_t i = 0;

	for (; word[i]; i++)
		if (i >= len || cmd[i] != word[i])
			return false;
	return i == len || cmd[i] == ' ';
}

/* The decimal argument after the command word: false when missing, malformed or > max. */
static bool arg_uint(const char *cmd, size_t len, uint32_t max, uint32_t *v)
{
	size_t i = 0;
	uint32_t n = 0;

	while (i < len && cmd[i] != ' ')
		i++;
	while (i < len && cmd[i] == ' ')
		i++;
	if (i == len)
		return false;
	for (; i < len; i++) {
		if (cmd[i] < '0' || cmd[i] > '9')
			return false;
		n = n * 10 + (uint32_t)(cmd[i] - '0');
		if (n > max)
			return false;
	}
	*v = n;
	return true;
}

static void line_cmd(struct plant *p, const char *cmd, size_t len, bool run, struct out *o)
{
	uint32_t n;

	if (!arg_uint(cmd, len, PLANT_LINES, &n) || n == 0) {
		put_str(o, "error: line must be 1..");
		put_uint(o, PLANT_LINES);
		return;
	}
	p->line_running[n - 1] = run;
	put_str(o, "ok line ");
	put_uint(o, n);
	put_str(o, run ? " running" : " stopped");
}

static void status(const struct plant *p, struct out *o)
{
	put_str(o, "speed=");
	put_uint(o, p->speed_rpm);
	put_str(o, " rpm lines=");
	for (int i = 0; i < PLANT_LINES; i++)
		put_char(o, p->line_running[i] ? (char)('1' + i) : '-');
	put_str(o, " temp=");
	put_decic(o, plant_temp_decic(p));
	put_str(o, " C");
}

bool plant_exec(struct plant *p, const char *cmd, size_t len, char *out, size_t outlen)
{
	struct out o = { out, 0, outlen };
	uint32_t v;

	if (outlen)
		out[0] = '\0';
	p->commands++;
	if (word_is(cmd, len, "set-speed")) {
		if (!arg_uint(cmd, len, PLANT_MAX_RPM, &v)) {
			put_str(&o, "error: speed must be 0..");
			put_uint(&o, PLANT_MAX_RPM);
			put_str(&o, " rpm");
			return false;
		}
		p->speed_rpm = v;
		put_str(&o, "ok speed=");
		put_uint(&o, v);
		put_str(&o, " rpm");
	} else if (word_is(cmd, len, "start-line")) {
		line_cmd(p, cmd, len, true, &o);
	} else if (word_is(cmd, len, "stop-line")) {
		line_cmd(p, cmd, len, false, &o);
	} else if (word_is(cmd, len, "read-temp")) {
		put_str(&o, "temp=");
		put_decic(&o, plant_temp_decic(p));
		put_str(&o, " C");
	} else if (word_is(cmd, len, "status")) {
		status(p, &o);
	} else if (word_is(cmd, len, "ping")) {
		put_str(&o, "pong");
	} else if (word_is(cmd, len, "stop")) {
		put_str(&o, "ok stopping: ");
		status(p, &o);
		return true;
	} else {
		put_str(&o, "error: unknown command '");
		put_mem(&o, cmd, len > 32 ? 32 : len);
		put_str(&o, "'");
	}
	return false;
}
