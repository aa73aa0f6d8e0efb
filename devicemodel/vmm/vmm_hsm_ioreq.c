/*
 * The ioreq client: one thread that waits in ACRN_IOCTL_ATTACH_IOREQ_CLIENT, emulates every
 * request the HSM handed to it and completes each with ACRN_IOCTL_NOTIFY_REQUEST_FINISH.
 *
 * The shared page holds one struct acrn_io_request per vCPU. Its `processed` field follows
 * FREE -> PENDING -> PROCESSING -> COMPLETE -> FREE (see <linux/acrn.h>): the hypervisor fills a
 * slot and marks it PENDING, the HSM marks it PROCESSING (smp_store_release) and wakes us; we read
 * the state with acquire semantics, so the request body we read afterwards is the one the HSM
 * published. We write the result into the slot and publish it with a release fence before
 * NOTIFY_REQUEST_FINISH, in which the HSM reads `completion_polling`, stores COMPLETE itself
 * (smp_store_release), clears the slot's pending bit and, unless the hypervisor polls, tells it.
 *
 * We never store COMPLETE ourselves: with completion_polling set, a hypervisor polling the slot
 * would resume the vCPU at once, the vCPU could post its next request in that slot before our
 * NOTIFY, and the HSM would then mark that new request COMPLETE without anyone emulating it.
 * Honouring completion_polling is therefore the HSM's part; ours is to always notify.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "io_dispatch.h"
#include "vmm_hsm_priv.h"

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static bool valid_size(uint64_t size, unsigned max)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && size <= max;
}

/* A request the guest can repeat at will: rate-limited. */
static void ioreq_warn(struct hsm_vm *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ioreq_warn(struct hsm_vm *h, const char *fmt, ...)
{
	if (!log_ratelimit_ok(&h->ioreq_rl, 10))
		return;
	char msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_warn(HSM_LOG, "%s: %s", h->name, msg);
}

static void report_exit(struct hsm_vm *h, enum vm_exit_reason reason, int code,
			const char *detail);

/*
 * ACRN tells the device model of a post-launched VM to shut the guest down (after a triple
 * fault, for one) by emulating a write of SLP_EN | SLP_TYP=5 (S5) to the PM1A control register
 * at port 0x404 (hypervisor: triple_fault_shutdown_vm). When no device claims the port, that is
 * the guest's end.
 */
#define ACRN_PM1A_CNT_PORT	0x404u
#define ACRN_PM1A_SLP_EN	0x2000u
#define ACRN_PM1A_SLP_TYP	0x1c00u
#define ACRN_PM1A_SLP_TYP_S5	(5u << 10)

static void pm1a_write_unclaimed(struct hsm_vm *h, uint32_t value, unsigned vcpu)
{
	if (!(value & ACRN_PM1A_SLP_EN) || (value & ACRN_PM1A_SLP_TYP) != ACRN_PM1A_SLP_TYP_S5) {
		ioreq_warn(h, "vCPU %u: PM1A_CNT write 0x%x ignored (only S5 is supported)", vcpu,
			   value);
		return;
	}
	char detail[128];
	snprintf(detail, sizeof(detail), "the hypervisor shut the guest down (triple fault or S5: "
		 "PM1A_CNT 0x%x written on vCPU %u)", value, vcpu);
	if (!atomic_load(&h->exit_reported))
		pr_info(HSM_LOG, "%s: %s", h->name, detail);
	report_exit(h, VM_EXIT_SHUTDOWN, 0, detail);
}

/* PIO: 1, 2 or 4 bytes; the value field is 32 bits wide. */
static void handle_pio(struct hsm_vm *h, struct acrn_pio_request *pio, unsigned vcpu)
{
	bool is_write = pio->direction == ACRN_IOREQ_DIR_WRITE;
	if (!valid_size(pio->size, 4)) {
		ioreq_warn(h, "vCPU %u: port 0x%llx access of %llu bytes ignored", vcpu,
			   (unsigned long long)pio->address, (unsigned long long)pio->size);
		if (!is_write)
			pio->value = ~0u;
		return;
	}
	struct io_request req = {
		.space = IO_SPACE_PIO,
		.addr = pio->address,
		.size = (unsigned)pio->size,
		.is_write = is_write,
		.value = is_write ? pio->value & size_mask((unsigned)pio->size) : 0,
	};
	int ret = io_dispatch(h->vmm->io, &req);
	if (!is_write)
		pio->value = (__u32)((ret < 0 ? ~0ull : req.value) & size_mask(req.size));
	else if (ret == -ENOENT && req.addr == ACRN_PM1A_CNT_PORT && req.size == 2)
		pm1a_write_unclaimed(h, (uint32_t)req.value, vcpu);
}

/* MMIO: 1, 2, 4 or 8 bytes. */
static void handle_mmio(struct hsm_vm *h, struct acrn_mmio_request *mmio, unsigned vcpu)
{
	bool is_write = mmio->direction == ACRN_IOREQ_DIR_WRITE;
	if (!valid_size(mmio->size, 8)) {
		ioreq_warn(h, "vCPU %u: MMIO 0x%llx access of %llu bytes ignored", vcpu,
			   (unsigned long long)mmio->address, (unsigned long long)mmio->size);
		if (!is_write)
			mmio->value = ~0ull;
		return;
	}
	struct io_request req = {
		.space = IO_SPACE_MMIO,
		.addr = mmio->address,
		.size = (unsigned)mmio->size,
		.is_write = is_write,
		.value = is_write ? mmio->value & size_mask((unsigned)mmio->size) : 0,
	};
	int ret = io_dispatch(h->vmm->io, &req);
	if (!is_write)
		mmio->value = (ret < 0 ? ~0ull : req.value) & size_mask(req.size);
}

/* A config access the HSM already decoded from 0xCF8/0xCFC: straight to the PCI core. */
static void handle_pcicfg(struct hsm_vm *h, struct acrn_pci_request *pci, unsigned vcpu)
{
	bool is_write = pci->direction == ACRN_IOREQ_DIR_WRITE;
	unsigned size = (unsigned)pci->size;
	if (!valid_size(pci->size, 4)) {
		ioreq_warn(h, "vCPU %u: config access of %llu bytes to %02x:%02x.%x ignored", vcpu,
			   (unsigned long long)pci->size, pci->bus, pci->dev, pci->func);
		if (!is_write)
			pci->value = ~0u;
		return;
	}
	uint32_t value = is_write ? (uint32_t)(pci->value & size_mask(size)) : 0;
	int ret = -ENODEV;
	if (h->vmm->pci_cfg)
		ret = h->vmm->pci_cfg(h->vmm->pci_cfg_opaque, pci->bus, pci->dev, pci->func,
				      pci->reg, size, is_write, &value);
	if (!is_write)
		pci->value = (__u32)((ret < 0 ? ~0u : value) & size_mask(size));
}

static void complete(struct hsm_vm *h, unsigned vcpu)
{
	/* The result stores above are visible before the HSM marks the slot COMPLETE. */
	atomic_thread_fence(memory_order_release);
	struct acrn_ioreq_notify notify = { .vmid = h->vmid, .reserved = 0, .vcpu = vcpu };
	if (ioctl(h->fd, ACRN_IOCTL_NOTIFY_REQUEST_FINISH, &notify) < 0) {
		int err = errno;
		char buf[64];
		if (log_ratelimit_ok(&h->ioreq_rl, 10))
			pr_err(HSM_LOG, "%s: ACRN_IOCTL_NOTIFY_REQUEST_FINISH (vCPU %u): %s "
			       "(errno %d)", h->name, vcpu, hsm_strerror(err, buf, sizeof(buf)), err);
	}
}

static void handle_slot(struct hsm_vm *h, struct acrn_io_request *req, unsigned vcpu)
{
	switch (req->type) {
	case ACRN_IOREQ_TYPE_PORTIO:
		handle_pio(h, &req->reqs.pio_request, vcpu);
		break;
	case ACRN_IOREQ_TYPE_MMIO:
		handle_mmio(h, &req->reqs.mmio_request, vcpu);
		break;
	case ACRN_IOREQ_TYPE_PCICFG:
		handle_pcicfg(h, &req->reqs.pci_request, vcpu);
		break;
	default:
		/* ACRN's own header has a write-protect type (3) the upstream HSM never sends. */
		if (!atomic_exchange(&h->unknown_type_logged, true))
			pr_warn(HSM_LOG, "%s: vCPU %u: ioreq of unknown type %u completed without "
				"emulation (logged once)", h->name, vcpu, req->type);
		break;
	}
	complete(h, vcpu);
}

void hsm_ioreq_scan(struct hsm_vm *h)
{
	for (unsigned vcpu = 0; vcpu < h->vcpu_num; vcpu++) {
		struct acrn_io_request *req = &h->ioreq_buf->req_slot[vcpu];
		if (__atomic_load_n(&req->processed, __ATOMIC_ACQUIRE) != ACRN_IOREQ_STATE_PROCESSING)
			continue;
		/* Requests for an in-kernel client (an ioeventfd) are not ours. */
		if (req->kernel_handled)
			continue;
		handle_slot(h, req, vcpu);
	}
}

static void report_exit(struct hsm_vm *h, enum vm_exit_reason reason, int code, const char *detail)
{
	if (atomic_exchange(&h->exit_reported, true))
		return;
	if (!h->vmm->on_exit)
		return;
	struct vm_exit_info info = { .reason = reason, .code = code, .vcpu = 0 };
	snprintf(info.detail, sizeof(info.detail), "%s", detail);
	h->vmm->on_exit(h->vmm->on_exit_opaque, &info);
}

static void *ioreq_thread(void *arg)
{
	struct hsm_vm *h = arg;
	char detail[128];

	while (!atomic_load(&h->stopping)) {
		int ret = ioctl(h->fd, ACRN_IOCTL_ATTACH_IOREQ_CLIENT, 0);
		if (ret != 0) {
			int err = ret < 0 ? errno : ENODEV;	/* old VHMs answered 1: destroying */
			if (ret < 0 && err == EINTR)
				continue;
			if (atomic_load(&h->stopping))
				break;
			char buf[64];
			snprintf(detail, sizeof(detail), "ACRN_IOCTL_ATTACH_IOREQ_CLIENT: %s (errno %d)",
				 hsm_strerror(err, buf, sizeof(buf)), err);
			pr_err(HSM_LOG, "%s: %s; the VM can no longer run", h->name, detail);
			report_exit(h, VM_EXIT_INTERNAL_ERROR, err, detail);
			return NULL;
		}
		if (atomic_load(&h->stopping))
			break;
		hsm_ioreq_scan(h);
	}
	report_exit(h, VM_EXIT_STOPPED, 0, "stopped by the device model");
	return NULL;
}

int hsm_ioreq_thread_start(struct hsm_vm *h)
{
	atomic_store(&h->stopping, false);
	atomic_store(&h->exit_reported, false);

	/* Signals are the main thread's business: the thread starts with all of them blocked. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int ret = pthread_create(&h->thread, NULL, ioreq_thread, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0) {
		char buf[64];
		pr_err(HSM_LOG, "%s: cannot start the ioreq thread: %s", h->name,
		       hsm_strerror(ret, buf, sizeof(buf)));
		return -ret;
	}
	h->thread_joinable = true;
	return 0;
}

static bool join_bounded(struct hsm_vm *h)
{
	if (!h->thread_joinable)
		return true;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += hsm_timing.join_timeout_ms / 1000;
	deadline.tv_nsec += (long)(hsm_timing.join_timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	int ret = pthread_timedjoin_np(h->thread, NULL, &deadline);
	if (ret != 0)
		return false;
	h->thread_joinable = false;
	return true;
}

bool hsm_ioreq_thread_stop(struct hsm_vm *h)
{
	if (!h->thread_joinable)
		return true;
	atomic_store(&h->stopping, true);
	/* The only way to wake a thread blocked in ATTACH: the HSM then answers ENODEV. */
	if (h->client_created) {
		if (HSM_IOCTL(h, ACRN_IOCTL_DESTROY_IOREQ_CLIENT, NULL, NULL) == 0)
			h->client_created = false;
	}
	if (join_bounded(h))
		return true;
	pr_err(HSM_LOG, "%s: the ioreq thread did not leave ACRN_IOCTL_ATTACH_IOREQ_CLIENT within "
	       "%u ms; destroying the VM will wake it", h->name, hsm_timing.join_timeout_ms);
	return false;
}

bool hsm_ioreq_thread_reap(struct hsm_vm *h)
{
	return join_bounded(h);
}
