/* The fixture of the KVM guest tests: see test_vmm_kvm_fixture.h. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/kvm.h>

#include "io_dispatch.h"
#include "test_vmm_kvm_fixture.h"

/* ---- devices ---- */

static int h_out(void *opaque, uint64_t off, unsigned size, bool is_write, uint64_t *value)
{
	struct fixture *f = opaque;

	pthread_mutex_lock(&f->lock);
	if (off == 0 && is_write && f->nout < 32) {
		f->out[f->nout] = *value;
		f->out_size[f->nout++] = size;
	} else if (off == PORT_DONE - PORT_OUT && is_write) {
		sem_post(&f->done);
	} else if (off == PORT_READY - PORT_OUT && is_write) {
		sem_post(&f->ready);
	} else if (off == PORT_IN - PORT_OUT && !is_write) {
		*value = 0xCAFEBABEULL & (size == 4 ? 0xffffffffULL : 0xffffULL);
	} else if (off == PORT_SEQ - PORT_OUT && !is_write) {
		*value = 0x1111ULL * ++f->seq;
	} else if (off == PORT_STR - PORT_OUT && is_write && f->nstr < 16) {
		f->str[f->nstr++] = (uint8_t)*value;
	}
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int h_mmio(void *opaque, uint64_t off, unsigned size, bool is_write, uint64_t *value,
		  uint64_t base)
{
	struct fixture *f = opaque;

	pthread_mutex_lock(&f->lock);
	if (is_write && f->nmw < 16) {
		f->mw[f->nmw].addr = base + off;
		f->mw[f->nmw].size = size;
		f->mw[f->nmw++].value = *value;
	} else if (!is_write) {
		f->mmio_reads++;
		*value = base == MMIO_HIGH ? 0x600DF00D : 0x89ABCDEF;
	}
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int h_dev(void *o, uint64_t off, unsigned size, bool w, uint64_t *v)
{
	return h_mmio(o, off, size, w, v, MMIO_DEV);
}

static int h_high(void *o, uint64_t off, unsigned size, bool w, uint64_t *v)
{
	return h_mmio(o, off, size, w, v, MMIO_HIGH);
}

static void on_exit_cb(void *opaque, const struct vm_exit_info *info)
{
	struct fixture *f = opaque;

	pthread_mutex_lock(&f->lock);
	f->exit = *info;
	f->nexit++;
	pthread_mutex_unlock(&f->lock);
	if (f->stop_in_exit)
		vmm_kvm_ops.stop(&f->vm.vmm);	/* from the vCPU thread: must not deadlock */
	sem_post(&f->exited);
}

/* ---- VM plumbing ---- */

/* Asks the kernel directly, so a bug in the backend fails the tests instead of skipping them. */
void skip_without_kvm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	const char *why = NULL;

	if (kvm < 0) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		skip();
	}
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != 12) {
		why = "KVM API version is not 12";
	} else {
		int vm = ioctl(kvm, KVM_CREATE_VM, 0);

		if (vm < 0)
			why = "KVM_CREATE_VM fails";
		else
			close(vm);
	}
	close(kvm);
	if (why) {
		printf("SKIP: /dev/kvm unusable: %s\n", why);
		skip();
	}
}

void vm_up(struct fixture *f, unsigned vcpus)
{
	struct vmm_vm_params params = { .name = "test", .vcpus = vcpus, .memsize = RAM_SIZE };
	const struct io_range ranges[] = {
		{ "ports", IO_SPACE_PIO, PORT_OUT, 0x100, h_out, f },
		{ "dev", IO_SPACE_MMIO, MMIO_DEV, 0x1000, h_dev, f },
		{ "high", IO_SPACE_MMIO, MMIO_HIGH, 0x1000, h_high, f },
	};

	skip_without_kvm();
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		assert_int_equal(io_register(f->vm.io, &ranges[i]), 0);
	assert_int_equal(vmm_kvm_ops.create_vm(&f->vm.vmm, &params), 0);
	f->created = true;
	assert_int_equal(vmm_kvm_ops.map_ram(&f->vm.vmm, 0, RAM_SIZE, f->vm.ram, true), 0);
}

int kvm_fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	pthread_mutex_init(&f->lock, NULL);
	sem_init(&f->done, 0, 0);
	sem_init(&f->ready, 0, 0);
	sem_init(&f->exited, 0, 0);
	f->ram_fd = memfd_create("test-ram", MFD_CLOEXEC);
	if (f->ram_fd < 0 || ftruncate(f->ram_fd, RAM_SIZE) < 0)
		return -1;
	f->vm.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->ram_fd, 0);
	if (f->vm.ram == MAP_FAILED)
		return -1;
	f->vm.lowmem = RAM_SIZE;
	f->vm.io = io_registry_new();
	f->vm.vmm.io = f->vm.io;
	f->vm.vmm.on_exit = on_exit_cb;
	f->vm.vmm.on_exit_opaque = f;
	snprintf(f->path, sizeof(f->path), "/tmp/test_vmm_kvm.XXXXXX");
	int fd = mkstemp(f->path);

	if (fd < 0)
		return -1;
	close(fd);
	*state = f;
	return 0;
}

int kvm_fixture_teardown(void **state)
{
	struct fixture *f = *state;

	if (f->created) {
		vmm_kvm_ops.stop(&f->vm.vmm);
		vmm_kvm_ops.destroy_vm(&f->vm.vmm);
		vmm_kvm_ops.destroy_vm(&f->vm.vmm);	/* twice: must be harmless */
	}
	io_registry_free(f->vm.io);
	munmap(f->vm.ram, RAM_SIZE);
	close(f->ram_fd);
	unlink(f->path);
	sem_destroy(&f->done);
	sem_destroy(&f->ready);
	sem_destroy(&f->exited);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return 0;
}

uint8_t *ram(struct fixture *f, uint64_t gpa)
{
	return (uint8_t *)f->vm.ram + gpa;
}

/*
 * Starts the code at CODE_GPA in 32-bit protected mode, with a flat GDT at 0x1000 (an interrupt
 * gate's selector 0x08 is looked up there).
 */
void start32(struct fixture *f, const uint8_t *code, size_t len)
{
	static const uint64_t gdt[3] = { 0, 0x00CF9A000000FFFFULL, 0x00CF92000000FFFFULL };
	struct vcpu_boot_state boot = {
		.mode = VCPU_START_PROTECTED32, .rip = CODE_GPA, .rsp = STACK_TOP,
		.gdt_base = GDT_GPA, .gdt_limit = sizeof(gdt) - 1,
	};

	memcpy(ram(f, GDT_GPA), gdt, sizeof(gdt));
	memcpy(ram(f, CODE_GPA), code, len);
	assert_int_equal(vmm_kvm_ops.start(&f->vm.vmm, &boot), 0);
}

bool wait_sem(sem_t *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_SEC;
	while (sem_timedwait(s, &ts) < 0)
		if (errno != EINTR)
			return false;
	return true;
}

void wait_done(struct fixture *f)
{
	if (!wait_sem(&f->done))
		fail_msg("the guest did not finish within %d s (exit: %s)", WAIT_SEC,
			 f->nexit ? f->exit.detail : "none");
	vmm_kvm_ops.stop(&f->vm.vmm);
	assert_int_equal(f->nexit, 0);
}

void expect_out(struct fixture *f, unsigned i, uint64_t value, unsigned size)
{
	assert_true(i < f->nout);
	assert_int_equal(f->out[i], value);
	assert_int_equal(f->out_size[i], size);
}

/* Writes a one-segment ELF with the code at `at` (after a Multiboot header when mb). */
void write_elf(struct fixture *f, bool elf64, bool mb, const uint8_t *code, size_t len,
		      uint64_t at)
{
	uint8_t img[0x200] = { 0 };
	size_t hdr = mb ? 12 : 0, off = 0x100;

	assert_true(off + hdr + len <= sizeof(img));
	if (mb) {
		uint32_t mbh[3] = { 0x1BADB002U, 1U << 1, (uint32_t)-(0x1BADB002U + (1U << 1)) };
		memcpy(img + off, mbh, sizeof(mbh));
	}
	memcpy(img + off + hdr, code, len);
	if (elf64) {
		Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64,
				  .e_version = EV_CURRENT, .e_entry = at + hdr,
				  .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
				  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1 };
		Elf64_Phdr ph = { .p_type = PT_LOAD, .p_offset = off, .p_vaddr = at, .p_paddr = at,
				  .p_filesz = hdr + len, .p_memsz = hdr + len };
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(img, &eh, sizeof(eh));
		memcpy(img + sizeof(eh), &ph, sizeof(ph));
	} else {
		Elf32_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
				  .e_entry = (uint32_t)(at + hdr), .e_phoff = sizeof(Elf32_Ehdr),
				  .e_ehsize = sizeof(Elf32_Ehdr), .e_phentsize = sizeof(Elf32_Phdr),
				  .e_phnum = 1 };
		Elf32_Phdr ph = { .p_type = PT_LOAD, .p_offset = off, .p_vaddr = (uint32_t)at,
				  .p_paddr = (uint32_t)at, .p_filesz = (uint32_t)(hdr + len),
				  .p_memsz = (uint32_t)(hdr + len) };
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS32;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(img, &eh, sizeof(eh));
		memcpy(img + sizeof(eh), &ph, sizeof(ph));
	}
	FILE *fp = fopen(f->path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(img, 1, sizeof(img), fp), sizeof(img));
	fclose(fp);
}
