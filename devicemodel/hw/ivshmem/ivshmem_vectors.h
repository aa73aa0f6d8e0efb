/*
 * The doorbell device's own vectors (ivshmem_vectors.c): the eventfd the server gave for each is
 * routed to the vector's MSI-X message, through an irqfd while the vector is usable and through
 * user space (the MSI-X helper's pending bits) otherwise.
 */
#ifndef DM_IVSHMEM_VECTORS_H
#define DM_IVSHMEM_VECTORS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct pci_dev;
struct ivshmem_vectors;

/*
 * Adds MSI-X with n vectors in BAR bar_idx of dev and follows its notifier. irqfd: use the
 * backend's irqfds (ioeventfd=on's twin, irqfd=on). lock is the doorbell's: the notifier takes it,
 * and the _locked calls below are made with it held. Returns 0 or a negative errno after logging
 * why.
 */
int ivshmem_vectors_new(struct pci_dev *dev, unsigned n, int bar_idx, bool irqfd,
			pthread_mutex_t *lock, struct ivshmem_vectors **out)
	__attribute__((warn_unused_result));
/* Detaches every irqfd and watch. Takes the lock. NULL is fine. */
void ivshmem_vectors_free(struct ivshmem_vectors *v);

/* Own vector k is now rung on fd (-1: on nothing, the server is gone). */
void ivshmem_vectors_set_fd_locked(struct ivshmem_vectors *v, unsigned k, int fd);

/* Own eventfd signals read in user space (masked vectors, or no irqfd), for the exit summary. */
uint64_t ivshmem_vectors_received_user(const struct ivshmem_vectors *v);

#endif
