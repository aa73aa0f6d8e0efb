# How freestanding test guests are built: flags, the runtime (tests/guest/rt) and add_guest.
#
# tests/guest/module.mk includes this. A module elsewhere that builds its own guests includes
# it first, since module.mk files are read in name order:
#	include tests/guest/guest.mk
#	$(eval $(call add_guest,my_guest,path/to/my_guest.c path/to/helper.c))
#
# Guests are compiled with their own flags, never the host CFLAGS: 64-bit code linked at 1 MiB
# without libc, PIE, red zone or SSE (interrupt stubs save no vector state), then converted to
# ELF32 so that both QEMU's -kernel and acrn-dm's -E start them through the Multiboot header.

ifndef GUEST_MK_INCLUDED
GUEST_MK_INCLUDED := 1

GUEST_RT_DIR  := tests/guest/rt
GUEST_CC      ?= gcc
GUEST_OBJCOPY ?= objcopy

GUEST_WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
                  -Wmissing-prototypes -Wpointer-arith -Wvla -Wundef -Wimplicit-fallthrough
GUEST_CFLAGS  := -std=gnu11 -O2 -g -m64 -march=x86-64 -ffreestanding -fno-builtin -nostdinc \
                 -isystem $(shell $(GUEST_CC) -print-file-name=include) \
                 -fno-pic -fno-pie -fno-stack-protector -fno-common -fcf-protection=none \
                 -mno-red-zone -mgeneral-regs-only -mcmodel=small \
                 -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
                 $(GUEST_WARNINGS) -MMD -MP -I$(GUEST_RT_DIR)
GUEST_ASFLAGS := -m64 -g -ffreestanding -MMD -MP -I$(GUEST_RT_DIR)
GUEST_LDFLAGS := -m64 -nostdlib -static -no-pie -Wl,-T,$(GUEST_RT_DIR)/guest.ld \
                 -Wl,-z,max-page-size=0x1000 -Wl,-z,noseparate-code -Wl,--build-id=none \
                 -Wl,-z,noexecstack

GUEST_RT_SRCS := $(addprefix $(GUEST_RT_DIR)/, \
	entry.S irq_entry.S smp_boot.S start.c exit.c serial.c format.c str.c check.c cmdline.c \
	multiboot.c paging.c idt.c pic.c cpu.c lapic.c timer.c irq.c smp.c pci.c pci_bar.c pci_msi.c)

guest_objs = $(patsubst %,$(BUILD)/guest/obj/%.o,$(basename $(1)))
GUEST_RT_OBJS := $(call guest_objs,$(GUEST_RT_SRCS))
ALL_OBJS += $(GUEST_RT_OBJS)

$(BUILD)/guest/obj/%.o: %.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest/obj/%.o: %.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_ASFLAGS) -c -o $@ $<

# $(call add_guest,NAME,SOURCES): $(BUILD)/guest/NAME.elf, the image to boot (ELF32), and
# $(BUILD)/guest/NAME.elf64, the same code with symbols for gdb and objdump.
define add_guest
$(BUILD)/guest/obj/guest_name/$(1).o: $(GUEST_RT_DIR)/guest_name.c
	@mkdir -p $$(@D)
	$$(GUEST_CC) $$(GUEST_CFLAGS) -DGUEST_NAME='"$(1)"' -c -o $$@ $$<

$(BUILD)/guest/$(1).elf64: $(GUEST_RT_OBJS) $(call guest_objs,$(2)) $(BUILD)/guest/obj/guest_name/$(1).o $(GUEST_RT_DIR)/guest.ld
	$$(GUEST_CC) $$(GUEST_LDFLAGS) -o $$@ $(GUEST_RT_OBJS) $(call guest_objs,$(2)) $(BUILD)/guest/obj/guest_name/$(1).o -lgcc

$(BUILD)/guest/$(1).elf: $(BUILD)/guest/$(1).elf64
	$$(GUEST_OBJCOPY) -O elf32-i386 $$< $$@

GUESTS += $(BUILD)/guest/$(1).elf
ALL_OBJS += $(call guest_objs,$(2)) $(BUILD)/guest/obj/guest_name/$(1).o
endef

endif
