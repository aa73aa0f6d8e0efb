/*
 * Everything a test guest needs, in one include. A guest defines
 *
 *	int guest_main(const struct mb_info *mbi, const char *cmdline);
 *
 * and is built with $(call add_guest,NAME,SOURCES) (tests/guest/guest.mk). The runtime starts
 * it in 64-bit mode on identity-mapped memory with the serial port, exception handlers and a
 * masked legacy PIC set up; interrupts stay off except inside wait_irq(). When guest_main
 * returns, the runtime prints "PASS: <guest>" (0) or "FAIL: <guest>: ..." and exits with the
 * returned value.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "cmdline.h"
#include "cpu.h"
#include "exit.h"
#include "io.h"
#include "irq.h"
#include "lapic.h"
#include "mmio.h"
#include "multiboot.h"
#include "paging.h"
#include "pci.h"
#include "print.h"
#include "smp.h"
#include "str.h"
#include "timer.h"

int guest_main(const struct mb_info *mbi, const char *cmdline);

#endif
