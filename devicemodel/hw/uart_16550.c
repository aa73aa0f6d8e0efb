/*
 * A 16550 UART at a port (COM1 0x3f8/IRQ 4, COM2 0x2f8/IRQ 3). The guest sees an always-empty
 * transmitter (LSR THRE|TEMT), so polling drivers never wait; what it sends goes to the backend
 * (uart_backend.c) in whole lines. Bytes a TCP console client types arrive in a receive buffer
 * the guest reads through RBR and LSR.DR (loopback mode feeds it from THR too). Register state
 * (IER, LCR, MCR, SCR, divisor latch) reads back what was written, which is what probing drivers
 * check.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "io_dispatch.h"
#include "log.h"
#include "uart_16550.h"
#include "uart_backend.h"
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
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NO_INT	0x01
#define IIR_FIFO_ON	0xc0
#define MSR_DCD_DSR_CTS	0xb0
#define MCR_LOOP	0x10

/*
 * Received bytes the guest has not read yet. Larger than a 16550's FIFO so that a line typed or
 * pasted into a TCP console is not lost before a polling guest gets to it; beyond it bytes are
 * dropped and LSR.OE reports the overrun.
 */
#define RX_BUF_SIZE	4096

struct uart_16550 {
	pthread_mutex_t lock;
	char name[8];		/* "com1" */
	uint16_t base;
	unsigned irq;		/* the ISA IRQ line the UART drives */
	struct uart_backend *backend;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, lsr_errors;
	/* Output is line buffered so a transcript is written in whole lines. */
	char buf[256];
	size_t used;
	uint8_t rx[RX_BUF_SIZE];
	size_t rx_start, rx_len;
};

static void uart_flush_locked(struct uart_16550 *uart)
{
	uart_backend_write(uart->backend, uart->buf, uart->used);
	uart->used = 0;
}

/* Queues received bytes for RBR; false when the buffer was full (an overrun). */
static bool uart_rx_push_locked(struct uart_16550 *uart, uint8_t byte)
{
	if (uart->rx_len == RX_BUF_SIZE) {
		uart->lsr_errors |= LSR_OE;
		return false;
	}
	uart->rx[(uart->rx_start + uart->rx_len++) % RX_BUF_SIZE] = byte;
	return true;
}

static uint8_t uart_rx_pop_locked(struct uart_16550 *uart)
{
	if (!uart->rx_len)
		return 0;
	uint8_t byte = uart->rx[uart->rx_start];
	uart->rx_start = (uart->rx_start + 1) % RX_BUF_SIZE;
	uart->rx_len--;
	return byte;
}

/* From the backend (the main thread): what a console client typed. */
static void uart_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct uart_16550 *uart = opaque;
	pthread_mutex_lock(&uart->lock);
	for (size_t i = 0; i < len; i++)
		uart_rx_push_locked(uart, buf[i]);
	pthread_mutex_unlock(&uart->lock);
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
	case REG_DATA: return dlab ? uart->dll : uart_rx_pop_locked(uart);
	case REG_IER: return dlab ? uart->dlm : uart->ier;
	case REG_IIR_FCR: return IIR_NO_INT | ((uart->fcr & 1) ? IIR_FIFO_ON : 0);
	case REG_LCR: return uart->lcr;
	case REG_MCR: return uart->mcr;
	case REG_LSR: {
		uint8_t lsr = LSR_THRE | LSR_TEMT | (uart->rx_len ? LSR_DR : 0) | uart->lsr_errors;
		uart->lsr_errors = 0;	/* error bits clear when LSR is read */
		return lsr;
	}
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
		else if (uart->mcr & MCR_LOOP)
			uart_rx_push_locked(uart, val);	/* loopback: the byte comes back in */
		else
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

int uart_16550_create(struct vm *vm, const char *name, uint16_t base, unsigned irq,
		      const char *backend, struct uart_16550 **out)
{
	struct uart_16550 *uart = calloc(1, sizeof(*uart));
	if (!uart) {
		pr_err("uart", "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&uart->lock, NULL);
	snprintf(uart->name, sizeof(uart->name), "%s", name);
	uart->base = base;
	uart->irq = irq;
	int ret = uart_backend_open(backend, uart->name, uart_receive, uart, &uart->backend);
	if (ret < 0) {
		pthread_mutex_destroy(&uart->lock);
		free(uart);
		return ret;
	}
	const struct io_range range = {
		.name = uart->name, .space = IO_SPACE_PIO, .base = base, .len = 8,
		.handler = uart_access, .opaque = uart,
	};
	ret = io_register(vm_io(vm), &range);
	if (ret < 0) {
		pr_err("uart", "%s: ports 0x%x-0x%x are taken", uart->name, base, base + 7);
		uart_backend_close(uart->backend);
		pthread_mutex_destroy(&uart->lock);
		free(uart);
		return ret;
	}
	pr_dbg("uart", "%s at port 0x%x, IRQ %u, to %s", uart->name, base, irq, backend);
	*out = uart;
	return 0;
}

unsigned uart_16550_irq(const struct uart_16550 *uart)
{
	return uart->irq;
}

unsigned uart_16550_tcp_port(const struct uart_16550 *uart)
{
	return uart_backend_tcp_port(uart->backend);
}

void uart_16550_destroy(struct vm *vm, struct uart_16550 *uart)
{
	if (!uart)
		return;
	io_unregister(vm_io(vm), IO_SPACE_PIO, uart->base);
	pthread_mutex_lock(&uart->lock);
	uart_flush_locked(uart);
	pthread_mutex_unlock(&uart->lock);
	uart_backend_close(uart->backend);
	pthread_mutex_destroy(&uart->lock);
	free(uart);
}
