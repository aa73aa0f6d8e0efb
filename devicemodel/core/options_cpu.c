/*
 * The vCPUs of the VM: --cpu_affinity (ACRN 3: the host CPUs, named by local APIC id, one vCPU
 * each) and -c/--ncpus (ACRN 1.x's count, for a VM whose vCPUs need no pinning, such as SMP
 * guests on a machine with fewer CPUs). ACRN 2 also took ranges ("4-6"); both forms are read.
 */
#include <stdlib.h>
#include <string.h>

#include "options_priv.h"

#define APIC_ID_MAX 255		/* the MADT's local APIC entries carry 8-bit ids */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static gboolean add_cpu(struct vm_config *cfg, const gchar *name, const gchar *value,
			unsigned long id, GError **error)
{
	for (unsigned i = 0; i < cfg->ncpu_affinity; i++)
		if (cfg->cpu_affinity[i] == id)
			return opt_fail(error, "%s %s: CPU %lu is listed twice", name, value, id);
	if (cfg->ncpu_affinity == VM_MAX_VCPUS)
		return opt_fail(error, "%s %s: more than %d CPUs (ACRN's limit of vCPUs per VM)",
				name, value, VM_MAX_VCPUS);
	cfg->cpu_affinity[cfg->ncpu_affinity++] = (uint32_t)id;
	return TRUE;
}

gboolean opt_on_cpu_affinity(const gchar *name, const gchar *value, gpointer data,
			     GError **error)
{
	struct vm_config *cfg = ((struct parse_state *)data)->cfg;
	if (cfg->ncpu_affinity)
		return opt_fail(error, "%s %s: given more than once", name, value);
	if (*value == '\0')
		return opt_fail(error, "%s: empty list (expected local APIC ids such as 0,2)", name);

	const char *p = value;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *dash = memchr(p, '-', len);
		unsigned long first, last = 0;
		size_t first_len = dash ? (size_t)(dash - p) : len;
		if (!opt_parse_decimal(p, first_len, APIC_ID_MAX, &first) ||
		    (dash && !opt_parse_decimal(dash + 1, len - first_len - 1, APIC_ID_MAX, &last))) {
			cfg->ncpu_affinity = 0;
			return opt_fail(error, "%s %s: '%.*s' is not a CPU (local APIC ids 0-%d, "
					"as 1,3 or 4-6)", name, value, (int)len, p, APIC_ID_MAX);
		}
		if (!dash)
			last = first;
		if (last < first) {
			cfg->ncpu_affinity = 0;
			return opt_fail(error, "%s %s: the range %.*s runs backwards", name, value,
					(int)len, p);
		}
		for (unsigned long id = first; id <= last; id++)
			if (!add_cpu(cfg, name, value, id, error)) {
				cfg->ncpu_affinity = 0;
				return FALSE;
			}
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	/* ACRN's hypervisor gives vCPU i the i-th lowest pCPU of the affinity, whatever the order. */
	qsort(cfg->cpu_affinity, cfg->ncpu_affinity, sizeof(cfg->cpu_affinity[0]), cmp_u32);
	return TRUE;
}

gboolean opt_on_ncpus(const gchar *name, const gchar *value, gpointer data, GError **error)
{
	struct vm_config *cfg = ((struct parse_state *)data)->cfg;
	unsigned long n;
	if (cfg->ncpus_given)
		return opt_fail(error, "%s %s: given more than once", name, value);
	if (!opt_parse_decimal(value, strlen(value), VM_MAX_VCPUS, &n) || n == 0)
		return opt_fail(error, "%s %s: the vCPU count must be 1 to %d", name, value,
				VM_MAX_VCPUS);
	cfg->ncpus = (unsigned)n;
	cfg->ncpus_given = true;
	return TRUE;
}

char *opt_finish_cpus(struct vm_config *cfg)
{
	if (cfg->ncpu_affinity && cfg->ncpus_given && cfg->ncpus != cfg->ncpu_affinity)
		return g_strdup_printf("-c %u and --cpu_affinity disagree: the affinity lists %u "
				       "CPUs, one per vCPU", cfg->ncpus, cfg->ncpu_affinity);
	if (cfg->ncpu_affinity)
		cfg->ncpus = cfg->ncpu_affinity;
	else if (!cfg->ncpus_given)
		cfg->ncpus = 1;
	return NULL;
}
