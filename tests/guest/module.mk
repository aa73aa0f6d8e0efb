# The test guests of tests/guest (their runtime and add_guest are in guest.mk).
include tests/guest/guest.mk

$(eval $(call add_guest,pci_enum,tests/guest/pci_enum.c))
$(eval $(call add_guest,irq_selftest,tests/guest/irq_selftest.c))
