// SPDX-License-Identifier: GPL-2.0
/* Policy core: parameters, states, victims, prefetch windows, phases. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvpolicy.h"

static struct kvp_state *mk(const struct kvp_geom *g, const struct kvp_params *p)
{
	kvp_u64 sz = kvp_state_size(g);
	struct kvp_state *st;

	cr_assert_gt(sz, 0);
	st = aligned_alloc(8, (sz + 7) & ~7ull);
	cr_assert_not_null(st);
	memset(st, 0xa5, sz);	/* kvp_init must not rely on zeroed memory */
	cr_assert_eq(kvp_init(st, sz, g, p), 0);
	return st;
}

static uint64_t rs = 88172645463325252ull;

static kvp_u32 rnd(kvp_u32 n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (kvp_u32)(rs % n);
}

Test(policy_params, defaults_valid)
{
	struct kvp_params p;

	kvp_params_default(&p);
	cr_assert_eq(kvp_params_validate(&p), 0);
	cr_assert_eq(p.tau_steps, 1000);
	cr_assert_eq(p.sink_tokens, 4);
	cr_assert_eq(p.flags, KVP_P_DEFAULT);
	/* the uapi mirrors bits 0..3 as CXL_KV_POLICY_F_ALL */
	cr_assert_eq(KVP_P_DEFAULT, 0xf);
}

Test(policy_params, rejects_bad_values)
{
	struct kvp_params d, p;

	kvp_params_default(&d);
#define BAD(stmt) do { p = d; stmt; \
	cr_assert_eq(kvp_params_validate(&p), -KVP_EINVAL, #stmt); } while (0)
	BAD(p.alpha_q16 = 0);
	BAD(p.alpha_q16 = KVP_ONE + 1);
	BAD(p.tau_steps = 0);
	BAD(p.score_shift = 13);
	BAD(p.pf_window = p.pf_window_max + 1);
	BAD(p.pf_window_max = KVP_PF_WINDOW_MAX + 1);
	BAD(p.pf_epoch = 0);
	BAD(p.phase_window = 3);
	BAD(p.phase_exit = p.phase_enter);
	BAD(p.phase_enter = 0);
	BAD(p.scan_limit = 0);
	BAD(p.flags = 1u << 20);
	BAD(p.flags = KVP_P_PF_ADAPT);
	BAD(p.reserved[1] = 1);
#undef BAD
	p = d;
	p.alpha_q16 = KVP_ONE;	/* alpha = 1 is allowed */
	cr_assert_eq(kvp_params_validate(&p), 0);
	cr_assert_eq(kvp_params_validate(NULL), -KVP_EINVAL);
}

Test(policy_params, geometry)
{
	struct kvp_geom g = { 128, 64, 16, 16 }, bad;
	struct kvp_params p;
	struct kvp_state *st;
	char small[64];

	cr_assert_eq(kvp_geom_validate(&g), 0);
	bad = g;
	bad.layers = 0;
	cr_assert_eq(kvp_geom_validate(&bad), -KVP_EINVAL);
	cr_assert_eq(kvp_state_size(&bad), 0);
	bad = g;
	bad.kv_heads = KVP_MAX_KV_HEADS + 1;
	cr_assert_eq(kvp_geom_validate(&bad), -KVP_EINVAL);
	bad = g;
	bad.blocks_per_head = 1u << 20;
	cr_assert_eq(kvp_geom_validate(&bad), -KVP_E2BIG);
	/* 8 bytes per entry, plus per-head and header overhead */
	cr_assert_lt(kvp_state_size(&g), 8ull * 128 * 64 * 16 + 32 * 128 * 64 + 4096);
	kvp_params_default(&p);
	cr_assert_eq(kvp_init((struct kvp_state *)(void *)small, sizeof(small),
			      &g, &p), -KVP_ENOSPC);
	st = mk(&g, &p);	/* 128 layers x 64 heads works */
	cr_assert_eq(kvp_on_write(st, kvp_idx(&g, 127, 63, 15), 1), 0);
	cr_assert_eq(kvp_on_write(st, 128 * 64 * 16, 1), -KVP_EINVAL);
	free(st);
}

Test(policy_core, transitions_and_errors)
{
	struct kvp_geom g = { 1, 1, 64, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	struct kvp_entry_info e;

	kvp_params_default(&p);
	st = mk(&g, &p);
	cr_assert_eq(kvp_on_hint(st, 3, 100, 0), -KVP_ENOENT);
	cr_assert_eq(kvp_pin(st, 3), -KVP_ENOENT);
	cr_assert_eq(kvp_on_write(st, 3, 0), 0);
	cr_assert_eq(kvp_warm_count(st), 1);
	cr_assert_eq(kvp_on_hint(st, 3, KVP_ONE + 1, 0), -KVP_ERANGE);
	cr_assert_eq(kvp_on_hint(st, 3, KVP_ONE / 64, 5), 0);
	kvp_entry_get(st, 3, &e);
	cr_assert_eq(e.tier, KVP_TIER_WARM);
	cr_assert(e.hinted);
	cr_assert_eq(e.last_step, 5);
	/* normalised: the first hint is its head's mean, s' = 1/2;
	 * alpha 1/4: ema = 1/8 */
	cr_assert_eq(e.ema_q16, KVP_ONE / 8);
	/* without it, shift 4: 1/64 counts as 1/4; ema = 1/8 + 1/16 */
	p.flags |= KVP_P_RAW;
	cr_assert_eq(kvp_set_params(st, &p), 0);
	cr_assert_eq(kvp_on_hint(st, 3, KVP_ONE / 64, 5), 0);
	kvp_entry_get(st, 3, &e);
	cr_assert_eq(e.ema_q16, KVP_ONE * 3 / 32 + KVP_ONE / 16);
	/* a heavy hitter saturates to 1.0 without NORM, to 15/16 with it */
	for (int i = 0; i < 100; i++)
		kvp_on_hint(st, 3, KVP_ONE, 5);
	kvp_entry_get(st, 3, &e);
	cr_assert_geq(e.ema_q16, KVP_ONE - 8);
	p.flags &= ~KVP_P_RAW;
	cr_assert_eq(kvp_set_params(st, &p), 0);
	for (int i = 0; i < 100; i++)
		kvp_on_hint(st, 3, KVP_ONE, 5);
	kvp_entry_get(st, 3, &e);
	cr_assert_leq(e.ema_q16, KVP_ONE - KVP_ONE / 16 + 8);
	cr_assert_eq(kvp_unpin(st, 3), -KVP_EINVAL);
	cr_assert_eq(kvp_pin(st, 3), 0);
	cr_assert_eq(kvp_set_cold(st, 3), -KVP_EBUSY);
	cr_assert_eq(kvp_unpin(st, 3), 0);
	cr_assert_eq(kvp_set_cold(st, 3), 0);
	cr_assert_eq(kvp_warm_count(st), 0);
	cr_assert_eq(kvp_on_write(st, 3, 6), -KVP_EBUSY);
	kvp_entry_get(st, 3, &e);
	cr_assert_eq(e.tier, KVP_TIER_COLD);
	cr_assert(e.cold_copy);
	cr_assert_eq(kvp_on_access(st, 3, 7), 0);	/* miss */
	cr_assert_eq(kvp_set_resident(st, 3, 7), -KVP_EINVAL);
	cr_assert_eq(kvp_set_resident(st, 3, KVP_BY_DEMAND), 0);
	cr_assert_eq(kvp_on_access(st, 3, 8), KVP_ACC_HIT);
	for (int i = 0; i < 255; i++)
		cr_assert_eq(kvp_pin(st, 3), 0);
	cr_assert_eq(kvp_pin(st, 3), -KVP_EOVERFLOW);
	cr_assert_eq(kvp_set_absent(st, 3), -KVP_EBUSY);
	for (int i = 0; i < 255; i++)
		kvp_unpin(st, 3);
	cr_assert_eq(kvp_set_absent(st, 3), 0);
	cr_assert_eq(kvp_warm_count(st), 0);
	free(st);
}

/* victims are WARM, unpinned, unprotected, unique; capacity holds */
Test(policy_core, victims_fuzz)
{
	struct kvp_geom g = { 3, 2, 40, 16 };
	kvp_u32 nent = 3 * 2 * 40, out[64];
	struct kvp_params p;

	for (int variant = 0; variant < 4; variant++) {
		struct kvp_state *st;
		kvp_u32 len[6] = { 0 }, step = 0;
		int short_round;
		kvp_u64 cap = 30 + rnd(60);

		kvp_params_default(&p);
		if (variant & 1)
			p.flags = 0;		/* no protection, no phase */
		if (variant & 2)
			p.recent_tokens = 200;	/* many protected */
		st = mk(&g, &p);
		for (int round = 0; round < 3000; round++) {
			kvp_u32 q = rnd(6), op = rnd(10), idx;

			step += rnd(3);
			if (op < 3 && len[q] < 40) {
				cr_assert_eq(kvp_on_write(st, q * 40 + len[q], step), 0);
				len[q]++;
			} else if (len[q]) {
				struct kvp_entry_info e;

				idx = q * 40 + rnd(len[q]);
				kvp_entry_get(st, idx, &e);
				if (op < 7) {
					kvp_on_access(st, idx, step);
					kvp_on_hint(st, idx, rnd(KVP_ONE), step);
					if (e.tier == KVP_TIER_COLD)
						kvp_set_resident(st, idx, KVP_BY_DEMAND);
				} else if (op == 7 && e.pins < 2) {
					kvp_pin(st, idx);
				} else if (op == 8 && e.pins) {
					kvp_unpin(st, idx);
				}
			}
			/* a round of making room */
			short_round = 0;
			while (kvp_warm_count(st) > cap) {
				kvp_u32 want = (kvp_u32)(kvp_warm_count(st) - cap);
				int n;

				if (want > 64)
					want = 64;
				n = kvp_pick_victims(st, want, out, step);
				cr_assert_geq(n, 0);
				for (int i = 0; i < n; i++) {
					struct kvp_entry_info e;

					kvp_entry_get(st, out[i], &e);
					cr_assert_eq(e.tier, KVP_TIER_EVICTING);
					cr_assert_eq(e.pins, 0);
					cr_assert_eq(kvp_is_protected(st, out[i]), 0,
						     "victim %u protected", out[i]);
					for (int j = 0; j < i; j++)
						cr_assert_neq(out[i], out[j]);
				}
				for (int i = 0; i < n; i++)
					cr_assert_eq(kvp_set_cold(st, out[i]), 0);
				if ((kvp_u32)n < want) {
					/* only if nothing eligible is left */
					for (kvp_u32 i = 0; i < nent; i++) {
						struct kvp_entry_info e;

						kvp_entry_get(st, i, &e);
						cr_assert(e.tier != KVP_TIER_WARM ||
							  e.pins ||
							  kvp_is_protected(st, i),
							  "eligible %u left behind", i);
					}
					short_round = 1;
					break;
				}
			}
			if (!short_round)
				cr_assert_leq(kvp_warm_count(st), cap);
		}
		free(st);
	}
}

/*
 * kvp_protected_next() visits exactly the written blocks kvp_is_protected()
 * says are protected, in order, on heads of every length (0, shorter than
 * the sinks, overlapping sink and recent windows, longer), with and without
 * KVP_P_PROTECT.
 */
Test(policy_core, protected_next_matches_is_protected)
{
	struct kvp_geom g = { 3, 5, 40, 16 };
	kvp_u32 nent = g.layers * g.kv_heads * g.blocks_per_head;

	for (int round = 0; round < 24; round++) {
		struct kvp_params p;
		struct kvp_state *st;
		kvp_u32 len[15], got = 0, want = 0, next;

		kvp_params_default(&p);
		p.sink_tokens = rnd(5) * 16 + rnd(2);	/* 0..4 blocks, or a bit more */
		p.recent_tokens = rnd(8) * 16 + rnd(16);
		if (round % 6 == 5)
			p.flags &= ~KVP_P_PROTECT;
		cr_assert_eq(kvp_params_validate(&p), 0);
		st = mk(&g, &p);
		for (kvp_u32 q = 0; q < 15; q++) {
			len[q] = round == 0 ? 0 : rnd(g.blocks_per_head + 1);
			for (kvp_u32 b = 0; b < len[q]; b++)
				cr_assert_eq(kvp_on_write(st, q * g.blocks_per_head + b, 1), 0);
		}
		next = kvp_protected_next(st, 0);
		for (kvp_u32 i = 0; i < nent; i++) {
			kvp_u32 q = i / g.blocks_per_head;

			if (kvp_is_protected(st, i) != 1 ||
			    i - q * g.blocks_per_head >= len[q])
				continue;
			want++;
			cr_assert_eq(next, i, "round %d: next %u, expected %u",
				     round, next, i);
			got++;
			next = kvp_protected_next(st, i + 1);
		}
		cr_assert_eq(next, nent, "round %d: %u after the last", round, next);
		cr_assert_eq(got, want);
		cr_assert_eq(kvp_protected_next(st, nent), nent);
		cr_assert_eq(kvp_protected_next(st, nent + 7), nent);
		if (!(p.flags & KVP_P_PROTECT))
			cr_assert_eq(want, 0);
		free(st);
	}
}

Test(policy_core, evicting_abort)
{
	struct kvp_geom g = { 1, 1, 32, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	kvp_u32 v[4], w[4];
	struct kvp_entry_info e;

	kvp_params_default(&p);
	p.flags = 0;
	st = mk(&g, &p);
	for (kvp_u32 i = 0; i < 4; i++)
		kvp_on_write(st, i, 0);
	cr_assert_eq(kvp_pick_victims(st, 2, v, 10), 2);
	cr_assert_eq(kvp_warm_count(st), 2);
	cr_assert_eq(kvp_pick_victims(st, 4, w, 10), 2);	/* not v again */
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			cr_assert_neq(v[i], w[j]);
	cr_assert_eq(kvp_set_resident(st, v[0], KVP_BY_ABORT), 0);
	kvp_entry_get(st, v[0], &e);
	cr_assert_eq(e.tier, KVP_TIER_WARM);
	cr_assert_eq(kvp_warm_count(st), 1);
	free(st);
}

/*
 * 1 layer x 4 heads x 256 blocks, all written at step 0 and hinted at step
 * 100: odd blocks are heavy hitters (1/8), even ones nearly unread.
 */
static struct kvp_state *mk_odd_heavy(void)
{
	static const struct kvp_geom g = { 1, 4, 256, 16 };
	struct kvp_params p;
	struct kvp_state *st;

	kvp_params_default(&p);
	p.flags = KVP_P_PROTECT;	/* decode from the start */
	st = mk(&g, &p);
	for (kvp_u32 i = 0; i < 4 * 256; i++)
		kvp_on_write(st, i, 0);
	for (kvp_u32 i = 0; i < 4 * 256; i++)
		for (int k = 0; k < 8; k++)
			kvp_on_hint(st, i, (i & 1) ? KVP_ONE / 8 : KVP_ONE / 2048,
				    100);
	return st;
}

/*
 * Evict 8 rounds of 32 from steps @step0 on (a first sweep calibrates the
 * threshold), with kvp_pick_victims() or, @prio, kvp_pick_victims_prio():
 * at least 9 in 10 victims must be the low-score even blocks.
 */
static void assert_low_score_leave_first(struct kvp_state *st, kvp_u32 step0,
					 bool prio)
{
	kvp_u32 out[32], pr[32], low = 0, got = 0;

	for (int r = 0; r < 8; r++) {
		int n = prio ? kvp_pick_victims_prio(st, 32, out, pr, step0 + r) :
			       kvp_pick_victims(st, 32, out, step0 + r);

		for (int i = 0; i < n; i++) {
			low += !(out[i] & 1);
			got++;
			kvp_set_cold(st, out[i]);
		}
	}
	cr_assert_eq(got, 256);
	cr_assert_geq(low, got * 9 / 10, "only %u of %u victims low-score", low, got);
}

/* low-score blocks leave before high-score ones of the same age */
Test(policy_core, victim_order_follows_priority)
{
	struct kvp_state *st = mk_odd_heavy();

	assert_low_score_leave_first(st, 200, false);
	free(st);
}

/*
 * A block never read since written ranks as if twice as old (KVP_UNREAD, one
 * octave).  Odd blocks of 0..767: written at 300, read at 400 (age 101 at
 * step 500); even blocks written at @w_even, never read: at 430 (age 71,
 * ranked as 142) they leave first, at 460 (age 41, ranked as 82) the odd
 * ones do.  Blocks 768..1023 went cold and came back by demand (read at
 * 490, the last to leave), so the head's evicted blocks come back often
 * enough that it gets no bias of its own (see the next test).
 */
static void unread_case(kvp_u32 w_even, bool even_first)
{
	struct kvp_geom g = { 1, 1, 1024, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	kvp_u32 out[32], even = 0, got = 0;

	kvp_params_default(&p);
	p.flags = 0;		/* no protections, no phases: DECODE */
	st = mk(&g, &p);
	for (kvp_u32 b = 768; b < 1024; b++) {
		kvp_on_write(st, b, 300);
		kvp_set_cold(st, b);
		kvp_set_resident(st, b, KVP_BY_DEMAND);
		kvp_on_access(st, b, 490);
	}
	for (kvp_u32 b = 1; b < 768; b += 2) {
		kvp_on_write(st, b, 300);
		kvp_on_access(st, b, 400);
	}
	for (kvp_u32 b = 0; b < 768; b += 2)
		kvp_on_write(st, b, w_even);
	for (int r = 0; r < 8; r++) {
		int n = kvp_pick_victims(st, 32, out, 500 + r);

		for (int i = 0; i < n; i++) {
			even += !(out[i] & 1) && out[i] < 768;
			got++;
			kvp_set_cold(st, out[i]);
		}
	}
	cr_assert_eq(got, 256);
	if (even_first)
		cr_assert_geq(even, got * 9 / 10, "%u of %u even", even, got);
	else
		cr_assert_leq(even, got / 10, "%u of %u even", even, got);
	free(st);
}

Test(policy_core, never_read_blocks_age_twice_as_fast)
{
	unread_case(430, true);
	unread_case(460, false);
}

/*
 * A head whose evicted blocks do not come back (a streaming head's blocks
 * that left its window) gives its blocks first: head 0 had 128 blocks
 * evicted and none back (back < left / 16: +2 octaves), head 1 128 evicted
 * and all 128 back by demand (no bias).  Every warm block was last read at
 * step 10, so without the bias the two heads would give alike.
 */
Test(policy_core, heads_whose_blocks_do_not_return_give_first)
{
	struct kvp_geom g = { 1, 2, 1024, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	kvp_u32 out[32], h0 = 0, got = 0;

	kvp_params_default(&p);
	p.flags = 0;		/* no protections, no phases: DECODE */
	st = mk(&g, &p);
	for (kvp_u32 b = 0; b < 2048; b++) {
		kvp_on_write(st, b, 0);
		kvp_on_access(st, b, 10);
	}
	for (kvp_u32 b = 0; b < 128; b++) {
		kvp_set_cold(st, b);		/* head 0: left */
		kvp_set_cold(st, 1024 + b);	/* head 1: left, and back */
		kvp_set_resident(st, 1024 + b, KVP_BY_DEMAND);
		kvp_on_access(st, 1024 + b, 10);
	}
	for (int r = 0; r < 8; r++) {
		int n = kvp_pick_victims(st, 32, out, 200 + r);

		for (int i = 0; i < n; i++) {
			h0 += out[i] < 1024;
			got++;
			kvp_set_cold(st, out[i]);
		}
	}
	cr_assert_eq(got, 256);
	cr_assert_geq(h0, got * 9 / 10, "%u of %u from head 0", h0, got);
	free(st);
}

Test(policy_prefetch, window_clipping)
{
	struct kvp_geom g = { 1, 2, 64, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	kvp_u32 out[16];
	int n;

	kvp_params_default(&p);
	p.flags = KVP_P_PREFETCH;	/* fixed W, decode */
	p.pf_window = 3;
	st = mk(&g, &p);
	for (kvp_u32 b = 0; b < 20; b++)	/* head 0: 20 written blocks */
		kvp_on_write(st, b, 0);
	for (kvp_u32 b = 0; b < 20; b++)
		kvp_set_cold(st, b);
	/* at 0: only 1..3 */
	n = kvp_prefetch_window(st, 0, out, 16);
	cr_assert_eq(n, 3);
	for (int i = 0; i < n; i++)
		cr_assert(out[i] >= 1 && out[i] <= 3);
	/* at the last written block 19: 16..18, never 20+ (unwritten) */
	n = kvp_prefetch_window(st, 19, out, 16);
	cr_assert_eq(n, 3);
	for (int i = 0; i < n; i++)
		cr_assert(out[i] >= 16 && out[i] <= 18);
	/* middle, with resident blocks skipped and no duplicates */
	kvp_set_resident(st, 9, KVP_BY_DEMAND);
	n = kvp_prefetch_window(st, 10, out, 16);
	cr_assert_eq(n, 5);
	for (int i = 0; i < n; i++) {
		cr_assert(out[i] >= 7 && out[i] <= 13 && out[i] != 10 &&
			  out[i] != 9);
		for (int j = 0; j < i; j++)
			cr_assert_neq(out[i], out[j]);
	}
	/* max respected, nearest first */
	n = kvp_prefetch_window(st, 10, out, 2);
	cr_assert_eq(n, 2);
	cr_assert(out[0] == 11 && out[1] == 8);
	/* never crosses into the next head */
	n = kvp_prefetch_window(st, 64, out, 16);
	cr_assert_eq(n, 0);
	/* nothing when W = 0 or prefetch is off */
	p.pf_window = 0;
	kvp_set_params(st, &p);
	cr_assert_eq(kvp_prefetch_window(st, 10, out, 16), 0);
	p.pf_window = 3;
	p.flags = 0;
	kvp_set_params(st, &p);
	cr_assert_eq(kvp_prefetch_window(st, 10, out, 16), 0);
	free(st);
}

/* a head whose prefetches get used grows W; one that wastes them stops */
/*
 * co-use: after a fault at P, only the neighbours used in the step P was
 * last used are fetched (with KVP_P_RAW, the seed's settings: all of them)
 */
Test(policy_prefetch, co_use)
{
	struct kvp_geom g = { 1, 1, 64, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	kvp_u32 out[16];
	int n;

	for (int raw = 0; raw < 2; raw++) {
		kvp_params_default(&p);
		p.flags = KVP_P_PREFETCH | (raw ? KVP_P_RAW : 0);
		p.pf_window = 3;
		st = mk(&g, &p);
		for (kvp_u32 b = 0; b < 20; b++)
			kvp_on_write(st, b, 0);
		/* step 5 reads 10 and 12; then everything leaves */
		kvp_on_access(st, 10, 5);
		kvp_on_access(st, 12, 5);
		for (kvp_u32 b = 0; b < 20; b++)
			kvp_set_cold(st, b);
		/* step 9 faults on 10: 12 was read with it, 7-9, 11, 13 not */
		cr_assert_eq(kvp_on_access(st, 10, 9), 0);
		n = kvp_prefetch_window(st, 10, out, 16);
		if (!raw) {
			cr_assert_eq(n, 1, "n %d", n);
			cr_assert_eq(out[0], 12);
		} else {
			cr_assert_eq(n, 6, "n %d", n);
		}
		/* another block accessed since: no co-use filter for 10 */
		kvp_on_access(st, 3, 9);
		n = kvp_prefetch_window(st, 10, out, 16);
		cr_assert_eq(n, 6, "n %d", n);
		free(st);
	}
}

Test(policy_prefetch, adaptivity)
{
	struct kvp_geom g = { 1, 2, 4096, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	kvp_u32 out[64];

	kvp_params_default(&p);
	p.flags = KVP_P_PREFETCH | KVP_P_PF_ADAPT;
	p.pf_window = 1;
	p.pf_window_max = 6;
	st = mk(&g, &p);
	for (kvp_u32 i = 0; i < 2 * 4096; i++) {
		kvp_on_write(st, i, 0);
		kvp_set_cold(st, i);
	}
	/* head 0 scans sequentially: prefetched neighbours are read next */
	for (kvp_u32 b = 0; b < 4000; b++) {
		int n, r = kvp_on_access(st, b, b);

		if (!(r & KVP_ACC_HIT))
			kvp_set_resident(st, b, KVP_BY_DEMAND);
		n = kvp_prefetch_window(st, b, out, 64);
		for (int i = 0; i < n; i++)
			kvp_set_resident(st, out[i], KVP_BY_PREFETCH);
	}
	cr_assert_eq(kvp_head_window(st, 0, 0), 6, "W %d",
		     kvp_head_window(st, 0, 0));
	/* head 1 jumps randomly: prefetched blocks get evicted unread */
	for (kvp_u32 k = 0; k < 400; k++) {
		kvp_u32 b = 4096 + 8 + rnd(4096 - 16);
		int n, r = kvp_on_access(st, b, k);

		if (!(r & KVP_ACC_HIT))
			kvp_set_resident(st, b, KVP_BY_DEMAND);
		n = kvp_prefetch_window(st, b, out, 64);
		for (int i = 0; i < n; i++)
			kvp_set_resident(st, out[i], KVP_BY_PREFETCH);
		for (int i = 0; i < n; i++)
			kvp_set_cold(st, out[i]);
		kvp_set_cold(st, b);
	}
	cr_assert_eq(kvp_head_window(st, 0, 1), 0, "W %d",
		     kvp_head_window(st, 0, 1));
	free(st);
}

/* one head of 4096 blocks, all written at step 0 and cold; W starts at 1 */
static struct kvp_state *pf_head(void)
{
	struct kvp_geom g = { 1, 1, 4096, 16 };
	struct kvp_params p;
	struct kvp_state *st;

	kvp_params_default(&p);
	p.flags = KVP_P_PREFETCH | KVP_P_PF_ADAPT;
	p.pf_window = 1;
	p.pf_epoch = 16;
	st = mk(&g, &p);
	for (kvp_u32 b = 0; b < 4096; b++) {
		kvp_on_write(st, b, 0);
		kvp_set_cold(st, b);
	}
	return st;
}

/* a demand miss on b at step s, as kvsim and the module do: access, promote,
 * then the window (promoted as prefetches); returns the window's size */
static int pf_fault(struct kvp_state *st, kvp_u32 b, kvp_u32 s)
{
	kvp_u32 out[64];
	int n;

	cr_assert_eq(kvp_on_access(st, b, s) & KVP_ACC_HIT, 0);
	kvp_set_resident(st, b, KVP_BY_DEMAND);
	n = kvp_prefetch_window(st, b, out, 64);
	for (int i = 0; i < n; i++)
		kvp_set_resident(st, out[i], KVP_BY_PREFETCH);
	return n;
}

/*
 * A W = 1 head whose prefetches sit unread stops after pf_epoch of them
 * (no outcome has to arrive: none was evicted); stopped, it comes back only
 * when its shadow window's blocks are missed in time.
 */
Test(policy_prefetch, stops_and_returns_on_evidence)
{
	struct kvp_state *st = pf_head();
	kvp_u32 b;

	/* isolated faults, 2 co-used neighbours each, never read: 8 faults
	 * issue 16; the 9th finds 16 issued, 0 read (< 1/4): W = 0 */
	for (kvp_u32 k = 0; k < 8; k++)
		cr_assert_eq(pf_fault(st, 10 + 4 * k, 1 + k), 2, "fault %u", k);
	cr_assert_eq(kvp_head_window(st, 0, 0), 1);
	cr_assert_eq(pf_fault(st, 100, 9), 0);
	cr_assert_eq(kvp_head_window(st, 0, 0), 0);
	/* no evidence: a fault every 10 steps marks its 2 neighbours; one is
	 * read 5 steps later (too late: its own window marks 1 more), the
	 * other never: 3 marks, 0 in time, for ever */
	for (kvp_u32 k = 0; k < 40; k++) {
		b = 200 + 8 * k;
		cr_assert_eq(pf_fault(st, b, 100 + 10 * k), 0);
		cr_assert_eq(pf_fault(st, b + 1, 105 + 10 * k), 0);
	}
	cr_assert_eq(kvp_head_window(st, 0, 0), 0);
	free(st);
	/* a fresh head, stopped the same way (the shadow counts start at 0) */
	st = pf_head();
	for (kvp_u32 k = 0; k < 9; k++)
		pf_fault(st, 10 + 4 * k, 1 + k);
	cr_assert_eq(kvp_head_window(st, 0, 0), 0);
	/*
	 * evidence: runs of 4 blocks read in one step.  The stopping fault
	 * marked 2 (41, 43).  Fault b marks b-1, b+1; each of b+1..b+3 is
	 * missed (a use) and its window marks the next one: 5 marks, 3 uses
	 * a run.  Run 1: 7 marks, 3 used; run 2: 12, 6; run 3: b -> 14,
	 * b+1 -> use 7 (15 marks), b+2 -> use 8 (16), b+3 -> use 9 with 16
	 * marks, 2 x 9 >= 16: W = 1, and b+3's own window fetches b+4.
	 */
	for (kvp_u32 k = 0; k < 3; k++) {
		b = 1000 + 8 * k;
		cr_assert_eq(pf_fault(st, b, 1000 + k), 0);
		cr_assert_eq(pf_fault(st, b + 1, 1000 + k), 0);
		cr_assert_eq(pf_fault(st, b + 2, 1000 + k), 0);
		cr_assert_eq(kvp_head_window(st, 0, 0), 0, "run %u", k);
		cr_assert_eq(pf_fault(st, b + 3, 1000 + k), k == 2 ? 1 : 0,
			     "run %u", k);
	}
	cr_assert_eq(kvp_head_window(st, 0, 0), 1);
	free(st);
}

static void feed(struct kvp_state *st, int reads, int writes, kvp_u32 *wb)
{
	/* interleave reads and writes at the given ratio */
	for (int i = 0; i < reads + writes; i++) {
		if (writes && (i % ((reads + writes) / writes)) == 0 &&
		    *wb < 65536) {
			kvp_on_write(st, (*wb)++, 0);
		} else {
			kvp_on_access(st, 0, 0);
		}
	}
}

Test(policy_phase, switch_and_hysteresis)
{
	struct kvp_geom g = { 1, 1, 65536, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	struct kvp_stats s;
	kvp_u32 wb = 0, out[2];

	kvp_params_default(&p);
	p.phase_window = 256;
	st = mk(&g, &p);
	cr_assert_eq(kvp_phase(st), KVP_PHASE_PREFILL);
	feed(st, 0, 1000, &wb);			/* prefill: writes only */
	cr_assert_eq(kvp_phase(st), KVP_PHASE_PREFILL);
	feed(st, 6000, 1000, &wb);		/* 6:1 - not enough */
	cr_assert_eq(kvp_phase(st), KVP_PHASE_PREFILL);
	feed(st, 2000, 100, &wb);		/* 20:1 */
	cr_assert_eq(kvp_phase(st), KVP_PHASE_DECODE);
	feed(st, 6000, 1000, &wb);		/* 6:1 inside the band: stay */
	cr_assert_eq(kvp_phase(st), KVP_PHASE_DECODE);
	feed(st, 2000, 1000, &wb);		/* 2:1 - back to prefill */
	cr_assert_eq(kvp_phase(st), KVP_PHASE_PREFILL);
	kvp_get_stats(st, &s);
	cr_assert_eq(s.phase_switches, 2);
	/*
	 * a PREFILL after a DECODE (a session's next turn rereads its
	 * prefix): the window works; W = 1 around 1 names the cold block 2
	 */
	cr_assert_eq(kvp_set_cold(st, 2), 0);
	cr_assert_eq(kvp_prefetch_window(st, 1, out, 2), 1);
	cr_assert_eq(out[0], 2);
	/* jitter around 7:1 must not flap */
	for (int i = 0; i < 20; i++)
		feed(st, i & 1 ? 500 : 900, 100, &wb);
	kvp_get_stats(st, &s);
	cr_assert_eq(s.phase_switches, 2);
	free(st);
}

Test(policy_phase, prefill_streams_in)
{
	struct kvp_geom g = { 1, 1, 256, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	kvp_u32 out[8];

	kvp_params_default(&p);
	st = mk(&g, &p);
	/* prefill writes land WARM; no prefetch in the first prefill */
	for (kvp_u32 b = 0; b < 100; b++)
		cr_assert_eq(kvp_on_write(st, b, b / 32), 0);
	cr_assert_eq(kvp_warm_count(st), 100);
	kvp_set_cold(st, 50);
	cr_assert_eq(kvp_phase(st), KVP_PHASE_PREFILL);
	cr_assert_eq(kvp_prefetch_window(st, 51, out, 8), 0);
	/* the oldest unprotected blocks leave first */
	cr_assert_eq(kvp_pick_victims(st, 1, out, 4), 1);
	cr_assert_lt(out[0], 32);
	cr_assert_geq(out[0], 1);	/* block 0 holds the sinks */
	free(st);
}

/* ---- victims with their priority (cross-space ranking in the module) ---- */

/*
 * One row per block: hints of @score (KVP_P_RAW, score_shift 0: used as is)
 * at step @last, then the priority kvp_pick_victims_prio() must report at
 * now = 5000, tau = 100: (1 - ema) * (1 - exp(-(now - last + 1) / tau)) in
 * DECODE, the decay alone in PREFILL (computed in double, Q16, rounded).
 */
static const struct prio_row {
	kvp_u32 blk, nhints, score, last;
	kvp_u32 decode_q16, prefill_q16;
} prio_rows[] = {
	{ 0, 0, 0,         4000, 65533, 65533 },	/* stale, no score */
	{ 1, 1, KVP_ONE,   4990,  5120,  6827 },	/* ema 0.25, age 11 */
	{ 2, 2, KVP_ONE,   4900, 23437, 41667 },	/* ema 0.4375, age 101 */
	{ 3, 0, 0,         5000,   652,   652 },	/* age counts now: 1 */
	{ 4, 1, KVP_ONE / 2, 4500, 56961, 65099 },	/* ema 0.125 */
	{ 5, 8, KVP_ONE,   4000,  6561, 65533 },	/* heavy hitter, old */
	{ 6, 0, 0,         3000, 65536, 65536 },	/* age >= 16 tau: 1.0 */
	{ 7, 3, KVP_ONE,      0, 27648, 65536 },	/* saturated decay */
};
#define NPRIO (sizeof(prio_rows) / sizeof(prio_rows[0]))

static struct kvp_state *prio_state(kvp_u32 flags)
{
	struct kvp_geom g = { 1, 1, 16, 16 };
	struct kvp_params p;
	struct kvp_state *st;

	kvp_params_default(&p);
	p.flags = flags | KVP_P_RAW;
	p.score_shift = 0;
	p.tau_steps = 100;
	st = mk(&g, &p);
	for (kvp_u32 r = 0; r < NPRIO; r++) {
		const struct prio_row *w = &prio_rows[r];

		cr_assert_eq(kvp_on_write(st, w->blk, w->last), 0);
		for (kvp_u32 k = 0; k < w->nhints; k++)
			cr_assert_eq(kvp_on_hint(st, w->blk, w->score, w->last), 0);
	}
	return st;
}

Test(policy_rank, victim_priority_table)
{
	for (int phase = 0; phase < 2; phase++) {
		/* KVP_P_PHASE starts in PREFILL (8 writes stay far below the
		 * window); without it the state is DECODE for good. */
		struct kvp_state *st = prio_state(phase ? KVP_P_PHASE : 0);
		kvp_u32 out[NPRIO], prio[NPRIO];
		int n;

		cr_assert_eq(kvp_phase(st), phase ? KVP_PHASE_PREFILL :
						    KVP_PHASE_DECODE);
		memset(prio, 0xff, sizeof(prio));
		n = kvp_pick_victims_prio(st, NPRIO, out, prio, 5000);
		cr_assert_eq(n, (int)NPRIO);
		for (int i = 0; i < n; i++) {
			const struct prio_row *w = &prio_rows[out[i]];
			kvp_u32 want = phase ? w->prefill_q16 : w->decode_q16;
			struct kvp_entry_info e;

			cr_assert_lt(out[i], NPRIO);
			cr_assert_leq(prio[i], KVP_ONE);
			cr_assert(prio[i] + 3 >= want && prio[i] <= want + 3,
				  "%s block %u: priority %u, expected %u",
				  phase ? "prefill" : "decode", out[i], prio[i],
				  want);
			kvp_entry_get(st, out[i], &e);
			cr_assert_eq(e.tier, KVP_TIER_EVICTING);
		}
		/* nothing left to pick; the array is not written past n */
		cr_assert_eq(kvp_pick_victims_prio(st, 4, out, prio, 5000), 0);
		free(st);
	}
}

/* Same victims, same state afterwards, with and without the priorities. */
Test(policy_rank, prio_variant_is_pick_victims)
{
	struct kvp_geom g = { 2, 3, 50, 16 };
	kvp_u32 nent = 2 * 3 * 50, a[40], b[40], pr[40];
	kvp_u64 sz = kvp_state_size(&g);
	struct kvp_state *x, *y;
	struct kvp_params p;

	kvp_params_default(&p);
	p.flags = KVP_P_PROTECT | KVP_P_PHASE;
	p.phase_window = 64;
	x = mk(&g, &p);
	y = aligned_alloc(8, (sz + 7) & ~7ull);
	cr_assert_not_null(y);
	for (kvp_u32 step = 1; step < 400; step++) {
		kvp_u32 idx = rnd(nent), want;
		int na, nb;

		if (kvp_on_write(x, idx, step) == 0 && rnd(2))
			kvp_on_hint(x, idx, rnd(KVP_ONE), step);
		kvp_on_access(x, rnd(nent), step);
		if (step % 7)
			continue;
		memcpy(y, x, sz);	/* relocatable: no pointers inside */
		want = 1 + rnd(40);
		na = kvp_pick_victims(x, want, a, step);
		nb = kvp_pick_victims_prio(y, want, b, pr, step);
		cr_assert_eq(na, nb, "step %u: %d vs %d victims", step, na, nb);
		cr_assert_eq(memcmp(a, b, (size_t)na * sizeof(a[0])), 0);
		cr_assert_eq(memcmp(x, y, sz), 0, "states differ at step %u", step);
		for (int i = 0; i < na; i++) {
			/* half go cold, half are handed back */
			if (i & 1) {
				kvp_set_resident(x, a[i], KVP_BY_ABORT);
				kvp_set_resident(y, b[i], KVP_BY_ABORT);
			} else {
				kvp_set_cold(x, a[i]);
				kvp_set_cold(y, b[i]);
			}
		}
	}
	free(x);
	free(y);
}

/*
 * What the module's demotion worker (driver/reclaim.c) does with several
 * spaces: ask each state for up to @need victims with their priorities (each
 * at its own clock), take the @need highest of all in kvp_cand_cmp()'s
 * order (the worker's own), hand the others back.
 */
static int rank_cmp(const void *a, const void *b)
{
	return kvp_cand_cmp(a, b);
}

static kvp_u32 rank_round(struct kvp_state **st, const kvp_u32 *now, int nst,
			  kvp_u32 need, kvp_u32 *lost)
{
	static struct kvp_cand c[4 * 64];
	kvp_u32 blk[64], pr[64], nc = 0, take;

	cr_assert_leq(nst, 4);
	if (need > 64)
		need = 64;
	for (int s = 0; s < nst; s++) {
		int n = kvp_pick_victims_prio(st[s], need, blk, pr, now[s]);

		cr_assert_geq(n, 0);
		for (int i = 0; i < n; i++)
			c[nc++] = (struct kvp_cand){ .prio = pr[i], .blk = blk[i],
						     .given = lost[s], .rank = i,
						     .ord = s };
	}
	qsort(c, nc, sizeof(c[0]), rank_cmp);
	take = nc < need ? nc : need;
	for (kvp_u32 i = 0; i < nc; i++) {
		struct kvp_entry_info e;

		if (i < take) {
			cr_assert_eq(kvp_set_cold(st[c[i].ord], c[i].blk), 0);
			lost[c[i].ord]++;
		} else {
			cr_assert_eq(kvp_set_resident(st[c[i].ord], c[i].blk,
						      KVP_BY_ABORT), 0);
			kvp_entry_get(st[c[i].ord], c[i].blk, &e);
			cr_assert_eq(e.tier, KVP_TIER_WARM);
		}
	}
	return take;
}

/*
 * Two states (two spaces) with different clocks share one budget: the one
 * whose blocks have the higher priority loses, whatever its clock; equal
 * priorities lose alike (rounds of 15: the odd one goes to the state that
 * has lost less).  Shares are A's part of all blocks lost (96 of 256 warm
 * blocks, each state has 123 eligible).  An even split per state, the
 * worker's old round robin, makes every share 0.5.
 */
static const struct rank_row {
	const char *name;
	kvp_u32 score[2];	/* hint per block, 8 times; 0 = never hinted */
	kvp_u32 age[2];		/* steps since the blocks were written/hinted */
	kvp_u32 share_lo, share_hi;	/* A's share of the losses, percent */
} rank_rows[] = {
	{ "A hot recent, B stale",   { KVP_ONE / 4, 0 }, { 2, 1000 },  0,   5 },
	{ "A stale, B hot recent",   { 0, KVP_ONE / 4 }, { 1000, 2 }, 95, 100 },
	{ "both stale, no scores",   { 0, 0 },           { 1000, 1000 }, 48, 51 },
	{ "A scored but old, B new", { KVP_ONE / 4, 0 }, { 1000, 5 },  95, 100 },
};

Test(policy_rank, ranking_across_states)
{
	struct kvp_geom g = { 1, 1, 128, 16 };
	const kvp_u32 now[2] = { 10000, 1200 };	/* unrelated clocks */
	struct kvp_params p;

	kvp_params_default(&p);
	p.flags = KVP_P_PROTECT;	/* decode; sinks + recent window kept */
	p.tau_steps = 32;
	for (size_t r = 0; r < sizeof(rank_rows) / sizeof(rank_rows[0]); r++) {
		const struct rank_row *w = &rank_rows[r];
		struct kvp_state *st[2];
		kvp_u32 lost[2] = { 0, 0 }, share;

		for (int s = 0; s < 2; s++) {
			kvp_u32 t = now[s] - w->age[s];

			st[s] = mk(&g, &p);
			for (kvp_u32 b = 0; b < 128; b++) {
				kvp_on_write(st[s], b, t);
				for (int k = 0; k < 8 && w->score[s]; k++)
					kvp_on_hint(st[s], b, w->score[s], t);
			}
		}
		while (kvp_warm_count(st[0]) + kvp_warm_count(st[1]) > 160) {
			kvp_u32 need = (kvp_u32)(kvp_warm_count(st[0]) +
						 kvp_warm_count(st[1]) - 160);

			/* rounds of at most 15, as the worker's are small */
			cr_assert_gt(rank_round(st, now, 2, need > 15 ? 15 : need,
						lost), 0, "%s", w->name);
		}
		cr_assert_eq(lost[0] + lost[1], 96);
		share = lost[0] * 100 / 96;
		cr_assert(share >= w->share_lo && share <= w->share_hi,
			  "%s: A lost %u, B lost %u (A's share %u%%, want %u..%u)",
			  w->name, lost[0], lost[1], share, w->share_lo,
			  w->share_hi);
		free(st[0]);
		free(st[1]);
	}
}

/*
 * A state asked for candidates round after round that are all handed back
 * (a hot space next to a stale one) still gives its low-score blocks first
 * once it must give real victims.
 */
Test(policy_rank, declined_candidates_keep_order)
{
	struct kvp_state *st = mk_odd_heavy();
	kvp_u32 out[64], pr[64];

	for (int r = 0; r < 200; r++) {
		int n = kvp_pick_victims_prio(st, 16 + r % 48, out, pr, 200);

		cr_assert_gt(n, 0);
		for (int i = 0; i < n; i++)
			cr_assert_eq(kvp_set_resident(st, out[i], KVP_BY_ABORT), 0);
	}
	cr_assert_eq(kvp_warm_count(st), 4 * 256);
	assert_low_score_leave_first(st, 201, true);
	free(st);
}

/*
 * kvp_layer_plan(): per head, the cold blocks used at or after @since and
 * the cold blocks within W of them, ascending, each once; nothing of other
 * layers; @max respected and the rest counted in @more.
 */
Test(policy_prefetch, layer_plan)
{
	struct kvp_geom g = { 2, 2, 32, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	kvp_u32 out[64], more = 99;
	int n;

	kvp_params_default(&p);
	p.flags = KVP_P_PREFETCH | KVP_P_RAW;	/* fixed W, no co-use rule */
	p.pf_window = 2;
	st = mk(&g, &p);
	/* every head of both layers: 20 blocks written at step 1, all cold */
	for (kvp_u32 q = 0; q < 4; q++)
		for (kvp_u32 b = 0; b < 20; b++) {
			kvp_on_write(st, q * 32 + b, 1);
			kvp_set_cold(st, q * 32 + b);
		}
	/* nothing used at or after step 5 yet */
	cr_assert_eq(kvp_layer_plan(st, 1, 5, out, 64, &more), 0);
	cr_assert_eq(more, 0);
	/* layer 1 head 0 (queue 2): blocks 5 and 7 read at step 5; 6 warm */
	kvp_on_access(st, 2 * 32 + 5, 5);
	kvp_on_access(st, 2 * 32 + 7, 5);
	kvp_set_resident(st, 2 * 32 + 6, KVP_BY_DEMAND);
	/* layer 1 head 1 (queue 3): block 19 (the last written) at step 6 */
	kvp_on_access(st, 3 * 32 + 19, 6);
	/* layer 0: used at step 5 too, must not appear in layer 1's plan */
	kvp_on_access(st, 0 * 32 + 3, 5);
	n = kvp_layer_plan(st, 1, 5, out, 64, &more);
	/* head 0: 3,4,5,7,8,9 (6 is warm); head 1: 17,18,19 (20+ unwritten) */
	kvp_u32 want[] = { 67, 68, 69, 71, 72, 73, 113, 114, 115 };
	cr_assert_eq(n, 9, "n %d", n);
	cr_assert_eq(more, 0);
	for (int i = 0; i < n; i++)
		cr_assert_eq(out[i], want[i], "out[%d] %u", i, out[i]);
	/* since = 6: only head 1's block 19 and its window */
	n = kvp_layer_plan(st, 1, 6, out, 64, &more);
	cr_assert_eq(n, 3);
	cr_assert_eq(out[0], 113);
	/* max: the first 4, 5 more counted */
	n = kvp_layer_plan(st, 1, 5, out, 4, &more);
	cr_assert_eq(n, 4);
	cr_assert_eq(more, 5);
	cr_assert_eq(out[3], 71);
	/* without prefetch, or with the co-use rule: the hot set alone */
	p.flags = 0;
	kvp_set_params(st, &p);
	n = kvp_layer_plan(st, 1, 5, out, 64, &more);
	cr_assert_eq(n, 3);
	cr_assert(out[0] == 69 && out[1] == 71 && out[2] == 115);
	p.flags = KVP_P_DEFAULT;
	kvp_set_params(st, &p);
	n = kvp_layer_plan(st, 1, 5, out, 64, &more);
	cr_assert_eq(n, 3);
	cr_assert(out[0] == 69 && out[1] == 71 && out[2] == 115);
	cr_assert_eq(kvp_layer_plan(st, 2, 5, out, 64, &more), -KVP_EINVAL);
	free(st);
}
