/*
 * The hypervisor backends --vmm can name, listed explicitly (as the PCI emulations are). Kept in
 * a file of its own so that a unit test can stand a fake backend in for one (--wrap).
 */
#include <string.h>

#include "vmm.h"

const struct vmm_ops *vmm_ops_by_name(const char *name)
{
	if (strcmp(name, "kvm") == 0)
		return &vmm_kvm_ops;
	if (strcmp(name, "hsm") == 0)
		return &vmm_hsm_ops;
	return NULL;
}
