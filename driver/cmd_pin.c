// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_pin.c - the space commands that hold blocks and tune the policy:
 * PIN/UNPIN, PARAMS_GET and PARAMS_SET.
 */
#include <linux/bitmap.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "kv.h"
#include "cmd.h"

/*
 * Undo the pins this PIN call took: the first @nbits bits of @taken, one
 * per block of the ranges in order.
 */
static void kv_pin_rollback(struct kv_space *sp, const struct cxl_kv_range *rg,
			    u32 nr, const unsigned long *taken, u64 nbits)
{
	u64 bit = 0;
	u32 i, b, since = 0;

	mutex_lock(&sp->lock);
	for (i = 0; i < nr && bit < nbits; i++) {
		for (b = 0; b < rg[i].nr_blocks && bit < nbits; b++, bit++) {
			if (++since == KV_LOCK_BREAK) {
				/* Not killable: the pins must go. */
				since = 0;
				mutex_unlock(&sp->lock);
				cond_resched();
				mutex_lock(&sp->lock);
			}
			if (test_bit(bit, taken))
				kvp_unpin(sp->pol,
					  kv_blk(sp, rg[i].layer, rg[i].head,
						 rg[i].first_block + b));
		}
	}
	mutex_unlock(&sp->lock);
}

/*
 * Pin or unpin blocks [@first, @first + @n) of range @rg under the lock.
 * @bit: index in @taken of the first block (PIN only; NULL for UNPIN).
 * Returns 0 or -EOVERFLOW (a block has the most pins already; the blocks
 * before it were pinned).
 */
static int kv_pin_blocks(struct kv_space *sp, const struct cxl_kv_range *rg,
			 u32 first, u32 n, unsigned long *taken, u64 bit,
			 u64 *done)
{
	int ret = 0;
	u32 b;

	mutex_lock(&sp->lock);
	for (b = first; b < first + n; b++, bit++) {
		u32 blk = kv_blk(sp, rg->layer, rg->head, rg->first_block + b);
		int err = taken ? kvp_pin(sp->pol, blk) : kvp_unpin(sp->pol, blk);

		if (!err) {
			(*done)++;
			if (taken) {
				__set_bit(bit, taken);
				sp->pins++;
			}
		} else if (err == -KVP_EOVERFLOW) {
			ret = -EOVERFLOW;
			break;
		}
	}
	mutex_unlock(&sp->lock);
	return ret;
}

/**
 * kv_cmd_pin() - PIN / UNPIN block ranges.
 * @sp: space.
 * @r: request; @r->done = blocks whose pin count changed.
 * @pin: true to pin (and promote), false to unpin.
 *
 * Never-written blocks cannot be pinned and are skipped; unpinning an
 * unpinned block is skipped.  PIN is all or nothing: when a block already
 * has the most pins, a promotion fails or the caller is killed, every pin
 * this call took is dropped again before the error is returned.  The
 * blocks go a chunk (KV_LOCK_BREAK) at a time: pinned, then promoted.
 *
 * Return: 0, -EOVERFLOW (a block already has the most pins), -E2BIG, -EINTR,
 * or -errno.
 */
int kv_cmd_pin(struct kv_space *sp, struct cxl_kv_ranges *r, bool pin)
{
	u64 blocks, bit = 0;
	struct cxl_kv_range *rg = kv_ranges_get(sp, r, false, &blocks);
	unsigned long *taken = NULL;
	u64 *pgs = NULL;
	u32 i, off, c;
	int ret = 0;

	/* One command may name every block of the largest space. */
	BUILD_BUG_ON(CXL_KV_MAX_CMD_BLOCKS != CXL_KV_MAX_SPACE_PAGES / 2);
	r->done = 0;
	if (IS_ERR(rg))
		return PTR_ERR(rg);
	if (pin) {
		/* blocks <= CXL_KV_MAX_CMD_BLOCKS: at most 1 MiB */
		taken = kvcalloc(BITS_TO_LONGS(blocks), sizeof(long),
				 GFP_KERNEL_ACCOUNT);
		pgs = kmalloc_array(KV_MOVE_CHUNK, sizeof(*pgs), GFP_KERNEL_ACCOUNT);
		if (!taken || !pgs) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	for (i = 0; i < r->count && !ret; i++) {
		/*
		 * A child's shared blocks are skipped: a reader's pins would
		 * keep the parent's pages warm for as long as the parent
		 * lives, past the reader's own close.
		 */
		off = kv_range_shared(sp, &rg[i]);
		bit += off;
		for (; off < rg[i].nr_blocks; off += c, bit += c) {
			c = min_t(u32, KV_LOCK_BREAK, rg[i].nr_blocks - off);
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			ret = kv_pin_blocks(sp, &rg[i], off, c, taken, bit,
					    &r->done);
			/* the chunk's bits count for the rollback even so */
			if (!ret && pin)
				ret = kv_promote_blocks(sp, &rg[i], off, c, pgs,
							NULL);
			if (ret) {
				bit += c;
				break;
			}
			cond_resched();
		}
	}
	if (pin && ret) {
		kv_pin_rollback(sp, rg, r->count, taken, bit);
		r->done = 0;
	}
out_free:
	kfree(pgs);
	kvfree(taken);
	kvfree(rg);
	return ret;
}

/**
 * kv_cmd_params_get() - PARAMS_GET.
 * @sp: space.
 * @p: out.
 *
 * Return: 0 or -EINVAL (non-zero reserved input).
 */
int kv_cmd_params_get(struct kv_space *sp, struct cxl_kv_params *p)
{
	struct kvp_params k;

	if (p->pad || !kv_zero(p->reserved))
		return -EINVAL;
	mutex_lock(&sp->lock);
	kvp_get_params(sp->pol, &k);
	mutex_unlock(&sp->lock);
	p->mask = CXL_KV_PARAM_ALL;
	p->alpha_q16 = k.alpha_q16;
	p->tau_steps = k.tau_steps;
	p->score_shift = k.score_shift;
	p->sink_tokens = k.sink_tokens;
	p->recent_tokens = k.recent_tokens;
	p->pf_window = k.pf_window;
	p->pf_window_max = k.pf_window_max;
	p->pf_epoch = k.pf_epoch;
	p->phase_window = k.phase_window;
	p->phase_enter = k.phase_enter;
	p->phase_exit = k.phase_exit;
	p->scan_limit = k.scan_limit;
	p->policy_flags = k.flags;
	return 0;
}

/**
 * kv_cmd_params_set() - PARAMS_SET: change the selected knobs, all or none.
 * @sp: space.
 * @p: in.
 *
 * Return: 0 or -EINVAL.
 */
int kv_cmd_params_set(struct kv_space *sp, struct cxl_kv_params *p)
{
	struct kvp_params k;
	int ret;

	if (!p->mask || p->mask & ~CXL_KV_PARAM_ALL || p->pad ||
	    !kv_zero(p->reserved))
		return -EINVAL;
	if (p->mask & CXL_KV_PARAM_POLICY_FLAGS &&
	    p->policy_flags & ~CXL_KV_POLICY_F_MASK)
		return -EINVAL;
	BUILD_BUG_ON(CXL_KV_POLICY_F_PROTECT != KVP_P_PROTECT ||
		     CXL_KV_POLICY_F_PREFETCH != KVP_P_PREFETCH ||
		     CXL_KV_POLICY_F_PF_ADAPT != KVP_P_PF_ADAPT ||
		     CXL_KV_POLICY_F_PHASE != KVP_P_PHASE ||
		     CXL_KV_POLICY_F_RAW != KVP_P_RAW ||
		     CXL_KV_POLICY_F_MASK != KVP_P_ALL);
	/* The limits the header documents are the policy core's. */
	BUILD_BUG_ON(CXL_KV_PARAM_MAX_ALPHA_Q16 != KVP_ONE ||
		     CXL_KV_PARAM_MAX_PF_WINDOW != KVP_PF_WINDOW_MAX ||
		     CXL_KV_HINT_SCORE_MAX != KVP_ONE);
	mutex_lock(&sp->lock);
	kvp_get_params(sp->pol, &k);
#define KV_SET(bit, f, kf) do { if (p->mask & (bit)) k.kf = p->f; } while (0)
	KV_SET(CXL_KV_PARAM_ALPHA, alpha_q16, alpha_q16);
	KV_SET(CXL_KV_PARAM_TAU, tau_steps, tau_steps);
	KV_SET(CXL_KV_PARAM_SCORE_SHIFT, score_shift, score_shift);
	KV_SET(CXL_KV_PARAM_SINK_TOKENS, sink_tokens, sink_tokens);
	KV_SET(CXL_KV_PARAM_RECENT_TOKENS, recent_tokens, recent_tokens);
	KV_SET(CXL_KV_PARAM_PF_WINDOW, pf_window, pf_window);
	KV_SET(CXL_KV_PARAM_PF_WINDOW_MAX, pf_window_max, pf_window_max);
	KV_SET(CXL_KV_PARAM_PF_EPOCH, pf_epoch, pf_epoch);
	KV_SET(CXL_KV_PARAM_PHASE_WINDOW, phase_window, phase_window);
	KV_SET(CXL_KV_PARAM_PHASE_ENTER, phase_enter, phase_enter);
	KV_SET(CXL_KV_PARAM_PHASE_EXIT, phase_exit, phase_exit);
	KV_SET(CXL_KV_PARAM_SCAN_LIMIT, scan_limit, scan_limit);
	KV_SET(CXL_KV_PARAM_POLICY_FLAGS, policy_flags, flags);
#undef KV_SET
	ret = kvp_params_validate(&k);
	if (!ret)
		ret = kvp_set_params(sp->pol, &k);
	mutex_unlock(&sp->lock);
	return ret ? -EINVAL : 0;
}
