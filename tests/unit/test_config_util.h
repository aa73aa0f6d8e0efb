/* Helpers the acrn-ivshmem-config unit tests share: scenarios built from strings, test files. */
#ifndef TEST_CONFIG_UTIL_H
#define TEST_CONFIG_UTIL_H

#include <stddef.h>

#include "diag.h"
#include "scenario.h"

#define HYBRID_RT "cfl-k700-i7-hybrid_rt.xml"
#define SIX_VMS "cfl-k700-i7-shared_launch_6user_vm.xml"

/* IVCONFIG_TESTDATA/name (g_free it). */
char *tc_testdata_path(const char *name);

/* The bytes of a test file; fails the test if it cannot be read. */
char *tc_read_file(const char *path, size_t *len);

/*
 * A scenario with VMs PRE (pre-launched, id 0), SOS (service, id 1), POST1..POST3
 * (post-launched, ids 2..4) and a PCI vUART connection giving POST1 00:10.0, whose
 * IVSHMEM section holds `regions` (g_free it).
 */
char *tc_scenario(const char *regions);

/* One <IVSHMEM_REGION>: NULL leaves an element out; members from tc_vm() (all g_free'd). */
char *tc_region(const char *name, const char *provider, const char *size, const char *id,
		char *members);
/* One <IVSHMEM_VM>; vbdf NULL leaves <VBDF> out. */
char *tc_vm(const char *vm, const char *vbdf);
/* Concatenates and frees. */
char *tc_cat(char *a, char *b);

/* Loads from a string; fails the test when it does not load. */
struct scenario_doc *tc_load(const char *xml);

/* Loads, builds the model and runs rules_check (diag_list_free it). */
struct diag_list *tc_check(const char *xml);

/* Counts diagnostics of that rule. */
unsigned tc_count_rule(const struct diag_list *diags, const char *rule);

/* A fresh directory under $TMPDIR, removed with tc_rmdir (g_free the path). */
char *tc_mkdtemp(void);
void tc_rmdir(const char *dir);
void tc_write_file(const char *path, const char *data, size_t len);

#endif
