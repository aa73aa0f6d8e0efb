/*
 * printf-style formatting without libc. Conversions: %s %c %d %i %u %x %X %p %%, with the
 * length modifiers hh h l ll z, flags '-' and '0', a field width (or *) and, for %s, a
 * precision (.N or .*). Output of printf/puts goes to the serial port.
 */
#ifndef GUEST_PRINT_H
#define GUEST_PRINT_H

#include <stdarg.h>
#include <stddef.h>

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Writes s and a newline, as libc's puts does. */
int puts(const char *s);

/* The engine behind all of them: calls emit once per output character; returns the count. */
typedef void (*format_emit_fn)(void *ctx, char c);
int vformat(format_emit_fn emit, void *ctx, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
