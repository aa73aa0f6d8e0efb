/*
 * What CREATE_VM carries for ACRN's --cpu_affinity, --rtvm, --lapic_pt and --enable_trusty, as
 * ACRN 3's acrn-dm sends them: the pCPU bitmap from the Service VM's MADT, the guest flags, and
 * vcpu_num left for the hypervisor to answer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_vmm_hsm_fixture.h"

static char madt_path[64];

/* A MADT as firmware writes it: processor entries in pCPU order, and entries of other kinds. */
static size_t build_madt(uint8_t *buf, const uint8_t *ids, const bool *enabled, unsigned n)
{
	memset(buf, 0, 512);
	memcpy(buf, "APIC", 4);
	size_t off = 44;
	for (unsigned i = 0; i < n; i++) {
		uint8_t e[8] = { 0, 8, (uint8_t)i, ids[i], enabled[i] ? 1 : 0, 0, 0, 0 };
		memcpy(buf + off, e, 8);
		off += 8;
		if (i == 1) {
			/* An I/O APIC entry and an x2APIC entry in between: not pCPUs to ACRN. */
			uint8_t ioapic[12] = { 1, 12, 8, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0 };
			uint8_t x2apic[16] = { 9, 16, 0, 0, 0x40, 0, 0, 0, 1, 0, 0, 0, 0x40, 0, 0, 0 };
			memcpy(buf + off, ioapic, sizeof(ioapic));
			off += sizeof(ioapic);
			memcpy(buf + off, x2apic, sizeof(x2apic));
			off += sizeof(x2apic);
		}
	}
	buf[4] = (uint8_t)off;
	buf[5] = (uint8_t)(off >> 8);
	return off;
}

static void write_madt(const uint8_t *buf, size_t len)
{
	FILE *f = fopen(madt_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	hsm_madt_path = madt_path;
}

/* A client machine with hyper-threads: ACRN's pCPUs 0..7 have APIC ids 0,2,4,6,1,3,5,7. */
static void write_ht_madt(void)
{
	const uint8_t ids[] = { 0, 2, 4, 6, 9, 1, 3, 5, 7 };
	const bool enabled[] = { true, true, true, true, false, true, true, true, true };
	uint8_t buf[512];
	write_madt(buf, build_madt(buf, ids, enabled, 9));
}

static int setup(void **state)
{
	snprintf(madt_path, sizeof(madt_path), "/tmp/acrn-madt.XXXXXX");
	int fd = mkstemp(madt_path);
	assert_true(fd >= 0);
	close(fd);
	return hsm_setup(state);
}

static int teardown(void **state)
{
	unlink(madt_path);
	hsm_madt_path = "/sys/firmware/acpi/tables/APIC";
	return hsm_teardown(state);
}

static const struct acrn_vm_creation *created(void)
{
	const struct fake_call *c = fake_hsm_call(ACRN_IOCTL_CREATE_VM, 1);
	assert_non_null(c);
	return FAKE_ARG(c, struct acrn_vm_creation);
}

static void test_vm_flags(void **state)
{
	struct fixture *f = *state;
	const struct {
		bool rtvm, lapic_pt, trusty;
		uint64_t flags;
	} cases[] = {
		{ false, false, false, 0 },
		/* ACRN 3: --rtvm turns LAPIC pass-through on, which brings PMU pass-through. */
		{ true, false, false, 0x816 },
		{ true, true, false, 0x816 },
		/* --lapic_pt without --rtvm: ACRN 3 warns and drops it. */
		{ false, true, false, 0 },
		{ false, false, true, 0x1 },
		{ true, true, true, 0x817 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_hsm_reset();
		struct vmm_vm_params p = params("RT_VM", 1);
		p.rtvm = cases[i].rtvm;
		p.lapic_pt = cases[i].lapic_pt;
		p.trusty = cases[i].trusty;
		assert_int_equal(vmm_hsm_ops.create_vm(&f->vmm, &p), 0);
		const struct acrn_vm_creation *cv = created();
		if (cv->vm_flag != cases[i].flags)
			fail_msg("case %zu: vm_flag 0x%llx, want 0x%llx", i,
				 (unsigned long long)cv->vm_flag, (unsigned long long)cases[i].flags);
		assert_int_equal(cv->cpu_affinity, 0);	/* the scenario's pCPUs */
		assert_int_equal(cv->vcpu_num, 0);
		vmm_hsm_ops.destroy_vm(&f->vmm);
	}
	/* The flags are the hypervisor's bits, as its acrn_common.h numbers them. */
	assert_int_equal(HSM_GUEST_FLAG_SECURE_WORLD_ENABLED, 1u << 0);
	assert_int_equal(HSM_GUEST_FLAG_LAPIC_PASSTHROUGH, 1u << 1);
	assert_int_equal(HSM_GUEST_FLAG_IO_COMPLETION_POLLING, 1u << 2);
	assert_int_equal(HSM_GUEST_FLAG_RT, 1u << 4);
	assert_int_equal(HSM_GUEST_FLAG_PMU_PASSTHROUGH, 1u << 11);
}

static void test_cpu_affinity(void **state)
{
	struct fixture *f = *state;
	write_ht_madt();
	/* APIC ids 2 and 6 are ACRN's pCPUs 1 and 3; 1 and 7 its pCPUs 4 and 7. */
	const struct {
		uint32_t ids[4];
		unsigned n;
		uint64_t bitmap;
	} cases[] = {
		{ { 2, 6 }, 2, 0xa },
		{ { 0 }, 1, 0x1 },
		{ { 1, 7 }, 2, 0x90 },
		{ { 0, 1, 2, 3 }, 4, 0x33 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_hsm_reset();
		struct vmm_vm_params p = params("POST_RT_VM1", cases[i].n);
		p.cpu_affinity = cases[i].ids;
		assert_int_equal(vmm_hsm_ops.create_vm(&f->vmm, &p), 0);
		const struct acrn_vm_creation *cv = created();
		assert_int_equal(cv->cpu_affinity, cases[i].bitmap);
		/* ACRN's acrn-dm leaves vcpu_num 0: the hypervisor answers, one vCPU per pCPU. */
		assert_int_equal(cv->vcpu_num, 0);
		struct hsm_vm *h = f->vmm.priv;
		assert_int_equal(h->vcpu_num, cases[i].n);
		vmm_hsm_ops.destroy_vm(&f->vmm);
	}
}

static void test_cpu_affinity_refused(void **state)
{
	struct fixture *f = *state;
	write_ht_madt();
	/* Id 9 is in the MADT but disabled; 8 is not there at all. ACRN would take pCPU 63. */
	const uint32_t ids[][2] = { { 0, 9 }, { 8, 0 } };
	for (size_t i = 0; i < 2; i++) {
		fake_hsm_reset();
		struct vmm_vm_params p = params("POST_RT_VM1", 2);
		p.cpu_affinity = ids[i];
		assert_int_equal(vmm_hsm_ops.create_vm(&f->vmm, &p), -EINVAL);
		assert_null(f->vmm.priv);
		assert_int_equal(fake_hsm_count(ACRN_IOCTL_CREATE_VM), 0);
	}

	/* No readable MADT: the error names the file. */
	fake_hsm_reset();
	hsm_madt_path = "/nonexistent/APIC";
	struct vmm_vm_params p = params("POST_RT_VM1", 1);
	const uint32_t one = 0;
	p.cpu_affinity = &one;
	assert_int_equal(vmm_hsm_ops.create_vm(&f->vmm, &p), -ENOENT);
	assert_int_equal(fake_hsm_count(ACRN_IOCTL_CREATE_VM), 0);
	hsm_madt_path = madt_path;
}

static void test_madt_parsing(void **state)
{
	(void)state;
	const uint8_t ids[] = { 4, 5, 6 };
	const bool enabled[] = { true, false, true };
	uint8_t buf[512];
	size_t len = build_madt(buf, ids, enabled, 3);
	uint32_t out[8];
	assert_int_equal(hsm_madt_apic_ids(buf, len, out, 8), 2);
	assert_int_equal(out[0], 4);
	assert_int_equal(out[1], 6);
	assert_int_equal(hsm_madt_apic_ids(buf, len, out, 1), -E2BIG);

	/* Truncated, a wrong signature, a length beyond the data, a zero-length entry. */
	assert_int_equal(hsm_madt_apic_ids(buf, 20, out, 8), -EINVAL);
	uint8_t bad[512];
	memcpy(bad, buf, len);
	memcpy(bad, "FACP", 4);
	assert_int_equal(hsm_madt_apic_ids(bad, len, out, 8), -EINVAL);
	memcpy(bad, buf, len);
	bad[4] = (uint8_t)(len + 8);
	assert_int_equal(hsm_madt_apic_ids(bad, len, out, 8), -EINVAL);
	memcpy(bad, buf, len);
	bad[44 + 1] = 0;
	assert_int_equal(hsm_madt_apic_ids(bad, len, out, 8), -EINVAL);
	/* An entry that runs past the table's end. */
	memcpy(bad, buf, len);
	bad[44 + 1] = 200;
	assert_int_equal(hsm_madt_apic_ids(bad, len, out, 8), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vm_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_affinity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_affinity_refused, setup, teardown),
		cmocka_unit_test(test_madt_parsing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
