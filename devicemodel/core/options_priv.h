/*
 * Shared by the files of the command-line parser: options.c (the table, the flow, devices and
 * memory), options_cpu.c (--cpu_affinity, -c), options_acrn.c (ACRN's options that have no
 * effect here, and the devices this device model does not emulate).
 */
#ifndef DM_OPTIONS_PRIV_H
#define DM_OPTIONS_PRIV_H

#include <glib.h>
#include <stdbool.h>

#include "vm.h"

struct parse_state {
	struct vm_config *cfg;
	gboolean debugexit;
	gboolean version;
	gboolean help;
	gboolean debug;
	gboolean dry_run;
	gboolean ignore_unsupported;
	gboolean rtvm;
	gboolean lapic_pt;
	gboolean trusty;
};

/* Sets *error to the message (one line, naming the option) and returns FALSE. */
gboolean opt_fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Records one "no effect here" line for main.c to print. FALSE only when the list is full. */
gboolean opt_note(struct vm_config *cfg, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Records an ACRN device or boot option this device model does not provide. */
gboolean opt_unsupported(struct vm_config *cfg, GError **error, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/* A decimal number of at most max: digits only, the whole string, no sign or spaces. */
bool opt_parse_decimal(const char *text, size_t len, unsigned long max, unsigned long *out);

/* options_cpu.c */
gboolean opt_on_cpu_affinity(const gchar *name, const gchar *value, gpointer data,
			     GError **error);
gboolean opt_on_ncpus(const gchar *name, const gchar *value, gpointer data, GError **error);
/* After parsing: the vCPU count from -c and --cpu_affinity. NULL or a g_malloc'd message. */
char *opt_finish_cpus(struct vm_config *cfg);

/* options_acrn.c */
/* ACRN's options that are parsed with ACRN's syntax and have no effect here. */
void opt_add_acrn_entries(GOptionGroup *group);
/* -s with an emulation of ACRN's that is not emulated here: true when it is one. */
bool opt_acrn_device(const char *emul);
/* --ovmf (and other boot firmware): recorded as not provided. */
gboolean opt_on_ovmf(const gchar *name, const gchar *value, gpointer data, GError **error);
/* After parsing: the message naming every unsupported device, or NULL when there is none. */
char *opt_unsupported_message(const struct vm_config *cfg);

#endif
