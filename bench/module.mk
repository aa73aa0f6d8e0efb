# Benchmarks (make bench runs bench/run-bench.sh): the guests that transfer through BAR2 or
# just boot, and a host program for the baselines. The host program goes to $(BUILD)/bench/,
# not $(BUILD)/bin/, so `make install` leaves it out.
include tests/guest/guest.mk

BENCH_BW_SRCS := bench/guests/bench_bw.c bench/bwproto.c samples/lib/ivmsg.c \
	samples/demo/guest_ivshmem.c
BENCH_BOOT_SRCS := bench/guests/bench_boot.c samples/demo/guest_ivshmem.c
$(eval $(call add_guest,bench_bw,$(BENCH_BW_SRCS)))
$(eval $(call add_guest,bench_boot,$(BENCH_BOOT_SRCS)))
$(call guest_objs,$(BENCH_BW_SRCS) $(BENCH_BOOT_SRCS)): GUEST_CFLAGS += -Isamples/lib -Isamples/demo -Ibench

BENCH_HOST_SRCS := bench/host/membw.c bench/bwproto.c
$(BUILD)/bench/membw: $(call objs,$(BENCH_HOST_SRCS)) $(call libs,ivmsg)
	@mkdir -p $(@D)
	$(call quiet,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(call objs,$(BENCH_HOST_SRCS)) $(call libs,ivmsg) -lpthread
$(call objs,$(BENCH_HOST_SRCS)): CPPFLAGS += -Isamples/lib -Ibench
PROGS += $(BUILD)/bench/membw
ALL_OBJS += $(call objs,$(BENCH_HOST_SRCS))
