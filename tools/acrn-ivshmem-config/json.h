/* The little JSON the tool prints: strings escaped per RFC 8259, everything else by hand. */
#ifndef IVCONFIG_JSON_H
#define IVCONFIG_JSON_H

#include <glib.h>

/* Appends s as a quoted JSON string, or null when s is NULL. */
void json_append_string(GString *out, const char *s);

/* Appends n, or null when n is 0: line numbers are 0 for nodes that are not in the file yet. */
void json_append_line(GString *out, long n);

#endif
