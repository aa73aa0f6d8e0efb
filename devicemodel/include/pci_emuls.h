/*
 * The PCI emulations -s can name: every emulation's descriptor, and the explicit table of them
 * (devicemodel/dm/pci_emulations.c) that acrn-dm looks names up in. Adding an emulation is one
 * line here, one line in the table, and its source file in a module.mk.
 */
#ifndef DM_PCI_EMULS_H
#define DM_PCI_EMULS_H

#include "pci.h"

extern const struct pci_dev_ops pci_hostbridge_ops;
extern const struct pci_dev_ops pci_lpc_ops;
extern const struct pci_dev_ops pci_ivshmem_ops;
extern const struct pci_dev_ops pci_vuart_ops;		/* devicemodel/hw/pci_vuart.c */

/* The emulation named emul ("hostbridge", "lpc", "ivshmem"); NULL for an unknown name. */
const struct pci_dev_ops *pci_emul_find(const char *emul);

#endif
