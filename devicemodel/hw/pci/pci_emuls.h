/*
 * Every PCI emulation's descriptor, for the table in pci_emul_table.c. Adding an emulation is one
 * line here, one line in the table, and its source file in module.mk.
 */
#ifndef DM_PCI_EMULS_H
#define DM_PCI_EMULS_H

#include "pci.h"

extern const struct pci_dev_ops pci_hostbridge_ops;
extern const struct pci_dev_ops pci_lpc_ops;
extern const struct pci_dev_ops pci_ivshmem_ops;
extern const struct pci_dev_ops pci_vuart_ops;		/* devicemodel/hw/pci_vuart.c */

#endif
