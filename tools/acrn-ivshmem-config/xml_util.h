/* Read-only helpers over libxml2's tree, for the shapes a scenario file has. */
#ifndef IVCONFIG_XML_UTIL_H
#define IVCONFIG_XML_UTIL_H

#include <stdbool.h>

#include <libxml/tree.h>

/* The first child element named name, or NULL. */
xmlNode *xml_child(const xmlNode *parent, const char *name);

/* The next sibling element named like node, or NULL: to walk repeated elements. */
xmlNode *xml_next_named(const xmlNode *node);

bool xml_is(const xmlNode *node, const char *name);

/* The text of an element with surrounding whitespace removed (g_free it). */
char *xml_text(const xmlNode *element);

/* xml_text of the first child named name, or NULL when there is no such child. */
char *xml_child_text(const xmlNode *parent, const char *name);

/* The line of a node in the file, or DIAG_LINE_NEW for a node an edit added. */
long xml_line(const xmlNode *node);

/*
 * The indentation of an element: what follows the last newline of the whitespace text just before
 * it. NULL when the element does not start a line.
 */
const char *xml_indent_of(const xmlNode *element);

/* Whether a node is a text node of blanks only (the file's formatting). */
bool xml_is_blank_text(const xmlNode *node);

#endif
