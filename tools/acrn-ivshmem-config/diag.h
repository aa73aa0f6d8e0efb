/*
 * Diagnostics: what check (and loading, and editing) found wrong, each naming the region, the VM
 * and the line of the scenario file, so that one run can report every problem at once.
 */
#ifndef IVCONFIG_DIAG_H
#define IVCONFIG_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <glib.h>

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_severity severity;
	char *rule;	/* short stable id, e.g. "vbdf-syntax": scripts and tests match on it */
	char *region;	/* region name, "#N" for a region without a name, or NULL */
	char *vm;	/* VM name or NULL */
	long line;	/* line in the scenario file, DIAG_NO_LINE or DIAG_LINE_NEW */
	char *message;	/* one sentence, without file, line, region or VM (print adds them) */
	long related_line; /* the other place a clash is with, or DIAG_NO_LINE */
};

/* The problem is about the file as a whole (it cannot be read, it is empty). */
#define DIAG_NO_LINE 0
/* The problem is in a node the tool is adding: it has no line in the file yet. */
#define DIAG_LINE_NEW (-1)

struct diag_list {
	GPtrArray *items;	/* struct diag * */
};

struct diag_list *diag_list_new(void);
void diag_list_free(struct diag_list *list);

void diag_add(struct diag_list *list, enum diag_severity severity, const char *rule,
	      const char *region, const char *vm, long line, const char *fmt, ...)
	G_GNUC_PRINTF(7, 8);

/* Points the last diagnostic added at the other place it is about ("see line N"). Kept out of
 * the message so that an edit moving lines does not make an old problem look new. */
void diag_set_related_line(struct diag_list *list, long line);

size_t diag_count(const struct diag_list *list, enum diag_severity severity);

/* The first diagnostic of that rule, or NULL: for tests and for callers that react to one. */
const struct diag *diag_find(const struct diag_list *list, const char *rule);

/*
 * Errors in `after` that `before` did not have (compared by rule, region, VM and message, not by
 * line, since an edit moves lines): an edit is refused when it brings new errors in.
 */
struct diag_list *diag_new_errors(const struct diag_list *before, const struct diag_list *after);

/* Orders by line (stable), nodes not yet in the file last: the order a reader scans a file in. */
void diag_sort(struct diag_list *list);

/* "FILE:LINE: error: region "R", VM "V": message (see line N) [rule]", one per line. */
void diag_print(const struct diag_list *list, const char *file, FILE *out);

/* A JSON array of {severity, rule, line, region, vm, message, related_line} objects. */
void diag_append_json(GString *out, const struct diag_list *list);

#endif
