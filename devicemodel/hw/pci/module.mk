# The PCI core (bus, config space, BARs, MSI-X) and the small emulations: library `pci`.
PCI_DIR  := devicemodel/hw/pci
PCI_SRCS := $(PCI_DIR)/pci_bus.c $(PCI_DIR)/pci_cfg.c $(PCI_DIR)/pci_bar.c $(PCI_DIR)/pci_msix.c \
            $(PCI_DIR)/pci_emul_table.c $(PCI_DIR)/hostbridge.c $(PCI_DIR)/lpc.c \
            devicemodel/hw/pci_vuart.c
$(eval $(call add_lib,pci,$(PCI_SRCS)))

# Unit tests: a VM with a fake backend and libcore's real io_registry. pci_emul_find is wrapped so
# a test can add its own emulation next to the real table. An emulation added to the table that
# lives in another library (ivshmem_dev) must be added to PCI_TEST_LIBS too.
PCI_TEST_LIBS := pci ivshmem_dev ivshmem core
PCI_TEST_FIXTURE := tests/unit/test_pci_fixture.c
$(foreach t,cfg bar msix bus,$(eval $(call add_unit_test,test_pci_$(t),tests/unit/test_pci_$(t).c $(PCI_TEST_FIXTURE),$(PCI_TEST_LIBS),pci_emul_find)))
