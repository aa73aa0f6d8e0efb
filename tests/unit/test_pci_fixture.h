/*
 * What the PCI unit tests share: a VM with a fake hypervisor backend (it records map/unmap/MSI
 * calls) and libcore's real io_registry, a test emulation "testdev" configured by its option
 * string, accessors for config space, port I/O and MMIO, and a recorder of every call the core
 * makes into the backend or the emulation, in order.
 */
#ifndef TEST_PCI_FIXTURE_H
#define TEST_PCI_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "test_log_capture.h"
#include "vm_state.h"

#define TEST_LOWMEM		(256ULL << 20)	/* guest RAM [0, 256 MiB), reserved in the registry */
#define TEST_MMIO64_BASE	(4ULL << 30)
#define TESTDEV_VENDOR		0x1234
#define TESTDEV_DEVICE		0x5678

enum call_kind {
	CALL_MAP_RAM,		/* backend: a = gpa, b = len, c = hva */
	CALL_UNMAP_RAM,		/* backend: a = gpa, b = len */
	CALL_SEND_MSI,		/* backend: a = addr, b = data */
	CALL_IOEVENTFD_ADD,	/* backend: idx = fd, a = addr, b = data, c = datamatch, ret */
	CALL_IOEVENTFD_DEL,	/* backend: idx = fd, a = addr, b = data, c = datamatch */
	CALL_BAR_READ,		/* emulation: idx, a = offset, b = size */
	CALL_BAR_WRITE,		/* emulation: idx, a = offset, b = size, c = value */
	CALL_DEINIT,		/* emulation */
	CALL_NOTIFIER,		/* MSI-X notifier: idx = vector, a = addr, b = data, c = usable */
};

struct call {
	enum call_kind kind;
	const struct pci_dev *dev;
	int idx;
	uint64_t a, b, c;
	int ret;
};

#define MAX_CALLS 4096
extern struct call calls[MAX_CALLS];
extern unsigned ncalls;

void calls_reset(void);
unsigned calls_count(enum call_kind kind);
/* The n-th (from 0) recorded call of that kind, or NULL. */
const struct call *call_nth(enum call_kind kind, unsigned n);
void record_call(enum call_kind kind, const struct pci_dev *dev, int idx, uint64_t a, uint64_t b,
		 uint64_t c, int ret);

/* The fake backend's map_ram / ioeventfd_add fail with these when not 0. */
extern int fake_map_ram_result;
extern int fake_ioeventfd_result;

/* The host memory testdev's RAM BARs (ram<i>, ram32<i>) are backed with. */
extern char testdev_ram[4096];

/* The fake backend's ops (each records its call), for tests that build a larger fake. */
int fixture_map_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva, bool exec);
int fixture_unmap_ram(struct vmm *vmm, uint64_t gpa, uint64_t len, void *hva);
int fixture_send_msi(struct vmm *vmm, uint64_t addr, uint32_t data);

/*
 * A VM whose RAM [0, TEST_LOWMEM) and the LAPIC page are reserved in a real io_registry, with a
 * bus; calls reset. Freed with test_vm_free (which frees the bus).
 */
struct vm *test_vm_new(void);
void test_vm_free(struct vm *vm);

/*
 * Adds "<emul>[,<config>]" at 0:slot.func. testdev's config is a comma-separated list of
 *   io<i>=<size> m32<i>=<size> m32p<i>=<size> m64<i>=<size> m64p<i>=<size>
 *   ram<i>=<size> (64-bit prefetchable RAM BAR backed by testdev_ram) ram32<i>=<size>
 *   rsv<i>=<size> (64-bit RAM BAR without memory: reserved) msix=<nvec>@<bar>
 *   cap=<id>:<len> fail (init logs a line and returns -EIO)
 */
int test_add(struct vm *vm, unsigned slot, unsigned func, const char *emul, const char *config);
struct pci_dev *test_dev(struct vm *vm, unsigned slot, unsigned func);

uint32_t cfg_read(struct vm *vm, unsigned slot, unsigned func, unsigned reg, unsigned size);
void cfg_write(struct vm *vm, unsigned slot, unsigned func, unsigned reg, unsigned size,
	       uint32_t value);
uint64_t pio_read(struct vm *vm, uint64_t port, unsigned size);
void pio_write(struct vm *vm, uint64_t port, unsigned size, uint64_t value);
uint64_t mmio_read(struct vm *vm, uint64_t addr, unsigned size);
void mmio_write(struct vm *vm, uint64_t addr, unsigned size, uint64_t value);

/* The value testdev's bar_read answers at (idx, off). */
uint64_t testdev_bar_value(int idx, uint64_t off);

/* The MSI-X notifier tests install: records CALL_NOTIFIER. */
void record_notifier(struct pci_dev *dev, unsigned vector, bool usable, uint64_t addr,
		     uint32_t data, void *opaque);

#endif
