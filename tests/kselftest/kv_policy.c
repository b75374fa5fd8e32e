// SPDX-License-Identifier: GPL-2.0
/*
 * kv_policy - the policy at work: blocks given high attention scores stay
 * warm under pressure while old low-score blocks go cold; a prefetch window
 * becomes resident (residency query and stats); pins keep blocks warm.
 */
#include "kv_test.h"

#define BUDGET	256
#define HEADS	2
#define BPH	256		/* blocks per stream: 1024 pages = 4x budget */
#define HOT0	8
#define NHOT	8

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

static char *m;
static struct cxl_kv_space_create c;

static char *kpage(int head, int kv, uint32_t blk)
{
	return m + ((uint64_t)head * 2 + kv) * c.stream_bytes + (uint64_t)blk * KV_PAGE;
}

static void write_block(int head, uint32_t blk)
{
	kv_fill((uint64_t *)kpage(head, 0, blk), 7, blk * 2 + head);
	kv_fill((uint64_t *)kpage(head, 1, blk), 8, blk * 2 + head);
}

static int check_block(int head, uint32_t blk)
{
	return !kv_check((uint64_t *)kpage(head, 0, blk), 7, blk * 2 + head) &&
	       !kv_check((uint64_t *)kpage(head, 1, blk), 8, blk * 2 + head);
}

static int check_block(int head, uint32_t blk);

/*
 * One decode step: the hot blocks get score 1.0 and are read (a cold one
 * faults back in, as attention would read it).
 */
static int hint_hot(int fd, uint64_t step)
{
	struct cxl_kv_hint h[HEADS * NHOT];
	struct cxl_kv_hints q = { .step = step, .hints = (uintptr_t)h,
				  .count = HEADS * NHOT };
	int n = 0;

	for (int hd = 0; hd < HEADS; hd++)
		for (int b = 0; b < NHOT; b++)
			h[n++] = (struct cxl_kv_hint){ .head = hd, .block = HOT0 + b,
						       .score = 65536 };
	for (int hd = 0; hd < HEADS; hd++)
		for (int b = 0; b < NHOT; b++)
			check_block(hd, HOT0 + b);
	return kv_ioctl(fd, CXL_KV_HINTS, &q);
}

int main(void)
{
	struct cxl_kv_residency r;
	struct cxl_kv_stats s0, s1;
	struct cxl_kv_params p = { 0 };
	uint64_t bm[BPH / 64], step = 1, done;
	int ctl, fd, ret, bad;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	ktap_plan(15);
	kv_detach_quiet(ctl);
	ret = kv_attach(ctl, BUDGET, 1, 32 << 20);
	T("attach", ret == 0, "ret %d", ret);
	kv_geom(&c, 1, HEADS, 128, BPH * 16);
	fd = kv_space(ctl, &c);
	m = fd < 0 ? MAP_FAILED : mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, 0);
	T("space", fd >= 0 && m != MAP_FAILED && c.blocks_per_stream == BPH, "-");
	if (m == MAP_FAILED)
		return ktap_finish();
	/* Decode behaviour throughout: this test writes a lot, which the phase
	 * detector would call prefill (where scores do not order eviction). */
	p.mask = CXL_KV_PARAM_TAU | CXL_KV_PARAM_POLICY_FLAGS;
	p.tau_steps = 32;
	p.policy_flags = CXL_KV_POLICY_F_ALL & ~CXL_KV_POLICY_F_PHASE;
	T("params_tau", kv_ioctl(fd, CXL_KV_PARAMS_SET, &p) == 0, "-");

	/* The first 64 blocks of both heads; the hot ones get scores. */
	for (uint32_t b = 0; b < 64; b++)
		for (int hd = 0; hd < HEADS; hd++)
			write_block(hd, b);
	for (int i = 0; i < 8; i++)
		hint_hot(fd, step++);
	/* Then 3x the budget more, hot blocks hinted as decoding goes on. */
	for (uint32_t b = 64; b < BPH; b++) {
		for (int hd = 0; hd < HEADS; hd++)
			write_block(hd, b);
		if (!(b % 8))
			hint_hot(fd, step++);
	}
	kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
	T("pressure_demoted", s0.demotions > 512, "demotions %llu",
	  (unsigned long long)s0.demotions);

	bad = 0;
	for (int hd = 0; hd < HEADS; hd++) {
		ret = kv_resident(fd, 0, hd, HOT0, NHOT, &r, bm);
		bad += NHOT - ret;
	}
	T("hot_blocks_stay_warm", bad == 0, "%d hot blocks went cold", bad);
	ret = kv_resident(fd, 0, 0, 16, 48, &r, bm);
	T("old_cold_blocks_demoted", r.nr_cold >= 40, "old low-score blocks cold: %u of 48 (warm %u)",
	  r.nr_cold, r.nr_warm);
	ret = kv_resident(fd, 0, 0, BPH - 4, 4, &r, bm);
	T("recent_window_warm", ret == 4, "recent blocks resident %d", ret);

	/*
	 * Prefetch: blocks 100..132 of both heads, demoted first together with
	 * everything but the hot blocks, so that the window fits under the high
	 * watermark (else the worker may demote prefetched blocks right away).
	 */
	ret = kv_ranges(fd, CXL_KV_DEMOTE, 0, 0, 16, BPH - 16, &done);
	ret |= kv_ranges(fd, CXL_KV_DEMOTE, 0, 1, 16, BPH - 16, &done);
	ret = kv_resident(fd, 0, 0, 100, 33, &r, bm);
	T("window_cold_before", ret == 0, "resident %d", ret);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
	{
		struct cxl_kv_prefetch pf = { .layer = 0, .head_mask = 3,
					      .pos = 116 * 16, .window = 16 * 16,
					      .flags = CXL_KV_PREFETCH_F_WAIT };

		ret = kv_ioctl(fd, CXL_KV_PREFETCH, &pf);
		T("prefetch_wait", ret == 0 && pf.issued == 2 * 2 * 33, "ret %d issued %llu",
		  ret, (unsigned long long)pf.issued);
	}
	bad = 0;
	for (int hd = 0; hd < HEADS; hd++)
		bad += 33 - kv_resident(fd, 0, hd, 100, 33, &r, bm);
	T("prefetch_window_resident", bad == 0, "%d blocks not resident", bad);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	T("prefetch_stats_issued", s1.prefetch_issued - s0.prefetch_issued == 132,
	  "issued %llu", (unsigned long long)(s1.prefetch_issued - s0.prefetch_issued));
	bad = 0;
	for (uint32_t b = 100; b <= 132; b++)
		bad += !check_block(0, b);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
	T("prefetched_data_and_used", bad == 0 && s0.prefetch_used - s1.prefetch_used == 66 &&
	  s0.faults_cold == s1.faults_cold, "bad %d used %llu", bad,
	  (unsigned long long)(s0.prefetch_used - s1.prefetch_used));

	/* Pin blocks 200..209 of head 1, then push everything else through. */
	ret = kv_ranges(fd, CXL_KV_PIN, 0, 1, 200, 10, &done);
	T("pin", ret == 0 && done == 10, "ret %d done %llu", ret, (unsigned long long)done);
	for (uint32_t b = 0; b < BPH; b++)
		if (!check_block(0, b))
			bad++;
	ret = kv_resident(fd, 0, 1, 200, 10, &r, bm);
	kv_ranges(fd, CXL_KV_DEMOTE, 0, 1, 200, 10, &done);
	T("pinned_stay_warm", ret == 10 && r.nr_pinned == 10 && done == 0 &&
	  kv_resident(fd, 0, 1, 200, 10, &r, bm) == 10, "resident %d pinned %u demoted %llu",
	  ret, r.nr_pinned, (unsigned long long)done);
	ret = kv_ranges(fd, CXL_KV_UNPIN, 0, 1, 200, 10, &done);
	ret |= kv_ranges(fd, CXL_KV_DEMOTE, 0, 1, 200, 10, &done);
	T("unpin_then_demote", ret == 0 && done == 20 && bad == 0, "ret %d done %llu bad %d",
	  ret, (unsigned long long)done, bad);

	munmap(m, c.mmap_bytes);
	close(fd);
	kv_detach_quiet(ctl);
	close(ctl);
	return ktap_finish();
}
