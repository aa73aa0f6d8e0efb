/*
 * save's job: a VBDF for every blank one, chosen deterministically (same scenario, same
 * result) and never clashing with any other vBDF the scenario gives that VM.
 */
#ifndef IVCONFIG_FILL_H
#define IVCONFIG_FILL_H

#include <glib.h>

#include "diag.h"
#include "model.h"
#include "scenario.h"
#include "vbdf.h"

#define RULE_VBDF_FULL "vbdf-full"

struct vbdf_fill {
	struct scen_member *member;
	struct vbdf vbdf;
};

/*
 * The VBDF each blank (or missing) VBDF gets, regions and VMs taken in file order, each from
 * vbdf_pick_free() over everything that VM already uses. Blanks of VMs the scenario does not
 * have are left alone (check reports them); a VM with no free device number gets an error
 * diagnostic with rule "vbdf-full". Returns a GPtrArray of struct vbdf_fill * (freed with it).
 */
GPtrArray *fill_plan(const struct scen_model *m, struct diag_list *diags);

/* Writes the plan into the tree, creating <VBDF> where it is missing. */
void fill_apply(struct scenario_doc *sd, const GPtrArray *plan);

/* The planned VBDF of a member, or NULL when the plan does not fill it. */
const struct vbdf *fill_lookup(const GPtrArray *plan, const struct scen_member *member);

#endif
