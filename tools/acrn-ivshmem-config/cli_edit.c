/*
 * The commands that change a scenario: add-region, add-vm, remove-vm, remove-region, save.
 * Each loads, edits the tree, checks the result and writes it only when the edit brought in no
 * error the file did not already have; the file is never left half written.
 */
#include <string.h>

#include "cli.h"
#include "cli_internal.h"
#include "edit.h"
#include "fill.h"
#include "json.h"
#include "model.h"
#include "rules.h"
#include "scenario.h"
#include "values.h"

/* One thing an edit did, printed as "VERB<TAB>REGION<TAB>VM<TAB>VBDF" or as a JSON object. */
struct action {
	const char *verb;
	char *region, *vm, *vbdf;
};

static void action_free(gpointer p)
{
	struct action *a = p;

	g_free(a->region);
	g_free(a->vm);
	g_free(a->vbdf);
	g_free(a);
}

static void add_action(GPtrArray *actions, const char *verb, const char *region, const char *vm,
		       const char *vbdf)
{
	struct action *a = g_new0(struct action, 1);

	a->verb = verb;
	a->region = g_strdup(region);
	a->vm = g_strdup(vm);
	a->vbdf = g_strdup(vbdf && *vbdf ? vbdf : NULL);
	g_ptr_array_add(actions, a);
}

/* An edit: changes sd (whose model, before the edit, is m) and says what it did. */
typedef int (*edit_fn)(struct scenario_doc *sd, const struct scen_model *m, const void *arg,
		       GPtrArray *actions, struct diag_list *diags);

struct edit_opts {
	gboolean json;
	char *output;
};

static void print_done(const char *file, bool changed, const GPtrArray *actions,
		       const struct diag_list *warnings, bool json, FILE *out, FILE *err)
{
	GString *s;

	if (!json) {
		for (guint i = 0; i < actions->len; i++) {
			const struct action *a = g_ptr_array_index(actions, i);

			fprintf(out, "%s\t%s\t%s\t%s\n", a->verb, a->region ? a->region : "-",
				a->vm ? a->vm : "-", a->vbdf ? a->vbdf : "-");
		}
		diag_print(warnings, file, err);
		if (!changed)
			fprintf(err, "%s: nothing to change\n", file);
		return;
	}
	s = g_string_new("{\"file\":");
	json_append_string(s, file);
	g_string_append_printf(s, ",\"changed\":%s,\"actions\":[", changed ? "true" : "false");
	for (guint i = 0; i < actions->len; i++) {
		const struct action *a = g_ptr_array_index(actions, i);

		g_string_append(s, i ? ",{\"action\":" : "{\"action\":");
		json_append_string(s, a->verb);
		g_string_append(s, ",\"region\":");
		json_append_string(s, a->region);
		g_string_append(s, ",\"vm\":");
		json_append_string(s, a->vm);
		g_string_append(s, ",\"vbdf\":");
		json_append_string(s, a->vbdf);
		g_string_append_c(s, '}');
	}
	g_string_append(s, "],\"diagnostics\":");
	diag_append_json(s, warnings);
	g_string_append(s, "}\n");
	fputs(s->str, out);
	g_string_free(s, TRUE);
}

static int run_edit(const char *path, const struct edit_opts *o, edit_fn fn, const void *arg,
		    FILE *out, FILE *err)
{
	struct diag_list *diags = diag_list_new(), *before = diag_list_new();
	struct diag_list *after = diag_list_new(), *fresh = NULL;
	GPtrArray *actions = g_ptr_array_new_with_free_func(action_free);
	struct scenario_doc *sd = scenario_load(path, diags);
	const char *target = o->output ? o->output : path;
	struct scen_model *m = NULL;
	GError *error = NULL;
	int rc = CLI_FAILED;
	bool write;

	if (sd == NULL)
		goto report;
	m = model_build(sd);
	rules_check(m, before);
	if (fn(sd, m, arg, actions, diags) != 0)
		goto report;
	model_free(m);
	m = model_build(sd);
	rules_check(m, after);
	fresh = diag_new_errors(before, after);
	if (fresh->items->len > 0) {
		diag_sort(fresh);
		cli_report(fresh, path, o->json, out, err);
		fprintf(err, "%s: not changed: the edit would bring in the error%s above\n", path,
			fresh->items->len == 1 ? "" : "s");
		goto out;
	}
	/* In place, an unchanged file is not rewritten; elsewhere it is copied as it is. */
	write = scenario_modified(sd) || o->output != NULL;
	if (write && scenario_write(sd, target, &error) != 0) {
		fprintf(err, "%s\n", error->message);
		g_error_free(error);
		goto out;
	}
	for (guint i = after->items->len; i-- > 0;) {
		const struct diag *d = g_ptr_array_index(after->items, i);

		if (d->severity != DIAG_WARNING)
			g_ptr_array_remove_index(after->items, i);
	}
	diag_sort(after);
	print_done(target, scenario_modified(sd), actions, after, o->json, out, err);
	rc = CLI_OK;
	goto out;
report:
	diag_sort(diags);
	cli_report(diags, path, o->json, out, err);
out:
	g_ptr_array_free(actions, TRUE);
	diag_list_free(fresh);
	diag_list_free(after);
	diag_list_free(before);
	diag_list_free(diags);
	model_free(m);
	scenario_free(sd);
	return rc;
}

#define EDIT_ENTRIES(o)                                                                          \
	{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &(o).output,                                  \
	  "Write the result to FILE, leaving SCENARIO.xml as it is", "FILE" },                   \
	{ "json", 0, 0, G_OPTION_ARG_NONE, &(o).json, "Print JSON instead of lines", NULL }

static const char edit_desc[] =
	"On success prints what it did, one tab-separated line per action:\n"
	"  ACTION  REGION  VM  VBDF        ('-' for what does not apply or is blank)\n"
	"The scenario is written only when the edit brings in no error it did not have, through\n"
	"a temporary file renamed over it. A blank VBDF is filled in by 'save'.";

static int finish_parse(const struct cmd *cmd, int rc, int argc, FILE *err)
{
	if (rc != 0)
		return rc > 0 ? CLI_OK : CLI_USAGE;
	if (argc != 2)
		return cli_usage_error(cmd, err, "expected one scenario file");
	return -1;
}

/* add-region */

static int do_add_region(struct scenario_doc *sd, const struct scen_model *m, const void *arg,
			 GPtrArray *actions, struct diag_list *diags)
{
	const struct region_spec *spec = arg;

	(void)m;
	(void)diags;
	edit_add_region(sd, spec);
	add_action(actions, "added-region", spec->name, NULL, NULL);
	for (size_t i = 0; i < spec->n_members; i++)
		add_action(actions, "added-vm", spec->name, spec->members[i].vm,
			   spec->members[i].vbdf);
	return 0;
}

int cmd_add_region(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err)
{
	struct edit_opts o = { 0 };
	char *name = NULL, *provider = NULL, *size = NULL, *id = NULL;
	char **vms = NULL;
	GOptionEntry entries[] = {
		{ "name", 'n', 0, G_OPTION_ARG_STRING, &name, "Region name (required)", "NAME" },
		{ "provider", 'p', 0, G_OPTION_ARG_STRING, &provider,
		  "hv (Hypervisor, the default) or dm (Device Model)", "hv|dm" },
		{ "size", 's', 0, G_OPTION_ARG_STRING, &size,
		  "Size in MB: 2, 4, 8, ..., 512 (required)", "MB" },
		{ "id", 'i', 0, G_OPTION_ARG_STRING, &id,
		  "Region id, the device's PCI subsystem ID (default: none, meaning 0)", "ID" },
		{ "vm", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &vms,
		  "A VM sharing the region, with its VBDF or blank; twice or more", "VM[=BB:DD.F]" },
		EDIT_ENTRIES(o),
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	struct member_spec *members = NULL;
	struct region_spec spec = { 0 };
	int rc = cli_parse(cmd, "SCENARIO.xml", edit_desc, entries, &argc, &argv, out, err);

	if ((rc = finish_parse(cmd, rc, argc, err)) >= 0)
		goto out;
	if (name == NULL || size == NULL) {
		rc = cli_usage_error(cmd, err, "--name and --size are required");
		goto out;
	}
	spec.provider = provider_from_user(provider ? provider : "hv");
	if (spec.provider == NULL) {
		rc = cli_usage_error(cmd, err, "--provider \"%s\": expected hv or dm", provider);
		goto out;
	}
	spec.name = name;
	spec.size = size;
	spec.region_id = id;
	spec.n_members = vms ? g_strv_length(vms) : 0;
	members = g_new0(struct member_spec, spec.n_members + 1);
	for (size_t i = 0; i < spec.n_members; i++)
		members[i] = member_spec_parse(vms[i]);
	spec.members = members;
	rc = run_edit(argv[1], &o, do_add_region, &spec, out, err);
out:
	g_free(members);
	g_strfreev(vms);
	g_free(name);
	g_free(provider);
	g_free(size);
	g_free(id);
	g_free(o.output);
	return rc;
}

/* add-vm and remove-vm */

struct vm_edit {
	const char *region;
	char **vms;
};

static int do_add_vm(struct scenario_doc *sd, const struct scen_model *m, const void *arg,
		     GPtrArray *actions, struct diag_list *diags)
{
	const struct vm_edit *e = arg;

	(void)m;
	for (char **v = e->vms; *v != NULL; v++) {
		struct member_spec spec = member_spec_parse(*v);

		if (edit_add_vm(sd, e->region, &spec, diags) != 0)
			return -1;
		add_action(actions, "added-vm", e->region, spec.vm, spec.vbdf);
	}
	return 0;
}

static int do_remove_vm(struct scenario_doc *sd, const struct scen_model *m, const void *arg,
			GPtrArray *actions, struct diag_list *diags)
{
	const struct vm_edit *e = arg;
	int rc = 0;

	(void)m;
	/* Each VM is looked for even after one is missing, so that all are reported. */
	for (char **v = e->vms; *v != NULL; v++) {
		if (edit_remove_vm(sd, e->region, *v, diags) != 0)
			rc = -1;
		else
			add_action(actions, "removed-vm", e->region, *v, NULL);
	}
	return rc;
}

static int vm_command(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err,
		      edit_fn fn, const char *vm_help, const char *vm_arg)
{
	struct edit_opts o = { 0 };
	char *region = NULL;
	char **vms = NULL;
	GOptionEntry entries[] = {
		{ "region", 'r', 0, G_OPTION_ARG_STRING, &region, "The region (required)", "NAME" },
		{ "vm", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &vms, vm_help, vm_arg },
		EDIT_ENTRIES(o),
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	int rc = cli_parse(cmd, "SCENARIO.xml", edit_desc, entries, &argc, &argv, out, err);

	if ((rc = finish_parse(cmd, rc, argc, err)) >= 0)
		goto out;
	if (region == NULL || vms == NULL) {
		rc = cli_usage_error(cmd, err, "--region and --vm are required");
		goto out;
	}
	rc = run_edit(argv[1], &o, fn, &(struct vm_edit){ .region = region, .vms = vms }, out,
		      err);
out:
	g_strfreev(vms);
	g_free(region);
	g_free(o.output);
	return rc;
}

int cmd_add_vm(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err)
{
	return vm_command(cmd, argc, argv, out, err, do_add_vm,
			  "The VM to add, with its VBDF or blank; may be repeated (required)",
			  "VM[=BB:DD.F]");
}

int cmd_remove_vm(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err)
{
	return vm_command(cmd, argc, argv, out, err, do_remove_vm,
			  "The VM to remove; may be repeated (required)", "VM");
}

/* remove-region */

static int do_remove_region(struct scenario_doc *sd, const struct scen_model *m,
			    const void *arg, GPtrArray *actions, struct diag_list *diags)
{
	const char *region = arg;

	(void)m;
	if (edit_remove_region(sd, region, diags) != 0)
		return -1;
	add_action(actions, "removed-region", region, NULL, NULL);
	return 0;
}

int cmd_remove_region(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err)
{
	struct edit_opts o = { 0 };
	char *region = NULL;
	GOptionEntry entries[] = {
		{ "region", 'r', 0, G_OPTION_ARG_STRING, &region, "The region (required)", "NAME" },
		EDIT_ENTRIES(o),
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	int rc = cli_parse(cmd, "SCENARIO.xml", edit_desc, entries, &argc, &argv, out, err);

	if ((rc = finish_parse(cmd, rc, argc, err)) >= 0)
		goto out;
	if (region == NULL) {
		rc = cli_usage_error(cmd, err, "--region is required");
		goto out;
	}
	rc = run_edit(argv[1], &o, do_remove_region, region, out, err);
out:
	g_free(region);
	g_free(o.output);
	return rc;
}

/* save */

static int do_save(struct scenario_doc *sd, const struct scen_model *m, const void *arg,
		   GPtrArray *actions, struct diag_list *diags)
{
	GPtrArray *plan = fill_plan(m, diags);
	int rc = diag_count(diags, DIAG_ERROR) ? -1 : 0;

	(void)arg;
	if (rc == 0) {
		for (guint i = 0; i < plan->len; i++) {
			const struct vbdf_fill *f = g_ptr_array_index(plan, i);
			char text[VBDF_STRLEN];

			vbdf_format(&f->vbdf, text);
			add_action(actions, "filled-vbdf", f->member->region->name,
				   f->member->vm_name, text);
		}
		fill_apply(sd, plan);
	}
	g_ptr_array_free(plan, TRUE);
	return rc;
}

int cmd_save(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err)
{
	struct edit_opts o = { 0 };
	GOptionEntry entries[] = {
		EDIT_ENTRIES(o),
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	const char *desc =
		"Gives every blank VBDF the first device number, from 00:08.0 up (then down from\n"
		"00:07.0), that the VM uses nowhere else: in no region and in no PCI vUART.\n"
		"Regions and VMs are taken in file order, so the same file always gets the same\n"
		"VBDFs. Prints one line per VBDF filled in: filled-vbdf  REGION  VM  VBDF.\n"
		"Everything else in the file is written back byte for byte.";
	int rc = cli_parse(cmd, "SCENARIO.xml", desc, entries, &argc, &argv, out, err);

	if ((rc = finish_parse(cmd, rc, argc, err)) < 0)
		rc = run_edit(argv[1], &o, do_save, NULL, out, err);
	g_free(o.output);
	return rc;
}
