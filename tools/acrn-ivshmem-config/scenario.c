/*
 * Loading a scenario: libxml2 builds the tree as usual (whitespace kept, nothing substituted),
 * and two SAX callbacks wrapped around its own record where each element starts and ends in
 * the file, which is what lets scenario_write.c leave untouched parts byte-identical.
 */
#include "scenario.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>

#include "xml_util.h"

/* libxml2 can report one error many times over once a document is broken: a few say enough. */
#define MAX_XML_ERRORS 5

G_DEFINE_QUARK(ivconfig-error-quark, ivconfig_error)

struct parse_state {
	struct scenario_doc *sd;
	struct diag_list *diags;
	xmlParserCtxtPtr main_ctxt;
	int nerrors;
	bool ranges_ok;
};

static void on_xml_error(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;
	char *msg;

	/* Warnings (an unusual namespace URI...) do not stop libxml2 and are not ours to judge. */
	if (e->level < XML_ERR_ERROR || st->nerrors++ >= MAX_XML_ERRORS)
		return;
	msg = g_strstrip(g_strdup(e->message ? e->message : "unknown error"));
	diag_add(st->diags, DIAG_ERROR, "xml", NULL, NULL, e->line > 0 ? e->line : DIAG_NO_LINE,
		 "malformed XML (column %d): %s", e->int2, msg);
	g_free(msg);
}

/* The start tag of an element ends at pos ('>' or "/>"); it begins at the '<' before it, since
 * no '<' can appear inside a tag. Checks the name is there, to be sure of the offsets. */
static bool locate_start_tag(const struct scenario_doc *sd, size_t pos, const xmlNode *node,
			     struct elem_range *r)
{
	size_t start = pos;
	char *qname = node->ns && node->ns->prefix
			      ? g_strconcat((const char *)node->ns->prefix, ":", node->name, NULL)
			      : g_strdup((const char *)node->name);
	size_t qlen = strlen(qname);
	bool name_ok;

	while (start > 0 && sd->bytes[start] != '<')
		start--;
	name_ok = sd->bytes[start] == '<' && start + 1 + qlen <= pos &&
		  memcmp(sd->bytes + start + 1, qname, qlen) == 0;
	g_free(qname);
	if (!name_ok)
		return false;
	r->start = start;
	if (sd->bytes[pos] == '>') {
		r->stag_end = pos + 1;
		r->self_closing = false;
	} else if (sd->bytes[pos] == '/' && pos + 1 < sd->len && sd->bytes[pos + 1] == '>') {
		r->stag_end = pos + 2;
		r->self_closing = true;
	} else {
		return false;
	}
	return true;
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
		     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;
	struct elem_range *r;
	long pos;

	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
			      nb_attributes, nb_defaulted, attributes);
	/* Elements inside entity replacement text are parsed by another context, at offsets in
	 * that text: they get no range and are written out from the tree instead. */
	if (ctxt != st->main_ctxt || ctxt->inputNr != 1 || ctxt->node == NULL)
		return;
	/* libxml2 calls this with the input at the '>' or "/>" that closes the start tag. */
	pos = xmlByteConsumed(ctxt);
	r = g_new0(struct elem_range, 1);
	if (pos < 0 || (size_t)pos >= st->sd->len ||
	    !locate_start_tag(st->sd, (size_t)pos, ctxt->node, r)) {
		st->ranges_ok = false;
		g_free(r);
		return;
	}
	g_hash_table_insert(st->sd->ranges, ctxt->node, r);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;
	struct elem_range *r = NULL;

	if (ctxt == st->main_ctxt && ctxt->node != NULL)
		r = g_hash_table_lookup(st->sd->ranges, ctxt->node);
	if (r != NULL) {
		/* ...and this one just after the '>' of the end tag (or of "/>"). */
		long pos = xmlByteConsumed(ctxt);

		if (pos <= 0 || (size_t)pos > st->sd->len || st->sd->bytes[pos - 1] != '>') {
			st->ranges_ok = false;
		} else if (r->self_closing) {
			r->etag_start = r->end = (size_t)pos;
			st->ranges_ok &= r->end == r->stag_end;
		} else {
			size_t e = (size_t)pos - 1;

			while (e > r->stag_end && st->sd->bytes[e] != '<')
				e--;
			r->etag_start = e;
			r->end = (size_t)pos;
			st->ranges_ok &= st->sd->bytes[e] == '<' && st->sd->bytes[e + 1] == '/';
		}
	}
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static bool parse(struct scenario_doc *sd, struct diag_list *diags)
{
	struct parse_state st = { .sd = sd, .diags = diags, .ranges_ok = true };
	xmlParserCtxtPtr ctxt;
	bool converted;
	int well_formed;

	if (sd->len > INT_MAX) {
		diag_add(diags, DIAG_ERROR, "file", NULL, NULL, DIAG_NO_LINE,
			 "the file is too large (%zu bytes) to be a scenario", sd->len);
		return false;
	}
	ctxt = xmlCreateMemoryParserCtxt(sd->bytes, (int)sd->len);
	if (ctxt == NULL) {
		diag_add(diags, DIAG_ERROR, "file", NULL, NULL, DIAG_NO_LINE,
			 "libxml2 could not create a parser (out of memory?)");
		return false;
	}
	/* No NOBLANKS: whitespace stays in the tree, it is the file's formatting. No NOENT: entity
	 * references stay references. NONET: a scenario never needs the network. */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_BIG_LINES);
	st.main_ctxt = ctxt;
	ctxt->_private = &st;
	ctxt->sax->serror = on_xml_error;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;

	xmlParseDocument(ctxt);
	well_formed = ctxt->wellFormed;
	sd->doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	converted = ctxt->input != NULL && ctxt->input->buf != NULL &&
		    ctxt->input->buf->encoder != NULL;
	xmlFreeParserCtxt(ctxt);

	if (!well_formed || sd->doc == NULL) {
		if (st.nerrors == 0)
			diag_add(diags, DIAG_ERROR, "xml", NULL, NULL, DIAG_NO_LINE,
				 "malformed XML");
		return false;
	}
	if (converted)
		sd->not_writable = g_strdup_printf(
			"the file is in %s, and only UTF-8 files are edited in place",
			sd->doc->encoding ? (const char *)sd->doc->encoding : "another encoding");
	else if (!st.ranges_ok)
		sd->not_writable = g_strdup("could not map the elements of the file to their "
					    "offsets, so it cannot be edited without reformatting it");
	return true;
}

static bool check_is_scenario(const struct scenario_doc *sd, struct diag_list *diags)
{
	xmlNode *root = xmlDocGetRootElement(sd->doc);

	if (root == NULL || strcmp((const char *)root->name, "acrn-config") != 0) {
		diag_add(diags, DIAG_ERROR, "not-scenario", NULL, NULL,
			 root ? xmlGetLineNo(root) : DIAG_NO_LINE,
			 "the root element is <%s>, not <acrn-config>: not an ACRN scenario file",
			 root ? (const char *)root->name : "(none)");
		return false;
	}
	if (xml_child(root, "hv") == NULL) {
		diag_add(diags, DIAG_ERROR, "not-scenario", NULL, NULL, xmlGetLineNo(root),
			 "<acrn-config> has no <hv> section: not an ACRN scenario file "
			 "(a board file?)");
		return false;
	}
	return true;
}

/* One level of indentation: how the root's first indented child is indented (the root itself
 * is not). NULL when the file is written without indentation. */
static char *find_indent_unit(const struct scenario_doc *sd)
{
	xmlNode *root = xmlDocGetRootElement(sd->doc);

	for (xmlNode *c = root->children; c != NULL; c = c->next) {
		const char *indent;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		indent = xml_indent_of(c);
		if (indent != NULL && *indent != '\0')
			return g_strdup(indent);
	}
	return NULL;
}

static struct scenario_doc *scenario_new(const char *name)
{
	struct scenario_doc *sd = g_new0(struct scenario_doc, 1);

	sd->name = g_strdup(name);
	sd->ranges = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	sd->changed = g_hash_table_new(g_direct_hash, g_direct_equal);
	sd->dirty = g_hash_table_new(g_direct_hash, g_direct_equal);
	sd->discarded = g_ptr_array_new();
	return sd;
}

static struct scenario_doc *finish_load(struct scenario_doc *sd, struct diag_list *diags)
{
	const char *nl;

	if (sd->len == 0) {
		diag_add(diags, DIAG_ERROR, "file", NULL, NULL, DIAG_NO_LINE,
			 "the file is empty, not an ACRN scenario");
		goto fail;
	}
	if (!parse(sd, diags) || !check_is_scenario(sd, diags))
		goto fail;
	nl = memchr(sd->bytes, '\n', sd->len);
	sd->crlf = nl != NULL && nl > sd->bytes && nl[-1] == '\r';
	sd->indent_unit = find_indent_unit(sd);
	return sd;
fail:
	scenario_free(sd);
	return NULL;
}

struct scenario_doc *scenario_load_buffer(const char *name, const char *bytes, size_t len,
					  struct diag_list *diags)
{
	struct scenario_doc *sd = scenario_new(name);

	/* One byte more so that the buffer is a string too; len stays the file's length. */
	sd->bytes = g_malloc(len + 1);
	memcpy(sd->bytes, bytes, len);
	sd->bytes[len] = '\0';
	sd->len = len;
	return finish_load(sd, diags);
}

static bool read_all(FILE *f, GByteArray *out)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		g_byte_array_append(out, (const guint8 *)chunk, (guint)n);
	return !ferror(f);
}

struct scenario_doc *scenario_load(const char *path, struct diag_list *diags)
{
	struct scenario_doc *sd;
	GByteArray *data;
	struct stat st;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		diag_add(diags, DIAG_ERROR, "file", NULL, NULL, DIAG_NO_LINE, "cannot open: %s",
			 g_strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		diag_add(diags, DIAG_ERROR, "file", NULL, NULL, DIAG_NO_LINE,
			 "is a directory, not a scenario file");
		fclose(f);
		return NULL;
	}
	data = g_byte_array_new();
	if (!read_all(f, data)) {
		diag_add(diags, DIAG_ERROR, "file", NULL, NULL, DIAG_NO_LINE, "cannot read: %s",
			 g_strerror(errno));
		fclose(f);
		g_byte_array_free(data, TRUE);
		return NULL;
	}
	fclose(f);
	sd = scenario_new(path);
	sd->len = data->len;
	g_byte_array_append(data, (const guint8 *)"", 1);
	sd->bytes = (char *)g_byte_array_free(data, FALSE);
	return finish_load(sd, diags);
}

void scenario_free(struct scenario_doc *sd)
{
	if (sd == NULL)
		return;
	/* Discarded nodes first: freeing them needs the document's dictionary. */
	for (guint i = 0; i < sd->discarded->len; i++)
		xmlFreeNode(g_ptr_array_index(sd->discarded, i));
	g_ptr_array_free(sd->discarded, TRUE);
	if (sd->doc != NULL)
		xmlFreeDoc(sd->doc);
	g_hash_table_destroy(sd->ranges);
	g_hash_table_destroy(sd->changed);
	g_hash_table_destroy(sd->dirty);
	g_free(sd->indent_unit);
	g_free(sd->not_writable);
	g_free(sd->bytes);
	g_free(sd->name);
	g_free(sd);
}

xmlNode *scenario_root(const struct scenario_doc *sd)
{
	return xmlDocGetRootElement(sd->doc);
}

xmlNode *scenario_hv(const struct scenario_doc *sd)
{
	return xml_child(scenario_root(sd), "hv");
}

bool scenario_modified(const struct scenario_doc *sd)
{
	return g_hash_table_size(sd->changed) > 0;
}

const struct elem_range *scenario_range(const struct scenario_doc *sd, const xmlNode *node)
{
	return g_hash_table_lookup(sd->ranges, node);
}

void scenario_mark_changed(struct scenario_doc *sd, xmlNode *element)
{
	g_hash_table_add(sd->changed, element);
	for (xmlNode *n = element; n != NULL && n->type == XML_ELEMENT_NODE; n = n->parent)
		g_hash_table_add(sd->dirty, n);
}

bool scenario_is_changed(const struct scenario_doc *sd, const xmlNode *node)
{
	return g_hash_table_contains(sd->changed, node);
}

bool scenario_is_dirty(const struct scenario_doc *sd, const xmlNode *node)
{
	return g_hash_table_contains(sd->dirty, node);
}

void scenario_discard(struct scenario_doc *sd, xmlNode *node)
{
	xmlUnlinkNode(node);
	g_ptr_array_add(sd->discarded, node);
}
