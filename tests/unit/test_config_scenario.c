/*
 * acrn-ivshmem-config: loading scenarios (and refusing what is not one), writing them back
 * byte-identical where nothing changed, and writing safely.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "edit.h"
#include "model.h"
#include "scenario.h"
#include "test_config_util.h"

/* Expects loading xml to fail with a diagnostic of that rule (and line, if line > 0). */
static void expect_load_error(const char *xml, size_t len, const char *rule, long line)
{
	struct diag_list *diags = diag_list_new();
	struct scenario_doc *sd = scenario_load_buffer("x.xml", xml, len, diags);
	const struct diag *d = diag_find(diags, rule);

	assert_null(sd);
	assert_non_null(d);
	if (line > 0)
		assert_int_equal(d->line, line);
	diag_list_free(diags);
}

/* The length of a literal, NULs included. */
#define LOAD_ERROR(literal, rule, line) \
	expect_load_error(literal, sizeof(literal) - 1, rule, line)

static void test_refuses_what_is_not_a_scenario(void **state)
{
	(void)state;
	LOAD_ERROR("", "file", 0);
	LOAD_ERROR("   \n", "xml", 2);
	LOAD_ERROR("<acrn-config>\n<hv>\n</acrn-config>\n", "xml", 3);
	LOAD_ERROR("<acrn-config><hv></hv></acrn-config>\n<x/>", "xml", 2);
	LOAD_ERROR("not xml at all", "xml", 1);
	LOAD_ERROR("<scenario/>", "not-scenario", 1);
	/* A board file has the same root but no <hv>. */
	LOAD_ERROR("<acrn-config board=\"b\">\n<BIOS_INFO/>\n</acrn-config>", "not-scenario", 1);
	LOAD_ERROR("<acrn-config><hv>\0</hv></acrn-config>", "xml", 1);
}

static void test_file_errors(void **state)
{
	struct diag_list *diags = diag_list_new();
	char *dir = tc_mkdtemp();
	char *empty = g_build_filename(dir, "empty.xml", NULL);
	const struct diag *d;

	(void)state;
	assert_null(scenario_load("/nonexistent/scenario.xml", diags));
	d = diag_find(diags, "file");
	assert_non_null(d);
	assert_non_null(strstr(d->message, "No such file"));
	assert_null(scenario_load(dir, diags));
	assert_int_equal(diags->items->len, 2);
	tc_write_file(empty, "", 0);
	assert_null(scenario_load(empty, diags));
	d = g_ptr_array_index(diags->items, 2);
	assert_non_null(strstr(d->message, "empty"));
	diag_list_free(diags);
	tc_rmdir(dir);
	g_free(empty);
	g_free(dir);
}

/* Serializing an unedited file gives its bytes back, for any file. */
static void expect_round_trip(const char *xml, size_t len)
{
	struct diag_list *diags = diag_list_new();
	struct scenario_doc *sd = scenario_load_buffer("x.xml", xml, len, diags);
	GString *out;

	assert_non_null(sd);
	assert_null(sd->not_writable);
	out = scenario_serialize(sd);
	assert_int_equal(out->len, len);
	assert_memory_equal(out->str, xml, len);
	g_string_free(out, TRUE);
	scenario_free(sd);
	diag_list_free(diags);
}

static void test_real_scenarios_round_trip(void **state)
{
	const char *files[] = { HYBRID_RT, SIX_VMS };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char *path = tc_testdata_path(files[i]);
		size_t len;
		char *bytes = tc_read_file(path, &len);

		expect_round_trip(bytes, len);
		g_free(bytes);
		g_free(path);
	}
}

/* What libxml2's serializer would change: all of it must survive an edit elsewhere. */
static const char quirky[] =
	"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>\r\n"
	"<!-- a comment before the root -->\r\n"
	"<!DOCTYPE acrn-config [ <!ENTITY who \"me\"> ]>\r\n"
	"<acrn-config   board = 'b' >\r\n"
	"\t<hv>\r\n"
	"\t\t<X a='1'   b=\"2\"></X>\r\n"
	"\t\t<Y>&#65;&amp;&gt;>&who;<![CDATA[<raw>]]></Y >\r\n"
	"\t\t<?pi data?>\r\n"
	"\t\t<FEATURES>\r\n"
	"\t\t\t<IVSHMEM></IVSHMEM>\r\n"
	"\t\t</FEATURES>\r\n"
	"\t</hv>\r\n"
	"\t<vm id='0'><load_order>POST_LAUNCHED_VM</load_order><name>A</name></vm>\r\n"
	"\t<vm id='1'><load_order>POST_LAUNCHED_VM</load_order><name>B</name></vm>\r\n"
	"</acrn-config>\r\n"
	"<!-- and one after -->";

static void test_quirky_file_round_trips(void **state)
{
	(void)state;
	expect_round_trip(quirky, sizeof(quirky) - 1);
}

/* Adds a region and removes it again: the file comes back byte for byte, and while the region
 * is there, everything outside IVSHMEM is as it was. */
static void test_quirky_file_survives_edits(void **state)
{
	struct member_spec members[] = { { "A", "00:08.0" }, { "B", NULL } };
	struct region_spec spec = { "r", "Device Model", "2", NULL, members, 2 };
	struct scenario_doc *sd = tc_load(quirky);
	struct diag_list *diags = diag_list_new();
	const char *ivshmem = strstr(quirky, "\t\t\t<IVSHMEM></IVSHMEM>");
	size_t head = (size_t)(ivshmem - quirky) + 3, tail;
	GString *out;

	(void)state;
	edit_add_region(sd, &spec);
	out = scenario_serialize(sd);
	assert_memory_equal(out->str, quirky, head);
	tail = strlen(strstr(quirky, "</IVSHMEM>") + strlen("</IVSHMEM>"));
	assert_memory_equal(out->str + out->len - tail, quirky + sizeof(quirky) - 1 - tail, tail);
	/* New lines end like the file's, and are indented with its tabs. */
	assert_non_null(strstr(out->str, "<IVSHMEM>\r\n\t\t\t\t<IVSHMEM_REGION>\r\n\t\t\t\t\t<NAME>r"));
	assert_non_null(strstr(out->str, "<VBDF/>\r\n\t\t\t\t\t\t</IVSHMEM_VM>"));
	assert_non_null(strstr(out->str, "</IVSHMEM_REGION>\r\n\t\t\t</IVSHMEM>\r\n"));
	g_string_free(out, TRUE);

	assert_int_equal(edit_remove_region(sd, "r", diags), 0);
	out = scenario_serialize(sd);
	/* <IVSHMEM></IVSHMEM> comes back as <IVSHMEM/>, the way ACRN writes an empty section. */
	assert_non_null(strstr(out->str, "\t\t\t<IVSHMEM/>\r\n"));
	assert_int_equal(out->len, sizeof(quirky) - 1 - strlen("</IVSHMEM>") + 1);
	g_string_free(out, TRUE);
	diag_list_free(diags);
	scenario_free(sd);
}

/* A file mixing \n and \r\n keeps each line end where it was, even inside an edited element. */
static void test_mixed_line_ends_survive_edits(void **state)
{
	const char xml[] = "<acrn-config>\n"
			   "  <hv><FEATURES><IVSHMEM><IVSHMEM_REGION><NAME>r</NAME>"
			   "<IVSHMEM_SIZE>2</IVSHMEM_SIZE>\r\n"
			   "    <IVSHMEM_VMS>\r\n"
			   "      <IVSHMEM_VM><VM_NAME>A</VM_NAME></IVSHMEM_VM>\r\n\n"
			   "      <IVSHMEM_VM><VM_NAME>B</VM_NAME></IVSHMEM_VM>\r\n"
			   "    </IVSHMEM_VMS>\n"
			   "  </IVSHMEM_REGION></IVSHMEM></FEATURES></hv>\n"
			   "  <vm><name>A</name></vm><vm><name>B</name></vm><vm><name>C</name></vm>\n"
			   "</acrn-config>\n";
	struct scenario_doc *sd = tc_load(xml);
	struct member_spec c = { "C", NULL };
	GString *out;

	(void)state;
	assert_int_equal(edit_add_vm(sd, "r", &c, NULL), 0);
	assert_int_equal(edit_remove_vm(sd, "r", "A", NULL), 0);
	out = scenario_serialize(sd);
	assert_non_null(strstr(out->str, "<IVSHMEM_VMS>\r\n\n      <IVSHMEM_VM><VM_NAME>B</VM_NAME>"
					 "</IVSHMEM_VM>\n      <IVSHMEM_VM>"));
	g_string_free(out, TRUE);
	assert_int_equal(edit_remove_vm(sd, "r", "C", NULL), 0);
	out = scenario_serialize(sd);
	assert_non_null(strstr(out->str, "<IVSHMEM_VMS>\r\n\n      <IVSHMEM_VM><VM_NAME>B</VM_NAME>"
					 "</IVSHMEM_VM>\r\n    </IVSHMEM_VMS>\n"));
	g_string_free(out, TRUE);
	scenario_free(sd);
}

/* Offsets stay right far into a big file (libxml2 reads and shrinks its buffer in chunks). */
static void test_offsets_in_a_large_file(void **state)
{
	GString *xml = g_string_new("<acrn-config>\n<!--");
	struct member_spec members[] = { { "A", NULL }, { "B", NULL } };
	struct region_spec spec = { "r", "Hypervisor", "2", NULL, members, 2 };
	struct scenario_doc *sd;
	GString *out;

	(void)state;
	for (int i = 0; i < 100000; i++)
		g_string_append(xml, "padding ");
	g_string_append(xml, "-->\n<hv><BUILD_TYPE>debug</BUILD_TYPE><FEATURES><IVSHMEM/></FEATURES>"
			     "</hv>\n<vm id='0'><name>A</name></vm><vm id='1'><name>B</name></vm>\n"
			     "</acrn-config>\n");
	sd = tc_load(xml->str);
	assert_null(sd->not_writable);
	edit_add_region(sd, &spec);
	out = scenario_serialize(sd);
	assert_memory_equal(out->str, xml->str, (size_t)(strstr(xml->str, "<IVSHMEM/>") - xml->str));
	assert_non_null(strstr(out->str, "<FEATURES><IVSHMEM><IVSHMEM_REGION><NAME>r</NAME>"));
	assert_non_null(g_str_has_suffix(out->str, "</IVSHMEM></FEATURES></hv>\n<vm id='0'><name>A"
						   "</name></vm><vm id='1'><name>B</name></vm>\n"
						   "</acrn-config>\n")
				? "" : NULL);
	g_string_free(out, TRUE);
	g_string_free(xml, TRUE);
	scenario_free(sd);
}

static void test_other_encodings_are_read_only(void **state)
{
	const char xml[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
			   "<acrn-config><hv/><vm><name>caf\xe9</name></vm></acrn-config>\n";
	struct scenario_doc *sd = tc_load(xml);
	struct scen_model *m = model_build(sd);
	GError *err = NULL;

	(void)state;
	assert_string_equal(((struct scen_vm *)g_ptr_array_index(m->vms, 0))->name, "caf\xc3\xa9");
	assert_non_null(sd->not_writable);
	assert_int_equal(scenario_write(sd, "/nonexistent/x.xml", &err), -1);
	assert_non_null(strstr(err->message, "UTF-8"));
	g_error_free(err);
	model_free(m);
	scenario_free(sd);
}

static void test_write_is_atomic_and_keeps_mode(void **state)
{
	char *dir = tc_mkdtemp();
	char *path = g_build_filename(dir, "s.xml", NULL);
	char *link = g_build_filename(dir, "link.xml", NULL);
	char *src = tc_testdata_path(SIX_VMS);
	struct diag_list *diags = diag_list_new();
	struct member_spec members[] = { { "POST_STD_VM1", NULL }, { "POST_RT_VM1", NULL } };
	struct region_spec spec = { "r", "Device Model", "2", NULL, members, 2 };
	struct scenario_doc *sd;
	GError *err = NULL;
	struct stat st;
	size_t len, n;
	char *orig = tc_read_file(src, &len), *now;

	(void)state;
	tc_write_file(path, orig, len);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(symlink("s.xml", link), 0);
	sd = scenario_load(link, diags);
	assert_non_null(sd);
	edit_add_region(sd, &spec);
	/* Through the link: the link stays a link, its target gets the new text. */
	assert_int_equal(scenario_write(sd, link, &err), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	now = tc_read_file(path, &n);
	assert_non_null(strstr(now, "<NAME>r</NAME>"));
	g_free(now);
	/* A directory that does not exist: an error naming it, nothing written. */
	assert_int_equal(scenario_write(sd, "/nonexistent/dir/s.xml", &err), -1);
	assert_non_null(strstr(err->message, "/nonexistent/dir"));
	g_error_free(err);
	scenario_free(sd);
	diag_list_free(diags);
	tc_rmdir(dir);
	g_free(orig);
	g_free(src);
	g_free(link);
	g_free(path);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_what_is_not_a_scenario),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_real_scenarios_round_trip),
		cmocka_unit_test(test_quirky_file_round_trips),
		cmocka_unit_test(test_quirky_file_survives_edits),
		cmocka_unit_test(test_mixed_line_ends_survive_edits),
		cmocka_unit_test(test_offsets_in_a_large_file),
		cmocka_unit_test(test_other_encodings_are_read_only),
		cmocka_unit_test(test_write_is_atomic_and_keeps_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
