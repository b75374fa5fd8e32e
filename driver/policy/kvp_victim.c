// SPDX-License-Identifier: GPL-2.0
/*
 * kvp_victim.c - cxl-kv policy core: victim selection.
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
#include "kvp_state.h"

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

/**
 * kvp_protected_next() - the next written protected block.
 * @st: state.
 * @idx: global block index to start at (may be >= the number of entries).
 *
 * The protected blocks of a head are its first sink_blocks and its last
 * recent_blocks written ones: at most sink_blocks + recent_blocks per head,
 * so walking them with this costs O(heads + protected blocks), not
 * O(entries) as asking kvp_is_protected() of every block does (the demotion
 * worker's fallback under pressure, on a space of millions of blocks).
 *
 * Return: the lowest global index >= @idx of a block that is protected and
 * below its head's written length, or the number of entries if there is
 * none (always, without KVP_P_PROTECT).
 */
kvp_u32 kvp_protected_next(const struct kvp_state *st, kvp_u32 idx)
{
	kvp_u32 bph = st->g.blocks_per_head;

	if (!(st->p.flags & KVP_P_PROTECT))
		return st->nent;
	while (idx < st->nent) {
		kvp_u32 q = kvp_queue_of(st, idx), base = q * bph;
		kvp_u32 blk = idx - base, len = kvp_heads(st)[q].len, rs;

		if (len > bph)
			len = bph;
		rs = len > st->recent_blocks ? len - st->recent_blocks : 0;
		if (blk >= st->sink_blocks && blk < rs)
			blk = rs;	/* past the sinks: the recent window */
		if (blk < len)
			return base + blk;
		idx = base + bph;	/* the next head */
	}
	return st->nent;
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
 * score's weight, moved by ghost misses (kvp_ghost()); a block never read
 * since it was written ranks KVP_UNREAD buckets higher (as if twice as old:
 * what is written once and not reused leaves before what was reused, as
 * ARC's seen-once list does); and a head whose evicted blocks rarely come
 * back by demand (under 1 in 4 of the last ~1,000 it gave: a streaming
 * head's blocks that left its window) has all its blocks rank KVP_UNREAD
 * higher, under 1 in 16 twice that, once it has given 64.  PREFILL: age
 * alone (oldest written first).
 */
static inline kvp_u32 kvp_entry_rank(const struct kvp_state *st,
				     const struct kvp_head *h,
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
	if (!(e->fl & KVP_E_READ))
		b += KVP_UNREAD;
	if (h->left >= 64u) {
		if (16u * h->back < h->left)
			b += 2u * KVP_UNREAD;
		else if (4u * h->back < h->left)
			b += KVP_UNREAD;
	}
	if (b >= KVP_NB)
		b = KVP_NB - 1;
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
				if (kvp_entry_rank(st, &kvp_heads(st)[q], e,
						   now, pr) < st->thr)
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
			kvp_u32 b = kvp_entry_rank(st, &heads[q], e, now, pr);

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
