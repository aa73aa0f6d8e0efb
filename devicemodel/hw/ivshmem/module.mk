# The ivshmem PCI device (library `ivshmem_dev`).
IVSHMEM_DEV_SRCS := $(wildcard devicemodel/hw/ivshmem/*.c)
$(eval $(call add_lib,ivshmem_dev,$(IVSHMEM_DEV_SRCS)))

$(eval $(call add_unit_test,test_ivshmem_config,tests/unit/test_ivshmem_config.c,ivshmem_dev ivshmem core))
$(eval $(call add_unit_test,test_ivshmem_dev,tests/unit/test_ivshmem_dev.c tests/unit/test_pci_fixture.c tests/unit/test_log_capture.c,pci ivshmem_dev ivshmem core,pci_emul_find))
$(eval $(call add_unit_test,test_ivshmem_doorbell,tests/unit/test_ivshmem_doorbell.c tests/unit/test_pci_fixture.c tests/unit/test_log_capture.c,pci ivshmem_dev ivshmem core,pci_emul_find ivshmem_server_connect))
