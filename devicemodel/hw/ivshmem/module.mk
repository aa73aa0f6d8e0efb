# The ivshmem PCI device (library `ivshmem_dev`).
IVSHMEM_DEV_SRCS := $(wildcard devicemodel/hw/ivshmem/*.c)
$(eval $(call add_lib,ivshmem_dev,$(IVSHMEM_DEV_SRCS)))

IVSHMEM_DEV_FIXTURE := tests/unit/test_pci_fixture.c tests/unit/test_log_capture.c
$(eval $(call add_unit_test,test_ivshmem_config,tests/unit/test_ivshmem_config.c,ivshmem_dev ivshmem core))
$(eval $(call add_unit_test,test_ivshmem_dev,tests/unit/test_ivshmem_dev.c $(IVSHMEM_DEV_FIXTURE),dm hw ivshmem_dev pci ivshmem core))
# The server is a socketpair the test hands out in place of ivshmem_server_connect.
$(eval $(call add_unit_test,test_ivshmem_doorbell,tests/unit/test_ivshmem_doorbell.c $(IVSHMEM_DEV_FIXTURE),dm hw ivshmem_dev pci ivshmem core,ivshmem_server_connect))
