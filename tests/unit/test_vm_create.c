/*
 * vm_create as acrn-dm runs it, on a fake hypervisor backend (vmm_ops_by_name is wrapped so that
 * --vmm fake finds it): a VM whose start-up fails says why in exactly one error line, whichever
 * layer found the failure (a device, the PCI core, a legacy device, the backend), and leaves
 * nothing behind once destroyed. README promises that one line; this is where it is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "pci_emuls.h"
#include "test_log_capture.h"
#include "vm_state.h"

/* ---- the fake backend ---- */

static bool create_vm_fails;

static int fake_create_vm(struct vmm *vmm, const struct vmm_vm_params *params)
{
	(void)vmm;
	(void)params;
	if (!create_vm_fails)
		return 0;
	/* As the backends do (vmm.h): the op logs its own failure. */
	pr_err("fake", "FAKE_CREATE_VM: Device or resource busy");
	return -EBUSY;
}

static void fake_destroy_vm(struct vmm *vmm)
{
	(void)vmm;
}

static int fake_map_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva, bool exec)
{
	(void)vmm; (void)gpa; (void)len; (void)hva; (void)exec;
	return 0;
}

static int fake_unmap_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva)
{
	(void)vmm; (void)gpa; (void)len; (void)hva;
	return 0;
}

static const struct vmm_ops fake_ops = {
	.name = "fake",
	.create_vm = fake_create_vm,
	.destroy_vm = fake_destroy_vm,
	.map_ram = fake_map_ram,
	.unmap_ram = fake_unmap_ram,
};

const struct vmm_ops *__real_vmm_ops_by_name(const char *name);
const struct vmm_ops *__wrap_vmm_ops_by_name(const char *name);

const struct vmm_ops *__wrap_vmm_ops_by_name(const char *name)
{
	return strcmp(name, "fake") == 0 ? &fake_ops : __real_vmm_ops_by_name(name);
}

/* ---- VM configurations ---- */

static struct vm_config cfg;
static char region_a[32], region_b[32];

static void add_slot(unsigned dev, unsigned func, const char *emul, const char *config)
{
	struct slot_option *s = &cfg.slots[cfg.nslots++];
	*s = (struct slot_option){ .dev = dev, .func = func, .emul = strdup(emul),
				   .config = config ? strdup(config) : NULL };
}

static void unlink_region(const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	unlink(path);
}

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "onelinevm");
	cfg.memsize = 128ULL << 20;
	cfg.vmm_name = strdup("fake");
	create_vm_fails = false;
	snprintf(region_a, sizeof(region_a), "vmcr%d_a", (int)getpid());
	snprintf(region_b, sizeof(region_b), "vmcr%d_b", (int)getpid());
	add_slot(0, 0, "hostbridge", NULL);
	add_slot(1, 0, "lpc", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < cfg.nslots; i++) {
		free(cfg.slots[i].emul);
		free(cfg.slots[i].config);
	}
	free(cfg.vmm_name);
	free(cfg.com1);
	unlink_region(region_a);
	unlink_region(region_b);
	return 0;
}

/* vm_create fails, logging exactly one error line, which contains what. */
static void expect_one_line(const char *what)
{
	static struct vm vm;
	static char log[16384];
	log_capture_begin();
	int ret = vm_create(&vm, &cfg);
	vm_destroy(&vm);
	log_capture_end(log, sizeof(log));
	assert_true(ret < 0);
	if (log_lines(log, "error") != 1)
		fail_msg("%u error lines, expected one:\n%s", log_lines(log, "error"), log);
	if (!strstr(log, what))
		fail_msg("the error does not say '%s':\n%s", what, log);
}

/* ---- tests ---- */

static void test_a_good_vm_logs_no_error(void **state)
{
	(void)state;
	static struct vm vm;
	static char log[16384];
	char config[64];
	snprintf(config, sizeof(config), "dm:/%s,2", region_a);
	add_slot(5, 0, "ivshmem", config);
	cfg.com1 = strdup("/dev/null");
	cfg.debugexit = true;
	log_capture_begin();
	int ret = vm_create(&vm, &cfg);
	vm_destroy(&vm);
	log_capture_end(log, sizeof(log));
	assert_int_equal(ret, 0);
	assert_int_equal(log_lines(log, "error"), 0);
	assert_int_equal(log_lines(log, "warning"), 0);
}

static void test_device_init(void **state)
{
	(void)state;
	/* An existing region of another size: the device says so, the bus and main do not. */
	char path[64], config[64];
	snprintf(path, sizeof(path), "/dev/shm/%s", region_a);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 << 20), 0);
	close(fd);
	snprintf(config, sizeof(config), "dm:/%s,2", region_a);
	add_slot(5, 0, "ivshmem", config);
	expect_one_line("exists with size 4194304 bytes");
}

static void test_device_without_its_server(void **state)
{
	(void)state;
	char config[128];
	/* Nothing listens there, and acrn-dm starts no server for an explicit server=. */
	snprintf(config, sizeof(config), "dm:/%s,2,vectors=2,server=/tmp/%s-none.sock", region_a,
		 region_a);
	add_slot(5, 0, "ivshmem", config);
	expect_one_line("cannot connect to the ivshmem server");
}

static void test_hypervisor_land_without_acrn(void **state)
{
	(void)state;
	char config[64];
	snprintf(config, sizeof(config), "hv:/%s,2", region_a);
	add_slot(5, 0, "ivshmem", config);
	expect_one_line("needs the ACRN hypervisor");
}

static void test_no_room_for_a_bar(void **state)
{
	(void)state;
	char a[64], b[64];
	snprintf(a, sizeof(a), "dm:/%s,32768,0,large=on", region_a);
	snprintf(b, sizeof(b), "dm:/%s,32768,0,large=on", region_b);
	add_slot(3, 0, "ivshmem", a);
	add_slot(4, 0, "ivshmem", b);
	expect_one_line("no room for 0x800000000 bytes");
}

static void test_second_lpc(void **state)
{
	(void)state;
	add_slot(2, 0, "lpc", NULL);
	expect_one_line("only one LPC bridge");
}

static void test_function_without_function_0(void **state)
{
	(void)state;
	add_slot(6, 1, "hostbridge", NULL);
	expect_one_line("function 1 present without function 0");
}

static void test_serial_output_unopenable(void **state)
{
	(void)state;
	cfg.com1 = strdup("/nonexistent-dir/com1.log");
	expect_one_line("cannot open /nonexistent-dir/com1.log");
}

static void test_unknown_emulation(void **state)
{
	(void)state;
	add_slot(4, 0, "virtio-frobnicator", NULL);
	expect_one_line("unknown emulation 'virtio-frobnicator'");
}

/* The table of emulations the names of -s are looked up in. */
static void test_emulation_table(void **state)
{
	(void)state;
	const struct pci_dev_ops *hb = pci_emul_find("hostbridge");
	const struct pci_dev_ops *lpc = pci_emul_find("lpc");
	const struct pci_dev_ops *iv = pci_emul_find("ivshmem");
	assert_ptr_equal(hb, &pci_hostbridge_ops);
	assert_ptr_equal(lpc, &pci_lpc_ops);
	assert_ptr_equal(iv, &pci_ivshmem_ops);
	assert_string_equal(hb->emul, "hostbridge");
	assert_string_equal(lpc->emul, "lpc");
	assert_string_equal(iv->emul, "ivshmem");
	assert_non_null(hb->init);
	assert_null(pci_emul_find("testdev"));
	assert_null(pci_emul_find("HOSTBRIDGE"));
	assert_null(pci_emul_find(""));
	assert_null(pci_emul_find(NULL));
}

static void test_backend(void **state)
{
	(void)state;
	create_vm_fails = true;
	expect_one_line("FAKE_CREATE_VM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_good_vm_logs_no_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_without_its_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hypervisor_land_without_acrn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_room_for_a_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_lpc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_without_function_0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_output_unopenable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_emulation, setup, teardown),
		cmocka_unit_test(test_emulation_table),
		cmocka_unit_test_setup_teardown(test_backend, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
