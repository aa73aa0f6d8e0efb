/*
 * acrn-ivshmem-config check: a correct section passes, and each rule has one example that
 * breaks it and is reported with its rule, region, VM and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "model.h"
#include "rules.h"
#include "test_config_util.h"

/* Two post-launched VMs with VBDFs: a region that breaks no rule. */
static char *good_members(void)
{
	return tc_cat(tc_vm("POST1", "00:08.0"), tc_vm("POST2", "00:08.0"));
}

/* Checks `regions` and expects exactly one diagnostic of rule, for that region and VM. */
static void expect_only(char *regions, const char *rule, const char *region, const char *vm)
{
	char *xml = tc_scenario(regions);
	struct diag_list *diags = tc_check(xml);
	const struct diag *d = diag_find(diags, rule);

	if (diags->items->len != 1 || d == NULL) {
		diag_print(diags, "test.xml", stderr);
		fail_msg("expected exactly one [%s], got %u diagnostics", rule, diags->items->len);
	}
	assert_string_equal(d->rule, rule);
	if (region != NULL)
		assert_string_equal(d->region, region);
	else
		assert_null(d->region);
	if (vm != NULL)
		assert_string_equal(d->vm, vm);
	else
		assert_null(d->vm);
	assert_true(d->line > 0);
	diag_list_free(diags);
	g_free(xml);
	g_free(regions);
}

static void test_good_section_passes(void **state)
{
	char *regions = tc_cat(tc_region("a", "Device Model", "2", "0x1000", good_members()),
			       tc_region("b", NULL, "512", NULL,
					 tc_cat(tc_vm("PRE", "00:09.0"), tc_vm("SOS", ""))));
	char *xml = tc_scenario(regions);
	struct diag_list *diags = tc_check(xml);

	(void)state;
	diag_print(diags, "test.xml", stderr);
	assert_int_equal(diags->items->len, 0);
	diag_list_free(diags);
	g_free(xml);
	g_free(regions);
}

static void test_real_scenarios_pass(void **state)
{
	const char *files[] = { HYBRID_RT, SIX_VMS };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char *path = tc_testdata_path(files[i]);
		size_t len;
		char *bytes = tc_read_file(path, &len);
		struct diag_list *diags = tc_check(bytes);

		assert_int_equal(diags->items->len, 0);
		diag_list_free(diags);
		g_free(bytes);
		g_free(path);
	}
}

static void test_name_missing_empty_bad_long(void **state)
{
	(void)state;
	expect_only(tc_region(NULL, NULL, "2", NULL, good_members()), RULE_REGION_NAME, "#1", NULL);
	expect_only(tc_region("", NULL, "2", NULL, good_members()), RULE_REGION_NAME, "#1", NULL);
	expect_only(tc_region("a.b", NULL, "2", NULL, good_members()), RULE_REGION_NAME, "a.b",
		    NULL);
	expect_only(tc_region("abcdefghijklmnopqrstuvwxyz01", NULL, "2", NULL, good_members()),
		    RULE_REGION_NAME, "abcdefghijklmnopqrstuvwxyz01", NULL);
}

static void test_name_duplicate(void **state)
{
	(void)state;
	expect_only(tc_cat(tc_region("a", NULL, "2", NULL, good_members()),
			   tc_region("a", NULL, "2", NULL,
				     tc_cat(tc_vm("POST1", "00:09.0"), tc_vm("POST2", "00:09.0")))),
		    RULE_REGION_NAME_DUP, "a", NULL);
}

static void test_provider(void **state)
{
	(void)state;
	expect_only(tc_region("a", "Qemu", "2", NULL, good_members()), RULE_PROVIDER, "a", NULL);
}

static void test_size(void **state)
{
	(void)state;
	expect_only(tc_region("a", NULL, NULL, NULL, good_members()), RULE_SIZE, "a", NULL);
	expect_only(tc_region("a", NULL, "6", NULL, good_members()), RULE_SIZE, "a", NULL);
	expect_only(tc_region("a", NULL, "1024", NULL, good_members()), RULE_SIZE, "a", NULL);
	expect_only(tc_region("a", NULL, "2M", NULL, good_members()), RULE_SIZE, "a", NULL);
}

static void test_region_id(void **state)
{
	(void)state;
	expect_only(tc_region("a", NULL, "2", "0x10000", good_members()), RULE_REGION_ID, "a", NULL);
	expect_only(tc_region("a", NULL, "2", "one", good_members()), RULE_REGION_ID, "a", NULL);
}

static void test_region_id_warnings(void **state)
{
	(void)state;
	expect_only(tc_region("a", NULL, "2", "5", good_members()), RULE_REGION_ID_RESERVED, "a",
		    NULL);
	expect_only(tc_cat(tc_region("a", NULL, "2", "0x1000", good_members()),
			   tc_region("b", NULL, "2", "4096",
				     tc_cat(tc_vm("POST1", "00:09.0"), tc_vm("POST2", "00:09.0")))),
		    RULE_REGION_ID_DUP, "b", NULL);
}

static void test_at_least_two_vms(void **state)
{
	(void)state;
	expect_only(tc_region("a", NULL, "2", NULL, tc_vm("POST1", "00:08.0")), RULE_VM_COUNT, "a",
		    NULL);
	expect_only(tc_region("a", NULL, "2", NULL, NULL), RULE_VM_COUNT, "a", NULL);
}

static void test_vm_name_missing(void **state)
{
	char *nameless = g_strdup("<IVSHMEM_VM><VBDF>00:09.0</VBDF></IVSHMEM_VM>");

	(void)state;
	expect_only(tc_region("a", NULL, "2", NULL, tc_cat(good_members(), nameless)),
		    RULE_VM_NAME, "a", NULL);
}

static void test_vm_unknown(void **state)
{
	(void)state;
	expect_only(tc_region("a", NULL, "2", NULL, tc_cat(good_members(), tc_vm("GHOST", NULL))),
		    RULE_VM_UNKNOWN, "a", "GHOST");
}

static void test_vm_once_per_region(void **state)
{
	(void)state;
	expect_only(tc_region("a", NULL, "2", NULL,
			      tc_cat(good_members(), tc_vm("POST1", "00:09.0"))),
		    RULE_VM_DUP, "a", "POST1");
}

static void test_dm_region_only_post_launched(void **state)
{
	(void)state;
	expect_only(tc_region("a", "Device Model", "2", NULL,
			      tc_cat(good_members(), tc_vm("SOS", "00:08.0"))),
		    RULE_DM_POST_ONLY, "a", "SOS");
}

static void test_vbdf_syntax(void **state)
{
	(void)state;
	expect_only(tc_region("a", NULL, "2", NULL,
			      tc_cat(tc_vm("POST1", "0:8.0"), tc_vm("POST2", "00:08.0"))),
		    RULE_VBDF_SYNTAX, "a", "POST1");
}

static void test_vbdf_post_launched_range(void **state)
{
	(void)state;
	expect_only(tc_region("a", NULL, "2", NULL,
			      tc_cat(tc_vm("POST1", "00:02.0"), tc_vm("POST2", "00:08.0"))),
		    RULE_VBDF_RANGE, "a", "POST1");
	expect_only(tc_region("a", NULL, "2", NULL,
			      tc_cat(tc_vm("POST1", "00:08.0"), tc_vm("POST2", "00:1f.0"))),
		    RULE_VBDF_RANGE, "a", "POST2");
}

static void test_vbdf_host_bridge(void **state)
{
	(void)state;
	expect_only(tc_region("a", NULL, "2", NULL,
			      tc_cat(tc_vm("PRE", "00:00.0"), tc_vm("POST2", "00:08.0"))),
		    RULE_VBDF_HOSTBRIDGE, "a", "PRE");
}

static void test_vbdf_unique_per_vm(void **state)
{
	(void)state;
	/* POST1 at 00:08.0 in both regions; POST2 at 00:08.0 twice is fine (another VM). */
	expect_only(tc_cat(tc_region("a", NULL, "2", NULL, good_members()),
			   tc_region("b", NULL, "2", NULL,
				     tc_cat(tc_vm("POST1", "00:08.0"), tc_vm("POST3", "00:08.0")))),
		    RULE_VBDF_DUP, "b", "POST1");
}

static void test_vbdf_clash_with_pci_vuart(void **state)
{
	(void)state;
	/* The scenario's PCI vUART gives POST1 00:10.0. */
	expect_only(tc_region("a", NULL, "2", NULL,
			      tc_cat(tc_vm("POST1", "00:10.0"), tc_vm("POST2", "00:10.0"))),
		    RULE_VBDF_CLASH, "a", "POST1");
}

static void test_at_most_8_hv_regions(void **state)
{
	char *regions = g_strdup("");

	(void)state;
	for (unsigned i = 0; i < 9; i++) {
		char name[8], vbdf[8];

		snprintf(name, sizeof(name), "r%u", i);
		snprintf(vbdf, sizeof(vbdf), "00:%02x.0", 0x11 + i); /* past the vUART at 0x10 */
		regions = tc_cat(regions, tc_region(name, "Hypervisor", "2", NULL,
						    tc_cat(tc_vm("POST1", vbdf),
							   tc_vm("POST2", vbdf))));
	}
	expect_only(regions, RULE_HV_REGION_COUNT, "r8", NULL);
}

static void test_dm_regions_do_not_count_toward_8(void **state)
{
	char *regions = g_strdup("");
	char *xml;
	struct diag_list *diags;

	(void)state;
	for (unsigned i = 0; i < 12; i++) {
		char name[8], vbdf[8];

		snprintf(name, sizeof(name), "r%u", i);
		snprintf(vbdf, sizeof(vbdf), "00:%02x.0", 0x11 + i); /* past the vUART at 0x10 */
		regions = tc_cat(regions, tc_region(name, i < 8 ? "Hypervisor" : "Device Model", "2",
						    NULL,
						    tc_cat(tc_vm("POST1", vbdf),
							   tc_vm("POST2", vbdf))));
	}
	xml = tc_scenario(regions);
	diags = tc_check(xml);
	assert_int_equal(diags->items->len, 0);
	diag_list_free(diags);
	g_free(xml);
	g_free(regions);
}

/* Several problems come out of one run, each with its own line. */
static void test_reports_every_error_with_lines(void **state)
{
	const char *xml =
		"<acrn-config>\n"					/* 1 */
		"<hv><FEATURES><IVSHMEM>\n"				/* 2 */
		"<IVSHMEM_REGION>\n"					/* 3 */
		"  <NAME>bad-name</NAME>\n"				/* 4 */
		"  <IVSHMEM_SIZE>3</IVSHMEM_SIZE>\n"			/* 5 */
		"  <IVSHMEM_VMS>\n"					/* 6 */
		"    <IVSHMEM_VM>\n"					/* 7 */
		"      <VM_NAME>A</VM_NAME>\n"				/* 8 */
		"      <VBDF>00:08.9</VBDF>\n"				/* 9 */
		"    </IVSHMEM_VM>\n"					/* 10 */
		"  </IVSHMEM_VMS>\n"					/* 11 */
		"</IVSHMEM_REGION>\n"					/* 12 */
		"</IVSHMEM></FEATURES></hv>\n"				/* 13 */
		"<vm id=\"0\"><load_order>POST_LAUNCHED_VM</load_order><name>A</name></vm>\n"
		"</acrn-config>\n";
	struct diag_list *diags = tc_check(xml);
	const struct diag *d;

	(void)state;
	assert_int_equal(diags->items->len, 4);
	d = diag_find(diags, RULE_REGION_NAME);
	assert_non_null(d);
	assert_int_equal(d->line, 4);
	d = diag_find(diags, RULE_SIZE);
	assert_non_null(d);
	assert_int_equal(d->line, 5);
	d = diag_find(diags, RULE_VM_COUNT);
	assert_non_null(d);
	assert_int_equal(d->line, 3);
	d = diag_find(diags, RULE_VBDF_SYNTAX);
	assert_non_null(d);
	assert_int_equal(d->line, 9);
	assert_string_equal(d->vm, "A");
	assert_string_equal(d->region, "bad-name");
	diag_list_free(diags);
}

/* Scenarios from before ACRN 3.0 say pre/post in vm_type instead of load_order. */
static void test_old_vm_type_is_understood(void **state)
{
	const char *xml =
		"<acrn-config><hv><FEATURES><IVSHMEM><IVSHMEM_REGION><NAME>a</NAME>"
		"<PROVIDED_BY>Device Model</PROVIDED_BY><IVSHMEM_SIZE>2</IVSHMEM_SIZE><IVSHMEM_VMS>"
		"<IVSHMEM_VM><VM_NAME>X</VM_NAME><VBDF>00:08.0</VBDF></IVSHMEM_VM>"
		"<IVSHMEM_VM><VM_NAME>Y</VM_NAME><VBDF>00:08.0</VBDF></IVSHMEM_VM>"
		"</IVSHMEM_VMS></IVSHMEM_REGION></IVSHMEM></FEATURES></hv>"
		"<vm id=\"0\"><vm_type>PRE_STD_VM</vm_type><name>X</name></vm>"
		"<vm id=\"1\"><vm_type>POST_STD_VM</vm_type><name>Y</name></vm></acrn-config>";
	struct diag_list *diags = tc_check(xml);

	(void)state;
	assert_int_equal(diags->items->len, 1);
	assert_string_equal(((struct diag *)g_ptr_array_index(diags->items, 0))->vm, "X");
	assert_int_equal(tc_count_rule(diags, RULE_DM_POST_ONLY), 1);
	diag_list_free(diags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_section_passes),
		cmocka_unit_test(test_real_scenarios_pass),
		cmocka_unit_test(test_name_missing_empty_bad_long),
		cmocka_unit_test(test_name_duplicate),
		cmocka_unit_test(test_provider),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_region_id),
		cmocka_unit_test(test_region_id_warnings),
		cmocka_unit_test(test_at_least_two_vms),
		cmocka_unit_test(test_vm_name_missing),
		cmocka_unit_test(test_vm_unknown),
		cmocka_unit_test(test_vm_once_per_region),
		cmocka_unit_test(test_dm_region_only_post_launched),
		cmocka_unit_test(test_vbdf_syntax),
		cmocka_unit_test(test_vbdf_post_launched_range),
		cmocka_unit_test(test_vbdf_host_bridge),
		cmocka_unit_test(test_vbdf_unique_per_vm),
		cmocka_unit_test(test_vbdf_clash_with_pci_vuart),
		cmocka_unit_test(test_at_most_8_hv_regions),
		cmocka_unit_test(test_dm_regions_do_not_count_toward_8),
		cmocka_unit_test(test_reports_every_error_with_lines),
		cmocka_unit_test(test_old_vm_type_is_understood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
