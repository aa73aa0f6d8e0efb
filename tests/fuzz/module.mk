# libFuzzer targets (tests/fuzz/README.md): built only in the FUZZ=1 configuration, which
# `make fuzz` and `make check` use with BUILD=build/fuzz, into $(BUILD)/targets/.
FUZZ_DIR := tests/fuzz
FUZZ_FD_UTIL := tests/unit/test_fd_util.c
# tools/acrn-ivshmem-config/module.mk is read after this file (module.mk files go in name order),
# so its variables are not set yet: the scenario harness asks pkg-config itself.
FUZZ_XML_CFLAGS := $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null)
FUZZ_XML_LIBS   := $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null)

$(eval $(call add_fuzz,fuzz_ivshmem_config,$(FUZZ_DIR)/fuzz_ivshmem_config.c,ivshmem_dev ivshmem))
$(eval $(call add_fuzz,fuzz_dm_options,$(FUZZ_DIR)/fuzz_dm_options.c,$(ACRN_DM_LIBS)))
$(eval $(call add_fuzz,fuzz_guest_load,$(FUZZ_DIR)/fuzz_guest_load.c,loader core))
$(foreach t,client server hello,$(eval $(call add_fuzz,fuzz_proto_$(t),$(FUZZ_DIR)/fuzz_proto_$(t).c $(FUZZ_FD_UTIL),ivshmem)))
$(eval $(call add_fuzz,fuzz_scenario,$(FUZZ_DIR)/fuzz_scenario.c,ivconfig ivshmem_dev ivshmem,$(FUZZ_XML_LIBS)))
$(eval $(call add_fuzz,fuzz_ivmsg,$(FUZZ_DIR)/fuzz_ivmsg.c,ivmsg))

$(call objs,$(wildcard $(FUZZ_DIR)/*.c)): CPPFLAGS += -Itests/unit -Isamples/lib -Itools/acrn-ivshmem-config
$(call objs,$(FUZZ_DIR)/fuzz_scenario.c): CFLAGS += $(FUZZ_XML_CFLAGS)
