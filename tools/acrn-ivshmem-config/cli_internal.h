/* What the subcommands of cli.c and cli_edit.c share. */
#ifndef IVCONFIG_CLI_INTERNAL_H
#define IVCONFIG_CLI_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include <glib.h>

#include "diag.h"

#define PROG "acrn-ivshmem-config"

struct cmd {
	const char *name;
	const char *summary;
	int (*run)(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err);
};

/*
 * Parses a subcommand's options (argv[0] is the subcommand). Handles --help itself (printing to
 * out) instead of letting GOption exit. Returns -1 after printing a usage error, 1 after printing
 * help, 0 with *argc and *argv left holding the positional arguments.
 */
int cli_parse(const struct cmd *cmd, const char *params, const char *description,
	      GOptionEntry *entries, int *argc, char ***argv, FILE *out, FILE *err);

/* A usage error for a subcommand: prints it and returns CLI_USAGE. */
int cli_usage_error(const struct cmd *cmd, FILE *err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Diagnostics in the form asked for: JSON {"file", "errors", "warnings", "diagnostics"} on out,
 * or plain lines on plain_to. */
void cli_report(const struct diag_list *diags, const char *file, bool json, FILE *out,
		FILE *plain_to);

int cmd_add_region(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err);
int cmd_add_vm(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err);
int cmd_remove_vm(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err);
int cmd_remove_region(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err);
int cmd_save(const struct cmd *cmd, int argc, char **argv, FILE *out, FILE *err);

#endif
