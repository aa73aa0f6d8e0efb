/*
 * Edits of the tree that keep the file's formatting: a new element is indented like its
 * siblings (or one level deeper than its parent), and a removed one takes its indentation along.
 * Every edit is recorded in the scenario_doc so that only edited elements are re-serialized.
 */
#ifndef IVCONFIG_XML_EDIT_H
#define IVCONFIG_XML_EDIT_H

#include <libxml/tree.h>

#include "scenario.h"

/* A new element with the given text (none when text is NULL or ""), after the last element
 * child of parent. */
xmlNode *xml_append_element(struct scenario_doc *sd, xmlNode *parent, const char *name,
			    const char *text);

/* A new element just before ref, on a line of its own when ref starts one. */
xmlNode *xml_insert_element_before(struct scenario_doc *sd, xmlNode *ref, const char *name,
				   const char *text);

/* Replaces the content of element by text; "" or NULL leave it empty, written <NAME/>. */
void xml_set_text(struct scenario_doc *sd, xmlNode *element, const char *text);

/* Removes element and the blanks that indent it; a parent left without elements is emptied of
 * blanks too, and is then written <NAME/>. */
void xml_remove_element(struct scenario_doc *sd, xmlNode *element);

#endif
