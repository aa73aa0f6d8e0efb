/*
 * acrn-dm's command line: dm_parse_options() on an argv made of the input's NUL-separated words
 * (argv[0] is "acrn-dm"), device option strings included.
 *
 * Properties: the parser never exits, crashes or leaks; a refused command line has one message
 * (one line unless a word the user typed brought a newline); an accepted one has a valid VM name,
 * a memory size in range, and at most one device per slot.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "log.h"
#include "mem_layout.h"
#include "options.h"

#define MAX_ARGS 64

static FILE *devnull;
static struct vm_config cfg;	/* 256 slots: too big for the stack of a fuzzer thread */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	log_set_level(LOG_ERR);
	return 0;
}

static void check_accepted(void)
{
	size_t len = strlen(cfg.name);

	FUZZ_CHECK(len >= 1 && len <= VM_NAME_MAX, "VM name '%s'", cfg.name);
	FUZZ_CHECK(strspn(cfg.name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_-.") == len,
		   "VM name '%s'", cfg.name);
	FUZZ_CHECK(cfg.memsize >= 128 * MiB && cfg.memsize <= 256 * GiB &&
			   cfg.memsize % (2 * MiB) == 0,
		   "memsize %llu", (unsigned long long)cfg.memsize);
	FUZZ_CHECK(cfg.nslots <= VM_MAX_SLOTS, "%u slots", cfg.nslots);
	/* vCPUs: one per --cpu_affinity CPU, ascending and distinct, or -c's count, or 1. */
	FUZZ_CHECK(cfg.ncpus >= 1 && cfg.ncpus <= VM_MAX_VCPUS, "%u vCPUs", cfg.ncpus);
	FUZZ_CHECK(!cfg.ncpu_affinity || cfg.ncpu_affinity == cfg.ncpus, "%u vCPUs, %u CPUs",
		   cfg.ncpus, cfg.ncpu_affinity);
	for (unsigned i = 1; i < cfg.ncpu_affinity; i++)
		FUZZ_CHECK(cfg.cpu_affinity[i - 1] < cfg.cpu_affinity[i], "affinity not ascending");
	/* Devices not emulated here are only accepted by --dry-run --ignore-unsupported. */
	FUZZ_CHECK(!cfg.nunsupported || (cfg.dry_run && cfg.ignore_unsupported),
		   "%u unsupported devices accepted", cfg.nunsupported);
	for (unsigned i = 0; i < cfg.nslots; i++) {
		const struct slot_option *s = &cfg.slots[i];

		FUZZ_CHECK(s->emul && s->emul[0] && s->bus <= 255 && s->dev <= 31 && s->func <= 7,
			   "slot %u", i);
		for (unsigned j = 0; j < i; j++)
			FUZZ_CHECK(cfg.slots[j].bus != s->bus || cfg.slots[j].dev != s->dev ||
					   cfg.slots[j].func != s->func,
				   "two devices at %u:%u:%u", s->bus, s->dev, s->func);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	bool newline = memchr(data, '\n', size) != NULL;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	argv[argc++] = (char *)"acrn-dm";
	for (size_t at = 0; at < size && argc <= MAX_ARGS; at += strlen(text + at) + 1)
		argv[argc++] = text + at;
	argv[argc] = NULL;

	char *err = NULL;
	enum dm_parse_result r = dm_parse_options(argc, argv, &cfg, &err, devnull);
	switch (r) {
	case DM_PARSE_OK:
		FUZZ_CHECK(!err, "accepted with a message: %s", err);
		check_accepted();
		vm_config_clear(&cfg);
		break;
	case DM_PARSE_EXIT:
		FUZZ_CHECK(!err, "-h/-v with a message: %s", err);
		break;
	case DM_PARSE_ERROR:
		FUZZ_CHECK(err && err[0], "refused without a message");
		FUZZ_CHECK(newline || !strchr(err, '\n'), "a message of several lines: %s", err);
		break;
	default:
		FUZZ_CHECK(false, "result %d", (int)r);
	}
	g_free(err);
	free(text);
	return 0;
}
