#ifndef DM_VERSION_H
#define DM_VERSION_H
#define ACRN_IVSHMEM_VERSION "0.1.0"
#endif
