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
#include <linux/moduleparam.h>
#include <linux/spinlock.h>

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

/*
 * The policy a new space starts from: the module parameter default_policy
 * ("name=value ..." as kvp_params_parse() reads it; sysfs
 * /sys/module/cxl_kv/parameters/default_policy, modprobe options).
 *
 * kv_policy_lock - protects kv_policy_defaults and kv_policy_ready (leaf
 * spinlock: SPACE_CREATE takes it under kv_ctl_lock; the parameter's set()
 * and get() alone, set() for its whole read-modify-write).
 */
static DEFINE_SPINLOCK(kv_policy_lock);
static struct kvp_params kv_policy_defaults;
/* kv_policy_defaults holds kvp_params_default() or a set(); under the lock */
static bool kv_policy_ready;

/* The current defaults; kv_policy_lock held. */
static void kv_policy_read_locked(struct kvp_params *p)
{
	lockdep_assert_held(&kv_policy_lock);
	if (!kv_policy_ready) {
		kvp_params_default(&kv_policy_defaults);
		kv_policy_ready = true;
	}
	*p = kv_policy_defaults;
}

/**
 * kv_policy_defaults_get() - the parameters a new space starts from.
 * @p: out: a complete, valid set.
 *
 * Context: any; takes kv_policy_lock.
 */
void kv_policy_defaults_get(struct kvp_params *p)
{
	spin_lock(&kv_policy_lock);
	kv_policy_read_locked(p);
	spin_unlock(&kv_policy_lock);
}

/*
 * set(): the named knobs over the current defaults, all or none: an unknown
 * name, a bad value or a set kvp_params_validate() refuses is -EINVAL and
 * changes nothing.  @val is bounded by kvp_params_parse().
 */
static int kv_policy_param_set(const char *val, const struct kernel_param *kp)
{
	struct kvp_params p;
	int ret;

	if (!val)
		return -EINVAL;
	spin_lock(&kv_policy_lock);
	kv_policy_read_locked(&p);
	ret = kvp_params_parse(&p, val, NULL);
	if (!ret)
		ret = kvp_params_validate(&p);
	if (!ret)
		kv_policy_defaults = p;
	spin_unlock(&kv_policy_lock);
	return ret ? -EINVAL : 0;
}

/* get(): every knob, "alpha_q16=16384 tau_steps=1000 ... policy_flags=15\n". */
static int kv_policy_param_get(char *buf, const struct kernel_param *kp)
{
	struct kvp_params p;
	int n;

	/* buf is a page; the text with its newline always fits */
	BUILD_BUG_ON(KVP_PARAMS_TEXT_MAX + 1 > PAGE_SIZE);
	kv_policy_defaults_get(&p);
	n = kvp_params_format(&p, buf, KVP_PARAMS_TEXT_MAX);
	if (WARN_ON_ONCE(n < 0))
		return -EINVAL;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

static const struct kernel_param_ops kv_policy_param_ops = {
	.set = kv_policy_param_set,
	.get = kv_policy_param_get,
};

module_param_cb(default_policy, &kv_policy_param_ops, NULL, 0644);
MODULE_PARM_DESC(default_policy,
		 "policy a new space starts from: \"name=value ...\" over the current set (alpha_q16, tau_steps, score_shift, sink_tokens, recent_tokens, pf_window, pf_window_max, pf_epoch, phase_window, phase_enter, phase_exit, scan_limit, policy_flags; UAPI units)");
