/* Read-only helpers over libxml2's tree. */
#include "xml_util.h"

#include <string.h>

#include <glib.h>

#include "diag.h"

bool xml_is(const xmlNode *node, const char *name)
{
	return node != NULL && node->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)node->name, name) == 0;
}

xmlNode *xml_child(const xmlNode *parent, const char *name)
{
	if (parent == NULL)
		return NULL;
	for (xmlNode *c = parent->children; c != NULL; c = c->next)
		if (xml_is(c, name))
			return c;
	return NULL;
}

xmlNode *xml_next_named(const xmlNode *node)
{
	for (xmlNode *c = node->next; c != NULL; c = c->next)
		if (xml_is(c, (const char *)node->name))
			return c;
	return NULL;
}

char *xml_text(const xmlNode *element)
{
	xmlChar *content = xmlNodeGetContent(element);
	char *text = g_strstrip(g_strdup(content ? (const char *)content : ""));

	xmlFree(content);
	return text;
}

char *xml_child_text(const xmlNode *parent, const char *name)
{
	xmlNode *c = xml_child(parent, name);

	return c ? xml_text(c) : NULL;
}

long xml_line(const xmlNode *node)
{
	long line = xmlGetLineNo(node);

	/* libxml2 gives 0 to nodes created after parsing. */
	return line > 0 ? line : DIAG_LINE_NEW;
}

bool xml_is_blank_text(const xmlNode *node)
{
	if (node == NULL || node->type != XML_TEXT_NODE)
		return false;
	for (const xmlChar *p = node->content; p && *p; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return false;
	return true;
}

const char *xml_indent_of(const xmlNode *element)
{
	const xmlNode *prev = element->prev;
	const char *nl;

	if (!xml_is_blank_text(prev) || prev->content == NULL)
		return NULL;
	nl = strrchr((const char *)prev->content, '\n');
	return nl ? nl + 1 : NULL;
}
