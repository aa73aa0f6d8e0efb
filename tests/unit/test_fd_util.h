/* Shared by unit tests that check no file descriptor leaks. */
#ifndef TEST_FD_UTIL_H
#define TEST_FD_UTIL_H

/* How many descriptors this process has open now (entries of /proc/self/fd). */
unsigned count_fds(void);

#endif
