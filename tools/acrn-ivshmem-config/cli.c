/* Command dispatch, option parsing, and the read-only commands: list, check, generate. */
#include "cli.h"

#include <string.h>

#include "cli_internal.h"
#include "generate.h"
#include "json.h"
#include "model.h"
#include "rules.h"
#include "scenario.h"
#include "values.h"

int cli_parse(const struct cmd *cmd, const char *params, const char *description,
	      GOptionEntry *entries, int *argc, char ***argv, FILE *out, FILE *err)
{
	gboolean help = FALSE;
	GOptionEntry help_entry[] = {
		{ "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new(params);
	GError *error = NULL;
	char *prgname = g_strdup_printf(PROG " %s", cmd->name);
	int rc = 0;

	/* GOption's own --help calls exit(); this code is a library, so it prints help itself. */
	g_set_prgname(prgname);
	g_option_context_set_help_enabled(ctx, FALSE);
	g_option_context_set_summary(ctx, cmd->summary);
	if (description != NULL)
		g_option_context_set_description(ctx, description);
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_add_main_entries(ctx, help_entry, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		fprintf(err, "%s: %s\nRun '%s --help' for its options.\n", prgname,
			error->message, prgname);
		g_error_free(error);
		rc = -1;
	} else if (help) {
		char *text = g_option_context_get_help(ctx, TRUE, NULL);

		fputs(text, out);
		g_free(text);
		rc = 1;
	}
	g_option_context_free(ctx);
	g_free(prgname);
	return rc;
}

int cli_usage_error(const struct cmd *cmd, FILE *err, const char *fmt, ...)
{
	va_list ap;

	fprintf(err, PROG " %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fprintf(err, "\nRun '" PROG " %s --help' for its options.\n", cmd->name);
	return CLI_USAGE;
}

void cli_report(const struct diag_list *diags, const char *file, bool json, FILE *out,
		FILE *plain_to)
{
	if (json) {
		GString *s = g_string_new("{\"file\":");

		json_append_string(s, file);
		g_string_append_printf(s, ",\"errors\":%zu,\"warnings\":%zu,\"diagnostics\":",
				       diag_count(diags, DIAG_ERROR),
				       diag_count(diags, DIAG_WARNING));
		diag_append_json(s, diags);
		g_string_append(s, "}\n");
		fputs(s->str, out);
		g_string_free(s, TRUE);
	} else {
		diag_print(diags, file, plain_to);
	}
}

/* Loads path and builds its model, or reports why not (in the form asked for). */
static struct scenario_doc *load(const char *path, struct scen_model **m, bool json, FILE *out,
				 FILE *err)
{
	struct diag_list *diags = diag_list_new();
	struct scenario_doc *sd = scenario_load(path, diags);

	if (sd == NULL)
		cli_report(diags, path, json, out, err);
	else
		*m = model_build(sd);
	diag_list_free(diags);
	return sd;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void list_plain(const struct scen_model *m, FILE *out)
{
	for (guint i = 0; i < m->regions->len; i++) {
		const struct scen_region *r = g_ptr_array_index(m->regions, i);

		fprintf(out, "region\t%s\t%s\t%s\t%s\n", or_dash(r->name),
			r->provider && *r->provider ? r->provider : PROVIDER_HV_TEXT,
			or_dash(r->size), r->region_id && *r->region_id ? r->region_id : "0");
		for (guint j = 0; j < r->members->len; j++) {
			const struct scen_member *mb = g_ptr_array_index(r->members, j);
			const struct scen_vm *vm = model_find_vm(m, mb->vm_name);

			fprintf(out, "vm\t%s\t%s\t%s\t%s\n", or_dash(r->name), or_dash(mb->vm_name),
				or_dash(mb->vbdf), vm ? load_order_name(vm->load_order) : "-");
		}
	}
}

/* A number when the text is a valid one, else the text as a string (list shows bad files). */
static void json_number_or_string(GString *s, const char *text, bool valid, unsigned value)
{
	if (valid)
		g_string_append_printf(s, "%u", value);
	else
		json_append_string(s, text);
}

static void list_json(const struct scen_model *m, const char *path, FILE *out)
{
	GString *s = g_string_new("{\"file\":");

	json_append_string(s, path);
	g_string_append(s, ",\"regions\":[");
	for (guint i = 0; i < m->regions->len; i++) {
		const struct scen_region *r = g_ptr_array_index(m->regions, i);
		unsigned size = 0, id = 0;
		bool size_ok = region_size_parse(r->size, &size) == 0;
		bool id_ok = region_id_parse(r->region_id, &id) == 0;

		g_string_append(s, i ? ",{\"name\":" : "{\"name\":");
		json_append_string(s, r->name);
		g_string_append(s, ",\"provider\":");
		json_append_string(s, r->provider && *r->provider ? r->provider : PROVIDER_HV_TEXT);
		g_string_append(s, ",\"size_mb\":");
		json_number_or_string(s, r->size, size_ok, size);
		g_string_append(s, ",\"region_id\":");
		json_number_or_string(s, r->region_id, id_ok, id);
		g_string_append(s, ",\"line\":");
		json_append_line(s, r->line);
		g_string_append(s, ",\"vms\":[");
		for (guint j = 0; j < r->members->len; j++) {
			const struct scen_member *mb = g_ptr_array_index(r->members, j);
			const struct scen_vm *vm = model_find_vm(m, mb->vm_name);

			g_string_append(s, j ? ",{\"name\":" : "{\"name\":");
			json_append_string(s, mb->vm_name);
			g_string_append(s, ",\"vbdf\":");
			json_append_string(s, mb->vbdf && *mb->vbdf ? mb->vbdf : NULL);
			g_string_append(s, ",\"load_order\":");
			json_append_string(s, vm ? load_order_name(vm->load_order) : NULL);
			g_string_append(s, ",\"line\":");
			json_append_line(s, mb->line);
			g_string_append_c(s, '}');
		}
		g_string_append(s, "]}");
	}
	g_string_append(s, "]}\n");
	fputs(s->str, out);
	g_string_free(s, TRUE);
}

static int cmd_list(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON instead of lines", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	const char *desc =
		"Plain output, one tab-separated line per region and per VM of a region:\n"
		"  region  NAME  PROVIDER  SIZE_MB  REGION_ID\n"
		"  vm      REGION  VM  VBDF  LOAD_ORDER\n"
		"A value the file leaves blank or out is written '-'.";
	struct scenario_doc *sd;
	struct scen_model *m = NULL;
	int rc = cli_parse(cmd, "SCENARIO.xml", desc, entries, &argc, &argv, out, err);

	if (rc != 0)
		return rc > 0 ? CLI_OK : CLI_USAGE;
	if (argc != 2)
		return cli_usage_error(cmd, err, "expected one scenario file");
	sd = load(argv[1], &m, json, out, err);
	if (sd == NULL)
		return CLI_FAILED;
	if (json)
		list_json(m, argv[1], out);
	else
		list_plain(m, out);
	model_free(m);
	scenario_free(sd);
	return CLI_OK;
}

static int cmd_check(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON instead of lines", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	const char *desc =
		"Prints one line per problem, FILE:LINE: error|warning: region \"R\", VM \"V\": "
		"what is wrong [rule],\nnothing when the section is correct. Exits 1 when there "
		"is an error.";
	struct diag_list *diags;
	struct scenario_doc *sd;
	struct scen_model *m = NULL;
	size_t errors;
	int rc = cli_parse(cmd, "SCENARIO.xml", desc, entries, &argc, &argv, out, err);

	if (rc != 0)
		return rc > 0 ? CLI_OK : CLI_USAGE;
	if (argc != 2)
		return cli_usage_error(cmd, err, "expected one scenario file");
	sd = load(argv[1], &m, json, out, err);
	if (sd == NULL)
		return CLI_FAILED;
	diags = diag_list_new();
	rules_check(m, diags);
	diag_sort(diags);
	cli_report(diags, argv[1], json, out, out);
	errors = diag_count(diags, DIAG_ERROR);
	if (!json)
		fprintf(err, "%s: %zu error%s, %zu warning%s in %u IVSHMEM region%s\n", argv[1],
			errors, errors == 1 ? "" : "s", diag_count(diags, DIAG_WARNING),
			diag_count(diags, DIAG_WARNING) == 1 ? "" : "s", m->regions->len,
			m->regions->len == 1 ? "" : "s");
	diag_list_free(diags);
	model_free(m);
	scenario_free(sd);
	return errors ? CLI_FAILED : CLI_OK;
}

static void launch_plain(const GPtrArray *vms, bool one_vm, bool hostbridge, FILE *out)
{
	for (guint i = 0; i < vms->len; i++) {
		const struct launch_vm *lv = g_ptr_array_index(vms, i);

		if (!one_vm && lv->devices->len == 0)
			continue;
		if (!one_vm)
			fprintf(out, "# %s\n", lv->name);
		if (hostbridge)
			fprintf(out, "-s " LAUNCH_HOSTBRIDGE_ARG "\n");
		for (guint j = 0; j < lv->devices->len; j++) {
			const struct launch_device *d = g_ptr_array_index(lv->devices, j);

			fprintf(out, "-s %s\n", d->arg);
		}
	}
}

static void launch_json(const GPtrArray *vms, const char *path, bool hostbridge, FILE *out)
{
	GString *s = g_string_new("{\"file\":");

	json_append_string(s, path);
	g_string_append(s, ",\"vms\":[");
	for (guint i = 0; i < vms->len; i++) {
		const struct launch_vm *lv = g_ptr_array_index(vms, i);

		g_string_append(s, i ? ",{\"name\":" : "{\"name\":");
		json_append_string(s, lv->name);
		g_string_append(s, ",\"id\":");
		json_append_string(s, lv->id);
		g_string_append(s, ",\"args\":[");
		if (hostbridge)
			g_string_append(s, "\"-s\",\"" LAUNCH_HOSTBRIDGE_ARG "\"");
		for (guint j = 0; j < lv->devices->len; j++) {
			const struct launch_device *d = g_ptr_array_index(lv->devices, j);

			g_string_append(s, hostbridge || j ? ",\"-s\"," : "\"-s\",");
			json_append_string(s, d->arg);
		}
		g_string_append(s, "],\"devices\":[");
		for (guint j = 0; j < lv->devices->len; j++) {
			const struct launch_device *d = g_ptr_array_index(lv->devices, j);

			g_string_append(s, j ? ",{\"region\":" : "{\"region\":");
			json_append_string(s, d->region);
			g_string_append(s, ",\"provider\":");
			json_append_string(s, d->provider == PROVIDER_DM ? PROVIDER_DM_TEXT
									  : PROVIDER_HV_TEXT);
			g_string_append(s, ",\"vbdf\":");
			json_append_string(s, d->vbdf);
			g_string_append_printf(s, ",\"vbdf_filled\":%s,\"arg\":",
					       d->filled ? "true" : "false");
			json_append_string(s, d->arg);
			g_string_append_c(s, '}');
		}
		g_string_append(s, "]}");
	}
	g_string_append(s, "]}\n");
	fputs(s->str, out);
	g_string_free(s, TRUE);
}

/* Keeps only the VM asked for; an error when it is not a post-launched VM of the scenario. */
static int select_vm(const struct scen_model *m, GPtrArray *vms, const char *name, FILE *err,
		     const char *path)
{
	const struct scen_vm *vm = model_find_vm(m, name);

	if (vm == NULL || vm->load_order != VM_POST_LAUNCHED) {
		fprintf(err, "%s: VM \"%s\": %s\n", path, name,
			vm == NULL ? "the scenario has no VM of this name"
				   : "not a post-launched VM: only those have launch scripts");
		return -1;
	}
	for (guint i = vms->len; i-- > 0;) {
		const struct launch_vm *lv = g_ptr_array_index(vms, i);

		if (strcmp(lv->name, name) != 0)
			g_ptr_array_remove_index(vms, i);
	}
	return 0;
}

static int generate_launch_output(const struct scen_model *m, const char *path, const char *vm,
				  bool json, bool hostbridge, FILE *out, FILE *err)
{
	struct diag_list *diags = diag_list_new();
	GPtrArray *vms = generate_launch(m, diags);
	int rc = CLI_OK;

	diag_print(diags, path, err);
	if (diag_count(diags, DIAG_ERROR) > 0)
		rc = CLI_FAILED;
	else if (vm != NULL && select_vm(m, vms, vm, err, path) != 0)
		rc = CLI_FAILED;
	else if (json)
		launch_json(vms, path, hostbridge, out);
	else
		launch_plain(vms, vm != NULL, hostbridge, out);
	g_ptr_array_free(vms, TRUE);
	diag_list_free(diags);
	return rc;
}

static int generate_header_output(const struct scen_model *m, const char *path,
				  const char *output, FILE *out, FILE *err)
{
	char *base = g_path_get_basename(path);
	char *text = generate_hv_header(m, base);
	GError *error = NULL;
	int rc = CLI_OK;

	if (output == NULL)
		fputs(text, out);
	else if (!g_file_set_contents(output, text, -1, &error)) {
		/* g_file_set_contents writes a temporary file and renames it, as scenarios are. */
		fprintf(err, "%s\n", error->message);
		g_error_free(error);
		rc = CLI_FAILED;
	}
	g_free(text);
	g_free(base);
	return rc;
}

static int cmd_generate(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err)
{
	gboolean json = FALSE, no_hostbridge = FALSE;
	char *vm = NULL, *output = NULL;
	GOptionEntry entries[] = {
		{ "vm", 0, 0, G_OPTION_ARG_STRING, &vm,
		  "launch: only this VM, without the '# VM' line", "NAME" },
		{ "no-hostbridge", 0, 0, G_OPTION_ARG_NONE, &no_hostbridge,
		  "launch: leave out the host bridge the ivshmem devices follow", NULL },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "launch: print JSON", NULL },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
		  "header: write to FILE instead of standard output", "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	const char *desc =
		"launch: for each post-launched VM sharing a region, a '# VM' line, then the acrn-dm\n"
		"  arguments in launch-script order: the host bridge, then one ivshmem device per\n"
		"  region, Device Model regions first:\n"
		"    -s 0:0,hostbridge\n"
		"    -s 8,ivshmem,dm:/shm_region_0,2,0\n"
		"header: the hypervisor's ivshmem_cfg.h (IVSHMEM_SHM_REGION_<n>, IVSHMEM_DEV_NUM,\n"
		"  IVSHMEM_SHM_SIZE, IVSHMEM_SHM_REGIONS) for the Hypervisor-provided regions.\n"
		"The scenario must pass check; a blank VBDF is given what save would write.";
	struct diag_list *diags;
	struct scenario_doc *sd;
	struct scen_model *m = NULL;
	int rc = cli_parse(cmd, "launch|header SCENARIO.xml", desc, entries, &argc, &argv, out,
			   err);

	if (rc != 0) {
		rc = rc > 0 ? CLI_OK : CLI_USAGE;
		goto out;
	}
	if (argc != 3 || (strcmp(argv[1], "launch") != 0 && strcmp(argv[1], "header") != 0)) {
		rc = cli_usage_error(cmd, err, "expected 'launch' or 'header', then one scenario file");
		goto out;
	}
	sd = load(argv[2], &m, false, out, err);
	if (sd == NULL) {
		rc = CLI_FAILED;
		goto out;
	}
	diags = diag_list_new();
	rules_check(m, diags);
	if (diag_count(diags, DIAG_ERROR) > 0) {
		diag_sort(diags);
		diag_print(diags, argv[2], err);
		fprintf(err, "%s: nothing generated: fix the errors above first\n", argv[2]);
		rc = CLI_FAILED;
	} else if (strcmp(argv[1], "launch") == 0) {
		rc = generate_launch_output(m, argv[2], vm, json, !no_hostbridge, out, err);
	} else {
		rc = generate_header_output(m, argv[2], output, out, err);
	}
	diag_list_free(diags);
	model_free(m);
	scenario_free(sd);
out:
	g_free(vm);
	g_free(output);
	return rc;
}

static const struct cmd commands[] = {
	{ "list", "List the IVSHMEM regions and the VMs sharing them.", cmd_list },
	{ "check", "Check the IVSHMEM section against ACRN's rules.", cmd_check },
	{ "add-region", "Add a region shared by two or more VMs.", cmd_add_region },
	{ "add-vm", "Add a VM to a region.", cmd_add_vm },
	{ "remove-vm", "Remove a VM from a region.", cmd_remove_vm },
	{ "remove-region", "Remove a region.", cmd_remove_region },
	{ "save", "Fill in every blank VBDF and write the scenario.", cmd_save },
	{ "generate", "Print acrn-dm arguments (launch) or the hypervisor header (header).",
	  cmd_generate },
};

static void usage(FILE *to)
{
	fprintf(to, "Usage: " PROG " COMMAND [OPTION...] SCENARIO.xml\n\n"
		    "Edits and checks the IVSHMEM section of an ACRN scenario file, and generates\n"
		    "what the launch scripts and the hypervisor need from it.\n\nCommands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(to, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fprintf(to, "\nRun '" PROG " COMMAND --help' for the options of a command.\n");
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	char **args;
	int rc;

	if (name == NULL) {
		usage(err);
		return CLI_USAGE;
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			/* "help COMMAND" is "COMMAND --help". */
			char *sub[] = { argv[0], argv[2], (char *)"--help", NULL };

			return cli_main(3, sub, out, err);
		}
		usage(out);
		return CLI_OK;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (strcmp(name, commands[i].name) != 0)
			continue;
		/* GOption reorders the array it parses: give it a copy of the pointers. */
		args = g_new0(char *, (size_t)argc);
		memcpy(args, argv + 1, sizeof(char *) * (size_t)(argc - 1));
		rc = commands[i].run(&commands[i], argc - 1, args, out, err);
		g_free(args);
		return rc;
	}
	fprintf(err, PROG ": unknown command '%s'\n", name);
	usage(err);
	return CLI_USAGE;
}
