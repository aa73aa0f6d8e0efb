/*
 * BARs: declaration and allocation from the windows of mem_layout.h, the sizing protocol, and
 * decode: what sits behind a BAR is the core's to map, unmap and move.
 *
 * Sizing needs no code of its own: a BAR register's writable bits (wmask) are exactly the address
 * bits above its size, so writing all ones reads back ~(size - 1) with the read-only flag bits,
 * and the upper dword of a 64-bit BAR sizes to the upper bits.
 *
 * Decode follows the guest. A BAR is decoded when its command-register decode bit is on and its
 * address is usable; after every write that could change either, the BAR is undecoded where it
 * was and decoded where it now is. Decoding a trapped BAR registers its range in the registry and
 * binds its ioeventfds (pci_ioeventfd.c) there; decoding a RAM BAR maps its host memory with
 * vm_map_ram, or only reserves the range when the hypervisor provides the memory. When the new
 * place is refused (guest RAM or another BAR there: io_register and vm_map_ram both answer
 * -EEXIST) or unusable (the all-ones sizing value, a 64-bit BAR half written), the BAR stays
 * programmed but undecoded; the next write that makes it usable decodes it again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io_dispatch.h"
#include "log.h"
#include "mem_layout.h"
#include "pci.h"
#include "pci_msix.h"
#include "pci_priv.h"
#include "vm.h"

/* Memory BARs start on a page so that the hypervisor can map them. */
#define BAR_MEM_MIN_ALIGN	(4 * KiB)
#define BAR_MEM_MIN_SIZE	16
#define BAR_IO_MIN_SIZE		4
#define BAR_IO_FLAG		0x1u
#define BAR_MEM64_FLAG		0x4u
#define BAR_PREFETCH_FLAG	0x8u
#define BAR_IO_ADDR_MASK	(~0x3u)
#define BAR_MEM_ADDR_MASK	(~0xfu)
/* x86 port space: an I/O BAR above it decodes nothing. */
#define PORT_SPACE_END		0x10000ULL

static const char *const bar_type_names[] = {
	[PCI_BAR_NONE] = "none", [PCI_BAR_IO] = "io", [PCI_BAR_MEM32] = "mem32",
	[PCI_BAR_MEM64] = "mem64", [PCI_BAR_MEM64_HI] = "mem64-hi",
};

static void put32(uint8_t *bytes, unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		bytes[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static bool bar_args_valid(const struct pci_dev *dev, int idx, enum pci_bar_type type,
			   uint64_t size, bool prefetch, bool ram)
{
	if (idx < 0 || idx >= PCI_BAR_COUNT || !is_pow2(size))
		return false;
	if (dev->bars[idx].type != PCI_BAR_NONE)
		return false;
	switch (type) {
	case PCI_BAR_IO:
		return !prefetch && !ram && size >= BAR_IO_MIN_SIZE &&
		       size <= PCI_PIO_LIMIT - PCI_PIO_BASE;
	case PCI_BAR_MEM32:
		return size >= BAR_MEM_MIN_SIZE && size <= 2 * GiB &&
		       (!ram || size >= BAR_MEM_MIN_ALIGN);
	case PCI_BAR_MEM64:
		return idx + 1 < PCI_BAR_COUNT && dev->bars[idx + 1].type == PCI_BAR_NONE &&
		       size >= BAR_MEM_MIN_SIZE && size <= PCI_MMIO64_SIZE &&
		       (!ram || size >= BAR_MEM_MIN_ALIGN);
	case PCI_BAR_NONE:
	case PCI_BAR_MEM64_HI:
		break;
	}
	return false;
}

/* Naturally aligned bump allocation from [*next, limit). */
static int window_alloc(uint64_t *next, uint64_t limit, uint64_t size, uint64_t align,
			uint64_t *addr)
{
	uint64_t at = align_up(*next, align);

	if (at < *next || at > limit || size > limit - at)
		return -ENOSPC;
	*addr = at;
	*next = at + size;
	return 0;
}

int pci_add_bar(struct pci_dev *dev, int idx, enum pci_bar_type type, uint64_t size,
		bool prefetch, bool ram)
{
	struct pci_bus *bus = dev->bus;
	uint64_t align = size, addr = 0;
	int ret;

	if (!bar_args_valid(dev, idx, type, size, prefetch, ram)) {
		pr_err("pci", "%s: BAR%d: invalid declaration (type %s, size 0x%llx%s%s)", dev->name,
		       idx, (unsigned)type < PCI_BAR_MEM64_HI + 1 ? bar_type_names[type] : "?",
		       (unsigned long long)size, prefetch ? ", prefetchable" : "", ram ? ", ram" : "");
		return -EINVAL;
	}
	if (type != PCI_BAR_IO && align < BAR_MEM_MIN_ALIGN)
		align = BAR_MEM_MIN_ALIGN;

	if (type == PCI_BAR_IO) {
		ret = window_alloc(&bus->next_pio, PCI_PIO_LIMIT, size, align, &addr);
	} else if (type == PCI_BAR_MEM32) {
		ret = window_alloc(&bus->next_mem32, PCI_MMIO32_LIMIT, size, align, &addr);
	} else {
		uint64_t base = vm_mmio64_base(bus->vm);
		if (bus->next_mem64 < base)
			bus->next_mem64 = base;
		ret = window_alloc(&bus->next_mem64, base + PCI_MMIO64_SIZE, size, align, &addr);
	}
	if (ret < 0) {
		pr_err("pci", "%s: BAR%d: no room for 0x%llx bytes in the %s window", dev->name, idx,
		       (unsigned long long)size, bar_type_names[type]);
		return ret;
	}

	struct pci_bar *bar = &dev->bars[idx];
	*bar = (struct pci_bar){
		.type = type, .prefetch = prefetch, .ram = ram, .size = size, .addr = addr,
	};
	uint32_t flags = type == PCI_BAR_IO ? BAR_IO_FLAG :
		(type == PCI_BAR_MEM64 ? BAR_MEM64_FLAG : 0) | (prefetch ? BAR_PREFETCH_FLAG : 0);
	uint32_t low_mask = type == PCI_BAR_IO ? BAR_IO_ADDR_MASK : BAR_MEM_ADDR_MASK;
	put32(dev->cfg, PCIR_BAR(idx), ((uint32_t)addr & low_mask) | flags);
	put32(dev->wmask, PCIR_BAR(idx), (uint32_t)~(size - 1) & low_mask);
	if (type == PCI_BAR_MEM64) {
		dev->bars[idx + 1] = (struct pci_bar){ .type = PCI_BAR_MEM64_HI };
		put32(dev->cfg, PCIR_BAR(idx + 1), (uint32_t)(addr >> 32));
		put32(dev->wmask, PCIR_BAR(idx + 1), (uint32_t)(~(size - 1) >> 32));
	}

	struct pci_bar_trap *trap = &pci_node_of(dev)->traps[idx];
	trap->dev = dev;
	trap->idx = idx;
	snprintf(trap->name, sizeof(trap->name), "%s BAR%d", dev->name, idx);
	pr_dbg("pci", "%s: BAR%d %s size 0x%llx at 0x%llx", dev->name, idx, bar_type_names[type],
	       (unsigned long long)size, (unsigned long long)addr);
	return 0;
}

void pci_bar_forget(struct pci_dev *dev, int idx)
{
	if (idx < 0 || idx >= PCI_BAR_COUNT)
		return;
	int n = dev->bars[idx].type == PCI_BAR_MEM64 ? 2 : 1;
	for (int i = idx; i < idx + n; i++) {
		dev->bars[i] = (struct pci_bar){ .type = PCI_BAR_NONE };
		put32(dev->cfg, PCIR_BAR(i), 0);
		put32(dev->wmask, PCIR_BAR(i), 0);
	}
}

int pci_set_bar_memory(struct pci_dev *dev, int idx, void *hva)
{
	if (idx < 0 || idx >= PCI_BAR_COUNT || !dev->bars[idx].ram || dev->bus->started ||
	    ((uintptr_t)hva & (BAR_MEM_MIN_ALIGN - 1))) {
		pr_err("pci", "%s: BAR%d: host memory at %p cannot back it (not a RAM BAR, not page "
		       "aligned, or the bus runs)", dev->name, idx, hva);
		return -EINVAL;
	}
	dev->bars[idx].memory = hva;
	return 0;
}

/* ---- trapped accesses ---- */

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
}

static int bar_trap_handler(void *opaque, uint64_t off, unsigned size, bool is_write,
			    uint64_t *value)
{
	const struct pci_bar_trap *trap = opaque;
	struct pci_dev *dev = trap->dev;
	const struct pci_bar *bar = &dev->bars[trap->idx];

	/* io_dispatch matched the first byte; an access running past the BAR's end is not ours. */
	if (off >= bar->size || size > bar->size - off)
		return -ERANGE;

	if (pci_msix_bar_index(dev) == trap->idx)
		return is_write ? pci_msix_bar_write(dev, off, size, *value) :
				  pci_msix_bar_read(dev, off, size, value);
	if (is_write)
		return dev->ops->bar_write ? dev->ops->bar_write(dev, trap->idx, off, size, *value) : 0;
	if (dev->ops->bar_read)
		return dev->ops->bar_read(dev, trap->idx, off, size, value);
	*value = all_ones(size);
	return 0;
}

/* ---- decode ---- */

static uint64_t bar_programmed_addr(const struct pci_dev *dev, int idx)
{
	uint32_t lo = pci_get_cfg32(dev, PCIR_BAR(idx));

	switch (dev->bars[idx].type) {
	case PCI_BAR_IO:
		return lo & BAR_IO_ADDR_MASK;
	case PCI_BAR_MEM32:
		return lo & BAR_MEM_ADDR_MASK;
	case PCI_BAR_MEM64:
		return (lo & BAR_MEM_ADDR_MASK) |
		       (uint64_t)pci_get_cfg32(dev, PCIR_BAR(idx + 1)) << 32;
	case PCI_BAR_NONE:
	case PCI_BAR_MEM64_HI:
		break;
	}
	return 0;
}

static bool bar_decode_enabled(const struct pci_dev *dev, const struct pci_bar *bar)
{
	uint16_t cmd = pci_get_cfg16(dev, PCIR_COMMAND);
	return bar->type == PCI_BAR_IO ? (cmd & PCIM_CMD_IO) : (cmd & PCIM_CMD_MEM);
}

/* NULL when [addr, addr + size) can be decoded at all, else why not (for the debug log). */
static const char *bar_unusable_reason(const struct pci_dev *dev, const struct pci_bar *bar)
{
	uint64_t addr = bar->addr, end = bar->addr + bar->size;

	if (addr == 0)
		return "address 0 means unassigned";
	if (end < addr)
		return "wraps around";
	if (bar->type == PCI_BAR_IO)
		return end <= PORT_SPACE_END ? NULL : "beyond the 64 KiB port space";
	/* IOAPIC, LAPIC and firmware live there; a BAR must never shadow them. */
	if (addr < HIGHMEM_BASE && end > PCI_MMIO32_LIMIT)
		return "in the platform range 0xfec00000-0xffffffff";
	if (end > vm_mmio64_base(dev->vm) + PCI_MMIO64_SIZE)
		return "above the 64-bit PCI window";
	return NULL;
}

static int bar_decode(struct pci_dev *dev, int idx)
{
	struct pci_bar *bar = &dev->bars[idx];
	struct pci_bar_trap *trap = &pci_node_of(dev)->traps[idx];
	int ret;

	if (bar->ram && bar->memory) {
		ret = vm_map_ram(dev->vm, bar->addr, bar->size, bar->memory);
	} else {
		const struct io_range range = {
			.name = trap->name,
			.space = bar->type == PCI_BAR_IO ? IO_SPACE_PIO : IO_SPACE_MMIO,
			.base = bar->addr,
			.len = bar->size,
			/* A reserved RAM BAR traps nothing, and nothing else may decode there. */
			.handler = bar->ram ? NULL : bar_trap_handler,
			.opaque = trap,
		};
		ret = io_register(vm_io(dev->vm), &range);
	}
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&dev->bus->ioev_lock);
	bar->mapped = true;
	bar->mapped_addr = bar->addr;
	pci_ioeventfds_bind(dev, idx);
	pthread_mutex_unlock(&dev->bus->ioev_lock);
	return 0;
}

static void bar_undecode(struct pci_dev *dev, int idx)
{
	struct pci_bar *bar = &dev->bars[idx];

	if (!bar->mapped)
		return;
	/* The fast path goes first: a write in between is trapped and handled the same way. */
	pthread_mutex_lock(&dev->bus->ioev_lock);
	pci_ioeventfds_unbind(dev, idx);
	bar->mapped = false;
	pthread_mutex_unlock(&dev->bus->ioev_lock);
	if (bar->ram && bar->memory) {
		if (vm_unmap_ram(dev->vm, bar->mapped_addr, bar->size, bar->memory) < 0)
			pr_warn("pci", "%s: unmapping BAR%d at 0x%llx failed", dev->name, idx,
				(unsigned long long)bar->mapped_addr);
		return;
	}
	enum io_space space = bar->type == PCI_BAR_IO ? IO_SPACE_PIO : IO_SPACE_MMIO;
	if (io_unregister(vm_io(dev->vm), space, bar->mapped_addr) < 0)
		pr_warn("pci", "%s: BAR%d was not registered at 0x%llx", dev->name, idx,
			(unsigned long long)bar->mapped_addr);
}

/*
 * Makes BAR idx decoded exactly when it should be. Returns 0 when it is decoded or is not meant
 * to be, else why not: -EADDRNOTAVAIL (an address no BAR may decode at) or what decoding answered,
 * with *why in words for the caller's log line.
 */
static int bar_sync(struct pci_dev *dev, int idx, const char **why)
{
	struct pci_bar *bar = &dev->bars[idx];
	const char *unusable = bar_unusable_reason(dev, bar);
	bool want = bar_decode_enabled(dev, bar) && !unusable;

	*why = NULL;
	if (bar->mapped && (!want || bar->mapped_addr != bar->addr))
		bar_undecode(dev, idx);
	if (!bar_decode_enabled(dev, bar) || bar->mapped)
		return 0;
	if (unusable) {
		*why = unusable;
		return -EADDRNOTAVAIL;
	}
	int ret = bar_decode(dev, idx);
	if (ret < 0)
		*why = ret == -EEXIST ? "overlaps guest RAM or another BAR" : strerror(-ret);
	return ret;
}

/*
 * After a guest's write: where the guest put a BAR is its own business, so a refusal is only
 * logged, at debug level, except when memory a device shares with the guest disappears from it
 * (a RAM BAR moved onto RAM or another BAR): that warns, at most a few times a second, since the
 * guest may do it at will. bar_sync runs under the bus lock, which serialises the limiter.
 */
static void bar_follow_guest(struct pci_dev *dev, int idx)
{
	const struct pci_bar *bar = &dev->bars[idx];
	const char *why;
	int ret = bar_sync(dev, idx, &why);

	if (ret == 0)
		return;
	if (bar->ram && bar->memory && ret != -EADDRNOTAVAIL) {
		if (log_ratelimit_ok(&dev->bus->refused_log, 5))
			pr_warn("pci", "%s: BAR%d not mapped at 0x%llx: %s", dev->name, idx,
				(unsigned long long)bar->addr, why);
		return;
	}
	pr_dbg("pci", "%s: BAR%d not decoded at 0x%llx: %s", dev->name, idx,
	       (unsigned long long)bar->addr, why);
}

static bool is_bar(const struct pci_bar *bar)
{
	return bar->type == PCI_BAR_IO || bar->type == PCI_BAR_MEM32 || bar->type == PCI_BAR_MEM64;
}

void pci_bars_written(struct pci_dev *dev, unsigned reg, unsigned size)
{
	for (int i = 0; i < PCI_BAR_COUNT; i++) {
		if (!pci_ranges_overlap(reg, size, PCIR_BAR(i), 4))
			continue;
		int idx = dev->bars[i].type == PCI_BAR_MEM64_HI ? i - 1 : i;
		struct pci_bar *bar = &dev->bars[idx];
		if (!is_bar(bar))
			continue;
		uint64_t addr = bar_programmed_addr(dev, idx);
		if (addr == bar->addr)
			continue;
		bar->addr = addr;
		bar_follow_guest(dev, idx);
	}
}

void pci_bars_sync(struct pci_dev *dev)
{
	for (int i = 0; i < PCI_BAR_COUNT; i++)
		if (is_bar(&dev->bars[i]))
			bar_follow_guest(dev, i);
}

int pci_bars_start(struct pci_dev *dev)
{
	for (int i = 0; i < PCI_BAR_COUNT; i++) {
		if (!is_bar(&dev->bars[i]))
			continue;
		const char *why;
		int ret = bar_sync(dev, i, &why);
		if (ret < 0) {
			pr_err("pci", "%s: BAR%d cannot be decoded at 0x%llx: %s", dev->name, i,
			       (unsigned long long)dev->bars[i].addr, why);
			return ret;
		}
	}
	return 0;
}

void pci_bars_stop(struct pci_dev *dev)
{
	for (int i = 0; i < PCI_BAR_COUNT; i++)
		if (is_bar(&dev->bars[i]))
			bar_undecode(dev, i);
}
