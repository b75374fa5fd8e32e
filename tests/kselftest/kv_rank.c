// SPDX-License-Identifier: GPL-2.0
/*
 * kv_rank - the demotion worker ranks victims across the spaces sharing a
 * tier set by their policies' eviction priority, (1 - ema) * recency decay.
 *
 * Budget 256 pages: the worker starts above 243 warm pages and demotes to
 * 230 (the default watermarks, 95 % / 90 %; 230 / 192 before 2026-12-03).  Every space is one (layer, head), tau 32 steps, no phase detector
 * (decode: scores count), sinks (block 0) and the recent window (4 blocks)
 * protected.
 *
 * hot/stale: space B (112 blocks, 224 pages) is written at its step 0, then
 * its clock moves to step 1000 without touching the blocks: priority 1.0
 * each.  Space A (80 blocks, 160 pages) is written after it, 8 blocks at a
 * time, every written block hinted with score 1.0 at A's next step: its
 * priorities stay below 0.3.  Filling A pushes the tier 141..154 pages
 * (71..77 blocks) over: ranked, all of them come from B (107 eligible).  The
 * old round robin asked every space for the same share, so A lost about
 * half of them and "hot_space_stays_warm" (>= 90 %) and "stale_space_pays"
 * (B >= 10x A) fail (nvdimm, old worker: A kept 41 of 80 blocks, lost 78
 * pages to B's 116).
 *
 * equal/fresh: C and D (56 blocks each) stale as B, then E (48 blocks) is
 * written at its step 0 (priority ~0.03).  C and D give alike (within
 * 1/8: ties interleave the spaces and go to the one that gave less), E keeps
 * everything; round robin took its share from E too (old worker: E lost 46
 * pages, C 52, D 30; "fresh_space_kept" allows 9).
 *
 * Every page of every space reads back its pattern (every word).
 */
#include "kv_test.h"

#define BUDGET	256

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

struct kv_sp {
	int fd;
	char *m;
	uint32_t bph;
	uint64_t seed;
	uint64_t step;
	struct cxl_kv_space_create c;
};

static char *sp_page(struct kv_sp *s, int kv, uint32_t blk)
{
	return s->m + (uint64_t)kv * s->c.stream_bytes + (uint64_t)blk * KV_PAGE;
}

/* A space of one (layer, head) with @blocks blocks; 0 or -1. */
static int sp_open(int ctl, struct kv_sp *s, uint32_t blocks, uint64_t seed)
{
	struct cxl_kv_params p = { 0 };

	memset(s, 0, sizeof(*s));
	s->seed = seed;
	kv_geom(&s->c, 1, 1, 128, (uint64_t)blocks * 16);
	s->fd = kv_space(ctl, &s->c);
	if (s->fd < 0 || s->c.blocks_per_stream != blocks)
		return -1;
	s->bph = blocks;
	s->m = mmap(NULL, s->c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		    s->fd, 0);
	if (s->m == MAP_FAILED) {
		s->m = NULL;
		return -1;
	}
	p.mask = CXL_KV_PARAM_TAU | CXL_KV_PARAM_POLICY_FLAGS;
	p.tau_steps = 32;
	p.policy_flags = CXL_KV_POLICY_F_ALL & ~CXL_KV_POLICY_F_PHASE;
	return kv_ioctl(s->fd, CXL_KV_PARAMS_SET, &p) ? -1 : 0;
}

static void sp_close(struct kv_sp *s)
{
	if (s->m)
		munmap(s->m, s->c.mmap_bytes);
	if (s->fd >= 0)
		close(s->fd);
	s->m = NULL;
	s->fd = -1;
}

static void sp_write(struct kv_sp *s, uint32_t first, uint32_t n)
{
	for (uint32_t b = first; b < first + n; b++)
		for (int kv = 0; kv < 2; kv++)
			kv_fill_stride((uint64_t *)sp_page(s, kv, b), s->seed,
				       (uint64_t)kv * s->bph + b, 1);
}

/* Pages of @s that do not read back their pattern. */
static int sp_bad_pages(struct kv_sp *s)
{
	int bad = 0;

	for (uint32_t b = 0; b < s->bph; b++)
		for (int kv = 0; kv < 2; kv++)
			bad += !!kv_check_stride((uint64_t *)sp_page(s, kv, b),
						 s->seed, (uint64_t)kv * s->bph + b, 1);
	return bad;
}

/* Score hints for blocks [first, first + n) at the space's next step. */
static int sp_hint(struct kv_sp *s, uint32_t first, uint32_t n, uint32_t score,
		   uint64_t step)
{
	struct cxl_kv_hint h[256];
	struct cxl_kv_hints q = { .step = step, .hints = (uintptr_t)h, .count = n };

	if (n > 256)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++)
		h[i] = (struct cxl_kv_hint){ .block = first + i, .score = score };
	s->step = step;
	return kv_ioctl(s->fd, CXL_KV_HINTS, &q);
}

/*
 * Move the space's clock to @step without touching its blocks: one hint on
 * block 0, an attention sink (protected whatever its priority).
 */
static int sp_age(struct kv_sp *s, uint64_t step)
{
	return sp_hint(s, 0, 1, 0, step);
}

/* Pages the space lost to the cold tier (written or dropped clean). */
static uint64_t sp_lost(struct kv_sp *s)
{
	struct cxl_kv_stats st;

	if (kv_stats(s->fd, CXL_KV_SPACE_STATS, &st))
		return UINT64_MAX;
	return st.demotions + st.clean_drops;
}

/* Blocks with no cold page, and blocks with a cold one (RESIDENCY). */
static int sp_resident(struct kv_sp *s, uint32_t *cold)
{
	uint64_t bm[4];
	struct cxl_kv_residency r;
	int ret;

	if (s->bph > 256)
		return -EINVAL;
	ret = kv_resident(s->fd, 0, 0, 0, s->bph, &r, bm);
	*cold = r.nr_cold;
	return ret;
}

/* the high watermark settle() saw (the module's default for the budget) */
static uint64_t settle_high;

/* Wait until the worker is done: warm pages at most high and steady. */
static uint64_t settle(int ctl)
{
	struct cxl_kv_info in;
	uint64_t last = UINT64_MAX;
	int steady = 0;

	for (int i = 0; i < 300 && steady < 3; i++) {
		usleep(100000);
		if (kv_info(ctl, &in))
			return UINT64_MAX;
		settle_high = in.high_wmark;
		steady = in.warm_pages <= in.high_wmark && in.warm_pages == last ?
			 steady + 1 : 0;
		last = in.warm_pages;
	}
	return last;
}

/* A case that could not set up: its remaining results are skips. */
static void skip_rest(const char *const *names)
{
	for (; *names; names++)
		ktap_skip(*names, "no spaces");
}

static void hot_vs_stale(int ctl)
{
	struct kv_sp a, b;
	uint64_t la, lb, warm;
	uint32_t cold_a, cold_b;
	int res_a, res_b, ok;

	ok = !sp_open(ctl, &a, 80, 11) & !sp_open(ctl, &b, 112, 12);
	T("hot_stale_spaces", ok, "fd %d %d blocks %u %u", a.fd, b.fd,
	  a.c.blocks_per_stream, b.c.blocks_per_stream);
	if (!ok) {
		skip_rest((const char *const[]){ "stale_fill_below_high",
			"pressure_demoted", "hot_space_stays_warm",
			"stale_space_goes_cold", "stale_space_pays",
			"hot_stale_data_intact", NULL });
		goto out;
	}
	/* B: written at its step 0, then its clock moves on. */
	sp_write(&b, 0, 112);
	T("stale_fill_below_high", sp_lost(&b) == 0 && sp_age(&b, 1000) == 0,
	  "B lost %llu before A came", (unsigned long long)sp_lost(&b));
	/* A: hot, recent: every written block hinted at every step. */
	for (uint32_t blk = 0; blk < 80; blk += 8) {
		sp_write(&a, blk, 8);
		sp_hint(&a, 0, blk + 8, 65536, a.step + 1);
	}
	warm = settle(ctl);
	la = sp_lost(&a);
	lb = sp_lost(&b);
	res_a = sp_resident(&a, &cold_a);
	res_b = sp_resident(&b, &cold_b);
	ktap_diag("warm %llu; A lost %llu pages, %d of 80 blocks resident; B lost %llu pages, %u of 112 blocks cold",
		  (unsigned long long)warm, (unsigned long long)la, res_a,
		  (unsigned long long)lb, cold_b);
	T("pressure_demoted", la + lb >= 100 && warm <= settle_high,
	  "lost %llu warm %llu high %llu", (unsigned long long)(la + lb),
	  (unsigned long long)warm, (unsigned long long)settle_high);
	T("hot_space_stays_warm", res_a >= 72, "A: %d of 80 blocks resident", res_a);
	T("stale_space_goes_cold", cold_b >= 56, "B: %u of 112 blocks cold", cold_b);
	T("stale_space_pays", lb >= 100 && lb >= 10 * la, "A lost %llu, B %llu pages",
	  (unsigned long long)la, (unsigned long long)lb);
	res_a = sp_bad_pages(&a);
	res_b = sp_bad_pages(&b);
	T("hot_stale_data_intact", !res_a && !res_b, "bad pages: A %d B %d",
	  res_a, res_b);
out:
	sp_close(&a);
	sp_close(&b);
}

static void equal_and_fresh(int ctl)
{
	struct kv_sp c, d, e;
	uint64_t lc, ld, le, diff, need;
	int ok, bad;

	ok = !sp_open(ctl, &c, 56, 21) & !sp_open(ctl, &d, 56, 22) &
	     !sp_open(ctl, &e, 48, 23);
	T("equal_fresh_spaces", ok, "fd %d %d %d", c.fd, d.fd, e.fd);
	if (!ok) {
		skip_rest((const char *const[]){ "equal_spaces_share",
			"fresh_space_kept", "equal_fresh_data_intact", NULL });
		goto out;
	}
	/* C and D alike: 224 pages, below the high watermark, then stale. */
	for (uint32_t blk = 0; blk < 56; blk += 8) {
		sp_write(&c, blk, 8);
		sp_write(&d, blk, 8);
	}
	sp_age(&c, 1000);
	sp_age(&d, 1000);
	/* E: written at its step 0, and nothing since: the newest of all. */
	sp_write(&e, 0, 48);
	settle(ctl);
	lc = sp_lost(&c);
	ld = sp_lost(&d);
	le = sp_lost(&e);
	diff = lc > ld ? lc - ld : ld - lc;
	ktap_diag("lost pages: C %llu D %llu E %llu", (unsigned long long)lc,
		  (unsigned long long)ld, (unsigned long long)le);
	/*
	 * The worker must have taken at least what brings the tier under its
	 * high watermark: 2 x 112 + 96 pages were written.  How much more
	 * depends on when it woke during E's writes (it demotes to the low
	 * watermark once started), so that is not counted.
	 */
	need = 2 * 112 + 96 > settle_high ? 2 * 112 + 96 - settle_high : 0;
	T("equal_spaces_share", lc + ld + le >= need && lc + ld >= 64 &&
	  diff * 8 <= lc + ld,
	  "C lost %llu, D %llu, E %llu pages, at least %llu needed",
	  (unsigned long long)lc, (unsigned long long)ld,
	  (unsigned long long)le, (unsigned long long)need);
	T("fresh_space_kept", le <= 9, "E lost %llu of 96 pages",
	  (unsigned long long)le);
	bad = sp_bad_pages(&c) + sp_bad_pages(&d) + sp_bad_pages(&e);
	T("equal_fresh_data_intact", !bad, "%d bad pages", bad);
out:
	sp_close(&c);
	sp_close(&d);
	sp_close(&e);
}

int main(void)
{
	struct cxl_kv_info in;
	int ctl, ret;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	ktap_plan(13);
	kv_detach_quiet(ctl);
	ret = kv_attach(ctl, BUDGET, 1, 32 << 20);
	T("attach", ret == 0, "ret %d", ret);
	if (ret)
		return ktap_finish();
	hot_vs_stale(ctl);
	equal_and_fresh(ctl);
	ret = kv_info(ctl, &in);
	T("close_frees_everything", !ret && !in.nr_spaces && !in.warm_pages &&
	  !in.cold_used, "spaces %u warm %llu cold used %llu", in.nr_spaces,
	  (unsigned long long)in.warm_pages, (unsigned long long)in.cold_used);
	kv_detach_quiet(ctl);
	close(ctl);
	return ktap_finish();
}
