/*
 * What ACRN 3's acrn-dm puts in CREATE_VM for --cpu_affinity, --rtvm, --lapic_pt and
 * --enable_trusty.
 *
 * --cpu_affinity names the Service VM's CPUs by local APIC id. ACRN numbers its pCPUs in the
 * order of the enabled processor-local-APIC entries of the MADT, which the Service VM sees as
 * /sys/firmware/acpi/tables/APIC, and the hypervisor takes a bitmap of those pCPU numbers. Where
 * ACRN's acrn-dm maps an id it does not find to pCPU 63, this refuses it by name.
 *
 * The VM flags are the hypervisor's GUEST_FLAG_* bits (its acrn_common.h; <linux/acrn.h> has no
 * names for them): --rtvm gives RT and I/O-completion polling, and ACRN 3 also turns LAPIC
 * pass-through on for it, which adds PMU pass-through; --lapic_pt without --rtvm is refused by
 * ACRN 3 with a warning and has no effect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm_hsm_priv.h"

const char *hsm_madt_path = "/sys/firmware/acpi/tables/APIC";

#define MADT_HEADER_LEN		44	/* the ACPI table header (36) + local APIC address + flags */
#define MADT_LOCAL_APIC		0	/* entry type: processor local APIC */
#define MADT_LOCAL_APIC_LEN	8
#define MADT_ENABLED		1u	/* local APIC flags bit 0 */
#define MADT_MAX		(64 * 1024)

int hsm_madt_apic_ids(const uint8_t *madt, size_t len, uint32_t *ids, unsigned max)
{
	if (len < MADT_HEADER_LEN || memcmp(madt, "APIC", 4) != 0)
		return -EINVAL;
	uint32_t table_len = (uint32_t)madt[4] | (uint32_t)madt[5] << 8 | (uint32_t)madt[6] << 16 |
			     (uint32_t)madt[7] << 24;
	if (table_len < MADT_HEADER_LEN || table_len > len)
		return -EINVAL;
	unsigned n = 0;
	for (size_t off = MADT_HEADER_LEN; off + 2 <= table_len;) {
		uint8_t type = madt[off], entry_len = madt[off + 1];
		if (entry_len < 2 || off + entry_len > table_len)
			return -EINVAL;
		if (type == MADT_LOCAL_APIC && entry_len >= MADT_LOCAL_APIC_LEN &&
		    (madt[off + 4] & MADT_ENABLED)) {
			if (n == max)
				return -E2BIG;
			ids[n++] = madt[off + 3];
		}
		off += entry_len;
	}
	return (int)n;
}

int hsm_cpu_affinity_bitmap(const struct vmm_vm_params *params, uint64_t *bitmap, char *why,
			    size_t whylen)
{
	*bitmap = 0;
	if (!params->cpu_affinity)
		return 0;
	FILE *f = fopen(hsm_madt_path, "rb");
	if (!f) {
		int err = errno;
		snprintf(why, whylen, "cannot read the MADT (%s: %s), which maps local APIC ids to "
			 "ACRN's pCPU numbers", hsm_madt_path, strerror(err));
		return -err;
	}
	uint8_t *madt = malloc(MADT_MAX);
	size_t len = madt ? fread(madt, 1, MADT_MAX, f) : 0;
	fclose(f);
	if (!madt)
		return -ENOMEM;
	uint32_t ids[64];
	int n = hsm_madt_apic_ids(madt, len, ids, 64);
	free(madt);
	if (n < 0) {
		snprintf(why, whylen, "%s is not a MADT ACRN can read%s", hsm_madt_path,
			 n == -E2BIG ? " (more than 64 processors)" : "");
		return -EINVAL;
	}
	for (unsigned i = 0; i < params->vcpus; i++) {
		int pcpu = -1;
		for (int j = 0; j < n && pcpu < 0; j++)
			if (ids[j] == params->cpu_affinity[i])
				pcpu = j;
		if (pcpu < 0) {
			snprintf(why, whylen, "no processor with local APIC id %u in the MADT "
				 "(--cpu_affinity takes the Service VM's local APIC ids)",
				 params->cpu_affinity[i]);
			return -EINVAL;
		}
		*bitmap |= 1ull << pcpu;
	}
	return 0;
}

uint64_t hsm_vm_flags(const struct vmm_vm_params *params, const char *name)
{
	uint64_t flags = 0;
	bool lapic_pt = params->lapic_pt || params->rtvm;	/* ACRN 3: --rtvm implies it */
	if (params->lapic_pt && !params->rtvm) {
		pr_warn(HSM_LOG, "%s: only a real-time VM can use LAPIC pass-through; --lapic_pt "
			"without --rtvm has no effect (as in ACRN's acrn-dm)", name);
		lapic_pt = false;
	}
	if (params->trusty)
		flags |= HSM_GUEST_FLAG_SECURE_WORLD_ENABLED;
	if (lapic_pt)
		flags |= HSM_GUEST_FLAG_LAPIC_PASSTHROUGH | HSM_GUEST_FLAG_RT |
			 HSM_GUEST_FLAG_IO_COMPLETION_POLLING | HSM_GUEST_FLAG_PMU_PASSTHROUGH;
	if (params->rtvm)
		flags |= HSM_GUEST_FLAG_RT | HSM_GUEST_FLAG_IO_COMPLETION_POLLING;
	return flags;
}
