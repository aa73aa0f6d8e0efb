/*
 * role=echo: the guest of the disruption tests (peers leaving, joining, killed; the server
 * restarted; hostile clients). It runs until the host writes "STOP" at offset 0 of the region,
 * and meanwhile
 *   - answers every request whose doorbell it took (on the request's vector), from any guest;
 *   - pings the other live guests in turn (a guest is live while its heartbeat moves), one
 *     request at a time, tolerating silence: a request unanswered within rt_ms is a failure,
 *     counted, and the next one goes out;
 *   - re-reads IVPosition and re-publishes it when it changes (a restarted server may hand out
 *     new ids), and keeps its heartbeat going.
 * What the host reads on the serial port:
 *   DB: up index=K peer=J id=N ok=T       the first answer from guest J after start or silence
 *   DB: down index=K peer=J               the first unanswered request after answers
 *   DB: progress index=K ok=T fail=F      every 100 answers
 *   DB: ivposition index=K A -> B         our id changed
 *   DB: summary index=K id=N ok=T fail=F  at the end
 * Options: noping (only answer), exit_after=N (stop after N answers, then keep answering for
 * linger_ms more), limit=S (fail when no STOP comes within S seconds; default 300), rt_ms
 * (default 500), period_ms between requests (5).
 */
#include "db.h"

#define LIVE_US		1500000	/* a heartbeat older than this: the guest is gone */

struct peer_state {
	uint64_t beat, beat_us;	/* last heartbeat seen and when it changed */
	uint64_t boot;
	uint64_t ok, fail;
	bool up;
};

static struct peer_state peers[DB_MAX_PEERS];
static uint64_t served[DB_MAX_PEERS];
static uint64_t rx_pending;	/* vectors taken and not yet answered */
static uint64_t rx_since_send;	/* vectors taken since the current request went out */
static uint64_t total_ok, total_fail, irqs;

static struct {
	int target;		/* -1: none */
	uint64_t req;
	unsigned vec;
	uint64_t sent_us;
} out = { .target = -1 };

static uint64_t bit(unsigned v)
{
	return 1ull << v;
}

static bool live(unsigned k, uint64_t now)
{
	struct db_slot *s = db_peer(k);
	struct peer_state *p = &peers[k];

	if (!s)
		return false;
	if (s->beat != p->beat || s->boot != p->boot) {
		p->beat = s->beat;
		p->boot = s->boot;
		p->beat_us = now;
	}
	return now - p->beat_us < LIVE_US;
}

/* Answers the requests whose doorbell arrived. */
static void serve(void)
{
	uint64_t used = 0;
	struct db_slot *me = db_slot(db.index);

	for (unsigned i = 0; i < DB_MAX_PEERS; i++) {
		struct db_slot *s = db_peer(i);
		uint64_t r = me->req[i];
		unsigned v = r & 0xffff;

		if (i == db.index || !s || !r || r == served[i] || v >= db.nvec ||
		    !(rx_pending & bit(v)))
			continue;
		served[i] = r;
		db_slot(i)->ack[db.index] = r;
		db_ring(s->id, v);
		used |= bit(v);
	}
	rx_pending &= ~used;
}

static void ping_result(bool ok)
{
	unsigned k = (unsigned)out.target;
	struct peer_state *p = &peers[k];

	out.target = -1;
	if (ok) {
		p->ok++;
		total_ok++;
		if (!p->up)
			printf("DB: up index=%u peer=%u id=%u ok=%lu\n", db.index, k, db_slot(k)->id,
			       total_ok);
		p->up = true;
		if (total_ok % 100 == 0)
			printf("DB: progress index=%u ok=%lu fail=%lu\n", db.index, total_ok,
			       total_fail);
	} else {
		p->fail++;
		total_fail++;
		if (p->up)
			printf("DB: down index=%u peer=%u\n", db.index, k);
		p->up = false;
	}
}

static void ping_step(uint64_t now, uint64_t rt_us, uint64_t period_us)
{
	static unsigned next;
	static uint64_t seq, last_send;

	if (out.target >= 0) {
		if (db_slot(db.index)->ack[out.target] == out.req && (rx_since_send & bit(out.vec)))
			ping_result(true);
		else if (now - out.sent_us > rt_us)
			ping_result(false);
		else
			return;
	}
	if (now - last_send < period_us)
		return;
	for (unsigned n = 0; n < DB_MAX_PEERS; n++) {
		unsigned k = (next + n) % DB_MAX_PEERS;
		struct db_slot *s = db_peer(k);

		if (k == db.index || !live(k, now) || !s->nvec)
			continue;
		next = k + 1;
		seq++;
		out.target = (int)k;
		out.vec = (unsigned)(seq % (s->nvec < db.nvec ? s->nvec : db.nvec));
		out.req = seq << 16 | out.vec;
		out.sent_us = last_send = now;
		rx_since_send &= ~bit(out.vec);
		db_slot(k)->req[db.index] = out.req;
		db_ring(s->id, out.vec);
		return;
	}
}

int db_echo(const char *cmdline)
{
	uint64_t exit_after = 0, limit = 300, rt_ms = 500, period_ms = 5, linger_ms = 0;
	uint64_t done_us = 0;
	bool ping = !cmdline_has(cmdline, "noping");
	struct db_slot *me = db_slot(db.index);

	cmdline_get_u64(cmdline, "exit_after", &exit_after);
	cmdline_get_u64(cmdline, "limit", &limit);
	cmdline_get_u64(cmdline, "rt_ms", &rt_ms);
	cmdline_get_u64(cmdline, "period_ms", &period_ms);
	cmdline_get_u64(cmdline, "linger_ms", &linger_ms);
	CHECK(db.nvec > 0, "role=echo needs the doorbell device (vectors=N)");

	test_begin("doorbell/echo");
	db_publish();
	printf("DB: started index=%u id=%u\n", db.index, db.id);
	uint64_t start = time_us();

	for (;;) {
		uint64_t now = time_us();

		if (db_ctl()->stop == DB_CTL_STOP)
			break;
		CHECK(now - start < limit * 1000000, "no STOP within %lu s", limit);
		uint32_t id = db_reg_read(DB_REG_IV_POSITION);

		if (id != db.id) {
			printf("DB: ivposition index=%u %u -> %u\n", db.index, db.id, id);
			db.id = id;
			me->id = id;
		}
		me->beat++;
		serve();
		if (ping && !done_us)
			ping_step(now, rt_ms * 1000, period_ms * 1000);
		if (exit_after && total_ok >= exit_after && !done_us)
			done_us = now;
		if (done_us && now - done_us >= linger_ms * 1000)
			break;
		int v = wait_irq(2000);

		if (v == WAIT_TIMEOUT)
			continue;
		CHECK(v >= DB_VEC_BASE && v < (int)(DB_VEC_BASE + db.nvec), "interrupt 0x%x", v);
		rx_pending |= bit((unsigned)v - DB_VEC_BASE);
		rx_since_send |= bit((unsigned)v - DB_VEC_BASE);
		irqs++;
	}
	/* Whatever happened to the server and the peers, the memory is what everyone wrote. */
	db_check_data(true);
	printf("DB: summary index=%u id=%u ok=%lu fail=%lu irqs=%lu\n", db.index, db.id, total_ok,
	       total_fail, irqs);
	for (unsigned k = 0; k < DB_MAX_PEERS; k++)
		if (peers[k].ok || peers[k].fail)
			printf("DB: peer index=%u peer=%u ok=%lu fail=%lu\n", db.index, k, peers[k].ok,
			       peers[k].fail);
	CHECK(!ping || total_ok > 0, "no request was ever answered");
	test_pass();
	return 0;
}
