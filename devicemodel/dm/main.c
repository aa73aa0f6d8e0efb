/* acrn-dm [options] <vm_name>: parse, create, run, tear down. The only place that exits. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "options.h"
#include "vm_state.h"

int main(int argc, char **argv)
{
	static struct vm_config cfg;
	char *err = NULL;

	switch (dm_parse_options(argc, argv, &cfg, &err, stdout)) {
	case DM_PARSE_EXIT:
		return 0;
	case DM_PARSE_ERROR:
		fprintf(stderr, "acrn-dm: %s\n", err);
		fprintf(stderr, "Try 'acrn-dm --help' for the options.\n");
		g_free(err);
		return 1;
	case DM_PARSE_OK:
		break;
	}
	log_set_level((enum log_level)cfg.log_level);
	if (cfg.dry_run) {
		printf("acrn-dm: %s: command line OK (%u devices)\n", cfg.name, cfg.nslots);
		vm_config_clear(&cfg);
		return 0;
	}

	static struct vm vm;
	int status = 1;
	/* A failure was logged where it was found, in one line: nothing to add here. */
	if (vm_create(&vm, &cfg) == 0)
		status = vm_run(&vm);
	vm_destroy(&vm);
	vm_config_clear(&cfg);
	return status;
}
