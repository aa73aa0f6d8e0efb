/* The acrn-dm command line: every accepted form, and malformed lines that must fail cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "mem_layout.h"
#include "options.h"
#include "test_options_util.h"

static void test_launch_script_form(void **state)
{
	(void)state;
	struct vm_config cfg;
	char *err;
	assert_int_equal(parse(&cfg, &err, ARGS("-s", "0:0,hostbridge", "-s", "1:0,lpc", "-m", "512M",
					       "-l", "com1,stdio", "-E", "/tmp/g.elf", "--debugexit",
					       "POST_STD_VM1")),
			 DM_PARSE_OK);
	assert_string_equal(cfg.name, "POST_STD_VM1");
	assert_int_equal(cfg.memsize, 512 * MiB);
	assert_int_equal(cfg.nslots, 2);
	assert_int_equal(cfg.slots[0].dev, 0);
	assert_string_equal(cfg.slots[0].emul, "hostbridge");
	assert_null(cfg.slots[0].config);
	assert_int_equal(cfg.slots[1].dev, 1);
	assert_string_equal(cfg.slots[1].emul, "lpc");
	assert_string_equal(cfg.com1, "stdio");
	assert_string_equal(cfg.elf_path, "/tmp/g.elf");
	assert_true(cfg.debugexit);
	assert_null(cfg.vmm_name);
	vm_config_clear(&cfg);
}

static void test_slot_forms_and_config_verbatim(void **state)
{
	(void)state;
	struct vm_config cfg;
	char *err;
	assert_int_equal(parse(&cfg, &err, ARGS("--pci_slot=0:0:0,hostbridge", "-s",
					       "3:7,ivshmem,dm:/r,2,0x10,mem=shm", "-s",
					       "0:31:1,hostbridge,", "--dry-run", "vm")),
			 DM_PARSE_OK);
	assert_true(cfg.dry_run);
	assert_int_equal(cfg.nslots, 3);
	assert_int_equal(cfg.slots[1].dev, 3);
	assert_int_equal(cfg.slots[1].func, 7);
	/* Everything after the emulation name reaches the device untouched. */
	assert_string_equal(cfg.slots[1].config, "dm:/r,2,0x10,mem=shm");
	assert_int_equal(cfg.slots[2].bus, 0);
	assert_int_equal(cfg.slots[2].dev, 31);
	assert_int_equal(cfg.slots[2].func, 1);
	assert_string_equal(cfg.slots[2].config, "");
	vm_config_clear(&cfg);
}

static void test_memsize_forms(void **state)
{
	(void)state;
	/* Every form ACRN's launch scripts and documentation use. */
	static const struct { const char *text; uint64_t bytes; } cases[] = {
		{ "128M", 128 * MiB }, { "128m", 128 * MiB }, { "256MiB", 256 * MiB },
		{ "256MB", 256 * MiB }, { "512M", 512 * MiB }, { "4096M", 4 * GiB },
		{ "1G", 1 * GiB }, { "2g", 2 * GiB }, { "2G", 2 * GiB }, { "4g", 4 * GiB },
		{ "262144K", 256 * MiB }, { "262144k", 256 * MiB },
		{ "0x200M", 512 * MiB } /* ACRN reads 0x as hex */, { "0X2g", 2 * GiB },
		{ "129M", 130 * MiB } /* rounded up to whole 2 MiB pages */,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config cfg;
		char *err;
		assert_int_equal(parse(&cfg, &err, ARGS("-m", cases[i].text, "vm")), DM_PARSE_OK);
		assert_int_equal(cfg.memsize, cases[i].bytes);
		vm_config_clear(&cfg);
	}
}

static void test_uuid_given_and_derived(void **state)
{
	(void)state;
	struct vm_config a, b, c;
	char *err;
	assert_int_equal(parse(&a, &err, ARGS("-U", "d2795438-25d6-11e8-864e-cb7a18b34643", "vm")),
			 DM_PARSE_OK);
	char text[37];
	uuid_unparse_lower(a.uuid, text);
	assert_string_equal(text, "d2795438-25d6-11e8-864e-cb7a18b34643");
	/* Without -U the UUID follows the name: the same VM keeps it across restarts. */
	assert_int_equal(parse(&b, &err, ARGS("rtvm")), DM_PARSE_OK);
	assert_int_equal(parse(&c, &err, ARGS("rtvm")), DM_PARSE_OK);
	assert_memory_equal(b.uuid, c.uuid, sizeof(uuid_t));
	assert_false(uuid_is_null(b.uuid));
	struct vm_config d;
	assert_int_equal(parse(&d, &err, ARGS("othervm")), DM_PARSE_OK);
	assert_memory_not_equal(b.uuid, d.uuid, sizeof(uuid_t));
	vm_config_clear(&a);
	vm_config_clear(&b);
	vm_config_clear(&c);
	vm_config_clear(&d);
}

static void test_other_options(void **state)
{
	(void)state;
	struct vm_config cfg;
	char *err;
	assert_int_equal(parse(&cfg, &err, ARGS("--vmm", "kvm", "-B", "role=a peers=2", "-l",
					       "com1,/tmp/serial.log", "--debug", "v")),
			 DM_PARSE_OK);
	assert_string_equal(cfg.vmm_name, "kvm");
	assert_string_equal(cfg.bootargs, "role=a peers=2");
	assert_string_equal(cfg.com1, "/tmp/serial.log");
	vm_config_clear(&cfg);
}

static void test_help_and_version(void **state)
{
	(void)state;
	struct vm_config cfg;
	char *err;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	char *argv[] = { "acrn-dm", "-h", NULL };
	assert_int_equal(dm_parse_options(2, argv, &cfg, &err, out), DM_PARSE_EXIT);
	fclose(out);
	/* Every option is listed. */
	const char *listed[] = {
		"--pci_slot", "--memsize", "--lpc", "--elf_file", "--bootargs", "--uuid",
		"--debugexit", "--vmm", "--debug", "--dry-run", "--version", "--help", "ivshmem",
		"--cpu_affinity", "--ncpus", "--rtvm", "--lapic_pt", "--enable_trusty",
		"--logger_setting", "--ovmf", "--ignore-unsupported", "-A, --acpi", "-Y, --mptgen",
		"-i, --ioc_node", "-G, --gvtargs", "--vsbl", "--part_info", "--mac_seed",
		"-W, --virtio_msix", "--virtio_msi", "--virtio_poll", "--windows", "--intr_monitor",
		"--pm_notify_channel", "--pm_by_vuart", "--acpidev_pt", "--mmiodev_pt", "--ssram",
		"--vtpm2", "--iasl", "--cmd_monitor", "com2", "tcp:", "vuart_idx",
	};
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		if (!strstr(buf, listed[i]))
			fail_msg("--help does not list %s", listed[i]);
	free(buf);

	buf = NULL;
	out = open_memstream(&buf, &len);
	char *argv2[] = { "acrn-dm", "--version", NULL };
	assert_int_equal(dm_parse_options(2, argv2, &cfg, &err, out), DM_PARSE_EXIT);
	fclose(out);
	assert_non_null(strstr(buf, "acrn-dm"));
	free(buf);
}

/* Malformed command lines: each fails with one line that names what was wrong. */
static const struct bad_case bad_cases[] = {
	{ (const char *const[]){ NULL }, "missing the VM name" },
	{ ARGS("vm1", "vm2"), "unexpected argument" },
	{ ARGS("abcdefghijklmnop"), "longer than 15" },
	{ ARGS(""), "is empty" },
	{ ARGS("a/b"), "may only hold" },
	{ ARGS("vm name"), "may only hold" },
	{ ARGS("-s", "5", "vm"), "expected <slot>" },
	{ ARGS("-s", "32,lpc", "vm"), "bad slot '32'" },
	{ ARGS("-s", "5:8,lpc", "vm"), "bad slot '5:8'" },
	{ ARGS("-s", "256:0:0,lpc", "vm"), "bad slot" },
	{ ARGS("-s", "a,lpc", "vm"), "bad slot 'a'" },
	{ ARGS("-s", ",lpc", "vm"), "bad slot ''" },
	{ ARGS("-s", "-1,lpc", "vm"), "bad slot" },
	{ ARGS("-s", "1:2:3:4,lpc", "vm"), "bad slot" },
	{ ARGS("-s", "5:,lpc", "vm"), "bad slot" },
	{ ARGS("-s", "0x5,lpc", "vm"), "bad slot" },
	{ ARGS("-s", "5,", "vm"), "missing emulation" },
	{ ARGS("-s", "5,,x", "vm"), "missing emulation" },
	{ ARGS("-s", "5,nosuchdev", "vm"), "unknown emulation 'nosuchdev'" },
	{ ARGS("-s", "5,lpc", "-s", "5,hostbridge", "vm"), "already taken by lpc" },
	{ ARGS("-s", "5:0,lpc", "-s", "0:5:0,hostbridge", "vm"), "already taken" },
	{ ARGS("-m", "", "vm"), "expected a number and a unit" },
	{ ARGS("-m", "abc", "vm"), "expected a number and a unit" },
	{ ARGS("-m", "64M", "vm"), "between 128M and 256G" },
	{ ARGS("-m", "300G", "vm"), "between 128M and 256G" },
	{ ARGS("-m", "1P", "vm"), "unknown unit" },
	{ ARGS("-m", "1T", "vm"), "unknown unit" },
	{ ARGS("-m", "99999999999999999999999M", "vm"), "too large" },
	{ ARGS("-m", "17179869184G", "vm"), "too large" },
	{ ARGS("-m", "-128M", "vm"), "expected a number and a unit" },
	{ ARGS("-m", "128MX", "vm"), "unexpected text after the unit" },
	{ ARGS("-m", " 128M", "vm"), "expected a number and a unit" },
	/* Where ACRN's parser surprises: refused with the reason rather than guessed. */
	{ ARGS("-m", "512", "vm"), "needs a unit" },
	{ ARGS("-m", "268435456", "vm"), "needs a unit" },
	{ ARGS("-m", "0400M", "vm"), "octal" },
	{ ARGS("-m", "0512M", "vm"), "octal" },
	{ ARGS("-m", "134217728B", "vm"), "B (bytes)" },
	{ ARGS("-m", "0x", "vm"), "expected a number and a unit" },
	{ ARGS("-l", "com3,stdio", "vm"), "com1,<backend> or com2,<backend>" },
	{ ARGS("-l", "com1,", "vm"), "missing backend after com1" },
	{ ARGS("-l", "com2,", "vm"), "missing backend after com2" },
	{ ARGS("-l", "stdio", "vm"), "com1" },
	{ ARGS("-l", "com2,stdio", "-l", "COM2,/tmp/x", "vm"), "com2 is already configured" },
	{ ARGS("-l", "com1,stdio", "-l", "com2,stdio", "vm"), "stdio already serves com1" },
	{ ARGS("-l", "com1,tcp:4321", "-l", "com2,tcp:4321", "vm"), "already serves com1" },
	{ ARGS("-l", "com1,tcp:0", "vm"), "TCP port must be 1 to 65535" },
	{ ARGS("-l", "com1,tcp:65536", "vm"), "TCP port must be 1 to 65535" },
	{ ARGS("-l", "com1,tcp:", "vm"), "TCP port" },
	{ ARGS("-l", "com1,tcp:x", "vm"), "TCP port" },
	{ ARGS("-l", "com1,tcp:-1", "vm"), "TCP port" },
	{ ARGS("-l", "com1,stdio", "-l", "com1,/tmp/x", "vm"), "already configured" },
	{ ARGS("-U", "not-a-uuid", "vm"), "not a UUID" },
	{ ARGS("-U", "d2795438-25d6-11e8-864e-cb7a18b3464", "vm"), "not a UUID" },
	{ ARGS("--vmm", "xen", "vm"), "unknown hypervisor backend" },
	{ ARGS("--foo", "vm"), "--foo" },
	{ ARGS("-z", "vm"), "-z" },
	{ ARGS("vm", "-s"), "-s" },
	{ ARGS("-E", "", "vm"), "empty argument" },
	{ ARGS("-s", "5,lpc,x", "vm"), "lpc: takes no configuration" },
	{ ARGS("-k", "bzImage", "vm"), "not supported" },
	{ ARGS("--ovmf", "OVMF.fd", "vm"), "not emulated here: --ovmf OVMF.fd" },
	{ ARGS("-r", "initrd", "vm"), "not supported" },
	{ ARGS("-s", "0:0,hostbridge,y", "vm"), "hostbridge: takes no configuration" },
	{ ARGS("-s", "5,ivshmem", "vm"), "ivshmem: missing configuration" },
	{ ARGS("-s", "5,ivshmem,dm:/shm_region_0,3", "vm"), "ivshmem: region size" },
	{ ARGS("-s", "5,ivshmem,dm:/../x,2", "vm"), "region name" },
	{ ARGS("-s", "5,ivshmem,dm:/r,2,99999", "vm"), "region id" },
	{ ARGS("-E", "a.elf", "-E", "b.elf", "vm"), "more than once" },
};

static void test_malformed_command_lines(void **state)
{
	(void)state;
	assert_true(sizeof(bad_cases) / sizeof(bad_cases[0]) >= 30);
	check_bad_cases(bad_cases, sizeof(bad_cases) / sizeof(bad_cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_launch_script_form),
		cmocka_unit_test(test_slot_forms_and_config_verbatim),
		cmocka_unit_test(test_memsize_forms),
		cmocka_unit_test(test_uuid_given_and_derived),
		cmocka_unit_test(test_other_options),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_malformed_command_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
