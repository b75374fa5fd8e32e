/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvpolicy.h - cxl-kv attention-aware placement policy core.
 *
 * Freestanding C: no libc, no kernel headers, no floating point, no
 * allocation, no global mutable state.  The same sources are compiled into
 * the cxl_kv module (Kbuild: driver/policy/kv*.o) and into userspace
 * ($(O)/libkvpolicy.a: kvsim, kvtrace, unit tests).
 *
 * Model
 * -----
 * One tracking entry (8 bytes) per (layer, KV-head, block).  A block is the
 * tokens of one 4 KiB page of one head (16 tokens at head_dim 128, fp16); its
 * K page and V page share the entry.  Blocks are named by a global index
 *
 *	idx = (layer * kv_heads + head) * blocks_per_head + block
 *
 * (see kvp_idx()).  A "queue" is one (layer, head) pair.  Time is a caller
 * supplied step counter (decode steps; u32, wrap-safe differences).
 *
 * A block is in one tier: ABSENT (never written or freed), WARM (resident in
 * CXL memory) or COLD (only on NVMe).  The policy never moves data: the
 * caller moves pages and then reports the outcome with kvp_set_resident() /
 * kvp_set_cold() / kvp_set_absent().  kvp_pick_victims() marks what it
 * returns as EVICTING (a transient state owned by the caller); the caller
 * ends it with kvp_set_cold() (done) or kvp_set_resident() (aborted).
 *
 * Concurrency
 * -----------
 * None inside.  Every function taking a struct kvp_state must be serialised
 * by the caller (the module holds one spinlock/mutex per state around every
 * call).  Functions never sleep, never allocate and run in bounded time
 * except kvp_init() (O(entries)) and kvp_pick_victims() /
 * kvp_pick_victims_prio() (amortised O(1) per victim, worst case one sweep
 * over the entries).
 *
 * Errors are negative errno values equal to Linux's (KVP_EINVAL == EINVAL).
 * Fixed point: Q16, i.e. KVP_ONE (65536) is 1.0.
 */
#ifndef KVPOLICY_H
#define KVPOLICY_H

#include "kvgeom.h"

typedef __UINT8_TYPE__ kvp_u8;
typedef __UINT16_TYPE__ kvp_u16;
typedef __UINT32_TYPE__ kvp_u32;
typedef __UINT64_TYPE__ kvp_u64;
typedef __INT32_TYPE__ kvp_s32;
typedef __INT64_TYPE__ kvp_s64;

/* Negative return values; equal to the Linux errno numbers. */
#define KVP_ENOENT	2
#define KVP_E2BIG	KVG_E2BIG
#define KVP_EBUSY	16
#define KVP_EINVAL	22
#define KVP_ENOSPC	28
#define KVP_ERANGE	34
#define KVP_EOVERFLOW	75

#define KVP_SHIFT	16
#define KVP_ONE		(1u << KVP_SHIFT)	/* 1.0 in Q16 */

/*
 * Geometry limits (any model up to 1024 layers x 256 KV-heads): kvgeom.h's,
 * checked by kvg_blocks_check().
 */
#define KVP_MAX_LAYERS		KVG_POL_MAX_LAYERS
#define KVP_MAX_KV_HEADS	KVG_POL_MAX_KV_HEADS
#define KVP_MAX_ENTRIES		KVG_POL_MAX_ENTRIES	/* layers*heads*blocks */
#define KVP_PF_WINDOW_MAX	32u		/* hard cap on W (blocks) */

/**
 * struct kvp_geom - shape of one tracked KV cache.
 * @layers:          transformer layers, 1..KVP_MAX_LAYERS.
 * @kv_heads:        KV heads per layer, 1..KVP_MAX_KV_HEADS.
 * @blocks_per_head: blocks per (layer, head) = max context / tokens_per_block.
 * @tokens_per_block: tokens per block (16 for 4 KiB pages, head_dim 128,
 *                   fp16); used to turn the token-based protections into
 *                   blocks.  1..KVG_POL_MAX_TPB (65536).
 */
struct kvp_geom {
	kvp_u32 layers;
	kvp_u32 kv_heads;
	kvp_u32 blocks_per_head;
	kvp_u32 tokens_per_block;
};

/* kvp_params.flags */
#define KVP_P_PROTECT	(1u << 0) /* protect sinks and the recent window */
#define KVP_P_PREFETCH	(1u << 1) /* kvp_prefetch_window() returns blocks */
#define KVP_P_PF_ADAPT	(1u << 2) /* per-head adaptive W (needs PREFETCH) */
#define KVP_P_PHASE	(1u << 3) /* phase detection; off = always decode */
#define KVP_P_RAW	(1u << 4) /* raw hints (score_shift), not normalised */
#define KVP_P_DEFAULT	(KVP_P_PROTECT | KVP_P_PREFETCH | KVP_P_PF_ADAPT | \
			 KVP_P_PHASE)
#define KVP_P_ALL	(KVP_P_DEFAULT | KVP_P_RAW)

/**
 * struct kvp_params - every policy knob (defaults from kvp_params_default()).
 * @alpha_q16:     EMA weight of a new hint, Q16, (0, 1]: ema = a*s + (1-a)*ema.
 *                 Default 0.25 (16384).
 * @tau_steps:     recency time constant tau in steps, > 0:
 *                 decay = 1 - exp(-age/tau).  Default 1000.
 * @score_shift:   hint gain with KVP_P_RAW: a hint s is used as
 *                 min(1, s << score_shift), so a block holding >= 2^-shift
 *                 of its head's attention counts as fully important.  0..12.
 *                 Default 4 (0 = the seed's raw attention mass).  Without
 *                 KVP_P_RAW (default) a hint is used as
 *                 min(15/16, s / (2 * m)), m = the head's running mean hint
 *                 (EMA, weight 1/64): a block at twice its head's average
 *                 attention counts as (almost) fully important whatever the
 *                 context length; the 15/16 cap keeps 1 - ema >= 1/16 so
 *                 recency can still retire a quiet heavy hitter.
 * @sink_tokens:   attention sinks: the first S tokens of every head are
 *                 never victims (with KVP_P_PROTECT).  Tokens.  Default 4.
 * @recent_tokens: recent window: the last R written tokens of every head are
 *                 never victims (with KVP_P_PROTECT).  Tokens.  Default 16
 *                 (the block being appended).
 * @pf_window:     initial prefetch half-window W, blocks, 0..pf_window_max.
 *                 Default 1.
 * @pf_window_max: largest W adaptation may reach, blocks,
 *                 pf_window..KVP_PF_WINDOW_MAX.  Default 8 (the
 *                 module reads at most 8 blocks ahead a fault).
 * @pf_epoch:      prefetch outcomes (used + wasted) per head between two
 *                 W adjustments, 1..65535.  Default 16.
 * @phase_window:  reads+writes per half of the phase detector's sliding
 *                 window, >= 16.  Default 4096 events.
 * @phase_enter:   enter DECODE when reads >= phase_enter * writes over the
 *                 window, >= 1.  Default 10.
 * @phase_exit:    leave DECODE (back to PREFILL) when
 *                 reads < phase_exit * writes; 1..phase_enter-1 (the gap is
 *                 the hysteresis).  Default 4.
 * @scan_limit:    eligible entries looked at without finding a victim before
 *                 the victim threshold is lowered, 1..65535.  Default 64.
 * @flags:         KVP_P_* bits.  Default KVP_P_DEFAULT (everything but
 *                 KVP_P_RAW).
 * @reserved:      must be zero.
 */
struct kvp_params {
	kvp_u32 alpha_q16;
	kvp_u32 tau_steps;
	kvp_u32 score_shift;
	kvp_u32 sink_tokens;
	kvp_u32 recent_tokens;
	kvp_u32 pf_window;
	kvp_u32 pf_window_max;
	kvp_u32 pf_epoch;
	kvp_u32 phase_window;
	kvp_u32 phase_enter;
	kvp_u32 phase_exit;
	kvp_u32 scan_limit;
	kvp_u32 flags;
	kvp_u32 reserved[3];
};

/* Tier of a block (struct kvp_entry_info.tier). */
enum kvp_tier {
	KVP_TIER_ABSENT = 0,	/* never written, or freed */
	KVP_TIER_WARM = 1,	/* resident in CXL memory */
	KVP_TIER_COLD = 2,	/* only on NVMe */
	KVP_TIER_EVICTING = 3,	/* returned by kvp_pick_victims(), being moved */
};

/* How a block became resident (kvp_set_resident() @how). */
enum kvp_how {
	KVP_BY_DEMAND = 0,	/* promoted because it was read */
	KVP_BY_PREFETCH = 1,	/* promoted from kvp_prefetch_window() */
	KVP_BY_ABORT = 2,	/* an eviction was abandoned; stays warm */
};

/* Phases (kvp_phase()). */
enum kvp_phase {
	KVP_PHASE_PREFILL = 0,	/* write-dominated: stream new blocks in */
	KVP_PHASE_DECODE = 1,	/* read-dominated: EMA eviction + prefetch */
};

/* kvp_on_access() result bits. */
#define KVP_ACC_HIT	(1u << 0) /* block was WARM */
#define KVP_ACC_PF_USED	(1u << 1) /* first use of a prefetched block */

/**
 * struct kvp_entry_info - decoded view of one entry (debug, tests, stats).
 * @tier:   enum kvp_tier.
 * @pins:   pin count.
 * @ema_q16: score EMA, Q16.
 * @last_step: step of the last access, hint or write.
 * @cold_copy: 1 if NVMe holds a valid copy (eviction needs no write).
 * @prefetched: 1 if promoted by prefetch and not accessed since.
 * @hinted: 1 if at least one hint was received.
 */
struct kvp_entry_info {
	kvp_u32 tier;
	kvp_u32 pins;
	kvp_u32 ema_q16;
	kvp_u32 last_step;
	kvp_u32 cold_copy;
	kvp_u32 prefetched;
	kvp_u32 hinted;
};

/**
 * struct kvp_stats - counters since kvp_init().
 * @hints: kvp_on_hint() calls applied.
 * @accesses: kvp_on_access() calls.
 * @hits: accesses that found the block WARM.
 * @writes: kvp_on_write() calls.
 * @victims: blocks returned by kvp_pick_victims().
 * @scanned: entries examined by kvp_pick_victims().
 * @pf_issued: blocks returned by kvp_prefetch_window().
 * @pf_used: prefetched blocks accessed before eviction.
 * @pf_wasted: prefetched blocks evicted without an access.
 * @phase_switches: phase changes.
 * @victim_age: running mean age of the victims, steps (gauge).
 * @beta: current weight of the score against age in the rank, 1/16 (gauge).
 * @ghost_prob: demand misses on blocks that left on probation recently.
 * @ghost_est: demand misses on established blocks that left recently.
 */
struct kvp_stats {
	kvp_u64 hints;
	kvp_u64 accesses;
	kvp_u64 hits;
	kvp_u64 writes;
	kvp_u64 victims;
	kvp_u64 scanned;
	kvp_u64 pf_issued;
	kvp_u64 pf_used;
	kvp_u64 pf_wasted;
	kvp_u64 phase_switches;
	kvp_u64 victim_age;
	kvp_u64 beta;
	kvp_u64 ghost_prob;
	kvp_u64 ghost_est;
};

/* Opaque; the caller provides kvp_state_size() bytes, 8-byte aligned. */
struct kvp_state;

/**
 * kvp_idx() - global block index of (layer, head, block).
 * @g: geometry.
 * @layer: layer.
 * @head: KV head.
 * @block: block within the head.
 *
 * Return: the index; the caller checks ranges (the hooks reject bad ones).
 */
static inline kvp_u32 kvp_idx(const struct kvp_geom *g, kvp_u32 layer,
			      kvp_u32 head, kvp_u32 block)
{
	return (layer * g->kv_heads + head) * g->blocks_per_head + block;
}

void kvp_params_default(struct kvp_params *p);
int kvp_params_validate(const struct kvp_params *p);

/*
 * kvp_text.c: the knobs as text, "alpha_q16=16384 tau_steps=1000 ...", named
 * as struct cxl_kv_params' fields (the module's default_policy parameter,
 * `cxl-kv apply`'s policy key).
 */
#define KVP_PARAMS_NR		13	/* named knobs: every field but reserved */
#define KVP_PARAMS_TEXT_MAX	1024	/* bytes of a text, NUL included */
int kvp_params_parse(struct kvp_params *p, const char *s, const char **bad);
int kvp_params_format(const struct kvp_params *p, char *buf, kvp_u32 len);
int kvp_geom_validate(const struct kvp_geom *g);
kvp_u64 kvp_state_size(const struct kvp_geom *g);
int kvp_init(struct kvp_state *st, kvp_u64 size, const struct kvp_geom *g,
	     const struct kvp_params *p);
int kvp_set_params(struct kvp_state *st, const struct kvp_params *p);
void kvp_get_params(const struct kvp_state *st, struct kvp_params *p);
void kvp_get_geom(const struct kvp_state *st, struct kvp_geom *g);

int kvp_on_hint(struct kvp_state *st, kvp_u32 idx, kvp_u32 score_q16,
		kvp_u32 step);
int kvp_on_access(struct kvp_state *st, kvp_u32 idx, kvp_u32 step);
int kvp_on_write(struct kvp_state *st, kvp_u32 idx, kvp_u32 step);
int kvp_set_resident(struct kvp_state *st, kvp_u32 idx, kvp_u32 how);
int kvp_set_cold(struct kvp_state *st, kvp_u32 idx);
int kvp_set_absent(struct kvp_state *st, kvp_u32 idx);
int kvp_pin(struct kvp_state *st, kvp_u32 idx);
int kvp_unpin(struct kvp_state *st, kvp_u32 idx);

int kvp_pick_victims(struct kvp_state *st, kvp_u32 want, kvp_u32 *out,
		     kvp_u32 now);
int kvp_pick_victims_prio(struct kvp_state *st, kvp_u32 want, kvp_u32 *out,
			  kvp_u32 *prio, kvp_u32 now);

/**
 * struct kvp_cand - a victim candidate ranked against those of other states
 * (spaces sharing one warm tier).
 * @prio:  its eviction priority, Q16, from kvp_pick_victims_prio().
 * @blk:   its block index in its state.
 * @given: how much its state has given to the cold tier so far (the
 *         caller's unit, saturated), read when the round began.
 * @rank:  its position in its state's answer.
 * @ord:   its state's index among the states ranked.
 * @taken: the caller's mark for the candidates it chose.
 */
struct kvp_cand {
	kvp_u32 prio;
	kvp_u32 blk;
	kvp_u32 given;
	kvp_u16 rank;
	kvp_u8 ord;
	kvp_u8 taken;
};

int kvp_cand_cmp(const struct kvp_cand *x, const struct kvp_cand *y);
int kvp_prefetch_window(struct kvp_state *st, kvp_u32 idx, kvp_u32 *out,
			kvp_u32 max);
int kvp_head_window(const struct kvp_state *st, kvp_u32 layer, kvp_u32 head);
int kvp_layer_plan(const struct kvp_state *st, kvp_u32 layer, kvp_u32 since,
		   kvp_u32 *out, kvp_u32 max, kvp_u32 *more);

int kvp_phase(const struct kvp_state *st);

int kvp_entry_get(const struct kvp_state *st, kvp_u32 idx,
		  struct kvp_entry_info *out);
int kvp_is_protected(const struct kvp_state *st, kvp_u32 idx);
kvp_u32 kvp_protected_next(const struct kvp_state *st, kvp_u32 idx);
void kvp_get_stats(const struct kvp_state *st, struct kvp_stats *out);
kvp_u64 kvp_warm_count(const struct kvp_state *st);

/* Fixed-point math, exposed for tests and tools. */
kvp_u32 kvp_ema_q16(kvp_u32 ema_q16, kvp_u32 score_q16, kvp_u32 alpha_q16);
kvp_u32 kvp_decay_q16(kvp_u32 age, kvp_u32 tau);
kvp_u32 kvp_decay_x_q16(kvp_u32 x_q16);
kvp_u32 kvp_priority_q16(kvp_u32 ema_q16, kvp_u32 age, kvp_u32 tau);

#endif /* KVPOLICY_H */
