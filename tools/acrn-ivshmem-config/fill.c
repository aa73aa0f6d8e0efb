/* Filling blank VBDFs. */
#include "fill.h"

#include <string.h>

#include "xml_edit.h"
#include "xml_util.h"

static bool is_blank(const char *vbdf)
{
	return vbdf == NULL || *vbdf == '\0';
}

/* Every vBDF the VM uses now: IVSHMEM devices in any region, PCI vUARTs, and what this plan
 * already gave it. */
static GArray *used_by(const struct scen_model *m, const char *vm, const GPtrArray *plan)
{
	GArray *used = g_array_new(FALSE, FALSE, sizeof(struct vbdf));
	struct vbdf v;

	for (guint i = 0; i < m->regions->len; i++) {
		const struct scen_region *r = g_ptr_array_index(m->regions, i);

		for (guint j = 0; j < r->members->len; j++) {
			const struct scen_member *mb = g_ptr_array_index(r->members, j);

			if (g_strcmp0(mb->vm_name, vm) == 0 && !is_blank(mb->vbdf) &&
			    vbdf_parse(mb->vbdf, &v) == 0)
				g_array_append_val(used, v);
		}
	}
	for (guint i = 0; i < m->others->len; i++) {
		const struct scen_other_vbdf *o = g_ptr_array_index(m->others, i);

		if (strcmp(o->vm_name, vm) == 0 && vbdf_parse(o->vbdf, &v) == 0)
			g_array_append_val(used, v);
	}
	for (guint i = 0; i < plan->len; i++) {
		const struct vbdf_fill *f = g_ptr_array_index(plan, i);

		if (strcmp(f->member->vm_name, vm) == 0)
			g_array_append_val(used, f->vbdf);
	}
	return used;
}

GPtrArray *fill_plan(const struct scen_model *m, struct diag_list *diags)
{
	GPtrArray *plan = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < m->regions->len; i++) {
		const struct scen_region *r = g_ptr_array_index(m->regions, i);

		for (guint j = 0; j < r->members->len; j++) {
			struct scen_member *mb = g_ptr_array_index(r->members, j);
			const struct scen_vm *vm = model_find_vm(m, mb->vm_name);
			struct vbdf_fill *f;
			GArray *used;
			int rc;

			if (!is_blank(mb->vbdf) || vm == NULL)
				continue;
			f = g_new0(struct vbdf_fill, 1);
			f->member = mb;
			used = used_by(m, vm->name, plan);
			rc = vbdf_pick_free((const struct vbdf *)(void *)used->data, used->len,
					    vm->load_order == VM_POST_LAUNCHED, &f->vbdf);
			g_array_free(used, TRUE);
			if (rc != 0) {
				diag_add(diags, DIAG_ERROR, RULE_VBDF_FULL, r->label, mb->vm_name,
					 mb->line, "no free device number is left for this VM's "
					 "blank VBDF");
				g_free(f);
				continue;
			}
			g_ptr_array_add(plan, f);
		}
	}
	return plan;
}

void fill_apply(struct scenario_doc *sd, const GPtrArray *plan)
{
	for (guint i = 0; i < plan->len; i++) {
		const struct vbdf_fill *f = g_ptr_array_index(plan, i);
		xmlNode *vbdf = xml_child(f->member->node, "VBDF");
		char text[VBDF_STRLEN];

		vbdf_format(&f->vbdf, text);
		if (vbdf != NULL)
			xml_set_text(sd, vbdf, text);
		else
			xml_append_element(sd, f->member->node, "VBDF", text);
	}
}

const struct vbdf *fill_lookup(const GPtrArray *plan, const struct scen_member *member)
{
	for (guint i = 0; i < plan->len; i++) {
		const struct vbdf_fill *f = g_ptr_array_index(plan, i);

		if (f->member == member)
			return &f->vbdf;
	}
	return NULL;
}
