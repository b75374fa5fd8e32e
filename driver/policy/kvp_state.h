/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvp_state.h - the policy core's private state: its layout, entry flags
 * and the accessors every file of the core shares (kvpolicy.c, kvp_hooks.c,
 * kvp_victim.c, kvp_prefetch.c).  Not for callers: they see struct
 * kvp_state as opaque (kvpolicy.h).
 */
#ifndef KVP_STATE_H
#define KVP_STATE_H

#include "kvpolicy.h"

#define KVP_MAGIC	0x6b76706f6c696379ull	/* "kvpolicy" */

/* kvp_ent.fl */
#define KVP_E_TIER	0x03u	/* enum kvp_tier */
#define KVP_E_COLDCOPY	0x04u	/* NVMe holds a valid copy */
#define KVP_E_PF	0x08u	/* promoted by prefetch, not accessed since */
#define KVP_E_HINTED	0x10u	/* received at least one hint */
#define KVP_E_PROB	0x20u	/* promoted by a demand miss, not read since
				 * (kept while COLD: says how it left) */
#define KVP_E_SHADOW	0x40u	/* COLD: a stopped head's window named it
				 * (a shadow prefetch), not read since */
#define KVP_E_READ	0x80u	/* read or hinted since written: set by
				 * kvp_on_access() and kvp_on_hint(), cleared
				 * by a write in a step after @last's (a write
				 * or a prefetch is not a read) */

/* Rank histogram: 4.4 log buckets of a 48-bit rank key (see kvp_bucket()). */
#define KVP_NB		(1u + 48u * 16u + 16u)
#define KVP_BETA_ONE	16u	/* score weight 1.0 (Q4) */
#define KVP_BETA_MAX	32u
/*
 * Rank buckets added to a block never read since it was written (one
 * octave: it ranks as if twice as old), ARC's seen-once list without its
 * memory: 16 against 8, 24, 32 and an ARC-like adaptive target on the
 * Mooncake replays (Documentation/policy.rst).
 */
#define KVP_UNREAD	16u
/*
 * Newcomer stack: the last KVP_NEW blocks promoted by a demand miss (or
 * read for the first time after a prefetch).  The newest newcomer whose rank
 * is at or above the sweep's threshold leaves first, without a sweep: in a
 * cyclic overload (a step
 * reads more than fits) that keeps a stable set warm, as MIN does with a
 * loop, instead of cycling everything through the tier (LRU: no hit); when
 * stale blocks are around the threshold is above the newcomers and the
 * sweep takes the stale ones.
 */
#define KVP_NEW		64u
#define KVP_LINE	32u	/* entries the hand visits in a row: 256 bytes */

struct kvp_ent {
	kvp_u32 last;	/* step of the last access / hint / write */
	kvp_u16 ema;	/* score EMA, Q16, saturated at 0xffff */
	kvp_u8 fl;	/* KVP_E_* */
	kvp_u8 pins;	/* pin count */
};

struct kvp_head {
	kvp_u32 len;		/* written blocks: highest written block + 1 */
	kvp_u16 pf_used;	/* prefetch outcomes in this epoch */
	kvp_u16 pf_wasted;
	kvp_u16 sh_issued;	/* W == 0: shadow prefetches named */
	kvp_u8 w;		/* current prefetch half-window, blocks */
	kvp_u8 pad;
	kvp_u32 mean;		/* running mean hint, Q16 (without KVP_P_RAW) */
	kvp_u16 sh_used;	/* W == 0: shadow prefetches read in time */
	kvp_u16 pf_issued;	/* prefetches issued in this epoch */
	kvp_u32 sh_step;	/* W == 0: step of the last shadow window */
	kvp_u16 left;		/* blocks that went cold (both halved when
				 * it reaches 1024) */
	kvp_u16 back;		/* blocks promoted back by a demand miss */
	kvp_u32 pad3;
};

struct kvp_state {
	kvp_u64 magic;
	struct kvp_geom g;
	struct kvp_params p;
	struct kvp_stats s;
	kvp_u64 warm;		/* entries in KVP_TIER_WARM */
	kvp_u64 inv_tau;	/* ceil(2^32 / tau) */
	kvp_u32 nq;		/* queues = layers * kv_heads */
	kvp_u32 nent;		/* entries */
	kvp_u32 bph_shift;	/* log2(blocks_per_head) or 32 if not pow2 */
	kvp_u32 sink_blocks;	/* ceil(sink_tokens / tokens_per_block) */
	kvp_u32 recent_blocks;	/* ceil(recent_tokens / tokens_per_block) */
	kvp_u32 phase;		/* enum kvp_phase */
	kvp_u32 ph_r[2];	/* reads in the two halves of the window */
	kvp_u32 ph_w[2];	/* writes */
	kvp_u32 ph_cur;		/* current half */
	kvp_u32 hand;		/* clock hand: next entry to look at */
	kvp_u32 hand_pos;	/* entries the hand passed in this sweep */
	kvp_u32 nlines;		/* lines of KVP_LINE entries */
	kvp_u32 stride;		/* lines the hand skips, coprime to nlines */
	kvp_u32 thr;		/* victim threshold, bucket */
	kvp_u32 easy;		/* victims found at once, in a row */
	kvp_u32 sweep_victims;	/* victims taken in the current sweep */
	kvp_u32 vage;		/* running mean age of victims, steps */
	kvp_u32 beta;		/* weight of the score in the rank, Q4 */
	kvp_u32 new_top;	/* newcomer stack: next slot */
	kvp_u32 new_n;		/* entries in it (<= KVP_NEW) */
	kvp_u32 newc[KVP_NEW];	/* newcomer stack (circular, newest on top) */
	kvp_u32 pf_idx;		/* block of the last kvp_on_access() */
	kvp_u32 pf_ref;		/* its step of use before that access */
	kvp_u32 hist[KVP_NB];	/* eligible entries per bucket, this sweep */
};

static inline struct kvp_head *kvp_heads(const struct kvp_state *st)
{
	/* the const is the caller's business: state is one mutable buffer */
	return (struct kvp_head *)(unsigned long)((const char *)st + sizeof(*st));
}

static inline struct kvp_ent *kvp_ents(const struct kvp_state *st)
{
	return (struct kvp_ent *)(void *)(kvp_heads(st) + st->nq);
}

static inline kvp_u32 kvp_tier_of(const struct kvp_ent *e)
{
	return e->fl & KVP_E_TIER;
}

static inline void kvp_set_tier(struct kvp_ent *e, kvp_u32 t)
{
	e->fl = (kvp_u8)((e->fl & ~KVP_E_TIER) | t);
}

static inline kvp_u32 kvp_queue_of(const struct kvp_state *st, kvp_u32 idx)
{
	if (st->bph_shift < 32)
		return idx >> st->bph_shift;
	return idx / st->g.blocks_per_head;
}

#endif /* KVP_STATE_H */
