/* The syntax of the values of an IVSHMEM region: name, provider, size and region id. */
#ifndef IVCONFIG_VALUES_H
#define IVCONFIG_VALUES_H

#include "ivshmem_region.h"

/*
 * The limits and the checks are the ivshmem library's (ivshmem/region_args.c), the ones acrn-dm
 * applies to its -s option; the configurator adds ACRN's stricter name rule on top.
 */
/* 27 characters + "hv:/" + NUL fill the hypervisor's 32-byte region name. */
#define REGION_NAME_MAX IVSHMEM_NAME_MAX
#define REGION_SIZE_MIN_MB IVSHMEM_SIZE_MB_MIN
#define REGION_SIZE_MAX_MB IVSHMEM_SIZE_MB_MAX_DEFAULT
#define REGION_ID_MAX IVSHMEM_REGION_ID_MAX
/* ACRN documents 0x001..0xFFF as reserved, 0x1000..0xFFFF as free for users (0: not set). */
#define REGION_ID_FIRST_USER 0x1000u
/* How many regions the hypervisor can provide. */
#define HV_REGIONS_MAX 8u

#define PROVIDER_HV_TEXT "Hypervisor"
#define PROVIDER_DM_TEXT "Device Model"

enum provider { PROVIDER_HV, PROVIDER_DM, PROVIDER_INVALID };

/* <PROVIDED_BY> as ACRN writes it: "Hypervisor", "Device Model", or absent/blank (Hypervisor). */
enum provider provider_parse(const char *text);

/* What a user may type: hv, dm, or ACRN's words, in any case. Returns ACRN's word or NULL. */
const char *provider_from_user(const char *text);

/* "hv" or "dm": the prefix of the acrn-dm device option. */
const char *provider_prefix(enum provider p);

/*
 * \w{1,27}, ASCII only: the name becomes a POSIX shm name and part of a 32-byte field. acrn-dm's
 * rule (ivshmem_name_check) plus ACRN's configurator's: no '-' or '.'.
 * Returns 0, -ENODATA (empty), -EINVAL (a character outside [A-Za-z0-9_]) or -ENAMETOOLONG.
 */
int region_name_check(const char *name);

/* Decimal MB, a power of two from 2 to 512. 0, -EINVAL (not a decimal number) or -ERANGE. */
int region_size_parse(const char *text, unsigned *mb);

/* NULL or blank: 0. Decimal or 0x-hexadecimal up to 0xFFFF. 0, -EINVAL or -ERANGE. */
int region_id_parse(const char *text, unsigned *id);

#endif
