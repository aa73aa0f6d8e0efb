/*
 * The Linux KVM backend: VM creation and teardown, guest memory slots, MSIs and ioeventfds.
 * vCPU threads live in vmm_kvm_vcpu.c, GSI routing and irqfds in vmm_kvm_irq.c.
 *
 * Every ioctl failure is logged with the ioctl's name and errno and returned as -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "vmm_kvm_priv.h"

#define KVM_DEV_PATH		"/dev/kvm"
#define KVM_API_EXPECTED	12
/* Upper bound on the slots we track, whatever KVM_CAP_NR_MEMSLOTS says (32764 on some hosts). */
#define KVM_SLOTS_MAX		512
#define KVM_VCPUS_MAX		64
/*
 * Intel VT-x needs three pages for a real-mode TSS somewhere the guest never uses. This sits
 * above the 32-bit PCI window and below the BIOS area at 4 GiB, where QEMU puts it too.
 */
#define KVM_TSS_ADDR		0xfeffd000UL
#define PAGE_MASK_4K		0xfffULL

/* ioctl() with EINTR retried; returns 0 or -errno after logging. */
static int kvm_ioctl(int fd, unsigned long req, void *arg, const char *name)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;

		pr_err(KVM_LOG, "%s: %s", name, strerror(e));
		return -e;
	}
	return r;
}

/* Asks the VM first (per-VM answers, KVM_CAP_CHECK_EXTENSION_VM), then /dev/kvm. 0: absent. */
static int kvm_check_cap(struct kvm_backend *kb, long cap)
{
	int r = ioctl(kb->vm_fd, KVM_CHECK_EXTENSION, cap);

	if (r < 0)
		r = ioctl(kb->kvm_fd, KVM_CHECK_EXTENSION, cap);
	return r < 0 ? 0 : r;
}

/* Asks KVM for the CPUID leaves it supports, growing the buffer while it says E2BIG. */
static int kvm_get_supported_cpuid(struct kvm_backend *kb)
{
	for (unsigned nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(kb->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kb->cpuid = c;
			return 0;
		}
		int e = errno;

		free(c);
		if (e != E2BIG) {
			pr_err(KVM_LOG, "KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
			return -e;
		}
	}
	pr_err(KVM_LOG, "KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
	return -E2BIG;
}

static int kvm_create_vcpu(struct kvm_backend *kb, unsigned id)
{
	struct kvm_vcpu_ctx *vc = &kb->vcpus[id];
	int r;

	r = ioctl(kb->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (r < 0) {
		r = -errno;
		pr_err(KVM_LOG, "KVM_CREATE_VCPU %u: %s", id, strerror(-r));
		return r;
	}
	vc->fd = r;
	void *run = mmap(NULL, kb->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vc->fd, 0);

	if (run == MAP_FAILED) {
		r = -errno;
		pr_err(KVM_LOG, "mmap of vcpu %u run page: %s", id, strerror(-r));
		return r;
	}
	vc->run = run;
	return kvm_vcpu_set_cpuid(vc, kb->cpuid);
}

/* Releases everything kb holds; each step checks what was actually set up. */
static void kvm_teardown(struct kvm_backend *kb)
{
	if (kb->vcpus) {
		for (unsigned i = 0; i < kb->nvcpus; i++) {
			struct kvm_vcpu_ctx *vc = &kb->vcpus[i];

			if (vc->run)
				munmap(vc->run, kb->run_size);
			if (vc->fd >= 0)
				close(vc->fd);
		}
		free(kb->vcpus);
	}
	kvm_irq_fini(kb);
	if (kb->vm_fd >= 0)
		close(kb->vm_fd);
	if (kb->kvm_fd >= 0)
		close(kb->kvm_fd);
	if (kb->locks_ready) {
		pthread_mutex_destroy(&kb->mem_lock);
		pthread_mutex_destroy(&kb->irq_lock);
		pthread_mutex_destroy(&kb->run_lock);
	}
	free(kb->slots);
	free(kb->cpuid);
	free(kb);
}

static int kvm_open_vm(struct kvm_backend *kb)
{
	int r;

	kb->kvm_fd = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (kb->kvm_fd < 0) {
		r = -errno;
		pr_err(KVM_LOG, "open %s: %s", KVM_DEV_PATH, strerror(-r));
		return r;
	}
	r = kvm_ioctl(kb->kvm_fd, KVM_GET_API_VERSION, NULL, "KVM_GET_API_VERSION");
	if (r < 0)
		return r;
	if (r != KVM_API_EXPECTED) {
		pr_err(KVM_LOG, "KVM API version %d, need %d", r, KVM_API_EXPECTED);
		return -ENOTSUP;
	}
	r = kvm_ioctl(kb->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL, "KVM_GET_VCPU_MMAP_SIZE");
	if (r < 0)
		return r;
	if ((size_t)r < sizeof(struct kvm_run)) {
		pr_err(KVM_LOG, "KVM_GET_VCPU_MMAP_SIZE: %d is smaller than struct kvm_run", r);
		return -EINVAL;
	}
	kb->run_size = (size_t)r;

	/* Type 0: the default VM type. */
	r = kvm_ioctl(kb->kvm_fd, KVM_CREATE_VM, NULL, "KVM_CREATE_VM");
	if (r < 0)
		return r;
	kb->vm_fd = r;
	return 0;
}

/*
 * With the in-kernel LAPIC, application processors wait for the boot vCPU's INIT and SIPI, as on
 * a real machine. KVM already starts them so (UNINITIALIZED); saying INIT_RECEIVED makes them
 * wait for the SIPI alone, which is where firmware leaves APs. If KVM refuses, its own default
 * still waits for INIT/SIPI.
 */
static void kvm_vcpu_wait_for_sipi(struct kvm_vcpu_ctx *vc)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_INIT_RECEIVED };

	if (ioctl(vc->fd, KVM_SET_MP_STATE, &mp) < 0)
		pr_dbg(KVM_LOG, "vcpu%u: KVM_SET_MP_STATE(INIT_RECEIVED): %s; it waits for INIT "
		       "and SIPI", vc->id, strerror(errno));
}

static int kvm_create_vm(struct vmm *vmm, const struct vmm_vm_params *params)
{
	struct kvm_backend *kb;
	int max_vcpus, nslots;
	int host_cpus[KVM_VCPUS_MAX];
	const char *notes[4];
	char why[256];
	int r;

	if (!vmm || !params || params->vcpus == 0 || params->vcpus > KVM_VCPUS_MAX)
		return -EINVAL;
	if (vmm->priv)
		return -EBUSY;
	/* The host CPUs first: a CPU that is not there is the user's error, not KVM's. */
	r = kvm_map_host_cpus(params, host_cpus, why, sizeof(why));
	if (r < 0) {
		pr_err(KVM_LOG, "--cpu_affinity: %s", why);
		return r;
	}
	for (unsigned i = 0, n = kvm_params_notes(params, notes, 4); i < n; i++)
		pr_warn(KVM_LOG, "%s", notes[i]);

	kb = calloc(1, sizeof(*kb));
	if (!kb)
		return -ENOMEM;
	kb->vmm = vmm;
	kb->kvm_fd = -1;
	kb->vm_fd = -1;
	atomic_init(&kb->stopping, false);
	atomic_flag_clear(&kb->exit_reported);
	pthread_mutex_init(&kb->mem_lock, NULL);
	pthread_mutex_init(&kb->irq_lock, NULL);
	pthread_mutex_init(&kb->run_lock, NULL);
	kb->locks_ready = true;

	r = kvm_open_vm(kb);
	if (r < 0)
		goto fail;

	if (kvm_check_cap(kb, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
		/* stop() relies on it to kick a vCPU that is about to enter the guest. */
		pr_err(KVM_LOG, "KVM_CAP_IMMEDIATE_EXIT is not supported");
		r = -ENOTSUP;
		goto fail;
	}
	max_vcpus = kvm_check_cap(kb, KVM_CAP_MAX_VCPUS);

	if (max_vcpus > 0 && params->vcpus > (unsigned)max_vcpus) {
		pr_err(KVM_LOG, "%u vCPUs requested, KVM allows %d", params->vcpus, max_vcpus);
		r = -EINVAL;
		goto fail;
	}

	nslots = kvm_check_cap(kb, KVM_CAP_NR_MEMSLOTS);

	kb->nslots = nslots > 0 ? (unsigned)nslots : 32;
	if (kb->nslots > KVM_SLOTS_MAX)
		kb->nslots = KVM_SLOTS_MAX;
	kb->slots = calloc(kb->nslots, sizeof(*kb->slots));
	if (!kb->slots) {
		r = -ENOMEM;
		goto fail;
	}

	if (kvm_check_cap(kb, KVM_CAP_SET_TSS_ADDR) > 0) {
		r = kvm_ioctl(kb->vm_fd, KVM_SET_TSS_ADDR, (void *)KVM_TSS_ADDR, "KVM_SET_TSS_ADDR");
		if (r < 0)
			goto fail;
	}
	/* In-kernel LAPIC, IOAPIC and PIC: the device model only ever injects MSIs. */
	r = kvm_ioctl(kb->vm_fd, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP");
	if (r < 0)
		goto fail;
	r = kvm_irq_init(kb);
	if (r < 0)
		goto fail;
	r = kvm_get_supported_cpuid(kb);
	if (r < 0)
		goto fail;

	kb->vcpus = calloc(params->vcpus, sizeof(*kb->vcpus));
	if (!kb->vcpus) {
		r = -ENOMEM;
		goto fail;
	}
	kb->nvcpus = params->vcpus;
	for (unsigned i = 0; i < kb->nvcpus; i++) {
		kb->vcpus[i].kb = kb;
		kb->vcpus[i].id = i;
		kb->vcpus[i].fd = -1;
		kb->vcpus[i].host_cpu = params->cpu_affinity ? host_cpus[i] : -1;
	}
	for (unsigned i = 0; i < kb->nvcpus; i++) {
		r = kvm_create_vcpu(kb, i);
		if (r < 0)
			goto fail;
		if (i > 0)
			kvm_vcpu_wait_for_sipi(&kb->vcpus[i]);
	}

	vmm->priv = kb;
	pr_info(KVM_LOG, "VM %s created: %u vCPU(s)", params->name ? params->name : "?",
		kb->nvcpus);
	return 0;

fail:
	kvm_teardown(kb);
	return r;
}

static void kvm_destroy_vm(struct vmm *vmm)
{
	struct kvm_backend *kb = kvm_of(vmm);

	if (!kb)
		return;
	kvm_stop(vmm);
	vmm->priv = NULL;
	kvm_teardown(kb);
}

static int kvm_set_slot(struct kvm_backend *kb, unsigned slot, uint64_t gpa, uint64_t len,
			void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = 0,
		.guest_phys_addr = gpa,
		.memory_size = len,
		.userspace_addr = (uintptr_t)hva,
	};

	return kvm_ioctl(kb->vm_fd, KVM_SET_USER_MEMORY_REGION, &region,
			 "KVM_SET_USER_MEMORY_REGION");
}

/*
 * KVM has no non-executable memory slots, so exec is accepted and ignored: RAM BARs are
 * executable like guest RAM.
 */
static int kvm_map_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva, bool exec)
{
	struct kvm_backend *kb = kvm_of(vmm);
	int r = -ENOSPC;

	(void)exec;
	if (!kb)
		return -ENODEV;
	if (len == 0 || (gpa & PAGE_MASK_4K) || (len & PAGE_MASK_4K) ||
	    ((uintptr_t)hva & PAGE_MASK_4K) || gpa + len < gpa)
		return -EINVAL;

	pthread_mutex_lock(&kb->mem_lock);
	for (unsigned i = 0; i < kb->nslots; i++) {
		struct kvm_memslot *s = &kb->slots[i];

		if (s->used && gpa < s->gpa + s->len && s->gpa < gpa + len) {
			pr_err(KVM_LOG, "map 0x%llx+0x%llx overlaps slot %u at 0x%llx+0x%llx",
			       (unsigned long long)gpa, (unsigned long long)len, i,
			       (unsigned long long)s->gpa, (unsigned long long)s->len);
			r = -EEXIST;
			goto out;
		}
	}
	for (unsigned i = 0; i < kb->nslots; i++) {
		struct kvm_memslot *s = &kb->slots[i];

		if (s->used)
			continue;
		r = kvm_set_slot(kb, i, gpa, len, hva);
		if (r == 0) {
			*s = (struct kvm_memslot){ .used = true, .gpa = gpa, .len = len, .hva = hva };
			pr_dbg(KVM_LOG, "slot %u: gpa 0x%llx len 0x%llx", i,
			       (unsigned long long)gpa, (unsigned long long)len);
		}
		goto out;
	}
	pr_err(KVM_LOG, "no free memory slot for 0x%llx+0x%llx (%u in use)",
	       (unsigned long long)gpa, (unsigned long long)len, kb->nslots);
out:
	pthread_mutex_unlock(&kb->mem_lock);
	return r;
}

static int kvm_unmap_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva)
{
	struct kvm_backend *kb = kvm_of(vmm);
	int r = -ENOENT;

	if (!kb)
		return -ENODEV;
	pthread_mutex_lock(&kb->mem_lock);
	for (unsigned i = 0; i < kb->nslots; i++) {
		struct kvm_memslot *s = &kb->slots[i];

		if (!s->used || s->gpa != gpa || s->len != len)
			continue;
		if (s->hva != hva) {
			pr_err(KVM_LOG, "unmap 0x%llx: host address differs from the mapping's",
			       (unsigned long long)gpa);
			r = -EINVAL;
			break;
		}
		/* A size of zero deletes the slot; its number is free again afterwards. */
		r = kvm_set_slot(kb, i, gpa, 0, hva);
		if (r == 0)
			*s = (struct kvm_memslot){ 0 };
		break;
	}
	if (r == -ENOENT)
		pr_err(KVM_LOG, "unmap 0x%llx+0x%llx: no such mapping", (unsigned long long)gpa,
		       (unsigned long long)len);
	pthread_mutex_unlock(&kb->mem_lock);
	return r;
}

static int kvm_send_msi(struct vmm *vmm, uint64_t addr, uint32_t data)
{
	struct kvm_backend *kb = kvm_of(vmm);
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	int r;

	if (!kb)
		return -ENODEV;
	/* > 0: delivered, 0: the guest blocked it (e.g. its LAPIC is disabled); both are fine. */
	r = kvm_ioctl(kb->vm_fd, KVM_SIGNAL_MSI, &msi, "KVM_SIGNAL_MSI");
	return r < 0 ? r : 0;
}

static int kvm_ioeventfd(struct vmm *vmm, const struct vmm_ioeventfd *ioev, bool assign)
{
	struct kvm_backend *kb = kvm_of(vmm);

	if (!kb)
		return -ENODEV;
	if (!ioev || ioev->fd < 0 ||
	    (ioev->len != 1 && ioev->len != 2 && ioev->len != 4 && ioev->len != 8))
		return -EINVAL;

	struct kvm_ioeventfd kio = {
		.datamatch = ioev->datamatch ? ioev->data : 0,
		.addr = ioev->addr,
		.len = ioev->len,
		.fd = ioev->fd,
		.flags = (ioev->datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	return kvm_ioctl(kb->vm_fd, KVM_IOEVENTFD, &kio,
			 assign ? "KVM_IOEVENTFD(assign)" : "KVM_IOEVENTFD(deassign)");
}

static int kvm_ioeventfd_add(struct vmm *vmm, const struct vmm_ioeventfd *ioev)
{
	return kvm_ioeventfd(vmm, ioev, true);
}

static int kvm_ioeventfd_del(struct vmm *vmm, const struct vmm_ioeventfd *ioev)
{
	return kvm_ioeventfd(vmm, ioev, false);
}

/* KVM emulates no devices on the device model's behalf: hv:/ ivshmem needs ACRN. */
static int kvm_create_vdev(struct vmm *vmm, const struct vmm_vdev *vdev)
{
	(void)vmm;
	(void)vdev;
	return -ENOTSUP;
}

static int kvm_destroy_vdev(struct vmm *vmm, const struct vmm_vdev *vdev)
{
	(void)vmm;
	(void)vdev;
	return -ENOTSUP;
}

const struct vmm_ops vmm_kvm_ops = {
	.name = "kvm",
	.create_vm = kvm_create_vm,
	.destroy_vm = kvm_destroy_vm,
	.map_ram = kvm_map_ram,
	.unmap_ram = kvm_unmap_ram,
	.start = kvm_start,
	.stop = kvm_stop,
	.send_msi = kvm_send_msi,
	.ioeventfd_add = kvm_ioeventfd_add,
	.ioeventfd_del = kvm_ioeventfd_del,
	.irqfd_add = kvm_irqfd_add,
	.irqfd_update = kvm_irqfd_update,
	.irqfd_del = kvm_irqfd_del,
	.create_vdev = kvm_create_vdev,
	.destroy_vdev = kvm_destroy_vdev,
};
