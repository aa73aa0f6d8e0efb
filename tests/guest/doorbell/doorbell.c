/*
 * doorbell: the ivshmem doorbell device between VMs (see db.h for the shared layout).
 *
 *   role=peer  (default) the strict suite, every guest index=0..peers-1 at once:
 *              ids        each guest publishes its IVPosition; all ids distinct; data readable
 *              pingpong   every ordered pair (i, j) in turn: i rings j on every vector, j answers
 *                         on the same vector, rounds=R times; each round trip counted and timed,
 *                         each interrupt the expected vector within rt_ms, none extra
 *              mask       guest 0 <-> 1 both ways: a masked vector (MSI-X entry) and a function
 *                         mask: ringing leaves the PBA bit set and no interrupt; unmasking
 *                         delivers exactly one
 *              absent     ringing an absent peer and vectors beyond a peer's count reaches nobody;
 *                         ringing ourselves does
 *              regs       IntrStatus/IntrMask/IVPosition/Doorbell semantics under MSI-X
 *              tests=pingpong,mask,... picks some (default all).
 *   role=plain the plain device (no MSI-X): ids, data shared both ways
 *   role=echo  the long-running guest of the disruption tests (db_echo.c)
 *
 * Options: index=K peers=N vectors=N rounds=R rt_ms=MS (one round trip) wait=S (a barrier),
 * use_vectors=N (ring only the first N vectors: the server has fewer than the device).
 */
#include "db.h"

static uint32_t phase;

static void barrier(void)
{
	db_barrier(++phase);
}

/* Does the comma-separated list contain word? */
static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p;) {
		const char *e = p;

		while (*e && *e != ',')
			e++;
		if ((size_t)(e - p) == n && strncmp(p, word, n) == 0)
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

static void expect_irq(unsigned k, const char *what)
{
	uint64_t t0 = time_us();
	int v = db_wait_irq(db.timeout_us);

	CHECK(v == (int)(DB_VEC_BASE + k), "%s: expected vector 0x%x, got %s0x%x after %lu us",
	      what, DB_VEC_BASE + k, v == WAIT_TIMEOUT ? "a timeout " : "", v,
	      time_us() - t0);
}

/* expect_irq for one round of the ping-pong; the message is only formatted on failure. */
static void expect_round(unsigned i, unsigned j, unsigned r, unsigned k)
{
	int v = db_wait_irq(db.timeout_us);

	if (v != (int)(DB_VEC_BASE + k))
		test_fail("%u->%u round %u vector %u: expected vector 0x%x, got %s0x%x", i, j, r, k,
			  DB_VEC_BASE + k, v == WAIT_TIMEOUT ? "a timeout " : "", v);
}

static void expect_quiet(uint64_t us, const char *what)
{
	int v = db_wait_irq(us);

	CHECK(v == WAIT_TIMEOUT, "%s: unexpected interrupt 0x%x", what, v);
}

static uint32_t peer_id(unsigned k)
{
	struct db_slot *s = db_peer(k);

	CHECK(s, "guest %u has no slot", k);
	return s->id;
}

static unsigned min_u(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

static void test_ids(void)
{
	test_begin("doorbell/ids");
	db_publish();
	barrier(); /* everybody's MSI-X is set up and its slot written */
	for (unsigned k = 0; k < db.npeers; k++) {
		struct db_slot *s = db_peer(k);

		printf("doorbell: guest %u is peer %u (%u vectors)\n", k, s->id, s->nvec);
		for (unsigned j = 0; j < k; j++)
			CHECK(db.nvec == 0 || db_peer(j)->id != s->id,
			      "guests %u and %u share id %u", j, k, s->id);
	}
	db_check_data(false);
	test_pass();
}

/* i rings j on each vector, j answers on the same vector; rounds times. */
static void pingpong_pair(unsigned i, unsigned j, unsigned rounds)
{
	unsigned nvec = min_u(db_peer(i)->nvec, db_peer(j)->nvec);
	uint64_t n = 0, sum = 0, max = 0, min = UINT64_MAX;

	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned v = 0; v < nvec; v++) {
			uint64_t req = (uint64_t)(i << 24 | j << 16 | r) << 16 | v;

			if (db.index == i) {
				uint64_t t0 = rdtsc();

				db_slot(j)->req[i] = req;
				db_ring(peer_id(j), v);
				expect_round(i, j, r, v);
				uint64_t us = tsc_to_us(rdtsc() - t0);

				CHECK(db_slot(i)->ack[j] == req, "%u->%u: answer 0x%lx, expected 0x%lx",
				      i, j, db_slot(i)->ack[j], req);
				n++;
				sum += us;
				max = us > max ? us : max;
				min = us < min ? us : min;
			} else {
				expect_round(i, j, r, v);
				CHECK(db_slot(j)->req[i] == req, "%u->%u: request 0x%lx, expected 0x%lx",
				      i, j, db_slot(j)->req[i], req);
				db_slot(i)->ack[j] = req;
				db_ring(peer_id(i), v);
			}
		}
	}
	if (db.index == i) {
		CHECK_EQ(n, (uint64_t)rounds * nvec);
		printf("doorbell: pingpong %u->%u: %lu round trips on %u vectors, %lu us average, "
		       "%lu min, %lu max\n", i, j, n, nvec, sum / (n ? n : 1), n ? min : 0, max);
	}
}

static void test_pingpong(unsigned rounds)
{
	test_begin("doorbell/pingpong");
	for (unsigned i = 0; i < db.npeers; i++)
		for (unsigned j = 0; j < db.npeers; j++) {
			if (i == j)
				continue;
			if (db.index == i || db.index == j)
				pingpong_pair(i, j, rounds);
			barrier();
		}
	expect_quiet(20000, "after the ping-pong");
	test_pass();
}

/* Waits until vector k is pending in the PBA; no interrupt may come meanwhile. */
static void wait_pending(unsigned k, const char *what)
{
	uint64_t start = time_us();

	while (!db_pba_pending(k)) {
		CHECK(time_us() - start < db.timeout_us, "%s: vector %u never became pending", what,
		      k);
		expect_quiet(1000, what);
	}
}

static void mask_case(unsigned sender, unsigned receiver, unsigned k, bool function)
{
	const char *what = function ? "function mask" : "vector mask";

	if (db.index == receiver) {
		if (function)
			db_function_mask(true);
		else
			db_vector_mask(k, true);
	}
	barrier();
	if (db.index == sender) {
		/* Twice: both land in one pending bit, delivered once. */
		db_ring(peer_id(receiver), k);
		db_ring(peer_id(receiver), k);
	}
	barrier();
	if (db.index == receiver) {
		wait_pending(k, what);
		expect_quiet(20000, what);
		CHECK(db_pba_pending(k), "%s: the pending bit of vector %u went away", what, k);
		if (function)
			db_function_mask(false);
		else
			db_vector_mask(k, false);
		expect_irq(k, what);
		CHECK(!db_pba_pending(k), "%s: vector %u still pending after delivery", what, k);
		expect_quiet(50000, what);
		printf("doorbell: %s: vector %u rung by guest %u while masked: pending, delivered "
		       "once on unmask\n", what, k, sender);
	}
	barrier();
}

static void test_mask(void)
{
	test_begin("doorbell/mask");
	if (db.npeers < 2 || db.index > 1) {
		/* Only guests 0 and 1 take part; the others keep to the barriers. */
		for (int n = 0; n < (db.npeers < 2 ? 0 : 12); n++)
			barrier();
		if (db.npeers < 2)
			test_skip("needs two guests");
		else
			test_pass();
		return;
	}
	unsigned k = db.nvec > 1 ? 1 : 0, k2 = db.nvec - 1;

	for (unsigned s = 0; s < 2; s++) {
		mask_case(s, 1 - s, k, false);
		mask_case(s, 1 - s, k2, true);
	}
	test_pass();
}

static bool id_published(uint32_t id)
{
	for (unsigned k = 0; k < db.npeers; k++)
		if (db_peer(k) && db_peer(k)->id == id)
			return true;
	return false;
}

static void test_absent(void)
{
	test_begin("doorbell/absent");
	uint32_t absent = 0;

	for (unsigned k = 0; k < db.npeers; k++)
		absent = peer_id(k) > absent ? peer_id(k) : absent;
	absent = (absent + 1) & 0xffff;
	while (id_published(absent))
		absent = (absent + 1) & 0xffff;
	db_ring(absent, 0);
	if (!id_published(0xffff))
		db_ring(0xffff, 0);
	for (unsigned k = 0; k < db.npeers; k++) {
		if (k == db.index)
			continue;
		db_ring(peer_id(k), db_peer(k)->nvec);		/* one beyond its vectors */
		db_ring(peer_id(k), db_peer(k)->nvec + 7);
		db_ring(peer_id(k), 0xffff);
	}
	barrier();
	expect_quiet(100000, "after rings to nobody");
	barrier();
	/* The positive control: a ring to ourselves arrives. */
	db_ring(db.id, 0);
	expect_irq(0, "ring to ourselves");
	expect_quiet(20000, "after the ring to ourselves");
	printf("doorbell: rings to absent peer %u, to 0xffff and beyond the peers' vectors reached "
	       "nobody; a ring to ourselves arrived\n", absent);
	barrier();
	test_pass();
}

static void test_regs(void)
{
	test_begin("doorbell/regs");
	/* Under MSI-X a doorbell never sets IntrStatus (QEMU's behaviour): nothing to lose there. */
	CHECK_EQ(db_reg_read(DB_REG_INTR_STATUS), 0);
	CHECK_EQ(db_reg_read(DB_REG_IV_POSITION), db.id);
	db_reg_write(DB_REG_IV_POSITION, ~db.id);
	CHECK_EQ(db_reg_read(DB_REG_IV_POSITION), db.id);
	CHECK_EQ(db_reg_read(DB_REG_DOORBELL), 0);
	CHECK_EQ(db_reg_read(0x10), 0);
	CHECK_EQ(db_reg_read(0xfc), 0);
	db_reg_write(DB_REG_INTR_MASK, 0xffffffff);
	CHECK_EQ(db_reg_read(DB_REG_INTR_MASK), 0xffffffff);
	db_reg_write(DB_REG_INTR_MASK, 0);
	CHECK_EQ(db_reg_read(DB_REG_INTR_MASK), 0);
	/* IntrStatus: as written, cleared by a read; no interrupt either way under MSI-X. */
	db_reg_write(DB_REG_INTR_MASK, 1);
	db_reg_write(DB_REG_INTR_STATUS, 1);
	CHECK_EQ(db_reg_read(DB_REG_INTR_STATUS), 1);
	CHECK_EQ(db_reg_read(DB_REG_INTR_STATUS), 0);
	db_reg_write(DB_REG_INTR_MASK, 0);
	expect_quiet(20000, "after IntrStatus/IntrMask writes");
	/* A doorbell delivered through MSI-X leaves IntrStatus alone. */
	db_ring(db.id, 0);
	expect_irq(0, "ring to ourselves");
	CHECK_EQ(db_reg_read(DB_REG_INTR_STATUS), 0);
	test_pass();
}

static int role_peer(const char *cmdline)
{
	char tests[96] = "ids,pingpong,mask,absent,regs";
	uint64_t rounds = 8;

	cmdline_get(cmdline, "tests", tests, sizeof(tests));
	cmdline_get_u64(cmdline, "rounds", &rounds);
	CHECK(db.nvec > 0, "role=peer needs the doorbell device (vectors=N)");
	test_ids();
	if (list_has(tests, "pingpong"))
		test_pingpong((unsigned)rounds);
	if (list_has(tests, "mask"))
		test_mask();
	if (list_has(tests, "absent"))
		test_absent();
	if (list_has(tests, "regs"))
		test_regs();
	test_begin("doorbell/done");
	barrier(); /* nobody leaves while another still needs it */
	test_pass();
	return 0;
}

static int role_plain(void)
{
	test_begin("doorbell/plain");
	CHECK(db.nvec == 0, "role=plain expects ivshmem-plain, the device has MSI-X");
	printf("doorbell: plain device: IVPosition reads %u\n", db.id);
	db_publish();
	barrier();
	db_check_data(false);
	printf("doorbell: the data of all %u guests is intact\n", db.npeers);
	barrier();
	test_pass();
	return 0;
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	char role[16] = "peer";

	(void)mbi;
	cmdline_get(cmdline, "role", role, sizeof(role));
	db_find_device(cmdline);
	if (strcmp(role, "peer") == 0)
		return role_peer(cmdline);
	if (strcmp(role, "plain") == 0)
		return role_plain();
	if (strcmp(role, "echo") == 0)
		return db_echo(cmdline);
	test_fail("unknown role=%s (peer, plain, echo)", role);
}
