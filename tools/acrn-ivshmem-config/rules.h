/*
 * check: the IVSHMEM section against the rules ACRN's configurator enforces (ACRN-COMPAT.md,
 * "The configurator's model of a region"), plus a few it should (see docs/acrn-ivshmem-config.md).
 */
#ifndef IVCONFIG_RULES_H
#define IVCONFIG_RULES_H

#include "diag.h"
#include "model.h"

/* Rule ids, as diagnostics carry them. */
#define RULE_REGION_NAME	"region-name"
#define RULE_REGION_NAME_DUP	"region-name-duplicate"
#define RULE_PROVIDER		"provider"
#define RULE_SIZE		"size"
#define RULE_REGION_ID		"region-id"
#define RULE_REGION_ID_DUP	"region-id-duplicate"	/* warning */
#define RULE_REGION_ID_RESERVED	"region-id-reserved"	/* warning */
#define RULE_VM_COUNT		"vm-count"
#define RULE_VM_NAME		"vm-name"
#define RULE_VM_UNKNOWN		"vm-unknown"
#define RULE_VM_DUP		"vm-duplicate"
#define RULE_DM_POST_ONLY	"dm-post-only"
#define RULE_VBDF_SYNTAX	"vbdf-syntax"
#define RULE_VBDF_RANGE		"vbdf-range"
#define RULE_VBDF_HOSTBRIDGE	"vbdf-hostbridge"
#define RULE_VBDF_DUP		"vbdf-duplicate"
#define RULE_VBDF_CLASH		"vbdf-clash"
#define RULE_HV_REGION_COUNT	"hv-region-count"

/* Appends every problem found to out; several in one run, in file order per region. */
void rules_check(const struct scen_model *m, struct diag_list *out);

#endif
