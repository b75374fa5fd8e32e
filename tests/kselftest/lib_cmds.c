// SPDX-License-Identifier: GPL-2.0
/*
 * lib_cmds - every synchronous per-space call of libcxl_kv, once through
 * ioctl and once through io_uring (cxl_kv_space_use_uring()): demote,
 * residency, promote, pin/unpin (demote skips pins), prefetch, hints (and a
 * bad batch), access, stats, params get/set by name; the data written before
 * is intact after every move.
 */
#include <stdlib.h>

#include "lib_util.h"

#define LAYERS 2
#define HEADS 2
#define TOKENS 256	/* 16 blocks per stream */

static void fill(struct cxl_kv_space *s, int check, int *bad)
{
	for (uint32_t l = 0; l < LAYERS; l++)
		for (uint32_t h = 0; h < HEADS; h++)
			for (unsigned int k = 0; k < 2; k++)
				for (uint64_t t = 0; t < TOKENS; t++) {
					uint32_t *p = cxl_kv_kv_ptr(s, l, h, k, t);
					uint32_t v = (l << 24) ^ (h << 20) ^ (k << 16) ^ (uint32_t)t;

					for (int i = 0; i < 64; i++) {
						if (!check)
							p[i] = v * 2654435761u + (uint32_t)i;
						else if (p[i] != v * 2654435761u + (uint32_t)i)
							(*bad)++;
					}
				}
}

static int res(struct cxl_kv_space *s, uint32_t first, uint32_t n,
	       struct cxl_kv_residency *r, uint64_t *bm)
{
	return cxl_kv_residency(s, 0, 0, first, n, bm, r);
}

static void run(struct cxl_kv_ctx *ctx, int uring)
{
	struct cxl_kv_geometry g = { LAYERS, HEADS, 128, 2, TOKENS };
	struct cxl_kv_range r = { .layer = 0, .head = 0 };
	struct cxl_kv_hint hints[3];
	struct cxl_kv_residency rs;
	struct cxl_kv_stats st;
	struct cxl_kv_params p;
	struct cxl_kv_space *s;
	const char *tr = uring ? "uring" : "ioctl";
	char name[64];
	uint64_t done = 0, bm[1], issued = 0, resident = 0, bit;
	unsigned int hdone = 0;
	uint32_t v;
	int rc, bad = 0;

#define N(x) (snprintf(name, sizeof(name), "%s_%s", tr, x), name)
	rc = cxl_kv_space_create(ctx, &g, &s);
	if (!rc)
		rc = cxl_kv_space_map(s, NULL);
	if (!rc && uring)
		rc = cxl_kv_space_use_uring(s, 8);
	T(N("setup"), rc == 0, "rc %d", rc);
	if (rc) {
		for (int i = 0; i < 17; i++)
			ktap_skip(N("rest"), "setup failed");
		return;
	}
	fill(s, 0, &bad);

	rc = res(s, 0, 16, &rs, bm);
	T(N("residency_all_warm"), !rc && rs.nr_warm == 16 && bm[0] == 0xffff,
	  "rc %d warm %u bm %#llx", rc, rs.nr_warm, (unsigned long long)bm[0]);
	r.first_block = 0;
	r.nr_blocks = 8;
	rc = cxl_kv_demote(s, &r, 1, &done);
	T(N("demote"), !rc && done > 0, "rc %d done %llu", rc, (unsigned long long)done);
	rc = res(s, 0, 16, &rs, bm);
	T(N("residency_after_demote"), !rc && rs.nr_cold == 8 && bm[0] == 0xff00,
	  "rc %d cold %u bm %#llx", rc, rs.nr_cold, (unsigned long long)bm[0]);
	r.nr_blocks = 4;
	rc = cxl_kv_promote(s, &r, 1, &done);
	T(N("promote"), !rc && done > 0 && !res(s, 0, 16, &rs, bm) &&
	  bm[0] == 0xff0f, "rc %d done %llu bm %#llx", rc,
	  (unsigned long long)done, (unsigned long long)bm[0]);
	r.first_block = 4;
	r.nr_blocks = 2;
	rc = cxl_kv_pin(s, &r, 1, &done);
	T(N("pin"), !rc && done == 2 && !res(s, 0, 16, &rs, bm) &&
	  rs.nr_pinned == 2 && (bm[0] & 0x30) == 0x30, "rc %d done %llu pinned %u",
	  rc, (unsigned long long)done, rs.nr_pinned);
	rc = cxl_kv_demote(s, &r, 1, &done);
	T(N("demote_skips_pinned"), !rc && done == 0 && !res(s, 0, 16, &rs, bm) &&
	  (bm[0] & 0x30) == 0x30, "rc %d done %llu", rc, (unsigned long long)done);
	rc = cxl_kv_unpin(s, &r, 1, &done);
	T(N("unpin"), !rc && done == 2 && !res(s, 0, 16, &rs, bm) && rs.nr_pinned == 0,
	  "rc %d done %llu", rc, (unsigned long long)done);
	/* blocks 6, 7 are cold: a window around token 120 covers 6..8 */
	rc = cxl_kv_prefetch(s, 0, 1, 120, 16, CXL_KV_PREFETCH_F_WAIT, &issued,
			     &resident);
	T(N("prefetch"), !rc && issued >= 4 && !res(s, 0, 16, &rs, bm) &&
	  (bm[0] & 0xc0) == 0xc0, "rc %d issued %llu resident %llu bm %#llx", rc,
	  (unsigned long long)issued, (unsigned long long)resident,
	  (unsigned long long)bm[0]);

	{
		/* blocks 0-3 of heads 0 and 1 cold, then a batch of two windows */
		struct cxl_kv_prefetch pf[2];
		struct cxl_kv_range rr = { .layer = 1, .head = 0, .first_block = 0,
					   .nr_blocks = 4 };

		cxl_kv_demote(s, &rr, 1, NULL);
		rr.head = 1;
		cxl_kv_demote(s, &rr, 1, NULL);
		memset(pf, 0, sizeof(pf));
		pf[0].layer = 1;
		pf[0].head_mask = 1;
		pf[0].pos = 32;		/* tokens 1..63: blocks 0..3 */
		pf[0].window = 31;
		pf[0].flags = CXL_KV_PREFETCH_F_WAIT;
		pf[1] = pf[0];
		pf[1].head_mask = 2;
		rc = cxl_kv_prefetch_batch(s, pf, 2);
		T(N("prefetch_batch"), !rc && pf[0].issued == 8 && pf[1].issued == 8 &&
		  !cxl_kv_residency(s, 1, 0, 0, 4, bm, &rs) && rs.nr_cold == 0 &&
		  !cxl_kv_residency(s, 1, 1, 0, 4, bm, &rs) && rs.nr_cold == 0,
		  "rc %d issued %llu/%llu cold %u", rc,
		  (unsigned long long)pf[0].issued, (unsigned long long)pf[1].issued,
		  rs.nr_cold);
	}

	memset(hints, 0, sizeof(hints));
	for (int i = 0; i < 3; i++) {
		hints[i].layer = 1;
		hints[i].head = 1;
		hints[i].block = (uint32_t)i;
		hints[i].score = 30000u * (uint32_t)i;
	}
	rc = cxl_kv_hints(s, 7, hints, 3, &hdone);
	T(N("hints"), !rc && hdone == 3, "rc %d done %u", rc, hdone);
	hints[1].block = 16;
	rc = cxl_kv_hints(s, 8, hints, 3, &hdone);
	T(N("hints_bad_block"), rc == -EINVAL && hdone == 1, "rc %d done %u", rc, hdone);
	r.first_block = 0;
	r.nr_blocks = 16;
	rc = cxl_kv_access(s, 9, &r, 1, &done);
	T(N("access"), !rc && done == 16, "rc %d done %llu", rc, (unsigned long long)done);

	rc = cxl_kv_space_stats(s, &st);
	T(N("stats"), !rc && st.demotions >= 16 && st.promotions >= 8 &&
	  st.hints >= 3 && st.prefetch_issued >= issued,
	  "rc %d dem %llu prom %llu hints %llu", rc,
	  (unsigned long long)st.demotions, (unsigned long long)st.promotions,
	  (unsigned long long)st.hints);

	rc = cxl_kv_params_get(s, &p);
	T(N("params_get_defaults"), !rc && p.alpha_q16 == 16384 && p.tau_steps == 1000 &&
	  p.pf_window == 1 && p.mask == CXL_KV_PARAM_ALL, "rc %d alpha %u", rc,
	  p.alpha_q16);
	memset(&p, 0, sizeof(p));
	cxl_kv_param_lookup("pf_window", &bit);
	cxl_kv_param_set_value(&p, bit, 2);
	rc = cxl_kv_params_set(s, &p);
	T(N("params_set"), !rc && !cxl_kv_params_get(s, &p) &&
	  !cxl_kv_param_get_value(&p, bit, &v) && v == 2 &&
	  !strcmp(cxl_kv_param_name(bit), "pf_window"), "rc %d v %u", rc, v);
	memset(&p, 0, sizeof(p));
	cxl_kv_param_lookup("score_shift", &bit);
	cxl_kv_param_set_value(&p, bit, 13);
	rc = cxl_kv_params_set(s, &p);
	T(N("params_set_out_of_range"), rc == -EINVAL, "rc %d", rc);

	fill(s, 1, &bad);
	T(N("data_intact"), bad == 0, "%d bad words", bad);
	cxl_kv_space_close(s);
#undef N
}

int main(void)
{
	struct cxl_kv_features f;
	struct cxl_kv_ctx *ctx;
	const char *why = lib_unavailable();

	if (why)
		return ktap_skip_all(why);
	ctx = lib_ctx();
	if (!ctx)
		return ktap_skip_all("cxl_kv_new failed");
	if (lib_attach(ctx, 1024, 32ULL << 20))
		return ktap_skip_all("attach failed");
	ktap_plan(2 * 18);
	run(ctx, 0);
	if (!cxl_kv_get_features(ctx, &f) && (f.features & CXL_KV_F_URING_CMD))
		run(ctx, 1);
	else
		for (int i = 0; i < 18; i++)
			ktap_skip("uring", "module without CXL_KV_F_URING_CMD");
	cxl_kv_detach(ctx);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
