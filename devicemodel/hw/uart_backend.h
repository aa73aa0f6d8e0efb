/*
 * Where a UART's bytes go and come from (-l comN,<backend>): stdio (output only), a file
 * (created or truncated; output only), or tcp:<port>, a console served on 127.0.0.1:<port> to
 * one client at a time. Private to devicemodel/hw; options use uart_backend_check through
 * uart_16550.h.
 */
#ifndef DM_UART_BACKEND_H
#define DM_UART_BACKEND_H

#include <stddef.h>
#include <stdint.h>

struct uart_backend;

/* Bytes a client sent; called on the main thread (GLib's default main context). */
typedef void (*uart_rx_fn)(void *opaque, const uint8_t *buf, size_t len);

/*
 * Opens spec for the UART called label ("com1"). rx may be NULL. TCP sockets are served from
 * GLib's default main context. Returns 0 or a negative errno after logging why.
 */
int uart_backend_open(const char *spec, const char *label, uart_rx_fn rx, void *opaque,
		      struct uart_backend **out) __attribute__((warn_unused_result));
/* Any thread. Never blocks: bytes a slow TCP client cannot take are dropped (and counted). */
void uart_backend_write(struct uart_backend *be, const void *buf, size_t len);
/* Main thread. */
void uart_backend_close(struct uart_backend *be);

/* The TCP port the backend listens on (tests bind port 0 and ask), 0 for other kinds. */
unsigned uart_backend_tcp_port(const struct uart_backend *be);

#endif
