/* The acrn-dm command line (ACRN-compatible; see README.md). */
#ifndef DM_OPTIONS_H
#define DM_OPTIONS_H

#include <stdio.h>

#include "vm.h"

enum dm_parse_result {
	DM_PARSE_OK,		/* cfg is ready: run the VM */
	DM_PARSE_EXIT,		/* -h or -v printed what was asked: exit 0 */
	DM_PARSE_ERROR,		/* *err holds one line naming what was wrong: exit 1 */
};

/*
 * Parses argv into cfg (which it zeroes first). On DM_PARSE_ERROR *err is a g_malloc'd message;
 * output for -h/-v goes to out. Never exits and never aborts on bad input.
 */
enum dm_parse_result dm_parse_options(int argc, char **argv, struct vm_config *cfg, char **err,
				       FILE *out);
void vm_config_clear(struct vm_config *cfg);

/*
 * -m as ACRN's vm_parse_memsize reads it: "512M", "2G", "262144K", "0x200M" -> bytes. A bare
 * number, a B unit and a leading 0 (octal to ACRN) are refused. -EINVAL / -ERANGE with *why.
 */
int parse_memsize(const char *text, uint64_t *bytes, const char **why);

#endif
