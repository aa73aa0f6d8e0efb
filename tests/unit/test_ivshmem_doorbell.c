/*
 * The doorbell device (vectors=N) against a fake hypervisor backend and a fake ivshmem server.
 *
 * The backend records every ioeventfd and irqfd it is given and keeps the live ones, so a test can
 * check what the kernel would be doing; send_msi is recorded through the PCI fixture. The server
 * is one end of a socketpair that ivshmem_server_connect (wrapped) hands to the device, with the
 * welcome already written into it; later messages are written by the test and delivered by
 * running GLib's main context, as acrn-dm's main loop would.
 *
 * What is checked: an ioeventfd per (peer, vector) at BAR0 + 0x0C with datamatch peer << 16 |
 * vector, bound to that peer's eventfd, while BAR0 decodes, following BAR0 when it moves and
 * gone while decode is off; a departed peer's ioeventfds removed and nobody else's touched; a
 * joining peer's added; an irqfd per own vector while it is usable (MSI-X on, vector and function
 * unmasked), updated when its message changes, detached on mask; a masked vector's doorbell left
 * pending in the PBA and delivered on unmask; the -ENOTSUP fallback to user space for both; the
 * slow path's rings and drops; losing the server and reconnecting; bad servers at set-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivshmem_config.h"
#include "ivshmem_proto.h"
#include "pci.h"
#include "pci_msix.h"
#include "test_fail.h"
#include "test_pci_fixture.h"
#include "vm.h"

#define SLOT		5
#define NVEC		2
#define OWN_ID		3
#define REGION_SIZE	(2u << 20)
#define REG_IV_POSITION	0x08
#define REG_DOORBELL	0x0c
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_FMASK	0x4000

/* ---- the fake backend ---- */

#define MAX_LIVE 256

static struct vmm_ioeventfd ioevs[MAX_LIVE];
static unsigned nioevs, ioev_adds, ioev_dels;

struct irqfd {
	int handle, fd;
	uint64_t addr;
	uint32_t data;
};
static struct irqfd irqfds[MAX_LIVE];
static unsigned nirqfds, irqfd_adds, irqfd_updates, irqfd_dels;
static int next_handle;
static bool backend_enotsup;

/* map_ram, unmap_ram and send_msi are the PCI fixture's; the fast paths are recorded here. */
static int fake_ioeventfd_add(struct vmm *vmm, const struct vmm_ioeventfd *ev)
{
	(void)vmm;
	ioev_adds++;
	if (backend_enotsup)
		return -ENOTSUP;
	for (unsigned i = 0; i < nioevs; i++)
		if (ioevs[i].addr == ev->addr && ioevs[i].datamatch == ev->datamatch &&
		    ioevs[i].data == ev->data)
			fail_msg("ioeventfd at 0x%llx data 0x%llx registered twice",
				 (unsigned long long)ev->addr, (unsigned long long)ev->data);
	assert_true(ev->fd >= 0);
	assert_int_equal(ev->len, 4);
	assert_true(nioevs < MAX_LIVE);
	ioevs[nioevs++] = *ev;
	return 0;
}

static int fake_ioeventfd_del(struct vmm *vmm, const struct vmm_ioeventfd *ev)
{
	(void)vmm;
	ioev_dels++;
	for (unsigned i = 0; i < nioevs; i++)
		if (ioevs[i].addr == ev->addr && ioevs[i].data == ev->data && ioevs[i].fd == ev->fd) {
			ioevs[i] = ioevs[--nioevs];
			return 0;
		}
	fail_msg("ioeventfd_del of one never added (0x%llx data 0x%llx)",
		 (unsigned long long)ev->addr, (unsigned long long)ev->data);
	return -ENOENT;
}

static int fake_irqfd_add(struct vmm *vmm, int fd, uint64_t addr, uint32_t data)
{
	(void)vmm;
	irqfd_adds++;
	if (backend_enotsup)
		return -ENOTSUP;
	for (unsigned i = 0; i < nirqfds; i++)
		if (irqfds[i].fd == fd)
			fail_msg("fd %d bound to two irqfds", fd);
	assert_true(nirqfds < MAX_LIVE);
	irqfds[nirqfds++] = (struct irqfd){ next_handle, fd, addr, data };
	return next_handle++;
}

static struct irqfd *irqfd_by_handle(int handle)
{
	for (unsigned i = 0; i < nirqfds; i++)
		if (irqfds[i].handle == handle)
			return &irqfds[i];
	fail_now("no irqfd with handle %d", handle);
}

static struct irqfd *irqfd_for(uint64_t addr)
{
	for (unsigned i = 0; i < nirqfds; i++)
		if (irqfds[i].addr == addr)
			return &irqfds[i];
	fail_now("no irqfd for the message at 0x%llx", (unsigned long long)addr);
}

static int fake_irqfd_update(struct vmm *vmm, int handle, uint64_t addr, uint32_t data)
{
	(void)vmm;
	irqfd_updates++;
	struct irqfd *q = irqfd_by_handle(handle);
	q->addr = addr;
	q->data = data;
	return 0;
}

static int fake_irqfd_del(struct vmm *vmm, int handle)
{
	(void)vmm;
	irqfd_dels++;
	struct irqfd *q = irqfd_by_handle(handle);
	*q = irqfds[--nirqfds];
	return 0;
}

static const struct vmm_ops fake_ops = {
	.name = "fake-kvm",
	.map_ram = fixture_map_ram,
	.unmap_ram = fixture_unmap_ram,
	.send_msi = fixture_send_msi,
	.ioeventfd_add = fake_ioeventfd_add,
	.ioeventfd_del = fake_ioeventfd_del,
	.irqfd_add = fake_irqfd_add,
	.irqfd_update = fake_irqfd_update,
	.irqfd_del = fake_irqfd_del,
};

/* ---- the fake server ---- */

struct peer {
	uint16_t id;
	int fds[NVEC];		/* the test's copies of the peer's eventfds */
};

struct server {
	int sock;		/* the test's end */
	int dev_sock;		/* the device's end, until ivshmem_server_connect hands it out */
	int shm;
	int own[NVEC];		/* the eventfds the device is rung on */
	struct peer peers[8];
	unsigned npeers;
};

#define MAX_SERVERS 4
static struct server servers[MAX_SERVERS];
static unsigned nservers, next_server;
static char last_identity[64];
static bool last_may_start;

int __real_ivshmem_server_connect(const struct ivshmem_config *cfg, bool may_start,
				  const char *identity, char *err, size_t errlen);
int __wrap_ivshmem_server_connect(const struct ivshmem_config *cfg, bool may_start,
				  const char *identity, char *err, size_t errlen);

int __wrap_ivshmem_server_connect(const struct ivshmem_config *cfg, bool may_start,
				  const char *identity, char *err, size_t errlen)
{
	(void)cfg;
	snprintf(last_identity, sizeof(last_identity), "%s", identity ? identity : "");
	last_may_start = may_start;
	if (next_server >= nservers || servers[next_server].dev_sock < 0) {
		snprintf(err, errlen, "no fake server prepared");
		return -ECONNREFUSED;
	}
	int sock = servers[next_server].dev_sock;
	servers[next_server++].dev_sock = -1;
	return sock;
}

static void srv_send(struct server *s, int64_t value, int fd)
{
	struct ivshmem_error err = { { 0 } };
	assert_int_equal(ivshmem_proto_send(s->sock, value, fd, &err), 0);
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* A server whose welcome names us own_id and the given peers; shm may be shared with another. */
static struct server *server_new(int own_id, const uint16_t *peer_ids, unsigned npeers,
				 unsigned own_vectors, int shm)
{
	assert_true(nservers < MAX_SERVERS);
	struct server *s = &servers[nservers++];
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	s->sock = sv[0];
	s->dev_sock = sv[1];
	if (shm < 0) {
		shm = memfd_create("doorbell-test", MFD_CLOEXEC);
		assert_true(shm >= 0);
		assert_int_equal(ftruncate(shm, REGION_SIZE), 0);
	} else {
		shm = dup(shm);
	}
	s->shm = shm;
	srv_send(s, IVSHMEM_PROTOCOL_VERSION, -1);
	srv_send(s, own_id, -1);
	srv_send(s, IVSHMEM_SHM_MSG, s->shm);
	s->npeers = npeers;
	for (unsigned p = 0; p < npeers; p++) {
		s->peers[p].id = peer_ids[p];
		for (unsigned v = 0; v < NVEC; v++) {
			s->peers[p].fds[v] = new_eventfd();
			srv_send(s, peer_ids[p], s->peers[p].fds[v]);
		}
	}
	for (unsigned v = 0; v < NVEC; v++) {
		s->own[v] = new_eventfd();
		if (v < own_vectors)
			srv_send(s, own_id, s->own[v]);
	}
	return s;
}

static void server_close(struct server *s)
{
	if (s->sock >= 0)
		close(s->sock);
	if (s->dev_sock >= 0)
		close(s->dev_sock);
	close(s->shm);
	for (unsigned v = 0; v < NVEC; v++)
		close(s->own[v]);
	for (unsigned p = 0; p < s->npeers; p++)
		for (unsigned v = 0; v < NVEC; v++)
			close(s->peers[p].fds[v]);
	s->sock = s->dev_sock = -1;
	s->npeers = 0;
}

/* A peer joins: its id once per vector, each with an eventfd. */
static void server_join(struct server *s, uint16_t id)
{
	struct peer *p = &s->peers[s->npeers++];
	p->id = id;
	for (unsigned v = 0; v < NVEC; v++) {
		p->fds[v] = new_eventfd();
		srv_send(s, id, p->fds[v]);
	}
}

/* Delivers whatever is pending to the device's GLib sources. */
static void run_loop(void)
{
	for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static gboolean set_flag(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

/* Runs the main loop for ms (the reconnect timer is 500 ms). */
static void run_loop_for(unsigned ms)
{
	bool done = false;
	g_timeout_add(ms, set_flag, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

/* The eventfd's counter, read (and reset) through the test's copy: 0 when nothing was signalled. */
static uint64_t drain(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	return v;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

/* ---- fixture ---- */

static struct vm_config vmcfg;

static int setup(void **state)
{
	struct vm *vm = test_vm_new();
	vm->vmm.ops = &fake_ops;
	memset(&vmcfg, 0, sizeof(vmcfg));
	snprintf(vmcfg.name, sizeof(vmcfg.name), "dbtest");
	assert_int_equal(uuid_parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427", vmcfg.uuid), 0);
	vm->cfg = &vmcfg;
	nioevs = ioev_adds = ioev_dels = 0;
	nirqfds = irqfd_adds = irqfd_updates = irqfd_dels = 0;
	next_handle = 100;
	backend_enotsup = false;
	nservers = next_server = 0;
	*state = vm;
	return 0;
}

static int teardown(void **state)
{
	if (*state)
		test_vm_free(*state);
	/* The device unbound everything it had bound. */
	assert_int_equal(nioevs, 0);
	assert_int_equal(nirqfds, 0);
	for (unsigned i = 0; i < nservers; i++)
		server_close(&servers[i]);
	run_loop();
	return 0;
}

static int add_doorbell(struct vm *vm, const char *extra)
{
	char config[256];
	snprintf(config, sizeof(config), "dm:/dbtest%d,2,vectors=%d,server=/nonexistent.sock%s",
		 (int)getpid(), NVEC, extra);
	return test_add(vm, SLOT, 0, "ivshmem", config);
}

static void start(struct vm *vm)
{
	assert_int_equal(pci_bus_start(vm->pci), 0);
}

static uint64_t bar_addr(struct vm *vm, int idx)
{
	return cfg_read(vm, SLOT, 0, PCIR_BAR(idx), 4) & ~0xfull;
}

static void set_cmd_mem(struct vm *vm, bool on)
{
	uint16_t cmd = (uint16_t)cfg_read(vm, SLOT, 0, PCIR_COMMAND, 2);
	cmd = on ? (cmd | PCIM_CMD_MEM) : (cmd & ~PCIM_CMD_MEM);
	cfg_write(vm, SLOT, 0, PCIR_COMMAND, 2, cmd);
}

static unsigned msix_cap(struct vm *vm)
{
	unsigned cap = cfg_read(vm, SLOT, 0, PCIR_CAP_PTR, 1);
	while (cap && cfg_read(vm, SLOT, 0, cap, 1) != PCIY_MSIX)
		cap = cfg_read(vm, SLOT, 0, cap + 1, 1);
	assert_int_not_equal(cap, 0);
	return cap;
}

static void msix_ctrl(struct vm *vm, bool enable, bool fmask)
{
	unsigned cap = msix_cap(vm);
	uint16_t ctrl = (uint16_t)cfg_read(vm, SLOT, 0, cap + 2, 2);
	ctrl = enable ? ctrl | MSIX_CTRL_ENABLE : ctrl & ~MSIX_CTRL_ENABLE;
	ctrl = fmask ? ctrl | MSIX_CTRL_FMASK : ctrl & ~MSIX_CTRL_FMASK;
	cfg_write(vm, SLOT, 0, cap + 2, 2, ctrl);
}

static uint64_t msi_addr(unsigned k)
{
	return 0xfee00000ull | (uint64_t)k << 12;
}

/* Programs MSI-X entry k (address/data) and its mask bit, through BAR1 as a guest does. */
static void msix_entry(struct vm *vm, unsigned k, uint32_t data, bool masked)
{
	uint64_t e = bar_addr(vm, 1) + k * PCI_MSIX_ENTRY_SIZE;
	mmio_write(vm, e + 12, 4, 1);
	mmio_write(vm, e + 0, 4, (uint32_t)msi_addr(k));
	mmio_write(vm, e + 4, 4, 0);
	mmio_write(vm, e + 8, 4, data);
	mmio_write(vm, e + 12, 4, masked ? 1 : 0);
}

static void msix_mask(struct vm *vm, unsigned k, bool masked)
{
	mmio_write(vm, bar_addr(vm, 1) + k * PCI_MSIX_ENTRY_SIZE + 12, 4, masked ? 1 : 0);
}

static bool pending(struct vm *vm, unsigned k)
{
	return pci_msix_pending(test_dev(vm, SLOT, 0), k);
}

/* The live ioeventfd with this datamatch, or NULL. */
static const struct vmm_ioeventfd *ioev_for(unsigned peer, unsigned vector)
{
	for (unsigned i = 0; i < nioevs; i++)
		if (ioevs[i].datamatch && ioevs[i].data == ((uint64_t)peer << 16 | vector))
			return &ioevs[i];
	return NULL;
}

/* The live ioeventfd with this datamatch, which must exist. */
static const struct vmm_ioeventfd *ioev_must(unsigned peer, unsigned vector)
{
	const struct vmm_ioeventfd *ev = ioev_for(peer, vector);
	if (!ev)
		fail_now("no ioeventfd for peer %u vector %u", peer, vector);
	return ev;
}

/*
 * Exactly one ioeventfd per (peer, vector) of the given peers plus our own id, at regs + 0x0C,
 * each bound to the eventfd the server gave for it (signalled through it, seen on the test's copy).
 */
static void expect_ioevents(uint64_t regs, struct server *s, unsigned own_id)
{
	assert_int_equal(nioevs, (s->npeers + 1) * NVEC);
	for (unsigned p = 0; p <= s->npeers; p++) {
		for (unsigned v = 0; v < NVEC; v++) {
			unsigned id = p < s->npeers ? s->peers[p].id : own_id;
			int mine = p < s->npeers ? s->peers[p].fds[v] : s->own[v];
			const struct vmm_ioeventfd *ev = ioev_must(id, v);
			assert_int_equal(ev->addr, regs + REG_DOORBELL);
			signal_fd(ev->fd);
			/* Own eventfds may have an irqfd or a user-space watch: read before it does. */
			assert_int_equal(drain(mine), 1);
		}
	}
}

/* ---- tests ---- */

static void test_ioeventfds_follow_bar0(void **state)
{
	struct vm *vm = *state;
	const uint16_t peers[] = { 1, 5 };
	struct server *s = server_new(OWN_ID, peers, 2, NVEC, -1);

	assert_int_equal(add_doorbell(vm, ""), 0);
	/* An explicit server= is never started by acrn-dm; the VM's UUID is its identity. */
	assert_false(last_may_start);
	assert_string_equal(last_identity, "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
	assert_int_equal(nioevs, 0); /* BAR0 does not decode yet */
	start(vm);
	uint64_t regs = bar_addr(vm, 0);
	assert_int_not_equal(regs, 0);
	expect_ioevents(regs, s, OWN_ID);
	assert_int_equal(mmio_read(vm, regs + REG_IV_POSITION, 4), OWN_ID);

	/* Decode off: all gone. On: all back at the same place. */
	set_cmd_mem(vm, false);
	assert_int_equal(nioevs, 0);
	set_cmd_mem(vm, true);
	expect_ioevents(regs, s, OWN_ID);

	/* BAR0 moved by the guest: they follow it. */
	uint64_t to = 0xd0000000;
	set_cmd_mem(vm, false);
	cfg_write(vm, SLOT, 0, PCIR_BAR(0), 4, (uint32_t)to);
	set_cmd_mem(vm, true);
	assert_int_equal(bar_addr(vm, 0), to);
	expect_ioevents(to, s, OWN_ID);
	/* A doorbell write that reaches acrn-dm (no ioeventfd took it) still rings the peer. */
	mmio_write(vm, to + REG_DOORBELL, 4, 5u << 16 | 1);
	assert_int_equal(drain(s->peers[1].fds[1]), 1);
}

static void test_peers_join_and_leave(void **state)
{
	struct vm *vm = *state;
	const uint16_t peers[] = { 1, 5 };
	struct server *s = server_new(OWN_ID, peers, 2, NVEC, -1);

	assert_int_equal(add_doorbell(vm, ""), 0);
	start(vm);
	uint64_t regs = bar_addr(vm, 0);
	unsigned adds = ioev_adds, dels = ioev_dels;

	/* Peer 5 leaves: its two ioeventfds go, nobody else's is touched. */
	srv_send(s, 5, -1);
	run_loop();
	assert_int_equal(ioev_dels - dels, NVEC);
	assert_int_equal(ioev_adds - adds, 0);
	assert_null(ioev_for(5, 0));
	assert_null(ioev_for(5, 1));
	assert_non_null(ioev_for(1, 0));
	assert_non_null(ioev_for(OWN_ID, 1));
	/* Ringing it now reaches nobody. */
	mmio_write(vm, regs + REG_DOORBELL, 4, 5u << 16 | 0);
	assert_int_equal(drain(s->peers[1].fds[0]), 0);

	/* Peer 9 joins: two ioeventfds more, bound to its eventfds. */
	adds = ioev_adds;
	dels = ioev_dels;
	server_join(s, 9);
	run_loop();
	assert_int_equal(ioev_adds - adds, NVEC);
	assert_int_equal(ioev_dels - dels, 0);
	for (unsigned v = 0; v < NVEC; v++) {
		const struct vmm_ioeventfd *ev = ioev_must(9, v);
		assert_int_equal(ev->addr, regs + REG_DOORBELL);
		signal_fd(ev->fd);
		assert_int_equal(drain(s->peers[2].fds[v]), 1);
	}
	/* A departure of a peer nobody knows changes nothing. */
	srv_send(s, 42, -1);
	run_loop();
	assert_int_equal(nioevs, 3 * NVEC);
}

static void test_irqfd_follows_mask(void **state)
{
	struct vm *vm = *state;
	const uint16_t peers[] = { 1 };
	struct server *s = server_new(OWN_ID, peers, 1, NVEC, -1);

	assert_int_equal(add_doorbell(vm, ""), 0);
	start(vm);
	/* MSI-X off: nothing attached, a doorbell is read here and left pending. */
	assert_int_equal(nirqfds, 0);
	msix_entry(vm, 0, 0x41, false);
	msix_entry(vm, 1, 0x42, true);
	assert_int_equal(nirqfds, 0);

	msix_ctrl(vm, true, false);
	/* Vector 0 usable: an irqfd on its message, on our eventfd for vector 0. */
	assert_int_equal(nirqfds, 1);
	assert_int_equal(irqfds[0].addr, msi_addr(0));
	assert_int_equal(irqfds[0].data, 0x41);
	signal_fd(irqfds[0].fd);
	assert_int_equal(drain(s->own[0]), 1);

	/* Vector 1 masked: rung, it is latched in the PBA and nothing is sent. */
	unsigned msis = calls_count(CALL_SEND_MSI);
	signal_fd(s->own[1]);
	run_loop();
	assert_true(pending(vm, 1));
	assert_int_equal(calls_count(CALL_SEND_MSI), msis);
	/* Unmasked: the pending message goes out once, and vector 1 gets its irqfd. */
	msix_mask(vm, 1, false);
	assert_false(pending(vm, 1));
	assert_int_equal(calls_count(CALL_SEND_MSI), msis + 1);
	const struct call *c = call_nth(CALL_SEND_MSI, msis);
	assert_int_equal(c->a, msi_addr(1));
	assert_int_equal(c->b, 0x42);
	assert_int_equal(nirqfds, 2);

	/* A new message for a usable vector: the irqfd is updated, not re-added. */
	unsigned adds = irqfd_adds;
	mmio_write(vm, bar_addr(vm, 1) + 8, 4, 0x51);
	assert_int_equal(irqfd_updates, 1);
	assert_int_equal(irqfd_adds, adds);
	assert_int_equal(irqfd_for(msi_addr(0))->data, 0x51);

	/* Masking detaches; the function mask detaches all; enabling again attaches all. */
	msix_mask(vm, 0, true);
	assert_int_equal(nirqfds, 1);
	msix_ctrl(vm, true, true);
	assert_int_equal(nirqfds, 0);
	signal_fd(s->own[1]);
	run_loop();
	assert_true(pending(vm, 1));
	msix_ctrl(vm, true, false);
	assert_int_equal(nirqfds, 1); /* vector 0 is still masked */
	assert_false(pending(vm, 1));
	msix_mask(vm, 0, false);
	assert_int_equal(nirqfds, 2);
	/* MSI-X off: detached again. */
	msix_ctrl(vm, false, false);
	assert_int_equal(nirqfds, 0);
}

static void test_enotsup_fallback(void **state)
{
	struct vm *vm = *state;
	const uint16_t peers[] = { 1 };
	struct server *s = server_new(OWN_ID, peers, 1, NVEC, -1);

	backend_enotsup = true;
	assert_int_equal(add_doorbell(vm, ""), 0);
	start(vm);
	/* Asked once, then never again: the user-space path serves everything. */
	assert_int_equal(ioev_adds, 1);
	assert_int_equal(nioevs, 0);
	uint64_t regs = bar_addr(vm, 0);
	mmio_write(vm, regs + REG_DOORBELL, 4, 1u << 16 | 1);
	assert_int_equal(drain(s->peers[0].fds[1]), 1);
	assert_int_equal(drain(s->peers[0].fds[0]), 0);
	mmio_write(vm, regs + REG_DOORBELL, 4, OWN_ID << 16 | 0);
	run_loop();

	msix_entry(vm, 0, 0x41, false);
	msix_entry(vm, 1, 0x42, false);
	unsigned msis = calls_count(CALL_SEND_MSI);
	msix_ctrl(vm, true, false);
	assert_int_equal(irqfd_adds, 1);
	assert_int_equal(nirqfds, 0);
	/* The self-ring above was latched while MSI-X was off and is delivered now. */
	assert_int_equal(calls_count(CALL_SEND_MSI), msis + 1);
	/* Received doorbells become MSIs sent from user space, on the vector's message. */
	signal_fd(s->own[1]);
	run_loop();
	assert_int_equal(calls_count(CALL_SEND_MSI), msis + 2);
	const struct call *c = call_nth(CALL_SEND_MSI, msis + 1);
	assert_int_equal(c->a, msi_addr(1));
	assert_int_equal(c->b, 0x42);
	assert_int_equal(irqfd_adds, 1);
}

static void test_switches_off(void **state)
{
	struct vm *vm = *state;
	const uint16_t peers[] = { 1 };
	struct server *s = server_new(OWN_ID, peers, 1, NVEC, -1);

	/* ioeventfd=off,irqfd=off: the backend is never asked, the behaviour is the same. */
	assert_int_equal(add_doorbell(vm, ",ioeventfd=off,irqfd=off"), 0);
	start(vm);
	msix_entry(vm, 0, 0x41, false);
	msix_ctrl(vm, true, false);
	assert_int_equal(ioev_adds, 0);
	assert_int_equal(irqfd_adds, 0);
	mmio_write(vm, bar_addr(vm, 0) + REG_DOORBELL, 4, 1u << 16 | 0);
	assert_int_equal(drain(s->peers[0].fds[0]), 1);
	unsigned msis = calls_count(CALL_SEND_MSI);
	signal_fd(s->own[0]);
	run_loop();
	assert_int_equal(calls_count(CALL_SEND_MSI), msis + 1);
}

static void test_absent_and_beyond(void **state)
{
	struct vm *vm = *state;
	const uint16_t peers[] = { 1 };
	struct server *s = server_new(OWN_ID, peers, 1, NVEC, -1);

	assert_int_equal(add_doorbell(vm, ",ioeventfd=off"), 0);
	start(vm);
	uint64_t regs = bar_addr(vm, 0);
	mmio_write(vm, regs + REG_DOORBELL, 4, 2u << 16 | 0);		/* nobody */
	mmio_write(vm, regs + REG_DOORBELL, 4, 0xffffu << 16 | 0);
	mmio_write(vm, regs + REG_DOORBELL, 4, 1u << 16 | NVEC);	/* beyond its vectors */
	mmio_write(vm, regs + REG_DOORBELL, 4, 1u << 16 | 0xffff);
	mmio_write(vm, regs + REG_DOORBELL + 1, 1, 1);			/* not a 32-bit access */
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(drain(s->peers[0].fds[v]), 0);
		assert_int_equal(drain(s->own[v]), 0);
	}
	/* The Doorbell register reads 0. */
	assert_int_equal(mmio_read(vm, regs + REG_DOORBELL, 4), 0);
}

static void test_server_lost_and_back(void **state)
{
	struct vm *vm = *state;
	const uint16_t peers[] = { 1 };
	struct server *s = server_new(OWN_ID, peers, 1, NVEC, -1);

	assert_int_equal(add_doorbell(vm, ""), 0);
	start(vm);
	msix_entry(vm, 0, 0x41, false);
	msix_entry(vm, 1, 0x42, false);
	msix_ctrl(vm, true, false);
	assert_int_equal(nirqfds, NVEC);
	assert_int_equal(nioevs, 2 * NVEC);

	/* The server goes away: everything bound to its eventfds is unbound. */
	close(s->sock);
	s->sock = -1;
	run_loop();
	assert_int_equal(nioevs, 0);
	assert_int_equal(nirqfds, 0);
	uint64_t regs = bar_addr(vm, 0);
	/* IVPosition stays what it was while there is no server; doorbells are dropped. */
	assert_int_equal(mmio_read(vm, regs + REG_IV_POSITION, 4), OWN_ID);
	mmio_write(vm, regs + REG_DOORBELL, 4, 1u << 16 | 0);

	/* A new server with another region (tried after 500 ms): refused, still disconnected. */
	const uint16_t none[] = { 0 };
	server_new(7, none, 0, NVEC, -1);
	run_loop_for(700);
	assert_int_equal(next_server, 2);
	assert_int_equal(nioevs, 0);
	/* Then the right one (tried 1 s later), with the same memory and another id for us. */
	const uint16_t now[] = { 2 };
	struct server *s2 = server_new(4, now, 1, NVEC, s->shm);
	run_loop_for(300);
	assert_int_equal(next_server, 2); /* not yet: the retries back off */
	run_loop_for(1000);
	assert_int_equal(next_server, 3);
	assert_int_equal(mmio_read(vm, regs + REG_IV_POSITION, 4), 4);
	expect_ioevents(regs, s2, 4);
	assert_int_equal(nirqfds, NVEC);
}

static void test_fewer_vectors_from_server(void **state)
{
	struct vm *vm = *state;
	const uint16_t peers[] = { 1 };
	server_new(OWN_ID, peers, 1, 1, -1);
	char log[4096];

	/* The server has 1 vector, the device 2: it starts (at once, not after a timeout). */
	gint64 t0 = g_get_monotonic_time();
	log_capture_begin();
	int ret = add_doorbell(vm, "");
	log_capture_end(log, sizeof(log));
	assert_int_equal(ret, 0);
	assert_true(g_get_monotonic_time() - t0 < 2 * G_USEC_PER_SEC);
	assert_non_null(strstr(log, "the server gives 1 vectors, the device has 2"));
	start(vm);
	assert_non_null(ioev_for(OWN_ID, 0));
	assert_null(ioev_for(OWN_ID, 1));
}

/* A server that breaks the set-up: the device fails, with the reason, quickly. */
static void bad_setup(struct vm *vm, const int64_t *values, unsigned n, const char *why)
{
	char log[4096];
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct server *s = &servers[nservers++];
	memset(s, 0, sizeof(*s));
	s->sock = sv[0];
	s->dev_sock = sv[1];
	s->shm = memfd_create("doorbell-test", MFD_CLOEXEC);
	s->own[0] = s->own[1] = -1;
	assert_int_equal(ftruncate(s->shm, REGION_SIZE), 0);
	for (unsigned i = 0; i < n; i++)
		srv_send(s, values[i], values[i] == IVSHMEM_SHM_MSG ? s->shm : -1);
	shutdown(s->sock, SHUT_WR);
	log_capture_begin();
	int ret = add_doorbell(vm, "");
	log_capture_end(log, sizeof(log));
	assert_true(ret < 0);
	if (!strstr(log, why))
		fail_msg("expected '%s' in: %s", why, log);
}

static void test_bad_servers(void **state)
{
	struct vm *vm = *state;
	const int64_t version[] = { 1 };
	const int64_t bigid[] = { 0, 70000 };
	const int64_t early[] = { 0, 3 };
	const int64_t novectors[] = { 0, 3, IVSHMEM_SHM_MSG };

	bad_setup(vm, version, 1, "unsupported ivshmem protocol version 1");
	bad_setup(vm, bigid, 2, "own peer id 70000 is out of range");
	bad_setup(vm, early, 2, "closed the connection during set-up");
	bad_setup(vm, novectors, 3, "closed the connection during set-up");
	assert_int_equal(nioevs, 0);
	assert_int_equal(nirqfds, 0);
}

/* A server that hands over a pipe instead of an eventfd must not make the main loop spin. */
static void test_own_fd_not_an_eventfd(void **state)
{
	struct vm *vm = *state;
	const uint16_t peers[] = { 1 };
	struct server *s = server_new(OWN_ID, peers, 1, 0, -1);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	srv_send(s, OWN_ID, p[0]);			/* own vector 0: a pipe */
	for (unsigned v = 1; v < NVEC; v++)
		srv_send(s, OWN_ID, s->own[v]);
	close(p[0]);
	close(p[1]);	/* at EOF the read end is readable for ever */

	assert_int_equal(add_doorbell(vm, ",irqfd=off"), 0);
	start(vm);
	msix_entry(vm, 0, 0x41, false);
	msix_entry(vm, 1, 0x42, false);
	msix_ctrl(vm, true, false);
	run_loop();
	/* The pipe's watch is gone: nothing is left to dispatch. */
	assert_false(g_main_context_iteration(NULL, FALSE));
	/* The other vectors still work. */
	unsigned msis = calls_count(CALL_SEND_MSI);
	signal_fd(s->own[1]);
	run_loop();
	assert_int_equal(calls_count(CALL_SEND_MSI), msis + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ioeventfds_follow_bar0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_join_and_leave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irqfd_follows_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enotsup_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_switches_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_and_beyond, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_lost_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fewer_vectors_from_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_servers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_fd_not_an_eventfd, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
