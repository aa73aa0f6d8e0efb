/* Validation of what users type for a region: its name and ACRN's size in MB. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ivshmem_region.h"

static bool name_char_ok(char c)
{
	/* Spelled out rather than isalnum(): the locale must not widen what a name may hold. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

int ivshmem_name_check(const char *name, struct ivshmem_error *err)
{
	if (!name || !name[0])
		return ivshmem_fail(err, EINVAL, "region name is empty (1..%d characters)",
				    IVSHMEM_NAME_MAX);
	size_t len = strnlen(name, IVSHMEM_NAME_MAX + 1);
	if (len > IVSHMEM_NAME_MAX)
		return ivshmem_fail(err, EINVAL, "region name '%.*s...' is longer than %d characters",
				    IVSHMEM_NAME_MAX, name, IVSHMEM_NAME_MAX);
	/* A leading dot would allow "." and ".." and hidden files; '/' never passes the set below. */
	if (name[0] == '.')
		return ivshmem_fail(err, EINVAL, "region name '%s' must not start with '.'", name);
	for (size_t i = 0; i < len; i++) {
		if (!name_char_ok(name[i]))
			return ivshmem_fail(err, EINVAL,
					    "region name '%s': character %zu is not one of "
					    "letters, digits, '_', '-', '.'", name, i + 1);
	}
	return 0;
}

int ivshmem_parse_size_mb(const char *text, unsigned max_mb, uint64_t *bytes,
			  struct ivshmem_error *err)
{
	if (max_mb == 0)
		max_mb = IVSHMEM_SIZE_MB_MAX_DEFAULT;
	if (!text || !text[0])
		return ivshmem_fail(err, EINVAL, "region size is empty (decimal MB expected)");

	/* Digits only: strtoul would accept " 2", "+2", "-2" (as a huge value) and "0x2". */
	uint64_t mb = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return ivshmem_fail(err, EINVAL,
					    "region size '%s' is not a decimal number of MB", text);
		/* Stop growing past the maximum: no overflow however many digits follow. */
		if (mb <= max_mb)
			mb = mb * 10 + (uint64_t)(*p - '0');
	}
	if (mb > max_mb)
		return ivshmem_fail(err, ERANGE, "region size %s MB is above the maximum %u MB",
				    text, max_mb);
	if (mb < 2)
		return ivshmem_fail(err, ERANGE, "region size %s MB is below the minimum 2 MB", text);
	if (mb & (mb - 1))
		return ivshmem_fail(err, ERANGE, "region size %s MB is not a power of two", text);
	*bytes = mb << 20;
	return 0;
}
