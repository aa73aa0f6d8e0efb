/*
 * acrn-ivshmem-config's command line, run in-process: help for every command, exit statuses,
 * output scripts can read, and scenario files left untouched whenever a command fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "cli.h"
#include "test_config_util.h"

struct run {
	int rc;
	char *out, *err;
};

/* Runs the command line given as a NULL-terminated list of words. */
static struct run run(const char *first, ...)
{
	GPtrArray *argv = g_ptr_array_new();
	struct run r = { 0 };
	size_t out_len, err_len;
	FILE *out = open_memstream(&r.out, &out_len);
	FILE *err = open_memstream(&r.err, &err_len);
	va_list ap;

	assert_non_null(out);
	assert_non_null(err);
	g_ptr_array_add(argv, (char *)"acrn-ivshmem-config");
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *))
		g_ptr_array_add(argv, (char *)a);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	r.rc = cli_main((int)argv->len - 1, (char **)argv->pdata, out, err);
	fclose(out);
	fclose(err);
	g_ptr_array_free(argv, TRUE);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

struct fixture {
	char *dir;
	char *six, *hybrid;		/* copies of the test files */
	char *six_orig, *hybrid_orig;	/* their bytes */
	size_t six_len, hybrid_len;
};

static char *copy_testdata(const char *dir, const char *name, char **bytes, size_t *len)
{
	char *src = tc_testdata_path(name);
	char *dst = g_build_filename(dir, name, NULL);

	*bytes = tc_read_file(src, len);
	tc_write_file(dst, *bytes, *len);
	g_free(src);
	return dst;
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	f->dir = tc_mkdtemp();
	f->six = copy_testdata(f->dir, SIX_VMS, &f->six_orig, &f->six_len);
	f->hybrid = copy_testdata(f->dir, HYBRID_RT, &f->hybrid_orig, &f->hybrid_len);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tc_rmdir(f->dir);
	g_free(f->dir);
	g_free(f->six);
	g_free(f->hybrid);
	g_free(f->six_orig);
	g_free(f->hybrid_orig);
	g_free(f);
	return 0;
}

static void assert_file_is(const char *path, const char *bytes, size_t len)
{
	size_t n;
	char *now = tc_read_file(path, &n);

	assert_int_equal(n, len);
	assert_memory_equal(now, bytes, len);
	g_free(now);
}

static void test_help_for_every_command(void **state)
{
	static const char *const cmds[] = { "list",	     "check", "add-region", "add-vm",
					    "remove-vm",     "remove-region", "save", "generate" };
	struct run r = run("--help", NULL);

	(void)state;
	assert_int_equal(r.rc, CLI_OK);
	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++)
		assert_non_null(strstr(r.out, cmds[i]));
	run_free(&r);
	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
		char *usage = g_strdup_printf("acrn-ivshmem-config %s", cmds[i]);

		r = run(cmds[i], "--help", NULL);
		assert_int_equal(r.rc, CLI_OK);
		assert_non_null(strstr(r.out, usage));
		assert_non_null(strstr(r.out, "--help"));
		run_free(&r);
		r = run("help", cmds[i], NULL);
		assert_int_equal(r.rc, CLI_OK);
		assert_non_null(strstr(r.out, usage));
		run_free(&r);
		g_free(usage);
	}
}

static void test_usage_errors(void **state)
{
	struct fixture *f = *state;
	struct run r;

	r = run(NULL, NULL);
	assert_int_equal(r.rc, CLI_USAGE);
	run_free(&r);
	r = run("frobnicate", f->six, NULL);
	assert_int_equal(r.rc, CLI_USAGE);
	assert_non_null(strstr(r.err, "unknown command 'frobnicate'"));
	run_free(&r);
	r = run("check", NULL);
	assert_int_equal(r.rc, CLI_USAGE);
	run_free(&r);
	r = run("check", "--bogus", f->six, NULL);
	assert_int_equal(r.rc, CLI_USAGE);
	run_free(&r);
	r = run("add-region", "--size", "2", "-v", "A", "-v", "B", f->six, NULL);
	assert_int_equal(r.rc, CLI_USAGE);
	assert_non_null(strstr(r.err, "--name"));
	run_free(&r);
	r = run("add-region", "-n", "r", "-s", "2", "-p", "qemu", f->six, NULL);
	assert_int_equal(r.rc, CLI_USAGE);
	assert_non_null(strstr(r.err, "qemu"));
	run_free(&r);
	r = run("generate", "script", f->six, NULL);
	assert_int_equal(r.rc, CLI_USAGE);
	run_free(&r);
	assert_file_is(f->six, f->six_orig, f->six_len);
}

static void test_list_plain_and_json(void **state)
{
	struct fixture *f = *state;
	struct run r = run("list", f->hybrid, NULL);

	assert_int_equal(r.rc, CLI_OK);
	assert_string_equal(r.out, "region\tshm_region_0\tHypervisor\t2\t0\n"
				   "vm\tshm_region_0\tPRE_RT_VM0\t00:08.0\tPRE_LAUNCHED_VM\n"
				   "vm\tshm_region_0\tPOST_STD_VM1\t00:08.0\tPOST_LAUNCHED_VM\n");
	run_free(&r);
	r = run("list", "--json", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_non_null(strstr(r.out, "\"regions\":[{\"name\":\"shm_region_0\",\"provider\":"
				      "\"Hypervisor\",\"size_mb\":2,\"region_id\":0,\"line\":28,"));
	run_free(&r);
	r = run("list", f->six, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_string_equal(r.out, "");
	run_free(&r);
}

static void test_check_exit_status_and_lines(void **state)
{
	struct fixture *f = *state;
	char *bad = g_build_filename(f->dir, "bad.xml", NULL);
	GString *xml = g_string_new(f->hybrid_orig);
	struct run r;

	r = run("check", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_string_equal(r.out, "");
	run_free(&r);

	g_string_replace(xml, "<IVSHMEM_SIZE>2</IVSHMEM_SIZE>", "<IVSHMEM_SIZE>3</IVSHMEM_SIZE>", 1);
	g_string_replace(xml, "<VM_NAME>POST_STD_VM1</VM_NAME>", "<VM_NAME>NOBODY</VM_NAME>", 1);
	tc_write_file(bad, xml->str, xml->len);
	r = run("check", bad, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	/* Both errors in one run, each with file, line, region and VM. */
	assert_non_null(strstr(r.out, ":31: error: region \"shm_region_0\": IVSHMEM_SIZE 3 MB"));
	assert_non_null(strstr(r.out, ":37: error: region \"shm_region_0\", VM \"NOBODY\": "));
	assert_non_null(strstr(r.out, "[vm-unknown]"));
	run_free(&r);
	r = run("check", "--json", bad, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_true(g_str_has_prefix(r.out, "{\"file\":"));
	assert_non_null(strstr(r.out, "\"errors\":2,\"warnings\":0"));
	assert_non_null(strstr(r.out, "{\"severity\":\"error\",\"rule\":\"size\",\"line\":31,"
				      "\"region\":\"shm_region_0\",\"vm\":null,"));
	run_free(&r);

	r = run("check", "--json", "/nonexistent.xml", NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.out, "\"rule\":\"file\""));
	run_free(&r);
	g_string_free(xml, TRUE);
	g_free(bad);
}

static const char six_vms_launch[] = "# POST_STD_VM1\n"
				     "-s 0:0,hostbridge\n"
				     "-s 8,ivshmem,dm:/shm_dm,4,4097\n"
				     "# POST_RT_VM1\n"
				     "-s 0:0,hostbridge\n"
				     "-s 8,ivshmem,dm:/shm_dm,4,4097\n";

/* add-region, save, generate: the whole flow on the six-VM scenario. */
static void test_add_save_generate(void **state)
{
	struct fixture *f = *state;
	struct run r;

	r = run("add-region", "-n", "shm_dm", "-p", "dm", "-s", "4", "-i", "0x1001", "-v",
		"POST_STD_VM1", "-v", "POST_RT_VM1", f->six, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_string_equal(r.out, "added-region\tshm_dm\t-\t-\n"
				   "added-vm\tshm_dm\tPOST_STD_VM1\t-\n"
				   "added-vm\tshm_dm\tPOST_RT_VM1\t-\n");
	run_free(&r);
	r = run("save", f->six, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_string_equal(r.out, "filled-vbdf\tshm_dm\tPOST_STD_VM1\t00:08.0\n"
				   "filled-vbdf\tshm_dm\tPOST_RT_VM1\t00:08.0\n");
	run_free(&r);
	r = run("generate", "launch", f->six, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_string_equal(r.out, six_vms_launch);
	assert_string_equal(r.err, "");
	run_free(&r);
	r = run("generate", "launch", "--vm", "POST_RT_VM1", "--no-hostbridge", f->six, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_string_equal(r.out, "-s 8,ivshmem,dm:/shm_dm,4,4097\n");
	run_free(&r);
	r = run("generate", "launch", "--json", "--vm", "POST_STD_VM1", f->six, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_non_null(strstr(r.out, "\"args\":[\"-s\",\"0:0,hostbridge\",\"-s\","
				      "\"8,ivshmem,dm:/shm_dm,4,4097\"]"));
	run_free(&r);
	r = run("generate", "launch", "--vm", "ACRN_Service_VM", f->six, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.err, "not a post-launched VM"));
	run_free(&r);

	/* Removing the region gives the file ACRN wrote back, byte for byte. */
	r = run("remove-region", "-r", "shm_dm", f->six, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	assert_file_is(f->six, f->six_orig, f->six_len);
}

static void test_refused_edits_leave_the_file_alone(void **state)
{
	struct fixture *f = *state;
	char *broken = g_build_filename(f->dir, "broken.xml", NULL);
	struct run r;

	/* One VM, a pre-launched VM on a Device Model region, a bad size: all reported. */
	r = run("add-region", "-n", "r", "-p", "dm", "-s", "3", "-v", "PRE_RT_VM0", f->hybrid,
		NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.err, "[size]"));
	assert_non_null(strstr(r.err, "[vm-count]"));
	assert_non_null(strstr(r.err, "[dm-post-only]"));
	assert_non_null(strstr(r.err, "not changed"));
	run_free(&r);
	/* A second region of the same name. */
	r = run("add-region", "-n", "shm_region_0", "-s", "2", "-v", "POST_STD_VM1=00:09.0", "-v",
		"POST_STD_VM2=00:09.0", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.err, "[region-name-duplicate]"));
	run_free(&r);
	/* Removing a VM would leave one. */
	r = run("remove-vm", "-r", "shm_region_0", "-v", "PRE_RT_VM0", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.err, "[vm-count]"));
	run_free(&r);
	r = run("remove-vm", "-r", "shm_region_0", "-v", "POST_STD_VM2", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.err, "VM \"POST_STD_VM2\": the VM does not share this region"));
	run_free(&r);
	r = run("add-vm", "-r", "nope", "-v", "POST_STD_VM2", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.err, "region \"nope\": the scenario has no region"));
	run_free(&r);
	/* The same VBDF twice in one VM. */
	r = run("add-vm", "-r", "shm_region_0", "-v", "POST_STD_VM2=00:08.0", "-v",
		"ACRN_Service_VM=00:1f.0", "--json", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	r = run("add-region", "-n", "r2", "-s", "2", "-v", "POST_STD_VM2=00:08.0", "-v",
		"PRE_RT_VM0=00:09.0", "-o", broken, f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.err, "[vbdf-duplicate]"));
	run_free(&r);
	assert_false(g_file_test(broken, G_FILE_TEST_EXISTS));
	/* The add-vm above was the only change. */
	r = run("remove-vm", "-r", "shm_region_0", "-v", "POST_STD_VM2", "-v", "ACRN_Service_VM",
		f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	assert_file_is(f->hybrid, f->hybrid_orig, f->hybrid_len);

	/* Not XML: an edit says so and writes nothing. */
	tc_write_file(broken, "<acrn-config><hv>", 17);
	r = run("save", broken, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.err, "malformed XML"));
	run_free(&r);
	assert_file_is(broken, "<acrn-config><hv>", 17);
	g_free(broken);
}

/* An error the file already has does not block an edit, even when the edit moves its lines. */
static void test_old_errors_do_not_block_edits(void **state)
{
	struct fixture *f = *state;
	struct run r;

	r = run("add-region", "-n", "second", "-s", "2", "-v", "PRE_RT_VM0=00:09.0", "-v",
		"POST_STD_VM1=00:09.0", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	/* Make POST_STD_VM1 clash with itself across the two regions, by hand. */
	{
		size_t n;
		char *text = tc_read_file(f->hybrid, &n);
		GString *s = g_string_new(text);

		assert_int_equal(g_string_replace(s, "<VBDF>00:09.0</VBDF>\n            </IVSHMEM_VM>\n"
						     "          </IVSHMEM_VMS>",
						  "<VBDF>00:08.0</VBDF>\n            </IVSHMEM_VM>\n"
						  "          </IVSHMEM_VMS>", 1), 1);
		tc_write_file(f->hybrid, s->str, s->len);
		g_string_free(s, TRUE);
		g_free(text);
	}
	r = run("check", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_non_null(strstr(r.out, "VBDF 00:08.0 is also used by this VM in region "
				      "\"shm_region_0\" (see line 39) [vbdf-duplicate]"));
	run_free(&r);
	/* Removing the VM listed first moves the lines of both clashing VBDFs up. */
	r = run("add-vm", "-r", "shm_region_0", "-v", "POST_STD_VM2", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	r = run("remove-vm", "-r", "shm_region_0", "-v", "PRE_RT_VM0", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	r = run("check", f->hybrid, NULL);
	assert_non_null(strstr(r.out, "(see line 35) [vbdf-duplicate]"));
	assert_int_equal(r.rc, CLI_FAILED);
	run_free(&r);
}

/* A region can be filled one VM at a time, although it breaks vm-count until the second. */
static void test_region_filled_one_vm_at_a_time(void **state)
{
	struct fixture *f = *state;
	struct run r;

	r = run("remove-region", "-r", "shm_region_0", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	/* The first step brings the error in: refused. */
	r = run("add-region", "-n", "r", "-s", "2", "-v", "POST_STD_VM1", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	run_free(&r);
	/* Written by hand, an empty region is an error already there: adding VMs to it is not. */
	{
		size_t n;
		char *text = tc_read_file(f->hybrid, &n);
		GString *s = g_string_new(text);

		g_string_replace(s, "<IVSHMEM/>", "<IVSHMEM><IVSHMEM_REGION><NAME>r</NAME>"
						   "<IVSHMEM_SIZE>2</IVSHMEM_SIZE><IVSHMEM_VMS/>"
						   "</IVSHMEM_REGION></IVSHMEM>", 1);
		tc_write_file(f->hybrid, s->str, s->len);
		g_string_free(s, TRUE);
		g_free(text);
	}
	r = run("add-vm", "-r", "r", "-v", "POST_STD_VM1", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	r = run("add-vm", "-r", "r", "-v", "POST_STD_VM2", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	r = run("save", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	r = run("check", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
}

static void test_save_round_trip_and_nothing_to_do(void **state)
{
	struct fixture *f = *state;
	char *copy = g_build_filename(f->dir, "copy.xml", NULL);
	struct run r;

	r = run("save", "-o", copy, f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_string_equal(r.out, "");
	run_free(&r);
	assert_file_is(copy, f->hybrid_orig, f->hybrid_len);
	r = run("save", "--json", f->six, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_non_null(strstr(r.out, "\"changed\":false,\"actions\":[]"));
	run_free(&r);
	assert_file_is(f->six, f->six_orig, f->six_len);
	g_free(copy);
}

static void test_generate_refuses_a_broken_scenario(void **state)
{
	static const char no_size[] = "<acrn-config><hv><FEATURES><IVSHMEM><IVSHMEM_REGION>"
				      "<NAME>x</NAME></IVSHMEM_REGION></IVSHMEM></FEATURES></hv>"
				      "</acrn-config>";
	struct fixture *f = *state;
	struct run r;

	r = run("add-vm", "-r", "shm_region_0", "-v", "POST_STD_VM2", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	/* Blank VBDF: a warning, and the VBDF save would write. */
	r = run("generate", "launch", "--vm", "POST_STD_VM2", f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	assert_string_equal(r.out, "-s 0:0,hostbridge\n-s 8,ivshmem,hv:/shm_region_0,2,0\n");
	assert_non_null(strstr(r.err, "[vbdf-blank]"));
	run_free(&r);
	r = run("generate", "header", "-o", f->six, f->hybrid, NULL);
	assert_int_equal(r.rc, CLI_OK);
	run_free(&r);
	{
		size_t n;
		char *h = tc_read_file(f->six, &n);

		assert_non_null(strstr(h, "#define IVSHMEM_DEV_NUM               3UL\n"));
		g_free(h);
	}
	tc_write_file(f->six, no_size, strlen(no_size));
	r = run("generate", "header", f->six, NULL);
	assert_int_equal(r.rc, CLI_FAILED);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "nothing generated"));
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_for_every_command),
		cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_plain_and_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_exit_status_and_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_save_generate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_edits_leave_the_file_alone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_old_errors_do_not_block_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_filled_one_vm_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_round_trip_and_nothing_to_do, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_generate_refuses_a_broken_scenario, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
