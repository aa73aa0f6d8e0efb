/*
 * What the IVSHMEM rules look at, read out of a scenario: its VMs, its regions with their VMs,
 * and the other vBDFs the scenario gives VMs (PCI vUARTs). Values are kept as the file writes
 * them (trimmed), so that check can say exactly what is wrong with each.
 */
#ifndef IVCONFIG_MODEL_H
#define IVCONFIG_MODEL_H

#include <stdbool.h>

#include <glib.h>
#include <libxml/tree.h>

#include "scenario.h"

enum vm_load_order { VM_LOAD_UNKNOWN, VM_PRE_LAUNCHED, VM_SERVICE, VM_POST_LAUNCHED };

struct scen_vm {
	char *name;		/* <name>, "" when missing */
	char *id;		/* the id attribute, or NULL */
	enum vm_load_order load_order;
	char *load_order_text;	/* as written, or NULL */
	long line;
};

struct scen_region;

struct scen_member {		/* one <IVSHMEM_VM> */
	char *vm_name;		/* NULL when <VM_NAME> is missing */
	char *vbdf;		/* NULL when <VBDF> is missing, "" when blank */
	long line;		/* of <IVSHMEM_VM> */
	long vbdf_line;		/* of <VBDF>, or line when there is none */
	xmlNode *node;
	struct scen_region *region;
};

struct scen_region {		/* one <IVSHMEM_REGION> */
	unsigned index;		/* 1-based position among the regions */
	char *label;		/* the name, or "#N" when it has none: what messages call it */
	char *name;		/* NULL when <NAME> is missing */
	char *provider;		/* NULL when <PROVIDED_BY> is missing (meaning Hypervisor) */
	char *size;		/* NULL when <IVSHMEM_SIZE> is missing */
	char *region_id;	/* NULL when <IVSHMEM_REGION_ID> is missing (meaning 0) */
	long line, name_line, provider_line, size_line, region_id_line;
	bool has_vms;		/* there is an <IVSHMEM_VMS> */
	GPtrArray *members;	/* struct scen_member * */
	xmlNode *node;
};

struct scen_other_vbdf {	/* a vBDF given to a VM outside IVSHMEM */
	char *vm_name;
	char *vbdf;
	char *what;		/* e.g. "PCI vUART connection \"vUART connection 1\"" */
	long line;
};

struct scen_model {
	GPtrArray *vms;		/* struct scen_vm *, in file order */
	GPtrArray *regions;	/* struct scen_region *, in file order */
	GPtrArray *others;	/* struct scen_other_vbdf * */
	xmlNode *ivshmem;	/* /acrn-config/hv/FEATURES/IVSHMEM, or NULL */
	long ivshmem_line;
};

struct scen_model *model_build(const struct scenario_doc *sd);
void model_free(struct scen_model *m);

const struct scen_vm *model_find_vm(const struct scen_model *m, const char *name);
/* The first region of that name, or NULL. */
struct scen_region *model_find_region(const struct scen_model *m, const char *name);
/* The member of region for that VM, or NULL. */
struct scen_member *model_find_member(const struct scen_region *r, const char *vm_name);

const char *load_order_name(enum vm_load_order order);

#endif
