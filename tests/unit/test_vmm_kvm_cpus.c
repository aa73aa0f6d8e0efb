/*
 * The KVM backend's side of --cpu_affinity and of ACRN's VM flags: local APIC ids to host CPUs
 * (from a cpuinfo file of the test's own), the errors naming a CPU that is not there or not
 * allowed, the warnings for --lapic_pt/--rtvm/--enable_trusty; and, with /dev/kvm, the vCPUs of
 * an SMP VM: application processors waiting for SIPI, each pinned vCPU bound to its CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "../../devicemodel/vmm/vmm_kvm_priv.h"

static char cpuinfo[64];

static void write_cpuinfo(const char *text)
{
	FILE *f = fopen(cpuinfo, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	kvm_cpuinfo_path = cpuinfo;
}

static int setup(void **state)
{
	(void)state;
	snprintf(cpuinfo, sizeof(cpuinfo), "/tmp/acrn-cpuinfo.XXXXXX");
	int fd = mkstemp(cpuinfo);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(cpuinfo);
	kvm_cpuinfo_path = "/proc/cpuinfo";
	return 0;
}

/* The first allowed CPU of this process, to describe a host it can really be pinned on. */
static int first_allowed_cpu(void)
{
	cpu_set_t set;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			return i;
	fail_msg("no allowed CPU");
	return -1;
}

static void test_apic_ids_to_cpus(void **state)
{
	(void)state;
	int cpu = first_allowed_cpu();
	char text[1024];
	/* The hyper-threaded layout: this CPU has APIC id 2; CPU 4000 exists but is not ours. */
	snprintf(text, sizeof(text),
		 "processor\t: %d\nvendor_id\t: GenuineIntel\napicid\t\t: 2\ninitial apicid\t: 2\n\n"
		 "processor\t: 4000\napicid\t\t: 200\n\n", cpu);
	write_cpuinfo(text);

	uint32_t ids[2] = { 2 };
	struct vmm_vm_params p = { .name = "vm", .vcpus = 1, .cpu_affinity = ids };
	int cpus[2] = { -1, -1 };
	char why[256] = "";
	assert_int_equal(kvm_map_host_cpus(&p, cpus, why, sizeof(why)), 0);
	assert_int_equal(cpus[0], cpu);

	/* An id no online CPU has: named, with the ids that are there. */
	ids[0] = 9;
	assert_int_equal(kvm_map_host_cpus(&p, cpus, why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "CPU 9 is not online on this host"));
	assert_non_null(strstr(why, "the online ones have 2,200"));

	/* Online, but this process may not run there. */
	ids[0] = 2;
	ids[1] = 200;
	p.vcpus = 2;
	assert_int_equal(kvm_map_host_cpus(&p, cpus, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "CPU 200 (host CPU 4000) is online but acrn-dm may not run"));

	/* Without --cpu_affinity there is nothing to map. */
	p.cpu_affinity = NULL;
	assert_int_equal(kvm_map_host_cpus(&p, cpus, why, sizeof(why)), 0);

	/* A cpuinfo without APIC ids, and none at all. */
	write_cpuinfo("processor\t: 0\nmodel name\t: cpu\n");
	p.cpu_affinity = ids;
	p.vcpus = 1;
	assert_int_equal(kvm_map_host_cpus(&p, cpus, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no apicid lines"));
	kvm_cpuinfo_path = "/nonexistent/cpuinfo";
	assert_int_equal(kvm_map_host_cpus(&p, cpus, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "/nonexistent/cpuinfo"));
}

static void test_flag_warnings(void **state)
{
	(void)state;
	const char *notes[4];
	struct vmm_vm_params p = { .name = "vm", .vcpus = 1 };
	assert_int_equal(kvm_params_notes(&p, notes, 4), 0);
	p.lapic_pt = true;
	assert_int_equal(kvm_params_notes(&p, notes, 4), 1);
	assert_non_null(strstr(notes[0], "LAPIC pass-through does not exist on KVM"));
	/* ACRN 3's --rtvm implies LAPIC pass-through: still one warning. */
	p.rtvm = true;
	assert_int_equal(kvm_params_notes(&p, notes, 4), 1);
	p.lapic_pt = false;
	assert_int_equal(kvm_params_notes(&p, notes, 4), 1);
	p.trusty = true;
	assert_int_equal(kvm_params_notes(&p, notes, 4), 2);
	assert_non_null(strstr(notes[1], "--enable_trusty: no effect on KVM"));
}

static bool kvm_usable(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return false;
	int vm = ioctl(kvm, KVM_GET_API_VERSION, 0) == 12 ? ioctl(kvm, KVM_CREATE_VM, 0) : -1;
	close(kvm);
	if (vm < 0)
		return false;
	close(vm);
	return true;
}

static void test_smp_vcpus(void **state)
{
	(void)state;
	if (!kvm_usable()) {
		printf("SKIP: /dev/kvm is missing or unusable\n");
		skip();
	}
	int cpu = first_allowed_cpu();
	char text[256];
	snprintf(text, sizeof(text), "processor\t: %d\napicid\t\t: 7\n\n", cpu);
	write_cpuinfo(text);

	/* Four vCPUs: the boot vCPU runs, the others wait for the boot vCPU's INIT/SIPI. */
	struct vmm vmm = { .ops = &vmm_kvm_ops };
	struct vmm_vm_params p = { .name = "smp", .vcpus = 4, .memsize = 4 << 20 };
	assert_int_equal(vmm_kvm_ops.create_vm(&vmm, &p), 0);
	struct kvm_backend *kb = vmm.priv;
	assert_int_equal(kb->nvcpus, 4);
	for (unsigned i = 0; i < 4; i++) {
		struct kvm_mp_state mp;
		assert_int_equal(ioctl(kb->vcpus[i].fd, KVM_GET_MP_STATE, &mp), 0);
		assert_int_equal(mp.mp_state, i == 0 ? KVM_MP_STATE_RUNNABLE
						     : KVM_MP_STATE_INIT_RECEIVED);
		assert_int_equal(kb->vcpus[i].host_cpu, -1);
	}
	vmm_kvm_ops.destroy_vm(&vmm);

	/* Pinned: each vCPU knows its host CPU (APIC id 7 is this CPU here). */
	uint32_t ids[1] = { 7 };
	p.vcpus = 1;
	p.cpu_affinity = ids;
	assert_int_equal(vmm_kvm_ops.create_vm(&vmm, &p), 0);
	kb = vmm.priv;
	assert_int_equal(kb->vcpus[0].host_cpu, cpu);
	vmm_kvm_ops.destroy_vm(&vmm);

	/* A CPU that is not online fails before anything is created. */
	ids[0] = 8;
	log_set_level(LOG_ERR);
	assert_int_equal(vmm_kvm_ops.create_vm(&vmm, &p), -ENODEV);
	assert_null(vmm.priv);
	log_set_level(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apic_ids_to_cpus, setup, teardown),
		cmocka_unit_test(test_flag_warnings),
		cmocka_unit_test_setup_teardown(test_smp_vcpus, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
