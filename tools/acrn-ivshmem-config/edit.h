/*
 * The IVSHMEM edits the GUI offers: add a region, add a VM to a region, remove a VM from a
 * region, remove a region. They change the tree only; the caller checks the result with
 * rules_check() and writes it with scenario_write().
 */
#ifndef IVCONFIG_EDIT_H
#define IVCONFIG_EDIT_H

#include "diag.h"
#include "scenario.h"

/* Rules of the edits themselves (what they act on must exist). */
#define RULE_REGION_UNKNOWN "region-unknown"
#define RULE_VM_NOT_MEMBER "vm-not-member"

struct member_spec {
	const char *vm;
	const char *vbdf;	/* NULL or "": left blank, for save to fill in */
};

struct region_spec {
	const char *name;
	const char *provider;	/* "Hypervisor" or "Device Model" as written to the file */
	const char *size;	/* MB, as written to the file */
	const char *region_id;	/* NULL: no <IVSHMEM_REGION_ID> */
	const struct member_spec *members;
	size_t n_members;
};

/*
 * Parses "VM" or "VM=VBDF" (the last '=' separates them). Returns a spec pointing into text,
 * which it modifies.
 */
struct member_spec member_spec_parse(char *text);

/*
 * Each returns 0, or -1 after adding to diags what was not found. add_region checks nothing:
 * every problem of a new region breaks a rule of rules_check(), which reports it.
 */
void edit_add_region(struct scenario_doc *sd, const struct region_spec *spec);
int edit_add_vm(struct scenario_doc *sd, const char *region, const struct member_spec *member,
		struct diag_list *diags);
int edit_remove_vm(struct scenario_doc *sd, const char *region, const char *vm,
		   struct diag_list *diags);
int edit_remove_region(struct scenario_doc *sd, const char *region, struct diag_list *diags);

#endif
