/*
 * A 16550 UART at a port with an IRQ line (-l com1|com2,<backend>): output to stdout, a file or
 * a TCP console on 127.0.0.1, input from the TCP console's client.
 */
#ifndef DM_UART_16550_H
#define DM_UART_16550_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct uart_16550;

/* The legacy UARTs of ACRN's LPC bridge (ports in mem_layout.h). */
#define COM1_IRQ	4
#define COM2_IRQ	3

/*
 * backend: "stdio", "tcp:<port>" (a console on 127.0.0.1:<port>; port 0 picks a free one) or a
 * file path (created or truncated). Registers 8 ports at base; name ("com1") is for messages.
 */
int uart_16550_create(struct vm *vm, const char *name, uint16_t base, unsigned irq,
		      const char *backend, struct uart_16550 **out) __attribute__((warn_unused_result));
/* Flushes what the guest wrote and releases the backend. */
void uart_16550_destroy(struct vm *vm, struct uart_16550 *uart);

unsigned uart_16550_irq(const struct uart_16550 *uart);
/* The TCP console's port (the one bound for tcp:0), or 0 for another backend. */
unsigned uart_16550_tcp_port(const struct uart_16550 *uart);

/*
 * Checks a backend's syntax without opening it (for the command line): 0, or -EINVAL with one
 * line in why.
 */
int uart_backend_check(const char *spec, char *why, size_t len);

#endif
