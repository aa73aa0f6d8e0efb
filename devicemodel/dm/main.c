/* acrn-dm [options] <vm_name>: parse, create, run, tear down. The only place that exits. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "options.h"
#include "vm_state.h"

/* --logger_setting (checked by the parser), then --debug, which raises the console to debug. */
static void set_up_logging(const struct vm_config *cfg)
{
	log_set_level(LOG_INFO);
	if (cfg->logger_setting) {
		struct log_settings settings;
		char why[160];
		if (log_parse_settings(cfg->logger_setting, &settings, why, sizeof(why)) == 0) {
			/* A check writes no logs anywhere but the console. */
			if (cfg->dry_run)
				settings.named[LOG_SINK_KMSG] = settings.named[LOG_SINK_DISK] = false;
			log_apply_settings(&settings, cfg->name, NULL, NULL);
		}
	}
	if (cfg->log_level == LOG_DEBUG)
		log_set_level(LOG_DEBUG);
}

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
	set_up_logging(&cfg);
	for (unsigned i = 0; i < cfg.nnotes; i++)
		pr_warn("acrn-dm", "%s", cfg.notes[i]);
	if (cfg.dry_run) {
		for (unsigned i = 0; i < cfg.nunsupported; i++)
			printf("acrn-dm: %s: not emulated here, ignored for this check: %s\n", cfg.name,
			       cfg.unsupported[i]);
		printf("acrn-dm: %s: command line OK (%u devices, %u vCPUs)\n", cfg.name, cfg.nslots,
		       cfg.ncpus);
		vm_config_clear(&cfg);
		log_close_sinks();
		return 0;
	}

	static struct vm vm;
	int status = 1;
	/* A failure was logged where it was found, in one line: nothing to add here. */
	if (vm_create(&vm, &cfg) == 0)
		status = vm_run(&vm);
	vm_destroy(&vm);
	vm_config_clear(&cfg);
	log_close_sinks();
	return status;
}
