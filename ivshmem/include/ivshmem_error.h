/*
 * Error reporting for the ivshmem library: functions return a negative errno and, when the
 * caller passes a struct ivshmem_error, one line saying what was wrong and which field/value.
 * The library never logs: acrn-dm and the server decide where messages go.
 */
#ifndef IVSHMEM_ERROR_H
#define IVSHMEM_ERROR_H

#define IVSHMEM_ERROR_LEN 256

struct ivshmem_error {
	char msg[IVSHMEM_ERROR_LEN];
};

/* Formats into err (when non-NULL) and returns -errnum (errnum > 0), so "return ivshmem_fail(...)". */
int ivshmem_fail(struct ivshmem_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
