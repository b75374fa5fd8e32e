// SPDX-License-Identifier: GPL-2.0
/*
 * kvpolicy.c - cxl-kv attention-aware placement policy core: parameters,
 * geometry, state set-up and introspection.
 *
 *
 * State layout (one caller-provided buffer, relocatable: no pointers inside):
 *
 *	struct kvp_state			header, params, stats, histogram
 *	struct kvp_head[layers * kv_heads]	32 bytes per (layer, head)
 *	struct kvp_ent[layers * kv_heads * blocks_per_head]	8 bytes/block
 *
 * The rest of the core: kvp_hooks.c (phase detection, prefetch adaptivity,
 * the hooks: hint EMA, access, write, tier changes, pins), kvp_victim.c
 * (victim selection: newcomer stack and CLOCK), kvp_prefetch.c (prefetch
 * windows and the layer plan), kvp_math.c (fixed point); the state's
 * layout is kvp_state.h.
 *
 * See Documentation/policy.rst for the math and the parameters.
 */
#include "kvp_state.h"

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
 * 8 bytes per block entry, 32 bytes per (layer, head), plus a fixed header
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
