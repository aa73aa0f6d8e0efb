/*
 * The acrn-dm command line, ACRN-compatible: acrn-dm [options] <vm_name>.
 *
 * GOption does the tokenising (short and long forms, "-s x" and "--pci_slot=x", repeated -s) and
 * reports unknown options and missing arguments; every value is then checked here so that a bad
 * command line ends in one line naming the option and the rule, never a crash. The vCPU options
 * are in options_cpu.c; ACRN's options without an effect here and ACRN's devices that are not
 * emulated here in options_acrn.c.
 */
#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem_layout.h"
#include "options.h"
#include "pci_emuls.h"
#include "options_priv.h"
#include "pci.h"
#include "uart_16550.h"
#include "version.h"

#define MEMSIZE_MIN (128 * MiB)	/* ACRN's minimum */
#define MEMSIZE_MAX (256 * GiB)

/* UUIDs derived from the VM name (when -U is absent) live in this namespace, so a VM keeps its
 * UUID across restarts: the ivshmem server recognises a returning VM by it. */
static const uuid_t vm_name_namespace = {
	0x6b, 0x1c, 0x6e, 0x0a, 0x3f, 0x52, 0x4f, 0x37, 0x9a, 0x4e, 0x2d, 0x19, 0x0c, 0x8e, 0x71, 0x5d,
};

gboolean opt_fail(GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, msg);
	g_free(msg);
	return FALSE;
}

static gboolean add_line(char **list, unsigned *n, GError **error, const char *fmt, va_list ap)
	G_GNUC_PRINTF(4, 0);
static gboolean add_line(char **list, unsigned *n, GError **error, const char *fmt, va_list ap)
{
	if (*n == VM_MAX_NOTES)
		return opt_fail(error, "more than %d options without an effect here", VM_MAX_NOTES);
	list[(*n)++] = g_strdup_vprintf(fmt, ap);
	return TRUE;
}

gboolean opt_note(struct vm_config *cfg, GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gboolean ok = add_line(cfg->notes, &cfg->nnotes, error, fmt, ap);
	va_end(ap);
	return ok;
}

gboolean opt_unsupported(struct vm_config *cfg, GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gboolean ok = add_line(cfg->unsupported, &cfg->nunsupported, error, fmt, ap);
	va_end(ap);
	return ok;
}

bool opt_parse_decimal(const char *text, size_t len, unsigned long max, unsigned long *out)
{
	if (len == 0 || len > 10)
		return false;
	unsigned long long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)text[i]))
			return false;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	if (v > max)
		return false;
	*out = (unsigned long)v;
	return true;
}

/*
 * ACRN's vm_parse_memsize reads the number with strtoul(..., 0) and takes K, M or G after it.
 * Where that surprises (0400M is octal, 256M; a bare number or a B unit is refused by a missing
 * break in ACRN's switch, though bhyve read a bare number as megabytes) the size is refused here
 * with the reason, rather than guessed.
 */
int parse_memsize(const char *text, uint64_t *bytes, const char **why)
{
	static const char *const unit_needed =
		"a size needs a unit, K, M or G (as 512M); ACRN refuses a bare number too";
	*why = "expected a number and a unit, K, M or G (512M, 2G, 0x200M)";
	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
	if (!hex && text[0] == '0' && isdigit((unsigned char)text[1])) {
		*why = "a leading 0 makes ACRN read the number as octal (0400M is 256M there); write "
		       "the size without it, or as 0x hex";
		return -EINVAL;
	}
	const char *digits = hex ? text + 2 : text;
	if (!isxdigit((unsigned char)digits[0]))
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(digits, &end, hex ? 16 : 10);
	if (errno == ERANGE) {
		*why = "too large";
		return -ERANGE;
	}
	unsigned shift;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case '\0':
		*why = unit_needed;
		return -EINVAL;
	case 'B':
		*why = "B (bytes) is not a unit ACRN takes: use K, M or G";
		return -EINVAL;
	default:
		*why = "unknown unit (ACRN takes K, M or G)";
		return -EINVAL;
	}
	end++;
	/* "128M" and "128MB"/"128MiB" are all what people write. */
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0') {
		*why = "unexpected text after the unit (ACRN takes K, M or G)";
		return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift)) {
		*why = "too large";
		return -ERANGE;
	}
	*bytes = (uint64_t)v << shift;
	return 0;
}

static gboolean on_memsize(const gchar *name, const gchar *value, gpointer data, GError **error)
{
	struct parse_state *st = data;
	uint64_t bytes;
	const char *why;
	if (parse_memsize(value, &bytes, &why) < 0)
		return opt_fail(error, "%s %s: %s", name, value, why);
	if (bytes < MEMSIZE_MIN || bytes > MEMSIZE_MAX)
		return opt_fail(error, "%s %s: memory size must be between 128M and 256G", name, value);
	/* Whole 2 MiB pages, so RAM can come from huge pages. */
	st->cfg->memsize = (bytes + 2 * MiB - 1) & ~(2 * MiB - 1);
	return TRUE;
}

/* "<slot>[:<func>]" or "<bus>:<slot>:<func>" */
static bool parse_bdf(const char *text, size_t len, unsigned *bus, unsigned *dev, unsigned *func)
{
	const char *parts[3];
	size_t lens[3];
	unsigned n = 0;
	const char *p = text, *end = text + len;
	while (n < 3) {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		parts[n] = p;
		lens[n] = colon ? (size_t)(colon - p) : (size_t)(end - p);
		n++;
		if (!colon)
			break;
		p = colon + 1;
	}
	if (parts[n - 1] + lens[n - 1] != end)
		return false; /* a fourth field */

	unsigned long vals[3] = { 0, 0, 0 };
	const unsigned long max2[] = { 31, 7 }, max3[] = { 255, 31, 7 };
	for (unsigned i = 0; i < n; i++)
		if (lens[i] > 3 ||
		    !opt_parse_decimal(parts[i], lens[i], n == 3 ? max3[i] : max2[i], &vals[i]))
			return false;
	*bus = n == 3 ? (unsigned)vals[0] : 0;
	*dev = (unsigned)(n == 3 ? vals[1] : vals[0]);
	*func = n == 3 ? (unsigned)vals[2] : (n == 2 ? (unsigned)vals[1] : 0);
	return true;
}

static gboolean on_pci_slot(const gchar *name, const gchar *value, gpointer data, GError **error)
{
	struct vm_config *cfg = ((struct parse_state *)data)->cfg;
	const char *comma = strchr(value, ',');
	if (!comma)
		return opt_fail(error, "%s %s: expected <slot>[:<func>],<emulation>[,<config>]", name, value);

	struct slot_option opt = { 0 };
	if (!parse_bdf(value, (size_t)(comma - value), &opt.bus, &opt.dev, &opt.func))
		return opt_fail(error,
			    "%s %s: bad slot '%.*s' (slot 0-31, function 0-7, as <slot>[:<func>] or "
			    "<bus>:<slot>:<func>)",
			    name, value, (int)(comma - value), value);

	const char *emul = comma + 1;
	const char *config = strchr(emul, ',');
	size_t emul_len = config ? (size_t)(config - emul) : strlen(emul);
	if (emul_len == 0)
		return opt_fail(error, "%s %s: missing emulation name after the slot", name, value);
	opt.emul = g_strndup(emul, emul_len);
	int label_len = (int)(emul + emul_len - value);
	const struct pci_dev_ops *ops = pci_emul_find(opt.emul);
	if (!ops) {
		gboolean ok = opt_acrn_device(opt.emul) ?
			opt_unsupported(cfg, error, "%s %.*s", name, label_len, value) :
			opt_fail(error, "%s %s: unknown emulation '%s'", name, value, opt.emul);
		g_free(opt.emul);
		return ok;
	}
	char why[256];
	int ret = ops->check_config ? ops->check_config(config ? config + 1 : NULL, why, sizeof(why))
				    : 0;
	if (ret < 0) {
		/* -EOPNOTSUPP: a form of the device that ACRN has and this device model does not. */
		gboolean ok = ret == -EOPNOTSUPP ?
			opt_unsupported(cfg, error, "%s %s (%s)", name, value, why) :
			opt_fail(error, "%s %s: %s: %s", name, value, opt.emul, why);
		g_free(opt.emul);
		return ok;
	}

	for (unsigned i = 0; i < cfg->nslots; i++) {
		const struct slot_option *o = &cfg->slots[i];
		if (o->bus == opt.bus && o->dev == opt.dev && o->func == opt.func) {
			opt_fail(error, "%s %s: slot %u:%u:%u is already taken by %s", name, value,
			     opt.bus, opt.dev, opt.func, o->emul);
			g_free(opt.emul);
			return FALSE;
		}
	}
	if (cfg->nslots == VM_MAX_SLOTS) {
		g_free(opt.emul);
		return opt_fail(error, "%s %s: more than %d devices", name, value, VM_MAX_SLOTS);
	}
	opt.config = config ? g_strdup(config + 1) : NULL;
	cfg->slots[cfg->nslots++] = opt;
	return TRUE;
}

/* -l com1|com2,<backend>: the legacy UARTs at 0x3f8/IRQ 4 and 0x2f8/IRQ 3, as ACRN's LPC. */
static gboolean on_lpc(const gchar *name, const gchar *value, gpointer data, GError **error)
{
	struct vm_config *cfg = ((struct parse_state *)data)->cfg;
	char **slot;
	const char *port;
	if (g_ascii_strncasecmp(value, "com1,", 5) == 0) {
		slot = &cfg->com1;
		port = "com1";
	} else if (g_ascii_strncasecmp(value, "com2,", 5) == 0) {
		slot = &cfg->com2;
		port = "com2";
	} else {
		return opt_fail(error, "%s %s: expected com1,<backend> or com2,<backend> (backend: "
				"stdio, tcp:<port> or a file)", name, value);
	}
	const char *backend = value + 5;
	if (*backend == '\0')
		return opt_fail(error, "%s %s: missing backend after %s, (stdio, tcp:<port> or a "
				"file)", name, value, port);
	if (*slot)
		return opt_fail(error, "%s %s: %s is already configured", name, value, port);
	char why[160];
	if (uart_backend_check(backend, why, sizeof(why)) < 0)
		return opt_fail(error, "%s %s: %s", name, value, why);
	const char *other = slot == &cfg->com1 ? cfg->com2 : cfg->com1;
	if (other && strcmp(other, backend) == 0)
		return opt_fail(error, "%s %s: %s already serves %s", name, value, backend,
				slot == &cfg->com1 ? "com2" : "com1");
	*slot = g_strdup(backend);
	return TRUE;
}

/* --logger_setting console,level=N;kmsg,level=N;disk,level=N: checked here, applied by main. */
static gboolean on_logger_setting(const gchar *name, const gchar *value, gpointer data,
				  GError **error)
{
	struct vm_config *cfg = ((struct parse_state *)data)->cfg;
	struct log_settings settings;
	char why[160];
	if (cfg->logger_setting)
		return opt_fail(error, "%s %s: given more than once", name, value);
	if (*value == '\0')
		return opt_fail(error, "%s: empty argument (expected console,level=N;kmsg,level=N;"
				"disk,level=N)", name);
	if (log_parse_settings(value, &settings, why, sizeof(why)) < 0)
		return opt_fail(error, "%s %s: %s", name, value, why);
	cfg->logger_setting = g_strdup(value);
	return TRUE;
}

static gboolean on_uuid(const gchar *name, const gchar *value, gpointer data, GError **error)
{
	struct vm_config *cfg = ((struct parse_state *)data)->cfg;
	if (uuid_parse(value, cfg->uuid) != 0)
		return opt_fail(error, "%s %s: not a UUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
			    name, value);
	cfg->uuid_given = true;
	return TRUE;
}

static gboolean on_string(char **slot, const gchar *name, const gchar *value, GError **error)
{
	if (*value == '\0')
		return opt_fail(error, "%s: empty argument", name);
	if (*slot)
		return opt_fail(error, "%s %s: given more than once", name, value);
	*slot = g_strdup(value);
	return TRUE;
}

static gboolean on_elf(const gchar *name, const gchar *value, gpointer data, GError **error)
{
	return on_string(&((struct parse_state *)data)->cfg->elf_path, name, value, error);
}

static gboolean on_bootargs(const gchar *name, const gchar *value, gpointer data, GError **error)
{
	struct vm_config *cfg = ((struct parse_state *)data)->cfg;
	if (cfg->bootargs)
		return opt_fail(error, "%s: given more than once", name);
	cfg->bootargs = g_strdup(value);
	return TRUE;
}

/* ACRN's boot options for Linux and UEFI guests: recognised, so the error says what to use. */
static gboolean on_unsupported_boot(const gchar *name, const gchar *value, gpointer data,
				    GError **error)
{
	(void)data;
	return opt_fail(error, "%s %s: this device model boots ELF images (-E, Multiboot or ELF64); "
		    "Linux (-k/-r) and UEFI (--ovmf) guests are not supported", name, value);
}

static gboolean on_vmm(const gchar *name, const gchar *value, gpointer data, GError **error)
{
	if (strcmp(value, "kvm") != 0 && strcmp(value, "hsm") != 0)
		return opt_fail(error, "%s %s: unknown hypervisor backend (kvm or hsm)", name, value);
	return on_string(&((struct parse_state *)data)->cfg->vmm_name, name, value, error);
}

static bool vm_name_ok(const char *name, const char **why)
{
	size_t len = strlen(name);
	if (len == 0) {
		*why = "is empty";
		return false;
	}
	if (len > VM_NAME_MAX) {
		*why = "is longer than 15 bytes";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '_' && c != '-' && c != '.') {
			*why = "may only hold letters, digits, '_', '-' and '.'";
			return false;
		}
	}
	return true;
}

static GOptionContext *make_context(struct parse_state *st)
{
	const GOptionEntry entries[] = {
		{ "pci_slot", 's', 0, G_OPTION_ARG_CALLBACK, (void *)on_pci_slot,
		  "Add a PCI device: <slot>[:<func>] or <bus>:<slot>:<func>, then the emulation "
		  "(hostbridge, lpc, ivshmem, uart,vuart_idx:N) and its configuration",
		  "<bdf>,<emul>[,<conf>]" },
		{ "memsize", 'm', 0, G_OPTION_ARG_CALLBACK, (void *)on_memsize,
		  "Guest memory size with a K, M or G unit (512M, 2G, 0x200M), 128M to 256G",
		  "<size>" },
		{ "lpc", 'l', 0, G_OPTION_ARG_CALLBACK, (void *)on_lpc,
		  "A legacy UART: com1 (port 0x3f8, IRQ 4) or com2 (0x2f8, IRQ 3), to stdio, a file, "
		  "or a TCP console on 127.0.0.1:<port>", "<com1|com2>,<stdio|tcp:port|file>" },
		{ "elf_file", 'E', 0, G_OPTION_ARG_CALLBACK, (void *)on_elf,
		  "Load an ELF image (Multiboot images start in 32-bit protected mode)", "<elf>" },
		{ "bootargs", 'B', 0, G_OPTION_ARG_CALLBACK, (void *)on_bootargs,
		  "Command line handed to a Multiboot guest", "<args>" },
		{ "kernel", 'k', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
		  (void *)on_unsupported_boot, NULL, NULL },
		{ "ramdisk", 'r', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
		  (void *)on_unsupported_boot, NULL, NULL },
		{ "ovmf", 0, 0, G_OPTION_ARG_CALLBACK, (void *)opt_on_ovmf,
		  "ACRN's UEFI firmware: not provided here (see --ignore-unsupported)",
		  "[w,]<ovmf_file>" },
		{ "cpu_affinity", 0, 0, G_OPTION_ARG_CALLBACK, (void *)opt_on_cpu_affinity,
		  "The host CPUs of the VM by local APIC id, as ACRN 3 (1,3 or 4-6): one vCPU each; "
		  "KVM pins each vCPU thread to its CPU, ACRN gets the CPUs in CREATE_VM",
		  "<apic_id,...>" },
		{ "ncpus", 'c', 0, G_OPTION_ARG_CALLBACK, (void *)opt_on_ncpus,
		  "Number of vCPUs without pinning (ACRN 1.x's option; on ACRN the hypervisor "
		  "decides)", "<n>" },
		{ "rtvm", 0, 0, G_OPTION_ARG_NONE, &st->rtvm,
		  "A real-time VM: ACRN gets the RT, IO-polling and LAPIC/PMU pass-through flags, as "
		  "ACRN 3's acrn-dm sends them; no effect on KVM", NULL },
		{ "lapic_pt", 0, 0, G_OPTION_ARG_NONE, &st->lapic_pt,
		  "LAPIC pass-through (ACRN, with --rtvm); KVM has none: accepted with a warning", NULL },
		{ "enable_trusty", 0, 0, G_OPTION_ARG_NONE, &st->trusty,
		  "ACRN's secure-world VM flag in CREATE_VM; no effect on KVM", NULL },
		{ "logger_setting", 0, 0, G_OPTION_ARG_CALLBACK, (void *)on_logger_setting,
		  "Log sinks and levels as ACRN: console (stderr), kmsg (/dev/kmsg), disk "
		  "(/var/log/acrn-dm/<vm>_log_<n>); levels 1 error .. 5 debug, 0 off",
		  "console,level=4;kmsg,level=3;disk,level=5" },
		{ "uuid", 'U', 0, G_OPTION_ARG_CALLBACK, (void *)on_uuid,
		  "VM UUID (default: derived from the VM name, stable across restarts)", "<uuid>" },
		{ "debugexit", 0, 0, G_OPTION_ARG_NONE, &st->debugexit,
		  "A write of V to port 0xf4 powers the VM off; acrn-dm exits with status V", NULL },
		{ "vmm", 0, 0, G_OPTION_ARG_CALLBACK, (void *)on_vmm,
		  "Hypervisor backend (default: hsm when /dev/acrn_hsm exists, else kvm)", "<hsm|kvm>" },
		{ "debug", 0, 0, G_OPTION_ARG_NONE, &st->debug, "Log debug messages to stderr", NULL },
		{ "dry-run", 0, 0, G_OPTION_ARG_NONE, &st->dry_run,
		  "Check the command line (devices included) and exit without starting the VM", NULL },
		{ "ignore-unsupported", 0, 0, G_OPTION_ARG_NONE, &st->ignore_unsupported,
		  "With --dry-run: list ACRN's devices and firmware that are not emulated here "
		  "(virtio-*, passthru, --ovmf...) instead of refusing them, and check the rest", NULL },
		{ "version", 'v', 0, G_OPTION_ARG_NONE, &st->version, "Print the version and exit", NULL },
		{ "help", 'h', 0, G_OPTION_ARG_NONE, &st->help, "Show this help and exit", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new("<vm_name>");
	GOptionGroup *group = g_option_group_new("acrn-dm", "acrn-dm options", "acrn-dm options",
						 st, NULL);
	g_option_group_add_entries(group, entries);
	opt_add_acrn_entries(group);
	g_option_context_set_main_group(ctx, group);
	/* -h is ours: GOption's own help would exit() from inside the parser. */
	g_option_context_set_help_enabled(ctx, FALSE);
	g_option_context_set_summary(ctx,
		"Start a VM with ACRN-compatible devices, among them ivshmem shared memory:\n"
		"  -s 5,ivshmem,dm:/NAME,SIZE_MB[,REGION_ID][,key=value...]\n"
		"  -s 5,ivshmem,hv:/NAME,SIZE_MB[,REGION_ID]   (ACRN hypervisor-land region)\n"
		"Keys: mem=shm|hugetlbfs|memfd, hugetlbfs=<dir>, hugepages=on, large=on,\n"
		"      vectors=<n>, server=<socket>, ioeventfd=on|off, irqfd=on|off");
	g_option_context_set_description(ctx,
		"ACRN devices not emulated here (virtio-*, vhost-*, passthru, xhci, ahci, pci-gvt,\n"
		"wdt-i6300esb, npk, uart without vuart_idx) and --ovmf stop the run with one message\n"
		"naming them; --dry-run --ignore-unsupported checks the rest of the line.\n"
		"Exit status: the value the guest wrote to port 0xf4 (--debugexit); 1 for a bad command\n"
		"line or a start-up error; 2 when the guest faulted or the hypervisor stopped it;\n"
		"128+N when stopped by signal N.\n");
	return ctx;
}

void vm_config_clear(struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nslots; i++) {
		g_free(cfg->slots[i].emul);
		g_free(cfg->slots[i].config);
	}
	g_free(cfg->elf_path);
	g_free(cfg->bootargs);
	g_free(cfg->com1);
	g_free(cfg->com2);
	g_free(cfg->vmm_name);
	g_free(cfg->logger_setting);
	for (unsigned i = 0; i < cfg->nnotes; i++)
		g_free(cfg->notes[i]);
	for (unsigned i = 0; i < cfg->nunsupported; i++)
		g_free(cfg->unsupported[i]);
	memset(cfg, 0, sizeof(*cfg));
}

enum dm_parse_result dm_parse_options(int argc, char **argv, struct vm_config *cfg, char **err,
				       FILE *out)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memsize = 256 * MiB;
	*err = NULL;

	struct parse_state st = { .cfg = cfg };
	GOptionContext *ctx = make_context(&st);
	/* GOption rearranges the vector it parses; give it a copy. */
	char **args = g_new0(char *, (size_t)argc + 1);
	for (int i = 0; i < argc; i++)
		args[i] = argv[i];
	int nargs = argc;
	char **parsed = args;

	enum dm_parse_result result = DM_PARSE_ERROR;
	GError *gerr = NULL;
	if (!g_option_context_parse(ctx, &nargs, &parsed, &gerr)) {
		*err = g_strdup(gerr->message);
		g_error_free(gerr);
		goto out;
	}
	if (st.help) {
		char *help = g_option_context_get_help(ctx, TRUE, NULL);
		fputs(help, out);
		g_free(help);
		result = DM_PARSE_EXIT;
		goto out;
	}
	if (st.version) {
		fprintf(out, "acrn-dm %s (acrn-ivshmem, ACRN device model compatible)\n",
			ACRN_IVSHMEM_VERSION);
		result = DM_PARSE_EXIT;
		goto out;
	}

	const char *why;
	if (nargs < 2) {
		*err = g_strdup("missing the VM name (acrn-dm [options] <vm_name>)");
		goto out;
	}
	if (nargs > 2) {
		*err = g_strdup_printf("unexpected argument '%s' after the VM name '%s'", parsed[2],
				       parsed[1]);
		goto out;
	}
	if (!vm_name_ok(parsed[1], &why)) {
		*err = g_strdup_printf("VM name '%s' %s", parsed[1], why);
		goto out;
	}
	strcpy(cfg->name, parsed[1]);
	if (!cfg->uuid_given)
		uuid_generate_sha1(cfg->uuid, vm_name_namespace, cfg->name, strlen(cfg->name));
	cfg->debugexit = st.debugexit;
	cfg->dry_run = st.dry_run;
	cfg->ignore_unsupported = st.ignore_unsupported;
	cfg->rtvm = st.rtvm;
	cfg->lapic_pt = st.lapic_pt;
	cfg->trusty = st.trusty;
	cfg->log_level = st.debug ? LOG_DEBUG : LOG_INFO;
	*err = opt_finish_cpus(cfg);
	if (*err)
		goto out;
	if (cfg->ignore_unsupported && !cfg->dry_run) {
		*err = g_strdup("--ignore-unsupported only goes with --dry-run: a VM without the "
				"devices its launch line asks for is not started");
		goto out;
	}
	if (!cfg->ignore_unsupported) {
		*err = opt_unsupported_message(cfg);
		if (*err)
			goto out;
	}
	result = DM_PARSE_OK;
out:
	g_free(args);
	g_option_context_free(ctx);
	if (result != DM_PARSE_OK)
		vm_config_clear(cfg);
	return result;
}
