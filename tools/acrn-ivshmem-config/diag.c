/* Collecting and printing diagnostics in plain and JSON form. */
#include "diag.h"

#include <string.h>

#include "json.h"

static void diag_free(gpointer p)
{
	struct diag *d = p;

	g_free(d->rule);
	g_free(d->region);
	g_free(d->vm);
	g_free(d->message);
	g_free(d);
}

struct diag_list *diag_list_new(void)
{
	struct diag_list *list = g_new0(struct diag_list, 1);

	list->items = g_ptr_array_new_with_free_func(diag_free);
	return list;
}

void diag_list_free(struct diag_list *list)
{
	if (list == NULL)
		return;
	g_ptr_array_free(list->items, TRUE);
	g_free(list);
}

void diag_add(struct diag_list *list, enum diag_severity severity, const char *rule,
	      const char *region, const char *vm, long line, const char *fmt, ...)
{
	struct diag *d = g_new0(struct diag, 1);
	va_list ap;

	d->severity = severity;
	d->rule = g_strdup(rule);
	d->region = g_strdup(region);
	d->vm = g_strdup(vm);
	d->line = line;
	va_start(ap, fmt);
	d->message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(list->items, d);
}

void diag_set_related_line(struct diag_list *list, long line)
{
	if (list->items->len > 0) {
		struct diag *d = g_ptr_array_index(list->items, list->items->len - 1);

		d->related_line = line;
	}
}

size_t diag_count(const struct diag_list *list, enum diag_severity severity)
{
	size_t n = 0;

	for (guint i = 0; i < list->items->len; i++) {
		const struct diag *d = g_ptr_array_index(list->items, i);

		if (d->severity == severity)
			n++;
	}
	return n;
}

const struct diag *diag_find(const struct diag_list *list, const char *rule)
{
	for (guint i = 0; i < list->items->len; i++) {
		const struct diag *d = g_ptr_array_index(list->items, i);

		if (strcmp(d->rule, rule) == 0)
			return d;
	}
	return NULL;
}

static bool same_problem(const struct diag *a, const struct diag *b)
{
	return a->severity == b->severity && strcmp(a->rule, b->rule) == 0 &&
	       g_strcmp0(a->region, b->region) == 0 && g_strcmp0(a->vm, b->vm) == 0 &&
	       strcmp(a->message, b->message) == 0;
}

struct diag_list *diag_new_errors(const struct diag_list *before, const struct diag_list *after)
{
	struct diag_list *fresh = diag_list_new();

	for (guint i = 0; i < after->items->len; i++) {
		const struct diag *d = g_ptr_array_index(after->items, i);
		bool known = false;

		if (d->severity != DIAG_ERROR)
			continue;
		for (guint j = 0; j < before->items->len && !known; j++)
			known = same_problem(d, g_ptr_array_index(before->items, j));
		if (!known) {
			diag_add(fresh, d->severity, d->rule, d->region, d->vm, d->line, "%s",
				 d->message);
			diag_set_related_line(fresh, d->related_line);
		}
	}
	return fresh;
}

static gint by_line(gconstpointer a, gconstpointer b)
{
	const struct diag *da = *(struct diag *const *)a;
	const struct diag *db = *(struct diag *const *)b;
	/* Problems of the whole file first, nodes not in the file yet last. */
	long la = da->line == DIAG_LINE_NEW ? G_MAXLONG : da->line;
	long lb = db->line == DIAG_LINE_NEW ? G_MAXLONG : db->line;

	return (la > lb) - (la < lb);
}

void diag_sort(struct diag_list *list)
{
	/* g_ptr_array_sort is not documented as stable: sort a copy by insertion (lists are short). */
	guint n = list->items->len;
	struct diag **tmp = g_new(struct diag *, n);

	for (guint i = 0; i < n; i++)
		tmp[i] = g_ptr_array_index(list->items, i);
	for (guint i = 1; i < n; i++) {
		struct diag *cur = tmp[i];
		guint j = i;

		while (j > 0 && by_line(&tmp[j - 1], &cur) > 0) {
			tmp[j] = tmp[j - 1];
			j--;
		}
		tmp[j] = cur;
	}
	for (guint i = 0; i < n; i++)
		list->items->pdata[i] = tmp[i];
	g_free(tmp);
}

static const char *severity_name(enum diag_severity s)
{
	return s == DIAG_ERROR ? "error" : "warning";
}

void diag_print(const struct diag_list *list, const char *file, FILE *out)
{
	for (guint i = 0; i < list->items->len; i++) {
		const struct diag *d = g_ptr_array_index(list->items, i);
		GString *where = g_string_new(file);

		if (d->line > 0)
			g_string_append_printf(where, ":%ld", d->line);
		fprintf(out, "%s: %s: ", where->str, severity_name(d->severity));
		if (d->region != NULL && d->vm != NULL)
			fprintf(out, "region \"%s\", VM \"%s\": ", d->region, d->vm);
		else if (d->region != NULL)
			fprintf(out, "region \"%s\": ", d->region);
		else if (d->vm != NULL)
			fprintf(out, "VM \"%s\": ", d->vm);
		fputs(d->message, out);
		if (d->related_line > 0)
			fprintf(out, " (see line %ld)", d->related_line);
		else if (d->related_line == DIAG_LINE_NEW && d->line != DIAG_LINE_NEW)
			fputs(" (see the change being made)", out);
		fprintf(out, "%s [%s]\n", d->line == DIAG_LINE_NEW ? " (in the change being made)" : "",
			d->rule);
		g_string_free(where, TRUE);
	}
}

void diag_append_json(GString *out, const struct diag_list *list)
{
	g_string_append_c(out, '[');
	for (guint i = 0; i < list->items->len; i++) {
		const struct diag *d = g_ptr_array_index(list->items, i);

		g_string_append(out, i ? ",{" : "{");
		g_string_append(out, "\"severity\":");
		json_append_string(out, severity_name(d->severity));
		g_string_append(out, ",\"rule\":");
		json_append_string(out, d->rule);
		g_string_append(out, ",\"line\":");
		json_append_line(out, d->line);
		g_string_append(out, ",\"region\":");
		json_append_string(out, d->region);
		g_string_append(out, ",\"vm\":");
		json_append_string(out, d->vm);
		g_string_append(out, ",\"message\":");
		json_append_string(out, d->message);
		g_string_append(out, ",\"related_line\":");
		json_append_line(out, d->related_line);
		g_string_append_c(out, '}');
	}
	g_string_append_c(out, ']');
}
