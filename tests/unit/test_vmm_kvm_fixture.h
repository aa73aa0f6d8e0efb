/*
 * Shared by the KVM backend tests that run real guests (test_vmm_kvm.c, test_vmm_kvm_irq.c):
 * a VM with 4 MiB of memfd-backed RAM, test devices on ports 0x500.. and MMIO, and helpers.
 * The guests report values by writing port 0x500 and finish with a write to port 0x501.
 */
#ifndef TEST_VMM_KVM_FIXTURE_H
#define TEST_VMM_KVM_FIXTURE_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem_layout.h"
#include "vm_state.h"

#define RAM_SIZE	(4 * MiB)
#define CODE_GPA	0x10000ULL
#define STACK_TOP	0x8000ULL
#define GDT_GPA		0x1000ULL
#define PORT_OUT	0x500	/* guest -> test: values to check */
#define PORT_DONE	0x501	/* guest finished */
#define PORT_READY	0x502	/* guest is waiting for an interrupt */
#define PORT_IN		0x510	/* test -> guest: 0xCAFEBABE */
#define PORT_SEQ	0x512	/* test -> guest: 0x1111, 0x2222, ... */
#define PORT_STR	0x520	/* rep outsb target */
#define MMIO_DEV	0xD0000000ULL	/* a device with a handler */
#define MMIO_HIGH	0x800000000ULL	/* 32 GiB: only reachable through long mode paging */
#define MSI_VECTOR	0x30
#define WAIT_SEC	10

struct fixture {
	struct vm vm;
	int ram_fd;
	bool created;
	pthread_mutex_t lock;
	uint64_t out[32];
	unsigned out_size[32];
	unsigned nout;
	uint8_t str[16];
	unsigned nstr;
	unsigned seq;
	struct { uint64_t addr; unsigned size; uint64_t value; } mw[16];
	unsigned nmw;
	unsigned mmio_reads;
	sem_t done, ready, exited;
	struct vm_exit_info exit;
	unsigned nexit;
	bool stop_in_exit;	/* on_exit calls stop(), as a device model may */
	char path[64];
};

/* Prints "SKIP: <reason>" and skips the test when /dev/kvm is missing or unusable. */
void skip_without_kvm(void);
/* cmocka setup/teardown: RAM, registry, callbacks; teardown stops and destroys the VM. */
int kvm_fixture_setup(void **state);
int kvm_fixture_teardown(void **state);
/* Registers the test devices, creates the VM and maps its RAM. */
void vm_up(struct fixture *f, unsigned vcpus);
uint8_t *ram(struct fixture *f, uint64_t gpa);
/* Copies code to CODE_GPA and starts it in 32-bit protected mode with a flat GDT. */
void start32(struct fixture *f, const uint8_t *code, size_t len);
bool wait_sem(sem_t *s);
/* Waits for the guest's write to PORT_DONE, stops the VM, checks that nothing went wrong. */
void wait_done(struct fixture *f);
void expect_out(struct fixture *f, unsigned i, uint64_t value, unsigned size);
/* Writes a one-segment ELF to f->path with the code at `at` (after a Multiboot header if mb). */
void write_elf(struct fixture *f, bool elf64, bool mb, const uint8_t *code, size_t len,
	       uint64_t at);

#endif
