/* Shared by the command-line tests: run dm_parse_options on a NULL-terminated list of words. */
#ifndef TEST_OPTIONS_UTIL_H
#define TEST_OPTIONS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* acrn-dm <args...>; output of -h/-v is thrown away. */
enum dm_parse_result parse(struct vm_config *cfg, char **err, const char *const *args);

/* A malformed command line and a phrase its one-line message must contain. */
struct bad_case {
	const char *const *args;
	const char *expect;
};

/* Every case fails with one line containing its phrase and leaves nothing allocated. */
void check_bad_cases(const struct bad_case *cases, size_t n);

/* True when one of cfg's notes (options without effect here) contains text. */
bool has_note(const struct vm_config *cfg, const char *text);

#endif
