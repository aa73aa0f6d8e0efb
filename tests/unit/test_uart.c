/*
 * The legacy UARTs as a guest and a console user see them: COM1 and COM2 as separate instances
 * at their ports, output to a file, the TCP console (one client at a time, what was printed
 * before a client came, what a client types read through RBR/LSR), loopback, overrun.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "io_dispatch.h"
#include "log.h"
#include "mem_layout.h"
#include "uart_16550.h"
#include "vm.h"
#include "vm_state.h"

#define THR 0
#define IER 1
#define LSR 5
#define MCR 4
#define SCR 7
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20

struct fixture {
	struct vm vm;
	char dir[64];
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.vm.io = io_registry_new();
	assert_non_null(f.vm.io);
	snprintf(f.dir, sizeof(f.dir), "/tmp/acrn-uart-test.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	io_registry_free(f->vm.io);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static uint8_t in8(struct vm *vm, uint16_t port)
{
	struct io_request req = { .space = IO_SPACE_PIO, .addr = port, .size = 1 };
	assert_int_equal(io_dispatch(vm->io, &req), 0);
	return (uint8_t)req.value;
}

static void out8(struct vm *vm, uint16_t port, uint8_t v)
{
	struct io_request req = { .space = IO_SPACE_PIO, .addr = port, .size = 1, .is_write = true,
				  .value = v };
	assert_int_equal(io_dispatch(vm->io, &req), 0);
}

static void print(struct vm *vm, uint16_t base, const char *s)
{
	while (*s)
		out8(vm, base + THR, (uint8_t)*s++);
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_com1_and_com2(void **state)
{
	struct fixture *f = *state;
	char p1[128], p2[128];
	snprintf(p1, sizeof(p1), "%s/com1.log", f->dir);
	snprintf(p2, sizeof(p2), "%s/com2.log", f->dir);
	struct uart_16550 *com1, *com2, *again;
	assert_int_equal(uart_16550_create(&f->vm, "com1", COM1_PORT, COM1_IRQ, p1, &com1), 0);
	assert_int_equal(uart_16550_create(&f->vm, "com2", COM2_PORT, COM2_IRQ, p2, &com2), 0);
	assert_int_equal(uart_16550_irq(com1), 4);
	assert_int_equal(uart_16550_irq(com2), 3);
	assert_int_equal(uart_16550_tcp_port(com2), 0);
	/* Two ports at one base: the second is refused. */
	assert_int_equal(uart_16550_create(&f->vm, "com2b", COM2_PORT, COM2_IRQ, p2, &again),
			 -EEXIST);

	print(&f->vm, COM1_PORT, "to com1\n");
	print(&f->vm, COM2_PORT, "to com2\nand a partial line");
	/* Each instance keeps its own registers. */
	out8(&f->vm, COM1_PORT + SCR, 0x11);
	out8(&f->vm, COM2_PORT + SCR, 0x22);
	assert_int_equal(in8(&f->vm, COM1_PORT + SCR), 0x11);
	assert_int_equal(in8(&f->vm, COM2_PORT + SCR), 0x22);
	assert_int_equal(in8(&f->vm, COM2_PORT + LSR) & (LSR_THRE | LSR_DR), LSR_THRE);
	assert_string_equal(slurp(p2), "to com2\n");
	uart_16550_destroy(&f->vm, com2);	/* flushes the partial line */
	uart_16550_destroy(&f->vm, com1);
	assert_string_equal(slurp(p1), "to com1\n");
	assert_string_equal(slurp(p2), "to com2\nand a partial line");
	/* The ports are free again. */
	assert_int_equal(uart_16550_create(&f->vm, "com2", COM2_PORT, COM2_IRQ, p2, &com2), 0);
	uart_16550_destroy(&f->vm, com2);

	char bad[160];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/log", f->dir);
	assert_int_equal(uart_16550_create(&f->vm, "com1", COM1_PORT, COM1_IRQ, bad, &com1),
			 -ENOENT);
}

static void test_loopback(void **state)
{
	struct fixture *f = *state;
	char p[128];
	snprintf(p, sizeof(p), "%s/loop.log", f->dir);
	struct uart_16550 *u;
	assert_int_equal(uart_16550_create(&f->vm, "com1", COM1_PORT, COM1_IRQ, p, &u), 0);
	out8(&f->vm, COM1_PORT + MCR, 0x10);	/* loopback */
	print(&f->vm, COM1_PORT, "ok");
	assert_true(in8(&f->vm, COM1_PORT + LSR) & LSR_DR);
	assert_int_equal(in8(&f->vm, COM1_PORT + THR), 'o');
	assert_int_equal(in8(&f->vm, COM1_PORT + THR), 'k');
	assert_false(in8(&f->vm, COM1_PORT + LSR) & LSR_DR);
	out8(&f->vm, COM1_PORT + MCR, 0x03);
	uart_16550_destroy(&f->vm, u);
	assert_string_equal(slurp(p), "");	/* looped bytes never left the UART */
}

/* Runs the main context until cond(arg) or 5 s pass. */
static bool pump_until(bool (*cond)(void *), void *arg)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (cond(arg))
			return true;
		g_main_context_iteration(NULL, FALSE);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 5)
			return false;
		usleep(1000);
	}
}

static int connect_to(unsigned port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

struct reader {
	int fd;
	char buf[8192];
	size_t len;
	bool eof;
};

static bool has_text(void *arg)
{
	struct reader *r = arg;
	char tmp[512];
	ssize_t n = recv(r->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
	if (n > 0 && r->len + (size_t)n < sizeof(r->buf)) {
		memcpy(r->buf + r->len, tmp, (size_t)n);
		r->len += (size_t)n;
		r->buf[r->len] = '\0';
	} else if (n == 0) {
		r->eof = true;
	}
	return r->eof || strchr(r->buf, '\n') != NULL;
}

static bool at_eof(void *arg)
{
	struct reader *r = arg;
	has_text(r);
	return r->eof;
}

static void pump_for_ms(unsigned ms)
{
	for (unsigned i = 0; i < ms; i++) {
		g_main_context_iteration(NULL, FALSE);
		usleep(1000);
	}
}

/* Reads from the client side while the main context runs, until a line or EOF. */
static const char *read_line(struct reader *r)
{
	assert_true(pump_until(has_text, r));
	return r->buf;
}

struct rx_wait {
	struct vm *vm;
	uint16_t base;
};

static bool rx_ready(void *arg)
{
	struct rx_wait *w = arg;
	return in8(w->vm, w->base + LSR) & LSR_DR;
}

static void test_tcp_console(void **state)
{
	struct fixture *f = *state;
	struct uart_16550 *u;
	assert_int_equal(uart_16550_create(&f->vm, "com2", COM2_PORT, COM2_IRQ, "tcp:0", &u), 0);
	unsigned port = uart_16550_tcp_port(u);
	assert_true(port > 0);

	/* Printed before anyone connected: kept for the first client. */
	print(&f->vm, COM2_PORT, "boot message\n");
	struct reader a = { .fd = connect_to(port) };
	assert_string_equal(read_line(&a), "boot message\n");

	/* Output goes to the client as lines are completed. */
	a.len = 0;
	a.buf[0] = '\0';
	print(&f->vm, COM2_PORT, "hello\n");
	assert_string_equal(read_line(&a), "hello\n");

	/* What the client types reaches the guest through RBR, with LSR.DR. */
	assert_int_equal(send(a.fd, "ok\r", 3, 0), 3);
	struct rx_wait w = { &f->vm, COM2_PORT };
	assert_true(pump_until(rx_ready, &w));
	char got[4] = { 0 };
	for (int i = 0; i < 3; i++) {
		for (int tries = 0; !(in8(&f->vm, COM2_PORT + LSR) & LSR_DR) && tries < 100; tries++)
			g_main_context_iteration(NULL, FALSE);
		got[i] = (char)in8(&f->vm, COM2_PORT + THR);
	}
	assert_string_equal(got, "ok\r");
	assert_false(in8(&f->vm, COM2_PORT + LSR) & LSR_DR);

	/* One client at a time: a second one is told so and closed. */
	struct reader b = { .fd = connect_to(port) };
	const char *busy = read_line(&b);
	assert_non_null(strstr(busy, "com2 console is in use by another client"));
	assert_true(pump_until(at_eof, &b));
	close(b.fd);

	/* The first client leaves; what is printed meanwhile waits for the next one. */
	close(a.fd);
	pump_for_ms(50);
	print(&f->vm, COM2_PORT, "while away\n");
	struct reader c = { .fd = connect_to(port) };
	assert_string_equal(read_line(&c), "while away\n");

	/* More input than the receive buffer holds: the overrun shows in LSR.OE once. */
	char big[5000];
	memset(big, 'z', sizeof(big));
	assert_int_equal(send(c.fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	pump_for_ms(200);
	uint8_t lsr = in8(&f->vm, COM2_PORT + LSR);
	assert_int_equal(lsr & (LSR_OE | LSR_DR), LSR_OE | LSR_DR);
	assert_false(in8(&f->vm, COM2_PORT + LSR) & LSR_OE);
	unsigned n = 0;
	while (in8(&f->vm, COM2_PORT + LSR) & LSR_DR) {
		assert_int_equal(in8(&f->vm, COM2_PORT + THR), 'z');
		n++;
	}
	assert_int_equal(n, 4096);
	close(c.fd);
	uart_16550_destroy(&f->vm, u);
}

static void test_tcp_port_in_use(void **state)
{
	struct fixture *f = *state;
	struct uart_16550 *a, *b;
	assert_int_equal(uart_16550_create(&f->vm, "com1", COM1_PORT, COM1_IRQ, "tcp:0", &a), 0);
	char spec[16];
	snprintf(spec, sizeof(spec), "tcp:%u", uart_16550_tcp_port(a));
	log_set_level(LOG_ERR);
	assert_int_equal(uart_16550_create(&f->vm, "com2", COM2_PORT, COM2_IRQ, spec, &b),
			 -EADDRINUSE);
	log_set_level(LOG_INFO);
	uart_16550_destroy(&f->vm, a);
}

static void test_backend_syntax(void **state)
{
	(void)state;
	char why[160];
	assert_int_equal(uart_backend_check("stdio", why, sizeof(why)), 0);
	assert_int_equal(uart_backend_check("tcp:1", why, sizeof(why)), 0);
	assert_int_equal(uart_backend_check("tcp:65535", why, sizeof(why)), 0);
	assert_int_equal(uart_backend_check("/dev/pts/3", why, sizeof(why)), 0);
	const char *bad[] = { "", "tcp:", "tcp:0", "tcp:65536", "tcp:123456", "tcp:1a", "tcp: 1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(uart_backend_check(bad[i], why, sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_com1_and_com2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_console, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_port_in_use, setup, teardown),
		cmocka_unit_test(test_backend_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
