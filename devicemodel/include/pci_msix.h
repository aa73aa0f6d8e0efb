/*
 * MSI-X for any emulated PCI device: the capability, the table and the PBA in one BAR, per-vector
 * and function masks, pending bits delivered on unmask, delivery through vm_send_msi.
 *
 * The PCI core routes the MSI-X BAR's accesses here and calls pci_msix_cfg_written after config
 * writes that touch the capability; the device only calls pci_msix_init and pci_msix_notify.
 */
#ifndef DM_PCI_MSIX_H
#define DM_PCI_MSIX_H

#include <stdbool.h>
#include <stdint.h>

struct pci_dev;

#define PCI_MSIX_MAX_VECTORS	2048
#define PCI_MSIX_ENTRY_SIZE	16

/*
 * Called whenever a vector's deliverable state changes: usable = MSI-X enabled, function not
 * masked, vector not masked; addr/data = the vector's message. Lets a device attach an irqfd on
 * unmask and detach it on mask (QEMU's use/mask notifiers) without the helper knowing about fds.
 * Called with the helper's lock not held, from the thread doing the guest access; after a config
 * write (enable, function mask) that thread also holds the PCI bus lock. The notifier may call
 * pci_msix_notify and the vm_* services, but must not make config accesses or call
 * pci_msix_set_notifier. Calls for one device arrive one at a time, in the order of the changes.
 * A masked vector's message changes are not reported; the message is passed on when it becomes
 * usable.
 */
typedef void (*pci_msix_vector_fn)(struct pci_dev *dev, unsigned vector, bool usable,
				   uint64_t addr, uint32_t data, void *opaque);

/*
 * Adds the capability with nvec vectors (1..2048) and declares BAR bar_idx as a 32-bit memory BAR
 * holding the table at offset 0 and the PBA after it (4 KiB aligned); the BAR is at least 4 KiB.
 * Returns 0, or a negative errno after logging why.
 */
int pci_msix_init(struct pci_dev *dev, unsigned nvec, int bar_idx)
	__attribute__((warn_unused_result));
void pci_msix_free(struct pci_dev *dev);

/* Installs fn (NULL removes it) and reports to it every vector usable at that moment. */
void pci_msix_set_notifier(struct pci_dev *dev, pci_msix_vector_fn fn, void *opaque);

/* BAR accesses (called by the PCI core). Reserved/misaligned accesses read 0 / are dropped. */
int pci_msix_bar_read(struct pci_dev *dev, uint64_t off, unsigned size, uint64_t *value);
int pci_msix_bar_write(struct pci_dev *dev, uint64_t off, unsigned size, uint64_t value);
/* After a config write at [reg, reg+size) (called by the PCI core). */
void pci_msix_cfg_written(struct pci_dev *dev, unsigned reg, unsigned size);

/*
 * Raise vector: delivered now when usable, otherwise its PBA bit is set and it is delivered when
 * it becomes usable. Returns 0, or -EINVAL for a vector beyond the table (dropped).
 */
int pci_msix_notify(struct pci_dev *dev, unsigned vector);

bool pci_msix_enabled(struct pci_dev *dev);
bool pci_msix_pending(struct pci_dev *dev, unsigned vector);
unsigned pci_msix_vectors(struct pci_dev *dev);

#endif
