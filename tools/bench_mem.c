// SPDX-License-Identifier: GPL-2.0
/*
 * bench_mem.c - the anonymous-memory backends of cxl-kv-bench decode.
 *
 * dram: each sequence's KV in anonymous memory (MAP_PRIVATE|MAP_ANONYMOUS,
 * huge pages off), no limit: the ceiling.
 *
 * swap: the same, with the process in a memory cgroup v2 of its own
 * (/sys/fs/cgroup/cxlkv-bench-PID) whose memory.max is the cgroup's charge
 * before the KV is touched plus the warm budget, and swap on an NVMe drive
 * (--swap-dev, default $CXLKV_SWAP; mkswap + swapon here, swapoff at the
 * end).  swap+zswap: the same with zswap enabled (Linux's compressed swap
 * cache; its pool is charged to the cgroup too).  Cold traffic is
 * pswpin/pswpout of /proc/vmstat, demand misses the major faults.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "bench_be.h"

#define CG_ROOT "/sys/fs/cgroup"

struct mem_be {
	unsigned char **base;		/* per sequence */
	uint32_t nseq;
	int swap, zswap, swapped_on, zswap_was;
	char cg[128];
};

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), rc = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int read_u64_file(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "r");
	unsigned long long x;
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%llu", &x);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	*v = x;
	return 0;
}

static uint64_t vmstat(const char *key)
{
	char name[64];
	unsigned long long v;
	uint64_t r = 0;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return 0;
	while (fscanf(f, "%63s %llu", name, &v) == 2)
		if (!strcmp(name, key))
			r = v;
	fclose(f);
	return r;
}

static int swap_active(const char *dev)
{
	char line[256];
	FILE *f = fopen("/proc/swaps", "r");
	int on = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, dev, strlen(dev)) && line[strlen(dev)] == ' ')
			on = 1;
	fclose(f);
	return on;
}

static int run_cmd(const char *fmt, const char *arg)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), fmt, arg);
	return system(cmd) ? -EIO : 0;
}

static int mem_open(struct bench_be *be)
{
	struct mem_be *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	be->priv = m;
	m->nseq = be->o.sequences;
	m->base = calloc(m->nseq, sizeof(*m->base));
	if (!m->base)
		return -ENOMEM;
	m->swap = be->ops == &be_swap_ops;
	m->zswap = m->swap && !strcmp(be->o.name, "swap+zswap");
	if (!m->swap)
		return 0;
	if (!be->o.swap_dev) {
		fprintf(stderr, "cxl-kv-bench: swap needs --swap-dev or $CXLKV_SWAP\n");
		return -EINVAL;
	}
	if (!swap_active(be->o.swap_dev)) {
		if (run_cmd("mkswap %s >/dev/null 2>&1", be->o.swap_dev) ||
		    run_cmd("swapon %s", be->o.swap_dev))
			return -EIO;
		m->swapped_on = 1;
	}
	{
		char v[8] = "";
		FILE *f = fopen("/sys/module/zswap/parameters/enabled", "r");

		if (f) {
			if (!fgets(v, sizeof(v), f))
				v[0] = 0;
			fclose(f);
		}
		m->zswap_was = v[0] == 'Y';
		if (write_file("/sys/module/zswap/parameters/enabled",
			       m->zswap ? "Y" : "N") && m->zswap)
			return -EOPNOTSUPP;
	}
	/* a cgroup of our own; pages charged before the move stay where they are */
	write_file(CG_ROOT "/cgroup.subtree_control", "+memory");
	snprintf(m->cg, sizeof(m->cg), CG_ROOT "/cxlkv-bench-%d", (int)getpid());
	if (mkdir(m->cg, 0755) && errno != EEXIST)
		return -errno;
	{
		char path[192], val[32];
		uint64_t cur = 0;
		int rc;

		snprintf(path, sizeof(path), "%s/cgroup.procs", m->cg);
		snprintf(val, sizeof(val), "%d", (int)getpid());
		rc = write_file(path, val);
		if (rc)
			return rc;
		snprintf(path, sizeof(path), "%s/memory.current", m->cg);
		rc = read_u64_file(path, &cur);
		if (rc)
			return rc;
		snprintf(path, sizeof(path), "%s/memory.max", m->cg);
		snprintf(val, sizeof(val), "%llu",
			 (unsigned long long)(cur + be->o.budget_bytes));
		rc = write_file(path, val);
		if (rc)
			return rc;
		printf("# swap: cgroup %s memory.max = %llu + %llu bytes, swap on %s, "
		       "zswap %s\n", m->cg, (unsigned long long)cur,
		       (unsigned long long)be->o.budget_bytes, be->o.swap_dev,
		       m->zswap ? "on" : "off");
	}
	return 0;
}

static int mem_seq_open(struct bench_be *be, uint32_t s)
{
	struct mem_be *m = be->priv;
	void *p = mmap(NULL, be->lo.mmap_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	madvise(p, be->lo.mmap_bytes, MADV_NOHUGEPAGE);
	m->base[s] = p;
	return 0;
}

static unsigned char *mem_page(struct bench_be *be, uint32_t s, uint32_t layer,
			       uint32_t head, unsigned int kind, uint32_t block,
			       int write)
{
	struct mem_be *m = be->priv;

	(void)write;
	return m->base[s] + be_page_off(&be->lo, layer, head, kind, block);
}

static int mem_layer_begin(struct bench_be *be, uint32_t s, uint32_t layer,
			   uint64_t step, const struct be_read *reads,
			   uint32_t nreads, uint32_t pred_layer,
			   const struct be_read *pred, uint32_t npred)
{
	(void)be; (void)s; (void)layer; (void)step; (void)reads; (void)nreads;
	(void)pred_layer; (void)pred; (void)npred;
	return 0;
}

static int mem_step_end(struct bench_be *be, uint32_t s, uint64_t step,
			uint64_t written)
{
	(void)be; (void)s; (void)step; (void)written;
	return 0;
}

static void mem_counters(struct bench_be *be, struct be_counters *c)
{
	struct mem_be *m = be->priv;
	struct rusage ru;

	memset(c, 0, sizeof(*c));
	if (!m->swap)
		return;
	getrusage(RUSAGE_SELF, &ru);
	c->demand_misses = (uint64_t)ru.ru_majflt;
	c->cold_read_bytes = vmstat("pswpin") * be->page_size;
	c->cold_write_bytes = vmstat("pswpout") * be->page_size;
}

static void mem_close(struct bench_be *be)
{
	struct mem_be *m = be->priv;

	if (!m)
		return;
	for (uint32_t s = 0; m->base && s < m->nseq; s++)
		if (m->base[s])
			munmap(m->base[s], be->lo.mmap_bytes);
	if (m->cg[0]) {
		char val[32];

		snprintf(val, sizeof(val), "%d", (int)getpid());
		write_file(CG_ROOT "/cgroup.procs", val);
		rmdir(m->cg);
	}
	if (m->swap) {
		write_file("/sys/module/zswap/parameters/enabled",
			   m->zswap_was ? "Y" : "N");
		if (m->swapped_on)
			run_cmd("swapoff %s", be->o.swap_dev);
	}
	free(m->base);
	free(m);
	be->priv = NULL;
}

const struct be_ops be_dram_ops = {
	.name = "dram",
	.open = mem_open,
	.seq_open = mem_seq_open,
	.page = mem_page,
	.layer_begin = mem_layer_begin,
	.step_end = mem_step_end,
	.counters = mem_counters,
	.close = mem_close,
};

const struct be_ops be_swap_ops = {
	.name = "swap",
	.open = mem_open,
	.seq_open = mem_seq_open,
	.page = mem_page,
	.layer_begin = mem_layer_begin,
	.step_end = mem_step_end,
	.counters = mem_counters,
	.close = mem_close,
};
