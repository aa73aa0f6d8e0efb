/*
 * Formatting-preserving edits. Note on libxml2: xmlAddChild/xmlAddNextSibling merge a text node
 * into an adjacent text node (and free the one passed in), so blanks are always inserted next to
 * elements, never next to other text.
 */
#include "xml_edit.h"

#include <glib.h>

#include "xml_util.h"

static xmlNode *new_element(struct scenario_doc *sd, const char *name, const char *text)
{
	/* Content is added as a text node: xmlNewDocNode would interpret '&' in it as entities. */
	xmlNode *e = xmlNewDocNode(sd->doc, NULL, BAD_CAST name, NULL);

	if (text != NULL && *text != '\0')
		xmlAddChild(e, xmlNewDocText(sd->doc, BAD_CAST text));
	return e;
}

static xmlNode *new_blank(struct scenario_doc *sd, const char *indent)
{
	char *s = g_strconcat("\n", indent ? indent : "", NULL);
	xmlNode *t = xmlNewDocText(sd->doc, BAD_CAST s);

	g_free(s);
	return t;
}

static xmlNode *last_element_child(const xmlNode *parent)
{
	for (xmlNode *c = parent->last; c != NULL; c = c->prev)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

/* How children of parent are indented: like an existing child, else one level deeper. */
static char *child_indent(const struct scenario_doc *sd, const xmlNode *parent)
{
	const char *pi;

	for (xmlNode *c = parent->children; c != NULL; c = c->next) {
		const char *indent = c->type == XML_ELEMENT_NODE ? xml_indent_of(c) : NULL;

		if (indent != NULL)
			return g_strdup(indent);
	}
	pi = xml_indent_of(parent);
	return g_strconcat(pi ? pi : "", sd->indent_unit, NULL);
}

static void discard_blanks(struct scenario_doc *sd, xmlNode *parent)
{
	xmlNode *c = parent->children;

	while (c != NULL) {
		xmlNode *next = c->next;

		if (xml_is_blank_text(c))
			scenario_discard(sd, c);
		c = next;
	}
}

xmlNode *xml_append_element(struct scenario_doc *sd, xmlNode *parent, const char *name,
			    const char *text)
{
	xmlNode *e = new_element(sd, name, text);
	xmlNode *last = last_element_child(parent);

	if (sd->indent_unit == NULL) {
		/* The file is not indented: neither is what goes into it. */
		if (last != NULL)
			xmlAddNextSibling(last, e);
		else
			xmlAddChild(parent, e);
	} else if (last != NULL) {
		char *indent = child_indent(sd, parent);

		/* The blanks after `last` (closing the parent's line) stay after the new element. */
		xmlAddNextSibling(last, e);
		xmlAddNextSibling(last, new_blank(sd, indent));
		g_free(indent);
	} else {
		char *indent = child_indent(sd, parent);

		discard_blanks(sd, parent);
		xmlAddChild(parent, new_blank(sd, indent));
		xmlAddChild(parent, e);
		xmlAddChild(parent, new_blank(sd, xml_indent_of(parent)));
		g_free(indent);
	}
	scenario_mark_changed(sd, parent);
	return e;
}

xmlNode *xml_insert_element_before(struct scenario_doc *sd, xmlNode *ref, const char *name,
				   const char *text)
{
	xmlNode *e = new_element(sd, name, text);
	char *indent = g_strdup(xml_indent_of(ref));

	/* The blanks before ref now come before e; new blanks go between e and ref. */
	xmlAddPrevSibling(ref, e);
	if (indent != NULL && sd->indent_unit != NULL)
		xmlAddPrevSibling(ref, new_blank(sd, indent));
	g_free(indent);
	scenario_mark_changed(sd, ref->parent);
	return e;
}

void xml_set_text(struct scenario_doc *sd, xmlNode *element, const char *text)
{
	while (element->children != NULL)
		scenario_discard(sd, element->children);
	if (text != NULL && *text != '\0')
		xmlAddChild(element, xmlNewDocText(sd->doc, BAD_CAST text));
	scenario_mark_changed(sd, element);
}

void xml_remove_element(struct scenario_doc *sd, xmlNode *element)
{
	xmlNode *parent = element->parent;

	if (xml_is_blank_text(element->prev))
		scenario_discard(sd, element->prev);
	scenario_discard(sd, element);
	if (last_element_child(parent) == NULL)
		discard_blanks(sd, parent);
	scenario_mark_changed(sd, parent);
}
