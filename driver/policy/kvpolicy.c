// SPDX-License-Identifier: GPL-2.0
/*
 * kvpolicy.c - cxl-kv attention-aware placement policy core.
 *
 * State layout (one caller-provided buffer, relocatable: no pointers inside):
 *
 *	struct kvp_state			header, params, stats, histogram
 *	struct kvp_head[layers * kv_heads]	16 bytes per (layer, head)
 *	struct kvp_ent[layers * kv_heads * blocks_per_head]	8 bytes/block
 *
 * Victim selection: first the newest demand-promoted blocks (the newcomer
 * stack, see KVP_NEW) whose rank reaches the threshold, then a CLOCK sweep
 * with a rank threshold (the rank: kvp_entry_rank()).  The hand walks
 * the entries a line of KVP_LINE at a time, the lines in a fixed scrambled
 * order (line += stride mod lines, stride ~0.618 x lines and coprime to it,
 * so one sweep visits every entry once); an eligible WARM entry whose rank
 * bucket is >= thr is taken.  Index order would not do: a block's index is
 * its token position (and Mooncake's hash ids are handed out in order), so
 * age follows the index, and a hand that walks into a run of young blocks
 * after the threshold was lowered takes them.  thr is a feedback-controlled estimate
 * of the rank quantile to evict:
 *   - at the end of every sweep, thr is set so that, in the histogram of the
 *     eligible entries seen during that sweep, the entries at or above thr
 *     number the victims taken in that sweep (the top-V of the sweep);
 *   - within a sweep, looking at scan_limit eligible entries without a
 *     victim lowers thr by two buckets (1/8 octave each), and four victims in
 *     a row found immediately raise it by one.
 *   - a whole sweep without a victim sets thr to the highest bucket seen in
 *     it (so the next pass takes the current maximum), or ends the call if
 *     nothing eligible was seen.
 * Each victim therefore costs at most scan_limit eligible looks plus the
 * skipped non-eligible entries (8 bytes each, 256 bytes at a time),
 * amortised O(1);
 * a call only sweeps everything when the threshold was far off or nothing
 * eligible is left.
 *
 * See Documentation/policy.rst for the math and the parameters.
 */
#include "kvpolicy.h"

#define KVP_MAGIC	0x6b76706f6c696379ull	/* "kvpolicy" */

/* kvp_ent.fl */
#define KVP_E_TIER	0x03u	/* enum kvp_tier */
#define KVP_E_COLDCOPY	0x04u	/* NVMe holds a valid copy */
#define KVP_E_PF	0x08u	/* promoted by prefetch, not accessed since */
#define KVP_E_HINTED	0x10u	/* received at least one hint */
#define KVP_E_PROB	0x20u	/* promoted by a demand miss, not read since
				 * (kept while COLD: says how it left) */

/* Rank histogram: 4.4 log buckets of a 48-bit rank key (see kvp_bucket()). */
#define KVP_NB		(1u + 48u * 16u + 16u)
#define KVP_BETA_ONE	16u	/* score weight 1.0 (Q4) */
#define KVP_BETA_MAX	32u
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
#define KVP_PROBE_EVERY	1024u	/* accesses between probes of a W=0 head */

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
	kvp_u16 since_probe;	/* accesses while W == 0 */
	kvp_u8 w;		/* current prefetch half-window, blocks */
	kvp_u8 pad;
	kvp_u32 mean;		/* running mean hint, Q16 (without KVP_P_RAW) */
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

/**
 * kvp_params_default() - fill @p with the documented defaults.
 * @p: parameters to fill.
 */
void kvp_params_default(struct kvp_params *p)
{
	kvp_u32 i;

	p->alpha_q16 = KVP_ONE / 4;
	p->tau_steps = 1000;
	p->score_shift = 4;
	p->sink_tokens = 4;
	p->recent_tokens = 16;
	p->pf_window = 1;
	p->pf_window_max = 8;
	p->pf_epoch = 16;
	p->phase_window = 4096;
	p->phase_enter = 10;
	p->phase_exit = 4;
	p->scan_limit = 64;
	p->flags = KVP_P_DEFAULT;
	for (i = 0; i < sizeof(p->reserved) / sizeof(p->reserved[0]); i++)
		p->reserved[i] = 0;
}

/**
 * kvp_params_validate() - check every parameter against its documented range.
 * @p: parameters.
 *
 * Return: 0, or -KVP_EINVAL for any value out of range (alpha outside (0, 1],
 * tau 0, W beyond its maximum, phase_exit >= phase_enter, unknown flags,
 * non-zero reserved fields, ...).
 */
int kvp_params_validate(const struct kvp_params *p)
{
	kvp_u32 i;

	if (!p)
		return -KVP_EINVAL;
	if (p->alpha_q16 == 0 || p->alpha_q16 > KVP_ONE)
		return -KVP_EINVAL;
	if (p->tau_steps == 0 || p->tau_steps > (1u << 26))
		return -KVP_EINVAL;
	if (p->score_shift > 12)
		return -KVP_EINVAL;
	if (p->pf_window_max > KVP_PF_WINDOW_MAX ||
	    p->pf_window > p->pf_window_max)
		return -KVP_EINVAL;
	if (p->pf_epoch == 0 || p->pf_epoch > 0xffff)
		return -KVP_EINVAL;
	if (p->phase_window < 16 || p->phase_window > (1u << 30))
		return -KVP_EINVAL;
	if (p->phase_enter == 0 || p->phase_enter > 0xffff ||
	    p->phase_exit == 0 || p->phase_exit >= p->phase_enter)
		return -KVP_EINVAL;
	if (p->scan_limit == 0 || p->scan_limit > 0xffff)
		return -KVP_EINVAL;
	if (p->flags & ~KVP_P_ALL)
		return -KVP_EINVAL;
	if ((p->flags & KVP_P_PF_ADAPT) && !(p->flags & KVP_P_PREFETCH))
		return -KVP_EINVAL;
	for (i = 0; i < sizeof(p->reserved) / sizeof(p->reserved[0]); i++)
		if (p->reserved[i])
			return -KVP_EINVAL;
	return 0;
}

/**
 * kvp_geom_validate() - check a geometry.
 * @g: geometry.
 *
 * The bounds are kvgeom.h's (kvg_blocks_check()).
 *
 * Return: 0, or -KVP_EINVAL if @g is NULL or a dimension is 0 or above its
 * limit, or -KVP_E2BIG if layers * kv_heads * blocks_per_head exceeds
 * KVP_MAX_ENTRIES.
 */
int kvp_geom_validate(const struct kvp_geom *g)
{
	if (!g)
		return -KVP_EINVAL;
	return kvg_blocks_check(g->layers, g->kv_heads, g->blocks_per_head,
				g->tokens_per_block);
}

/**
 * kvp_state_size() - bytes the caller must provide for a state.
 * @g: geometry.
 *
 * 8 bytes per block entry, 16 bytes per (layer, head), plus a fixed header
 * (about 1.4 KiB).  The buffer must be 8-byte aligned.
 *
 * Return: the size in bytes, or 0 if @g is invalid.
 */
kvp_u64 kvp_state_size(const struct kvp_geom *g)
{
	kvp_u64 nq;

	if (kvp_geom_validate(g))
		return 0;
	nq = (kvp_u64)g->layers * g->kv_heads;
	return sizeof(struct kvp_state) + nq * sizeof(struct kvp_head) +
	       nq * g->blocks_per_head * sizeof(struct kvp_ent);
}

static kvp_u32 kvp_gcd(kvp_u32 a, kvp_u32 b)
{
	while (b) {
		kvp_u32 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* About 0.618 @n and coprime to it: lines visited in turn land far apart. */
static kvp_u32 kvp_stride(kvp_u32 n)
{
	kvp_u32 s;

	if (n <= 2)
		return 1;
	s = (kvp_u32)(((kvp_u64)n * 40503u) >> 16);	/* 40503 / 2^16 ~ 0.618 */
	while (kvp_gcd(s, n) != 1)
		s++;
	return s;
}

static void kvp_derive(struct kvp_state *st)
{
	kvp_u32 tpb = st->g.tokens_per_block;

	st->sink_blocks = (st->p.sink_tokens + tpb - 1) / tpb;
	st->recent_blocks = (st->p.recent_tokens + tpb - 1) / tpb;
	st->inv_tau = ((1ull << 32) + st->p.tau_steps - 1) / st->p.tau_steps;
}

/**
 * kvp_init() - initialise a state in caller-provided memory.
 * @st: buffer of at least kvp_state_size(@g) bytes, 8-byte aligned.
 * @size: size of the buffer in bytes.
 * @g: geometry.
 * @p: parameters (copied).
 *
 * Every block starts ABSENT.  The phase starts in PREFILL when KVP_P_PHASE
 * is set, else it is DECODE for good.  O(entries).
 *
 * Return: 0, -KVP_EINVAL for a bad geometry or parameter, -KVP_E2BIG for an
 * oversized geometry, -KVP_ENOSPC if @size is too small.
 */
int kvp_init(struct kvp_state *st, kvp_u64 size, const struct kvp_geom *g,
	     const struct kvp_params *p)
{
	kvp_u64 need, i, words;
	kvp_u64 *w;
	int ret;

	if (!st)
		return -KVP_EINVAL;
	ret = kvp_geom_validate(g);
	if (ret)
		return ret;
	ret = kvp_params_validate(p);
	if (ret)
		return ret;
	need = kvp_state_size(g);
	if (size < need)
		return -KVP_ENOSPC;

	/* zero everything: all sizes are multiples of 8 */
	w = (kvp_u64 *)(void *)st;
	words = need / 8;
	for (i = 0; i < words; i++)
		w[i] = 0;

	st->magic = KVP_MAGIC;
	st->g = *g;
	st->p = *p;
	st->nq = g->layers * g->kv_heads;
	st->nent = st->nq * g->blocks_per_head;
	st->bph_shift = 32;
	for (i = 0; i < 32; i++)
		if (g->blocks_per_head == (1u << i))
			st->bph_shift = (kvp_u32)i;
	st->phase = (p->flags & KVP_P_PHASE) ? KVP_PHASE_PREFILL :
					       KVP_PHASE_DECODE;
	st->thr = KVP_NB - 1;
	st->beta = KVP_BETA_ONE;
	st->nlines = (st->nent + KVP_LINE - 1) / KVP_LINE;
	st->stride = kvp_stride(st->nlines);
	kvp_derive(st);
	for (i = 0; i < st->nq; i++)
		kvp_heads(st)[i].w = (kvp_u8)p->pf_window;
	return 0;
}

/**
 * kvp_set_params() - replace the parameters of a live state.
 * @st: state.
 * @p: new parameters (copied).
 *
 * Entry contents are kept; per-head prefetch windows are clamped to the new
 * pf_window_max.  Call it between two hooks (the caller's lock serialises).
 *
 * Return: 0 or -KVP_EINVAL.
 */
int kvp_set_params(struct kvp_state *st, const struct kvp_params *p)
{
	int ret = kvp_params_validate(p);
	kvp_u32 i;

	if (ret)
		return ret;
	if (!(p->flags & KVP_P_PHASE))
		st->phase = KVP_PHASE_DECODE;
	st->p = *p;
	kvp_derive(st);
	for (i = 0; i < st->nq; i++) {
		struct kvp_head *h = &kvp_heads(st)[i];

		if (!(p->flags & KVP_P_PF_ADAPT) || h->w > p->pf_window_max)
			h->w = (kvp_u8)p->pf_window;
	}
	return 0;
}

/**
 * kvp_get_params() - copy out the current parameters.
 * @st: state.
 * @p: filled.
 */
void kvp_get_params(const struct kvp_state *st, struct kvp_params *p)
{
	*p = st->p;
}

/**
 * kvp_get_geom() - copy out the geometry.
 * @st: state.
 * @g: filled.
 */
void kvp_get_geom(const struct kvp_state *st, struct kvp_geom *g)
{
	*g = st->g;
}

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
	 * the maximum in a few epochs, one that does not stops as fast.
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
	e->fl |= KVP_E_HINTED;
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
	/* a head that stopped prefetching probes W = 1 now and then */
	if ((st->p.flags & KVP_P_PF_ADAPT) && !h->w &&
	    ++h->since_probe >= KVP_PROBE_EVERY) {
		h->since_probe = 0;
		h->w = 1;
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
		e->fl &= (kvp_u8)~(KVP_E_PF | KVP_E_HINTED);
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
	st->warm++;
	if (how == KVP_BY_PREFETCH) {
		e->fl |= KVP_E_PF;
		e->fl &= (kvp_u8)~KVP_E_PROB;
		st->s.pf_issued++;
	} else if (how == KVP_BY_DEMAND) {
		kvp_newcomer(st, e, idx);
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

/* ---- victims ----------------------------------------------------------- */

/* 4.4 log bucket of a key: 0 for 0, else 1 + 16*log2 + mantissa. */
static inline kvp_u32 kvp_bucket(kvp_u64 p)
{
	kvp_u32 e, m;

	if (!p)
		return 0;
	if (p >> 48)
		p = (1ull << 48) - 1;
	e = 63u - (kvp_u32)__builtin_clzll(p);
	m = (kvp_u32)(e >= 4 ? (p >> (e - 4)) & 15u : (p << (4 - e)) & 15u);
	return 1u + e * 16u + m;
}

static inline int kvp_protected(const struct kvp_state *st,
				const struct kvp_head *h, kvp_u32 blk)
{
	if (!(st->p.flags & KVP_P_PROTECT))
		return 0;
	return blk < st->sink_blocks || blk + st->recent_blocks >= h->len;
}

/**
 * kvp_is_protected() - is the block an attention sink or in the recent window?
 * @st: state.
 * @idx: global block index.
 *
 * Return: 1 or 0 (always 0 without KVP_P_PROTECT), -KVP_EINVAL for a bad
 * index.
 */
int kvp_is_protected(const struct kvp_state *st, kvp_u32 idx)
{
	kvp_u32 q;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	q = kvp_queue_of(st, idx);
	return kvp_protected(st, &kvp_heads(st)[q],
			     idx - q * st->g.blocks_per_head);
}

/*
 * Priority of an eligible entry now; PREFILL ignores scores (pure age).
 * The age counts the current step (age = now - last + 1): with age 0 every
 * block touched in the current step would get priority 0 whatever its score,
 * and a step that reads more blocks than fit would degenerate into LRU.
 */
static inline kvp_u32 kvp_entry_prio(const struct kvp_state *st,
				     const struct kvp_ent *e, kvp_u32 now)
{
	kvp_u32 age = now - e->last + 1, d;

	if ((kvp_u64)age >= 16ull * st->p.tau_steps)
		d = KVP_ONE;
	else
		d = kvp_decay_x_q16((kvp_u32)(((kvp_u64)age * st->inv_tau) >> 16));
	if (st->phase == KVP_PHASE_PREFILL)
		return d;
	return (kvp_u32)(((kvp_u64)(KVP_ONE - e->ema) * d) >> KVP_SHIFT);
}

/*
 * Rank bucket of an eligible entry (higher leaves first).
 *
 * KVP_P_RAW (the seed's formula): the bucket of the priority itself.
 * Default: the bucket of (1 - ema)^beta x age, age = now - last + 1 in
 * steps, which for beta = 1 orders as the priority does for ages well below
 * tau but does not saturate (the decay makes every block older than a few
 * tau alike, and the order among them random); beta (0..2, Q4) is the
 * score's weight, moved by ghost misses (kvp_ghost()).  PREFILL: age alone (oldest written first).
 */
static inline kvp_u32 kvp_entry_rank(const struct kvp_state *st,
				     const struct kvp_ent *e, kvp_u32 now,
				     kvp_u32 pr)
{
	kvp_u64 age = (kvp_u64)(kvp_u32)(now - e->last) + 1;
	kvp_u32 b, s;

	if (st->p.flags & KVP_P_RAW)
		return kvp_bucket(pr);
	if (st->phase == KVP_PHASE_PREFILL)
		return kvp_bucket(age << KVP_SHIFT);
	b = kvp_bucket(age << KVP_SHIFT);
	s = (st->beta * (257u - kvp_bucket(KVP_ONE - e->ema))) >> 4;
	return b > s ? b - s : 0;
}

/* End of a sweep: thr := bucket holding the top sweep_victims entries. */
static void kvp_sweep_end(struct kvp_state *st)
{
	kvp_u32 b = KVP_NB, cum = 0;

	if (st->sweep_victims) {
		while (b > 0) {
			b--;
			cum += st->hist[b];
			if (cum >= st->sweep_victims)
				break;
		}
		st->thr = b;
	}
	for (b = 0; b < KVP_NB; b++)
		st->hist[b] = 0;
	st->sweep_victims = 0;
}

/* @e (index @i) becomes a victim */
static void kvp_take(struct kvp_state *st, struct kvp_ent *e, kvp_u32 now)
{
	kvp_u32 age = now - e->last + 1;

	kvp_set_tier(e, KVP_TIER_EVICTING);
	st->warm--;
	/* running mean victim age (weight 1/16) */
	if (age >= st->vage)
		st->vage += (age - st->vage + 15u) >> 4;
	else
		st->vage -= (st->vage - age) >> 4;
}

/*
 * Thrashing: the newest newcomers still WARM, unpinned, unprotected and on
 * probation leave first (see KVP_NEW).  Returns the victims written.
 */
static kvp_u32 kvp_pick_new(struct kvp_state *st, kvp_u32 want, kvp_u32 *out,
			    kvp_u32 *prio, kvp_u32 now)
{
	struct kvp_ent *ents = kvp_ents(st);
	kvp_u32 n = 0, bph = st->g.blocks_per_head;

	while (n < want && st->new_n) {
		kvp_u32 top = (st->new_top + KVP_NEW - 1) % KVP_NEW;
		kvp_u32 i = st->newc[top], q, pr;
		struct kvp_ent *e;

		if (i < st->nent) {
			e = &ents[i];
			q = kvp_queue_of(st, i);
			if (kvp_tier_of(e) == KVP_TIER_WARM && !e->pins &&
			    (e->fl & KVP_E_PROB) &&
			    !kvp_protected(st, &kvp_heads(st)[q], i - q * bph)) {
				pr = kvp_entry_prio(st, e, now);
				/* only while the sweep would take its rank */
				if (kvp_entry_rank(st, e, now, pr) < st->thr)
					break;
				if (prio)
					prio[n] = pr;
				kvp_take(st, e, now);
				out[n++] = i;
			}
		}
		st->new_top = top;
		st->new_n--;
	}
	return n;
}

/* kvp_pick_victims() and kvp_pick_victims_prio(); @prio may be NULL. */
static int kvp_pick(struct kvp_state *st, kvp_u32 want, kvp_u32 *out,
		    kvp_u32 *prio, kvp_u32 now)
{
	struct kvp_ent *ents = kvp_ents(st);
	struct kvp_head *heads = kvp_heads(st);
	kvp_u32 bph = st->g.blocks_per_head;
	kvp_u32 n = 0, looked = 0, dry = 0, dry_seen = 0, dry_max = 0;
	kvp_u32 q = 0, blk = 0, i, pos;
	kvp_u64 scanned = 0;

	if (!want || !st->warm)
		return 0;
	if (st->phase == KVP_PHASE_DECODE && !(st->p.flags & KVP_P_RAW))
		n = kvp_pick_new(st, want, out, prio, now);
	i = st->hand;
	pos = st->hand_pos;
	if (i >= st->nlines * KVP_LINE || pos >= st->nlines * KVP_LINE)
		i = pos = 0;

	while (n < want) {
		struct kvp_ent *e = i < st->nent ? &ents[i] : (struct kvp_ent *)0;

		if (e) {
			q = kvp_queue_of(st, i);
			blk = i - q * bph;
		}
		if (e && kvp_tier_of(e) == KVP_TIER_WARM && !e->pins &&
		    !kvp_protected(st, &heads[q], blk)) {
			kvp_u32 pr = kvp_entry_prio(st, e, now);
			kvp_u32 b = kvp_entry_rank(st, e, now, pr);

			st->hist[b]++;
			looked++;
			dry_seen = 1;
			if (b > dry_max)
				dry_max = b;
			if (b >= st->thr) {
				kvp_take(st, e, now);
				if (prio)
					prio[n] = pr;
				out[n++] = i;
				st->sweep_victims++;
				if (looked <= 1 && ++st->easy >= 4) {
					st->easy = 0;
					if (st->thr < KVP_NB - 1)
						st->thr++;
				}
				looked = 0;
				dry = 0;
				dry_seen = 0;
				dry_max = 0;
			} else if (looked >= st->p.scan_limit) {
				st->thr = st->thr > 2 ? st->thr - 2 : 0;
				st->easy = 0;
				looked = 0;
			}
		}
		scanned++;
		/* advance the hand: the next entry of the line, or the next line */
		if (++i % KVP_LINE == 0) {
			kvp_u32 line = i / KVP_LINE - 1 + st->stride;

			if (line >= st->nlines)
				line -= st->nlines;
			i = line * KVP_LINE;
		}
		if (++pos == st->nlines * KVP_LINE) {
			pos = 0;
			kvp_sweep_end(st);
		}
		/*
		 * A whole sweep without a victim: nothing is eligible at thr.
		 * Drop thr to the highest bucket seen in that sweep (the next
		 * pass then finds it: 'now' is fixed within a call), or stop
		 * when nothing eligible was seen at all.
		 */
		if (++dry >= st->nlines * KVP_LINE) {
			if (!dry_seen)
				break;
			st->thr = dry_max;
			dry = 0;
			dry_seen = 0;
			dry_max = 0;
		}
	}
	st->hand_pos = pos;
	st->hand = i;
	st->s.victims += n;
	st->s.scanned += scanned;
	return (int)n;
}

/**
 * kvp_pick_victims() - choose WARM blocks to demote.
 * @st: state.
 * @want: how many victims the caller needs.
 * @out: array of at least @want entries, filled with global block indexes.
 * @now: current step.
 *
 * Never returns a pinned, protected (sink / recent window) or non-WARM
 * block, and never the same block twice: returned blocks become EVICTING
 * until the caller reports kvp_set_cold() or kvp_set_resident(KVP_BY_ABORT).
 * Returns fewer than @want only when fewer eligible blocks exist.
 * Highest rank leaves first: (1 - ema)^beta x age by default, beta adapted
 * by ghost misses; the priority (1 - ema) * (1 - exp(-age/tau)) with
 * KVP_P_RAW; the newest newcomers first while the sweep would take them
 * (see kvp_entry_rank(), KVP_NEW and the file comment for how the CLOCK
 * threshold approximates that order).
 *
 * Return: the number of victims written to @out (>= 0).
 */
int kvp_pick_victims(struct kvp_state *st, kvp_u32 want, kvp_u32 *out,
		     kvp_u32 now)
{
	return kvp_pick(st, want, out, (kvp_u32 *)0, now);
}

/**
 * kvp_pick_victims_prio() - kvp_pick_victims(), with each victim's priority.
 * @st: state.
 * @want: how many victims the caller needs.
 * @out: array of at least @want entries, filled with global block indexes.
 * @prio: array of at least @want entries: @prio[i] is the eviction priority
 *        of @out[i] at @now, Q16 in [0, KVP_ONE]: (1 - ema) * (1 - exp(-age /
 *        tau)) with age = @now - last + 1, or the decay alone in PREFILL (the
 *        value the sweep compared; see kvp_priority_q16()).
 * @now: current step.
 *
 * Picks exactly the victims kvp_pick_victims() would pick from the same
 * state and leaves them EVICTING the same way.  Priorities of different
 * states are comparable (each taken at its own @now, all on one [0, 1]
 * scale), so a caller that serves several states from one budget can merge
 * their victims by priority and hand the ones it does not take back with
 * kvp_set_resident(KVP_BY_ABORT).
 *
 * Return: the number of victims written to @out and @prio (>= 0).
 */
int kvp_pick_victims_prio(struct kvp_state *st, kvp_u32 want, kvp_u32 *out,
			  kvp_u32 *prio, kvp_u32 now)
{
	return kvp_pick(st, want, out, prio, now);
}

/* ---- prefetch ---------------------------------------------------------- */

static inline int kvp_pf_cand(const struct kvp_ent *e, kvp_u32 co,
			      kvp_u32 ref)
{
	return kvp_tier_of(e) == KVP_TIER_COLD && (!co || e->last == ref);
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
 * (KVP_P_PF_ADAPT) or pf_window.  Nothing in PREFILL or without
 * KVP_P_PREFETCH.  The caller promotes them and calls
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
	if (!(st->p.flags & KVP_P_PREFETCH) || st->phase != KVP_PHASE_DECODE)
		return 0;
	q = kvp_queue_of(st, idx);
	h = &kvp_heads(st)[q];
	base = q * st->g.blocks_per_head;
	blk = idx - base;
	w = (st->p.flags & KVP_P_PF_ADAPT) ? h->w : st->p.pf_window;
	/* co-use: only neighbours last used in the step P was last used */
	co = !(st->p.flags & KVP_P_RAW) && st->pf_idx == idx;
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
 * @since: step: blocks used (read, hinted or written) at or after it are the
 *	head's hot set (the layer pipeline passes the step before the one
 *	being computed).
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

/* ---- introspection ----------------------------------------------------- */

/**
 * kvp_entry_get() - decode one entry.
 * @st: state.
 * @idx: global block index.
 * @out: filled.
 *
 * Return: 0 or -KVP_EINVAL for a bad index.
 */
int kvp_entry_get(const struct kvp_state *st, kvp_u32 idx,
		  struct kvp_entry_info *out)
{
	const struct kvp_ent *e;

	if (idx >= st->nent)
		return -KVP_EINVAL;
	e = &kvp_ents(st)[idx];
	out->tier = kvp_tier_of(e);
	out->pins = e->pins;
	out->ema_q16 = e->ema;
	out->last_step = e->last;
	out->cold_copy = !!(e->fl & KVP_E_COLDCOPY);
	out->prefetched = !!(e->fl & KVP_E_PF);
	out->hinted = !!(e->fl & KVP_E_HINTED);
	return 0;
}

/**
 * kvp_get_stats() - copy out the counters.
 * @st: state.
 * @out: filled.
 */
void kvp_get_stats(const struct kvp_state *st, struct kvp_stats *out)
{
	*out = st->s;
	out->victim_age = st->vage;
	out->beta = st->beta;
}

/**
 * kvp_warm_count() - blocks currently WARM (EVICTING ones excluded).
 * @st: state.
 *
 * Return: the count.
 */
kvp_u64 kvp_warm_count(const struct kvp_state *st)
{
	return st->warm;
}

/**
 * kvp_cand_cmp() - the order in which candidates of several states go.
 * @x: a candidate.
 * @y: another.
 *
 * Highest priority first; among equal ones a state's earlier candidates
 * (the states interleave), then the state that has given less (so states
 * of equal priority give alike over the rounds), then the lower @ord.
 *
 * Return: < 0 if @x goes first, > 0 if @y does, 0 if they are the same.
 */
int kvp_cand_cmp(const struct kvp_cand *x, const struct kvp_cand *y)
{
	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->given != y->given)
		return x->given < y->given ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}
