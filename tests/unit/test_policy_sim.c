// SPDX-License-Identifier: GPL-2.0
/* Replays: belady (offline MIN) bounds every demand-fetch online policy. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tools/kvsim_engine.h"

Test(policy_sim, belady_bounds_online, .timeout = 120)
{
	static const int online[] = { KVSIM_LRU, KVSIM_H2O, KVSIM_OURS_NOPF };

	for (int seed = 1; seed <= 6; seed++) {
		struct kvtrace_cfg c;
		struct kvtrace t;
		struct kvtrace_genstats gs;
		struct kvsim_events ev;

		cr_assert_eq(kvtrace_preset(seed & 1 ? "tiny" : "small", &c), 0);
		c.seed = seed;
		c.budget = 0.1 * seed;
		cr_assert_eq(kvtrace_generate(&c, &t, &gs), 0);
		cr_assert_eq(kvsim_events_from_trace(&t, &ev), 0);
		kvtrace_free(&t);
		for (int w = 1; w <= 4; w++) {
			uint64_t cap = ev.footprint * w * 3 / 20 + 1;
			struct kvsim_result b, r;

			cr_assert_eq(kvsim_run(&ev, KVSIM_BELADY, cap, &b), 0);
			for (unsigned k = 0; k < sizeof(online) / sizeof(online[0]); k++) {
				cr_assert_eq(kvsim_run(&ev, online[k], cap, &r), 0);
				cr_assert_eq(r.reads, b.reads);
				cr_assert_geq(b.hits, r.hits, "seed %d cap %llu: belady %llu < %s %llu",
					      seed, (unsigned long long)cap,
					      (unsigned long long)b.hits,
					      kvsim_policy_name(online[k]),
					      (unsigned long long)r.hits);
				cr_assert_eq(r.bad_victims, 0);
			}
		}
		kvsim_events_free(&ev);
	}
}

/* the real policy core never hands the simulator a non-WARM victim */
Test(policy_sim, core_victims_consistent, .timeout = 120)
{
	struct kvtrace_cfg c;
	struct kvtrace t;
	struct kvtrace_genstats gs;
	struct kvsim_events ev;

	cr_assert_eq(kvtrace_preset("small", &c), 0);
	cr_assert_eq(kvtrace_generate(&c, &t, &gs), 0);
	cr_assert_eq(kvsim_events_from_trace(&t, &ev), 0);
	kvtrace_free(&t);
	for (int pol = KVSIM_SEED; pol <= KVSIM_OURS_NOPF; pol++) {
		struct kvsim_result r;

		if (pol == KVSIM_H2O)
			continue;
		cr_assert_eq(kvsim_run(&ev, pol, ev.footprint / 4, &r), 0);
		cr_assert_eq(r.bad_victims, 0);
		cr_assert_eq(r.overflows, 0);
		cr_assert_gt(r.hits, 0);
	}
	kvsim_events_free(&ev);
}

Test(policy_sim, generator_reproducible)
{
	struct kvtrace_cfg c;
	struct kvtrace a, b;
	struct kvtrace_genstats gs;

	kvtrace_preset("tiny", &c);
	c.seed = 7;
	cr_assert_eq(kvtrace_generate(&c, &a, &gs), 0);
	cr_assert_eq(kvtrace_generate(&c, &b, &gs), 0);
	cr_assert_eq(a.n, b.n);
	cr_assert_eq(memcmp(a.w, b.w, a.n * 4), 0);
	kvtrace_free(&b);
	c.seed = 8;
	cr_assert_eq(kvtrace_generate(&c, &b, &gs), 0);
	cr_assert(a.n != b.n || memcmp(a.w, b.w, a.n * 4));
	kvtrace_free(&a);
	kvtrace_free(&b);
}

Test(policy_sim, generator_statistics)
{
	struct kvtrace_cfg c;
	struct kvtrace t;
	struct kvtrace_genstats gs;

	kvtrace_preset("llama3-8b", &c);
	c.decode_steps = 64;
	cr_assert_eq(kvtrace_generate(&c, &t, &gs), 0);
	kvtrace_free(&t);
	cr_assert_gt(gs.hh_persistence, 0.93, "persistence %f", gs.hh_persistence);
	cr_assert_gt(gs.sink_mass, 0.2);
	cr_assert_gt(gs.local_mass_local, 0.9);
	cr_assert_geq(gs.n_local, 256 * 50 / 100);
	cr_assert_leq(gs.n_local, 256 * 75 / 100);
	cr_assert_leq(gs.n_retr, 256 * 10 / 100);
}

Test(policy_sim, trace_roundtrip_and_mooncake)
{
	struct kvtrace_cfg c;
	struct kvtrace t, u;
	struct kvtrace_genstats gs;
	struct kvsim_events ev;
	char path[] = "/tmp/kvp-test-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_geq(fd, 0);
	close(fd);
	kvtrace_preset("tiny", &c);
	cr_assert_eq(kvtrace_generate(&c, &t, &gs), 0);
	cr_assert_eq(kvtrace_save(&t, path), 0);
	cr_assert_eq(kvtrace_load(path, &u), 0);
	cr_assert_eq(t.n, u.n);
	cr_assert_eq(memcmp(t.w, u.w, t.n * 4), 0);
	/* the head kinds travel with the trace */
	cr_assert_eq(kvsim_events_from_trace(&u, &ev), 0);
	cr_assert_not_null(ev.kinds);
	for (uint32_t q = 0; q < c.layers * c.kv_heads; q++)
		cr_assert_lt(ev.kinds[q], KVTRACE_NKINDS);
	kvsim_events_free(&ev);
	kvtrace_free(&t);
	kvtrace_free(&u);

	f = fopen(path, "w");
	fprintf(f, "{\"timestamp\": 0, \"hash_ids\": [0, 1, 2]}\n"
		   "{\"timestamp\": 1, \"hash_ids\": [0, 1, 3]}\n"
		   "{\"timestamp\": 2, \"hash_ids\": [0, 4]}\n");
	fclose(f);
	cr_assert_eq(kvsim_events_from_mooncake(path, &ev, 0), 0);
	cr_assert_eq(ev.footprint, 5);
	{
		struct kvsim_result r;

		cr_assert_eq(kvsim_run(&ev, KVSIM_BELADY, 5, &r), 0);
		cr_assert_eq(r.reads, 3);
		cr_assert_eq(r.hits, 3);
		cr_assert_eq(kvsim_run(&ev, KVSIM_LRU, 1, &r), 0);
		cr_assert_eq(r.hits, 0);
	}
	kvsim_events_free(&ev);
	unlink(path);
}

/*
 * adaptive W per head kind, measured on a replay: local heads (sequential
 * windows) keep or grow it; what any kind prefetches is read at least one
 * time in two (mixed heads read scattered top-k blocks: only the co-used
 * neighbours are fetched, so they may keep a window too)
 */
Test(policy_sim, prefetch_adapts_per_head_kind, .timeout = 120)
{
	struct kvtrace_cfg c;
	struct kvtrace t;
	struct kvtrace_genstats gs;
	struct kvsim_events ev;
	struct kvsim_result r;
	double wl, wm;

	cr_assert_eq(kvtrace_preset("llama3-8b", &c), 0);
	c.layers = 8;
	c.decode_steps = 128;
	cr_assert_eq(kvtrace_generate(&c, &t, &gs), 0);
	cr_assert_eq(kvsim_events_from_trace(&t, &ev), 0);
	kvtrace_free(&t);
	cr_assert_eq(kvsim_run(&ev, KVSIM_OURS, ev.footprint / 10, &r), 0);
	cr_assert_gt(r.kind_heads[0], 0);
	cr_assert_gt(r.kind_heads[1], 0);
	wl = (double)r.kind_w[0] / r.kind_heads[0];
	wm = (double)r.kind_w[1] / r.kind_heads[1];
	cr_assert_geq(wl, 1.0, "local heads mean W %f", wl);
	cr_assert_gt(r.pf_issued, 0);
	cr_assert_geq((double)r.pf_used / r.pf_issued, 0.5, "accuracy %f",
		      (double)r.pf_used / r.pf_issued);
	cr_assert_gt(r.kind_pf[0], 0);
	cr_assert_geq((double)r.kind_pf_used[0] / r.kind_pf[0], 0.5,
		      "local heads accuracy %f",
		      (double)r.kind_pf_used[0] / r.kind_pf[0]);
	/*
	 * the symmetric window's was 0.08 at mean W 0.05; mixed heads that
	 * prefetch badly stop (they then issue a few per cent of the blocks),
	 * those that issue more must be read
	 */
	if (r.kind_pf[1] * 20 > r.pf_issued)
		cr_assert_geq((double)r.kind_pf_used[1] / r.kind_pf[1], 0.3,
			      "mixed heads (mean W %f) accuracy %f", wm,
			      (double)r.kind_pf_used[1] / r.kind_pf[1]);
	kvsim_events_free(&ev);
}
