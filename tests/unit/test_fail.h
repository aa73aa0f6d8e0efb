/*
 * fail_now(): cmocka's fail_msg() for a path that must end there.
 *
 * fail_msg() never comes back (cmocka leaves the test with a longjmp), but cmocka 1.1 does not
 * declare _fail() noreturn, so gcc -O2 -Wnull-dereference follows the path past it (a lookup's
 * "return NULL" after the failure) into the caller's dereference and rejects the build. abort()
 * after it tells the compiler what cmocka already guarantees: a lookup that fails that way never
 * returns NULL.
 */
#ifndef TEST_FAIL_H
#define TEST_FAIL_H

#include <stdlib.h>

#define fail_now(...)                    \
	do {                             \
		fail_msg(__VA_ARGS__);   \
		abort();                 \
	} while (0)

#endif
