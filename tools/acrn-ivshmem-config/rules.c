/* The IVSHMEM rules, one function per concern. */
#include "rules.h"

#include <errno.h>
#include <string.h>

#include "values.h"
#include "vbdf.h"

static void check_name(const struct scen_region *r, GHashTable *names, struct diag_list *out)
{
	const struct scen_region *first;

	if (r->name == NULL) {
		diag_add(out, DIAG_ERROR, RULE_REGION_NAME, r->label, NULL, r->line,
			 "the region has no <NAME>");
		return;
	}
	switch (region_name_check(r->name)) {
	case 0:
		break;
	case -ENODATA:
		diag_add(out, DIAG_ERROR, RULE_REGION_NAME, r->label, NULL, r->name_line,
			 "<NAME> is empty: every region needs a name");
		return;
	case -ENAMETOOLONG:
		diag_add(out, DIAG_ERROR, RULE_REGION_NAME, r->label, NULL, r->name_line,
			 "NAME is %zu characters long; at most %d fit, with \"hv:/\" and a NUL, "
			 "in the hypervisor's 32-byte name", strlen(r->name), REGION_NAME_MAX);
		return;
	default:
		diag_add(out, DIAG_ERROR, RULE_REGION_NAME, r->label, NULL, r->name_line,
			 "NAME may only contain ASCII letters, digits and '_'");
		return;
	}
	first = g_hash_table_lookup(names, r->name);
	if (first != NULL) {
		diag_add(out, DIAG_ERROR, RULE_REGION_NAME_DUP, r->label, NULL, r->name_line,
			 "another region has this name: VMs find a region by its name");
		diag_set_related_line(out, first->name_line);
	} else {
		g_hash_table_insert(names, r->name, (gpointer)r);
	}
}

static void check_provider(const struct scen_region *r, struct diag_list *out)
{
	if (provider_parse(r->provider) == PROVIDER_INVALID)
		diag_add(out, DIAG_ERROR, RULE_PROVIDER, r->label, NULL, r->provider_line,
			 "PROVIDED_BY \"%s\" is neither \"" PROVIDER_HV_TEXT "\" nor \""
			 PROVIDER_DM_TEXT "\"", r->provider);
}

static void check_size(const struct scen_region *r, struct diag_list *out)
{
	unsigned mb;

	if (r->size == NULL) {
		diag_add(out, DIAG_ERROR, RULE_SIZE, r->label, NULL, r->line,
			 "the region has no <IVSHMEM_SIZE>");
		return;
	}
	switch (region_size_parse(r->size, &mb)) {
	case 0:
		break;
	case -EINVAL:
		diag_add(out, DIAG_ERROR, RULE_SIZE, r->label, NULL, r->size_line,
			 "IVSHMEM_SIZE \"%s\" is not a decimal number of MB", r->size);
		break;
	default:
		diag_add(out, DIAG_ERROR, RULE_SIZE, r->label, NULL, r->size_line,
			 "IVSHMEM_SIZE %s MB is not one of 2, 4, 8, ..., 512 (a power of two "
			 "from %u to %u)", r->size, REGION_SIZE_MIN_MB, REGION_SIZE_MAX_MB);
	}
}

static void check_region_id(const struct scen_region *r, GHashTable *ids, struct diag_list *out)
{
	const struct scen_region *first;
	unsigned id;

	switch (region_id_parse(r->region_id, &id)) {
	case 0:
		break;
	case -EINVAL:
		diag_add(out, DIAG_ERROR, RULE_REGION_ID, r->label, NULL, r->region_id_line,
			 "IVSHMEM_REGION_ID \"%s\" is not a decimal or 0x-hexadecimal number",
			 r->region_id);
		return;
	default:
		diag_add(out, DIAG_ERROR, RULE_REGION_ID, r->label, NULL, r->region_id_line,
			 "IVSHMEM_REGION_ID %s is above 0xFFFF: it becomes the 16-bit PCI "
			 "subsystem ID", r->region_id);
		return;
	}
	/* 0 is the default every region without an id shares: not a clash. */
	if (id == 0)
		return;
	if (id < REGION_ID_FIRST_USER)
		diag_add(out, DIAG_WARNING, RULE_REGION_ID_RESERVED, r->label, NULL,
			 r->region_id_line,
			 "IVSHMEM_REGION_ID %s is in 0x001..0xFFF, which ACRN documents as "
			 "reserved; 0x1000..0xFFFF are free for users", r->region_id);
	first = g_hash_table_lookup(ids, GUINT_TO_POINTER(id));
	if (first != NULL) {
		diag_add(out, DIAG_WARNING, RULE_REGION_ID_DUP, r->label, NULL, r->region_id_line,
			 "IVSHMEM_REGION_ID %s is also the id of region \"%s\": "
			 "guests tell regions apart by it", r->region_id, first->label);
		diag_set_related_line(out, first->region_id_line);
	} else {
		g_hash_table_insert(ids, GUINT_TO_POINTER(id), (gpointer)r);
	}
}

static char *vm_names(const struct scen_model *m)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < m->vms->len; i++) {
		const struct scen_vm *vm = g_ptr_array_index(m->vms, i);

		g_string_append_printf(s, "%s%s", i ? ", " : "", vm->name);
	}
	return g_string_free(s, FALSE);
}

static void check_member_vbdf(const struct scen_member *mb, const struct scen_vm *vm,
			      struct diag_list *out)
{
	const struct scen_region *r = mb->region;
	struct vbdf v;

	/* Blank is allowed: save fills it in. */
	if (mb->vbdf == NULL || *mb->vbdf == '\0')
		return;
	if (vbdf_parse(mb->vbdf, &v) != 0) {
		diag_add(out, DIAG_ERROR, RULE_VBDF_SYNTAX, r->label, mb->vm_name, mb->vbdf_line,
			 "VBDF \"%s\" is not of the form BB:DD.F (hexadecimal bus 00..ff, "
			 "device 00..1f, function 0..7)", mb->vbdf);
		return;
	}
	if (vm == NULL)
		return;
	if (vm->load_order == VM_POST_LAUNCHED &&
	    (v.dev < VBDF_POST_DEV_MIN || v.dev > VBDF_POST_DEV_MAX))
		diag_add(out, DIAG_ERROR, RULE_VBDF_RANGE, r->label, mb->vm_name, mb->vbdf_line,
			 "VBDF %s: post-launched VMs may only use device numbers 0x03..0x1e "
			 "(acrn-dm keeps 0x00..0x02 and 0x1f for itself)", mb->vbdf);
	else if (vm->load_order != VM_POST_LAUNCHED && v.bus == 0 && v.dev == 0)
		diag_add(out, DIAG_ERROR, RULE_VBDF_HOSTBRIDGE, r->label, mb->vm_name,
			 mb->vbdf_line, "VBDF %s is the host bridge's device (00:00)", mb->vbdf);
}

static void check_members(const struct scen_model *m, const struct scen_region *r,
			  struct diag_list *out)
{
	enum provider p = provider_parse(r->provider);

	if (!r->has_vms)
		diag_add(out, DIAG_ERROR, RULE_VM_COUNT, r->label, NULL, r->line,
			 "the region has no <IVSHMEM_VMS>: it must be shared by two or more VMs");
	else if (r->members->len < 2)
		/* No count in the message: adding one VM to an empty region is no new error. */
		diag_add(out, DIAG_ERROR, RULE_VM_COUNT, r->label, NULL, r->line,
			 "the region lists fewer than two VMs; it must be shared by two or more");

	for (guint i = 0; i < r->members->len; i++) {
		const struct scen_member *mb = g_ptr_array_index(r->members, i);
		const struct scen_vm *vm;
	
		if (mb->vm_name == NULL || *mb->vm_name == '\0') {
			diag_add(out, DIAG_ERROR, RULE_VM_NAME, r->label, NULL, mb->line,
				 "an <IVSHMEM_VM> has no VM_NAME");
			check_member_vbdf(mb, NULL, out);
			continue;
		}
		for (guint j = 0; j < i; j++) {
			const struct scen_member *prev = g_ptr_array_index(r->members, j);

			if (g_strcmp0(prev->vm_name, mb->vm_name) == 0) {
				diag_add(out, DIAG_ERROR, RULE_VM_DUP, r->label, mb->vm_name,
					 mb->line, "the VM is listed twice in this region");
				diag_set_related_line(out, prev->line);
				break;
			}
		}
		vm = model_find_vm(m, mb->vm_name);
		if (vm == NULL) {
			char *names = vm_names(m);

			diag_add(out, DIAG_ERROR, RULE_VM_UNKNOWN, r->label, mb->vm_name, mb->line,
				 "the scenario has no VM of this name (its VMs: %s)", names);
			g_free(names);
		} else if (p == PROVIDER_DM && vm->load_order != VM_POST_LAUNCHED) {
			diag_add(out, DIAG_ERROR, RULE_DM_POST_ONLY, r->label, mb->vm_name, mb->line,
				 "a region provided by the Device Model can only serve "
				 "post-launched VMs, and this VM is %s",
				 vm->load_order_text ? vm->load_order_text
						     : load_order_name(vm->load_order));
		}
		check_member_vbdf(mb, vm, out);
	}
}

static void check_hv_count(const struct scen_model *m, struct diag_list *out)
{
	unsigned n = 0;

	for (guint i = 0; i < m->regions->len; i++) {
		const struct scen_region *r = g_ptr_array_index(m->regions, i);

		if (provider_parse(r->provider) != PROVIDER_HV)
			continue;
		if (++n > HV_REGIONS_MAX)
			diag_add(out, DIAG_ERROR, RULE_HV_REGION_COUNT, r->label, NULL, r->line,
				 "this is Hypervisor-provided region number %u; the hypervisor "
				 "provides at most %u", n, HV_REGIONS_MAX);
	}
}

/* A vBDF some device of a VM uses: an IVSHMEM_VM (member) or something else (other). */
struct vbdf_use {
	const char *vm;
	struct vbdf v;
	const struct scen_member *member;
	const struct scen_other_vbdf *other;
};

/* Every vBDF is unique within its VM, IVSHMEM devices and PCI vUARTs together. Each clash is
 * reported once, on the IVSHMEM device that comes later. */
static void check_vbdf_unique(const struct scen_model *m, struct diag_list *out)
{
	GArray *uses = g_array_new(FALSE, TRUE, sizeof(struct vbdf_use));

	for (guint i = 0; i < m->others->len; i++) {
		const struct scen_other_vbdf *o = g_ptr_array_index(m->others, i);
		struct vbdf_use u = { .vm = o->vm_name, .other = o };

		if (vbdf_parse(o->vbdf, &u.v) == 0)
			g_array_append_val(uses, u);
	}
	for (guint i = 0; i < m->regions->len; i++) {
		const struct scen_region *r = g_ptr_array_index(m->regions, i);

		for (guint j = 0; j < r->members->len; j++) {
			const struct scen_member *mb = g_ptr_array_index(r->members, j);
			struct vbdf_use u = { .vm = mb->vm_name, .member = mb };

			if (mb->vm_name != NULL && mb->vbdf != NULL &&
			    vbdf_parse(mb->vbdf, &u.v) == 0)
				g_array_append_val(uses, u);
		}
	}
	for (guint i = 0; i < uses->len; i++) {
		const struct vbdf_use *u = &g_array_index(uses, struct vbdf_use, i);
	
		if (u->member == NULL)
			continue;
		for (guint j = 0; j < i; j++) {
			const struct vbdf_use *p = &g_array_index(uses, struct vbdf_use, j);

			if (strcmp(p->vm, u->vm) != 0 || !vbdf_equal(&p->v, &u->v))
				continue;
			if (p->other != NULL) {
				diag_add(out, DIAG_ERROR, RULE_VBDF_CLASH, u->member->region->label,
					 u->vm, u->member->vbdf_line,
					 "VBDF %s is also used by %s", u->member->vbdf,
					 p->other->what);
				diag_set_related_line(out, p->other->line);
				break;
			}
			/* The same VM twice in one region is reported as such already. */
			if (p->member->region == u->member->region)
				continue;
			diag_add(out, DIAG_ERROR, RULE_VBDF_DUP, u->member->region->label, u->vm,
				 u->member->vbdf_line,
				 "VBDF %s is also used by this VM in region \"%s\"",
				 u->member->vbdf, p->member->region->label);
			diag_set_related_line(out, p->member->vbdf_line);
			break;
		}
	}
	g_array_free(uses, TRUE);
}

void rules_check(const struct scen_model *m, struct diag_list *out)
{
	GHashTable *names = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTable *ids = g_hash_table_new(g_direct_hash, g_direct_equal);

	for (guint i = 0; i < m->regions->len; i++) {
		const struct scen_region *r = g_ptr_array_index(m->regions, i);

		check_name(r, names, out);
		check_provider(r, out);
		check_size(r, out);
		check_region_id(r, ids, out);
		check_members(m, r, out);
	}
	check_hv_count(m, out);
	check_vbdf_unique(m, out);
	g_hash_table_destroy(names);
	g_hash_table_destroy(ids);
}
