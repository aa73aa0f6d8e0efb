# The device model core (library `core`) and the acrn-dm program.
CORE_SRCS := $(filter-out devicemodel/core/main.c,$(wildcard devicemodel/core/*.c))
$(eval $(call add_lib,core,$(CORE_SRCS)))

# pci_vuart.c is a PCI emulation: it is built into libpci, next to the table that names it.
HW_SRCS := $(filter-out devicemodel/hw/pci_vuart.c,$(wildcard devicemodel/hw/*.c))
$(eval $(call add_lib,hw,$(HW_SRCS)))

# Libraries in dependency order; the group in add_prog resolves cycles between them.
ACRN_DM_LIBS := hw ivshmem_dev pci loader vmm_kvm vmm_hsm ivshmem core
$(eval $(call add_prog,acrn-dm,devicemodel/core/main.c,$(ACRN_DM_LIBS)))

# Unit tests of the core.
$(eval $(call add_unit_test,test_io_dispatch,tests/unit/test_io_dispatch.c,core))
$(eval $(call add_unit_test,test_log,tests/unit/test_log.c tests/unit/test_stderr_capture.c,core))
$(eval $(call add_unit_test,test_log_sinks,tests/unit/test_log_sinks.c,core))
$(eval $(call add_unit_test,test_uart,tests/unit/test_uart.c,hw core))
$(eval $(call add_unit_test,test_options,tests/unit/test_options.c tests/unit/test_options_util.c,$(ACRN_DM_LIBS)))
$(eval $(call add_unit_test,test_options_acrn,tests/unit/test_options_acrn.c tests/unit/test_options_util.c,$(ACRN_DM_LIBS)))
