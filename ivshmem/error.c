/* The one formatter behind every error message of the library (see ivshmem_error.h). */
#include <stdarg.h>
#include <stdio.h>

#include "ivshmem_error.h"

int ivshmem_fail(struct ivshmem_error *err, int errnum, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}
