/* A 16550 UART at a port, transmit only, whose output goes to stdout or a file (-l com1,...). */
#ifndef DM_UART_16550_H
#define DM_UART_16550_H

#include <stdint.h>

struct vm;
struct uart_16550;

/* backend: "stdio" or a file path (created or truncated). Registers 8 ports at base. */
int uart_16550_create(struct vm *vm, uint16_t base, const char *backend,
		      struct uart_16550 **out) __attribute__((warn_unused_result));
/* Flushes what the guest wrote and releases the backend. */
void uart_16550_destroy(struct vm *vm, struct uart_16550 *uart);

#endif
