/* Value syntax of the IVSHMEM section. */
#include "values.h"

#include <errno.h>
#include <stdint.h>
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
	int rc = ivshmem_name_check(name, NULL);

	if (rc == -ENODATA || rc == -ENAMETOOLONG)
		return rc;
	if (rc < 0)
		return -EINVAL;
	/* Stricter than acrn-dm: ACRN's configurator takes \w only. */
	if (strpbrk(name, "-.") != NULL)
		return -EINVAL;
	return 0;
}

int region_size_parse(const char *text, unsigned *mb)
{
	uint64_t bytes;
	int rc = ivshmem_parse_size_mb(text, REGION_SIZE_MAX_MB, &bytes, NULL);

	if (rc == 0)
		*mb = (unsigned)(bytes >> 20);
	return rc;
}

int region_id_parse(const char *text, unsigned *id)
{
	uint16_t v;
	int rc;

	/* Absent or blank: ACRN's default, 0. */
	if (text == NULL || *text == '\0') {
		*id = 0;
		return 0;
	}
	rc = ivshmem_parse_region_id(text, &v, NULL);
	if (rc == 0)
		*id = v;
	return rc;
}
