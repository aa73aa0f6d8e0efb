/*
 * The boot command line: acrn-dm's -B "text" or QEMU's -append "text". QEMU puts the kernel's
 * path in front ("build/guest/x.elf text"), so look things up by key, never by position.
 * Words are separated by spaces; a word is either "key=value" or a bare "flag".
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies the value of key=value into buf (truncated to len - 1); false when absent. */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t len);
/* Parses the value as a number: decimal or 0x-hex, with an optional K, M or G suffix. */
bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *value);
/* True when the word "flag" or "flag=..." appears. */
bool cmdline_has(const char *cmdline, const char *flag);
/* The number parser above, for other strings: the whole of s must be a number. */
bool parse_u64(const char *s, uint64_t *value);

#endif
