/* 16550 UART on COM1, output only, polled. */
#include "serial.h"

#include <stdbool.h>

#include "io.h"

#define COM1		0x3f8
#define UART_THR	0	/* transmit holding register (DLAB=0) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1
#define UART_DLM	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define LSR_THRE	0x20	/* room for the next byte */
#define LSR_TEMT	0x40	/* shift register empty too */

/*
 * Each LSR read may be a VM exit (about 8 us on the development machines), so this bounds a
 * single wait to well under a second. After one timeout we stop waiting until the UART shows
 * THRE again, so a dead UART makes printing fast instead of slow.
 */
#define SPIN_LIMIT	50000

static bool stuck;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);	/* no UART interrupts: we poll */
	outb(COM1 + UART_LCR, 0x80);	/* DLAB on */
	outb(COM1 + UART_DLL, 0x01);	/* 115200 baud */
	outb(COM1 + UART_DLM, 0x00);
	outb(COM1 + UART_LCR, 0x03);	/* 8N1, DLAB off */
	outb(COM1 + UART_FCR, 0x07);	/* FIFOs on and cleared */
	outb(COM1 + UART_MCR, 0x03);	/* DTR, RTS; OUT2 off keeps the IRQ line quiet */
}

static bool wait_lsr(unsigned char bit)
{
	for (unsigned i = 0; i < SPIN_LIMIT; i++) {
		if (inb(COM1 + UART_LSR) & bit)
			return true;
		if (stuck)
			return false;
		cpu_relax();
	}
	return false;
}

void serial_putc(char c)
{
	stuck = !wait_lsr(LSR_THRE);
	outb(COM1 + UART_THR, (unsigned char)c);
}

void serial_write(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

void serial_flush(void)
{
	stuck = !wait_lsr(LSR_TEMT);
}
