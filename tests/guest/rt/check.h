/*
 * Test reporting. A guest runs one or more named checks:
 *
 *	test_begin("irq/self-ipi");
 *	CHECK(v == 0x50, "got vector %d", v);
 *	CHECK_EQ(mmio_read32(bar0 + 8), 0);
 *	test_pass();			prints "PASS: irq/self-ipi"
 *
 * A failed CHECK prints "FAIL: <test>: <file>:<line>: <message> [<condition>]" and ends the VM
 * with status 1. Outside test_begin/test_pass the test name is the guest's own name, and the
 * runtime prints "PASS: <guest>" itself when guest_main returns 0.
 */
#ifndef GUEST_CHECK_H
#define GUEST_CHECK_H

#include <stdint.h>

/* The guest's name, from the add_guest call in its module.mk. */
extern const char guest_name[];

void test_begin(const char *name);
void test_pass(void);
/* "SKIP: <test>: <why>": for a check whose device or feature is absent. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void test_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *test_current(void);

__attribute__((noreturn)) void check_failed(const char *file, int line, const char *cond,
					    const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The " " lets CHECK be used with or without a message, CHECK(x) or CHECK(x, "x=%d", x), and
 * separates the message from the file:line prefix.
 */
#define CHECK(cond, ...)                                                               \
	do {                                                                           \
		if (!(cond))                                                           \
			check_failed(__FILE__, __LINE__, #cond, " " __VA_ARGS__);       \
	} while (0)

#define CHECK_EQ(a, b)                                                                 \
	do {                                                                           \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);           \
		if (check_a_ != check_b_)                                              \
			check_failed(__FILE__, __LINE__, #a " == " #b, " 0x%lx != 0x%lx", \
				     check_a_, check_b_);                              \
	} while (0)

#endif
