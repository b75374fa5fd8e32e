// SPDX-License-Identifier: GPL-2.0
/*
 * kv_leak - the leak check around a guest suite (first and last line of the
 * kernel and lib suite lists):
 *
 *   kv_leak mark    record the warm node's busy memory and the kernel's
 *                   unreclaimable slab in /tmp/kv_leak.mark
 *   kv_leak check   the module holds no space, warm page or cold slot; a
 *                   thousand spaces made and closed move no kernel memory
 *                   counter; unload the module (an attached tier set
 *                   detaches on exit), compare both marked counters, and
 *                   load it again for whatever runs next
 *
 * Programs that leak something the module still owns are caught by the
 * first case, memory the module lost track of by the second and third.
 */
#include "kv_test.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define MARK	"/tmp/kv_leak.mark"
#define NODE_SLACK_KB	512	/* per-cpu lists and the like: as kv_stress */
#define SLAB_SLACK_KB	2048	/* default; 'check KB' sets another */

/*
 * SUnreclaim moves with everything a suite does besides the module: the
 * fuzz suite (slub_debug red zones, ~1,400 killed children and their
 * io_uring rings in 90 s) grew it by 1,404-2,084 kB in seven runs, more as
 * the call rate rose (65 k calls: 1,404 kB; 322 k: 2,084 kB), while
 * space_churn_no_leak, the module's own per-space check, stayed at
 * +24..60 kB per 1000 spaces.  fuzz.list passes a larger slack for that.
 */
static long slab_slack_kb = SLAB_SLACK_KB;

static int mark(int node)
{
	FILE *f = fopen(MARK, "w");
	long busy = kv_node_busy_kb(node), slab = kv_meminfo("/proc/meminfo", "SUnreclaim");

	/* busy may dip below zero (per-cpu lists): only a failed read counts */
	if (!f || kv_node_used_kb(node) < 0 || slab < 0)
		return ktap_skip_all("cannot read the counters or write " MARK);
	fprintf(f, "%ld %ld\n", busy, slab);
	fclose(f);
	ktap_plan(1);
	T("leak_mark", 1, "-");
	ktap_diag("warm node %d busy %ld kB, SUnreclaim %ld kB", node, busy, slab);
	return ktap_finish();
}

/* Kernel memory a leak would show in: unreclaimable slab, vmalloc, and the
 * busy pages of node 0 (large kmallocs; the loop below does no file I/O). */
struct kv_mem {
	long slab, vmalloc, node0;
};

static void kv_mem_read(struct kv_mem *m)
{
	m->slab = kv_meminfo("/proc/meminfo", "SUnreclaim");
	m->vmalloc = kv_meminfo("/proc/meminfo", "VmallocUsed");
	m->node0 = kv_node_busy_kb(0);
}

#define CHURN		1000	/* spaces made and closed */
#define CHURN_SLACK_KB	256	/* a leak of 256 bytes per space shows */

/*
 * Make, map, write, demote and close CHURN small spaces on a tier set of
 * its own, after a warm-up, and report how the counters moved: a per-space
 * leak of CHURN_SLACK_KB bytes or more shows, which the suite-wide slab
 * comparison (megabytes of slack) would miss.
 */
static int churn(int ctl, struct kv_mem *d)
{
	struct kv_mem m0, m1;
	int ret;

	kv_detach_quiet(ctl);
	ret = kv_attach(ctl, 1024, 1, 16 << 20);
	for (int i = 0; i < CHURN + 100 && !ret; i++) {
		struct cxl_kv_space_create c;
		int fd;
		char *m;

		if (i == 100)
			kv_mem_read(&m0);
		kv_geom(&c, 2, 2, 128, 16 * 16);	/* 128 pages */
		fd = kv_space(ctl, &c);
		if (fd < 0) {
			ret = fd;
			break;
		}
		m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			ret = -errno;
		} else {
			for (int pg = 0; pg < 8; pg++)
				kv_fill((uint64_t *)(m + pg * KV_PAGE), i, pg);
			ret = kv_ranges(fd, CXL_KV_DEMOTE, 0, 0, 0, 4, NULL);
			munmap(m, c.mmap_bytes);
		}
		close(fd);
	}
	kv_mem_read(&m1);
	kv_detach_quiet(ctl);
	d->slab = m1.slab - m0.slab;
	d->vmalloc = m1.vmalloc - m0.vmalloc;
	d->node0 = m1.node0 - m0.node0;
	return ret;
}

static int check(int ctl, int node)
{
	struct cxl_kv_info info = { 0 };
	struct cxl_kv_stats g = { 0 };
	long busy0 = -1, slab0 = -1, busy1, slab1;
	FILE *f = fopen(MARK, "r");
	int ret, ri, rs;

	if (!f || fscanf(f, "%ld %ld", &busy0, &slab0) != 2) {
		if (f)
			fclose(f);
		return ktap_skip_all("no " MARK ": 'kv_leak mark' did not run first");
	}
	fclose(f);
	ktap_plan(5);
	ri = kv_info(ctl, &info);
	rs = kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g);
	T("suite_left_nothing_in_module", !ri && !rs && info.nr_spaces == 0 &&
	  info.warm_pages == 0 && info.cold_used == 0 && g.warm_pages == 0 &&
	  g.cold_pages == 0,
	  "info %d stats %d, spaces %u, warm %llu, cold slots %llu, gauges warm %llu cold %llu",
	  ri, rs, info.nr_spaces, (unsigned long long)info.warm_pages,
	  (unsigned long long)info.cold_used, (unsigned long long)g.warm_pages,
	  (unsigned long long)g.cold_pages);
	{
		struct kv_mem d = { 0 };

		ret = churn(ctl, &d);
		ktap_diag("%d spaces made and closed: SUnreclaim %+ld kB, VmallocUsed %+ld kB, node 0 busy %+ld kB",
			  CHURN, d.slab, d.vmalloc, d.node0);
		T("space_churn_no_leak", !ret && d.slab < CHURN_SLACK_KB &&
		  d.vmalloc < CHURN_SLACK_KB && d.node0 < 4 * CHURN_SLACK_KB,
		  "ret %d, slab %+ld kB, vmalloc %+ld kB, node 0 %+ld kB", ret,
		  d.slab, d.vmalloc, d.node0);
	}
	close(ctl);
	ret = system("rmmod cxl_kv");
	busy1 = kv_node_busy_kb(node);
	slab1 = kv_meminfo("/proc/meminfo", "SUnreclaim");
	ktap_diag("warm node %d busy %ld -> %ld kB, SUnreclaim %ld -> %ld kB", node,
		  busy0, busy1, slab0, slab1);
	T("suite_leak_warm_node", !ret && busy1 - busy0 < NODE_SLACK_KB,
	  "rmmod %d, %ld kB more", ret, busy1 - busy0);
	T("suite_leak_slab", !ret && slab1 - slab0 < slab_slack_kb,
	  "rmmod %d, %ld kB more", ret, slab1 - slab0);
	ret = system("modprobe cxl_kv");
	T("reload", !ret && access("/dev/cxl_kv", F_OK) == 0, "modprobe %d", ret);
	return ktap_finish();
}

int main(int argc, char **argv)
{
	int ctl;

	if (argc == 3 && !strcmp(argv[1], "check"))
		slab_slack_kb = atol(argv[2]);
	if (argc < 2 || argc > 3 || slab_slack_kb <= 0 ||
	    (strcmp(argv[1], "mark") && strcmp(argv[1], "check")) ||
	    (argc == 3 && strcmp(argv[1], "check"))) {
		fprintf(stderr, "usage: kv_leak mark | kv_leak check [SLAB_SLACK_KB]\n");
		return 2;
	}
	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	if (!strcmp(argv[1], "mark")) {
		close(ctl);
		return mark(kv_warm_node());
	}
	return check(ctl, kv_warm_node());
}
