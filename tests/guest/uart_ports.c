/*
 * A second UART as a guest uses it: prints on the 16550 at port= (COM2 is 0x2f8) and, with
 * echo=N, reads N bytes typed into it (polling LSR.DR, for up to wait_ms) and sends them back.
 * Results are reported on COM1 as usual.
 *
 * Command line: port=0x2f8 (default), lines=K (how many "uart_ports: line i of K" lines,
 * default 3), echo=N (default 0), wait_ms=T (default 20000).
 */
#include "guest.h"

#define UART_DATA	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_SCR	7
#define LSR_DR		0x01
#define LSR_THRE	0x20

static uint16_t port;

static void uart_putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(port + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(port + UART_DATA, (uint8_t)c);
}

static void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

int guest_main(const struct mb_info *mbi, const char *cmdline)
{
	uint64_t v, lines = 3, echo = 0, wait_ms = 20000;
	char buf[96];

	(void)mbi;
	port = cmdline_get_u64(cmdline, "port", &v) ? (uint16_t)v : 0x2f8;
	cmdline_get_u64(cmdline, "lines", &lines);
	cmdline_get_u64(cmdline, "echo", &echo);
	cmdline_get_u64(cmdline, "wait_ms", &wait_ms);

	test_begin("uart/probe");
	/* The scratch register and the divisor latch read back: a UART is there. */
	outb(port + UART_SCR, 0x5a);
	CHECK_EQ(inb(port + UART_SCR), 0x5a);
	outb(port + UART_LCR, 0x80);
	outb(port + UART_DATA, 0x01);
	CHECK_EQ(inb(port + UART_DATA), 0x01);
	outb(port + UART_LCR, 0x03);
	outb(port + UART_IER, 0x00);
	outb(port + UART_FCR, 0x07);
	outb(port + UART_MCR, 0x03);
	CHECK(inb(port + UART_LSR) & LSR_THRE, "the transmitter is not empty");
	test_pass();

	test_begin("uart/output");
	for (uint64_t i = 1; i <= lines; i++) {
		snprintf(buf, sizeof(buf), "uart_ports: line %lu of %lu on 0x%x\n", i, lines, port);
		uart_puts(buf);
	}
	test_pass();

	if (echo) {
		test_begin("uart/input");
		CHECK(echo < sizeof(buf) - 8, "echo=%lu: at most %zu bytes", echo, sizeof(buf) - 9);
		uart_puts("uart_ports: ready for input\n");
		uint64_t end = time_us() + wait_ms * 1000;
		size_t got = 0;

		while (got < echo) {
			if (inb(port + UART_LSR) & LSR_DR)
				buf[got++] = (char)inb(port + UART_DATA);
			else if (time_us() > end)
				test_fail("%zu of %lu bytes arrived in %lu ms", got, echo, wait_ms);
			else
				udelay(100);
		}
		buf[got] = '\0';
		printf("uart: received \"%s\"\n", buf);
		uart_puts("uart_ports: echo ");
		uart_puts(buf);
		uart_puts("\n");
		test_pass();
	}
	return 0;
}
