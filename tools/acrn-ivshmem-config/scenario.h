/*
 * A scenario file held as libxml2 parsed it plus the bytes it was parsed from, so that writing it
 * back copies every element nobody edited byte for byte from the original, and only re-serializes
 * what an edit touched.
 */
#ifndef IVCONFIG_SCENARIO_H
#define IVCONFIG_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>
#include <libxml/tree.h>

#include "diag.h"

/* Where an element lies in the original bytes: [start, stag_end) is its start tag,
 * [etag_start, end) its end tag (empty for <a/>). */
struct elem_range {
	size_t start;
	size_t stag_end;
	size_t etag_start;
	size_t end;
	bool self_closing;
};

struct scenario_doc {
	char *name;		/* the path as given, for messages */
	char *bytes;		/* the file as read */
	size_t len;
	xmlDoc *doc;
	GHashTable *ranges;	/* xmlNode * -> struct elem_range *, for elements parsed from bytes */
	GHashTable *changed;	/* elements whose list of children an edit replaced */
	GHashTable *dirty;	/* changed elements and all their ancestors */
	GPtrArray *discarded;	/* nodes an edit unlinked: freed with the document, so that their
				 * addresses are never reused while the tables above hold them */
	bool crlf;		/* the file ends its lines with \r\n */
	char *indent_unit;	/* one level of indentation in this file, or NULL if it has none */
	char *not_writable;	/* why the file cannot be written back in place, or NULL */
};

/*
 * Reads and parses a scenario file. On failure returns NULL after adding diagnostics with rule
 * "file" (cannot read, empty), "xml" (malformed, with libxml2's line) or "not-scenario".
 */
struct scenario_doc *scenario_load(const char *path, struct diag_list *diags);

/* The same from memory; name is used in messages. */
struct scenario_doc *scenario_load_buffer(const char *name, const char *bytes, size_t len,
					  struct diag_list *diags);

void scenario_free(struct scenario_doc *sd);

/* /acrn-config, and its <hv>: both exist once a scenario loaded. */
xmlNode *scenario_root(const struct scenario_doc *sd);
xmlNode *scenario_hv(const struct scenario_doc *sd);

/* Whether any edit was made since loading. */
bool scenario_modified(const struct scenario_doc *sd);

/* For the editing code: record edits so that writing knows what to copy and what to rebuild. */
const struct elem_range *scenario_range(const struct scenario_doc *sd, const xmlNode *node);
void scenario_mark_changed(struct scenario_doc *sd, xmlNode *element);
bool scenario_is_changed(const struct scenario_doc *sd, const xmlNode *node);
bool scenario_is_dirty(const struct scenario_doc *sd, const xmlNode *node);
/* Unlinks node from the tree; it is freed with the document. */
void scenario_discard(struct scenario_doc *sd, xmlNode *node);

/*
 * The file as it is now: the original bytes wherever nothing changed. Returns a new GString.
 */
GString *scenario_serialize(const struct scenario_doc *sd);

/*
 * Serializes, checks that the result parses, and writes it to path through a temporary file in
 * the same directory renamed over it, so that the file is never left half written. Keeps the
 * mode of an existing file and writes through a symbolic link to its target.
 * Returns 0, or -1 with *err set.
 */
int scenario_write(const struct scenario_doc *sd, const char *path, GError **err);

#define IVCONFIG_ERROR ivconfig_error_quark()
GQuark ivconfig_error_quark(void);

#endif
