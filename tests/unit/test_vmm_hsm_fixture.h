/*
 * The life-cycle fixture shared by test_vmm_hsm.c and test_vmm_hsm_errors.c: a struct vmm on
 * the HSM backend over the fake HSM, with a port handler and an exit recorder.
 */
#ifndef TEST_VMM_HSM_FIXTURE_H
#define TEST_VMM_HSM_FIXTURE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "io_dispatch.h"
#include "test_vmm_hsm_fake.h"
#include "../../devicemodel/vmm/vmm_hsm_priv.h"

#define PAGE 4096u
#define MAX_SEQ 64

struct exits {
	pthread_mutex_t lock;
	unsigned count;
	struct vm_exit_info last;
};

struct fixture {
	struct vmm vmm;
	struct io_registry *io;
	struct exits exits;
	uint64_t port_written;	/* the last byte written to port 0x3f8 */
	unsigned port_calls;
	void *ram;		/* an address the fake only records */
};

/* CMocka setup/teardown: a fresh fake and fixture; teardown destroys and checks for leaks. */
int hsm_setup(void **state);
int hsm_teardown(void **state);

struct vmm_vm_params params(const char *name, unsigned vcpus);
struct vcpu_boot_state multiboot_boot(void);
unsigned exit_count(struct fixture *f, struct vm_exit_info *last);
/* The main thread's ioctls were exactly want[0..n). */
void assert_sequence(const unsigned long *want, size_t n);
void create_ok(struct fixture *f, const char *name, unsigned vcpus);
/* Posts one PIO write on vCPU 0 and waits for its completion. */
void run_one_request(struct fixture *f, unsigned already_notified);
/* create_ok + start + one request. */
void start_running(struct fixture *f);

#endif
