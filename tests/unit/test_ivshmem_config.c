/* The ivshmem option string: every accepted form, and 40+ malformed ones with their messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ivshmem_config.h"

#define MiB (1ULL << 20)

static struct ivshmem_config parse_ok(const char *text)
{
	struct ivshmem_config cfg;
	char err[256] = "";
	int ret = ivshmem_parse_config(text, &cfg, err, sizeof(err));
	if (ret != 0)
		fail_msg("'%s' refused: %s", text, err);
	return cfg;
}

static void test_acrn_forms(void **state)
{
	(void)state;
	/* The seed document's form and the generated launch scripts' form. */
	struct ivshmem_config c = parse_ok("dm:/shm_region_0,2");
	assert_int_equal(c.land, IVSHMEM_DM_LAND);
	assert_string_equal(c.name, "shm_region_0");
	assert_int_equal(c.size, 2 * MiB);
	assert_int_equal(c.region_id, 0);
	assert_int_equal(c.backend, IVSHMEM_BACKEND_SHM);
	assert_int_equal(c.vectors, 0);

	c = parse_ok("dm:/shm_region_0,2,0");
	assert_int_equal(c.region_id, 0);
	c = parse_ok("hv:/shm_region_1,512,4096");
	assert_int_equal(c.land, IVSHMEM_HV_LAND);
	assert_int_equal(c.size, 512 * MiB);
	assert_int_equal(c.region_id, 4096);
	char label[64];
	ivshmem_config_label(&c, label, sizeof(label));
	assert_string_equal(label, "hv:/shm_region_1");
}

static void test_region_ids(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("dm:/r,4,0x1000").region_id, 0x1000);
	assert_int_equal(parse_ok("dm:/r,4,0XfFfF").region_id, 0xffff);
	assert_int_equal(parse_ok("dm:/r,4,65535").region_id, 65535);
	assert_int_equal(parse_ok("dm:/r,4,007").region_id, 7);
	/* The same rule as acrn-ivshmem-config's (one implementation): any number of digits. */
	assert_int_equal(parse_ok("dm:/r,4,0x00001001").region_id, 0x1001);
	assert_int_equal(parse_ok("dm:/r,4,0000004097").region_id, 4097);
}

static void test_sizes(void **state)
{
	(void)state;
	for (unsigned mb = 2; mb <= 512; mb *= 2) {
		char text[64];
		snprintf(text, sizeof(text), "dm:/r,%u", mb);
		assert_int_equal(parse_ok(text).size, (uint64_t)mb * MiB);
	}
	assert_int_equal(parse_ok("dm:/big,16384,large=on").size, 16384 * MiB);
	assert_int_equal(parse_ok("dm:/big,1024,0x1001,large=on").size, 1024 * MiB);
}

static void test_keys(void **state)
{
	(void)state;
	struct ivshmem_config c = parse_ok("dm:/h,4,1,mem=hugetlbfs,hugetlbfs=/dev/./shm/");
	assert_int_equal(c.backend, IVSHMEM_BACKEND_HUGETLBFS);
	assert_string_equal(c.hugetlbfs_dir, "/dev/shm");
	assert_int_equal(c.region_id, 1);

	c = parse_ok("dm:/h,4,mem=hugetlbfs");
	assert_string_equal(c.hugetlbfs_dir, "");

	c = parse_ok("dm:/d,8,vectors=4");
	assert_int_equal(c.vectors, 4);
	assert_string_equal(c.server, IVSHMEM_SERVER_DIR "/d.sock");

	c = parse_ok("dm:/d,8,2,vectors=64,server=/tmp/s.sock");
	assert_int_equal(c.vectors, 64);
	assert_string_equal(c.server, "/tmp/s.sock");
	assert_string_equal(parse_ok("dm:/d,8,vectors=1,server=/dev/../tmp/./s.sock").server,
			    "/tmp/s.sock");
	assert_string_equal(parse_ok("dm:/d,8,vectors=1,server=/s.sock").server, "/s.sock");

	assert_true(c.ioeventfd);
	assert_true(c.irqfd);
	c = parse_ok("dm:/d,8,vectors=2,ioeventfd=off,irqfd=off");
	assert_false(c.ioeventfd);
	assert_false(c.irqfd);

	c = parse_ok("dm:/m,2,mem=memfd,hugepages=on,vectors=1");
	assert_int_equal(c.backend, IVSHMEM_BACKEND_MEMFD);
	assert_true(c.memfd_hugetlb);
	assert_int_equal(parse_ok("dm:/m,2,vectors=64").vectors, 64);
	assert_int_equal(parse_ok("dm:/a-b.c_9,2").size, 2 * MiB);
	assert_string_equal(parse_ok("dm:/abcdefghijklmnopqrstuvwxyz0,2").name,
			    "abcdefghijklmnopqrstuvwxyz0");
}

static const struct {
	const char *text;
	const char *expect;
} bad[] = {
	{ "", "missing configuration" },
	{ "shm_region_0,2", "expected dm:/NAME or hv:/NAME" },
	{ "dm:shm,2", "expected dm:/NAME" },
	{ "xx:/shm,2", "expected dm:/NAME" },
	{ "DM:/shm,2", "expected dm:/NAME" },
	{ "dm:/,2", "region name" },
	{ "dm:/.hidden,2", "region name" },
	{ "dm:/../etc,2", "region name" },
	{ "dm:/a/b,2", "region name" },
	{ "dm:/a b,2", "region name" },
	{ "dm:/abcdefghijklmnopqrstuvwxyz01,2", "region name" },
	{ "dm:/abcdefghijklmnopqrstuvwxyz0123456789012345678901234567890123456789,2", "longer" },
	{ "dm:/r", "missing the size" },
	{ "dm:/r,", "size" },
	{ "dm:/r,3", "size" },
	{ "dm:/r,1", "size" },
	{ "dm:/r,0", "size" },
	{ "dm:/r,4098", "size" },
	{ "dm:/r,1024", "large=on" },
	{ "dm:/r,2x", "size" },
	{ "dm:/r,-2", "size" },
	{ "dm:/r,0x2", "size" },
	{ "dm:/r, 2", "size" },
	{ "dm:/r,2 ", "size" },
	{ "dm:/r,18446744073709551616", "size" },
	{ "dm:/r,9223372036854775808", "size" },
	{ "dm:/r,65536,large=on", "size" },
	{ "dm:/r,vectors=2", "missing the size" },
	{ "dm:/r,2,65536", "region id" },
	{ "dm:/r,2,-1", "region id" },
	{ "dm:/r,2,0x", "region id" },
	{ "dm:/r,2,0x10000", "region id" },
	{ "dm:/r,2,12abc", "region id" },
	{ "dm:/r,2,0,1", "expected key=value" },
	{ "dm:/r,2,0,", "empty option" },
	{ "dm:/r,2,0,,vectors=1", "empty option" },
	{ "dm:/r,2,color=red", "unknown key 'color'" },
	{ "dm:/r,2,mem=", "missing value" },
	{ "dm:/r,2,mem=tmpfs", "expected shm, hugetlbfs or memfd" },
	{ "dm:/r,2,mem=shm,mem=shm", "more than once" },
	{ "dm:/r,2,vectors=0", "from 1 to 64" },
	{ "dm:/r,2,vectors=65", "from 1 to 64" },
	{ "dm:/r,2,vectors=-1", "from 1 to 64" },
	{ "dm:/r,2,vectors=4x", "from 1 to 64" },
	{ "dm:/r,2,vectors=99999999999999999999", "from 1 to 64" },
	{ "dm:/r,2,server=relative.sock,vectors=1", "absolute socket path" },
	{ "dm:/r,2,server=/tmp/s", "needs vectors" },
	{ "dm:/r,2,mem=memfd", "ivshmem server" },
	{ "dm:/r,2,hugetlbfs=/mnt", "needs mem=hugetlbfs" },
	{ "dm:/r,2,hugetlbfs=mnt,mem=hugetlbfs", "hugetlbfs=mnt: expected an absolute path" },
	{ "dm:/r,2,mem=hugetlbfs,hugetlbfs=/nonexistent-ivcfg", "hugetlbfs=/nonexistent-ivcfg: directory" },
	{ "dm:/r,2,mem=hugetlbfs,hugetlbfs=/dev/null", "hugetlbfs=/dev/null: /dev/null is not a directory" },
	{ "dm:/r,2,vectors=1,server=/nonexistent-ivcfg/s.sock", "server=/nonexistent-ivcfg/s.sock: directory" },
	{ "dm:/r,2,vectors=1,server=/dev/null/s.sock", "server=/dev/null/s.sock: directory" },
	{ "dm:/r,2,vectors=1,server=/tmp/", "server=/tmp/: expected the path of a socket" },
	{ "dm:/r,2,vectors=1,server=/tmp/..", "server=/tmp/..: expected the path of a socket" },
	{ "dm:/r,2,vectors=1,server=/tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "longer than 107 bytes" },
	{ "dm:/r,2,hugepages=on", "mem=memfd only" },
	{ "dm:/r,2,mem=memfd,vectors=1,hugepages=maybe", "expected on or off" },
	{ "dm:/r,2,large=sure", "expected on or off" },
	{ "hv:/r,2,vectors=2", "take no keys" },
	{ "hv:/r,2,0,mem=shm", "take no keys" },
	{ "hv:/r,1024", "size" },
	{ "dm:/r,2,ioeventfd=off", "needs vectors" },
	{ "dm:/r,2,vectors=1,irqfd=maybe", "expected on or off" },
	{ "hv:/r,2,irqfd=on", "take no keys" },
	{ "dm:/r,2,a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15", "too many fields" },
};

static void test_malformed(void **state)
{
	(void)state;
	assert_true(sizeof(bad) / sizeof(bad[0]) >= 40);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ivshmem_config cfg;
		char err[256] = "";
		int ret = ivshmem_parse_config(bad[i].text, &cfg, err, sizeof(err));
		if (ret != -EINVAL || !strstr(err, bad[i].expect))
			fail_msg("'%s': returned %d with '%s', expected an error containing '%s'",
				 bad[i].text, ret, err, bad[i].expect);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acrn_forms),
		cmocka_unit_test(test_region_ids),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
