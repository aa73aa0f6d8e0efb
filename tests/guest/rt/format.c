/* printf-style formatting (see print.h for what is supported). */
#include "print.h"

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "io.h"
#include "serial.h"

struct spec {
	bool left;		/* '-' */
	bool zero;		/* '0' */
	int width;
	int precision;		/* -1: none */
	int length;		/* 0 int, 1 long, 2 long long (also z and p), -1 short, -2 char */
};

struct out {
	format_emit_fn emit;
	void *ctx;
	int count;
};

static void put(struct out *o, char c)
{
	o->emit(o->ctx, c);
	o->count++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_string(struct out *o, const struct spec *sp, const char *s)
{
	int len = 0;

	if (!s)
		s = "(null)";
	while (s[len] && (sp->precision < 0 || len < sp->precision))
		len++;
	if (!sp->left)
		pad(o, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - len);
}

static void put_number(struct out *o, const struct spec *sp, uint64_t v, bool negative,
		       unsigned base, bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int n = 0, plen = 0, total;

	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (negative)
		prefix = "-";
	while (prefix && prefix[plen])
		plen++;
	total = n + plen;

	if (!sp->left && !sp->zero)
		pad(o, ' ', sp->width - total);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	if (!sp->left && sp->zero)
		pad(o, '0', sp->width - total);
	while (n)
		put(o, buf[--n]);
	if (sp->left)
		pad(o, ' ', sp->width - total);
}

static uint64_t take_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 2:
		return va_arg(*ap, unsigned long long);
	case 1:
		return va_arg(*ap, unsigned long);
	case -1:
		return (unsigned short)va_arg(*ap, unsigned int);
	case -2:
		return (unsigned char)va_arg(*ap, unsigned int);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static int64_t take_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 2:
		return va_arg(*ap, long long);
	case 1:
		return va_arg(*ap, long);
	case -1:
		return (short)va_arg(*ap, int);
	case -2:
		return (signed char)va_arg(*ap, int);
	default:
		return va_arg(*ap, int);
	}
}

/* Reads flags, width, precision and length of one conversion; returns the conversion char. */
static char parse_spec(const char **pf, struct spec *sp, va_list *ap)
{
	const char *f = *pf;

	*sp = (struct spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->precision = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			sp->precision = sp->precision * 10 + (*f++ - '0');
	}
	for (;; f++) {
		if (*f == 'l' || *f == 'z')
			sp->length = sp->length >= 1 ? 2 : (*f == 'z' ? 2 : 1);
		else if (*f == 'h')
			sp->length = sp->length == -1 ? -2 : -1;
		else
			break;
	}
	*pf = f + (*f ? 1 : 0);
	return *f;
}

int vformat(format_emit_fn emit, void *ctx, const char *fmt, va_list ap_in)
{
	struct out o = { emit, ctx, 0 };
	struct spec sp;
	va_list ap;

	va_copy(ap, ap_in);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		char conv = parse_spec(&fmt, &sp, &ap);
		switch (conv) {
		case 'd':
		case 'i': {
			int64_t v = take_signed(&sp, &ap);
			put_number(&o, &sp, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, false, NULL);
			break;
		}
		case 'u':
			put_number(&o, &sp, take_unsigned(&sp, &ap), false, 10, false, NULL);
			break;
		case 'x':
		case 'X':
			put_number(&o, &sp, take_unsigned(&sp, &ap), false, 16, conv == 'X', NULL);
			break;
		case 'p':
			put_number(&o, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false, "0x");
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's':
			put_string(&o, &sp, va_arg(ap, const char *));
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			break;
		default:
			/* Unknown conversion: show it rather than silently eating arguments. */
			put(&o, '%');
			put(&o, conv);
			break;
		}
	}
	va_end(ap);
	return o.count;
}

static void emit_serial(void *ctx, char c)
{
	(void)ctx;
	serial_putc(c);
}

/*
 * One CPU prints at a time, so lines from several CPUs stay whole. The owner may print again
 * while it holds the lock (an exception reported in the middle of a line).
 */
static int print_owner = -1;
static unsigned print_depth;

static void print_lock(void)
{
	int me = (int)cpu_index();

	if (__atomic_load_n(&print_owner, __ATOMIC_ACQUIRE) == me) {
		print_depth++;
		return;
	}
	for (;;) {
		int free_owner = -1;

		if (__atomic_compare_exchange_n(&print_owner, &free_owner, me, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		cpu_relax();
	}
	print_depth = 1;
}

static void print_unlock(void)
{
	if (--print_depth == 0)
		__atomic_store_n(&print_owner, -1, __ATOMIC_RELEASE);
}

int vprintf(const char *fmt, va_list ap)
{
	print_lock();
	int n = vformat(emit_serial, NULL, fmt, ap);

	print_unlock();
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	print_lock();
	serial_write(s);
	serial_putc('\n');
	print_unlock();
	return 0;
}

struct buf {
	char *p;
	size_t left;		/* room for characters, not counting the NUL */
};

static void emit_buf(void *ctx, char c)
{
	struct buf *b = ctx;

	if (b->left) {
		*b->p++ = c;
		b->left--;
	}
}

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct buf b = { buf, len ? len - 1 : 0 };
	int n = vformat(emit_buf, &b, fmt, ap);

	if (len)
		*b.p = '\0';
	return n;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
