/* See test_options_util.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "test_options_util.h"

#define MAX_ARGS 48

enum dm_parse_result parse(struct vm_config *cfg, char **err, const char *const *args)
{
	char *argv[MAX_ARGS + 2] = { "acrn-dm" };
	int argc = 1;
	while (args[argc - 1]) {
		assert_true(argc <= MAX_ARGS);
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	FILE *out = fopen("/dev/null", "w");
	enum dm_parse_result r = dm_parse_options(argc, argv, cfg, err, out);
	fclose(out);
	return r;
}

void check_bad_cases(const struct bad_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct vm_config cfg;
		char *err = NULL;
		enum dm_parse_result r = parse(&cfg, &err, cases[i].args);
		if (r != DM_PARSE_ERROR || !err || !strstr(err, cases[i].expect) ||
		    strchr(err, '\n'))
			fail_msg("case %zu (%s ...): result %d, message '%s', expected to contain '%s'",
				 i, cases[i].args[0] ? cases[i].args[0] : "", r, err ? err : "(none)",
				 cases[i].expect);
		/* A failed parse leaves nothing allocated behind. */
		assert_int_equal(cfg.nslots, 0);
		assert_int_equal(cfg.nnotes, 0);
		assert_int_equal(cfg.nunsupported, 0);
		assert_null(cfg.elf_path);
		g_free(err);
	}
}

bool has_note(const struct vm_config *cfg, const char *text)
{
	for (unsigned i = 0; i < cfg->nnotes; i++)
		if (strstr(cfg->notes[i], text))
			return true;
	return false;
}
