/*
 * COM1 (16550 at 0x3f8) output. Every wait on the transmitter is bounded: a missing or stuck
 * UART costs time, never a hang. Lines end in "\n" only, so transcripts grep cleanly.
 */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s);
/* Waits (bounded) until the transmitter is empty, so nothing is lost when the VM exits. */
void serial_flush(void);

#endif
