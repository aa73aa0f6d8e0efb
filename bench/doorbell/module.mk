# The doorbell benchmarks (bench/doorbell/run.sh): the bench guest, booted by acrn-dm and QEMU,
# and two host programs, eventfd-pingpong (the floor) and db-stats (the guest's samples summed
# up), built into $(BUILD)/bench/bin so that `make install` never ships them.
include tests/guest/guest.mk

$(eval $(call add_guest,db_bench,bench/doorbell/db_bench.c))

# $(call db_bench_tool,NAME,SOURCES)
define db_bench_tool
$(BUILD)/bench/bin/$(1): $(call objs,$(2))
	@mkdir -p $$(@D)
	$$(call quiet,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^
PROGS += $(BUILD)/bench/bin/$(1)
ALL_OBJS += $(call objs,$(2))
endef

$(eval $(call db_bench_tool,eventfd-pingpong,bench/doorbell/eventfd_pingpong.c))
$(eval $(call db_bench_tool,db-stats,bench/doorbell/db_stats.c))
