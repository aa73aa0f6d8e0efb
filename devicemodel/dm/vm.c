/*
 * VM life cycle: create the backend VM, its RAM, its buses and devices; run it until it stops;
 * tear everything down in reverse. The main thread runs GLib's default main context while vCPUs
 * run on the backend's threads; a stop (guest power off, fault, signal) wakes the loop through
 * vm->exit_pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "debugexit.h"
#include "guest_load.h"
#include "io_dispatch.h"
#include "log.h"
#include "mem_layout.h"
#include "pci.h"
#include "pci_emuls.h"
#include "uart_16550.h"
#include "vm_state.h"

#define HSM_DEVICE "/dev/acrn_hsm"

static void on_backend_exit(void *opaque, const struct vm_exit_info *info)
{
	vm_notify_exit(opaque, info);
}

/* A memfd of size bytes mapped shared; -errno when any step fails (nothing left open). */
static int ram_memfd(uint64_t size, unsigned flags, int *fd_out, void **addr_out)
{
	int fd = memfd_create("acrn-dm-ram", MFD_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	void *addr = MAP_FAILED;
	if (ftruncate(fd, (off_t)size) == 0)
		addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED) {
		int err = -errno;
		close(fd);
		return err;
	}
	*fd_out = fd;
	*addr_out = addr;
	return 0;
}

/* Guest RAM is one memfd: low part at GPA 0, the rest above 4 GiB. */
static int vm_alloc_ram(struct vm *vm, uint64_t memsize, bool try_hugetlb)
{
	vm->lowmem = memsize < LOWMEM_LIMIT ? memsize : LOWMEM_LIMIT;
	vm->highmem = memsize - vm->lowmem;

	/*
	 * ACRN backs guest RAM with huge pages, which the HSM maps fastest. Without enough reserved
	 * huge pages, creating and sizing the memfd succeed and only the mapping fails, so every
	 * step falls back to normal pages.
	 */
	if (try_hugetlb) {
		if (ram_memfd(memsize, MFD_HUGETLB, &vm->ram_fd, &vm->ram) == 0)
			return 0;
		pr_warn("vm", "no huge pages for %llu MiB of guest RAM, using normal pages",
			(unsigned long long)(memsize / MiB));
	}
	int ret = ram_memfd(memsize, 0, &vm->ram_fd, &vm->ram);
	if (ret < 0) {
		vm->ram_fd = -1;
		vm->ram = NULL;
		pr_err("vm", "cannot allocate %llu MiB of guest RAM: %s",
		       (unsigned long long)(memsize / MiB), strerror(-ret));
	}
	return ret;
}

static int vm_map_guest_ram(struct vm *vm)
{
	struct { uint64_t gpa, len; void *hva; } parts[] = {
		{ 0, vm->lowmem, vm->ram },
		{ HIGHMEM_BASE, vm->highmem, (char *)vm->ram + vm->lowmem },
	};
	for (size_t i = 0; i < 2; i++) {
		if (!parts[i].len)
			continue;
		int ret = vm->vmm.ops->map_ram(&vm->vmm, parts[i].gpa, parts[i].len, parts[i].hva, true);
		if (ret < 0)
			return ret;
		/* RAM is reserved in the registry so no BAR can be decoded on top of it. */
		const struct io_range ram = {
			.name = "ram", .space = IO_SPACE_MMIO, .base = parts[i].gpa, .len = parts[i].len,
		};
		ret = io_register(vm->io, &ram);
		if (ret < 0) {
			pr_err("vm", "cannot reserve guest RAM at 0x%llx: %s",
			       (unsigned long long)parts[i].gpa, strerror(-ret));
			return ret;
		}
	}
	/* The LAPIC page belongs to the hypervisor: nothing may be decoded there either. */
	const struct io_range lapic = {
		.name = "lapic", .space = IO_SPACE_MMIO, .base = LAPIC_BASE, .len = 1 * MiB,
	};
	int ret = io_register(vm->io, &lapic);
	if (ret < 0)
		pr_err("vm", "cannot reserve the LAPIC page: %s", strerror(-ret));
	return ret;
}

/* The -s devices in command-line order, each emulation looked up in the table by name. */
static int vm_add_pci_devices(struct vm *vm, const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nslots; i++) {
		const struct slot_option *s = &cfg->slots[i];
		const struct pci_dev_ops *ops = pci_emul_find(s->emul);
		if (!ops) {
			pr_err("vm", "slot %u:%u: unknown emulation '%s'", s->dev, s->func,
			       s->emul ? s->emul : "");
			return -ENOENT;
		}
		int ret = pci_bus_add_device(vm->pci, s->bus, s->dev, s->func, ops, s->config);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static const struct vmm_ops *pick_backend(const struct vm_config *cfg)
{
	if (cfg->vmm_name)
		return vmm_ops_by_name(cfg->vmm_name);
	return access(HSM_DEVICE, F_OK) == 0 ? &vmm_hsm_ops : &vmm_kvm_ops;
}

/*
 * Every failure below is logged once, by whoever finds it (a backend op, a device's init, the PCI
 * core, or here): main prints nothing more.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->ram_fd = -1;
	pthread_mutex_init(&vm->exit_lock, NULL);
	if (pipe2(vm->exit_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		int err = -errno;
		vm->exit_pipe[0] = vm->exit_pipe[1] = -1;
		pr_err("vm", "cannot create the exit pipe: %s", strerror(-err));
		return err;
	}
	vm->io = io_registry_new();
	if (!vm->io) {
		pr_err("vm", "out of memory");
		return -ENOMEM;
	}

	const struct vmm_ops *ops = pick_backend(cfg);
	if (!ops) {
		pr_err("vm", "no hypervisor backend named '%s'", cfg->vmm_name);
		return -EINVAL;
	}
	vm->vmm.ops = ops;
	vm->vmm.io = vm->io;
	vm->vmm.on_exit = on_backend_exit;
	vm->vmm.on_exit_opaque = vm;
	pr_info("vm", "%s: %llu MiB of RAM on the %s backend", cfg->name,
		(unsigned long long)(cfg->memsize / MiB), ops->name);

	int ret = vm_alloc_ram(vm, cfg->memsize, ops == &vmm_hsm_ops);
	if (ret < 0)
		return ret;
	vm->mmio64_base = (HIGHMEM_BASE + vm->highmem + PCI_MMIO64_ALIGN - 1) &
			  ~(PCI_MMIO64_ALIGN - 1);

	vm->pci = pci_bus_new(vm);
	if (!vm->pci) {
		pr_err("vm", "out of memory");
		return -ENOMEM;
	}
	vm->vmm.pci_cfg = pci_cfg_access;
	vm->vmm.pci_cfg_opaque = vm->pci;

	struct vmm_vm_params params = {
		.name = cfg->name,
		.vcpus = cfg->ncpus ? cfg->ncpus : 1,
		.memsize = cfg->memsize,
		.cpu_affinity = cfg->ncpu_affinity ? cfg->cpu_affinity : NULL,
		.vcpus_given = cfg->ncpus_given && !cfg->ncpu_affinity,
		.rtvm = cfg->rtvm,
		.lapic_pt = cfg->lapic_pt,
		.trusty = cfg->trusty,
	};
	uuid_copy(params.uuid, cfg->uuid);
	ret = ops->create_vm(&vm->vmm, &params);
	if (ret < 0)
		return ret;
	vm->vmm_created = true;
	ret = vm_map_guest_ram(vm);
	if (ret < 0)
		return ret;

	ret = vm_add_pci_devices(vm, cfg);
	if (ret < 0)
		return ret;
	if (cfg->com1) {
		ret = uart_16550_create(vm, "com1", COM1_PORT, COM1_IRQ, cfg->com1, &vm->com1);
		if (ret < 0)
			return ret;
	}
	if (cfg->com2) {
		ret = uart_16550_create(vm, "com2", COM2_PORT, COM2_IRQ, cfg->com2, &vm->com2);
		if (ret < 0)
			return ret;
	}
	if (cfg->debugexit) {
		ret = debugexit_create(vm);
		if (ret < 0)
			return ret;
	}
	return pci_bus_start(vm->pci);
}

static gboolean on_exit_pipe(gint fd, GIOCondition cond, gpointer data)
{
	(void)fd;
	(void)cond;
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

struct signal_ctx {
	struct vm *vm;
	int signo;
};

static gboolean on_signal(gpointer data)
{
	struct signal_ctx *sc = data;
	struct vm_exit_info info = { .reason = VM_EXIT_STOPPED, .code = 128 + sc->signo };
	snprintf(info.detail, sizeof(info.detail), "stopped by signal %s", strsignal(sc->signo));
	vm_notify_exit(sc->vm, &info);
	return G_SOURCE_CONTINUE;
}

static int exit_status(const struct vm *vm)
{
	const struct vm_exit_info *info = &vm->exit_info;
	switch (info->reason) {
	case VM_EXIT_POWEROFF:
		pr_info("vm", "%s: %s", vm->cfg->name, info->detail);
		return info->code;
	case VM_EXIT_STOPPED:
		pr_info("vm", "%s: %s", vm->cfg->name, info->detail);
		return info->code;
	case VM_EXIT_SHUTDOWN:
		pr_err("vm", "%s: the guest shut down (triple fault?): %s", vm->cfg->name,
		       info->detail);
		return 2;
	case VM_EXIT_INTERNAL_ERROR:
		pr_err("vm", "%s: the hypervisor stopped the guest: %s", vm->cfg->name,
		       info->detail);
		return 2;
	}
	return 2;
}

/*
 * Once the guest has stopped, nothing may keep acrn-dm alive: should stopping the vCPUs or
 * releasing the devices ever block (a vCPU stuck in the kernel, a hung hypervisor call), the
 * process still exits, with the guest's status, after TEARDOWN_TIMEOUT_S. The shared memory
 * needs no teardown to survive.
 */
#define TEARDOWN_TIMEOUT_S 10

static int teardown_status;

static void *teardown_watchdog(void *arg)
{
	(void)arg;
	sleep(TEARDOWN_TIMEOUT_S);
	static const char msg[] = "acrn-dm: tearing the VM down took too long; exiting anyway\n";
	ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	_exit(teardown_status);
}

static void arm_teardown_watchdog(int status)
{
	teardown_status = status;
	pthread_t thread;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, teardown_watchdog, NULL) != 0)
		pr_warn("vm", "no teardown watchdog: %s", strerror(errno));
	pthread_attr_destroy(&attr);
}

int vm_run(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct vcpu_boot_state boot;
	char err[256];

	if (!cfg->elf_path) {
		pr_err("vm", "no guest image: give one with -E <elf>");
		return 1;
	}
	if (guest_load(vm, cfg->elf_path, cfg->bootargs, &boot, err, sizeof(err)) < 0) {
		pr_err("vm", "%s", err);
		return 1;
	}

	/* vCPU threads inherit a mask that keeps these signals on the main thread's loop. */
	static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct signal_ctx contexts[3];
	guint sources[3];
	for (size_t i = 0; i < 3; i++) {
		contexts[i] = (struct signal_ctx){ vm, stop_signals[i] };
		sources[i] = g_unix_signal_add(stop_signals[i], on_signal, &contexts[i]);
	}
	sigset_t block, old;
	sigemptyset(&block);
	for (size_t i = 0; i < 3; i++)
		sigaddset(&block, stop_signals[i]);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int ret = vm->vmm.ops->start(&vm->vmm, &boot);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	int status = 1;
	if (ret == 0) {
		GMainLoop *loop = g_main_loop_new(NULL, FALSE);
		/* The watch removes itself when it fires, which is what ends the loop. */
		g_unix_fd_add(vm->exit_pipe[0], G_IO_IN, on_exit_pipe, loop);
		g_main_loop_run(loop);
		g_main_loop_unref(loop);
		status = exit_status(vm);
	}
	arm_teardown_watchdog(status);
	vm->vmm.ops->stop(&vm->vmm);
	for (size_t i = 0; i < 3; i++)
		g_source_remove(sources[i]);
	return status;
}

void vm_destroy(struct vm *vm)
{
	if (vm->pci)
		pci_bus_free(vm->pci);
	vm->pci = NULL;
	uart_16550_destroy(vm, vm->com1);
	vm->com1 = NULL;
	uart_16550_destroy(vm, vm->com2);
	vm->com2 = NULL;
	if (vm->vmm.ops && vm->vmm_created)
		vm->vmm.ops->destroy_vm(&vm->vmm);
	vm->vmm_created = false;
	if (vm->ram)
		munmap(vm->ram, vm->lowmem + vm->highmem);
	vm->ram = NULL;
	if (vm->ram_fd >= 0)
		close(vm->ram_fd);
	vm->ram_fd = -1;
	io_registry_free(vm->io);
	vm->io = NULL;
	for (size_t i = 0; i < 2; i++)
		if (vm->exit_pipe[i] > 0)
			close(vm->exit_pipe[i]);
	vm->exit_pipe[0] = vm->exit_pipe[1] = -1;
}
