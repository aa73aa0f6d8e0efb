/*
 * The host side of --cpu_affinity on KVM, and what ACRN's VM flags mean here.
 *
 * ACRN 3 names the CPUs of a VM by local APIC id; on KVM each vCPU thread is pinned to the host
 * CPU with that APIC id (/proc/cpuinfo lists the online CPUs with theirs; on most hosts the id is
 * the CPU number). A CPU that is not online, or that this process may not run on, is an error
 * that names it.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm_kvm_priv.h"

const char *kvm_cpuinfo_path = "/proc/cpuinfo";

#define HOST_CPUS_MAX 4096

struct host_cpu {
	int cpu;
	long apic_id;
};

/* "key<tabs/spaces>: value": the value as a number, or -1 when the line is another key. */
static long field(const char *line, const char *key)
{
	size_t klen = strlen(key);
	if (strncmp(line, key, klen) != 0)
		return -1;
	const char *p = line + klen;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != ':')
		return -1;
	char *end;
	long v = strtol(p + 1, &end, 10);
	return end == p + 1 ? -1 : v;
}

/* The online CPUs and their APIC ids, from /proc/cpuinfo. Their count, or -errno. */
static int read_host_cpus(struct host_cpu *out, int max)
{
	FILE *f = fopen(kvm_cpuinfo_path, "r");
	if (!f)
		return -errno;
	char line[256];
	int n = 0;
	long cpu = -1;
	while (fgets(line, sizeof(line), f)) {
		long v = field(line, "processor");
		if (v >= 0) {
			cpu = v;
			continue;
		}
		v = field(line, "apicid");
		if (v >= 0 && cpu >= 0 && n < max) {
			out[n++] = (struct host_cpu){ .cpu = (int)cpu, .apic_id = v };
			cpu = -1;
		}
	}
	fclose(f);
	return n;
}

int kvm_map_host_cpus(const struct vmm_vm_params *params, int *cpus, char *why, size_t whylen)
{
	if (!params->cpu_affinity)
		return 0;
	struct host_cpu *host = calloc(HOST_CPUS_MAX, sizeof(*host));
	if (!host)
		return -ENOMEM;
	int n = read_host_cpus(host, HOST_CPUS_MAX);
	int ret = 0;
	if (n <= 0) {
		snprintf(why, whylen, "cannot tell the host CPUs' local APIC ids from %s: %s",
			 kvm_cpuinfo_path, n < 0 ? strerror(-n) : "no apicid lines");
		ret = n < 0 ? n : -ENOENT;
		goto out;
	}
	cpu_set_t allowed;
	CPU_ZERO(&allowed);
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		CPU_ZERO(&allowed);
	for (unsigned i = 0; i < params->vcpus; i++) {
		uint32_t id = params->cpu_affinity[i];
		int cpu = -1;
		for (int j = 0; j < n && cpu < 0; j++)
			if (host[j].apic_id == (long)id)
				cpu = host[j].cpu;
		if (cpu < 0) {
			char online[160] = "";
			size_t used = 0;
			for (int j = 0; j < n && used + 12 < sizeof(online); j++)
				used += (size_t)snprintf(online + used, sizeof(online) - used, "%s%ld",
							 j ? "," : "", host[j].apic_id);
			snprintf(why, whylen, "CPU %u is not online on this host (--cpu_affinity "
				 "names CPUs by local APIC id; the online ones have %s)", id, online);
			ret = -ENODEV;
			goto out;
		}
		if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) {
			snprintf(why, whylen, "CPU %u (host CPU %d) is online but acrn-dm may not run "
				 "there (its cpuset or taskset excludes it)", id, cpu);
			ret = -EPERM;
			goto out;
		}
		cpus[i] = cpu;
	}
out:
	free(host);
	return ret;
}

unsigned kvm_params_notes(const struct vmm_vm_params *params, const char **notes, unsigned max)
{
	unsigned n = 0;
	if ((params->lapic_pt || params->rtvm) && n < max)
		notes[n++] = "--lapic_pt/--rtvm: LAPIC pass-through does not exist on KVM; the vCPUs "
			     "get KVM's emulated LAPIC, without ACRN's real-time partitioning";
	if (params->trusty && n < max)
		notes[n++] = "--enable_trusty: no effect on KVM (ACRN's secure world for Android's "
			     "Trusty)";
	return n;
}
