/*
 * The parts of ACRN's command line beyond devices and memory: vCPUs (--cpu_affinity, -c), VM
 * flags, the legacy UARTs, --logger_setting, the options that have no effect here, the devices
 * that are not emulated here, and whole launch lines as ACRN's configurator writes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "mem_layout.h"
#include "test_options_util.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void parse_ok(struct vm_config *cfg, const char *const *args)
{
	char *err = NULL;
	if (parse(cfg, &err, args) != DM_PARSE_OK)
		fail_msg("refused: %s", err ? err : "(no message)");
}

static void test_cpu_affinity(void **state)
{
	(void)state;
	const struct {
		const char *const *args;
		unsigned n;
		uint32_t cpus[8];
	} cases[] = {
		{ ARGS("vm"), 1, { 0 } },
		{ ARGS("--cpu_affinity", "0,2", "vm"), 2, { 0, 2 } },
		{ ARGS("--cpu_affinity", "6,4", "vm"), 2, { 4, 6 } },	/* ascending, as ACRN */
		{ ARGS("--cpu_affinity", "2,4,6", "vm"), 3, { 2, 4, 6 } },
		{ ARGS("--cpu_affinity", "4-6", "vm"), 3, { 4, 5, 6 } },	/* ACRN 2's ranges */
		{ ARGS("--cpu_affinity", "1,3,4-6,9", "vm"), 6, { 1, 3, 4, 5, 6, 9 } },
		{ ARGS("--cpu_affinity=255", "vm"), 1, { 255 } },
		{ ARGS("--cpu_affinity", "0,1", "-c", "2", "vm"), 2, { 0, 1 } },
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vm_config cfg;
		parse_ok(&cfg, cases[i].args);
		assert_int_equal(cfg.ncpus, cases[i].n);
		assert_int_equal(cfg.ncpu_affinity, i == 0 ? 0 : cases[i].n);
		for (unsigned j = 0; j < cfg.ncpu_affinity; j++)
			assert_int_equal(cfg.cpu_affinity[j], cases[i].cpus[j]);
		assert_false(cfg.ncpus_given && i != N_ELEMS(cases) - 1);
		vm_config_clear(&cfg);
	}
	/* -c alone: a count, nothing pinned. */
	struct vm_config cfg;
	parse_ok(&cfg, ARGS("--ncpus", "4", "vm"));
	assert_int_equal(cfg.ncpus, 4);
	assert_int_equal(cfg.ncpu_affinity, 0);
	assert_true(cfg.ncpus_given);
	vm_config_clear(&cfg);

	const struct bad_case bad[] = {
		{ ARGS("--cpu_affinity", "", "vm"), "--cpu_affinity: empty list" },
		{ ARGS("--cpu_affinity", "a", "vm"), "'a' is not a CPU" },
		{ ARGS("--cpu_affinity", "1,", "vm"), "'' is not a CPU" },
		{ ARGS("--cpu_affinity", ",1", "vm"), "'' is not a CPU" },
		{ ARGS("--cpu_affinity", "1,,2", "vm"), "'' is not a CPU" },
		{ ARGS("--cpu_affinity", "1 2", "vm"), "'1 2' is not a CPU" },
		{ ARGS("--cpu_affinity", "-1", "vm"), "'-1' is not a CPU" },
		{ ARGS("--cpu_affinity", "2-", "vm"), "'2-' is not a CPU" },
		{ ARGS("--cpu_affinity", "256", "vm"), "'256' is not a CPU (local APIC ids 0-255" },
		{ ARGS("--cpu_affinity", "3-1", "vm"), "the range 3-1 runs backwards" },
		{ ARGS("--cpu_affinity", "1,1", "vm"), "CPU 1 is listed twice" },
		{ ARGS("--cpu_affinity", "1-3,2", "vm"), "CPU 2 is listed twice" },
		{ ARGS("--cpu_affinity", "0-16", "vm"), "more than 16 CPUs" },
		{ ARGS("--cpu_affinity", "1", "--cpu_affinity", "2", "vm"), "given more than once" },
		{ ARGS("-c", "0", "vm"), "the vCPU count must be 1 to 16" },
		{ ARGS("-c", "17", "vm"), "the vCPU count must be 1 to 16" },
		{ ARGS("-c", "two", "vm"), "the vCPU count must be 1 to 16" },
		{ ARGS("-c", "2", "-c", "2", "vm"), "given more than once" },
		{ ARGS("-c", "2", "--cpu_affinity", "0,1,2", "vm"), "-c 2 and --cpu_affinity disagree" },
	};
	check_bad_cases(bad, N_ELEMS(bad));
}

static void test_vm_flags(void **state)
{
	(void)state;
	struct vm_config cfg;
	parse_ok(&cfg, ARGS("vm"));
	assert_false(cfg.rtvm || cfg.lapic_pt || cfg.trusty);
	vm_config_clear(&cfg);
	parse_ok(&cfg, ARGS("--rtvm", "--lapic_pt", "vm"));
	assert_true(cfg.rtvm && cfg.lapic_pt);
	assert_false(cfg.trusty);
	vm_config_clear(&cfg);
	parse_ok(&cfg, ARGS("--enable_trusty", "--lapic_pt", "vm"));
	assert_true(cfg.trusty && cfg.lapic_pt);
	assert_false(cfg.rtvm);
	vm_config_clear(&cfg);
}

static void test_lpc_uarts(void **state)
{
	(void)state;
	struct vm_config cfg;
	parse_ok(&cfg, ARGS("-l", "com1,stdio", "-l", "com2,tcp:4321", "vm"));
	assert_string_equal(cfg.com1, "stdio");
	assert_string_equal(cfg.com2, "tcp:4321");
	vm_config_clear(&cfg);
	/* ACRN compares the port's name without case; a file may be anything else. */
	parse_ok(&cfg, ARGS("--lpc", "COM2,/run/acrn/life_mngr_vm1", "-l", "Com1,tcp:65535", "vm"));
	assert_string_equal(cfg.com2, "/run/acrn/life_mngr_vm1");
	assert_string_equal(cfg.com1, "tcp:65535");
	vm_config_clear(&cfg);
}

static void test_logger_setting(void **state)
{
	(void)state;
	struct vm_config cfg;
	parse_ok(&cfg, ARGS("--logger_setting", "console,level=4;kmsg,level=3;disk,level=5", "vm"));
	assert_string_equal(cfg.logger_setting, "console,level=4;kmsg,level=3;disk,level=5");
	vm_config_clear(&cfg);
	parse_ok(&cfg, ARGS("--logger_setting=console,level=5;debug_domains=kvm,uart", "vm"));
	vm_config_clear(&cfg);

	const struct bad_case bad[] = {
		{ ARGS("--logger_setting", "", "vm"), "--logger_setting: empty argument" },
		{ ARGS("--logger_setting", "console", "vm"), "expected console,level=N" },
		{ ARGS("--logger_setting", "console,level=", "vm"), "expected console,level=N" },
		{ ARGS("--logger_setting", "console,lvl=4", "vm"), "expected console,level=N" },
		{ ARGS("--logger_setting", "console,level=6", "vm"), "console: level '6' is not 0 to 5" },
		{ ARGS("--logger_setting", "kmsg,level=x", "vm"), "kmsg: level 'x'" },
		{ ARGS("--logger_setting", "disk,level=44", "vm"), "disk: level '44'" },
		{ ARGS("--logger_setting", "file,level=4", "vm"), "'file' is not a log sink" },
		{ ARGS("--logger_setting", "console,level=4;", "vm"), "an empty part" },
		{ ARGS("--logger_setting", "console,level=4;console,level=2", "vm"),
		  "console is set twice" },
		{ ARGS("--logger_setting", "debug_domains=", "vm"), "debug_domains: '' is not" },
		{ ARGS("--logger_setting", "debug_domains=kvm,,uart", "vm"), "debug_domains: ''" },
		{ ARGS("--logger_setting", "console,level=4", "--logger_setting", "disk,level=4", "vm"),
		  "given more than once" },
	};
	check_bad_cases(bad, N_ELEMS(bad));
}

/* Each of ACRN's options that means nothing here: accepted with ACRN's syntax, one note each. */
static void test_options_without_effect(void **state)
{
	(void)state;
	const struct {
		const char *const *args;
		const char *note;
	} cases[] = {
		{ ARGS("-A", "vm"), "-A: no effect here: obsolete" },
		{ ARGS("--acpi", "vm"), "--acpi: no effect here" },
		{ ARGS("-Y", "vm"), "-Y: no effect here" },
		{ ARGS("-i", "/run/acrn/ioc_vm1,0x20", "vm"), "-i /run/acrn/ioc_vm1,0x20: no effect" },
		{ ARGS("-G", "10 128 6", "vm"), "-G 10 128 6: no effect here" },
		{ ARGS("--vsbl", "/usr/share/acrn/bios/VSBL.bin", "vm"), "--vsbl" },
		{ ARGS("--part_info", "/data/part.txt", "vm"), "--part_info /data/part.txt" },
		{ ARGS("--mac_seed", "a1b2c3d4-vm1", "vm"), "--mac_seed a1b2c3d4-vm1: no effect" },
		{ ARGS("-W", "vm"), "-W: no effect here" },
		{ ARGS("--virtio_msi", "vm"), "--virtio_msi: no effect here" },
		{ ARGS("--virtio_poll", "1000000", "vm"), "--virtio_poll 1000000: no effect here" },
		{ ARGS("--virtio_poll", "0x3e8", "vm"), "--virtio_poll 0x3e8" },
		{ ARGS("--windows", "vm"), "--windows: no effect here" },
		{ ARGS("--intr_monitor", "10000,10,1,100", "vm"), "--intr_monitor 10000,10,1,100" },
		{ ARGS("--pm_notify_channel", "uart", "vm"), "--pm_notify_channel uart: no effect" },
		{ ARGS("--pm_notify_channel", "uart,allow_trigger_s5", "vm"), "allow_trigger_s5" },
		{ ARGS("--pm_notify_channel", "power_button", "vm"), "power_button" },
		{ ARGS("--pm_by_vuart", "pty,/run/acrn/life_mngr_vm1", "vm"), "--pm_by_vuart pty," },
		{ ARGS("--pm_by_vuart", "tty,/dev/ttyS1", "vm"), "--pm_by_vuart tty,/dev/ttyS1" },
		{ ARGS("--acpidev_pt", "MSFT0101", "vm"), "--acpidev_pt MSFT0101: no effect here" },
		{ ARGS("--mmiodev_pt", "MSFT0101,0xfed40000,0x5000", "vm"), "--mmiodev_pt" },
		{ ARGS("--ssram", "vcpu_id=1,level=2,size=1M", "vm"), "--ssram" },
		{ ARGS("--vtpm2", "sock_path=/tmp/swtpm.sock", "vm"), "--vtpm2 sock_path=" },
		{ ARGS("--iasl", "/usr/sbin/iasl", "vm"), "--iasl /usr/sbin/iasl: no effect here" },
		{ ARGS("--cmd_monitor", "/run/acrn/vm1.sock", "vm"), "--cmd_monitor" },
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vm_config cfg;
		parse_ok(&cfg, cases[i].args);
		assert_int_equal(cfg.nnotes, 1);
		if (!has_note(&cfg, cases[i].note))
			fail_msg("case %zu: note '%s' does not contain '%s'", i, cfg.notes[0],
				 cases[i].note);
		assert_null(strchr(cfg.notes[0], '\n'));
		vm_config_clear(&cfg);
	}

	const struct bad_case bad[] = {
		{ ARGS("--virtio_poll", "0", "vm"), "1 to 10000000 ns" },
		{ ARGS("--virtio_poll", "10000001", "vm"), "1 to 10000000 ns" },
		{ ARGS("--virtio_poll", "1ms", "vm"), "in nanoseconds" },
		{ ARGS("--intr_monitor", "10000,10,1", "vm"), "four" },
		{ ARGS("--intr_monitor", "10000,10,1,100,5", "vm"), "more than four numbers" },
		{ ARGS("--intr_monitor", "a,b,c,d", "vm"), "threshold,probe_period" },
		{ ARGS("--pm_notify_channel", "acpi", "vm"), "ioc, power_button, uart" },
		{ ARGS("--pm_by_vuart", "/dev/ttyS1", "vm"), "pty,<node> or tty,<node>" },
		{ ARGS("--vtpm2", "/tmp/swtpm.sock", "vm"), "sock_path=" },
		{ ARGS("--acpidev_pt", "", "vm"), "--acpidev_pt : empty argument" },
		{ ARGS("--iasl", "", "vm"), "empty argument" },
		{ ARGS("-G", "vm"), "missing the VM name" },	/* -G takes an argument */
	};
	check_bad_cases(bad, N_ELEMS(bad));
}

/* ACRN devices and firmware outside this project: one message names them all. */
static void test_unsupported_devices(void **state)
{
	(void)state;
	struct vm_config cfg;
	char *err = NULL;
	const char *const *line = ARGS("-s", "0:0,hostbridge", "-s", "3,virtio-console,@stdio:port",
				       "-s", "4,virtio-net,tap=YaaG3", "-s", "5,passthru,00/14/0",
				       "-s", "6,xhci,1-2", "-s", "7,ahci,hd:/img", "-s", "2,pci-gvt",
				       "-s", "9,wdt-i6300esb", "-s", "10,vhost-vsock,cid=3",
				       "-s", "11,uart,stdio", "--ovmf", "w,/usr/share/acrn/bios/OVMF.fd",
				       "vm");
	assert_int_equal(parse(&cfg, &err, line), DM_PARSE_ERROR);
	const char *named[] = { "-s 3,virtio-console", "-s 4,virtio-net", "-s 5,passthru",
				"-s 6,xhci", "-s 7,ahci", "-s 2,pci-gvt", "-s 9,wdt-i6300esb",
				"-s 10,vhost-vsock", "-s 11,uart,stdio", "--ovmf w,/usr/share/acrn",
				"emulates hostbridge, lpc, ivshmem", "--ignore-unsupported" };
	for (size_t i = 0; i < N_ELEMS(named); i++)
		if (!strstr(err, named[i]))
			fail_msg("'%s' not named in: %s", named[i], err);
	assert_null(strchr(err, '\n'));
	g_free(err);

	/* --dry-run --ignore-unsupported: listed, and the rest checked. */
	const char *with[64];
	size_t n = 0;
	with[n++] = "--dry-run";
	with[n++] = "--ignore-unsupported";
	for (size_t i = 0; line[i]; i++)
		with[n++] = line[i];
	with[n] = NULL;
	parse_ok(&cfg, with);
	assert_int_equal(cfg.nunsupported, 10);
	assert_int_equal(cfg.nslots, 1);
	assert_string_equal(cfg.unsupported[0], "-s 3,virtio-console");
	assert_non_null(strstr(cfg.unsupported[9], "--ovmf"));
	vm_config_clear(&cfg);

	const struct bad_case bad[] = {
		/* The rest of the line is still checked. */
		{ ARGS("--dry-run", "--ignore-unsupported", "-s", "3,virtio-net", "-m", "512", "vm"),
		  "needs a unit" },
		{ ARGS("--ignore-unsupported", "-s", "3,virtio-net", "vm"),
		  "--ignore-unsupported only goes with --dry-run" },
		/* A name ACRN does not have either stays an unknown emulation. */
		{ ARGS("-s", "3,virtio", "vm"), "unknown emulation 'virtio'" },
		{ ARGS("-s", "3,nosuch", "vm"), "unknown emulation 'nosuch'" },
		{ ARGS("--ovmf", "", "vm"), "--ovmf: empty argument" },
	};
	check_bad_cases(bad, N_ELEMS(bad));
}

static void test_hypervisor_vuart(void **state)
{
	(void)state;
	struct vm_config cfg;
	parse_ok(&cfg, ARGS("-s", "16,uart,vuart_idx:1", "-s", "0:17:0,uart,vuart_idx:0", "vm"));
	assert_int_equal(cfg.nslots, 2);
	assert_string_equal(cfg.slots[0].emul, "uart");
	assert_string_equal(cfg.slots[0].config, "vuart_idx:1");
	assert_int_equal(cfg.slots[1].dev, 17);
	vm_config_clear(&cfg);

	const struct bad_case bad[] = {
		{ ARGS("-s", "16,uart,vuart_idx:8", "vm"), "vuart_idx '8'" },
		{ ARGS("-s", "16,uart,vuart_idx:", "vm"), "vuart_idx ''" },
		{ ARGS("-s", "16,uart,vuart_idx:1x", "vm"), "vuart_idx '1x'" },
		{ ARGS("-s", "16,uart", "vm"), "not emulated here: -s 16,uart" },
		{ ARGS("-s", "16,uart,vuart_idx:1", "-s", "16,lpc", "vm"), "already taken by uart" },
	};
	check_bad_cases(bad, N_ELEMS(bad));
}

/*
 * Whole command lines in the form ACRN's configurator writes its launch scripts (written for
 * this test after ACRN's sample scenarios), checked with --dry-run --ignore-unsupported.
 */
static void test_generated_launch_lines(void **state)
{
	(void)state;
	const struct {
		const char *const *args;
		unsigned slots, unsupported, ncpus;
	} lines[] = {
		{ ARGS("--dry-run", "--ignore-unsupported", "--cpu_affinity", "0,2", "-m", "512M",
		       "--ovmf", "/usr/share/acrn/bios/OVMF.fd", "-s", "1:0,lpc", "-s",
		       "0:0,hostbridge", "-s", "3,virtio-console,@stdio:stdio_port", "-s",
		       "4,virtio-net,tap=YaaG3", "-s", "5,virtio-blk,./YaaG.img", "--logger_setting",
		       "console,level=4;kmsg,level=3;disk,level=5", "POST_STD_VM2"), 2, 4, 2 },
		{ ARGS("--dry-run", "--ignore-unsupported", "--windows", "--cpu_affinity", "2,4,6", "-m",
		       "4096M", "--ovmf", "/usr/share/acrn/bios/OVMF.fd", "-s", "0:0,hostbridge", "-s",
		       "8,ivshmem,hv:/shm_region_0,2,0", "-s", "1:0,lpc", "-l", "com1,stdio", "-s",
		       "5,virtio-input,/dev/input/event0", "-s", "9,virtio-net,tap=WaaG", "POST_STD_VM1"),
		  3, 3, 3 },
		{ ARGS("--dry-run", "--ignore-unsupported", "--cpu_affinity", "4,6", "-m", "1024M",
		       "--ovmf", "/usr/share/acrn/bios/OVMF.fd", "-s", "0:0,hostbridge", "--virtio_poll",
		       "1000000", "-s", "8,ivshmem,dm:/shm_region_1,2,1", "-s", "1:0,lpc", "-l",
		       "com1,stdio", "-s", "16,uart,vuart_idx:1", "--rtvm", "--lapic_pt",
		       "--pm_notify_channel", "uart", "--pm_by_vuart", "tty,/dev/ttyS1", "-s",
		       "10,passthru,00/17/0", "POST_RT_VM1"), 4, 2, 2 },
		{ ARGS("--dry-run", "-m", "2G", "-s", "0:0,hostbridge", "-s", "1:0,lpc", "-l",
		       "com2,tcp:4321", "-s", "3,ivshmem,dm:/zephyr_shm,4,0x1000", "--cpu_affinity",
		       "1", "-E", "/opt/zephyr.elf", "--debugexit", "ZEPHYR_VM"), 3, 0, 1 },
	};
	for (size_t i = 0; i < N_ELEMS(lines); i++) {
		struct vm_config cfg;
		parse_ok(&cfg, lines[i].args);
		assert_int_equal(cfg.nslots, lines[i].slots);
		assert_int_equal(cfg.nunsupported, lines[i].unsupported);
		assert_int_equal(cfg.ncpus, lines[i].ncpus);
		vm_config_clear(&cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_affinity),
		cmocka_unit_test(test_vm_flags),
		cmocka_unit_test(test_lpc_uarts),
		cmocka_unit_test(test_logger_setting),
		cmocka_unit_test(test_options_without_effect),
		cmocka_unit_test(test_unsupported_devices),
		cmocka_unit_test(test_hypervisor_vuart),
		cmocka_unit_test(test_generated_launch_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
