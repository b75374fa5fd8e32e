// SPDX-License-Identifier: GPL-2.0
/*
 * smoke_tiers - the rig built the tier set cxl-kv expects: a CPU-less warm
 * node with memory in ZONE_NORMAL, in a lower memory tier than node 0, made
 * from dax0.0 (backed by a CXL region on the cxl topology), and two NVMe
 * namespaces.  Memory placed on the warm node really lands there.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <unistd.h>

#include "ktap.h"
#include "guest_util.h"

/* memory_tier id holding @node, or -1. */
static int memory_tier_of(int node)
{
	const char *base = "/sys/devices/virtual/memory_tiering";
	DIR *d = opendir(base);
	struct dirent *de;
	int tier = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[PATH_MAX], list[256];
		int id;

		if (sscanf(de->d_name, "memory_tier%d", &id) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s/nodelist", base, de->d_name);
		if (read_line(path, list, sizeof(list)))
			continue;
		/* nodelist is a range list such as "0" or "1-2,4". */
		for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
			int lo, hi;

			if (sscanf(tok, "%d-%d", &lo, &hi) != 2)
				hi = lo = atoi(tok);
			if (node >= lo && node <= hi)
				tier = id;
		}
	}
	closedir(d);
	return tier;
}

static long zone_normal_present(int node)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256];
	int in = 0;
	long present = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		int n;
		char zone[32];

		if (sscanf(line, "Node %d, zone %31s", &n, zone) == 2) {
			in = n == node && !strcmp(zone, "Normal");
			continue;
		}
		if (in && sscanf(line, " present %ld", &present) == 1)
			break;
	}
	fclose(f);
	return present;
}

static uint64_t bdev_bytes(const char *path)
{
	uint64_t sz = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	if (ioctl(fd, BLKGETSIZE64, &sz))
		sz = 0;
	close(fd);
	return sz;
}

int main(void)
{
	int node = guest_env_int("CXLKV_WARM_NODE");
	const char *topo = guest_env("CXLKV_TOPO", "?");
	const char *dax = guest_env("CXLKV_DAX", "dax0.0");
	char path[PATH_MAX], buf[PATH_MAX];
	struct bitmask *cpus;
	size_t len = 1 << 20;
	int status = -1, tw, t0;
	void *p;

	if (node < 0)
		return ktap_skip_all("CXLKV_WARM_NODE not set: not run by the rig");
	ktap_plan(9);

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
	ktap_result(KTAP_CHECK(!read_line(path, buf, sizeof(buf)) && buf[0] == '\0',
			       "node %d cpulist '%s'", node, buf),
		    "warm node has no CPUs");

	ktap_result(KTAP_CHECK(numa_available() >= 0 &&
			       numa_node_size64(node, NULL) > 64LL << 20,
			       "node %d size %lld", node, numa_node_size64(node, NULL)),
		    "warm node has memory");

	ktap_result(KTAP_CHECK(zone_normal_present(node) > 0,
			       "present %ld", zone_normal_present(node)),
		    "warm memory is in ZONE_NORMAL");

	tw = memory_tier_of(node);
	t0 = memory_tier_of(0);
	ktap_result(KTAP_CHECK(tw >= 0 && t0 >= 0 && tw > t0,
			       "tier(node%d)=%d tier(node0)=%d", node, tw, t0),
		    "warm node in a lower memory tier than node 0");

	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/target_node", dax);
	ktap_result(KTAP_CHECK(!read_line(path, buf, sizeof(buf)) && atoi(buf) == node,
			       "%s target_node '%s'", dax, buf),
		    "dax device feeds the warm node");

	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s", dax);
	if (!realpath(path, buf))
		buf[0] = '\0';
	if (!strcmp(topo, "cxl"))
		ktap_result(KTAP_CHECK(strstr(buf, "/region") != NULL,
				       "dax device path %s", buf),
			    "dax device backed by a CXL region");
	else
		ktap_result(KTAP_CHECK(strstr(buf, "/ndbus") != NULL,
				       "dax device path %s", buf),
			    "dax device backed by an nvdimm namespace");

	ktap_result(KTAP_CHECK(bdev_bytes(guest_env("CXLKV_NVME", "/dev/nvme0n1")) == 256ULL << 20 &&
			       bdev_bytes(guest_env("CXLKV_NVME2", "/dev/nvme1n1")) == 256ULL << 20,
			       "NVMe sizes %llu %llu",
			       (unsigned long long)bdev_bytes("/dev/nvme0n1"),
			       (unsigned long long)bdev_bytes("/dev/nvme1n1")),
		    "two 256 MiB NVMe namespaces");

	cpus = numa_allocate_cpumask();
	numa_node_to_cpus(node, cpus);
	ktap_result(KTAP_CHECK(numa_bitmask_weight(cpus) == 0, "libnuma sees %u CPUs",
			       numa_bitmask_weight(cpus)),
		    "libnuma agrees the node is CPU-less");
	numa_free_cpumask(cpus);

	p = numa_alloc_onnode(len, node);
	if (p) {
		memset(p, 0x5a, len);
		if (move_pages(0, 1, &p, NULL, &status, 0))
			status = -1;
	}
	ktap_result(KTAP_CHECK(p && status == node, "page on node %d", status),
		    "memory bound to the warm node lands there");
	if (p)
		numa_free(p, len);
	return ktap_finish();
}
