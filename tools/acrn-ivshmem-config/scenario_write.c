/*
 * Writing a scenario back. libxml2's own serializer re-creates the whole file from the tree and
 * so loses what the tree does not keep: quotes around attributes, <a></a> versus <a/>, spaces
 * inside tags, character references, \r\n line ends, the absence of an XML declaration. Instead,
 * every element that no edit touched is copied from the original bytes, and only the elements
 * whose children an edit replaced are rebuilt, from their original start and end tags and their
 * children (each of which may again be copied).
 */
#include "scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "xml_util.h"

static void emit_node(const struct scenario_doc *sd, const xmlNode *node, GString *out);

static void copy_bytes(const struct scenario_doc *sd, size_t from, size_t to, GString *out)
{
	if (to > from)
		g_string_append_len(out, sd->bytes + from, (gssize)(to - from));
}

/* Text from the tree, where libxml2 turned \r\n into \n: back to the file's line ends. */
static void append_lines(const struct scenario_doc *sd, const char *s, GString *out)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n' && sd->crlf)
			g_string_append_c(out, '\r');
		g_string_append_c(out, *s);
	}
}

static void append_escaped_text(const struct scenario_doc *sd, const char *s, GString *out)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '\r':
			/* A \r left in the tree came from a character reference. */
			g_string_append(out, "&#13;");
			break;
		case '\n':
			if (sd->crlf)
				g_string_append_c(out, '\r');
			g_string_append_c(out, '\n');
			break;
		default:
			g_string_append_c(out, *s);
		}
	}
}

static bool is_blank_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether bytes [from, to) read as text, after XML's line-end normalization, are s. */
static bool reads_as(const struct scenario_doc *sd, size_t from, size_t to, const char *s)
{
	for (size_t i = from; i < to; i++, s++) {
		char c = sd->bytes[i];

		if (c == '\r') {
			if (i + 1 < to && sd->bytes[i + 1] == '\n')
				i++;
			c = '\n';
		}
		if (*s != c)
			return false;
	}
	return *s == '\0';
}

/*
 * Blanks between elements inside an edited element: when the blanks next to a neighbour that
 * still has its place in the file read the same as the node, they are copied from the file, so
 * that a file mixing \n and \r\n keeps each line end where it was.
 */
static bool copy_original_blanks(const struct scenario_doc *sd, const xmlNode *text, GString *out)
{
	const xmlNode *parent = text->parent;
	const struct elem_range *pr = scenario_range(sd, parent);
	const struct elem_range *next = text->next ? scenario_range(sd, text->next) : NULL;
	const struct elem_range *prev = text->prev ? scenario_range(sd, text->prev) : NULL;
	const char *content = (const char *)text->content;
	size_t from, to;

	if (next != NULL || (text->next == NULL && pr != NULL && !pr->self_closing)) {
		to = next ? next->start : pr->etag_start;
		for (from = to; from > 0 && is_blank_byte(sd->bytes[from - 1]); from--)
			;
	} else if (prev != NULL || (text->prev == NULL && pr != NULL)) {
		from = prev ? prev->end : pr->stag_end;
		for (to = from; to < sd->len && is_blank_byte(sd->bytes[to]); to++)
			;
	} else {
		return false;
	}
	if (content == NULL || !reads_as(sd, from, to, content))
		return false;
	copy_bytes(sd, from, to, out);
	return true;
}

static const char *content_of(const xmlNode *node)
{
	return node->content ? (const char *)node->content : "";
}

static void emit_start_tag(const struct scenario_doc *sd, const xmlNode *el, bool empty,
			   GString *out)
{
	const struct elem_range *r = scenario_range(sd, el);

	if (r == NULL) {
		/* Elements the tool creates have no attributes and no namespace. */
		g_string_append_printf(out, empty ? "<%s/>" : "<%s>", (const char *)el->name);
	} else if (r->self_closing == empty) {
		copy_bytes(sd, r->start, r->stag_end, out);
	} else if (r->self_closing) {
		/* <a/> that now has children: "<a" and whatever spaces preceded "/>", then ">". */
		copy_bytes(sd, r->start, r->stag_end - 2, out);
		g_string_append_c(out, '>');
	} else {
		/* <a> whose children were all removed: written <a/>, as ACRN writes empty elements. */
		copy_bytes(sd, r->start, r->stag_end - 1, out);
		g_string_append(out, "/>");
	}
}

static void emit_end_tag(const struct scenario_doc *sd, const xmlNode *el, GString *out)
{
	const struct elem_range *r = scenario_range(sd, el);

	if (r != NULL && !r->self_closing)
		copy_bytes(sd, r->etag_start, r->end, out);
	else
		g_string_append_printf(out, "</%s>", (const char *)el->name);
}

/* Whether the children of an unchanged element can be taken from the file between their
 * element children: only when every element child knows where it is. */
static bool children_located(const struct scenario_doc *sd, const xmlNode *el)
{
	for (const xmlNode *c = el->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && scenario_range(sd, c) == NULL)
			return false;
	return true;
}

static void emit_children(const struct scenario_doc *sd, const xmlNode *el, GString *out)
{
	const struct elem_range *r = scenario_range(sd, el);

	if (r != NULL && !r->self_closing && !scenario_is_changed(sd, el) &&
	    children_located(sd, el)) {
		/* Same children as in the file: the text, comments and blanks between element
		 * children are copied as they are, elements are emitted (copied unless edited). */
		size_t pos = r->stag_end;

		for (const xmlNode *c = el->children; c != NULL; c = c->next) {
			const struct elem_range *cr;

			if (c->type != XML_ELEMENT_NODE)
				continue;
			cr = scenario_range(sd, c);
			copy_bytes(sd, pos, cr->start, out);
			emit_node(sd, c, out);
			pos = cr->end;
		}
		copy_bytes(sd, pos, r->etag_start, out);
		return;
	}
	for (const xmlNode *c = el->children; c != NULL; c = c->next)
		emit_node(sd, c, out);
}

static void emit_element(const struct scenario_doc *sd, const xmlNode *el, GString *out)
{
	const struct elem_range *r = scenario_range(sd, el);
	bool empty = el->children == NULL;

	if (r != NULL && !scenario_is_dirty(sd, el)) {
		copy_bytes(sd, r->start, r->end, out);
		return;
	}
	emit_start_tag(sd, el, empty, out);
	if (empty)
		return;
	emit_children(sd, el, out);
	emit_end_tag(sd, el, out);
}

static void emit_node(const struct scenario_doc *sd, const xmlNode *node, GString *out)
{
	switch (node->type) {
	case XML_ELEMENT_NODE:
		emit_element(sd, node, out);
		break;
	case XML_TEXT_NODE:
		if (!xml_is_blank_text(node) || !copy_original_blanks(sd, node, out))
			append_escaped_text(sd, content_of(node), out);
		break;
	case XML_CDATA_SECTION_NODE:
		g_string_append(out, "<![CDATA[");
		append_lines(sd, content_of(node), out);
		g_string_append(out, "]]>");
		break;
	case XML_COMMENT_NODE:
		g_string_append(out, "<!--");
		append_lines(sd, content_of(node), out);
		g_string_append(out, "-->");
		break;
	case XML_PI_NODE:
		g_string_append_printf(out, "<?%s", (const char *)node->name);
		if (node->content != NULL && *node->content != '\0') {
			g_string_append_c(out, ' ');
			append_lines(sd, content_of(node), out);
		}
		g_string_append(out, "?>");
		break;
	case XML_ENTITY_REF_NODE:
		g_string_append_printf(out, "&%s;", (const char *)node->name);
		break;
	default:
		/* Nothing else can be the child of an element. */
		break;
	}
}

GString *scenario_serialize(const struct scenario_doc *sd)
{
	const xmlNode *root = scenario_root(sd);
	const struct elem_range *r = scenario_range(sd, root);
	GString *out = g_string_sized_new(sd->len + 1024);

	if (r == NULL) {
		/* Only when offsets could not be found; writing is refused then (not_writable). */
		g_string_append_len(out, sd->bytes, (gssize)sd->len);
		return out;
	}
	/* The XML declaration, DOCTYPE and comments around the root are copied as they are. */
	copy_bytes(sd, 0, r->start, out);
	emit_node(sd, root, out);
	copy_bytes(sd, r->end, sd->len, out);
	return out;
}

static int fail_errno(GError **err, const char *what, const char *path)
{
	int e = errno;

	g_set_error(err, IVCONFIG_ERROR, e, "%s %s: %s", what, path, g_strerror(e));
	return -1;
}

static mode_t new_file_mode(const char *target)
{
	struct stat st;
	mode_t mask;

	if (stat(target, &st) == 0)
		return st.st_mode & 07777;
	/* A new file gets what open(2) would give it; reading the umask means setting it. */
	mask = umask(022);
	umask(mask);
	return 0666 & ~mask;
}

static int write_atomically(const char *path, const char *data, size_t len, GError **err)
{
	char *target = realpath(path, NULL);	/* through a symbolic link, to its target */
	char *dir, *base, *tmp;
	int fd, rc = -1;
	size_t done = 0;

	if (target == NULL)
		target = strdup(path); /* a new file: realpath fails on it */
	if (target == NULL)
		return fail_errno(err, "out of memory for", path);
	dir = g_path_get_dirname(target);
	base = g_path_get_basename(target);
	tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	fd = g_mkstemp(tmp);
	if (fd < 0) {
		fail_errno(err, "cannot create a temporary file in", dir);
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_errno(err, "cannot write", tmp);
			goto out_unlink;
		}
		done += (size_t)n;
	}
	if (fchmod(fd, new_file_mode(target)) != 0 || fsync(fd) != 0) {
		fail_errno(err, "cannot write", tmp);
		goto out_unlink;
	}
	if (close(fd) != 0) {
		fd = -1;
		fail_errno(err, "cannot write", tmp);
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, target) != 0) {
		fail_errno(err, "cannot replace", target);
		goto out_unlink;
	}
	rc = 0;
	goto out;
out_unlink:
	if (fd >= 0)
		close(fd);
	g_unlink(tmp);
out:
	g_free(tmp);
	g_free(base);
	g_free(dir);
	free(target);
	return rc;
}

int scenario_write(const struct scenario_doc *sd, const char *path, GError **err)
{
	struct diag_list *diags;
	struct scenario_doc *check;
	GString *out;
	int rc;

	if (sd->not_writable != NULL) {
		g_set_error(err, IVCONFIG_ERROR, EINVAL, "%s: not written: %s", sd->name,
			    sd->not_writable);
		return -1;
	}
	out = scenario_serialize(sd);
	/* The result must parse as a scenario again before it replaces anything. */
	diags = diag_list_new();
	check = scenario_load_buffer(path, out->str, out->len, diags);
	diag_list_free(diags);
	if (check == NULL) {
		g_set_error(err, IVCONFIG_ERROR, EPROTO,
			    "internal error: the edited scenario would not parse; %s not written",
			    path);
		g_string_free(out, TRUE);
		return -1;
	}
	scenario_free(check);
	rc = write_atomically(path, out->str, out->len, err);
	g_string_free(out, TRUE);
	return rc;
}
