/*
 * The emulations -s can name, listed explicitly: no linker sections or constructors, so nothing
 * silently drops out of a static library and the list is one place to read.
 */
#include <stddef.h>
#include <string.h>

#include "pci_emuls.h"

static const struct pci_dev_ops *const pci_emulations[] = {
	&pci_hostbridge_ops,
	&pci_lpc_ops,
	&pci_ivshmem_ops,
	&pci_vuart_ops,
};

const struct pci_dev_ops *pci_emul_find(const char *emul)
{
	if (!emul)
		return NULL;
	for (size_t i = 0; i < sizeof(pci_emulations) / sizeof(pci_emulations[0]); i++)
		if (strcmp(pci_emulations[i]->emul, emul) == 0)
			return pci_emulations[i];
	return NULL;
}
