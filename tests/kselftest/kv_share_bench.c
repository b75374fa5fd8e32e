// SPDX-License-Identifier: GPL-2.0
/*
 * kv_share_bench - N sequences with a common prefix of P tokens and private
 * suffixes of S tokens, with the prefix shared (one parent holding it, N
 * children with CXL_KV_SPACE_F_SHARE writing their suffixes) and without
 * (N spaces each holding its own copy), on one tier set whose warm budget
 * holds two prefixes' worth of pages.  For N = 1, 4, 16:
 *
 *   pages      warm + cold pages in use once everything is written (the
 *              GLOBAL_STATS gauges warm_pages + cold_pages, after the
 *              worker has settled)
 *   hit        share of the decode loop's page reads that did not read from
 *              the cold tier (1 - faults_cold / reads)
 *   step       p50 of a decode step: every sequence reads RB random prefix
 *              blocks and its last SB suffix blocks of every stream (one
 *              word of each page, checked against the pattern: a wrong
 *              word fails the run) and writes its last suffix block (the
 *              step's token)
 *
 * Each sequence reads its whole prefix once after writing its suffix (the
 * suffix's prefill attends to it).  The workload (blocks read, in order)
 * is the same with and without
 * sharing (one seeded generator per run).  The guest is TCG-emulated:
 * compare the ratios of one run.  The last line is exactly:
 *   share-summary: pages_vs_unshared@16=R step_vs_unshared@16=S
 */
#include "kv_test.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define LAYERS	1
#define HEADS	2
#define HDIM	128			/* fp16: 16 tokens per block */
#define TPB	16
#define P	8192			/* prefix tokens */
#define S	512			/* suffix tokens */
#define PBLK	(P / TPB)
#define SBLK	(S / TPB)
#define STREAMS	(2 * LAYERS * HEADS)
#define MAXN	16
#define BUDGET	(2 * STREAMS * PBLK)	/* warm pages: two prefixes */
/* warm pages: all of 16 unshared sequences, and room for the worker */
#define ROOMY	40960
#define STEPS	24
#define WARMUP	4
#define RB	48			/* random prefix blocks per stream per step */
#define SB	4			/* last suffix blocks per stream per step */
#define PSEED	1
#define SSEED	100

struct result {
	uint64_t warm, cold, reads, faults_cold, bad;
	double step_p50_ms;
	int err;
};

static uint64_t bph;

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int mk_space(int ctl, int parent)
{
	struct cxl_kv_space_create c;
	int fd;

	kv_geom(&c, LAYERS, HEADS, HDIM, P + S);
	if (parent >= 0) {
		c.flags |= CXL_KV_SPACE_F_SHARE;
		c.reserved[CXL_KV_SPACE_SHARE_PARENT] = (uint64_t)parent;
		c.reserved[CXL_KV_SPACE_SHARE_TOKENS] = P;
	}
	fd = kv_space(ctl, &c);
	bph = c.blocks_per_stream;
	return fd;
}

static char *map(int fd)
{
	char *m = mmap(NULL, STREAMS * bph * KV_PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	return m == MAP_FAILED ? NULL : m;
}

/* One word per 512 bytes: the page is written, and cheaply. */
static void fill_blocks(char *m, uint32_t b0, uint32_t b1, uint64_t seed)
{
	for (uint32_t s = 0; s < STREAMS; s++)
		for (uint32_t b = b0; b < b1; b++) {
			uint64_t pg = s * bph + b;

			kv_fill_stride((volatile uint64_t *)(m + pg * KV_PAGE),
				       seed, pg, 64);
		}
}

/*
 * Warm and cold pages in use once the worker is done moving: the module's
 * gauges (a cold page is one whose only copy is cold, so a clean warm page
 * that still has its slot counts once).
 */
static void settle(int ctl, uint64_t *warm, uint64_t *cold)
{
	struct cxl_kv_stats i, j;

	kv_stats(ctl, CXL_KV_GLOBAL_STATS, &i);
	for (int k = 0; k < 100; k++) {
		usleep(50000);
		kv_stats(ctl, CXL_KV_GLOBAL_STATS, &j);
		if (j.warm_pages == i.warm_pages && j.cold_pages == i.cold_pages)
			break;
		i = j;
	}
	*warm = j.warm_pages;
	*cold = j.cold_pages;
}

static int run(int ctl, int n, int shared, uint64_t budget, struct result *r)
{
	int parent = -1, fds[MAXN];
	char *maps[MAXN] = { NULL };
	char *pm = NULL;
	double steps[STEPS];
	struct cxl_kv_stats g0, g1;
	unsigned int rnd = 12345;
	uint32_t len[MAXN];

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < MAXN; i++)
		fds[i] = -1;
	kv_detach_quiet(ctl);
	r->err = kv_attach(ctl, budget, 1, 0);
	if (r->err)
		return r->err;
	if (shared) {
		parent = mk_space(ctl, -1);
		pm = parent >= 0 ? map(parent) : NULL;
		if (!pm) {
			r->err = -ENOMEM;
			goto out;
		}
		fill_blocks(pm, 0, PBLK, PSEED);
	}
	for (int i = 0; i < n; i++) {
		fds[i] = mk_space(ctl, parent);
		maps[i] = fds[i] >= 0 ? map(fds[i]) : NULL;
		if (!maps[i]) {
			r->err = fds[i] < 0 ? fds[i] : -ENOMEM;
			goto out;
		}
		if (!shared)
			fill_blocks(maps[i], 0, PBLK, PSEED);
		fill_blocks(maps[i], PBLK, PBLK + SBLK, SSEED + i);
		len[i] = PBLK + SBLK;
		/* the suffix's prefill attended to the whole prefix */
		for (uint64_t pg = 0; pg < STREAMS * bph; pg++)
			if (pg % bph < PBLK &&
			    *(volatile uint64_t *)(maps[i] + pg * KV_PAGE) !=
			    kv_pat(PSEED, pg, 0))
				r->bad++;
	}
	settle(ctl, &r->warm, &r->cold);

	for (int st = 0; st < STEPS; st++) {
		double t0;

		if (st == WARMUP)
			kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g0);
		t0 = kv_now();
		for (int i = 0; i < n; i++) {
			for (uint32_t s = 0; s < STREAMS; s++) {
				for (int k = 0; k < RB + SB; k++) {
					uint32_t b = k < RB ? (uint32_t)rand_r(&rnd) % PBLK :
						     len[i] - SB + (k - RB);
					uint64_t pg = s * bph + b;
					uint64_t seed = b < PBLK ? PSEED : SSEED + i;
					volatile uint64_t *p =
						(volatile uint64_t *)(maps[i] + pg * KV_PAGE);

					if (*p != kv_pat(seed, pg, 0))
						r->bad++;
					if (st >= WARMUP)
						r->reads++;
				}
			}
			/* the step's new token goes into the last block */
			fill_blocks(maps[i], len[i] - 1, len[i], SSEED + i);
		}
		steps[st] = (kv_now() - t0) * 1e3;
	}
	kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g1);
	r->faults_cold = g1.faults_cold - g0.faults_cold;
	qsort(steps + WARMUP, STEPS - WARMUP, sizeof(double), cmp_d);
	r->step_p50_ms = steps[WARMUP + (STEPS - WARMUP) / 2];
out:
	for (int i = 0; i < n; i++) {
		if (maps[i])
			munmap(maps[i], STREAMS * bph * KV_PAGE);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	if (pm)
		munmap(pm, STREAMS * bph * KV_PAGE);
	if (parent >= 0)
		close(parent);
	kv_detach_quiet(ctl);
	return r->err;
}

int main(void)
{
	static const int ns[] = { 1, 4, 16 };
	struct result res[3][2], roomy[2];
	int ctl, fails = 0, ret;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no warm node");
	ktap_plan(3);
	printf("# %d layer(s) x %d KV heads x %d dims fp16, prefix %d + suffix %d tokens, warm budget %d pages\n",
	       LAYERS, HEADS, HDIM, P, S, BUDGET);
	printf("# | N | mode | warm | cold | warm+cold | hit | step p50 (ms) |\n");
	for (int k = 0; k < 3; k++) {
		for (int sh = 0; sh < 2; sh++) {
			struct result *r = &res[k][sh];

			run(ctl, ns[k], sh, BUDGET, r);
			printf("# | %d | %s | %llu | %llu | %llu | %.3f | %.2f |%s\n",
			       ns[k], sh ? "shared" : "unshared",
			       (unsigned long long)r->warm, (unsigned long long)r->cold,
			       (unsigned long long)(r->warm + r->cold),
			       r->reads ? 1.0 - (double)r->faults_cold / r->reads : 0,
			       r->step_p50_ms, r->err ? " ERROR" : "");
			fails += r->err != 0 || r->bad != 0;
			if (r->err || r->bad)
				ktap_diag("N=%d %s: err %d, %llu wrong words read", ns[k],
					  sh ? "shared" : "unshared", r->err,
					  (unsigned long long)r->bad);
		}
	}
	/* N = 16 again on a budget that holds every unshared page */
	for (int sh = 0; sh < 2; sh++) {
		struct result *r = &roomy[sh];

		run(ctl, MAXN, sh, ROOMY, r);
		printf("# | %d, budget %d | %s | %llu | %llu | %llu | %.3f | %.2f |%s\n",
		       MAXN, ROOMY, sh ? "shared" : "unshared",
		       (unsigned long long)r->warm, (unsigned long long)r->cold,
		       (unsigned long long)(r->warm + r->cold),
		       r->reads ? 1.0 - (double)r->faults_cold / r->reads : 0,
		       r->step_p50_ms, r->err ? " ERROR" : "");
		fails += r->err != 0 || r->bad != 0;
	}
	printf("# no pressure, N = 16: step p50 shared / unshared %.3f\n",
	       roomy[1].step_p50_ms / roomy[0].step_p50_ms);
	{
		struct result *u = &res[2][0], *s = &res[2][1];
		double R = (double)(s->warm + s->cold) / (double)(u->warm + u->cold);
		double Sx = s->step_p50_ms / u->step_p50_ms;
		uint64_t one = STREAMS * (PBLK + (uint64_t)MAXN * SBLK);

		T("bytes_exact", !fails, "%d runs failed or read wrong bytes", fails);
		T("pages_target", R <= 0.13 && s->warm + s->cold <= one * 11 / 10,
		  "R %.3f, shared pages %llu vs one prefix + 16 suffixes %llu", R,
		  (unsigned long long)(s->warm + s->cold), (unsigned long long)one);
		T("step_target", Sx <= 1.0, "S %.3f", Sx);
		ret = ktap_finish();
		printf("share-summary: pages_vs_unshared@16=%.3f step_vs_unshared@16=%.4f\n",
		       R, Sx);
	}
	close(ctl);
	return ret;
}
