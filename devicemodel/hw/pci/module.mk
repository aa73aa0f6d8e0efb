# The PCI core (bus, config space, BARs, MSI-X) and the small emulations: library `pci`.
PCI_DIR  := devicemodel/hw/pci
PCI_SRCS := $(PCI_DIR)/pci_bus.c $(PCI_DIR)/pci_cfg.c $(PCI_DIR)/pci_bar.c \
            $(PCI_DIR)/pci_ioeventfd.c $(PCI_DIR)/pci_msix.c $(PCI_DIR)/hostbridge.c \
            $(PCI_DIR)/lpc.c
$(eval $(call add_lib,pci,$(PCI_SRCS)))

# Unit tests: a VM with a fake backend and libcore's real io_registry. The fixture adds its own
# emulation "testdev" and finds the real ones in acrn-dm's table (library dm), so every library an
# emulation of the table lives in is linked too.
PCI_TEST_LIBS := dm hw ivshmem_dev pci ivshmem core
PCI_TEST_FIXTURE := tests/unit/test_pci_fixture.c tests/unit/test_log_capture.c
$(foreach t,cfg bar ioeventfd msix bus,$(eval $(call add_unit_test,test_pci_$(t),tests/unit/test_pci_$(t).c $(PCI_TEST_FIXTURE),$(PCI_TEST_LIBS))))
