/*
 * The ACRN backend: a VM through the Hypervisor Service Module (/dev/acrn_hsm, <linux/acrn.h>).
 *
 * This file holds the life cycle (create, start, stop, destroy) and guest memory; the ioreq
 * client thread is in vmm_hsm_ioreq.c, interrupts in vmm_hsm_irq.c, hypervisor-emulated
 * devices in vmm_hsm_vdev.c. See vmm_hsm_priv.h for the order of the ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vmm_hsm_priv.h"

struct hsm_timing hsm_timing = {
	.create_tries = 10,
	.create_retry_ms = 500,
	.join_timeout_ms = 2000,
};

const char *hsm_strerror(int err, char *buf, size_t len)
{
	/* GNU strerror_r: returns a static string or fills buf. */
	return strerror_r(err, buf, len);
}

int hsm_ioctl(struct hsm_vm *h, unsigned long req, const char *name, void *arg, const char *what)
{
	if (ioctl(h->fd, req, arg) >= 0)
		return 0;
	int err = errno;
	char buf[64];
	pr_err(HSM_LOG, "%s: %s%s%s: %s (errno %d)", h->name, name, what ? " " : "",
	       what ? what : "", hsm_strerror(err, buf, sizeof(buf)), err);
	return -err;
}

void hsm_ioctl_teardown(struct hsm_vm *h, unsigned long req, const char *name)
{
	if (hsm_ioctl(h, req, name, NULL, NULL) < 0)
		pr_warn(HSM_LOG, "%s: teardown goes on after %s failed", h->name, name);
}

static struct hsm_vm *hsm_of(struct vmm *vmm)
{
	return vmm ? vmm->priv : NULL;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void hsm_free(struct hsm_vm *h)
{
	if (h->fd >= 0)
		close(h->fd);
	if (h->ioreq_buf)
		munmap(h->ioreq_buf, HSM_PAGE_SIZE);
	pthread_mutex_destroy(&h->irqfd_lock);
	free(h);
}

/*
 * ACRN_IOCTL_CREATE_VM. ACRN 3.x finds the VM's configuration (and its hypervisor-land ivshmem
 * regions) by name: its own header calls the 16 bytes after vcpu_num `name`, where the kernel's
 * uapi header still has `guid_t uuid`. So the NUL-padded VM name goes there, as ACRN's device
 * model does; the UUID of the command line has no place in the request any more. As ACRN's
 * device model, vcpu_num is left 0: the hypervisor answers with the vCPUs it created, one per
 * pCPU of cpu_affinity (the scenario's when that is 0).
 */
static int hsm_create(struct hsm_vm *h, const struct vmm_vm_params *params)
{
	struct acrn_vm_creation cv;
	char buf[64], why[192];
	uint64_t affinity;

	_Static_assert(sizeof(cv.uuid) >= sizeof(h->name), "VM name must fit the name/uuid field");
	int ret = hsm_cpu_affinity_bitmap(params, &affinity, why, sizeof(why));
	if (ret < 0) {
		pr_err(HSM_LOG, "%s: --cpu_affinity: %s", h->name, why);
		return ret;
	}
	if (params->vcpus_given)
		pr_warn(HSM_LOG, "%s: -c %u has no effect on ACRN: the hypervisor gives the VM the "
			"pCPUs of its scenario, or those of --cpu_affinity", h->name, params->vcpus);
	memset(&cv, 0, sizeof(cv));
	memcpy(&cv.uuid, h->name, sizeof(h->name));
	cv.vm_flag = hsm_vm_flags(params, h->name);
	cv.cpu_affinity = affinity;
	cv.ioreq_buf = (__u64)(uintptr_t)h->ioreq_buf;

	int err = 0;
	unsigned tries = hsm_timing.create_tries ? hsm_timing.create_tries : 1;
	for (unsigned i = 0; i < tries; i++) {
		if (i)
			sleep_ms(hsm_timing.create_retry_ms);
		if (ioctl(h->fd, ACRN_IOCTL_CREATE_VM, &cv) >= 0) {
			err = 0;
			break;
		}
		err = errno;
		/* Only EINVAL can be the previous instance still going away. */
		if (err != EINVAL)
			break;
	}
	if (err) {
		pr_err(HSM_LOG, "%s: ACRN_IOCTL_CREATE_VM: %s (errno %d)%s", h->name,
		       hsm_strerror(err, buf, sizeof(buf)), err,
		       err == EINVAL ? ": the hypervisor refused the VM (is a VM of this name "
				       "still running, or are all VM slots of the scenario in use?)" : "");
		return -err;
	}
	h->vmid = cv.vmid;
	h->vm_created = true;
	h->vcpu_num = cv.vcpu_num ? cv.vcpu_num : params->vcpus;
	if (h->vcpu_num > ACRN_IO_REQUEST_MAX) {
		pr_err(HSM_LOG, "%s: the hypervisor gave the VM %u vCPUs, more than the %u ioreq "
		       "slots of a page", h->name, h->vcpu_num, ACRN_IO_REQUEST_MAX);
		return -ERANGE;
	}
	if (h->vcpu_num != params->vcpus && (params->cpu_affinity || params->vcpus_given))
		pr_info(HSM_LOG, "%s: the hypervisor gave the VM %u vCPUs (asked for %u)", h->name,
			h->vcpu_num, params->vcpus);
	pr_dbg(HSM_LOG, "%s: VM %u created: %u vCPUs, flags 0x%llx, pCPUs 0x%llx, ioreq page at %p",
	       h->name, h->vmid, h->vcpu_num, (unsigned long long)cv.vm_flag,
	       (unsigned long long)cv.cpu_affinity, (void *)h->ioreq_buf);
	return 0;
}

static int hsm_create_vm(struct vmm *vmm, const struct vmm_vm_params *params)
{
	if (!vmm || !params || !params->name)
		return -EINVAL;
	if (vmm->priv) {
		pr_err(HSM_LOG, "%s: create_vm called twice", params->name);
		return -EBUSY;
	}
	size_t namelen = strlen(params->name);
	if (namelen == 0 || namelen >= sizeof(((struct hsm_vm *)0)->name)) {
		pr_err(HSM_LOG, "VM name '%s': must be 1 to 15 bytes", params->name);
		return -EINVAL;
	}
	if (params->vcpus == 0 || params->vcpus > ACRN_IO_REQUEST_MAX) {
		pr_err(HSM_LOG, "%s: %u vCPUs: ACRN takes 1 to %u", params->name, params->vcpus,
		       ACRN_IO_REQUEST_MAX);
		return -EINVAL;
	}

	struct hsm_vm *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->vmm = vmm;
	h->fd = -1;
	memcpy(h->name, params->name, namelen + 1);
	pthread_mutex_init(&h->irqfd_lock, NULL);

	int ret;
	char buf[64];
	/* The HSM pins this page for the VM's lifetime: its own mapping, page-aligned, zeroed. */
	void *page = mmap(NULL, HSM_PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		ret = -errno;
		pr_err(HSM_LOG, "%s: cannot allocate the ioreq page: %s", h->name,
		       hsm_strerror(-ret, buf, sizeof(buf)));
		goto fail;
	}
	h->ioreq_buf = page;

	h->fd = open(HSM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (h->fd < 0) {
		int err = errno;
		pr_err(HSM_LOG, "%s: cannot open %s: %s%s", h->name, HSM_DEVICE_PATH,
		       hsm_strerror(err, buf, sizeof(buf)),
		       err == ENOENT ? " (not in ACRN's Service VM, or the HSM driver "
				       "CONFIG_ACRN_HSM is not loaded; --vmm kvm runs on Linux KVM)" :
		       err == EACCES || err == EPERM ? " (acrn-dm must run as root)" : "");
		ret = -err;
		goto fail;
	}

	ret = hsm_create(h, params);
	if (ret < 0)
		goto fail;

	ret = HSM_IOCTL(h, ACRN_IOCTL_CREATE_IOREQ_CLIENT, NULL, NULL);
	if (ret < 0)
		goto fail;
	h->client_created = true;

	vmm->priv = h;
	return 0;

fail:
	/* Closing the descriptor would destroy the VM too; this says so in the log. */
	if (h->vm_created)
		HSM_IOCTL_TEARDOWN(h, ACRN_IOCTL_DESTROY_VM);
	hsm_free(h);
	return ret;
}

/* The HSM maps RAM write-back itself and keeps only the access bits of attr. */
static int hsm_map_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva, bool exec)
{
	struct hsm_vm *h = hsm_of(vmm);
	if (!h || !h->vm_created)
		return -ENODEV;
	if (!len || ((gpa | len | (uintptr_t)hva) & (HSM_PAGE_SIZE - 1))) {
		pr_err(HSM_LOG, "%s: map_ram gpa 0x%llx len 0x%llx hva %p: not 4 KiB aligned",
		       h->name, (unsigned long long)gpa, (unsigned long long)len, hva);
		return -EINVAL;
	}
	struct acrn_vm_memmap map = {
		.type = ACRN_MEMMAP_RAM,
		.attr = ACRN_MEM_ACCESS_READ | ACRN_MEM_ACCESS_WRITE |
			(exec ? ACRN_MEM_ACCESS_EXEC : 0),
		.user_vm_pa = gpa,
		.vma_base = (__u64)(uintptr_t)hva,
		.len = len,
	};
	char what[96];
	snprintf(what, sizeof(what), "(gpa 0x%llx len 0x%llx)", (unsigned long long)gpa,
		 (unsigned long long)len);
	return HSM_IOCTL(h, ACRN_IOCTL_SET_MEMSEG, &map, what);
}

/*
 * The HSM's UNSET_MEMSEG only accepts ACRN_MEMMAP_MMIO (drivers/virt/acrn/mm.c refuses RAM with
 * EINVAL) and then deletes the EPT range [user_vm_pa, +len) by hypercall, whatever backs it. So a
 * RAM mapping is removed as MMIO. The HSM keeps the pages pinned until DESTROY_VM.
 */
static int hsm_unmap_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva)
{
	struct hsm_vm *h = hsm_of(vmm);
	(void)hva;
	if (!h || !h->vm_created)
		return -ENODEV;
	if (!len || ((gpa | len) & (HSM_PAGE_SIZE - 1)))
		return -EINVAL;
	struct acrn_vm_memmap map = {
		.type = ACRN_MEMMAP_MMIO,
		.attr = ACRN_MEM_ACCESS_READ | ACRN_MEM_ACCESS_WRITE,
		.user_vm_pa = gpa,
		.len = len,
	};
	char what[96];
	snprintf(what, sizeof(what), "(gpa 0x%llx len 0x%llx)", (unsigned long long)gpa,
		 (unsigned long long)len);
	return HSM_IOCTL(h, ACRN_IOCTL_UNSET_MEMSEG, &map, what);
}

static int hsm_start(struct vmm *vmm, const struct vcpu_boot_state *boot)
{
	struct hsm_vm *h = hsm_of(vmm);
	if (!h || !h->vm_created || !boot)
		return -ENODEV;
	if (h->started || h->thread_joinable) {
		pr_err(HSM_LOG, "%s: start: the VM is already running", h->name);
		return -EBUSY;
	}

	struct acrn_vcpu_regs regs;
	int ret = hsm_fill_vcpu_regs(boot, &regs);
	if (ret < 0) {
		pr_err(HSM_LOG, "%s: start: unknown vCPU start mode %d", h->name, (int)boot->mode);
		return ret;
	}
	ret = HSM_IOCTL(h, ACRN_IOCTL_SET_VCPU_REGS, &regs, "(vCPU 0)");
	if (ret < 0)
		return ret;

	/* A stop destroyed the client; a start after it needs a new one. */
	if (!h->client_created) {
		ret = HSM_IOCTL(h, ACRN_IOCTL_CREATE_IOREQ_CLIENT, NULL, NULL);
		if (ret < 0)
			return ret;
		h->client_created = true;
	}

	ret = hsm_ioreq_thread_start(h);
	if (ret < 0)
		return ret;

	ret = HSM_IOCTL(h, ACRN_IOCTL_START_VM, NULL, NULL);
	if (ret < 0) {
		/* Nothing ran: no exit to report for a start that failed. */
		atomic_store(&h->exit_reported, true);
		hsm_ioreq_thread_stop(h);
		return ret;
	}
	h->started = true;
	pr_dbg(HSM_LOG, "%s: VM %u started at rip 0x%llx", h->name, h->vmid,
	       (unsigned long long)boot->rip);
	return 0;
}

/*
 * Safe in any state: before start, twice, and after the thread left on its own. From the main
 * thread (vm.c calls it after a signal or a guest power off).
 */
static void hsm_stop(struct vmm *vmm)
{
	struct hsm_vm *h = hsm_of(vmm);
	if (!h)
		return;
	bool ran = h->started || h->thread_joinable;
	if (h->started) {
		/* No new requests after this; a failure is logged and teardown goes on. */
		HSM_IOCTL_TEARDOWN(h, ACRN_IOCTL_PAUSE_VM);
		h->started = false;
	}
	hsm_ioreq_thread_stop(h);
	/* Requests caught in flight by the pause are completed by the HSM, not left pending. */
	if (ran && h->vm_created)
		HSM_IOCTL_TEARDOWN(h, ACRN_IOCTL_CLEAR_VM_IOREQ);
}

/* Safe after a failed or partial create and when called twice: priv is NULL then. */
static void hsm_destroy_vm(struct vmm *vmm)
{
	struct hsm_vm *h = hsm_of(vmm);
	if (!h)
		return;
	hsm_stop(vmm);
	if (h->vm_created) {
		/* The HSM also destroys the ioreq clients, irqfds, ioeventfds and RAM maps. */
		HSM_IOCTL_TEARDOWN(h, ACRN_IOCTL_DESTROY_VM);
		h->vm_created = false;
		h->client_created = false;
	}
	vmm->priv = NULL;
	if (!hsm_ioreq_thread_reap(h)) {
		/* The thread may still touch h: leaking it beats a use after free. */
		pr_err(HSM_LOG, "%s: the ioreq thread did not stop; leaking its state", h->name);
		return;
	}
	hsm_free(h);
}

const struct vmm_ops vmm_hsm_ops = {
	.name = "hsm",
	.create_vm = hsm_create_vm,
	.destroy_vm = hsm_destroy_vm,
	.map_ram = hsm_map_ram,
	.unmap_ram = hsm_unmap_ram,
	.start = hsm_start,
	.stop = hsm_stop,
	.send_msi = hsm_send_msi,
	.ioeventfd_add = hsm_ioeventfd_add,
	.ioeventfd_del = hsm_ioeventfd_del,
	.irqfd_add = hsm_irqfd_add,
	.irqfd_update = hsm_irqfd_update,
	.irqfd_del = hsm_irqfd_del,
	.create_vdev = hsm_create_vdev,
	.destroy_vdev = hsm_destroy_vdev,
};
