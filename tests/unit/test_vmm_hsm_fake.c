/* The fake HSM: see test_vmm_hsm_fake.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "test_vmm_hsm_fake.h"

int __real_open(const char *path, int flags, ...);
int __real_close(int fd);
int __real_ioctl(int fd, unsigned long req, ...);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);

int __wrap_open(const char *path, int flags, ...);
int __wrap_close(int fd);
int __wrap_ioctl(int fd, unsigned long req, ...);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);

#define MAX_CALLS 4096
#define MAX_FAILS 8
#define MAX_MAPS 8

struct fail_rule {
	unsigned long req;
	unsigned nth;
	int err;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t main;

	int fd;			/* a /dev/null descriptor standing for /dev/acrn_hsm; -1: none */
	unsigned opens;
	int open_err, mmap_err;

	bool vm, client;
	uint16_t vmid, vcpu_reply, vcpu_num;
	struct acrn_io_request_buffer *buf;
	uint32_t pending;	/* the client's ioreqs_map */
	unsigned waiting;	/* threads blocked in ATTACH */

	struct fake_call calls[MAX_CALLS];
	unsigned ncalls;
	struct fail_rule fails[MAX_FAILS];
	unsigned nfails;
	unsigned notified[MAX_CALLS];
	unsigned nnotified;
	bool overflow;		/* more calls than recorded: asserted from the main thread */

	struct { void *addr; size_t len; } maps[MAX_MAPS];
} fk = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .fd = -1 };

void fake_hsm_reset(void)
{
	pthread_mutex_lock(&fk.lock);
	if (fk.fd >= 0)
		__real_close(fk.fd);
	fk.fd = -1;
	fk.opens = 0;
	fk.open_err = fk.mmap_err = 0;
	fk.vm = fk.client = false;
	fk.vmid = 3;
	fk.vcpu_reply = 0;
	fk.vcpu_num = 0;
	fk.buf = NULL;
	fk.pending = 0;
	fk.waiting = 0;
	fk.ncalls = fk.nfails = fk.nnotified = 0;
	fk.overflow = false;
	memset(fk.maps, 0, sizeof(fk.maps));
	fk.main = pthread_self();
	pthread_mutex_unlock(&fk.lock);
}

void fake_hsm_assert_clean(void)
{
	pthread_mutex_lock(&fk.lock);
	bool fd_open = fk.fd >= 0;
	unsigned maps = 0;
	for (unsigned i = 0; i < MAX_MAPS; i++)
		maps += fk.maps[i].addr != NULL;
	bool overflow = fk.overflow;
	pthread_mutex_unlock(&fk.lock);
	assert_false(overflow);
	assert_false(fd_open);
	assert_int_equal(maps, 0);
}

void fake_hsm_fail(unsigned long req, unsigned nth, int err)
{
	pthread_mutex_lock(&fk.lock);
	assert_true(fk.nfails < MAX_FAILS);
	fk.fails[fk.nfails++] = (struct fail_rule){ req, nth, err };
	pthread_mutex_unlock(&fk.lock);
}

void fake_hsm_fail_open(int err)
{
	fk.open_err = err;
}

void fake_hsm_fail_mmap(int err)
{
	fk.mmap_err = err;
}

void fake_hsm_set_reply(uint16_t vmid, uint16_t vcpu_num)
{
	fk.vmid = vmid;
	fk.vcpu_reply = vcpu_num;
}

unsigned fake_hsm_count(unsigned long req)
{
	pthread_mutex_lock(&fk.lock);
	unsigned n = 0;
	for (unsigned i = 0; i < fk.ncalls; i++)
		n += fk.calls[i].req == req;
	pthread_mutex_unlock(&fk.lock);
	return n;
}

const struct fake_call *fake_hsm_call(unsigned long req, unsigned nth)
{
	const struct fake_call *found = NULL;
	pthread_mutex_lock(&fk.lock);
	for (unsigned i = 0, n = 0; i < fk.ncalls; i++) {
		if (fk.calls[i].req == req && ++n == nth) {
			found = &fk.calls[i];
			break;
		}
	}
	pthread_mutex_unlock(&fk.lock);
	return found;
}

size_t fake_hsm_main_sequence(unsigned long *out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&fk.lock);
	for (unsigned i = 0; i < fk.ncalls && n < max; i++)
		if (fk.calls[i].main_thread)
			out[n++] = fk.calls[i].req;
	pthread_mutex_unlock(&fk.lock);
	return n;
}

const char *fake_hsm_req_name(unsigned long req)
{
	static const struct { unsigned long req; const char *name; } names[] = {
#define N(x) { x, #x }
		N(ACRN_IOCTL_CREATE_VM), N(ACRN_IOCTL_DESTROY_VM), N(ACRN_IOCTL_START_VM),
		N(ACRN_IOCTL_PAUSE_VM), N(ACRN_IOCTL_RESET_VM), N(ACRN_IOCTL_SET_VCPU_REGS),
		N(ACRN_IOCTL_INJECT_MSI), N(ACRN_IOCTL_NOTIFY_REQUEST_FINISH),
		N(ACRN_IOCTL_CREATE_IOREQ_CLIENT), N(ACRN_IOCTL_ATTACH_IOREQ_CLIENT),
		N(ACRN_IOCTL_DESTROY_IOREQ_CLIENT), N(ACRN_IOCTL_CLEAR_VM_IOREQ),
		N(ACRN_IOCTL_SET_MEMSEG), N(ACRN_IOCTL_UNSET_MEMSEG), N(ACRN_IOCTL_CREATE_VDEV),
		N(ACRN_IOCTL_DESTROY_VDEV), N(ACRN_IOCTL_IOEVENTFD), N(ACRN_IOCTL_IRQFD),
#undef N
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].req == req)
			return names[i].name;
	return "unknown ioctl";
}

struct acrn_io_request_buffer *fake_hsm_ioreq_buf(void)
{
	return fk.buf;
}

void fake_hsm_post(uint32_t vcpu_mask)
{
	pthread_mutex_lock(&fk.lock);
	for (unsigned v = 0; v < ACRN_IO_REQUEST_MAX; v++) {
		if (!(vcpu_mask & (1u << v)))
			continue;
		fk.buf->req_slot[v].kernel_handled = 0;
		__atomic_store_n(&fk.buf->req_slot[v].processed, ACRN_IOREQ_STATE_PROCESSING,
				 __ATOMIC_RELEASE);
	}
	fk.pending |= vcpu_mask;
	pthread_cond_broadcast(&fk.cond);
	pthread_mutex_unlock(&fk.lock);
}

bool fake_hsm_wait_notified(unsigned count, unsigned timeout_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000 + 1;
	pthread_mutex_lock(&fk.lock);
	while (fk.nnotified < count) {
		if (pthread_cond_timedwait(&fk.cond, &fk.lock, &deadline) == ETIMEDOUT)
			break;
	}
	bool ok = fk.nnotified >= count;
	pthread_mutex_unlock(&fk.lock);
	return ok;
}

bool fake_hsm_wait_attach_blocked(unsigned timeout_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000 + 1;
	pthread_mutex_lock(&fk.lock);
	while (!(fk.waiting && fk.client && !fk.pending)) {
		if (pthread_cond_timedwait(&fk.cond, &fk.lock, &deadline) == ETIMEDOUT)
			break;
	}
	bool ok = fk.waiting && fk.client && !fk.pending;
	pthread_mutex_unlock(&fk.lock);
	return ok;
}

size_t fake_hsm_notified(unsigned *out, size_t max)
{
	pthread_mutex_lock(&fk.lock);
	size_t n = fk.nnotified < max ? fk.nnotified : max;
	memcpy(out, fk.notified, n * sizeof(*out));
	pthread_mutex_unlock(&fk.lock);
	return n;
}

bool fake_hsm_fd_open(void)
{
	return fk.fd >= 0;
}

unsigned fake_hsm_opens(void)
{
	return fk.opens;
}

bool fake_hsm_client_exists(void)
{
	return fk.client;
}

bool fake_hsm_vm_exists(void)
{
	return fk.vm;
}

/* ---- the wrapped system calls ---- */

int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (strcmp(path, "/dev/acrn_hsm") != 0)
		return __real_open(path, flags, mode);

	pthread_mutex_lock(&fk.lock);
	int ret = -1;
	if (fk.open_err) {
		errno = fk.open_err;
	} else if (fk.fd >= 0) {
		errno = EBUSY;	/* one VM per test */
	} else {
		fk.fd = __real_open("/dev/null", O_RDONLY | O_CLOEXEC);
		fk.opens++;
		ret = fk.fd;
	}
	pthread_mutex_unlock(&fk.lock);
	return ret;
}

/* The HSM's release: closing the descriptor destroys the VM and its clients. */
int __wrap_close(int fd)
{
	pthread_mutex_lock(&fk.lock);
	if (fd >= 0 && fd == fk.fd) {
		fk.fd = -1;
		fk.vm = fk.client = false;
		pthread_cond_broadcast(&fk.cond);
	}
	pthread_mutex_unlock(&fk.lock);
	return __real_close(fd);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fk.mmap_err) {
		errno = fk.mmap_err;
		return MAP_FAILED;
	}
	void *p = __real_mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED) {
		pthread_mutex_lock(&fk.lock);
		for (unsigned i = 0; i < MAX_MAPS; i++) {
			if (!fk.maps[i].addr) {
				fk.maps[i].addr = p;
				fk.maps[i].len = len;
				break;
			}
		}
		pthread_mutex_unlock(&fk.lock);
	}
	return p;
}

int __wrap_munmap(void *addr, size_t len)
{
	size_t mapped = len;
	pthread_mutex_lock(&fk.lock);
	for (unsigned i = 0; i < MAX_MAPS; i++) {
		if (fk.maps[i].addr == addr) {
			mapped = fk.maps[i].len;
			fk.maps[i].addr = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&fk.lock);
	assert_int_equal(mapped, len);	/* the backend unmaps exactly what it mapped */
	return __real_munmap(addr, len);
}

static int injected(unsigned long req)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fk.ncalls; i++)
		n += fk.calls[i].req == req;	/* this call is already recorded */
	for (unsigned i = 0; i < fk.nfails; i++)
		if (fk.fails[i].req == req && (fk.fails[i].nth == FAKE_FAIL_ALWAYS || fk.fails[i].nth == n))
			return fk.fails[i].err;
	return 0;
}

static bool nonzero(const void *p, size_t len)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < len; i++)
		if (c[i])
			return true;
	return false;
}

/* The driver's answer to one request; called with the lock held. Returns 0 or an errno. */
static int emulate(unsigned long req, void *arg)
{
	if (!fk.vm && req != ACRN_IOCTL_CREATE_VM)
		return EINVAL;	/* the HSM: "Invalid VM state" */

	switch (req) {
	case ACRN_IOCTL_CREATE_VM: {
		struct acrn_vm_creation *cv = arg;
		if (fk.vm)
			return EEXIST;
		if (cv->reserved0 || cv->reserved1)
			return EINVAL;
		if (!cv->ioreq_buf || (cv->ioreq_buf & 4095))
			return EFAULT;	/* the HSM pins exactly one page there */
		fk.buf = (struct acrn_io_request_buffer *)(uintptr_t)cv->ioreq_buf;
		cv->vmid = fk.vmid;
		/* The hypervisor answers with the vCPUs it created: one per pCPU of the affinity. */
		if (fk.vcpu_reply)
			cv->vcpu_num = fk.vcpu_reply;
		else
			cv->vcpu_num = cv->cpu_affinity ?
				(uint16_t)__builtin_popcountll(cv->cpu_affinity) : 1;
		fk.vcpu_num = cv->vcpu_num;
		fk.vm = true;
		return 0;
	}
	case ACRN_IOCTL_DESTROY_VM:
		fk.vm = fk.client = false;
		fk.pending = 0;
		pthread_cond_broadcast(&fk.cond);
		return 0;
	case ACRN_IOCTL_SET_VCPU_REGS: {
		const struct acrn_vcpu_regs *r = arg;
		if (nonzero(r->reserved, sizeof(r->reserved)) ||
		    nonzero(r->vcpu_regs.reserved_32, sizeof(r->vcpu_regs.reserved_32)) ||
		    nonzero(r->vcpu_regs.reserved_64, sizeof(r->vcpu_regs.reserved_64)) ||
		    nonzero(r->vcpu_regs.gdt.reserved, sizeof(r->vcpu_regs.gdt.reserved)) ||
		    nonzero(r->vcpu_regs.idt.reserved, sizeof(r->vcpu_regs.idt.reserved)))
			return EINVAL;
		return 0;
	}
	case ACRN_IOCTL_UNSET_MEMSEG:
		/* drivers/virt/acrn/mm.c: only MMIO mappings can be removed. */
		return ((const struct acrn_vm_memmap *)arg)->type == ACRN_MEMMAP_MMIO ? 0 : EINVAL;
	case ACRN_IOCTL_SET_MEMSEG: {
		const struct acrn_vm_memmap *m = arg;
		return m->type == ACRN_MEMMAP_RAM || m->type == ACRN_MEMMAP_MMIO ? 0 : EINVAL;
	}
	case ACRN_IOCTL_CREATE_IOREQ_CLIENT:
		if (fk.client)
			return EEXIST;
		fk.client = true;
		return 0;
	case ACRN_IOCTL_DESTROY_IOREQ_CLIENT:
		fk.client = false;
		pthread_cond_broadcast(&fk.cond);
		return 0;
	case ACRN_IOCTL_ATTACH_IOREQ_CLIENT:
		fk.waiting++;
		pthread_cond_broadcast(&fk.cond);
		while (fk.client && !fk.pending)
			pthread_cond_wait(&fk.cond, &fk.lock);
		fk.waiting--;
		return fk.client ? 0 : ENODEV;
	case ACRN_IOCTL_NOTIFY_REQUEST_FINISH: {
		const struct acrn_ioreq_notify *n = arg;
		if (n->reserved)
			return EINVAL;
		if (!fk.client)
			return 0;
		if (n->vcpu >= fk.vcpu_num)
			return EINVAL;
		fk.pending &= ~(1u << n->vcpu);
		__atomic_store_n(&fk.buf->req_slot[n->vcpu].processed, ACRN_IOREQ_STATE_COMPLETE,
				 __ATOMIC_RELEASE);
		if (fk.nnotified < MAX_CALLS)
			fk.notified[fk.nnotified++] = n->vcpu;
		pthread_cond_broadcast(&fk.cond);
		return 0;
	}
	case ACRN_IOCTL_CLEAR_VM_IOREQ:
		fk.pending = 0;
		return 0;
	case ACRN_IOCTL_IOEVENTFD:
		return ((const struct acrn_ioeventfd *)arg)->reserved ? EINVAL : 0;
	default:
		return 0;
	}
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);

	pthread_mutex_lock(&fk.lock);
	if (fd < 0 || fd != fk.fd) {
		pthread_mutex_unlock(&fk.lock);
		return __real_ioctl(fd, req, arg);
	}
	/* No cmocka assert here: this may run on the backend's thread. */
	static struct fake_call spill;
	struct fake_call *call = &spill;
	if (fk.ncalls < MAX_CALLS)
		call = &fk.calls[fk.ncalls++];
	else
		fk.overflow = true;
	memset(call, 0, sizeof(*call));
	call->req = req;
	call->main_thread = pthread_equal(pthread_self(), fk.main);
	call->len = _IOC_SIZE(req) <= FAKE_ARG_MAX ? _IOC_SIZE(req) : FAKE_ARG_MAX;
	if (call->len && arg)
		memcpy(call->arg, arg, call->len);

	int err = injected(req);
	if (!err)
		err = emulate(req, arg);
	call->err = err;
	pthread_mutex_unlock(&fk.lock);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
