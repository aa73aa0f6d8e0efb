# The doorbell test guest: one image, its role (peer, plain, echo) from the command line.
include tests/guest/guest.mk

$(eval $(call add_guest,doorbell,tests/guest/doorbell/doorbell.c tests/guest/doorbell/db_dev.c tests/guest/doorbell/db_echo.c))
