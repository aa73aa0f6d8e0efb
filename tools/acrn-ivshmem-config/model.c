/* Reading the model out of the tree. */
#include "model.h"

#include <string.h>

#include "xml_util.h"

static void vm_free(gpointer p)
{
	struct scen_vm *vm = p;

	g_free(vm->name);
	g_free(vm->id);
	g_free(vm->load_order_text);
	g_free(vm);
}

static void member_free(gpointer p)
{
	struct scen_member *mb = p;

	g_free(mb->vm_name);
	g_free(mb->vbdf);
	g_free(mb);
}

static void region_free(gpointer p)
{
	struct scen_region *r = p;

	g_free(r->label);
	g_free(r->name);
	g_free(r->provider);
	g_free(r->size);
	g_free(r->region_id);
	g_ptr_array_free(r->members, TRUE);
	g_free(r);
}

static void other_free(gpointer p)
{
	struct scen_other_vbdf *o = p;

	g_free(o->vm_name);
	g_free(o->vbdf);
	g_free(o->what);
	g_free(o);
}

static enum vm_load_order parse_load_order(const char *load_order, const char *vm_type)
{
	if (load_order != NULL) {
		if (strcmp(load_order, "PRE_LAUNCHED_VM") == 0)
			return VM_PRE_LAUNCHED;
		if (strcmp(load_order, "SERVICE_VM") == 0)
			return VM_SERVICE;
		if (strcmp(load_order, "POST_LAUNCHED_VM") == 0)
			return VM_POST_LAUNCHED;
		return VM_LOAD_UNKNOWN;
	}
	/* Scenarios older than ACRN 3.0 have no <load_order>; their vm_type says it. */
	if (vm_type == NULL)
		return VM_LOAD_UNKNOWN;
	if (g_str_has_prefix(vm_type, "PRE_") || strcmp(vm_type, "SAFETY_VM") == 0)
		return VM_PRE_LAUNCHED;
	if (strcmp(vm_type, "SOS_VM") == 0 || strcmp(vm_type, "SERVICE_VM") == 0)
		return VM_SERVICE;
	if (g_str_has_prefix(vm_type, "POST_"))
		return VM_POST_LAUNCHED;
	return VM_LOAD_UNKNOWN;
}

const char *load_order_name(enum vm_load_order order)
{
	switch (order) {
	case VM_PRE_LAUNCHED:
		return "PRE_LAUNCHED_VM";
	case VM_SERVICE:
		return "SERVICE_VM";
	case VM_POST_LAUNCHED:
		return "POST_LAUNCHED_VM";
	case VM_LOAD_UNKNOWN:
		break;
	}
	return "unknown";
}

static void read_vms(struct scen_model *m, const xmlNode *root)
{
	for (xmlNode *n = xml_child(root, "vm"); n != NULL; n = xml_next_named(n)) {
		struct scen_vm *vm = g_new0(struct scen_vm, 1);
		xmlChar *id = xmlGetProp(n, BAD_CAST "id");
		char *vm_type = xml_child_text(n, "vm_type");
		char *name = xml_child_text(n, "name");

		vm->name = name ? name : g_strdup("");
		vm->id = id ? g_strdup((const char *)id) : NULL;
		vm->load_order_text = xml_child_text(n, "load_order");
		vm->load_order = parse_load_order(vm->load_order_text, vm_type);
		vm->line = xml_line(n);
		xmlFree(id);
		g_free(vm_type);
		g_ptr_array_add(m->vms, vm);
	}
}

/* The text of a child and its line (the parent's when the child is missing). */
static char *child_value(const xmlNode *parent, const char *name, long *line)
{
	xmlNode *c = xml_child(parent, name);

	*line = xml_line(c ? c : parent);
	return c ? xml_text(c) : NULL;
}

static void read_members(struct scen_region *r)
{
	xmlNode *vms = xml_child(r->node, "IVSHMEM_VMS");

	r->has_vms = vms != NULL;
	for (xmlNode *n = xml_child(vms, "IVSHMEM_VM"); n != NULL; n = xml_next_named(n)) {
		struct scen_member *mb = g_new0(struct scen_member, 1);
		long name_line;

		mb->node = n;
		mb->region = r;
		mb->line = xml_line(n);
		mb->vm_name = child_value(n, "VM_NAME", &name_line);
		mb->vbdf = child_value(n, "VBDF", &mb->vbdf_line);
		g_ptr_array_add(r->members, mb);
	}
}

static void read_regions(struct scen_model *m)
{
	unsigned index = 0;

	for (xmlNode *n = xml_child(m->ivshmem, "IVSHMEM_REGION"); n != NULL;
	     n = xml_next_named(n)) {
		struct scen_region *r = g_new0(struct scen_region, 1);

		r->index = ++index;
		r->node = n;
		r->line = xml_line(n);
		r->members = g_ptr_array_new_with_free_func(member_free);
		r->name = child_value(n, "NAME", &r->name_line);
		r->provider = child_value(n, "PROVIDED_BY", &r->provider_line);
		r->size = child_value(n, "IVSHMEM_SIZE", &r->size_line);
		r->region_id = child_value(n, "IVSHMEM_REGION_ID", &r->region_id_line);
		r->label = r->name && *r->name ? g_strdup(r->name) : g_strdup_printf("#%u", index);
		read_members(r);
		g_ptr_array_add(m->regions, r);
	}
}

/* vBDFs of PCI vUART connections: /acrn-config/hv/vuart_connections/vuart_connection with
 * <type>pci</type>, one <endpoint> {vm_name, vbdf} per VM. */
static void read_pci_vuarts(struct scen_model *m, const xmlNode *hv)
{
	xmlNode *conns = xml_child(hv, "vuart_connections");

	for (xmlNode *c = xml_child(conns, "vuart_connection"); c != NULL; c = xml_next_named(c)) {
		char *type = xml_child_text(c, "type");
		char *name = xml_child_text(c, "name");

		if (type != NULL && g_ascii_strcasecmp(type, "pci") == 0) {
			for (xmlNode *e = xml_child(c, "endpoint"); e != NULL;
			     e = xml_next_named(e)) {
				struct scen_other_vbdf *o = g_new0(struct scen_other_vbdf, 1);

				o->vm_name = xml_child_text(e, "vm_name");
				o->vbdf = child_value(e, "vbdf", &o->line);
				o->what = g_strdup_printf("PCI vUART connection \"%s\"",
							  name ? name : "");
				if (o->vm_name == NULL || o->vbdf == NULL || *o->vbdf == '\0')
					other_free(o);
				else
					g_ptr_array_add(m->others, o);
			}
		}
		g_free(type);
		g_free(name);
	}
}

struct scen_model *model_build(const struct scenario_doc *sd)
{
	struct scen_model *m = g_new0(struct scen_model, 1);
	xmlNode *root = scenario_root(sd);
	xmlNode *hv = scenario_hv(sd);

	m->vms = g_ptr_array_new_with_free_func(vm_free);
	m->regions = g_ptr_array_new_with_free_func(region_free);
	m->others = g_ptr_array_new_with_free_func(other_free);
	m->ivshmem = xml_child(xml_child(hv, "FEATURES"), "IVSHMEM");
	m->ivshmem_line = m->ivshmem ? xml_line(m->ivshmem) : DIAG_NO_LINE;
	read_vms(m, root);
	if (m->ivshmem != NULL)
		read_regions(m);
	read_pci_vuarts(m, hv);
	return m;
}

void model_free(struct scen_model *m)
{
	if (m == NULL)
		return;
	g_ptr_array_free(m->vms, TRUE);
	g_ptr_array_free(m->regions, TRUE);
	g_ptr_array_free(m->others, TRUE);
	g_free(m);
}

const struct scen_vm *model_find_vm(const struct scen_model *m, const char *name)
{
	for (guint i = 0; name != NULL && i < m->vms->len; i++) {
		const struct scen_vm *vm = g_ptr_array_index(m->vms, i);

		if (strcmp(vm->name, name) == 0)
			return vm;
	}
	return NULL;
}

struct scen_region *model_find_region(const struct scen_model *m, const char *name)
{
	for (guint i = 0; i < m->regions->len; i++) {
		struct scen_region *r = g_ptr_array_index(m->regions, i);

		if (r->name != NULL && strcmp(r->name, name) == 0)
			return r;
	}
	return NULL;
}

struct scen_member *model_find_member(const struct scen_region *r, const char *vm_name)
{
	for (guint i = 0; i < r->members->len; i++) {
		struct scen_member *mb = g_ptr_array_index(r->members, i);

		if (mb->vm_name != NULL && strcmp(mb->vm_name, vm_name) == 0)
			return mb;
	}
	return NULL;
}
