/*
 * A fake /dev/acrn_hsm for the HSM backend's unit tests. The test binaries are linked with
 * -Wl,--wrap=open,ioctl,close,mmap,munmap: calls on the fake descriptor are recorded (request,
 * copy of the argument, calling thread, result) and answered the way the upstream HSM driver
 * (drivers/virt/acrn) answers them, including its argument checks, the ioreq client's blocking
 * ATTACH and the completion done by NOTIFY_REQUEST_FINISH. Anything else passes through.
 */
#ifndef TEST_VMM_HSM_FAKE_H
#define TEST_VMM_HSM_FAKE_H

#include <stdbool.h>
#include <sys/ioctl.h>
#include <linux/acrn.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_ARG_MAX 512
#define FAKE_FAIL_ALWAYS 0u

struct fake_call {
	unsigned long req;
	bool main_thread;	/* false: the backend's ioreq thread */
	int err;		/* 0, or the errno the fake answered */
	size_t len;		/* bytes of arg copied (the request's _IOC_SIZE) */
	unsigned char arg[FAKE_ARG_MAX];
};

/* Fresh fake (call in each test's setup). The caller's thread counts as the main thread. */
void fake_hsm_reset(void);
/* Asserts the backend left nothing behind: descriptor closed, ioreq page unmapped. */
void fake_hsm_assert_clean(void);

/* Fail the nth (1-based) call of req, or every call with FAKE_FAIL_ALWAYS, with err. */
void fake_hsm_fail(unsigned long req, unsigned nth, int err);
void fake_hsm_fail_open(int err);
void fake_hsm_fail_mmap(int err);

/* What the "hypervisor" answers to CREATE_VM. */
void fake_hsm_set_reply(uint16_t vmid, uint16_t vcpu_num);

unsigned fake_hsm_count(unsigned long req);
/* The nth (1-based) call of req, or NULL. The pointer stays valid until the next reset. */
const struct fake_call *fake_hsm_call(unsigned long req, unsigned nth);
#define FAKE_ARG(call, type) ((const type *)(const void *)(call)->arg)
/* Requests made from the main thread, in order. Returns how many (at most max). */
size_t fake_hsm_main_sequence(unsigned long *out, size_t max);
/* The name of a request, for messages. */
const char *fake_hsm_req_name(unsigned long req);

/* The ioreq page the backend registered with CREATE_VM (NULL before). */
struct acrn_io_request_buffer *fake_hsm_ioreq_buf(void);
/* Publishes the filled slots of mask as PROCESSING (as the HSM does) and wakes ATTACH. */
void fake_hsm_post(uint32_t vcpu_mask);
/* Waits until NOTIFY_REQUEST_FINISH was called at least count times in all. */
bool fake_hsm_wait_notified(unsigned count, unsigned timeout_ms);
/* Waits until the backend's thread is blocked in ATTACH with nothing pending. */
bool fake_hsm_wait_attach_blocked(unsigned timeout_ms);
/* vCPUs notified, in order. Returns how many (at most max). */
size_t fake_hsm_notified(unsigned *out, size_t max);

bool fake_hsm_fd_open(void);
unsigned fake_hsm_opens(void);
bool fake_hsm_client_exists(void);
bool fake_hsm_vm_exists(void);

#endif
