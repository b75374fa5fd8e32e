// SPDX-License-Identifier: GPL-2.0
/*
 * policy_glue.c - keep the policy core's per-block tier in step with the
 * mechanism's per-page states.
 *
 * The policy (driver/policy/kvpolicy.h, used unchanged) tracks a block =
 * one K page + one V page; the mechanism tracks pages.  After any page of a
 * block changes state the mechanism calls kv_pol_sync_block(), which derives
 * the block's tier (any page warm or in transit -> WARM; else any page cold
 * -> COLD; else ABSENT) and drives the policy there with its own
 * transitions.  This also settles blocks kvp_pick_victims() left EVICTING:
 * demoted -> kvp_set_cold(), kept (touched, pinned, failed) ->
 * kvp_set_resident(KVP_BY_ABORT).
 */
#include "kv.h"

static int kv_page_tier(const struct kv_entry *e)
{
	switch (e->state) {
	case KV_WARM:
	case KV_WB:
	case KV_RD:
		return KVP_TIER_WARM;
	case KV_COLD:
		return KVP_TIER_COLD;
	default:
		return KVP_TIER_ABSENT;
	}
}

/**
 * kv_pol_sync_block() - tell the policy where block @blk lives now.
 * @sp: space.
 * @blk: policy block index.
 * @how: enum kvp_how for a block that became resident.
 *
 * Context: kv_space.lock held.
 */
void kv_pol_sync_block(struct kv_space *sp, u32 blk, int how)
{
	int k = kv_page_tier(&sp->ent[kv_block_pg(sp, blk, 0)]);
	int v = kv_page_tier(&sp->ent[kv_block_pg(sp, blk, 1)]);
	struct kvp_entry_info info;
	int want, ret = 0;

	lockdep_assert_held(&sp->lock);
	if (k == KVP_TIER_WARM || v == KVP_TIER_WARM)
		want = KVP_TIER_WARM;
	else if (k == KVP_TIER_COLD || v == KVP_TIER_COLD)
		want = KVP_TIER_COLD;
	else
		want = KVP_TIER_ABSENT;

	if (kvp_entry_get(sp->pol, blk, &info))
		return;
	if (info.tier == (u32)want)
		return;
	switch (want) {
	case KVP_TIER_WARM:
		if (info.tier == KVP_TIER_ABSENT)
			ret = kvp_on_write(sp->pol, blk, sp->step);
		else
			ret = kvp_set_resident(sp->pol, blk,
					       info.tier == KVP_TIER_EVICTING ?
					       KVP_BY_ABORT : how);
		break;
	case KVP_TIER_COLD:
		ret = kvp_set_cold(sp->pol, blk);
		break;
	default:
		ret = kvp_set_absent(sp->pol, blk);
		break;
	}
	/* -EBUSY: a pinned block demoted by force; the policy keeps it warm. */
	if (ret && ret != -KVP_EBUSY)
		pr_debug("cxl_kv: space %llu block %u: policy refused %u -> %d: %d\n",
			 sp->id, blk, info.tier, want, ret);
}
