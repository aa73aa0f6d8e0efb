# Compiler flags and the helpers every module.mk uses.

CC         ?= cc
FUZZ_CC    ?= clang
AR         ?= ar
PKG_CONFIG ?= pkg-config

# Libraries the device model and tools link; asked of pkg-config once per make run.
PKGS        := glib-2.0 uuid
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wvla -Wundef -Wnull-dereference -Wimplicit-fallthrough
CPPFLAGS := -Idevicemodel/include -Iivshmem/include -D_GNU_SOURCE
CFLAGS   := -std=gnu11 -g $(WARNINGS) -fstack-protector-strong -fPIE -MMD -MP $(PKG_CFLAGS)
LDFLAGS  := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
LDLIBS   := $(PKG_LIBS) -lpthread

ifeq ($(FUZZ),1)
# The libFuzzer build (make fuzz, make check's replay; tests/fuzz/): clang, ASan+UBSan, and
# coverage instrumentation in every library; only the harnesses link libFuzzer's main.
CC      := $(FUZZ_CC)
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
           -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else ifeq ($(SAN),1)
# _FORTIFY_SOURCE is left out here: ASan intercepts the same functions and reports more precisely.
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
CFLAGS  += -O2 -D_FORTIFY_SOURCE=2
endif

objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
libs = $(foreach l,$(1),$(BUILD)/lib/lib$(l).a)

# Quiet by default; `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-6s %s\n' $(1) $(2)
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# $(call add_lib,NAME,SOURCES): $(BUILD)/lib/libNAME.a
define add_lib
$(BUILD)/lib/lib$(1).a: $(call objs,$(2))
	@mkdir -p $$(@D)
	$$(call quiet,AR,$$@)
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^
ALL_OBJS += $(call objs,$(2))
endef

# $(call add_prog,NAME,SOURCES,LIBS,EXTRA_LDLIBS): $(BUILD)/bin/NAME
define add_prog
$(BUILD)/bin/$(1): $(call objs,$(2)) $(call libs,$(3))
	@mkdir -p $$(@D)
	$$(call quiet,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $(call objs,$(2)) -Wl,--start-group $(call libs,$(3)) -Wl,--end-group $$(LDLIBS) $(4)
PROGS += $(BUILD)/bin/$(1)
ALL_OBJS += $(call objs,$(2))
endef

# $(call add_unit_test,NAME,SOURCES,LIBS,WRAPPED_SYMBOLS,EXTRA_LDLIBS): $(BUILD)/tests/unit/NAME
# WRAPPED_SYMBOLS become -Wl,--wrap=SYM so a test can stand in for the kernel boundary.
define add_unit_test
$(BUILD)/tests/unit/$(1): $(call objs,$(2)) $(call libs,$(3))
	@mkdir -p $$(@D)
	$$(call quiet,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $(call objs,$(2)) $(foreach w,$(4),-Wl,--wrap=$(w)) -Wl,--start-group $(call libs,$(3)) -Wl,--end-group $$(LDLIBS) -lcmocka $(5)
UNIT_TESTS += $(BUILD)/tests/unit/$(1)
ALL_OBJS += $(call objs,$(2))
endef

# $(call add_fuzz,NAME,SOURCES,LIBS,EXTRA_LDLIBS): $(BUILD)/targets/NAME, a libFuzzer target
# (tests/fuzz/NAME.c); only built in the FUZZ=1 configuration (see tests/fuzz/module.mk).
define add_fuzz
$(BUILD)/targets/$(1): $(call objs,$(2)) $(call libs,$(3))
	@mkdir -p $$(@D)
	$$(call quiet,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -fsanitize=fuzzer -o $$@ $(call objs,$(2)) -Wl,--start-group $(call libs,$(3)) -Wl,--end-group $$(LDLIBS) $(4)
FUZZ_BINS += $(BUILD)/targets/$(1)
ALL_OBJS += $(call objs,$(2))
endef

PROGS      :=
UNIT_TESTS :=
FUZZ_BINS  :=
GUESTS     :=
ALL_OBJS   :=

include $(sort $(wildcard */module.mk */*/module.mk */*/*/module.mk))

build-all: $(PROGS) guests
unit-tests: $(UNIT_TESTS)
fuzz-targets: $(FUZZ_BINS)
guests: $(GUESTS)

-include $(ALL_OBJS:.o=.d)
