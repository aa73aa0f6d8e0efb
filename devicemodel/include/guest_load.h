/*
 * Loads the -E image into guest RAM and says how the boot vCPU starts.
 *
 * An ELF (32- or 64-bit) carrying a Multiboot v1 header in its first 8 KiB starts as the Multiboot
 * spec says, as ACRN starts Zephyr: 32-bit protected mode, flat segments, paging off,
 * EAX = 0x2BADB002, EBX = guest physical address of a Multiboot info block holding the memory
 * information, the memory map and (when bootargs is not NULL, from -B) the command line.
 * A plain ELF64 without the header starts directly in long mode on identity-mapped page tables
 * the loader writes (2 MiB pages over the first 4 GiB, high RAM and the 64-bit PCI window), with a
 * GDT (0x08 code, 0x10 data). A Multiboot header with flag bit 16 (the "a.out kludge") places a
 * flat image at the header's addresses. Segments load at p_paddr. Everything the loader adds (info
 * block, stack, GDT, page tables) lies in RAM below 639 KiB, clear of the image.
 *
 * Only vm_gpa_to_hva() and vm->lowmem/highmem are used, so a test can hand in a struct vm whose
 * RAM is a malloc'd buffer.
 */
#ifndef DM_GUEST_LOAD_H
#define DM_GUEST_LOAD_H

#include <stddef.h>

#include "vmm.h"

struct vm;

/*
 * Returns 0, or -1 with a one-line reason in err ("guest.elf: segment 1 at 0x... lies outside guest
 * RAM"). Never trusts the file: every offset, size and address is checked before use.
 */
int guest_load(struct vm *vm, const char *path, const char *bootargs,
	       struct vcpu_boot_state *boot, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
