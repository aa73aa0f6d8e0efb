/* Shared by unit tests that check what was logged: runs a function with stderr in a file. */
#ifndef TEST_STDERR_CAPTURE_H
#define TEST_STDERR_CAPTURE_H

/* Runs fn with stderr sent to a temporary file; returns what it wrote (malloc'd, NUL-ended). */
char *capture_stderr(void (*fn)(void));

#endif
