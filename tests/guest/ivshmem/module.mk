# The ivshmem test guests (tests/guest/ivshmem) and the host-side checker their integration
# scripts use (tests/integration/tools/ivshmem_pattern.c, built into $(BUILD)/tests/tools so that
# `make install` never ships it).
include tests/guest/guest.mk

$(eval $(call add_guest,ivshmem_plain,tests/guest/ivshmem/ivshmem_plain.c))

IVT_PATTERN_SRCS := tests/integration/tools/ivshmem_pattern.c
$(BUILD)/tests/tools/ivshmem-pattern: $(call objs,$(IVT_PATTERN_SRCS))
	@mkdir -p $(@D)
	$(call quiet,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
PROGS += $(BUILD)/tests/tools/ivshmem-pattern
ALL_OBJS += $(call objs,$(IVT_PATTERN_SRCS))
