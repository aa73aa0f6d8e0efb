/* Helpers shared by the acrn-ivshmem-config unit tests. */
#include "test_config_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "model.h"
#include "rules.h"

char *tc_testdata_path(const char *name)
{
	return g_build_filename(IVCONFIG_TESTDATA, name, NULL);
}

char *tc_read_file(const char *path, size_t *len)
{
	char *data = NULL;
	gsize n = 0;
	GError *err = NULL;

	if (!g_file_get_contents(path, &data, &n, &err)) {
		print_error("%s\n", err->message);
		fail();
	}
	*len = n;
	return data;
}

char *tc_scenario(const char *regions)
{
	return g_strdup_printf(
		"<acrn-config>\n"
		"  <hv>\n"
		"    <FEATURES>\n"
		"      <IVSHMEM>%s</IVSHMEM>\n"
		"    </FEATURES>\n"
		"    <vuart_connections>\n"
		"      <vuart_connection>\n"
		"        <name>pci uart</name>\n"
		"        <type>pci</type>\n"
		"        <endpoint>\n"
		"          <vm_name>POST1</vm_name>\n"
		"          <vbdf>00:10.0</vbdf>\n"
		"        </endpoint>\n"
		"        <endpoint>\n"
		"          <vm_name>SOS</vm_name>\n"
		"          <vbdf>00:10.0</vbdf>\n"
		"        </endpoint>\n"
		"      </vuart_connection>\n"
		"    </vuart_connections>\n"
		"  </hv>\n"
		"  <vm id=\"0\"><load_order>PRE_LAUNCHED_VM</load_order><name>PRE</name></vm>\n"
		"  <vm id=\"1\"><load_order>SERVICE_VM</load_order><name>SOS</name></vm>\n"
		"  <vm id=\"2\"><load_order>POST_LAUNCHED_VM</load_order><name>POST1</name></vm>\n"
		"  <vm id=\"3\"><load_order>POST_LAUNCHED_VM</load_order><name>POST2</name></vm>\n"
		"  <vm id=\"4\"><load_order>POST_LAUNCHED_VM</load_order><name>POST3</name></vm>\n"
		"</acrn-config>\n",
		regions);
}

static char *element(const char *name, const char *text)
{
	return text ? g_strdup_printf("<%s>%s</%s>", name, text, name) : g_strdup("");
}

char *tc_region(const char *name, const char *provider, const char *size, const char *id,
		char *members)
{
	char *n = element("NAME", name), *p = element("PROVIDED_BY", provider);
	char *s = element("IVSHMEM_SIZE", size), *i = element("IVSHMEM_REGION_ID", id);
	char *r = g_strdup_printf("<IVSHMEM_REGION>%s%s%s%s<IVSHMEM_VMS>%s</IVSHMEM_VMS>"
				  "</IVSHMEM_REGION>\n",
				  n, p, s, i, members ? members : "");

	g_free(n);
	g_free(p);
	g_free(s);
	g_free(i);
	g_free(members);
	return r;
}

char *tc_vm(const char *vm, const char *vbdf)
{
	char *v = element("VBDF", vbdf);
	char *r = g_strdup_printf("<IVSHMEM_VM>\n<VM_NAME>%s</VM_NAME>%s</IVSHMEM_VM>\n", vm, v);

	g_free(v);
	return r;
}

char *tc_cat(char *a, char *b)
{
	char *r = g_strconcat(a, b, NULL);

	g_free(a);
	g_free(b);
	return r;
}

struct scenario_doc *tc_load(const char *xml)
{
	struct diag_list *diags = diag_list_new();
	struct scenario_doc *sd = scenario_load_buffer("test.xml", xml, strlen(xml), diags);

	if (sd == NULL) {
		diag_print(diags, "test.xml", stderr);
		fail();
	}
	diag_list_free(diags);
	return sd;
}

struct diag_list *tc_check(const char *xml)
{
	struct scenario_doc *sd = tc_load(xml);
	struct scen_model *m = model_build(sd);
	struct diag_list *diags = diag_list_new();

	rules_check(m, diags);
	model_free(m);
	scenario_free(sd);
	return diags;
}

unsigned tc_count_rule(const struct diag_list *diags, const char *rule)
{
	unsigned n = 0;

	for (guint i = 0; i < diags->items->len; i++) {
		const struct diag *d = g_ptr_array_index(diags->items, i);

		n += strcmp(d->rule, rule) == 0;
	}
	return n;
}

char *tc_mkdtemp(void)
{
	char *dir = g_build_filename(g_get_tmp_dir(), "ivconfig-test-XXXXXX", NULL);

	assert_non_null(g_mkdtemp(dir));
	return dir;
}

void tc_rmdir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);

		g_unlink(path);
		g_free(path);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(dir);
}

void tc_write_file(const char *path, const char *data, size_t len)
{
	GError *err = NULL;

	if (!g_file_set_contents(path, data, (gssize)len, &err)) {
		print_error("%s\n", err->message);
		fail();
	}
}
