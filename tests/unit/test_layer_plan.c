// SPDX-License-Identifier: GPL-2.0
/*
 * test_layer_plan.c - kvp_layer_plan(), the layer pipeline's plan: a head's
 * hot set is what was read (ACCESS, a fault, a hint) at or after @since,
 * not what was only written or prefetched.  Hand-made steps, each worked
 * out below.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "kvpolicy.h"

/* one layer, two heads of 16 blocks: block b of head h is 16 h + b */
static const struct kvp_geom g = { 1, 2, 16, 16 };

static struct kvp_state *mk_plan_state(kvp_u32 flags)
{
	kvp_u64 sz = kvp_state_size(&g);
	struct kvp_params p;
	struct kvp_state *st;

	kvp_params_default(&p);
	p.flags = flags;
	cr_assert_gt(sz, 0);
	st = aligned_alloc(8, (sz + 7) & ~7ull);
	cr_assert_not_null(st);
	memset(st, 0xa5, sz);
	cr_assert_eq(kvp_init(st, sz, &g, &p), 0);
	return st;
}

/* a demand read at @step: the fault's kvp_on_access() and its promotion */
static void rd(struct kvp_state *st, kvp_u32 idx, kvp_u32 step)
{
	cr_assert_geq(kvp_on_access(st, idx, step), 0);
	cr_assert_eq(kvp_set_resident(st, idx, KVP_BY_DEMAND), 0);
}

static void want_plan(struct kvp_state *st, kvp_u32 since,
		      const kvp_u32 *want, int nwant)
{
	kvp_u32 out[32], more = 99;
	int n = kvp_layer_plan(st, 0, since, out, 32, &more);

	cr_assert_eq(n, nwant, "since %u: %d blocks, want %d", since, n, nwant);
	cr_assert_eq(more, 0);
	for (int i = 0; i < n; i++)
		cr_assert_eq(out[i], want[i], "since %u: out[%d] %u, want %u",
			     since, i, out[i], want[i]);
}

/*
 * The prefill writes blocks 0..9 of both heads at step 0 (no step was
 * reported yet: the module's step is 0) and the tier keeps only block 9,
 * the newest.  The first decode step's LAYER_BEGIN plans with since = 0:
 * every prefill block has last == 0, but none was read, so the plan is
 * empty (the old rule, "used at or after since", named all 18 cold
 * blocks: the whole prompt).
 *
 * Step 1, in the order a decode step does it:
 *   - the new token goes into block 9 of both heads (a write at step 1);
 *   - head 0 reads blocks 0, 4 and 9 (faults at step 1) and block 8, which
 *     then also takes a write at step 1 (read and written in one step:
 *     still read);
 *   - head 1's block 6 gets a hint at step 1 (a hint is a read), while
 *     block 2 is promoted by a prefetch that nothing reads, block 7 was
 *     read at step 0 and written at step 1 (its read is older than since)
 *     and block 9 is only written;
 *   - then the tier is full: 4, 8, 2, 7 and head 1's 9 are demoted.
 * The plan for step 2 (since = 1), cold blocks read in step 1: head 0's
 * 4 and 8, head 1's 6 (16 + 6 = 22).  Not head 1's 2 (only prefetched),
 * 7 (read before since, written since) or 9 (only written): the old rule
 * named 23 and 25 (16 + 7, 16 + 9) too.  Warm blocks
 * (head 0's 0 and 9) need nothing.  With since = 2 nothing was read yet.
 */
Test(layer_plan, reads_not_writes_or_prefetches)
{
	struct kvp_state *st = mk_plan_state(KVP_P_DEFAULT);
	static const kvp_u32 step2[] = { 4, 8, 22 };

	for (kvp_u32 h = 0; h < 2; h++)
		for (kvp_u32 b = 0; b < 10; b++) {
			cr_assert_eq(kvp_on_write(st, 16 * h + b, 0), 0);
			if (b < 9)
				cr_assert_eq(kvp_set_cold(st, 16 * h + b), 0);
		}
	want_plan(st, 0, NULL, 0);

	/* step 1 */
	cr_assert_eq(kvp_on_write(st, 9, 1), 0);
	cr_assert_eq(kvp_on_write(st, 16 + 9, 1), 0);
	rd(st, 0, 1);
	rd(st, 4, 1);
	rd(st, 9, 1);
	rd(st, 8, 1);
	cr_assert_eq(kvp_on_write(st, 8, 1), 0);
	cr_assert_eq(kvp_on_hint(st, 16 + 6, KVP_ONE / 4, 1), 0);
	cr_assert_eq(kvp_set_resident(st, 16 + 2, KVP_BY_PREFETCH), 0);
	rd(st, 16 + 7, 0);
	cr_assert_eq(kvp_on_write(st, 16 + 7, 1), 0);
	cr_assert_eq(kvp_set_cold(st, 4), 0);
	cr_assert_eq(kvp_set_cold(st, 8), 0);
	cr_assert_eq(kvp_set_cold(st, 16 + 2), 0);
	cr_assert_eq(kvp_set_cold(st, 16 + 7), 0);
	cr_assert_eq(kvp_set_cold(st, 16 + 9), 0);

	want_plan(st, 1, step2, 3);
	want_plan(st, 2, NULL, 0);
	/* since = 0 also takes step 1's reads, and nothing more */
	want_plan(st, 0, step2, 3);
	free(st);
}

/*
 * A block read at step s - 1 and evicted is planned for step s; read again
 * (a fault at step s) it is warm and drops out; evicted again after that
 * it is back in the plan of step s + 1.  Freed (absent) and rewritten, it
 * is a new block: not read, not planned.
 */
Test(layer_plan, read_then_evicted_is_planned)
{
	struct kvp_state *st = mk_plan_state(KVP_P_DEFAULT);
	static const kvp_u32 blk3[] = { 3 };

	for (kvp_u32 b = 0; b < 8; b++)
		cr_assert_eq(kvp_on_write(st, b, 0), 0);
	rd(st, 3, 4);
	cr_assert_eq(kvp_set_cold(st, 3), 0);
	want_plan(st, 4, blk3, 1);
	rd(st, 3, 5);
	want_plan(st, 5, NULL, 0);
	cr_assert_eq(kvp_set_cold(st, 3), 0);
	want_plan(st, 5, blk3, 1);
	want_plan(st, 6, NULL, 0);
	cr_assert_eq(kvp_set_absent(st, 3), 0);
	cr_assert_eq(kvp_on_write(st, 3, 5), 0);
	cr_assert_eq(kvp_set_cold(st, 3), 0);
	want_plan(st, 5, NULL, 0);
	free(st);
}
