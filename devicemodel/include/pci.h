/*
 * The emulated PCI bus: config space as data, BAR allocation and decode, device registration.
 *
 * Config space is modelled as QEMU does: per device a 256-byte image cfg[], a mask of the bits a
 * guest may write (wmask[]) and a mask of write-1-to-clear bits (w1cmask[]). A generic write
 * applies   new = (old & ~wmask) | (val & wmask);  new &= ~(val & w1cmask)   byte by byte, so
 * read-only fields and RW1C status need no special cases. BAR registers and the command register
 * are the exceptions the core handles itself (sizing protocol, decode changes).
 */
#ifndef DM_PCI_H
#define DM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct pci_msix;

#define PCI_CFG_SPACE_SIZE	256
#define PCI_BAR_COUNT		6

/* Standard config registers (offsets). */
#define PCIR_VENDOR		0x00
#define PCIR_DEVICE		0x02
#define PCIR_COMMAND		0x04
#define PCIR_STATUS		0x06
#define PCIR_REVID		0x08
#define PCIR_PROGIF		0x09
#define PCIR_SUBCLASS		0x0a
#define PCIR_CLASS		0x0b
#define PCIR_HDRTYPE		0x0e
#define PCIR_BAR(i)		(0x10 + 4 * (i))
#define PCIR_SUBVEND		0x2c
#define PCIR_SUBDEV		0x2e
#define PCIR_CAP_PTR		0x34
#define PCIR_INTLINE		0x3c
#define PCIR_INTPIN		0x3d

#define PCIM_CMD_IO		0x0001
#define PCIM_CMD_MEM		0x0002
#define PCIM_CMD_BUSMASTER	0x0004
#define PCIM_CMD_INTX_DISABLE	0x0400
#define PCIM_STATUS_CAPLIST	0x0010
#define PCIM_HDRTYPE_MULTIFUNC	0x80

#define PCIY_MSIX		0x11

enum pci_bar_type {
	PCI_BAR_NONE,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,		/* occupies this BAR and the next */
	PCI_BAR_MEM64_HI,	/* the upper half of the MEM64 BAR just below; not a BAR itself */
};

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	bool ram;		/* guest memory, never trapped (see pci_set_bar_memory) */
	void *memory;		/* RAM BAR: the host memory mapped wherever it decodes; NULL: reserved */
	uint64_t size;		/* power of two; I/O >= 4, memory >= 16, RAM BARs >= 4 KiB */
	uint64_t addr;		/* as programmed (by the allocator, then by the guest) */
	bool mapped;		/* decoded right now: trapped, mapped or reserved at mapped_addr */
	uint64_t mapped_addr;	/* where it is decoded, when mapped */
};

struct pci_dev;

/* One emulation, one const descriptor (see hostbridge.c for the smallest example). */
struct pci_dev_ops {
	const char *emul;	/* the name after -s <slot>, */

	/*
	 * Optional: checks opts without creating anything, so that a bad -s option is reported while
	 * the command line is parsed (and by --dry-run). Returns 0, or -EINVAL with one line in err.
	 */
	int (*check_config)(const char *opts, char *err, size_t errlen);

	/*
	 * opts: the text after "<emul>," or NULL. Returns 0, or a negative errno after logging why
	 * in one line (nobody above logs it again).
	 */
	int (*init)(struct vm *vm, struct pci_dev *dev, const char *opts);
	void (*deinit)(struct vm *vm, struct pci_dev *dev);

	/* Trapped BAR accesses; off is relative to the BAR. size 1, 2, 4 or 8. */
	int (*bar_read)(struct pci_dev *dev, int idx, uint64_t off, unsigned size, uint64_t *value);
	int (*bar_write)(struct pci_dev *dev, int idx, uint64_t off, unsigned size, uint64_t value);
};

/*
 * Always created by pci_bus_add_device (the core keeps its own bookkeeping around it), never by
 * an emulation.
 */
struct pci_dev {
	const struct pci_dev_ops *ops;
	struct vm *vm;
	struct pci_bus *bus;
	unsigned busno, slot, func;
	char name[48];		/* "00:05.0 ivshmem", for logs */

	uint8_t cfg[PCI_CFG_SPACE_SIZE];
	uint8_t wmask[PCI_CFG_SPACE_SIZE];
	uint8_t w1cmask[PCI_CFG_SPACE_SIZE];
	struct pci_bar bars[PCI_BAR_COUNT];
	struct pci_msix *msix;	/* NULL without an MSI-X capability */

	void *priv;		/* the emulation's own state */
};

/*
 * ---- for emulations, during init ----
 *
 * Errors, here and in the whole device model: 0 or a negative errno, and the function that finds
 * the failure logs it, once, naming the device and what was wrong; its callers pass the errno on
 * without a line of their own. So the helpers below (pci_add_bar, pci_add_capability,
 * pci_set_bar_memory, pci_bar_add_ioeventfd, pci_msix_init) log what they refuse, and an
 * emulation's init that gets an error from one of them just returns it.
 */

uint8_t pci_get_cfg8(const struct pci_dev *dev, unsigned off);
uint16_t pci_get_cfg16(const struct pci_dev *dev, unsigned off);
uint32_t pci_get_cfg32(const struct pci_dev *dev, unsigned off);
/* Set the image only (masks untouched). off + width must fit; misuse is a programming error. */
void pci_set_cfg8(struct pci_dev *dev, unsigned off, uint8_t val);
void pci_set_cfg16(struct pci_dev *dev, unsigned off, uint16_t val);
void pci_set_cfg32(struct pci_dev *dev, unsigned off, uint32_t val);

void pci_set_ids(struct pci_dev *dev, uint16_t vendor, uint16_t device, uint8_t class,
		 uint8_t subclass, uint8_t progif, uint8_t revision);

/*
 * Appends a capability of len bytes (id and next pointer included) to the list. Returns its
 * offset in config space, or -ENOSPC / -EINVAL after logging why. The capability's own writable
 * bits are the caller's to set.
 */
int pci_add_capability(struct pci_dev *dev, uint8_t cap_id, unsigned len);

/*
 * Declares BAR idx and allocates its address from the bus windows (naturally aligned, memory BARs
 * on at least 4 KiB). MEM64 takes idx and idx+1. A trapped BAR's accesses reach ops->bar_read and
 * ops->bar_write; a RAM BAR (ram) is guest memory, see pci_set_bar_memory. Returns 0, -EINVAL (bad
 * idx/size/type, idx taken, a RAM BAR that is not a memory BAR of at least 4 KiB) or -ENOSPC
 * (window exhausted).
 */
int pci_add_bar(struct pci_dev *dev, int idx, enum pci_bar_type type, uint64_t size,
		bool prefetch, bool ram) __attribute__((warn_unused_result));

/*
 * The PCI core owns what sits behind a BAR: the device declares it once and the core maps,
 * unmaps and moves it whenever the guest reprograms the BAR or toggles decode (QEMU's memory
 * regions, Cloud Hypervisor's BAR relocation). A move onto guest RAM or another BAR is refused:
 * the BAR stays programmed but not decoded, and nothing of it is mapped anywhere.
 *
 * pci_set_bar_memory: the host memory behind RAM BAR idx (bar size bytes at hva, page aligned),
 * given during init. A RAM BAR without memory is only reserved where it decodes: the hypervisor
 * provides what is there (ACRN's hypervisor-land devices). -EINVAL for a BAR that is not a RAM
 * BAR, a misaligned hva, or after the bus started.
 */
int pci_set_bar_memory(struct pci_dev *dev, int idx, void *hva) __attribute__((warn_unused_result));

/*
 * An ioeventfd in memory BAR idx: while the BAR decodes, a guest write of len bytes at
 * BAR + off (of exactly data when datamatch) signals fd in the hypervisor without a trap; the
 * core binds it wherever the BAR goes. Writes that match none are trapped as usual, so the device
 * handles every write the same way whether or not the fast path took it: when the backend has no
 * ioeventfds (or runs out of them) the trap is the path. May be called at any time from any
 * thread; fd must stay open until the ioeventfd is deleted (or the device is destroyed).
 * add: 0, or after logging why (at a limited rate: a peer may cause it at will) -EINVAL (not a
 * trapped memory BAR, len not 1/2/4/8, beyond the BAR, fd < 0), -EEXIST (one with the same off,
 * datamatch and data is there), -ENOMEM. del: 0 or -ENOENT; it takes exactly what add was given.
 */
struct pci_bar_ioeventfd {
	uint64_t off;
	unsigned len;
	bool datamatch;
	uint64_t data;
	int fd;
};
int pci_bar_add_ioeventfd(struct pci_dev *dev, int idx, const struct pci_bar_ioeventfd *ev);
int pci_bar_del_ioeventfd(struct pci_dev *dev, int idx, const struct pci_bar_ioeventfd *ev);
/* Deletes every ioeventfd of BAR idx (a device whose fds are all about to close). */
void pci_bar_clear_ioeventfds(struct pci_dev *dev, int idx);

/* ---- the bus ---- */

struct pci_bus;

/*
 * Set-up and teardown (new, add_device, start, free, find) run on one thread while no vCPU runs;
 * the set of devices is fixed once the bus is started. Config accesses (pci_cfg_access, ports
 * 0xCF8-0xCFF) may come from any thread: a bus mutex serialises them, so emulation callbacks
 * reached from a config write (the MSI-X notifier) run with it held and must not make config
 * accesses themselves.
 */
struct pci_bus *pci_bus_new(struct vm *vm);
/* Calls every device's deinit (unmapping decoded BARs first) and frees the bus. */
void pci_bus_free(struct pci_bus *bus);

/*
 * Creates a device of emulation ops at busno:slot.func, its init given config (the text after
 * "<emul>," of a -s option, or NULL). The bus knows no emulation by name: the caller looks it up
 * (pci_emuls.h). Errors name the slot and the rule broken.
 */
int pci_bus_add_device(struct pci_bus *bus, unsigned busno, unsigned slot, unsigned func,
		       const struct pci_dev_ops *ops, const char *config)
	__attribute__((warn_unused_result));

/*
 * "Firmware" step before the guest starts: sets the multi-function bit where a slot has several
 * functions, enables I/O and memory decode and bus mastering on every device, and decodes every
 * BAR (trapped ranges registered, RAM BARs mapped or reserved, ioeventfds bound). Registers ports
 * 0xCF8-0xCFF. Fails, with one line saying which BAR, when a BAR cannot be decoded.
 */
int pci_bus_start(struct pci_bus *bus) __attribute__((warn_unused_result));

/*
 * One config access by bus/device/function/register, as mechanism #1 or an HSM PCICFG request
 * produces it. Absent functions read all ones; accesses that are misaligned or cross the
 * register's width read all ones / are dropped. Has the vmm_pci_cfg_fn signature.
 */
int pci_cfg_access(void *bus, unsigned busno, unsigned dev, unsigned func, unsigned reg,
		   unsigned size, bool is_write, uint32_t *value);

struct pci_dev *pci_bus_find(struct pci_bus *bus, unsigned busno, unsigned dev, unsigned func);

/* check_config for emulations that take no configuration (an empty one is fine). */
int pci_config_takes_none(const char *opts, char *err, size_t errlen);

#endif
