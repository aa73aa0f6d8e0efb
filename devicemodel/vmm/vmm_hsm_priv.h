/*
 * The ACRN HSM backend's private state, shared by vmm_hsm*.c only.
 *
 * One /dev/acrn_hsm file descriptor is one VM. Its life cycle:
 *   create_vm: open, ACRN_IOCTL_CREATE_VM (registers the ioreq page), CREATE_IOREQ_CLIENT
 *   start:     SET_VCPU_REGS, the ioreq client thread, START_VM
 *   stop:      PAUSE_VM, DESTROY_IOREQ_CLIENT (wakes the thread in ATTACH), join, CLEAR_VM_IOREQ
 *   destroy:   DESTROY_VM (the HSM also drops the memory maps, irqfds and ioeventfds), close
 * Only the main thread calls the life-cycle ops; the ioreq thread reads the fields marked
 * "immutable while running" and the atomics.
 */
#ifndef DM_VMM_HSM_PRIV_H
#define DM_VMM_HSM_PRIV_H

#include <sys/ioctl.h>
#include <linux/acrn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "vmm.h"

#define HSM_LOG "hsm"
#define HSM_DEVICE_PATH "/dev/acrn_hsm"
#define HSM_PAGE_SIZE 4096u
#define HSM_MAX_IRQFDS 64	/* ivshmem: 8 vectors per device; a few devices per VM */

struct hsm_irqfd {
	bool used;
	int fd;
	uint64_t addr;
	uint32_t data;
};

struct hsm_vm {
	struct vmm *vmm;		/* immutable while running */
	int fd;				/* /dev/acrn_hsm; -1 once closed */
	uint16_t vmid;			/* immutable while running */
	unsigned vcpu_num;		/* ioreq slots scanned; immutable while running */
	char name[16];			/* NUL-terminated VM name, for messages */
	struct acrn_io_request_buffer *ioreq_buf;	/* one page, pinned by the HSM */

	bool vm_created;		/* CREATE_VM done, DESTROY_VM not yet */
	bool client_created;		/* CREATE_IOREQ_CLIENT done, DESTROY_IOREQ_CLIENT not yet */
	bool started;			/* START_VM done, PAUSE_VM not yet */

	pthread_t thread;
	bool thread_joinable;		/* created and not joined */
	atomic_bool stopping;		/* the thread must leave at its next chance */
	atomic_bool exit_reported;	/* vmm->on_exit was called */
	atomic_bool unknown_type_logged;

	pthread_mutex_t irqfd_lock;	/* irqfd table: ops may come from any thread */
	struct hsm_irqfd irqfds[HSM_MAX_IRQFDS];

	struct log_ratelimit msi_rl;	/* guest-triggered errors (doorbells) */
	struct log_ratelimit ioreq_rl;
};

/*
 * ioctl(h->fd, req, arg): 0, or a negative errno after logging "<name>: <strerror> (errno N)"
 * with the VM's name. `what` may add context ("gpa 0x1000 len 0x2000") or be NULL.
 */
int hsm_ioctl(struct hsm_vm *h, unsigned long req, const char *name, void *arg, const char *what)
	__attribute__((warn_unused_result));
#define HSM_IOCTL(h, req, arg, what) hsm_ioctl((h), (req), #req, (arg), (what))
/* Teardown steps: a failure is logged and the teardown goes on. */
void hsm_ioctl_teardown(struct hsm_vm *h, unsigned long req, const char *name);
#define HSM_IOCTL_TEARDOWN(h, req) hsm_ioctl_teardown((h), (req), #req)

/* Thread-safe strerror into buf. */
const char *hsm_strerror(int err, char *buf, size_t len);

/* vmm_hsm_regs.c: the boot vCPU's state for ACRN_IOCTL_SET_VCPU_REGS. -EINVAL for a bad mode. */
int hsm_fill_vcpu_regs(const struct vcpu_boot_state *boot, struct acrn_vcpu_regs *regs)
	__attribute__((warn_unused_result));

/* vmm_hsm_ioreq.c: the client thread. */
int hsm_ioreq_thread_start(struct hsm_vm *h) __attribute__((warn_unused_result));
/*
 * Makes the thread leave ATTACH (DESTROY_IOREQ_CLIENT) and joins it, waiting at most the join
 * timeout when the wake-up failed. Returns true when the thread is gone (or never ran).
 */
bool hsm_ioreq_thread_stop(struct hsm_vm *h);
/* Joins a thread that stop could not wake, after DESTROY_VM woke it; bounded like stop. */
bool hsm_ioreq_thread_reap(struct hsm_vm *h);
/* Handles every PROCESSING slot once and completes it (used by the thread; tests call it too). */
void hsm_ioreq_scan(struct hsm_vm *h);

/* vmm_hsm_irq.c */
int hsm_send_msi(struct vmm *vmm, uint64_t addr, uint32_t data);
int hsm_ioeventfd_add(struct vmm *vmm, const struct vmm_ioeventfd *ioev);
int hsm_ioeventfd_del(struct vmm *vmm, const struct vmm_ioeventfd *ioev);
int hsm_irqfd_add(struct vmm *vmm, int fd, uint64_t addr, uint32_t data);
int hsm_irqfd_update(struct vmm *vmm, int handle, uint64_t addr, uint32_t data);
int hsm_irqfd_del(struct vmm *vmm, int handle);

/* vmm_hsm_cpus.c */

/* The hypervisor's guest flags (ACRN's acrn_common.h, GUEST_FLAG_*). */
#define HSM_GUEST_FLAG_SECURE_WORLD_ENABLED	(1ull << 0)
#define HSM_GUEST_FLAG_LAPIC_PASSTHROUGH	(1ull << 1)
#define HSM_GUEST_FLAG_IO_COMPLETION_POLLING	(1ull << 2)
#define HSM_GUEST_FLAG_RT			(1ull << 4)
#define HSM_GUEST_FLAG_PMU_PASSTHROUGH		(1ull << 11)

/* Where the Service VM's MADT is read from; tests point it at a file of their own. */
extern const char *hsm_madt_path;
/* The local APIC ids of the enabled processors of a MADT, in pCPU order; their count or -errno. */
int hsm_madt_apic_ids(const uint8_t *madt, size_t len, uint32_t *ids, unsigned max);
/* CREATE_VM's cpu_affinity for params (0 without --cpu_affinity); -errno with why. */
int hsm_cpu_affinity_bitmap(const struct vmm_vm_params *params, uint64_t *bitmap, char *why,
			    size_t whylen) __attribute__((warn_unused_result));
/* CREATE_VM's vm_flag, as ACRN 3's acrn-dm sets it; warns about --lapic_pt alone. */
uint64_t hsm_vm_flags(const struct vmm_vm_params *params, const char *name);

/* vmm_hsm_vdev.c */
int hsm_create_vdev(struct vmm *vmm, const struct vmm_vdev *vdev);
int hsm_destroy_vdev(struct vmm *vmm, const struct vmm_vdev *vdev);
/* Fills an acrn_vdev as ACRN's device model does for hypervisor-land ivshmem. */
int hsm_vdev_to_acrn(const struct vmm_vdev *vdev, struct acrn_vdev *out)
	__attribute__((warn_unused_result));

/*
 * Timing knobs, process-wide. ACRN's device model retries CREATE_VM ten times, 500 ms apart,
 * because the previous instance of a restarted VM may still be being destroyed; stop waits
 * `join_timeout_ms` for the ioreq thread when DESTROY_IOREQ_CLIENT could not wake it. Unit tests
 * shorten them.
 */
struct hsm_timing {
	unsigned create_tries;
	unsigned create_retry_ms;
	unsigned join_timeout_ms;
};
extern struct hsm_timing hsm_timing;

#endif
