# The demo (make demo): the operator and real-time guests of the seed's scenario, exchanging
# commands and answers through one ivshmem region with samples/lib/ivmsg.c.
include tests/guest/guest.mk

DEMO_COMMON := samples/lib/ivmsg.c samples/demo/guest_ivshmem.c samples/demo/demo_link.c
DEMO_OPERATOR_SRCS := samples/demo/operator.c $(DEMO_COMMON)
DEMO_RT_SRCS := samples/demo/rt.c samples/demo/plant.c $(DEMO_COMMON)

$(eval $(call add_guest,demo_operator,$(DEMO_OPERATOR_SRCS)))
$(eval $(call add_guest,demo_rt,$(DEMO_RT_SRCS)))
$(call guest_objs,$(DEMO_OPERATOR_SRCS) $(DEMO_RT_SRCS)): GUEST_CFLAGS += -Isamples/lib -Isamples/demo

# The plant's command language, tested on the host.
$(eval $(call add_unit_test,test_ivmsg_plant,tests/unit/test_ivmsg_plant.c samples/demo/plant.c))
$(call objs,tests/unit/test_ivmsg_plant.c): CPPFLAGS += -Isamples/demo
