/* IVSHMEM edits on the tree, in the element order ACRN's configurator writes. */
#include "edit.h"

#include <string.h>

#include "xml_edit.h"
#include "xml_util.h"

struct member_spec member_spec_parse(char *text)
{
	struct member_spec spec = { .vm = text, .vbdf = NULL };
	char *eq = strrchr(text, '=');

	if (eq != NULL) {
		*eq = '\0';
		spec.vbdf = eq + 1;
	}
	return spec;
}

/* /acrn-config/hv/FEATURES/IVSHMEM, made when missing (FEATURES goes before MEMORY, where
 * ACRN's schema has it). */
static xmlNode *ensure_ivshmem(struct scenario_doc *sd)
{
	xmlNode *hv = scenario_hv(sd);
	xmlNode *features = xml_child(hv, "FEATURES");
	xmlNode *ivshmem;

	if (features == NULL) {
		xmlNode *memory = xml_child(hv, "MEMORY");

		features = memory ? xml_insert_element_before(sd, memory, "FEATURES", NULL)
				  : xml_append_element(sd, hv, "FEATURES", NULL);
	}
	ivshmem = xml_child(features, "IVSHMEM");
	return ivshmem ? ivshmem : xml_append_element(sd, features, "IVSHMEM", NULL);
}

static xmlNode *ivshmem_section(const struct scenario_doc *sd)
{
	return xml_child(xml_child(scenario_hv(sd), "FEATURES"), "IVSHMEM");
}

/* The one region of that name; an error when there is none, or more than one. */
static xmlNode *find_region(const struct scenario_doc *sd, const char *name,
			    struct diag_list *diags)
{
	xmlNode *found = NULL;
	unsigned n = 0;

	for (xmlNode *r = xml_child(ivshmem_section(sd), "IVSHMEM_REGION"); r != NULL;
	     r = xml_next_named(r)) {
		char *rname = xml_child_text(r, "NAME");

		if (rname != NULL && strcmp(rname, name) == 0 && n++ == 0)
			found = r;
		g_free(rname);
	}
	if (n == 1)
		return found;
	if (n == 0)
		diag_add(diags, DIAG_ERROR, RULE_REGION_UNKNOWN, name, NULL, DIAG_NO_LINE,
			 "the scenario has no region of this name");
	else
		diag_add(diags, DIAG_ERROR, "region-name-duplicate", name, NULL, xml_line(found),
			 "%u regions have this name: fix the file first", n);
	return NULL;
}

static void add_member(struct scenario_doc *sd, xmlNode *vms, const struct member_spec *m)
{
	xmlNode *vm = xml_append_element(sd, vms, "IVSHMEM_VM", NULL);

	xml_append_element(sd, vm, "VM_NAME", m->vm);
	xml_append_element(sd, vm, "VBDF", m->vbdf);
}

void edit_add_region(struct scenario_doc *sd, const struct region_spec *spec)
{
	xmlNode *region, *vms;

	region = xml_append_element(sd, ensure_ivshmem(sd), "IVSHMEM_REGION", NULL);
	xml_append_element(sd, region, "NAME", spec->name);
	xml_append_element(sd, region, "PROVIDED_BY", spec->provider);
	xml_append_element(sd, region, "IVSHMEM_SIZE", spec->size);
	if (spec->region_id != NULL)
		xml_append_element(sd, region, "IVSHMEM_REGION_ID", spec->region_id);
	vms = xml_append_element(sd, region, "IVSHMEM_VMS", NULL);
	for (size_t i = 0; i < spec->n_members; i++)
		add_member(sd, vms, &spec->members[i]);
}

int edit_add_vm(struct scenario_doc *sd, const char *region, const struct member_spec *member,
		struct diag_list *diags)
{
	xmlNode *r = find_region(sd, region, diags);
	xmlNode *vms;

	if (r == NULL)
		return -1;
	vms = xml_child(r, "IVSHMEM_VMS");
	if (vms == NULL)
		vms = xml_append_element(sd, r, "IVSHMEM_VMS", NULL);
	add_member(sd, vms, member);
	return 0;
}

int edit_remove_vm(struct scenario_doc *sd, const char *region, const char *vm,
		   struct diag_list *diags)
{
	xmlNode *r = find_region(sd, region, diags);
	unsigned removed = 0;

	if (r == NULL)
		return -1;
	for (xmlNode *m = xml_child(xml_child(r, "IVSHMEM_VMS"), "IVSHMEM_VM"); m != NULL;) {
		xmlNode *next = xml_next_named(m);
		char *name = xml_child_text(m, "VM_NAME");

		/* A VM listed twice (a mistake check reports) goes entirely. */
		if (name != NULL && strcmp(name, vm) == 0) {
			xml_remove_element(sd, m);
			removed++;
		}
		g_free(name);
		m = next;
	}
	if (removed == 0) {
		diag_add(diags, DIAG_ERROR, RULE_VM_NOT_MEMBER, region, vm, xml_line(r),
			 "the VM does not share this region");
		return -1;
	}
	return 0;
}

int edit_remove_region(struct scenario_doc *sd, const char *region, struct diag_list *diags)
{
	xmlNode *r = find_region(sd, region, diags);

	if (r == NULL)
		return -1;
	xml_remove_element(sd, r);
	return 0;
}
