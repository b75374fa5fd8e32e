// SPDX-License-Identifier: GPL-2.0
/*
 * libcxl_kv tier discovery and the region/dax sysfs sequences, against a
 * fake sysfs tree shaped like the guest's (cxl and nvdimm topologies).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libcxl_kv.h"
#include "private.h"

static char root[PATH_MAX];
static struct cxl_kv_ctx *ctx;

static void mkdirs(const char *rel)
{
	char p[2 * PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

static void put(const char *rel, const char *fmt, ...)
{
	char p[2 * PATH_MAX], *slash;
	va_list ap;
	FILE *f;

	snprintf(p, sizeof(p), "%s", rel);
	slash = strrchr(p, '/');
	*slash = '\0';
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void lnk(const char *rel, const char *target)
{
	char p[2 * PATH_MAX], d[PATH_MAX], *slash;

	snprintf(d, sizeof(d), "%s", rel);
	slash = strrchr(d, '/');
	*slash = '\0';
	mkdirs(d);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	cr_assert_eq(symlink(target, p), 0, "%s", p);
}

static void get(const char *rel, char *buf, size_t len)
{
	char p[2 * PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	cr_assert_eq(cxl_kv__read_attr(ctx, p, buf, len), 0, "%s", p);
}

static void node(int id, const char *cpus, unsigned long long kb)
{
	char p[128];

	snprintf(p, sizeof(p), "devices/system/node/node%d/cpulist", id);
	put(p, "%s\n", cpus);
	snprintf(p, sizeof(p), "devices/system/node/node%d/meminfo", id);
	put(p, "Node %d MemTotal:       %llu kB\nNode %d MemFree:        %llu kB\n",
	    id, kb, id, kb / 2);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/cxlkv-sysfs.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(cxl_kv_new(&ctx), 0);
	cr_assert_eq(cxl_kv_set_sysfs_root(ctx, root), 0);

	node(0, "0-1", 2097152);
	node(1, "", 524288);		/* CXL via kmem */
	node(2, "", 262144);		/* nvdimm via kmem */
	node(3, "", 0);			/* no memory: not listed */
	put("devices/system/node/possible", "0-3\n");
	put("devices/virtual/memory_tiering/memory_tier4/nodelist", "0\n");
	put("devices/virtual/memory_tiering/memory_tier22/nodelist", "1-2\n");

	/* dax0.0: CXL region0 */
	mkdirs("devices/platform/ACPI0017:00/root0/decoder0.0/region0/dax_region0/dax0.0");
	put("devices/platform/ACPI0017:00/root0/decoder0.0/region0/dax_region0/dax0.0/target_node", "1\n");
	mkdirs("bus/dax/drivers/kmem");
	mkdirs("bus/dax/drivers/device_dax");
	lnk("devices/platform/ACPI0017:00/root0/decoder0.0/region0/dax_region0/dax0.0/driver",
	    "../../../../../../../bus/dax/drivers/kmem");
	lnk("bus/dax/devices/dax0.0",
	    "../../../devices/platform/ACPI0017:00/root0/decoder0.0/region0/dax_region0/dax0.0");
	/* dax1.0: nvdimm region1 */
	mkdirs("devices/LNXSYSTM:00/ndbus0/region1/dax1.0/dax1.0");
	put("devices/LNXSYSTM:00/ndbus0/region1/dax1.0/dax1.0/target_node", "2\n");
	lnk("devices/LNXSYSTM:00/ndbus0/region1/dax1.0/dax1.0/driver",
	    "../../../../../../bus/dax/drivers/kmem");
	lnk("bus/dax/devices/dax1.0", "../../../devices/LNXSYSTM:00/ndbus0/region1/dax1.0/dax1.0");
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	cxl_kv_unref(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(lib_tiers, .init = setup, .fini = teardown);

Test(lib_tiers, nodes_in_order_with_origin)
{
	struct cxl_kv_node *n;
	int ids[8], count = 0;

	cr_assert_eq(cxl_kv_refresh_nodes(ctx), 3);
	cxl_kv_node_foreach(ctx, n)
		ids[count++] = cxl_kv_node_get_id(n);
	cr_assert_eq(count, 3);
	cr_expect_eq(ids[0], 0);
	cr_expect_eq(ids[1], 1);
	cr_expect_eq(ids[2], 2);

	n = cxl_kv_node_get_by_id(ctx, 0);
	cr_assert_not_null(n);
	cr_expect(cxl_kv_node_has_cpus(n));
	cr_expect_eq(cxl_kv_node_get_size(n), 2097152ULL << 10);
	cr_expect_eq(cxl_kv_node_get_free(n), 1048576ULL << 10);
	cr_expect_eq(cxl_kv_node_get_memory_tier(n), 4);
	cr_expect_eq(cxl_kv_node_get_origin(n), CXL_KV_ORIGIN_DRAM);
	cr_expect_null(cxl_kv_node_get_dax(n));
	cr_expect_null(cxl_kv_node_get_region(n));

	n = cxl_kv_node_get_by_id(ctx, 1);
	cr_assert_not_null(n);
	cr_expect_not(cxl_kv_node_has_cpus(n));
	cr_expect_eq(cxl_kv_node_get_memory_tier(n), 22);
	cr_expect_eq(cxl_kv_node_get_origin(n), CXL_KV_ORIGIN_CXL);
	cr_expect_str_eq(cxl_kv_node_get_dax(n), "dax0.0");
	cr_expect_str_eq(cxl_kv_node_get_region(n), "region0");
	cr_expect_str_eq(cxl_kv_origin_name(cxl_kv_node_get_origin(n)), "cxl");

	n = cxl_kv_node_get_by_id(ctx, 2);
	cr_assert_not_null(n);
	cr_expect_eq(cxl_kv_node_get_origin(n), CXL_KV_ORIGIN_NVDIMM);
	cr_expect_str_eq(cxl_kv_node_get_dax(n), "dax1.0");
	cr_expect_str_eq(cxl_kv_node_get_region(n), "region1");

	cr_expect_null(cxl_kv_node_get_by_id(ctx, 3));
	cr_expect_eq(cxl_kv_node_get_id(cxl_kv_get_warm_node(ctx)), 1);
}

Test(lib_tiers, warm_node_prefers_cxl_then_dax)
{
	char p[2 * PATH_MAX];

	/* without the CXL dax device node 2 (nvdimm) is the warm node */
	snprintf(p, sizeof(p), "%s/bus/dax/devices/dax0.0", root);
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(cxl_kv_refresh_nodes(ctx), 3);
	cr_expect_eq(cxl_kv_node_get_id(cxl_kv_get_warm_node(ctx)), 2);
	cr_expect_eq(cxl_kv_node_get_origin(cxl_kv_node_get_by_id(ctx, 1)),
		     CXL_KV_ORIGIN_UNKNOWN);
}

Test(lib_tiers, no_memory_tiering)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/devices/virtual/memory_tiering'", root);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(cxl_kv_refresh_nodes(ctx), 3);
	cr_expect_eq(cxl_kv_node_get_memory_tier(cxl_kv_node_get_by_id(ctx, 1)), -1);
}

Test(lib_tiers, missing_sysfs)
{
	cr_assert_eq(cxl_kv_set_sysfs_root(ctx, "/nonexistent"), 0);
	cr_expect_eq(cxl_kv_refresh_nodes(ctx), -ENOENT);
	cr_expect_null(cxl_kv_node_get_first(ctx));
	cr_expect_null(cxl_kv_get_warm_node(ctx));
	cr_expect_eq(cxl_kv_refresh_nodes(NULL), -EINVAL);
	cr_expect_null(cxl_kv_node_get_first(NULL));
	cr_expect_null(cxl_kv_node_get_next(NULL));
	cr_expect_eq(cxl_kv_node_get_id(NULL), -EINVAL);
	cr_expect_eq(cxl_kv_node_get_size(NULL), 0);
	cr_expect_str_eq(cxl_kv_origin_name(99), "unknown");
}

Test(lib_tiers, nodelist_parser)
{
	cr_expect_eq(cxl_kv__nodelist_has("0", 0), 1);
	cr_expect_eq(cxl_kv__nodelist_has("0", 1), 0);
	cr_expect_eq(cxl_kv__nodelist_has("1-3,5", 2), 1);
	cr_expect_eq(cxl_kv__nodelist_has("1-3,5", 5), 1);
	cr_expect_eq(cxl_kv__nodelist_has("1-3,5", 4), 0);
	cr_expect_eq(cxl_kv__nodelist_has("", 0), 0);
	cr_expect_eq(cxl_kv__nodelist_has("3-1", 2), -EINVAL);
	cr_expect_eq(cxl_kv__nodelist_has("x", 2), -EINVAL);
}

/* The guest's CXL tree before the region exists (vm-rig.md's sequence). */
static void cxl_bus(void)
{
	const char *ep = "devices/platform/ACPI0017:00/root0/port1/endpoint2";

	put("bus/cxl/devices/mem0/ram/size", "0x20000000\n");
	put("devices/platform/ACPI0017:00/root0/decoder0.0/create_ram_region", "region5\n");
	put("devices/platform/ACPI0017:00/root0/decoder0.0/interleave_granularity", "256\n");
	lnk("bus/cxl/devices/decoder0.0", "../../../devices/platform/ACPI0017:00/root0/decoder0.0");
	put("devices/platform/ACPI0017:00/root0/port1/endpoint2/decoder2.0/mode", "none\n");
	put("devices/platform/ACPI0017:00/root0/port1/endpoint2/decoder2.0/dpa_size", "0\n");
	lnk("devices/platform/ACPI0017:00/root0/port1/endpoint2/uport",
	    "../../../../../../bus/cxl/devices/mem0");
	lnk("bus/cxl/devices/decoder2.0",
	    "../../../devices/platform/ACPI0017:00/root0/port1/endpoint2/decoder2.0");
	/* more free decoders of the same endpoint (QEMU's type3 has 4) */
	for (int i = 3; i >= 1; i--) {
		char rel[160], tgt[160];

		snprintf(rel, sizeof(rel), "%s/decoder2.%d/mode", ep, i);
		put(rel, "none\n");
		snprintf(rel, sizeof(rel), "%s/decoder2.%d/dpa_size", ep, i);
		put(rel, "0\n");
		snprintf(rel, sizeof(rel), "bus/cxl/devices/decoder2.%d", i);
		snprintf(tgt, sizeof(tgt), "../../../%s/decoder2.%d", ep, i);
		lnk(rel, tgt);
	}
	/* the region the kernel would create on the write to create_ram_region */
	put("bus/cxl/devices/region5/interleave_ways", "0\n");
	put("bus/cxl/devices/region5/interleave_granularity", "0\n");
	put("bus/cxl/devices/region5/size", "0\n");
	put("bus/cxl/devices/region5/target0", "\n");
	put("bus/cxl/devices/region5/commit", "0\n");
	put("bus/cxl/drivers/cxl_region/bind", "");
}

Test(lib_tiers, region_create_ram_sequence)
{
	char region[32], v[64];

	cxl_bus();
	cr_assert_eq(cxl_kv_region_create_ram(ctx, "mem0", region, sizeof(region)), 0);
	cr_expect_str_eq(region, "region5");
	get("bus/cxl/devices/decoder2.0/mode", v, sizeof(v));
	cr_expect_str_eq(v, "ram");
	get("bus/cxl/devices/decoder2.0/dpa_size", v, sizeof(v));
	cr_expect_str_eq(v, "536870912");
	get("bus/cxl/devices/decoder0.0/create_ram_region", v, sizeof(v));
	cr_expect_str_eq(v, "region5");
	get("bus/cxl/devices/region5/interleave_ways", v, sizeof(v));
	cr_expect_str_eq(v, "1");
	get("bus/cxl/devices/region5/interleave_granularity", v, sizeof(v));
	cr_expect_str_eq(v, "256");
	get("bus/cxl/devices/region5/size", v, sizeof(v));
	cr_expect_str_eq(v, "536870912");
	get("bus/cxl/devices/region5/target0", v, sizeof(v));
	cr_expect_str_eq(v, "decoder2.0");
	get("bus/cxl/devices/region5/commit", v, sizeof(v));
	cr_expect_str_eq(v, "1");
	get("bus/cxl/drivers/cxl_region/bind", v, sizeof(v));
	cr_expect_str_eq(v, "region5");
}

Test(lib_tiers, region_create_errors)
{
	char region[32];

	cr_expect_eq(cxl_kv_region_create_ram(ctx, "mem0", region, sizeof(region)),
		     -ENODEV);	/* no CXL bus at all */
	cxl_bus();
	cr_expect_eq(cxl_kv_region_create_ram(ctx, "mem1", region, sizeof(region)),
		     -ENODEV);	/* no such memdev */
	cr_expect_eq(cxl_kv_region_create_ram(ctx, "../mem0", region, sizeof(region)),
		     -EINVAL);
	cr_expect_eq(cxl_kv_region_create_ram(ctx, "mem0", NULL, 0), -EINVAL);
	for (int i = 0; i < 4; i++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "devices/platform/ACPI0017:00/root0/port1/"
			 "endpoint2/decoder2.%d/dpa_size", i);
		put(rel, "536870912\n");
	}
	cr_expect_eq(cxl_kv_region_create_ram(ctx, "mem0", region, sizeof(region)),
		     -EBUSY);	/* every endpoint decoder already in use */
}

Test(lib_tiers, dax_online_sequence)
{
	char v[64];
	int nid = -1;

	/* dax2.0 bound to device_dax, its memory block offline on node 3 */
	mkdirs("devices/LNXSYSTM:00/ndbus0/region2/dax2.0/dax2.0");
	put("devices/LNXSYSTM:00/ndbus0/region2/dax2.0/dax2.0/target_node", "3\n");
	lnk("devices/LNXSYSTM:00/ndbus0/region2/dax2.0/dax2.0/driver",
	    "../../../../../../bus/dax/drivers/device_dax");
	lnk("bus/dax/devices/dax2.0", "../../../devices/LNXSYSTM:00/ndbus0/region2/dax2.0/dax2.0");
	put("bus/dax/drivers/device_dax/unbind", "");
	put("bus/dax/drivers/kmem/new_id", "");
	put("bus/dax/drivers/kmem/bind", "");
	put("devices/system/memory/memory40/state", "offline\n");
	mkdirs("devices/system/memory/memory40/node3");
	put("devices/system/memory/memory41/state", "online\n");
	mkdirs("devices/system/memory/memory41/node3");
	put("devices/system/memory/memory42/state", "offline\n");
	mkdirs("devices/system/memory/memory42/node0");

	cr_assert_eq(cxl_kv_dax_online(ctx, "dax2.0", &nid), 0);
	cr_expect_eq(nid, 3);
	get("bus/dax/drivers/device_dax/unbind", v, sizeof(v));
	cr_expect_str_eq(v, "dax2.0");
	get("bus/dax/drivers/kmem/bind", v, sizeof(v));
	cr_expect_str_eq(v, "dax2.0");
	get("devices/system/memory/memory40/state", v, sizeof(v));
	cr_expect_str_eq(v, "online_kernel");
	get("devices/system/memory/memory41/state", v, sizeof(v));
	cr_expect_str_eq(v, "online");		/* left alone */
	get("devices/system/memory/memory42/state", v, sizeof(v));
	cr_expect_str_eq(v, "offline");		/* other node */

	cr_expect_eq(cxl_kv_dax_online(ctx, "dax9.9", &nid), -ENOENT);
	cr_expect_eq(cxl_kv_dax_online(ctx, "../x", &nid), -EINVAL);
	cr_expect_eq(cxl_kv_dax_online(ctx, NULL, &nid), -EINVAL);
}

/* No dax bus at all (no dax modules loaded): node 0 is still boot DRAM. */
Test(lib_tiers, no_dax_bus)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/bus/dax'", root);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(cxl_kv_refresh_nodes(ctx), 3);
	cr_expect_eq(cxl_kv_node_get_origin(cxl_kv_node_get_by_id(ctx, 0)),
		     CXL_KV_ORIGIN_DRAM);
	cr_expect_null(cxl_kv_node_get_dax(cxl_kv_node_get_by_id(ctx, 1)));
	cr_expect_eq(cxl_kv_node_get_id(cxl_kv_get_warm_node(ctx)), 1);
}

/* LIBCXL_KV_DISCOVER: what cxl-kv region and apply look up before acting. */
Test(lib_tiers, discovery)
{
	unsigned long long sz = 1;
	char name[32];

	cr_expect_eq(cxl_kv_memdev_first_ram(ctx, name, sizeof(name)), -ENODEV);
	cxl_bus();
	cr_assert_eq(cxl_kv_memdev_first_ram(ctx, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "mem0");
	cr_expect_eq(cxl_kv_memdev_first_ram(ctx, name, 4), -ENODEV);
	cr_expect_eq(cxl_kv_memdev_get_ram_size(ctx, "mem0", &sz), 0);
	cr_expect_eq(sz, 0x20000000ULL);
	cr_expect_eq(cxl_kv_memdev_get_ram_size(ctx, "mem1", &sz), -ENODEV);
	cr_expect_eq(cxl_kv_memdev_get_ram_size(ctx, "../mem0", &sz), -EINVAL);
	mkdirs("bus/cxl/devices/mem2");		/* a memdev without ram */
	cr_expect_eq(cxl_kv_memdev_get_ram_size(ctx, "mem2", &sz), -ENOENT);

	/* region5 exists but has no target yet, then decoder2.0 of mem0 */
	cr_expect_eq(cxl_kv_memdev_get_region(ctx, "mem0", name, sizeof(name)),
		     -ENOENT);
	put("bus/cxl/devices/region5/target0", "decoder2.0\n");
	cr_assert_eq(cxl_kv_memdev_get_region(ctx, "mem0", name, sizeof(name)), 0);
	cr_expect_str_eq(name, "region5");
	cr_expect_eq(cxl_kv_memdev_get_region(ctx, "mem2", name, sizeof(name)),
		     -ENOENT);

	cr_assert_eq(cxl_kv_region_get_dax(ctx, "region0", name, sizeof(name)), 0);
	cr_expect_str_eq(name, "dax0.0");
	cr_assert_eq(cxl_kv_region_get_dax(ctx, "region1", name, sizeof(name)), 0);
	cr_expect_str_eq(name, "dax1.0");
	cr_expect_eq(cxl_kv_region_get_dax(ctx, "region5", name, sizeof(name)),
		     -ENOENT);			/* not made yet */
	cr_expect_eq(cxl_kv_region_get_dax(ctx, "region0", name, 3), -ENOENT);
	cr_expect_eq(cxl_kv_region_get_dax(ctx, "../x", name, sizeof(name)),
		     -EINVAL);

	cr_expect_eq(cxl_kv_dax_get_node(ctx, "dax0.0"), 1);
	cr_expect_eq(cxl_kv_dax_get_node(ctx, "dax1.0"), 2);
	cr_expect_eq(cxl_kv_dax_get_node(ctx, "dax9.9"), -ENOENT);
	cr_expect_eq(cxl_kv_dax_get_node(ctx, "../x"), -EINVAL);
	cr_expect_eq(cxl_kv_dax_get_node(NULL, "dax0.0"), -EINVAL);
}
