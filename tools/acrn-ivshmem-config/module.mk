# acrn-ivshmem-config: the IVSHMEM section of ACRN scenario files (docs/acrn-ivshmem-config.md).
# Everything but main.c is the library ivconfig, which the unit tests link; the region name, size
# and id rules come from the ivshmem library (ivshmem/region_args.c), shared with acrn-dm.

IVCONFIG_DIR  := tools/acrn-ivshmem-config
IVCONFIG_SRCS := $(addprefix $(IVCONFIG_DIR)/, \
	diag.c json.c vbdf.c values.c xml_util.c xml_edit.c scenario.c scenario_write.c \
	model.c rules.c fill.c edit.c generate.c cli.c cli_edit.c)
IVCONFIG_XML_CFLAGS := $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null)
IVCONFIG_XML_LIBS   := $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null)

$(eval $(call add_lib,ivconfig,$(IVCONFIG_SRCS)))
$(eval $(call add_prog,acrn-ivshmem-config,$(IVCONFIG_DIR)/main.c,ivconfig ivshmem,$(IVCONFIG_XML_LIBS)))

# Unit tests: one per concern. They find the real scenario files through IVCONFIG_TESTDATA.
IVCONFIG_TESTS := test_config_vbdf test_config_rules test_config_scenario test_config_edit \
	test_config_generate test_config_cli
$(foreach t,$(IVCONFIG_TESTS),$(eval $(call add_unit_test,$(t),tests/unit/$(t).c tests/unit/test_config_util.c,ivconfig ivshmem,,$(IVCONFIG_XML_LIBS))))

$(call objs,$(IVCONFIG_SRCS) $(IVCONFIG_DIR)/main.c): CFLAGS += $(IVCONFIG_XML_CFLAGS)
$(call objs,$(foreach t,$(IVCONFIG_TESTS),tests/unit/$(t).c) tests/unit/test_config_util.c): \
	CFLAGS += $(IVCONFIG_XML_CFLAGS) -I$(IVCONFIG_DIR) \
		-DIVCONFIG_TESTDATA='"$(CURDIR)/$(IVCONFIG_DIR)/testdata"'
