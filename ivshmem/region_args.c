/*
 * Validation of what users type for a region: its name, ACRN's size in MB and its region id. The
 * one implementation of these rules: acrn-dm's option parser, the server and acrn-ivshmem-config
 * (which adds stricter rules of ACRN's configurator on top) all call these.
 */
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
		return ivshmem_fail(err, ENODATA, "region name is empty (1..%d characters)",
				    IVSHMEM_NAME_MAX);
	size_t len = strnlen(name, IVSHMEM_NAME_MAX + 1);
	if (len > IVSHMEM_NAME_MAX)
		return ivshmem_fail(err, ENAMETOOLONG,
				    "region name '%.*s...' is longer than %d characters",
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
	if (mb < IVSHMEM_SIZE_MB_MIN)
		return ivshmem_fail(err, ERANGE, "region size %s MB is below the minimum %u MB", text,
				    IVSHMEM_SIZE_MB_MIN);
	if (mb & (mb - 1))
		return ivshmem_fail(err, ERANGE, "region size %s MB is not a power of two", text);
	*bytes = mb << 20;
	return 0;
}

/* The value of digit c in base 10 or 16; base itself when c is not one. */
static unsigned digit_value(char c, unsigned base)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (base == 16 && c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	if (base == 16 && c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return base;
}

int ivshmem_parse_region_id(const char *text, uint16_t *id, struct ivshmem_error *err)
{
	if (!text || !text[0])
		return ivshmem_fail(err, EINVAL, "region id is empty: expected 0..65535, decimal or "
				    "0x-hex");
	const char *digits = text;
	unsigned base = 10;
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		digits = text + 2;
		base = 16;
	}
	/* Digits only: strtoul would accept " 1", "+1" and "-1" (as a huge value). */
	uint32_t v = 0;
	for (const char *p = digits; *p; p++) {
		unsigned d = digit_value(*p, base);
		if (d >= base)
			return ivshmem_fail(err, EINVAL, "region id '%s': expected 0..65535, "
					    "decimal or 0x-hex", text);
		/* Stop growing past the maximum: no overflow however many digits follow. */
		if (v <= IVSHMEM_REGION_ID_MAX)
			v = v * base + d;
	}
	if (!digits[0])
		return ivshmem_fail(err, EINVAL, "region id '%s': expected 0..65535, decimal or "
				    "0x-hex (digits after 0x)", text);
	if (v > IVSHMEM_REGION_ID_MAX)
		return ivshmem_fail(err, ERANGE, "region id '%s': expected 0..65535 (0xFFFF), the "
				    "16-bit PCI subsystem ID", text);
	*id = (uint16_t)v;
	return 0;
}
