/*
 * Guest port I/O and MMIO dispatch.
 *
 * Every hypervisor backend turns a trapped guest access into a neutral struct io_request and
 * hands it to io_dispatch(). Handlers are registered per address range; the registry refuses
 * overlapping ranges, which is also how a BAR moved on top of guest RAM or another BAR is
 * detected (RAM and RAM-backed BARs are registered as "reserved" ranges without a handler).
 */
#ifndef DM_IO_DISPATCH_H
#define DM_IO_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

enum io_space { IO_SPACE_PIO, IO_SPACE_MMIO };

struct io_request {
	enum io_space space;
	uint64_t addr;
	unsigned size; /* 1, 2, 4 or 8 bytes */
	bool is_write;
	uint64_t value; /* in: data written; out: data read (zero-extended) */
};

/*
 * offset is relative to the range's base. For reads the handler stores the result in *value.
 * Returns 0, or a negative errno that is logged; the guest then reads all ones.
 */
typedef int (*io_handler_fn)(void *opaque, uint64_t offset, unsigned size, bool is_write,
			     uint64_t *value);

struct io_range {
	const char *name;	/* for logs: "uart", "pci-cfg", "00:05.0 BAR0" */
	enum io_space space;
	uint64_t base;
	uint64_t len;
	io_handler_fn handler;	/* NULL: reserved (guest RAM, a mapped RAM BAR); never trapped */
	void *opaque;
};

struct io_registry;

struct io_registry *io_registry_new(void);
void io_registry_free(struct io_registry *reg);

/* -EEXIST when [base, base+len) overlaps a registered range, -EINVAL for len 0 or wrap-around. */
int io_register(struct io_registry *reg, const struct io_range *range)
	__attribute__((warn_unused_result));
/* -ENOENT when no range starts exactly at base in that space. */
int io_unregister(struct io_registry *reg, enum io_space space, uint64_t base);
/* True when [base, base+len) overlaps nothing registered. */
bool io_range_free(struct io_registry *reg, enum io_space space, uint64_t base, uint64_t len);

/*
 * Handles one request. Unclaimed reads return all ones and unclaimed writes are dropped,
 * as on a real bus: a guest poking at nothing never stops the VM. Returns 0 when a handler
 * took the access, -ENOENT when none did. Safe to call from several vCPU threads, and a
 * handler may itself register or unregister ranges (a BAR move from a config write).
 */
int io_dispatch(struct io_registry *reg, struct io_request *req);

#endif
