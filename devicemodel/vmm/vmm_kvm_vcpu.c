/*
 * vCPU threads of the KVM backend: one thread per vCPU loops in KVM_RUN and turns port I/O and
 * MMIO exits into io_dispatch() calls; a VM-ending exit is reported once through vmm->on_exit.
 *
 * Stopping: stop() sets `stopping`, sets every run page's immediate_exit (so a thread that is just
 * about to enter KVM_RUN returns at once with EINTR) and sends each thread the kick signal with
 * pthread_kill (so a thread inside KVM_RUN leaves it with EINTR). The kick signal has a no-op
 * handler and is blocked in every other thread, so it can only ever interrupt a vCPU thread.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "io_dispatch.h"
#include "log.h"
#include "vmm_kvm_priv.h"

/* The vCPU this thread runs, so stop() can tell whether it is called from on_exit. */
static __thread struct kvm_vcpu_ctx *current_vcpu;

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;
static int kick_install_err;

static int kick_signal(void)
{
	/* SIGRTMIN is glibc's first free real-time signal; neither GLib nor ASan uses it. */
	return SIGRTMIN;
}

static void kick_handler(int sig)
{
	(void)sig;	/* its only job is to make KVM_RUN return EINTR */
}

static void kick_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART keeps device handlers' syscalls going; KVM_RUN still returns EINTR. */
	sa.sa_flags = SA_RESTART;
	if (sigaction(kick_signal(), &sa, NULL) < 0) {
		kick_install_err = -errno;
		pr_err(KVM_LOG, "sigaction for the vCPU kick signal: %s", strerror(errno));
	}
}

static void report_exit(struct kvm_vcpu_ctx *vc, enum vm_exit_reason reason, int code,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report_exit(struct kvm_vcpu_ctx *vc, enum vm_exit_reason reason, int code,
			const char *fmt, ...)
{
	struct kvm_backend *kb = vc->kb;
	struct vm_exit_info info = { .reason = reason, .code = code, .vcpu = vc->id };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(info.detail, sizeof(info.detail), fmt, ap);
	va_end(ap);

	if (atomic_flag_test_and_set(&kb->exit_reported)) {
		pr_dbg(KVM_LOG, "vcpu%u: %s (VM already stopping)", vc->id, info.detail);
		return;
	}
	/* The VM core reports why the VM stopped; an error here only when nobody will. */
	if (reason == VM_EXIT_INTERNAL_ERROR || !kb->vmm->on_exit)
		pr_err(KVM_LOG, "vcpu%u: %s", vc->id, info.detail);
	else
		pr_info(KVM_LOG, "vcpu%u: %s", vc->id, info.detail);
	if (kb->vmm->on_exit)
		kb->vmm->on_exit(kb->vmm->on_exit_opaque, &info);
}

static unsigned long long vcpu_rip(struct kvm_vcpu_ctx *vc)
{
	struct kvm_regs regs;

	if (ioctl(vc->fd, KVM_GET_REGS, &regs) < 0) {
		pr_warn(KVM_LOG, "vcpu%u: KVM_GET_REGS: %s", vc->id, strerror(errno));
		return ~0ULL;
	}
	return regs.rip;
}

/* One access to the bus. Reads that nobody claims come back as all ones (io_dispatch does that). */
static void dispatch(struct kvm_backend *kb, struct io_request *req)
{
	if (kb->vmm->io) {
		io_dispatch(kb->vmm->io, req);
		return;
	}
	if (!req->is_write)
		req->value = ~0ULL;
}

static void copy_out(void *dst, uint64_t value, unsigned size)
{
	/* x86 is little-endian: the low `size` bytes of value are the access's bytes. */
	memcpy(dst, &value, size);
}

static uint64_t copy_in(const void *src, unsigned size)
{
	uint64_t v = 0;

	memcpy(&v, src, size);
	return v;
}

static int handle_pio(struct kvm_vcpu_ctx *vc)
{
	struct kvm_run *run = vc->run;
	unsigned size = run->io.size;
	uint64_t count = run->io.count;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* KVM puts the data of all `count` repetitions (rep ins/outs) in the run page. */
	if ((size != 1 && size != 2 && size != 4) ||
	    run->io.data_offset > vc->kb->run_size ||
	    count > (vc->kb->run_size - run->io.data_offset) / size) {
		report_exit(vc, VM_EXIT_INTERNAL_ERROR, 0,
			    "bad KVM_EXIT_IO: port 0x%x size %u count %llu", run->io.port, size,
			    (unsigned long long)count);
		return -EINVAL;
	}
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	for (uint64_t i = 0; i < count; i++) {
		struct io_request req = {
			.space = IO_SPACE_PIO,
			.addr = run->io.port,
			.size = size,
			.is_write = is_write,
		};

		if (is_write)
			req.value = copy_in(data + i * size, size);
		dispatch(vc->kb, &req);
		if (!is_write)
			copy_out(data + i * size, req.value, size);
	}
	return 0;
}

static int handle_mmio(struct kvm_vcpu_ctx *vc)
{
	struct kvm_run *run = vc->run;
	unsigned len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data)) {
		report_exit(vc, VM_EXIT_INTERNAL_ERROR, 0, "bad KVM_EXIT_MMIO: 0x%llx len %u",
			    (unsigned long long)run->mmio.phys_addr, len);
		return -EINVAL;
	}
	/* Accesses of 3, 5, 6 or 7 bytes (rare instruction forms) go to the bus byte by byte. */
	unsigned chunk = (len == 1 || len == 2 || len == 4 || len == 8) ? len : 1;

	for (unsigned off = 0; off < len; off += chunk) {
		struct io_request req = {
			.space = IO_SPACE_MMIO,
			.addr = run->mmio.phys_addr + off,
			.size = chunk,
			.is_write = run->mmio.is_write,
		};

		if (req.is_write)
			req.value = copy_in(run->mmio.data + off, chunk);
		dispatch(vc->kb, &req);
		if (!req.is_write)
			copy_out(run->mmio.data + off, req.value, chunk);
	}
	return 0;
}

/* Returns 0 to keep running, non-zero when this vCPU is done. */
static int handle_exit(struct kvm_vcpu_ctx *vc)
{
	struct kvm_run *run = vc->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_pio(vc);
	case KVM_EXIT_MMIO:
		return handle_mmio(vc);
	case KVM_EXIT_INTR:
		return 0;	/* a kick; the loop checks `stopping` */
	case KVM_EXIT_HLT: {
		/*
		 * With the in-kernel LAPIC, KVM halts the vCPU itself; should an exit arrive anyway,
		 * wait a moment (an interrupt may come) and resume instead of spinning.
		 */
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000000 };

		if (!vc->hlt_logged) {
			pr_warn(KVM_LOG, "vcpu%u: unexpected KVM_EXIT_HLT at rip 0x%llx", vc->id,
				vcpu_rip(vc));
			vc->hlt_logged = true;
		}
		nanosleep(&ts, NULL);
		return 0;
	}
	case KVM_EXIT_SHUTDOWN:
		report_exit(vc, VM_EXIT_SHUTDOWN, 0, "triple fault (KVM_EXIT_SHUTDOWN) at rip 0x%llx",
			    vcpu_rip(vc));
		return 1;
	case KVM_EXIT_FAIL_ENTRY:
		report_exit(vc, VM_EXIT_INTERNAL_ERROR, 0,
			    "VM entry failed (KVM_EXIT_FAIL_ENTRY), hardware reason 0x%llx, rip 0x%llx",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			    vcpu_rip(vc));
		return 1;
	case KVM_EXIT_INTERNAL_ERROR:
		report_exit(vc, VM_EXIT_INTERNAL_ERROR, 0,
			    "KVM internal error, suberror %u, rip 0x%llx", run->internal.suberror,
			    vcpu_rip(vc));
		return 1;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			report_exit(vc, VM_EXIT_POWEROFF, 0, "guest powered off");
			break;
		case KVM_SYSTEM_EVENT_RESET:
			report_exit(vc, VM_EXIT_SHUTDOWN, 0, "guest requested a reset");
			break;
		default:
			report_exit(vc, VM_EXIT_INTERNAL_ERROR, 0, "system event %u at rip 0x%llx",
				    run->system_event.type, vcpu_rip(vc));
			break;
		}
		return 1;
	default:
		report_exit(vc, VM_EXIT_INTERNAL_ERROR, 0, "unexpected KVM exit reason %u at rip 0x%llx",
			    run->exit_reason, vcpu_rip(vc));
		return 1;
	}
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu_ctx *vc = arg;
	struct kvm_backend *kb = vc->kb;
	sigset_t kick;
	char name[16];

	current_vcpu = vc;
	snprintf(name, sizeof(name), "vcpu%u", vc->id);
	pthread_setname_np(pthread_self(), name);

	/* start() blocked the kick signal in its thread (inherited here); only vCPUs take it. */
	sigemptyset(&kick);
	sigaddset(&kick, kick_signal());
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (!atomic_load(&kb->stopping)) {
		if (ioctl(vc->fd, KVM_RUN, 0) < 0) {
			int e = errno;

			if (e == EINTR || e == EAGAIN)
				continue;
			report_exit(vc, VM_EXIT_INTERNAL_ERROR, 0, "KVM_RUN: %s", strerror(e));
			break;
		}
		if (handle_exit(vc))
			break;
	}
	pr_dbg(KVM_LOG, "vcpu%u: thread done", vc->id);
	return NULL;
}

/* Makes every vCPU thread leave KVM_RUN soon; does not wait. */
static void kick_all(struct kvm_backend *kb, bool signal)
{
	atomic_store(&kb->stopping, true);
	for (unsigned i = 0; i < kb->nvcpus; i++) {
		struct kvm_vcpu_ctx *vc = &kb->vcpus[i];

		/* KVM reads immediate_exit on entry to KVM_RUN: a thread about to enter bails out. */
		__atomic_store_n(&vc->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (signal && vc->thread_live && vc != current_vcpu)
			pthread_kill(vc->thread, kick_signal());
	}
}

static void join_all(struct kvm_backend *kb)
{
	for (unsigned i = 0; i < kb->nvcpus; i++) {
		struct kvm_vcpu_ctx *vc = &kb->vcpus[i];

		if (!vc->thread_live)
			continue;
		pthread_join(vc->thread, NULL);
		vc->thread_live = false;
	}
}

/* The vCPU's thread, pinned to its host CPU from its first instruction when it has one. */
static int vcpu_thread_start(struct kvm_vcpu_ctx *vc)
{
	pthread_attr_t attr;
	int r = -pthread_attr_init(&attr);

	if (r == 0 && vc->host_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(vc->host_cpu, &set);
		r = -pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (r < 0)
			pr_err(KVM_LOG, "vcpu%u: cannot pin it to host CPU %d: %s", vc->id,
			       vc->host_cpu, strerror(-r));
	}
	if (r == 0) {
		r = -pthread_create(&vc->thread, &attr, vcpu_thread, vc);
		if (r < 0)
			pr_err(KVM_LOG, "pthread_create for vcpu%u%s: %s", vc->id,
			       vc->host_cpu >= 0 ? " (pinned)" : "", strerror(-r));
		else if (vc->host_cpu >= 0)
			pr_dbg(KVM_LOG, "vcpu%u: pinned to host CPU %d", vc->id, vc->host_cpu);
	}
	pthread_attr_destroy(&attr);
	return r;
}

int kvm_start(struct vmm *vmm, const struct vcpu_boot_state *boot)
{
	struct kvm_backend *kb = kvm_of(vmm);
	sigset_t kick;
	int r;

	if (!kb)
		return -ENODEV;
	if (!boot)
		return -EINVAL;
	pthread_once(&kick_once, kick_install);
	if (kick_install_err)
		return kick_install_err;

	pthread_mutex_lock(&kb->run_lock);
	if (kb->ran) {
		pr_err(KVM_LOG, "start: the VM was already started once");
		r = -EBUSY;
		goto out;
	}
	r = kvm_vcpu_set_boot_state(&kb->vcpus[0], boot);
	if (r < 0)
		goto out;
	kb->ran = true;

	/*
	 * Block the kick in this thread (the device model's main thread); the vCPU threads inherit
	 * the mask and unblock it for themselves.
	 */
	sigemptyset(&kick);
	sigaddset(&kick, kick_signal());
	pthread_sigmask(SIG_BLOCK, &kick, NULL);

	/* The other vCPUs wait in the kernel for INIT/SIPI from the boot vCPU's LAPIC. */
	for (unsigned i = 0; i < kb->nvcpus; i++) {
		struct kvm_vcpu_ctx *vc = &kb->vcpus[i];

		r = vcpu_thread_start(vc);
		if (r < 0) {
			kick_all(kb, true);
			join_all(kb);
			goto out;
		}
		vc->thread_live = true;
	}
	kb->started = true;
	pr_info(KVM_LOG, "started %u vCPU(s) at rip 0x%llx (%s)", kb->nvcpus,
		(unsigned long long)boot->rip,
		boot->mode == VCPU_START_LONG64 ? "long mode" : "32-bit protected mode");
out:
	pthread_mutex_unlock(&kb->run_lock);
	return r;
}

void kvm_stop(struct vmm *vmm)
{
	struct kvm_backend *kb = kvm_of(vmm);

	if (!kb)
		return;
	if (current_vcpu && current_vcpu->kb == kb) {
		/*
		 * Called from a vCPU thread (on_exit): it cannot join itself, and the main thread may be
		 * joining concurrently, so only raise the flags; the main thread's stop() finishes.
		 */
		kick_all(kb, false);
		return;
	}
	pthread_mutex_lock(&kb->run_lock);
	if (kb->started) {
		kick_all(kb, true);
		join_all(kb);
		kb->started = false;
		pr_dbg(KVM_LOG, "vCPU threads stopped");
	}
	pthread_mutex_unlock(&kb->run_lock);
}
