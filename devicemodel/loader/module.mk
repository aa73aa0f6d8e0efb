# The guest loader: ELF and Multiboot images into guest RAM (library `loader`).
LOADER_SRCS := $(addprefix devicemodel/loader/,guest_load.c elf.c multiboot.c boot_mem.c)
$(eval $(call add_lib,loader,$(LOADER_SRCS)))

# Needs only vm_gpa_to_hva from core (vm_services.c): guest RAM is a malloc'd buffer in the test.
$(eval $(call add_unit_test,test_guest_load,tests/unit/test_guest_load.c,loader core))
