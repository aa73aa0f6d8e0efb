# samples/: the ivmsg message channel that the demo, the Linux sample and the benchmarks share.
# samples/lib/ivmsg.c is freestanding: the same file is built here for the host (the library
# ivmsg, for Linux user space and the unit tests) and by guest builds (samples/demo/module.mk).

IVMSG_SRCS := samples/lib/ivmsg.c
$(eval $(call add_lib,ivmsg,$(IVMSG_SRCS)))

$(eval $(call add_unit_test,test_ivmsg,tests/unit/test_ivmsg.c,ivmsg))
$(call objs,tests/unit/test_ivmsg.c): CPPFLAGS += -Isamples/lib
