/*
 * acrn-ivshmem-config edits: new elements are indented like the file, removals take their
 * indentation along, and undoing an edit gives the original bytes back; save fills blank VBDFs
 * deterministically and without clashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "edit.h"
#include "fill.h"
#include "model.h"
#include "rules.h"
#include "test_config_util.h"

static char *serialize(const struct scenario_doc *sd)
{
	return g_string_free(scenario_serialize(sd), FALSE);
}

static struct scenario_doc *load_testdata(const char *name, char **bytes)
{
	char *path = tc_testdata_path(name);
	size_t len;
	struct scenario_doc *sd;

	*bytes = tc_read_file(path, &len);
	sd = tc_load(*bytes);
	g_free(path);
	return sd;
}

/* The section `add-region -n shm_dm -p dm -s 4 --id 0x1001 -v POST_STD_VM1 -v POST_RT_VM1`
 * writes into the six-VM scenario in place of <IVSHMEM/>. */
static const char six_vms_section[] =
	"      <IVSHMEM>\n"
	"        <IVSHMEM_REGION>\n"
	"          <NAME>shm_dm</NAME>\n"
	"          <PROVIDED_BY>Device Model</PROVIDED_BY>\n"
	"          <IVSHMEM_SIZE>4</IVSHMEM_SIZE>\n"
	"          <IVSHMEM_REGION_ID>0x1001</IVSHMEM_REGION_ID>\n"
	"          <IVSHMEM_VMS>\n"
	"            <IVSHMEM_VM>\n"
	"              <VM_NAME>POST_STD_VM1</VM_NAME>\n"
	"              <VBDF/>\n"
	"            </IVSHMEM_VM>\n"
	"            <IVSHMEM_VM>\n"
	"              <VM_NAME>POST_RT_VM1</VM_NAME>\n"
	"              <VBDF/>\n"
	"            </IVSHMEM_VM>\n"
	"          </IVSHMEM_VMS>\n"
	"        </IVSHMEM_REGION>\n"
	"      </IVSHMEM>\n";

static const struct member_spec six_vms_members[] = { { "POST_STD_VM1", NULL },
						      { "POST_RT_VM1", "" } };
static const struct region_spec six_vms_region = { "shm_dm", "Device Model", "4", "0x1001",
						   six_vms_members, 2 };

static void test_add_region_to_empty_section(void **state)
{
	char *orig, *out;
	struct scenario_doc *sd = load_testdata(SIX_VMS, &orig);
	GString *expected = g_string_new(orig);

	(void)state;
	edit_add_region(sd, &six_vms_region);
	out = serialize(sd);
	g_string_replace(expected, "      <IVSHMEM/>\n", six_vms_section, 1);
	assert_string_equal(out, expected->str);
	g_free(out);

	/* And removing it gives the original file back, byte for byte. */
	assert_int_equal(edit_remove_region(sd, "shm_dm", NULL), 0);
	out = serialize(sd);
	assert_string_equal(out, orig);
	g_free(out);
	g_string_free(expected, TRUE);
	scenario_free(sd);
	g_free(orig);
}

static void test_add_and_remove_vm(void **state)
{
	char *orig, *out;
	struct scenario_doc *sd = load_testdata(HYBRID_RT, &orig);
	struct member_spec vm = { "POST_STD_VM2", "00:09.0" };
	const char *added = "              <VBDF>00:08.0</VBDF>\n"
			    "            </IVSHMEM_VM>\n"
			    "            <IVSHMEM_VM>\n"
			    "              <VM_NAME>POST_STD_VM2</VM_NAME>\n"
			    "              <VBDF>00:09.0</VBDF>\n"
			    "            </IVSHMEM_VM>\n"
			    "          </IVSHMEM_VMS>\n";

	(void)state;
	assert_int_equal(edit_add_vm(sd, "shm_region_0", &vm, NULL), 0);
	out = serialize(sd);
	assert_non_null(strstr(out, added));
	g_free(out);
	assert_int_equal(edit_remove_vm(sd, "shm_region_0", "POST_STD_VM2", NULL), 0);
	out = serialize(sd);
	assert_string_equal(out, orig);
	g_free(out);
	scenario_free(sd);
	g_free(orig);
}

static void test_remove_first_vm_keeps_layout(void **state)
{
	char *orig, *out;
	struct scenario_doc *sd = load_testdata(HYBRID_RT, &orig);
	const char *left = "          <IVSHMEM_VMS>\n"
			   "            <IVSHMEM_VM>\n"
			   "              <VM_NAME>POST_STD_VM1</VM_NAME>\n";

	(void)state;
	assert_int_equal(edit_remove_vm(sd, "shm_region_0", "PRE_RT_VM0", NULL), 0);
	out = serialize(sd);
	assert_non_null(strstr(out, left));
	assert_null(strstr(out, "<VM_NAME>PRE_RT_VM0</VM_NAME>"));
	/* Only those five lines went. */
	assert_int_equal(strlen(orig) - strlen(out),
			 strlen("            <IVSHMEM_VM>\n"
				"              <VM_NAME>PRE_RT_VM0</VM_NAME>\n"
				"              <VBDF>00:08.0</VBDF>\n"
				"            </IVSHMEM_VM>\n"));
	g_free(out);
	scenario_free(sd);
	g_free(orig);
}

static void test_edits_of_what_is_not_there(void **state)
{
	char *orig;
	struct scenario_doc *sd = load_testdata(HYBRID_RT, &orig);
	struct diag_list *diags = diag_list_new();
	struct member_spec vm = { "X", NULL };

	(void)state;
	assert_int_equal(edit_remove_vm(sd, "shm_region_0", "POST_STD_VM2", diags), -1);
	assert_int_equal(tc_count_rule(diags, RULE_VM_NOT_MEMBER), 1);
	assert_int_equal(edit_remove_region(sd, "nope", diags), -1);
	assert_int_equal(edit_add_vm(sd, "nope", &vm, diags), -1);
	assert_int_equal(tc_count_rule(diags, RULE_REGION_UNKNOWN), 2);
	assert_false(scenario_modified(sd));
	diag_list_free(diags);
	scenario_free(sd);
	g_free(orig);
}

/* No IVSHMEM, no FEATURES: both are made, FEATURES before MEMORY as in ACRN's schema. */
static void test_creates_missing_sections(void **state)
{
	const char *xml = "<acrn-config>\n"
			  "  <hv>\n"
			  "    <BUILD_TYPE>debug</BUILD_TYPE>\n"
			  "    <MEMORY>\n"
			  "      <STACK_SIZE>0x2000</STACK_SIZE>\n"
			  "    </MEMORY>\n"
			  "  </hv>\n"
			  "  <vm id=\"0\"><name>A</name></vm>\n"
			  "</acrn-config>\n";
	const char *expected_head = "<acrn-config>\n"
				    "  <hv>\n"
				    "    <BUILD_TYPE>debug</BUILD_TYPE>\n"
				    "    <FEATURES>\n"
				    "      <IVSHMEM>\n"
				    "        <IVSHMEM_REGION>\n"
				    "          <NAME>r</NAME>\n";
	const char *expected_tail = "        </IVSHMEM_REGION>\n"
				    "      </IVSHMEM>\n"
				    "    </FEATURES>\n"
				    "    <MEMORY>\n";
	struct member_spec members[] = { { "A", "00:08.0" } };
	struct region_spec spec = { "r", "Hypervisor", "2", NULL, members, 1 };
	struct scenario_doc *sd = tc_load(xml);
	char *out;

	(void)state;
	edit_add_region(sd, &spec);
	out = serialize(sd);
	assert_true(g_str_has_prefix(out, expected_head));
	assert_non_null(strstr(out, expected_tail));
	assert_true(g_str_has_suffix(out, "  <vm id=\"0\"><name>A</name></vm>\n</acrn-config>\n"));
	g_free(out);
	scenario_free(sd);
}

/* A file written on one line gets no whitespace either. */
static void test_unindented_file_stays_unindented(void **state)
{
	const char *xml = "<acrn-config><hv><FEATURES/></hv><vm id=\"0\"><name>A</name></vm>"
			  "<vm id=\"1\"><name>B</name></vm></acrn-config>";
	struct member_spec members[] = { { "A", NULL }, { "B", NULL } };
	struct region_spec spec = { "r", "Hypervisor", "2", NULL, members, 2 };
	struct scenario_doc *sd = tc_load(xml);
	char *out;

	(void)state;
	edit_add_region(sd, &spec);
	out = serialize(sd);
	assert_string_equal(out, "<acrn-config><hv><FEATURES><IVSHMEM><IVSHMEM_REGION>"
				 "<NAME>r</NAME><PROVIDED_BY>Hypervisor</PROVIDED_BY>"
				 "<IVSHMEM_SIZE>2</IVSHMEM_SIZE><IVSHMEM_VMS><IVSHMEM_VM>"
				 "<VM_NAME>A</VM_NAME><VBDF/></IVSHMEM_VM><IVSHMEM_VM>"
				 "<VM_NAME>B</VM_NAME><VBDF/></IVSHMEM_VM></IVSHMEM_VMS>"
				 "</IVSHMEM_REGION></IVSHMEM></FEATURES></hv><vm id=\"0\">"
				 "<name>A</name></vm><vm id=\"1\"><name>B</name></vm></acrn-config>");
	g_free(out);
	scenario_free(sd);
}

/* Text a user types is escaped, never taken as markup. */
static void test_values_are_escaped(void **state)
{
	char *orig, *out;
	struct scenario_doc *sd = load_testdata(HYBRID_RT, &orig);
	struct member_spec vm = { "a<b>&c", NULL };

	(void)state;
	assert_int_equal(edit_add_vm(sd, "shm_region_0", &vm, NULL), 0);
	out = serialize(sd);
	assert_non_null(strstr(out, "<VM_NAME>a&lt;b&gt;&amp;c</VM_NAME>"));
	g_free(out);
	scenario_free(sd);
	g_free(orig);
}

static void test_member_spec_parse(void **state)
{
	char a[] = "VM1=00:08.0", b[] = "VM2", c[] = "VM3=";
	struct member_spec s;

	(void)state;
	s = member_spec_parse(a);
	assert_string_equal(s.vm, "VM1");
	assert_string_equal(s.vbdf, "00:08.0");
	s = member_spec_parse(b);
	assert_string_equal(s.vm, "VM2");
	assert_null(s.vbdf);
	s = member_spec_parse(c);
	assert_string_equal(s.vm, "VM3");
	assert_string_equal(s.vbdf, "");
}

/* save: blanks get the lowest free device from 8 up, per VM, avoiding the vUART's 00:10.0 and
 * what other regions use; a missing <VBDF> is added; unknown VMs are left alone. */
static void test_fill_blank_vbdfs(void **state)
{
	char *regions =
		tc_cat(tc_cat(tc_region("a", NULL, "2", NULL,
					tc_cat(tc_vm("POST1", "00:08.0"), tc_vm("POST2", ""))),
			      tc_region("b", NULL, "2", NULL,
					tc_cat(tc_cat(tc_vm("POST1", ""), tc_vm("POST2", NULL)),
					       tc_vm("GHOST", "")))),
		       tc_region("c", NULL, "2", NULL,
				 tc_cat(tc_vm("POST1", "00:09.0"), tc_vm("SOS", ""))));
	char *xml = tc_scenario(regions);
	struct scenario_doc *sd = tc_load(xml);
	struct scen_model *m = model_build(sd);
	struct diag_list *diags = diag_list_new();
	GPtrArray *plan = fill_plan(m, diags);
	static const char *const expected[][3] = {
		{ "a", "POST2", "00:08.0" },
		{ "b", "POST1", "00:0a.0" }, /* 08 in a, 09 in c */
		{ "b", "POST2", "00:09.0" },
		{ "c", "SOS", "00:08.0" },   /* SOS's vUART is at 00:10.0, not in the way */
	};

	(void)state;
	assert_int_equal(diags->items->len, 0);
	assert_int_equal(plan->len, 4);
	for (guint i = 0; i < plan->len; i++) {
		const struct vbdf_fill *f = g_ptr_array_index(plan, i);
		char text[VBDF_STRLEN];

		vbdf_format(&f->vbdf, text);
		assert_string_equal(f->member->region->name, expected[i][0]);
		assert_string_equal(f->member->vm_name, expected[i][1]);
		assert_string_equal(text, expected[i][2]);
	}
	fill_apply(sd, plan);
	g_ptr_array_free(plan, TRUE);
	model_free(m);

	/* The tree now says so, the result passes check but for GHOST, and a second save has
	 * nothing left to do. */
	m = model_build(sd);
	rules_check(m, diags);
	assert_int_equal(diags->items->len, 1);
	assert_int_equal(tc_count_rule(diags, RULE_VM_UNKNOWN), 1);
	plan = fill_plan(m, diags);
	assert_int_equal(plan->len, 0);
	g_ptr_array_free(plan, TRUE);
	{
		char *out = serialize(sd);

		/* Indented like VM_NAME before it, which starts a line. */
		assert_non_null(strstr(out, "<VM_NAME>POST2</VM_NAME>\n<VBDF>00:09.0</VBDF>"));
		g_free(out);
	}
	model_free(m);
	diag_list_free(diags);
	scenario_free(sd);
	g_free(xml);
	g_free(regions);
}

static void test_fill_avoids_pci_vuart_and_runs_out(void **state)
{
	char *regions = g_strdup("");
	char *xml;
	struct scenario_doc *sd;
	struct scen_model *m;
	struct diag_list *diags = diag_list_new();
	GPtrArray *plan;

	(void)state;
	/* POST1 holds 08..0f in eight regions; its vUART holds 10: the blank gets 11. */
	for (unsigned d = 8; d < 0x10; d++) {
		char name[8], vbdf[8];

		snprintf(name, sizeof(name), "r%u", d);
		snprintf(vbdf, sizeof(vbdf), "00:%02x.0", d);
		regions = tc_cat(regions, tc_region(name, "Device Model", "2", NULL,
						    tc_cat(tc_vm("POST1", vbdf),
							   tc_vm("POST2", vbdf))));
	}
	regions = tc_cat(regions, tc_region("last", "Device Model", "2", NULL,
					    tc_cat(tc_vm("POST1", ""), tc_vm("POST3", ""))));
	xml = tc_scenario(regions);
	sd = tc_load(xml);
	m = model_build(sd);
	plan = fill_plan(m, diags);
	assert_int_equal(plan->len, 2);
	assert_int_equal(((struct vbdf_fill *)g_ptr_array_index(plan, 0))->vbdf.dev, 0x11);
	assert_int_equal(((struct vbdf_fill *)g_ptr_array_index(plan, 1))->vbdf.dev, 0x08);
	g_ptr_array_free(plan, TRUE);
	model_free(m);
	scenario_free(sd);
	g_free(xml);
	g_free(regions);

	/* A post-launched VM with every device 03..1e taken has nothing left. */
	regions = g_strdup("");
	for (unsigned d = 3; d <= 0x1e; d++) {
		char name[8], vbdf[8];

		snprintf(name, sizeof(name), "r%u", d);
		snprintf(vbdf, sizeof(vbdf), "00:%02x.0", d);
		regions = tc_cat(regions, tc_region(name, "Device Model", "2", NULL,
						    tc_cat(tc_vm("POST2", vbdf),
							   tc_vm("POST3", vbdf))));
	}
	regions = tc_cat(regions, tc_region("full", "Device Model", "2", NULL,
					    tc_cat(tc_vm("POST2", ""), tc_vm("POST1", ""))));
	xml = tc_scenario(regions);
	sd = tc_load(xml);
	m = model_build(sd);
	plan = fill_plan(m, diags);
	assert_int_equal(plan->len, 1); /* POST1 only */
	assert_int_equal(tc_count_rule(diags, RULE_VBDF_FULL), 1);
	assert_string_equal(diag_find(diags, RULE_VBDF_FULL)->vm, "POST2");
	g_ptr_array_free(plan, TRUE);
	model_free(m);
	scenario_free(sd);
	diag_list_free(diags);
	g_free(xml);
	g_free(regions);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_region_to_empty_section),
		cmocka_unit_test(test_add_and_remove_vm),
		cmocka_unit_test(test_remove_first_vm_keeps_layout),
		cmocka_unit_test(test_edits_of_what_is_not_there),
		cmocka_unit_test(test_creates_missing_sections),
		cmocka_unit_test(test_unindented_file_stays_unindented),
		cmocka_unit_test(test_values_are_escaped),
		cmocka_unit_test(test_member_spec_parse),
		cmocka_unit_test(test_fill_blank_vbdfs),
		cmocka_unit_test(test_fill_avoids_pci_vuart_and_runs_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
