/*
 * generate: what the scenario's IVSHMEM section means for the two consumers ACRN's tools write
 * for, the acrn-dm command line of each post-launched VM and the hypervisor's ivshmem_cfg.h.
 * Both expect a model that passed rules_check() without errors.
 */
#ifndef IVCONFIG_GENERATE_H
#define IVCONFIG_GENERATE_H

#include <stdbool.h>

#include <glib.h>

#include "diag.h"
#include "model.h"
#include "values.h"
#include "vbdf.h"

#define RULE_VBDF_BLANK "vbdf-blank"

/* ACRN's launch scripts put the host bridge here; ivshmem devices come right after it. */
#define LAUNCH_HOSTBRIDGE_ARG "0:0,hostbridge"

struct launch_device {
	char *region;
	enum provider provider;
	char vbdf[VBDF_STRLEN];
	bool filled;		/* the scenario's VBDF is blank: this is what save would write */
	char *arg;		/* the value of -s: "8,ivshmem,dm:/NAME,SIZE,ID" */
};

struct launch_vm {
	char *name;
	char *id;		/* the vm id attribute, or NULL */
	GPtrArray *devices;	/* struct launch_device *, in launch-script order */
};

/*
 * For each post-launched VM in file order, its ivshmem devices in the order ACRN's launch
 * generator emits them: Device Model regions, then Hypervisor regions, each in file order.
 * A blank VBDF gets what save would give it, with a warning (rule "vbdf-blank").
 * Returns a GPtrArray of struct launch_vm * (freed with it).
 */
GPtrArray *generate_launch(const struct scen_model *m, struct diag_list *diags);

/* The text of the hypervisor's ivshmem_cfg.h; source names the scenario in a comment. */
char *generate_hv_header(const struct scen_model *m, const char *source);

#endif
