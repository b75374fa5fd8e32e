// SPDX-License-Identifier: GPL-2.0
/*
 * kvp_hooks.c - cxl-kv policy core: the hooks (score EMA of hints, demand
 * accesses, writes, tier changes, pins), phase detection and the
 * per-head prefetch adaptivity they drive.
 *
 * See Documentation/policy.rst for the math and the parameters.
 */
#include "kvp_state.h"

/* ---- phase detection ---------------------------------------------------- */

static void kvp_phase_event(struct kvp_state *st, int is_write)
{
	kvp_u32 c = st->ph_cur;
	kvp_u64 r, w;

	if (!(st->p.flags & KVP_P_PHASE))
		return;
	if (is_write)
		st->ph_w[c]++;
	else
		st->ph_r[c]++;
	if (st->ph_r[c] + st->ph_w[c] < st->p.phase_window)
		return;

	/* window = the half just completed + the one before it */
	r = (kvp_u64)st->ph_r[0] + st->ph_r[1];
	w = (kvp_u64)st->ph_w[0] + st->ph_w[1];
	if (st->phase == KVP_PHASE_PREFILL && r >= w * st->p.phase_enter) {
		st->phase = KVP_PHASE_DECODE;
		st->s.phase_switches++;
	} else if (st->phase == KVP_PHASE_DECODE && r < w * st->p.phase_exit) {
		st->phase = KVP_PHASE_PREFILL;
		st->s.phase_switches++;
	}
	c ^= 1;
	st->ph_cur = c;
	st->ph_r[c] = 0;
	st->ph_w[c] = 0;
}

/**
 * kvp_phase() - current phase.
 * @st: state.
 *
 * Reads >= phase_enter x writes over the sliding window switch PREFILL to
 * DECODE; reads < phase_exit x writes switch back.  Evaluated once per half
 * window, so it cannot flap faster than that.
 *
 * Return: KVP_PHASE_PREFILL or KVP_PHASE_DECODE.
 */
int kvp_phase(const struct kvp_state *st)
{
	return (int)st->phase;
}

/* ---- prefetch adaptivity ----------------------------------------------- */

static void kvp_pf_outcome(struct kvp_state *st, kvp_u32 q, int used)
{
	struct kvp_head *h = &kvp_heads(st)[q];
	kvp_u32 tot, w;

	if (used) {
		st->s.pf_used++;
		h->pf_used++;
	} else {
		st->s.pf_wasted++;
		h->pf_wasted++;
	}
	if (!(st->p.flags & KVP_P_PF_ADAPT))
		return;
	tot = (kvp_u32)h->pf_used + h->pf_wasted;
	if (tot < st->p.pf_epoch)
		return;
	/*
	 * >= 1/2 used: double W (0 -> 1); < 3/8 used: halve it (1 -> 0 =
	 * stop); else keep.  Geometric both ways: a window that pays reaches
	 * the maximum in a few epochs, one that does not stops as fast.  A
	 * W = 1 head whose prefetches sit unread stops earlier
	 * (kvp_prefetch_window()); a stopped head comes back only on
	 * evidence, its shadow prefetches (kvp_pf_shadow_used()).
	 */
	if (h->pf_used * 2u >= tot) {
		w = h->w ? 2u * h->w : 1u;
		h->w = (kvp_u8)(w < st->p.pf_window_max ? w :
				st->p.pf_window_max);
	} else if (h->pf_used * 8u < tot * 3u) {
		h->w >>= 1;
	}
	h->pf_used = 0;
	h->pf_wasted = 0;
	h->pf_issued = 0;
	if (!h->w) {
		h->sh_issued = 0;
		h->sh_used = 0;
	}
}

/*
 * A demand miss on a block a stopped head's window named (a shadow
 * prefetch, kvp_prefetch_window() at W = 0) in the step of the head's last
 * shadow window or the next: that prefetch would have been used.  Once the
 * shadow has named at least pf_epoch blocks and at least half of them were
 * read in time, the head prefetches again (W = 1).
 */
static void kvp_pf_shadow_used(struct kvp_state *st, struct kvp_head *h,
			       kvp_u32 step)
{
	if (h->w || !(st->p.flags & KVP_P_PF_ADAPT) ||
	    (kvp_u32)(step - h->sh_step) > 1u)
		return;
	if (h->sh_used < 0xffffu)
		h->sh_used++;
	if (h->sh_issued >= st->p.pf_epoch &&
	    2u * (kvp_u32)h->sh_used >= h->sh_issued) {
		h->w = 1;
		h->pf_used = 0;
		h->pf_wasted = 0;
		h->pf_issued = 0;
		h->sh_issued = 0;
		h->sh_used = 0;
	}
}

/* ---- hooks ------------------------------------------------------------- */

/**
 * kvp_on_hint() - fold an attention score into a block's EMA.
 * @st: state.
 * @idx: global block index.
 * @score_q16: attention mass of the block, Q16 (0..KVP_ONE).
 * @step: current step.
 *
 * ema = alpha * s' + (1 - alpha) * ema, s' = min(1, score << score_shift),
 * or by default (no KVP_P_RAW) s' = min(15/16, score / (2 * head mean)); the first
 * hint starts from ema = 0.  A hint also counts as a use for recency.
 *
 * Return: 0, -KVP_EINVAL for a bad index, -KVP_ERANGE for score > 1.0,
 * -KVP_ENOENT for an ABSENT block.
 */
int kvp_on_hint(struct kvp_state *st, kvp_u32 idx, kvp_u32 score_q16,
		kvp_u32 step)
{
	struct kvp_ent *e;
	kvp_u32 s, ema;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	if (score_q16 > KVP_ONE)
		return -KVP_ERANGE;
	e = &kvp_ents(st)[idx];
	if (kvp_tier_of(e) == KVP_TIER_ABSENT)
		return -KVP_ENOENT;
	if (!(st->p.flags & KVP_P_RAW)) {
		struct kvp_head *h = &kvp_heads(st)[kvp_queue_of(st, idx)];

		/* mean += (s - mean) / 64; the first hint seeds it */
		if (!h->mean)
			h->mean = score_q16 ? score_q16 : 1;
		else if (score_q16 >= h->mean)
			h->mean += (score_q16 - h->mean) >> 6;
		else
			h->mean -= (h->mean - score_q16) >> 6;
		if (!h->mean)
			h->mean = 1;
		/* score / (2 mean) in Q16; score <= 2^16 so << 15 fits */
		s = (score_q16 << (KVP_SHIFT - 1)) / h->mean;
		if (s > KVP_ONE - KVP_ONE / 16)
			s = KVP_ONE - KVP_ONE / 16;
	} else {
		s = score_q16 << st->p.score_shift;
		if (s > KVP_ONE || (score_q16 >> (31 - st->p.score_shift)))
			s = KVP_ONE;
	}
	ema = kvp_ema_q16(e->ema, s, st->p.alpha_q16);
	e->ema = (kvp_u16)(ema > 0xffff ? 0xffff : ema);
	e->fl |= KVP_E_HINTED | KVP_E_READ;
	e->last = step;
	st->s.hints++;
	return 0;
}

/* push @idx on the newcomer stack (the oldest entry falls off when full) */
static void kvp_newcomer(struct kvp_state *st, struct kvp_ent *e, kvp_u32 idx)
{
	e->fl |= KVP_E_PROB;
	st->newc[st->new_top] = idx;
	st->new_top = (st->new_top + 1) % KVP_NEW;
	if (st->new_n < KVP_NEW)
		st->new_n++;
}

/*
 * A demand miss on a COLD block that left recently (within about twice the
 * mean age of the victims, i.e. it would still be warm in a tier about twice
 * the size: ARC's ghost lists, without their memory since every block keeps
 * its entry): move the score weight beta (below), and count it.
 */
static void kvp_ghost(struct kvp_state *st, struct kvp_ent *e, kvp_u32 step)
{
	kvp_u32 age = step - e->last;

	if (age > 2u * st->vage + 1u)
		return;
	/*
	 * Back later than victims usually leave, with a score above its
	 * head's average (ema > 1/2): it left for its age although the score
	 * said keep: weigh the score more.  Otherwise (back sooner: it left
	 * young, for its score; or its score said nothing) weigh it less.
	 */
	if (age > st->vage && e->ema > KVP_ONE / 2) {
		if (st->beta < KVP_BETA_MAX)
			st->beta++;
	} else if (st->beta) {
		st->beta--;
	}
	if (e->fl & KVP_E_PROB)
		st->s.ghost_prob++;
	else
		st->s.ghost_est++;
}

/**
 * kvp_on_access() - a demand read of a block.
 * @st: state.
 * @idx: global block index.
 * @step: current step.
 *
 * Updates recency, the phase detector and, for a prefetched block read for
 * the first time, the head's prefetch accounting.  Does not move anything: on
 * a miss the caller promotes the block and calls kvp_set_resident().
 *
 * Return: KVP_ACC_* bits (0 = miss), or -KVP_EINVAL for a bad index.
 */
int kvp_on_access(struct kvp_state *st, kvp_u32 idx, kvp_u32 step)
{
	struct kvp_ent *e;
	struct kvp_head *h;
	kvp_u32 q;
	int ret = 0;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	e = &kvp_ents(st)[idx];
	q = kvp_queue_of(st, idx);
	h = &kvp_heads(st)[q];
	st->s.accesses++;
	kvp_phase_event(st, 0);
	if (kvp_tier_of(e) == KVP_TIER_COLD && !(st->p.flags & KVP_P_RAW))
		kvp_ghost(st, e, step);
	st->pf_idx = idx;
	st->pf_ref = e->last;
	e->last = step;
	e->fl |= KVP_E_READ;
	if (kvp_tier_of(e) == KVP_TIER_WARM) {
		ret |= KVP_ACC_HIT;
		st->s.hits++;
		e->fl &= (kvp_u8)~KVP_E_PROB;
	}
	if (e->fl & KVP_E_PF) {
		e->fl &= (kvp_u8)~KVP_E_PF;
		kvp_pf_outcome(st, q, 1);
		ret |= KVP_ACC_PF_USED;
		/* its first read: now it is a newcomer like a demand miss */
		if (!(st->p.flags & KVP_P_RAW))
			kvp_newcomer(st, e, idx);
	}
	/*
	 * A marked block is read: a miss (still COLD, or already promoted
	 * by demand: the module promotes before it reports the access).
	 */
	if (e->fl & KVP_E_SHADOW) {
		e->fl &= (kvp_u8)~KVP_E_SHADOW;
		kvp_pf_shadow_used(st, h, step);
	}
	return ret;
}

/**
 * kvp_on_write() - tokens were written into a block (prefill or decode).
 * @st: state.
 * @idx: global block index.
 * @step: current step.
 *
 * An ABSENT block becomes WARM (writes land in CXL memory: prefill streams
 * new blocks in without evicting them first).  Any NVMe copy is now stale.
 *
 * Return: 0, -KVP_EINVAL for a bad index, -KVP_EBUSY if the block is COLD or
 * EVICTING (promote it first).
 */
int kvp_on_write(struct kvp_state *st, kvp_u32 idx, kvp_u32 step)
{
	struct kvp_ent *e;
	struct kvp_head *h;
	kvp_u32 q, blk;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	e = &kvp_ents(st)[idx];
	switch (kvp_tier_of(e)) {
	case KVP_TIER_ABSENT:
		kvp_set_tier(e, KVP_TIER_WARM);
		e->ema = 0;
		e->fl = (kvp_u8)(e->fl & ~(KVP_E_PF | KVP_E_HINTED |
					   KVP_E_SHADOW | KVP_E_READ));
		st->warm++;
		break;
	case KVP_TIER_WARM:
		break;
	default:
		return -KVP_EBUSY;
	}
	q = kvp_queue_of(st, idx);
	blk = idx - q * st->g.blocks_per_head;
	h = &kvp_heads(st)[q];
	if (blk + 1 > h->len)
		h->len = blk + 1;
	e->fl &= (kvp_u8)~KVP_E_COLDCOPY;
	/* a read in this step stays one; an older one is no longer @last's */
	if (e->last != step)
		e->fl = (kvp_u8)(e->fl & ~KVP_E_READ);
	e->last = step;
	st->s.writes++;
	kvp_phase_event(st, 1);
	return 0;
}

/**
 * kvp_set_resident() - the block is now WARM.
 * @st: state.
 * @idx: global block index.
 * @how: enum kvp_how: KVP_BY_DEMAND, KVP_BY_PREFETCH, or KVP_BY_ABORT (an
 *       eviction returned by kvp_pick_victims() was abandoned).
 *
 * Return: 0, -KVP_EINVAL for a bad index or @how, -KVP_ENOENT for an ABSENT
 * block.
 */
int kvp_set_resident(struct kvp_state *st, kvp_u32 idx, kvp_u32 how)
{
	struct kvp_ent *e;

	if (idx >= st->nent || how > KVP_BY_ABORT)
		return -KVP_EINVAL;
	e = &kvp_ents(st)[idx];
	switch (kvp_tier_of(e)) {
	case KVP_TIER_ABSENT:
		return -KVP_ENOENT;
	case KVP_TIER_WARM:
		return 0;
	default:
		break;
	}
	kvp_set_tier(e, KVP_TIER_WARM);
	/* a demand promotion keeps the mark: the access that follows counts */
	if (how != KVP_BY_DEMAND)
		e->fl &= (kvp_u8)~KVP_E_SHADOW;
	st->warm++;
	if (how == KVP_BY_PREFETCH) {
		struct kvp_head *h = &kvp_heads(st)[kvp_queue_of(st, idx)];

		if (h->pf_issued < 0xffffu)
			h->pf_issued++;
		e->fl |= KVP_E_PF;
		e->fl &= (kvp_u8)~KVP_E_PROB;
		st->s.pf_issued++;
	} else if (how == KVP_BY_DEMAND) {
		struct kvp_head *h = &kvp_heads(st)[kvp_queue_of(st, idx)];

		kvp_newcomer(st, e, idx);
		if (h->back < 0xffffu)
			h->back++;
	}
	return 0;
}

/**
 * kvp_set_cold() - the block now lives only on NVMe.
 * @st: state.
 * @idx: global block index.
 *
 * Ends an eviction (EVICTING -> COLD) or records a direct demotion.  A
 * prefetched block that was never read counts as wasted for its head.
 *
 * Return: 0, -KVP_EINVAL for a bad index, -KVP_EBUSY for a pinned block.
 */
int kvp_set_cold(struct kvp_state *st, kvp_u32 idx)
{
	struct kvp_ent *e;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	e = &kvp_ents(st)[idx];
	if (e->pins)
		return -KVP_EBUSY;
	if (kvp_tier_of(e) != KVP_TIER_COLD) {
		struct kvp_head *h = &kvp_heads(st)[kvp_queue_of(st, idx)];

		if (++h->left >= 1024u) {
			h->left >>= 1;
			h->back >>= 1;
		}
	}
	if (kvp_tier_of(e) == KVP_TIER_WARM)
		st->warm--;
	kvp_set_tier(e, KVP_TIER_COLD);
	e->fl |= KVP_E_COLDCOPY;
	if (e->fl & KVP_E_PF) {
		e->fl &= (kvp_u8)~KVP_E_PF;
		kvp_pf_outcome(st, kvp_queue_of(st, idx), 0);
	}
	return 0;
}

/**
 * kvp_set_absent() - forget a block (its sequence was freed).
 * @st: state.
 * @idx: global block index.
 *
 * Return: 0, -KVP_EINVAL for a bad index, -KVP_EBUSY for a pinned block.
 */
int kvp_set_absent(struct kvp_state *st, kvp_u32 idx)
{
	struct kvp_ent *e, *ents = kvp_ents(st);
	struct kvp_head *h;
	kvp_u32 q, base;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	e = &ents[idx];
	if (e->pins)
		return -KVP_EBUSY;
	if (kvp_tier_of(e) == KVP_TIER_WARM)
		st->warm--;
	e->fl = 0;
	e->ema = 0;
	e->last = 0;
	q = kvp_queue_of(st, idx);
	h = &kvp_heads(st)[q];
	base = q * st->g.blocks_per_head;
	while (h->len && kvp_tier_of(&ents[base + h->len - 1]) ==
			 KVP_TIER_ABSENT)
		h->len--;
	return 0;
}

/**
 * kvp_pin() - make a block ineligible as a victim.
 * @st: state.
 * @idx: global block index.
 *
 * Pins nest (up to 255).
 *
 * Return: 0, -KVP_EINVAL for a bad index, -KVP_ENOENT for an ABSENT block,
 * -KVP_EOVERFLOW at 255 pins.
 */
int kvp_pin(struct kvp_state *st, kvp_u32 idx)
{
	struct kvp_ent *e;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	e = &kvp_ents(st)[idx];
	if (kvp_tier_of(e) == KVP_TIER_ABSENT)
		return -KVP_ENOENT;
	if (e->pins == 0xff)
		return -KVP_EOVERFLOW;
	e->pins++;
	return 0;
}

/**
 * kvp_unpin() - drop one pin.
 * @st: state.
 * @idx: global block index.
 *
 * Return: 0, or -KVP_EINVAL for a bad index or an unpinned block.
 */
int kvp_unpin(struct kvp_state *st, kvp_u32 idx)
{
	struct kvp_ent *e;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	e = &kvp_ents(st)[idx];
	if (!e->pins)
		return -KVP_EINVAL;
	e->pins--;
	return 0;
}
