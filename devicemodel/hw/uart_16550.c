/*
 * A 16550 UART that a guest can print through. Only the transmit side is emulated: the guest sees
 * an always-empty transmitter (LSR THRE|TEMT), so polling drivers never wait, and no interrupts
 * are raised. Register state (IER, LCR, MCR, SCR, divisor latch) reads back what was written, which
 * is what probing drivers check.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_dispatch.h"
#include "log.h"
#include "uart_16550.h"
#include "vm.h"

enum {
	REG_DATA = 0,	/* THR/RBR, or DLL with DLAB */
	REG_IER = 1,	/* or DLM with DLAB */
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define LCR_DLAB	0x80
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NO_INT	0x01
#define IIR_FIFO_ON	0xc0
#define MSR_DCD_DSR_CTS	0xb0
#define MCR_LOOP	0x10

struct uart_16550 {
	pthread_mutex_t lock;
	uint16_t base;
	int fd;
	bool own_fd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	/* Output is line buffered so a transcript is written in whole lines. */
	char buf[256];
	size_t used;
};

static void uart_flush_locked(struct uart_16550 *uart)
{
	size_t off = 0;
	while (off < uart->used) {
		ssize_t n = write(uart->fd, uart->buf + off, uart->used - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a closed stdout must not stop the guest */
		off += (size_t)n;
	}
	uart->used = 0;
}

static void uart_transmit(struct uart_16550 *uart, uint8_t byte)
{
	uart->buf[uart->used++] = (char)byte;
	if (byte == '\n' || uart->used == sizeof(uart->buf))
		uart_flush_locked(uart);
}

static uint8_t uart_read(struct uart_16550 *uart, unsigned reg)
{
	bool dlab = uart->lcr & LCR_DLAB;
	switch (reg) {
	case REG_DATA: return dlab ? uart->dll : 0;
	case REG_IER: return dlab ? uart->dlm : uart->ier;
	case REG_IIR_FCR: return IIR_NO_INT | ((uart->fcr & 1) ? IIR_FIFO_ON : 0);
	case REG_LCR: return uart->lcr;
	case REG_MCR: return uart->mcr;
	case REG_LSR: return LSR_THRE | LSR_TEMT;
	case REG_MSR: return (uart->mcr & MCR_LOOP) ? 0 : MSR_DCD_DSR_CTS;
	default: return uart->scr;
	}
}

static void uart_write(struct uart_16550 *uart, unsigned reg, uint8_t val)
{
	bool dlab = uart->lcr & LCR_DLAB;
	switch (reg) {
	case REG_DATA:
		if (dlab)
			uart->dll = val;
		else if (!(uart->mcr & MCR_LOOP))
			uart_transmit(uart, val);
		break;
	case REG_IER:
		if (dlab)
			uart->dlm = val;
		else
			uart->ier = val & 0x0f;
		break;
	case REG_IIR_FCR: uart->fcr = val; break;
	case REG_LCR: uart->lcr = val; break;
	case REG_MCR: uart->mcr = val & 0x1f; break;
	case REG_SCR: uart->scr = val; break;
	default: break; /* LSR and MSR are read-only */
	}
}

static int uart_access(void *opaque, uint64_t offset, unsigned size, bool is_write,
		       uint64_t *value)
{
	struct uart_16550 *uart = opaque;
	pthread_mutex_lock(&uart->lock);
	/* A wide access touches consecutive registers, as on an 8-bit ISA bus. */
	uint64_t result = 0;
	for (unsigned i = 0; i < size && offset + i < 8; i++) {
		unsigned reg = (unsigned)offset + i;
		if (is_write)
			uart_write(uart, reg, (uint8_t)(*value >> (8 * i)));
		else
			result |= (uint64_t)uart_read(uart, reg) << (8 * i);
	}
	pthread_mutex_unlock(&uart->lock);
	if (!is_write)
		*value = result;
	return 0;
}

int uart_16550_create(struct vm *vm, uint16_t base, const char *backend, struct uart_16550 **out)
{
	struct uart_16550 *uart = calloc(1, sizeof(*uart));
	if (!uart) {
		pr_err("uart", "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&uart->lock, NULL);
	uart->base = base;
	if (strcmp(backend, "stdio") == 0) {
		uart->fd = STDOUT_FILENO;
	} else {
		uart->fd = open(backend, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (uart->fd < 0) {
			int err = -errno;
			pr_err("uart", "cannot open %s for the serial output: %s", backend,
			       strerror(errno));
			free(uart);
			return err;
		}
		uart->own_fd = true;
	}
	const struct io_range range = {
		.name = "uart", .space = IO_SPACE_PIO, .base = base, .len = 8,
		.handler = uart_access, .opaque = uart,
	};
	int ret = io_register(vm_io(vm), &range);
	if (ret < 0) {
		pr_err("uart", "ports 0x%x-0x%x are taken", base, base + 7);
		if (uart->own_fd)
			close(uart->fd);
		free(uart);
		return ret;
	}
	*out = uart;
	return 0;
}

void uart_16550_destroy(struct vm *vm, struct uart_16550 *uart)
{
	if (!uart)
		return;
	io_unregister(vm_io(vm), IO_SPACE_PIO, uart->base);
	pthread_mutex_lock(&uart->lock);
	uart_flush_locked(uart);
	pthread_mutex_unlock(&uart->lock);
	if (uart->own_fd)
		close(uart->fd);
	pthread_mutex_destroy(&uart->lock);
	free(uart);
}
