# The Linux guest side: ivshmem_guest (find and map ivshmem devices with libpciaccess) and
# ivshmem-ping, the demo's operator or real-time side as a Linux program. Built and tested on
# the host (against a fake sysfs, tests/integration/samples.sh); meant to run inside a guest.
PCIACCESS_CFLAGS := $(shell $(PKG_CONFIG) --cflags pciaccess 2>/dev/null)
PCIACCESS_LIBS   := $(shell $(PKG_CONFIG) --libs pciaccess 2>/dev/null)

$(eval $(call add_lib,ivshmem_guest,samples/linux/ivshmem_guest.c))
$(eval $(call add_prog,ivshmem-ping,samples/linux/ivshmem-ping.c samples/demo/plant.c,ivshmem_guest ivmsg,$(PCIACCESS_LIBS)))
$(call objs,samples/linux/ivshmem_guest.c samples/linux/ivshmem-ping.c): \
	CPPFLAGS += -Isamples/lib -Isamples/demo $(PCIACCESS_CFLAGS)
