/* Value syntax of the IVSHMEM section. */
#include "values.h"

#include <errno.h>
#include <string.h>

#include <glib.h>

enum provider provider_parse(const char *text)
{
	if (text == NULL || *text == '\0' || strcmp(text, PROVIDER_HV_TEXT) == 0)
		return PROVIDER_HV;
	if (strcmp(text, PROVIDER_DM_TEXT) == 0)
		return PROVIDER_DM;
	return PROVIDER_INVALID;
}

const char *provider_from_user(const char *text)
{
	if (text == NULL)
		return NULL;
	if (g_ascii_strcasecmp(text, "hv") == 0 || g_ascii_strcasecmp(text, PROVIDER_HV_TEXT) == 0)
		return PROVIDER_HV_TEXT;
	if (g_ascii_strcasecmp(text, "dm") == 0 || g_ascii_strcasecmp(text, PROVIDER_DM_TEXT) == 0)
		return PROVIDER_DM_TEXT;
	return NULL;
}

const char *provider_prefix(enum provider p)
{
	return p == PROVIDER_DM ? "dm" : "hv";
}

int region_name_check(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0)
		return -ENODATA;
	for (const char *p = name; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '_')
			return -EINVAL;
	return len > REGION_NAME_MAX ? -ENAMETOOLONG : 0;
}

/* Digits only, no sign, no spaces: strtoul would accept all three. */
static int parse_unsigned(const char *text, unsigned base, unsigned long limit, unsigned *out)
{
	unsigned long v = 0;

	if (text == NULL || *text == '\0')
		return -EINVAL;
	for (const char *p = text; *p != '\0'; p++) {
		int d = g_ascii_xdigit_value(*p);

		if (d < 0 || (unsigned)d >= base)
			return -EINVAL;
		v = v * base + (unsigned)d;
		if (v > limit)
			return -ERANGE;
	}
	*out = (unsigned)v;
	return 0;
}

int region_size_parse(const char *text, unsigned *mb)
{
	unsigned v;
	/* Any limit above 512 will do: it only stops overflow on long digit strings. */
	int rc = parse_unsigned(text, 10, 1ul << 20, &v);

	if (rc == -EINVAL)
		return rc;
	if (rc != 0 || v < REGION_SIZE_MIN_MB || v > REGION_SIZE_MAX_MB || (v & (v - 1)) != 0)
		return -ERANGE;
	*mb = v;
	return 0;
}

int region_id_parse(const char *text, unsigned *id)
{
	if (text == NULL || *text == '\0') {
		*id = 0;
		return 0;
	}
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		return parse_unsigned(text + 2, 16, REGION_ID_MAX, id);
	return parse_unsigned(text, 10, REGION_ID_MAX, id);
}
