# acrn-dm itself, the root of the device model (library `dm` and the program): the command line,
# the VM's life cycle, and the explicit tables of the PCI emulations and hypervisor backends a VM
# is made of. Nothing below it knows it exists.
DM_SRCS := $(filter-out devicemodel/dm/main.c,$(wildcard devicemodel/dm/*.c))
$(eval $(call add_lib,dm,$(DM_SRCS)))

# Libraries in dependency order: each one uses only those after it (linked without a group).
ACRN_DM_LIBS := dm hw ivshmem_dev pci loader vmm_kvm vmm_hsm ivshmem core
$(eval $(call add_prog,acrn-dm,devicemodel/dm/main.c,$(ACRN_DM_LIBS)))

$(eval $(call add_unit_test,test_options,tests/unit/test_options.c tests/unit/test_options_util.c,$(ACRN_DM_LIBS)))
$(eval $(call add_unit_test,test_options_acrn,tests/unit/test_options_acrn.c tests/unit/test_options_util.c,$(ACRN_DM_LIBS)))
# vm_create on a fake backend (--vmm fake): one error line per failed start.
$(eval $(call add_unit_test,test_vm_create,tests/unit/test_vm_create.c tests/unit/test_log_capture.c,$(ACRN_DM_LIBS),vmm_ops_by_name))
