/* Compiled once per guest with -DGUEST_NAME="<name>" (see add_guest in guest.mk). */
#include "check.h"

#ifndef GUEST_NAME
#error "GUEST_NAME must be defined by the build"
#endif

const char guest_name[] = GUEST_NAME;
