/* --debugexit: a write of V to port 0xf4 powers the VM off and acrn-dm exits with status V. */
#ifndef DM_DEBUGEXIT_H
#define DM_DEBUGEXIT_H

struct vm;

int debugexit_create(struct vm *vm) __attribute__((warn_unused_result));

#endif
