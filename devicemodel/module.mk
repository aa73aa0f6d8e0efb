# The bottom of the device model (library `core`): logging, the PIO/MMIO range registry, and the
# services a VM offers its devices. It depends on nothing else of the device model; everything
# else depends on it.
CORE_SRCS := $(wildcard devicemodel/core/*.c)
$(eval $(call add_lib,core,$(CORE_SRCS)))

# Legacy devices (library `hw`).
HW_SRCS := $(wildcard devicemodel/hw/*.c)
$(eval $(call add_lib,hw,$(HW_SRCS)))

# Unit tests of the core.
$(eval $(call add_unit_test,test_io_dispatch,tests/unit/test_io_dispatch.c,core))
$(eval $(call add_unit_test,test_log,tests/unit/test_log.c tests/unit/test_stderr_capture.c,core))
$(eval $(call add_unit_test,test_log_sinks,tests/unit/test_log_sinks.c,core))
$(eval $(call add_unit_test,test_uart,tests/unit/test_uart.c,hw core))
