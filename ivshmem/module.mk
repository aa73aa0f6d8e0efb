# The ivshmem library: region backends and the ivshmem server wire protocol.
# Shared by acrn-dm and acrn-ivshmem-server, so it depends on nothing else of the device model.
IVSHMEM_SRCS := $(wildcard ivshmem/*.c)
$(eval $(call add_lib,ivshmem,$(IVSHMEM_SRCS)))

# Unit tests (sources in tests/unit/).
$(eval $(call add_unit_test,test_ivshmem_args,tests/unit/test_ivshmem_args.c,ivshmem))
$(eval $(call add_unit_test,test_ivshmem_region,tests/unit/test_ivshmem_region.c tests/unit/test_fd_util.c,ivshmem))
$(eval $(call add_unit_test,test_ivshmem_hugetlb,tests/unit/test_ivshmem_hugetlb.c,ivshmem))
$(eval $(call add_unit_test,test_ivshmem_proto_wire,tests/unit/test_ivshmem_proto_wire.c tests/unit/test_fd_util.c,ivshmem))
$(eval $(call add_unit_test,test_ivshmem_proto_client,tests/unit/test_ivshmem_proto_client.c tests/unit/test_fd_util.c,ivshmem))
$(eval $(call add_unit_test,test_ivshmem_proto_hello,tests/unit/test_ivshmem_proto_hello.c,ivshmem))
