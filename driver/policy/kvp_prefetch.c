// SPDX-License-Identifier: GPL-2.0
/*
 * kvp_prefetch.c - cxl-kv policy core: prefetch windows and the layer
 * pipeline's plan.
 *
 * See Documentation/policy.rst for the math and the parameters.
 */
#include "kvp_state.h"

/* ---- prefetch ---------------------------------------------------------- */

static inline int kvp_pf_cand(const struct kvp_ent *e, kvp_u32 co,
			      kvp_u32 ref)
{
	return kvp_tier_of(e) == KVP_TIER_COLD && (!co || e->last == ref);
}

/*
 * A stopped head (W = 0) faulted on @idx: mark what a W = 1 co-use window
 * would have fetched (KVP_E_SHADOW) without fetching it.  A demand miss
 * on a marked block in the step of the head's last shadow window or the
 * next is a shadow prefetch used (kvp_on_access()), the evidence a stopped
 * head needs to prefetch again (a later read does not count: a real
 * prefetch would likely have left unread by then).  The counts halve when
 * 2 x pf_epoch marks accumulate, so they follow the recent behaviour.
 */
static void kvp_pf_shadow(struct kvp_state *st, struct kvp_head *h,
			  kvp_u32 idx, kvp_u32 blk, kvp_u32 now)
{
	struct kvp_ent *ents = kvp_ents(st);
	kvp_u32 c[2], k, n = 0;

	if (blk >= 1)
		c[n++] = idx - 1;
	if (blk + 1 < h->len)
		c[n++] = idx + 1;
	for (k = 0; k < n; k++) {
		struct kvp_ent *e = &ents[c[k]];

		if (!kvp_pf_cand(e, 1, st->pf_ref) || (e->fl & KVP_E_SHADOW))
			continue;
		e->fl |= KVP_E_SHADOW;
		h->sh_issued++;
		h->sh_step = now;
	}
	if (h->sh_issued >= 2u * st->p.pf_epoch) {
		h->sh_issued >>= 1;
		h->sh_used >>= 1;
	}
}

/**
 * kvp_prefetch_window() - blocks to promote after an access.
 * @st: state.
 * @idx: the block just accessed (position P of its head).
 * @out: filled with global block indexes.
 * @max: capacity of @out.
 *
 * Returns the COLD blocks of the same head in [P - W, P + W], clipped to
 * block 0 and to the last written block, each once, P itself excluded (the
 * demand fetch covers it), nearest first.  Without KVP_P_RAW, when @idx is
 * the block of the last kvp_on_access() (a fault), only the neighbours whose
 * last use was in the step of P's previous use are returned (co-use: what
 * was read with P last time is read with it again; a neighbour the head
 * skipped then is not fetched).  W is the head's adaptive window
 * (KVP_P_PF_ADAPT) or pf_window.  Nothing without KVP_P_PREFETCH, nor in
 * the first PREFILL phase; in a later one (after a DECODE phase: a
 * session's next turn rereads its prefix, a scan) as in DECODE.  A
 * stopped head (adaptive W = 0) returns nothing but marks, after a fault,
 * what W = 1 would have fetched (shadow prefetches): the evidence that
 * brings it back.  The caller promotes them and calls
 * kvp_set_resident(KVP_BY_PREFETCH); their first read counts as used, their
 * eviction unread as wasted, which drives W.
 *
 * Return: number of entries written to @out, or -KVP_EINVAL for a bad index.
 */
int kvp_prefetch_window(struct kvp_state *st, kvp_u32 idx, kvp_u32 *out,
			kvp_u32 max)
{
	struct kvp_ent *ents = kvp_ents(st);
	struct kvp_head *h;
	kvp_u32 q, base, blk, w, d, co, n = 0;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	if (!(st->p.flags & KVP_P_PREFETCH))
		return 0;
	q = kvp_queue_of(st, idx);
	h = &kvp_heads(st)[q];
	base = q * st->g.blocks_per_head;
	blk = idx - base;
	w = (st->p.flags & KVP_P_PF_ADAPT) ? h->w : st->p.pf_window;
	/*
	 * PREFILL: nothing in the first one (a sequence's prompt: nothing
	 * cold to read yet, and its reads are new); in a later one, after a
	 * DECODE phase (serving: a session's next turn rereads its prefix,
	 * a scan) the window works as in DECODE.
	 */
	if (st->phase != KVP_PHASE_DECODE && st->s.phase_switches < 2)
		return 0;
	/* co-use: only neighbours last used in the step P was last used */
	co = !(st->p.flags & KVP_P_RAW) && st->pf_idx == idx;
	/*
	 * 2 x pf_epoch issued in this epoch and under 1/4 of them read: the
	 * head's prefetches sit unread (and so report no outcome); stop now.
	 */
	if (w == 1 && co && (st->p.flags & KVP_P_PF_ADAPT) &&
	    h->pf_issued >= st->p.pf_epoch &&
	    4u * (kvp_u32)h->pf_used < h->pf_issued) {
		h->w = 0;
		w = 0;
		h->pf_used = 0;
		h->pf_wasted = 0;
		h->pf_issued = 0;
		h->sh_issued = 0;
		h->sh_used = 0;
	}
	if (!w && co && (st->p.flags & KVP_P_PF_ADAPT)) {
		kvp_pf_shadow(st, h, idx, blk, ents[idx].last);
		return 0;
	}
	for (d = 1; d <= w && n < max; d++) {
		if (blk >= d && kvp_pf_cand(&ents[idx - d], co, st->pf_ref))
			out[n++] = idx - d;
		if (n < max && blk + d < h->len &&
		    kvp_pf_cand(&ents[idx + d], co, st->pf_ref))
			out[n++] = idx + d;
	}
	return (int)n;
}

/**
 * kvp_head_window() - current prefetch half-window of a head.
 * @st: state.
 * @layer: layer.
 * @head: KV head.
 *
 * Return: W in blocks, or -KVP_EINVAL for a bad layer/head.
 */
int kvp_head_window(const struct kvp_state *st, kvp_u32 layer, kvp_u32 head)
{
	if (layer >= st->g.layers || head >= st->g.kv_heads)
		return -KVP_EINVAL;
	if (!(st->p.flags & KVP_P_PF_ADAPT))
		return (int)st->p.pf_window;
	return kvp_heads(st)[layer * st->g.kv_heads + head].w;
}

/**
 * kvp_layer_plan() - the cold blocks of a layer its next reads should touch.
 * @st: state.
 * @layer: layer.
 * @since: step: blocks read or hinted at or after it are the head's hot
 *	set (the layer pipeline passes the step before the one being
 *	computed).  A block whose last use was a write (the prefill, the
 *	newest token) or that was only prefetched is not hot: at the first
 *	decode step every block the prefill wrote had @last == @since, and
 *	the plan named the whole prompt (cxl-kv-bench decode at 4x: 216
 *	cold blocks of layer 5 at step 1, all last written by the prefill).
 * @out: block indices, ascending.
 * @max: room in @out.
 * @more: out: blocks the plan has beyond @max (not written); may be NULL.
 *
 * Per head of @layer: the hot set and, with KVP_P_RAW, around each of its
 * blocks the head's prefetch half-window W (kvp_head_window(); 0 without
 * KVP_P_PREFETCH): the RoPE-local neighbourhood the next step's attention
 * reads with the hot blocks.  Without KVP_P_RAW (the default) the window is
 * that of kvp_prefetch_window()'s co-use rule: only the neighbours used in
 * the same step as the hot block, which are hot themselves, so the plan is
 * the hot set (measured in cxl-kv-bench decode at 4x: the +-W window read
 * 8x more than the reads used, accuracy 0.09).  Only COLD blocks are named
 * (a warm one needs nothing, an absent one has no data).  O(written blocks
 * of the layer): one pass per head, every block looked at once.
 *
 * Return: blocks written to @out, or -KVP_EINVAL for a bad layer.
 */
int kvp_layer_plan(const struct kvp_state *st, kvp_u32 layer, kvp_u32 since,
		   kvp_u32 *out, kvp_u32 max, kvp_u32 *more)
{
	const struct kvp_ent *ents = kvp_ents(st);
	kvp_u32 head, n = 0, extra = 0;

	if (layer >= st->g.layers)
		return -KVP_EINVAL;
	for (head = 0; head < st->g.kv_heads; head++) {
		kvp_u32 q = layer * st->g.kv_heads + head;
		const struct kvp_head *h = &kvp_heads(st)[q];
		kvp_u32 base = q * st->g.blocks_per_head, len = h->len;
		kvp_u32 w = 0, b, next = 0;

		if ((st->p.flags & (KVP_P_PREFETCH | KVP_P_RAW)) ==
		    (KVP_P_PREFETCH | KVP_P_RAW))
			w = (st->p.flags & KVP_P_PF_ADAPT) ? h->w :
							      st->p.pf_window;
		if (len > st->g.blocks_per_head)
			len = st->g.blocks_per_head;
		for (b = 0; b < len; b++) {
			const struct kvp_ent *e = &ents[base + b];
			kvp_u32 lo, hi, j;

			if (kvp_tier_of(e) == KVP_TIER_ABSENT ||
			    !(e->fl & KVP_E_READ) ||
			    (kvp_s32)(e->last - since) < 0)
				continue;
			/* hot: [b - w, b + w], what is not named yet */
			lo = b > w ? b - w : 0;
			if (lo < next)
				lo = next;
			hi = b + w < len ? b + w : len - 1;
			for (j = lo; j <= hi; j++) {
				if (kvp_tier_of(&ents[base + j]) != KVP_TIER_COLD)
					continue;
				if (n < max)
					out[n++] = base + j;
				else
					extra++;
			}
			next = hi + 1;
		}
	}
	if (more)
		*more = extra;
	return (int)n;
}
