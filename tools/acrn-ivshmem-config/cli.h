/* The acrn-ivshmem-config command line: subcommands over a scenario file. */
#ifndef IVCONFIG_CLI_H
#define IVCONFIG_CLI_H

#include <stdio.h>

/* Exit statuses. */
#define CLI_OK 0
#define CLI_FAILED 1	/* the scenario has errors, or reading/writing it failed */
#define CLI_USAGE 2	/* the command line itself was wrong */

/* Runs one command line; output goes to out, diagnostics and messages to err. Never exits. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);

#endif
