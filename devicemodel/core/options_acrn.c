/*
 * ACRN's options that mean nothing to this device model, and ACRN's devices it does not emulate.
 *
 * Every option ACRN documents or its configurator emits is read with ACRN's syntax, so a typo is
 * still an error naming the option. Those without an effect here leave one line in cfg->notes
 * that says why (main.c prints them as warnings). Devices and boot firmware outside this project
 * go to cfg->unsupported: one message names them all and the run stops, unless --dry-run
 * --ignore-unsupported asked for the rest of the line to be checked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options_priv.h"

/* Returns NULL when value has ACRN's form, else what is wrong with it. */
typedef const char *(*acrn_check_fn)(const char *value);

struct acrn_option {
	const char *long_name;
	char short_name;
	bool takes_arg;
	acrn_check_fn check;
	const char *arg_description;
	const char *effect;	/* the note (and --help): why it has no effect here */
};

static const char *check_nonempty(const char *value)
{
	return *value ? NULL : "empty argument";
}

/* A number as ACRN's strtoul(..., 0) reads it, without its leniency about what follows. */
static bool parse_number(const char *text, unsigned long long *out)
{
	if (!g_ascii_isdigit(text[0]))
		return false;
	char *end;
	guint64 v;
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		v = g_ascii_strtoull(text + 2, &end, 16);
	else
		v = g_ascii_strtoull(text, &end, 10);
	if (*end != '\0' || end == text)
		return false;
	*out = v;
	return true;
}

/* --virtio_poll <ns>: ACRN limits the interval to 1 us .. 10 ms. */
static const char *check_virtio_poll(const char *value)
{
	unsigned long long ns;
	if (!parse_number(value, &ns))
		return "expected the poll interval in nanoseconds";
	if (ns < 1 || ns > 10000000)
		return "the poll interval must be 1 to 10000000 ns (ACRN's range)";
	return NULL;
}

/* --intr_monitor threshold,probe_period,delay_time,delay_duration: four decimal numbers. */
static const char *check_intr_monitor(const char *value)
{
	const char *p = value;
	for (int i = 0; i < 4; i++) {
		size_t len = strcspn(p, ",");
		unsigned long v;
		if (!opt_parse_decimal(p, len, 0xffffffffUL, &v))
			return "expected threshold,probe_period,delay_time,delay_duration "
			       "(four numbers, as 10000,10,1,100)";
		p += len;
		if (i < 3) {
			if (*p != ',')
				return "expected four comma-separated numbers, as 10000,10,1,100";
			p++;
		}
	}
	return *p ? "more than four numbers (threshold,probe_period,delay_time,delay_duration)"
		  : NULL;
}

/* --pm_notify_channel ioc | power_button | uart[,allow_trigger_s5] */
static const char *check_pm_channel(const char *value)
{
	static const char *const forms[] = { "ioc", "power_button", "uart",
					     "uart,allow_trigger_s5" };
	for (size_t i = 0; i < G_N_ELEMENTS(forms); i++)
		if (strcmp(value, forms[i]) == 0)
			return NULL;
	return "expected ioc, power_button, uart or uart,allow_trigger_s5";
}

/* --pm_by_vuart pty,<node> | tty,<node> (ACRN 2's form; ACRN 3 ignores the option). */
static const char *check_pm_by_vuart(const char *value)
{
	if ((strncmp(value, "pty,", 4) == 0 || strncmp(value, "tty,", 4) == 0) && value[4])
		return NULL;
	return "expected pty,<node> or tty,<node>";
}

/* --vtpm2 sock_path=<swtpm socket> */
static const char *check_vtpm2(const char *value)
{
	if (strncmp(value, "sock_path=", 10) == 0 && value[10])
		return NULL;
	return "expected sock_path=<path of the swtpm socket>";
}

#define NO_VIRTIO "this device model has no virtio devices"
#define OBSOLETE "obsolete, and ignored by ACRN 3 as well"

static const struct acrn_option acrn_options[] = {
	{ "acpi", 'A', false, NULL, NULL,
	  OBSOLETE " (ACRN always builds ACPI tables); this device model builds none" },
	{ "mptgen", 'Y', false, NULL, NULL,
	  OBSOLETE "; this device model builds no MP table" },
	{ "ioc_node", 'i', true, NULL, "<ioc_path>,<wakeup_reason>",
	  OBSOLETE " (the IO controller mediator)" },
	{ "gvtargs", 'G', true, NULL, "<gvt_args>", OBSOLETE " (GVT-g graphics)" },
	{ "vsbl", 0, true, NULL, "<vsbl_file>", OBSOLETE " (the virtual Slim Bootloader)" },
	{ "part_info", 0, true, NULL, "<part_info_file>", OBSOLETE " (guest partition info)" },
	{ "mac_seed", 0, true, NULL, "<seed>",
	  OBSOLETE " (virtio-net takes mac_seed= now); " NO_VIRTIO },
	{ "virtio_msix", 'W', false, NULL, NULL, "ACRN 2's single-vector MSI for virtio; " NO_VIRTIO },
	{ "virtio_msi", 0, false, NULL, NULL, "single-vector MSI for virtio; " NO_VIRTIO },
	{ "virtio_poll", 0, true, check_virtio_poll, "<interval_ns>",
	  "virtio poll mode; " NO_VIRTIO " (ivshmem doorbells are interrupts)" },
	{ "windows", 0, false, NULL, NULL,
	  "selects Windows-compatible virtio devices; " NO_VIRTIO
	  " (ivshmem's 256-byte BAR0 already suits the Windows driver)" },
	{ "intr_monitor", 0, true, check_intr_monitor, "<threshold>,<period>,<delay>,<duration>",
	  "the interrupt storm monitor delays pass-through devices' interrupts; there are no "
	  "pass-through devices here" },
	{ "pm_notify_channel", 0, true, check_pm_channel, "<ioc|power_button|uart>",
	  "obsolete in ACRN 3; guest power management by IOC, power button or UART is not "
	  "provided here" },
	{ "pm_by_vuart", 0, true, check_pm_by_vuart, "<pty|tty>,<node>",
	  OBSOLETE " (power management through a vUART)" },
	{ "acpidev_pt", 0, true, check_nonempty, "<HID>",
	  "ACPI device pass-through needs ACRN's ACPI tables and pass-through support, which "
	  "this device model does not have" },
	{ "mmiodev_pt", 0, true, check_nonempty, "<mmio_regions>",
	  "MMIO device pass-through is not provided here" },
	{ "ssram", 0, true, check_nonempty, "<params>",
	  "software SRAM is described to the guest in ACPI (RTCT), which this device model does "
	  "not build" },
	{ "vtpm2", 0, true, check_vtpm2, "sock_path=<path>", "no virtual TPM is emulated here" },
	{ "iasl", 0, true, check_nonempty, "<iasl_path>",
	  "ACRN compiles its ACPI tables with iasl; this device model builds none" },
	{ "cmd_monitor", 0, true, check_nonempty, "<socket_path>",
	  "the command monitor socket (used by ACRN's life-cycle tools) is not provided here" },
};

static const struct acrn_option *find_option(const char *option_name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(acrn_options); i++) {
		const struct acrn_option *o = &acrn_options[i];
		if (option_name[0] == '-' && option_name[1] == '-' &&
		    strcmp(option_name + 2, o->long_name) == 0)
			return o;
		if (option_name[0] == '-' && option_name[1] == o->short_name && o->short_name &&
		    option_name[2] == '\0')
			return o;
	}
	return NULL;
}

static gboolean on_acrn_option(const gchar *name, const gchar *value, gpointer data,
			       GError **error)
{
	struct vm_config *cfg = ((struct parse_state *)data)->cfg;
	const struct acrn_option *o = find_option(name);
	if (!o)
		return opt_fail(error, "%s: not an ACRN option", name);
	const char *why = o->takes_arg && o->check ? o->check(value) : NULL;
	if (why)
		return opt_fail(error, "%s %s: %s", name, value, why);
	if (o->takes_arg)
		return opt_note(cfg, error, "%s %s: no effect here: %s", name, value, o->effect);
	return opt_note(cfg, error, "%s: no effect here: %s", name, o->effect);
}

void opt_add_acrn_entries(GOptionGroup *group)
{
	static GOptionEntry entries[G_N_ELEMENTS(acrn_options) + 1];
	static char descriptions[G_N_ELEMENTS(acrn_options)][320];
	for (size_t i = 0; i < G_N_ELEMENTS(acrn_options); i++) {
		const struct acrn_option *o = &acrn_options[i];
		snprintf(descriptions[i], sizeof(descriptions[i]), "ACRN: no effect here: %s",
			 o->effect);
		entries[i] = (GOptionEntry){
			.long_name = o->long_name,
			.short_name = o->short_name,
			.flags = o->takes_arg ? 0 : G_OPTION_FLAG_NO_ARG,
			.arg = G_OPTION_ARG_CALLBACK,
			.arg_data = (gpointer)on_acrn_option,
			.description = descriptions[i],
			.arg_description = o->arg_description,
		};
	}
	entries[G_N_ELEMENTS(acrn_options)] = (GOptionEntry){ 0 };
	g_option_group_add_entries(group, entries);
}

/* ---- devices and firmware not provided here ---- */

/* ACRN's emulations that this device model does not have (virtio-* and vhost-* as prefixes). */
static const char *const acrn_devices[] = {
	"passthru", "xhci", "ahci", "ahci-hd", "ahci-cd", "pci-gvt", "wdt-i6300esb", "npk",
	"igd-lpc", "amd_hostbridge",
};

bool opt_acrn_device(const char *emul)
{
	if (g_str_has_prefix(emul, "virtio-") || g_str_has_prefix(emul, "vhost-"))
		return true;
	for (size_t i = 0; i < G_N_ELEMENTS(acrn_devices); i++)
		if (strcmp(emul, acrn_devices[i]) == 0)
			return true;
	return false;
}

gboolean opt_on_ovmf(const gchar *name, const gchar *value, gpointer data, GError **error)
{
	struct vm_config *cfg = ((struct parse_state *)data)->cfg;
	if (*value == '\0')
		return opt_fail(error, "%s: empty argument", name);
	return opt_unsupported(cfg, error, "%s %s (UEFI firmware)", name, value);
}

char *opt_unsupported_message(const struct vm_config *cfg)
{
	if (!cfg->nunsupported)
		return NULL;
	GString *s = g_string_new("not emulated here: ");
	for (unsigned i = 0; i < cfg->nunsupported; i++)
		g_string_append_printf(s, "%s%s", i ? "; " : "", cfg->unsupported[i]);
	g_string_append(s, ". This device model emulates hostbridge, lpc, ivshmem and the ACRN "
			   "hypervisor's PCI vUART (uart,vuart_idx:N), and boots ELF/Multiboot "
			   "(-E) and Linux (-k/-r) guests; --dry-run --ignore-unsupported checks the "
			   "rest of the command line");
	return g_string_free(s, FALSE);
}
