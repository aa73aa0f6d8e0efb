/*
 * acrn-ivshmem-config on a hostile scenario file: the input is the file. It is loaded, checked,
 * generated from, and (each on a fresh load) edited the ways the tool offers: add a region, add a
 * VM to a region, remove one, remove a region, save (fill blank VBDFs); each result is serialised
 * and read back.
 *
 * Properties: nothing crashes or leaks; an unedited scenario serialises to exactly its bytes; an
 * edited one to a file that loads again; a scenario that checks clean generates acrn-dm device
 * options that acrn-dm's own parser accepts; a saved scenario has nothing left to fill.
 */
#include <string.h>

#include "diag.h"
#include "edit.h"
#include "fill.h"
#include "fuzz_util.h"
#include "generate.h"
#include "ivshmem_config.h"
#include "model.h"
#include "rules.h"
#include "scenario.h"

#define NAME "fuzz.xml"

static struct scenario_doc *load(const uint8_t *data, size_t size, struct scen_model **m)
{
	struct diag_list *diags = diag_list_new();
	struct scenario_doc *sd = scenario_load_buffer(NAME, (const char *)data, size, diags);

	if (!sd)
		FUZZ_CHECK(diag_count(diags, DIAG_ERROR) > 0, "refused without an error");
	diag_list_free(diags);
	*m = sd ? model_build(sd) : NULL;
	return sd;
}

/* The scenario as written now must load again. */
static void check_reloads(const struct scenario_doc *sd, const char *what)
{
	GString *s = scenario_serialize(sd);
	struct scen_model *m;
	struct scenario_doc *again = load((const uint8_t *)s->str, s->len, &m);

	FUZZ_CHECK(again, "after %s the scenario no longer loads:\n%s", what, s->str);
	struct diag_list *diags = diag_list_new();
	rules_check(m, diags);
	diag_list_free(diags);
	model_free(m);
	scenario_free(again);
	g_string_free(s, TRUE);
}

/* Every -s value generated for a clean scenario is one acrn-dm accepts. */
static void check_generated(const struct scen_model *m)
{
	struct diag_list *diags = diag_list_new();
	GPtrArray *vms = generate_launch(m, diags);

	for (guint i = 0; i < vms->len; i++) {
		const struct launch_vm *vm = g_ptr_array_index(vms, i);

		for (guint j = 0; j < vm->devices->len; j++) {
			const struct launch_device *d = g_ptr_array_index(vm->devices, j);
			const char *opts = strstr(d->arg, ",ivshmem,");
			struct ivshmem_config cfg;
			char err[256];

			FUZZ_CHECK(opts, "generated '%s'", d->arg);
			FUZZ_CHECK(ivshmem_parse_config(opts + 9, &cfg, err, sizeof(err)) == 0,
				   "generated -s %s, which acrn-dm refuses: %s", d->arg, err);
		}
	}
	g_ptr_array_free(vms, TRUE);
	diag_list_free(diags);
	g_free(generate_hv_header(m, NAME));
}

static const char *first_region(const struct scen_model *m)
{
	for (guint i = 0; i < m->regions->len; i++) {
		const struct scen_region *r = g_ptr_array_index(m->regions, i);

		if (r->name)
			return r->name;
	}
	return NULL;
}

enum edit { ADD_REGION, ADD_VM, REMOVE_VM, REMOVE_REGION, SAVE, NEDITS };
static const char *const edit_names[] = { "add-region", "add-vm", "remove-vm", "remove-region",
					  "save" };

static void edit(const uint8_t *data, size_t size, enum edit e)
{
	struct scen_model *m;
	struct scenario_doc *sd = load(data, size, &m);
	struct diag_list *diags = diag_list_new();
	const char *region = first_region(m);
	const struct scen_vm *vm0 = m->vms->len ? g_ptr_array_index(m->vms, 0) : NULL;
	const struct scen_vm *vm1 = m->vms->len > 1 ? g_ptr_array_index(m->vms, 1) : vm0;

	switch (e) {
	case ADD_REGION: {
		struct member_spec members[2] = {
			{ vm0 ? vm0->name : "VM0", "" },
			{ vm1 ? vm1->name : "VM1", "00:0f.0" },
		};
		struct region_spec spec = {
			.name = "fuzz_region", .provider = "Device Model", .size = "2",
			.region_id = "0x99", .members = members, .n_members = 2,
		};
		edit_add_region(sd, &spec);
		break;
	}
	case ADD_VM: {
		struct member_spec member = { vm1 ? vm1->name : "VM1", NULL };
		(void)edit_add_vm(sd, region ? region : "none", &member, diags);
		break;
	}
	case REMOVE_VM: {
		const struct scen_region *r = region ? model_find_region(m, region) : NULL;
		const struct scen_member *mb = r && r->members->len ?
						       g_ptr_array_index(r->members, 0) : NULL;
		(void)edit_remove_vm(sd, region ? region : "none",
				     mb && mb->vm_name ? mb->vm_name : "none", diags);
		break;
	}
	case REMOVE_REGION:
		(void)edit_remove_region(sd, region ? region : "none", diags);
		break;
	case SAVE: {
		GPtrArray *plan = fill_plan(m, diags);

		fill_apply(sd, plan);
		g_ptr_array_free(plan, TRUE);
		break;
	}
	case NEDITS:
		break;
	}
	check_reloads(sd, edit_names[e]);

	if (e == SAVE && diag_count(diags, DIAG_ERROR) == 0) {
		/* Saved: read back, there is nothing left to fill. */
		GString *s = scenario_serialize(sd);
		struct scen_model *m2;
		struct scenario_doc *sd2 = load((const uint8_t *)s->str, s->len, &m2);
		struct diag_list *d2 = diag_list_new();
		GPtrArray *plan = fill_plan(m2, d2);

		FUZZ_CHECK(plan->len == 0, "save left %u VBDFs to fill:\n%s", plan->len, s->str);
		g_ptr_array_free(plan, TRUE);
		diag_list_free(d2);
		model_free(m2);
		scenario_free(sd2);
		g_string_free(s, TRUE);
	}
	diag_list_free(diags);
	model_free(m);
	scenario_free(sd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scen_model *m;
	struct scenario_doc *sd = load(data, size, &m);

	if (!sd)
		return 0;
	GString *s = scenario_serialize(sd);
	FUZZ_CHECK(s->len == size && memcmp(s->str, data, size) == 0,
		   "an unedited scenario serialises to other bytes");
	g_string_free(s, TRUE);

	struct diag_list *diags = diag_list_new();
	rules_check(m, diags);
	if (diag_count(diags, DIAG_ERROR) == 0)
		check_generated(m);
	diag_list_free(diags);
	model_free(m);
	scenario_free(sd);

	for (int e = 0; e < NEDITS; e++)
		edit(data, size, (enum edit)e);
	return 0;
}
