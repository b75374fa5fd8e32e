// SPDX-License-Identifier: GPL-2.0
/*
 * kv_multi - two warm nodes and two cold devices in one tier set.
 *
 * MULTI_NODE / MULTI_COLD are reported; INFO names both nodes and both cold
 * devices; a space twice the warm budget is filled with a known pattern (the
 * worker demotes); move_pages(2) with nodes=NULL shows every resident page
 * of stream s on nodes[(s / 2) % nr_nodes] (design.rst: striped by (layer,
 * head)) and pages on both nodes; both cold devices received writes, about
 * evenly (cold slots alternate devices); every byte reads back.
 *
 * On the cxl topology there is no second warm node: the two-cold-device half
 * runs with one node and the two-node cases are KTAP skips.
 */
#include <sys/syscall.h>

#include "kv_test.h"

#define BUDGET	256		/* warm pages */
#define LAYERS	2
#define HEADS	4
#define HDIM	128		/* 256-byte tokens, 16 per block */
#define TOKENS	512		/* 32 pages per stream, 16 streams: 512 pages */
#define COLD_BYTES (16ULL << 20)

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

static uint64_t npages, bph;

/* Every word of a page, not a sample. */
static void fill_page(volatile uint64_t *p, uint64_t seed, uint64_t pg)
{
	kv_fill_stride(p, seed, pg, 1);
}

static uint64_t check_page(const volatile uint64_t *p, uint64_t seed,
			   uint64_t pg)
{
	return kv_check_stride(p, seed, pg, 1);
}

static uint64_t verify(const char *m, uint64_t seed)
{
	uint64_t bad = 0;

	for (uint64_t pg = 0; pg < npages; pg++) {
		uint64_t w = check_page((const uint64_t *)(m + pg * KV_PAGE),
					seed, pg);

		if (w && !bad++)
			ktap_diag("page %llu word %llu differs",
				  (unsigned long long)pg,
				  (unsigned long long)w - 1);
	}
	return bad;
}

/* Sectors written to /sys/block/<name>/stat (field 7), or -1. */
static long long disk_wsectors(const char *dev)
{
	const char *name = strrchr(dev, '/');
	char path[128], buf[512];
	long long f[7];

	snprintf(path, sizeof(path), "/sys/block/%s/stat", name ? name + 1 : dev);
	if (read_line(path, buf, sizeof(buf)) < 0)
		return -1;
	if (sscanf(buf, "%lld %lld %lld %lld %lld %lld %lld", &f[0], &f[1],
		   &f[2], &f[3], &f[4], &f[5], &f[6]) != 7)
		return -1;
	return f[6];
}

static uint64_t rdev_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_rdev;
}

/*
 * Placement of every page through move_pages(nodes=NULL): @per_node[i]
 * counts resident pages on nodes[i]; returns pages on a node other than the
 * one their stream is documented to live on.
 */
static uint64_t placement(char *m, const int *nodes, int nr_nodes,
			  uint64_t *per_node, uint64_t *resident,
			  uint64_t *streams_seen)
{
	void **pages = calloc(npages, sizeof(*pages));
	int *status = calloc(npages, sizeof(*status));
	uint64_t wrong = 0, nstreams = npages / bph;
	uint64_t *seen = calloc(nstreams, sizeof(*seen));
	long r;

	*resident = 0;
	*streams_seen = 0;
	for (int i = 0; i < nr_nodes; i++)
		per_node[i] = 0;
	for (uint64_t pg = 0; pg < npages; pg++)
		pages[pg] = m + pg * KV_PAGE;
	r = syscall(SYS_move_pages, 0, npages, pages, NULL, status, 0);
	if (r) {
		ktap_diag("move_pages: %ld errno %d", r, errno);
		wrong = npages;
		goto out;
	}
	for (uint64_t pg = 0; pg < npages; pg++) {
		uint64_t s = pg / bph;
		int want = nodes[(s / 2) % nr_nodes];

		if (status[pg] < 0)
			continue;	/* not mapped (cold or zapped) */
		(*resident)++;
		seen[s] = 1;
		for (int i = 0; i < nr_nodes; i++)
			if (status[pg] == nodes[i])
				per_node[i]++;
		if (status[pg] != want && !wrong++)
			ktap_diag("page %llu (stream %llu) on node %d, want %d",
				  (unsigned long long)pg, (unsigned long long)s,
				  status[pg], want);
	}
	for (uint64_t s = 0; s < nstreams; s++)
		*streams_seen += seen[s];
out:
	free(pages);
	free(status);
	free(seen);
	return wrong;
}

int main(void)
{
	struct cxl_kv_features f = { 0 };
	struct cxl_kv_space_create c;
	struct cxl_kv_attach a;
	struct cxl_kv_info info;
	struct cxl_kv_stats st;
	uint64_t per_node[2], resident, seen, wrong, bad;
	long long w0[2], w1[2], dw[2];
	const char *cold[2] = { kv_nvme(), kv_nvme2() };
	int nodes[2], nr_nodes, ctl, fd, ret;
	const char *noskip = NULL;
	char *m;

	ret = kv_preamble(&ctl);
	if (ret)
		return ktap_skip_all("no /dev/cxl_kv or no warm node");
	nodes[0] = kv_warm_node();
	nodes[1] = guest_env_int("CXLKV_WARM_NODE2");
	nr_nodes = nodes[1] >= 0 ? 2 : 1;
	if (nr_nodes == 1)
		noskip = kv_is_cxl() ?
			"cxl topology has one CPU-less node (no CXLKV_WARM_NODE2)" :
			"no CXLKV_WARM_NODE2";

	ktap_plan(12);

	ret = kv_ioctl(ctl, CXL_KV_GET_FEATURES, &f);
	T("features_multi", !ret && (f.features & CXL_KV_F_MULTI_NODE) &&
	  (f.features & CXL_KV_F_MULTI_COLD),
	  "ret %d features %#llx", ret, (unsigned long long)f.features);

	kv_detach_quiet(ctl);
	memset(&a, 0, sizeof(a));
	a.nr_nodes = nr_nodes;
	a.nodes[0] = nodes[0];
	if (nr_nodes == 2)
		a.nodes[1] = nodes[1];
	a.budget_pages = BUDGET;
	a.nr_cold = 2;
	a.cold[0].path = (uintptr_t)cold[0];
	a.cold[0].max_bytes = COLD_BYTES;
	a.cold[1].path = (uintptr_t)cold[1];
	a.cold[1].max_bytes = COLD_BYTES;
	ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	T("attach_multi", !ret, "ATTACH %d nodes, 2 cold: %d", nr_nodes, ret);
	if (ret) {
		while (ktap.n < 12)
			ktap_skip("after_attach", "ATTACH failed");
		return ktap_finish();
	}

	ret = kv_info(ctl, &info);
	T("info_cold_devs", !ret && info.nr_cold == 2 &&
	  info.cold_devs[0] == rdev_of(cold[0]) &&
	  info.cold_devs[1] == rdev_of(cold[1]) &&
	  info.cold_slots == 2 * (COLD_BYTES / KV_PAGE),
	  "ret %d nr_cold %u devs %#llx %#llx slots %llu", ret, info.nr_cold,
	  (unsigned long long)info.cold_devs[0],
	  (unsigned long long)info.cold_devs[1],
	  (unsigned long long)info.cold_slots);
	if (noskip)
		ktap_skip("info_nodes", noskip);
	else
		T("info_nodes", !ret && info.nr_nodes == 2 &&
		  info.nodes[0] == (uint32_t)nodes[0] &&
		  info.nodes[1] == (uint32_t)nodes[1],
		  "nr_nodes %u nodes %u %u", info.nr_nodes, info.nodes[0],
		  info.nodes[1]);

	kv_geom(&c, LAYERS, HEADS, HDIM, TOKENS);
	fd = kv_space(ctl, &c);
	npages = c.mmap_bytes / KV_PAGE;
	bph = c.blocks_per_stream;
	m = fd < 0 ? MAP_FAILED :
		mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	T("space", fd >= 0 && m != MAP_FAILED && npages == 2 * BUDGET,
	  "fd %d pages %llu", fd, (unsigned long long)npages);
	if (fd < 0 || m == MAP_FAILED) {
		while (ktap.n < 12)
			ktap_skip("after_space", "no space");
		kv_detach_quiet(ctl);
		return ktap_finish();
	}

	w0[0] = disk_wsectors(cold[0]);
	w0[1] = disk_wsectors(cold[1]);
	for (uint64_t pg = 0; pg < npages; pg++)
		fill_page((uint64_t *)(m + pg * KV_PAGE), 1, pg);
	kv_stats(fd, CXL_KV_SPACE_STATS, &st);
	T("demoted_by_pressure", st.demotions > 0 && st.cold_pages > 0 &&
	  st.warm_pages <= BUDGET,
	  "demotions %llu cold %llu warm %llu",
	  (unsigned long long)st.demotions, (unsigned long long)st.cold_pages,
	  (unsigned long long)st.warm_pages);

	/* Where the resident pages of each stream are. */
	wrong = placement(m, nodes, nr_nodes, per_node, &resident, &seen);
	T("placement_striped", !wrong && resident > 0,
	  "%llu of %llu resident pages on the wrong node",
	  (unsigned long long)wrong, (unsigned long long)resident);
	if (nr_nodes == 2)
		ktap_diag("after fill: %llu resident pages, %llu streams seen, node%d %llu, node%d %llu",
			  (unsigned long long)resident, (unsigned long long)seen,
			  nodes[0], (unsigned long long)per_node[0], nodes[1],
			  (unsigned long long)per_node[1]);
	else
		ktap_diag("after fill: %llu resident pages, %llu streams seen, node%d %llu",
			  (unsigned long long)resident, (unsigned long long)seen,
			  nodes[0], (unsigned long long)per_node[0]);

	/* Read every byte back (promotes the cold half), then look again. */
	bad = verify(m, 1);
	T("readback_all", !bad, "%llu bad pages", (unsigned long long)bad);

	/* Make the first block of every stream resident and check again. */
	for (uint64_t s = 0; s < npages / bph; s++)
		(void)*(volatile char *)(m + s * bph * KV_PAGE);
	wrong = placement(m, nodes, nr_nodes, per_node, &resident, &seen);
	T("placement_after_promote", !wrong && seen == npages / bph,
	  "%llu wrong, %llu of %llu streams resident",
	  (unsigned long long)wrong, (unsigned long long)seen,
	  (unsigned long long)(npages / bph));
	if (noskip)
		ktap_skip("both_nodes_used", noskip);
	else
		T("both_nodes_used", per_node[0] > 0 && per_node[1] > 0,
		  "node%d %llu pages, node%d %llu pages", nodes[0],
		  (unsigned long long)per_node[0], nodes[1],
		  (unsigned long long)per_node[1]);

	/* Both cold devices got writes, about evenly (slots alternate). */
	kv_stats(fd, CXL_KV_SPACE_STATS, &st);
	w1[0] = disk_wsectors(cold[0]);
	w1[1] = disk_wsectors(cold[1]);
	dw[0] = w1[0] - w0[0];
	dw[1] = w1[1] - w0[1];
	ktap_diag("cold writes: %s %lld KiB, %s %lld KiB; module nvme_write_bytes %llu KiB",
		  cold[0], dw[0] / 2, cold[1], dw[1] / 2,
		  (unsigned long long)st.nvme_write_bytes >> 10);
	T("both_cold_written", w0[0] >= 0 && w0[1] >= 0 && dw[0] > 0 && dw[1] > 0 &&
	  (uint64_t)(dw[0] + dw[1]) * 512 >= st.nvme_write_bytes &&
	  dw[0] * 4 >= dw[0] + dw[1] && dw[1] * 4 >= dw[0] + dw[1],
	  "sectors written %lld / %lld, module bytes %llu", dw[0], dw[1],
	  (unsigned long long)st.nvme_write_bytes);

	munmap(m, c.mmap_bytes);
	close(fd);
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	kv_info(ctl, &info);
	T("detach", !ret && !info.attached, "DETACH %d attached %u", ret,
	  info.attached);
	close(ctl);
	return ktap_finish();
}
