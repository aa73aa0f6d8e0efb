# The test guests of tests/guest (their runtime and add_guest are in guest.mk).
include tests/guest/guest.mk

$(eval $(call add_guest,pci_enum,tests/guest/pci_enum.c))
$(eval $(call add_guest,irq_selftest,tests/guest/irq_selftest.c))
$(eval $(call add_guest,paging_selftest,tests/guest/paging_selftest.c))
$(eval $(call add_guest,fault_selftest,tests/guest/fault_selftest.c))
$(eval $(call add_guest,smp_selftest,tests/guest/smp_selftest.c))
$(eval $(call add_guest,uart_ports,tests/guest/uart_ports.c))
