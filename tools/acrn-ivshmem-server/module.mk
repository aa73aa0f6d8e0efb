# acrn-ivshmem-server: the ivshmem server (QEMU protocol 0) for acrn-dm and QEMU peers.
# Links only the ivshmem library and the device model's logger (library core).
IVS_DIR  := tools/acrn-ivshmem-server
IVS_SRCS := $(filter-out $(IVS_DIR)/main.c,$(wildcard $(IVS_DIR)/*.c))
$(eval $(call add_lib,ivshmem_server,$(IVS_SRCS)))
$(eval $(call add_prog,acrn-ivshmem-server,$(IVS_DIR)/main.c,ivshmem_server ivshmem core))

# Unit tests (sources in tests/unit/).
$(eval $(call add_unit_test,test_server_core,tests/unit/test_server_core.c tests/unit/test_fd_util.c tests/unit/test_server_fixture.c,ivshmem_server ivshmem core))
$(eval $(call add_unit_test,test_server_identity,tests/unit/test_server_identity.c tests/unit/test_fd_util.c tests/unit/test_server_fixture.c,ivshmem_server ivshmem core))
$(eval $(call add_unit_test,test_server_options,tests/unit/test_server_options.c,ivshmem_server ivshmem core))
$(eval $(call add_unit_test,test_server_hostile,tests/unit/test_server_hostile.c tests/unit/test_fd_util.c tests/unit/test_stderr_capture.c tests/unit/test_server_fixture.c,ivshmem_server ivshmem core))
$(eval $(call add_unit_test,test_server_startup,tests/unit/test_server_startup.c,ivshmem_server ivshmem core))
