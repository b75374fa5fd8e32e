// SPDX-License-Identifier: GPL-2.0
/*
 * reclaim.c - the demotion worker: keeps the warm tier under its watermarks.
 *
 * Past the high watermark kv_warm_alloc() kicks the worker; it demotes until
 * warm pages are down to the low watermark, in rounds.  A round ranks the
 * blocks of all live spaces against each other: every space's policy names
 * its best victims together with their eviction priority
 * (kvp_pick_victims_prio(): (1 - ema) * recency decay, Q16 in [0, 1], each
 * space at its own step counter, so the values compare across spaces), the
 * candidates are merged by priority, the globally highest ones are demoted
 * with kv_demote_pages() (demote.c) and the others are handed back to their
 * policies.  A space of hot blocks thus keeps them while a space of stale
 * ones pays; spaces of equal priority pay about equally (ties interleave
 * the spaces and go to the one that has given fewer pages).  Which blocks a
 * space offers stays the policy core's business; this file only merges.
 *
 * Two things the policy does not know about are handled here:
 *
 *  - per-uid warm limits: an allocation that finds its uid at the limit sets
 *    kv_user.reclaim; the next rounds rank only that uid's spaces and demote
 *    it down to its target (the limit scaled like the low watermark), so
 *    the tenant over its share pays, not the others.  A uid whose cold slot
 *    limit is used up is left out of the global rounds (its dirty pages
 *    could not be written; it would stop the worker for everyone).
 *  - bounded protection: the policy never offers sink and recent blocks.
 *    When a round finds nothing to take while the warm tier is full (the
 *    budget used up: allocations wait), or in the round of a uid at its
 *    warm limit, the worker takes protected blocks too, highest eviction
 *    priority first, down to the low watermark (kv_round_protected()):
 *    protected pages never make an allocation fail while they could leave.
 */
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "kv.h"

/**
 * kv_kick_demotion() - start the worker if it is not running.
 * @t: tier set.
 */
void kv_kick_demotion(struct kv_tiers *t)
{
	queue_work(system_unbound_wq, &t->demote_work);
}

#define KV_RANK_CAND	64	/* blocks demoted per round, asked of each space */
#define KV_PASS_SPACES	32	/* spaces looked at per round */

/**
 * struct kv_reclaim - the worker's buffers, allocated with the tier set
 * @sps: the spaces of the current round, a reference held on each.
 * @cand: the candidates of all of them (at most KV_RANK_CAND per space).
 * @blks: one space's answer: block indexes ...
 * @prio: ... and their priorities.
 * @pgs: the pages of one space's taken blocks.
 *
 * Only kv_demote_work() uses them, and it never runs twice at once (one
 * work item, always queued on system_unbound_wq), so they need no lock.
 * About 34 KiB: kept off the stack.
 */
struct kv_reclaim {
	struct kv_space *sps[KV_PASS_SPACES];
	struct kvp_cand cand[KV_PASS_SPACES * KV_RANK_CAND];
	u32 blks[KV_RANK_CAND];
	u32 prio[KV_RANK_CAND];
	u64 pgs[2 * KV_RANK_CAND];
};

/**
 * kv_reclaim_init() - allocate the demotion worker's buffers.
 * @t: tier set being attached (the worker cannot run yet).
 *
 * Return: 0 or -ENOMEM.
 */
int kv_reclaim_init(struct kv_tiers *t)
{
	BUILD_BUG_ON(KV_PASS_SPACES > U8_MAX + 1);
	BUILD_BUG_ON(KV_RANK_CAND > U16_MAX + 1);
	t->rc = kvzalloc(sizeof(*t->rc), GFP_KERNEL);
	return t->rc ? 0 : -ENOMEM;
}

/**
 * kv_reclaim_exit() - free the demotion worker's buffers.
 * @t: tier set; its worker is cancelled and cannot be queued again.
 */
void kv_reclaim_exit(struct kv_tiers *t)
{
	kvfree(t->rc);
	t->rc = NULL;
}

static int kv_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static int kv_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* kvp_cand_cmp() (the policy core's order) for sort(). */
static int kv_cand_cmp_prio(const void *a, const void *b)
{
	return kvp_cand_cmp(a, b);
}

/* Grouped by space, ascending blocks within a space. */
static int kv_cand_cmp_space(const void *a, const void *b)
{
	const struct kvp_cand *x = a, *y = b;

	if (x->ord != y->ord)
		return x->ord < y->ord ? -1 : 1;
	return x->blk < y->blk ? -1 : x->blk > y->blk;
}

/*
 * Ask each space of the round for up to @want victims and their priorities;
 * they are EVICTING in their policies from here until settled.  Returns the
 * candidates collected.  One space's lock at a time.
 */
static u32 kv_round_collect(struct kv_reclaim *rc, u32 n, u32 want)
{
	u32 ord, nc = 0;
	int nv, i;

	for (ord = 0; ord < n; ord++) {
		struct kv_space *sp = rc->sps[ord];
		u64 given = atomic64_read(&sp->stats.demotions) +
			    atomic64_read(&sp->stats.clean_drops);

		mutex_lock(&sp->lock);
		nv = sp->dead ? 0 : kvp_pick_victims_prio(sp->pol, want, rc->blks,
							   rc->prio, sp->step);
		mutex_unlock(&sp->lock);
		if (WARN_ON_ONCE(nv > (int)want))
			nv = 0;
		for (i = 0; i < nv; i++) {
			struct kvp_cand *c = &rc->cand[nc++];

			c->prio = rc->prio[i];
			c->blk = rc->blks[i];
			c->given = min_t(u64, given, U32_MAX);
			c->rank = i;
			c->ord = ord;
			c->taken = 0;
		}
	}
	return nc;
}

/* End of the run of candidates of one space that starts at @i. */
static u32 kv_run_end(const struct kv_reclaim *rc, u32 i, u32 nc)
{
	u32 j = i + 1;

	while (j < nc && rc->cand[j].ord == rc->cand[i].ord)
		j++;
	return j;
}

/*
 * Settle the candidates of [@i, @j) (one space) whose ->taken equals
 * @taken: kv_pol_sync_block() derives each block's tier from its pages, so
 * a block still EVICTING goes back to WARM (KVP_BY_ABORT) and a demoted one
 * to COLD.
 */
static void kv_run_settle(struct kv_reclaim *rc, struct kv_space *sp,
			  u32 i, u32 j, bool taken)
{
	mutex_lock(&sp->lock);
	for (; i < j; i++)
		if (!!rc->cand[i].taken == taken)
			kv_pol_sync_block(sp, rc->cand[i].blk, KVP_BY_ABORT);
	mutex_unlock(&sp->lock);
}

/*
 * The pages of the taken candidates of [@i, @j) (one space, ascending
 * blocks) into @rc->pgs, ascending: per (layer, head) the K pages of its
 * blocks, then their V pages (its V stream follows its K stream).  Returns
 * how many.
 */
static u32 kv_run_pages(struct kv_reclaim *rc, const struct kv_space *sp,
			u32 i, u32 j)
{
	u32 k = 0, c, e, qh;

	for (; i < j; i = e) {
		qh = rc->cand[i].blk / sp->bph;
		for (e = i; e < j && rc->cand[e].blk / sp->bph == qh; e++)
			;
		for (c = i; c < e; c++)
			if (rc->cand[c].taken)
				rc->pgs[k++] = kv_block_pg(sp, rc->cand[c].blk, 0);
		for (c = i; c < e; c++)
			if (rc->cand[c].taken)
				rc->pgs[k++] = kv_block_pg(sp, rc->cand[c].blk, 1);
	}
	return k;
}

/*
 * Keep the @want best (highest priority) of the candidates offered in
 * @rc->blks/@rc->prio[0, *@nb): replace the lowest when full.
 */
static void kv_prot_offer(struct kv_reclaim *rc, u32 *nb, u32 want, u32 blk,
			  u32 prio)
{
	u32 i, lo = 0;

	if (*nb < want) {
		rc->blks[*nb] = blk;
		rc->prio[(*nb)++] = prio;
		return;
	}
	for (i = 1; i < *nb; i++)
		if (rc->prio[i] < rc->prio[lo])
			lo = i;
	if (prio > rc->prio[lo]) {
		rc->blks[lo] = blk;
		rc->prio[lo] = prio;
	}
}

#define KV_PROT_SCAN	1024	/* blocks looked at per lock hold */

/*
 * The warm, unpinned, protected blocks of @sp with the highest eviction
 * priority, at most @want, into @rc->blks (ascending).  Visits only the
 * protected blocks (kvp_protected_next(): a few per head), not every block
 * of the space, dropping the lock every KV_PROT_SCAN of them; the demotion
 * checks again.
 */
static u32 kv_prot_collect(struct kv_reclaim *rc, struct kv_space *sp,
			   u32 want)
{
	u32 nblk = sp->nr_pages / 2, blk, nb = 0, tau, seen = 0;
	struct kvp_entry_info info;
	struct kvp_params par;

	mutex_lock(&sp->lock);
	kvp_get_params(sp->pol, &par);
	tau = par.tau_steps ?: 1;
	for (blk = kvp_protected_next(sp->pol, 0); blk < nblk && !sp->dead;
	     blk = kvp_protected_next(sp->pol, blk + 1)) {
		const struct kv_entry *k = &sp->ent[kv_block_pg(sp, blk, 0)];
		const struct kv_entry *v = &sp->ent[kv_block_pg(sp, blk, 1)];

		if (++seen % KV_PROT_SCAN == 0) {
			mutex_unlock(&sp->lock);
			cond_resched();
			mutex_lock(&sp->lock);
		}
		if (k->state != KV_WARM && v->state != KV_WARM)
			continue;
		if (kvp_entry_get(sp->pol, blk, &info) ||
		    info.tier != KVP_TIER_WARM || info.pins)
			continue;
		kv_prot_offer(rc, &nb, want, blk,
			      kvp_priority_q16(info.ema_q16,
					       sp->step - info.last_step + 1, tau));
	}
	mutex_unlock(&sp->lock);
	sort(rc->blks, nb, sizeof(rc->blks[0]), kv_cmp_u32, NULL);
	return nb;
}

/*
 * The fallback of a round that freed nothing under pressure: demote up to
 * @need protected blocks of the @n spaces in @rc->sps, the highest
 * priorities of each space first, spread over the spaces in turn.
 * Returns the pages freed.
 */
static u64 kv_round_protected(struct kv_reclaim *rc, u32 n, u32 need)
{
	u32 ord, per = max_t(u32, DIV_ROUND_UP(need, n), 1);
	u64 freed = 0;

	for (ord = 0; ord < n && freed < 2ULL * need; ord++) {
		struct kv_space *sp = rc->sps[ord];
		u32 nb, i, k = 0;
		u64 done = 0;

		nb = kv_prot_collect(rc, sp, min_t(u32, per, KV_RANK_CAND));
		if (!nb)
			continue;
		/* K pages of each block, then V pages, in page order. */
		for (i = 0; i < nb; i++)
			rc->pgs[k++] = kv_block_pg(sp, rc->blks[i], 0);
		for (i = 0; i < nb; i++)
			rc->pgs[k++] = kv_block_pg(sp, rc->blks[i], 1);
		sort(rc->pgs, k, sizeof(rc->pgs[0]), kv_cmp_u64, NULL);
		kv_demote_pages(sp, rc->pgs, k, &done);
		mutex_lock(&sp->lock);
		for (i = 0; i < nb; i++)
			kv_pol_sync_block(sp, rc->blks[i], KVP_BY_ABORT);
		mutex_unlock(&sp->lock);
		freed += done;
	}
	if (freed)
		pr_debug("cxl_kv: demoted %llu pages of protected blocks\n",
			 freed);
	return freed;
}

/* One round over the @n spaces in @rc->sps; returns the pages freed. */
static u64 kv_round(struct kv_reclaim *rc, u32 n, u32 need)
{
	u32 nc, i, j, c, k;
	u64 freed = 0;

	nc = kv_round_collect(rc, n, need);
	/* The @need highest priorities of all spaces are taken. */
	sort(rc->cand, nc, sizeof(rc->cand[0]), kv_cand_cmp_prio, NULL);
	for (i = 0; i < nc && i < need; i++)
		rc->cand[i].taken = 1;
	sort(rc->cand, nc, sizeof(rc->cand[0]), kv_cand_cmp_space, NULL);

	/*
	 * Hand back what was not taken before any I/O starts: those blocks
	 * are EVICTING only while the round ranks.
	 */
	for (i = 0; i < nc; i = j) {
		j = kv_run_end(rc, i, nc);
		for (c = i; c < j && rc->cand[c].taken; c++)
			;
		if (c < j)	/* one was not taken */
			kv_run_settle(rc, rc->sps[rc->cand[i].ord], i, j, false);
	}
	/* Demote the taken ones, space by space. */
	for (i = 0; i < nc; i = j) {
		struct kv_space *sp = rc->sps[rc->cand[i].ord];
		u64 done = 0;

		j = kv_run_end(rc, i, nc);
		k = kv_run_pages(rc, sp, i, j);
		if (!k)
			continue;
		kv_demote_pages(sp, rc->pgs, k, &done);
		/* Victims whose pages were all skipped are still EVICTING. */
		kv_run_settle(rc, sp, i, j, true);
		freed += done;
	}
	return freed;
}

/*
 * No warm room at all: allocations wait (or are about to).  Only then do
 * protected blocks yield: above the high watermark a round may find nothing
 * merely because the policy's scan was cut short (scan_limit), and the
 * recent blocks are the ones being written.
 */
static bool kv_tier_full(struct kv_tiers *t)
{
	return atomic64_read(&t->warm) + READ_ONCE(t->nr_pooled) >= t->budget;
}

/* A limited uid at its cold slot limit: its dirty pages cannot leave. */
static bool kv_user_cold_full(const struct kv_tiers *t, const struct kv_user *u)
{
	return u->limited && READ_ONCE(u->cold) >= t->user_cold;
}

/*
 * A uid that asked for room at its warm limit and is still above its target,
 * with the blocks to demote from it (at most KV_RANK_CAND), or NULL.  Clears
 * the requests of those already below.  Context: spaces_lock held.
 */
static struct kv_user *kv_user_over(struct kv_tiers *t, u32 *need)
{
	u64 target = div64_u64(t->user_warm * t->low_wmark, t->budget);
	struct kv_user *u;

	lockdep_assert_held(&t->spaces_lock);
	list_for_each_entry(u, &t->users, node) {
		s64 over;

		if (!READ_ONCE(u->reclaim))
			continue;
		over = atomic64_read(&u->warm) - target;
		if (over <= 0) {
			WRITE_ONCE(u->reclaim, false);
			continue;
		}
		*need = min_t(u64, DIV_ROUND_UP(over, 2), KV_RANK_CAND);
		/* Several uids over: they take turns. */
		list_rotate_to_front(&u->node, &t->users);
		list_rotate_left(&t->users);
		return u;
	}
	return NULL;
}

/* @u's request is served (or cannot be): clear it if @u is still there. */
static void kv_user_done(struct kv_tiers *t, const struct kv_user *who)
{
	struct kv_user *u;

	spin_lock(&t->spaces_lock);
	list_for_each_entry(u, &t->users, node)
		if (u == who)
			WRITE_ONCE(u->reclaim, false);
	spin_unlock(&t->spaces_lock);
}

/**
 * kv_demote_work() - the demotion worker.
 * @work: kv_tiers.demote_work.
 *
 * While warm pages exceed the low watermark, run rounds.  A round takes a
 * reference on up to KV_PASS_SPACES live spaces (with more, the window moves
 * on by one space per round) and ranks them:
 *
 *  1. need = the excess over the low watermark in blocks (two pages each),
 *     at most KV_RANK_CAND;
 *  2. every space's policy offers up to need victims with their priorities
 *     (kvp_pick_victims_prio() at the space's own step); the global top need
 *     are necessarily among them;
 *  3. the need highest of all are taken; ties go to a space's earlier
 *     candidates (the spaces interleave), then to the space that has given
 *     fewer pages so far, so spaces of equal priority give alike;
 *  4. the others are handed back (kv_pol_sync_block(): EVICTING ->
 *     kvp_set_resident(KVP_BY_ABORT)) before any write-back starts;
 *  5. the taken ones are demoted space by space with kv_demote_pages() and
 *     settled the same way (skipped pages stay warm).
 *
 * A uid at its warm limit (kv_user.reclaim) is served first, by rounds over
 * its spaces alone.  When a round frees nothing under pressure (the budget
 * used up, or a uid's round), protected blocks are taken
 * (kv_round_protected()).  Each space's lock is taken on its own, never two
 * at once.  Stops when a round frees nothing even so (everything pinned, or
 * the cold tier full); waiters on room_wq then time out and fail cleanly.
 */
void kv_demote_work(struct work_struct *work)
{
	struct kv_tiers *t = container_of(work, struct kv_tiers, demote_work);
	struct kv_reclaim *rc = t->rc;

	for (;;) {
		s64 over = atomic64_read(&t->warm) - t->low_wmark;
		struct kv_user *who;
		struct kv_space *sp;
		u32 n = 0, i, need = 0;
		u64 freed;

		spin_lock(&t->spaces_lock);
		who = kv_user_over(t, &need);
		if (!who) {
			if (over <= 0) {
				spin_unlock(&t->spaces_lock);
				break;
			}
			need = min_t(u64, DIV_ROUND_UP(over, 2), KV_RANK_CAND);
		}
		list_for_each_entry(sp, &t->spaces, node) {
			if (n == KV_PASS_SPACES)
				break;
			if (who ? sp->user != who :
			    kv_user_cold_full(t, sp->user))
				continue;
			kref_get(&sp->ref);
			rc->sps[n++] = sp;
		}
		/* More spaces than a round holds: the window moves on by one. */
		if (t->nr_spaces > KV_PASS_SPACES)
			list_rotate_left(&t->spaces);
		spin_unlock(&t->spaces_lock);

		freed = n ? kv_round(rc, n, need) : 0;
		if (!freed && n && (who || kv_tier_full(t)))
			freed = kv_round_protected(rc, n, need);
		for (i = 0; i < n; i++)
			kv_space_put(rc->sps[i]);
		wake_up_all(&t->room_wq);
		if (!freed) {
			if (!who)
				break;
			/* Nothing to take from this uid: its waiters fail. */
			kv_user_done(t, who);
		}
		cond_resched();
	}
	wake_up_all(&t->room_wq);
}
