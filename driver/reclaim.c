// SPDX-License-Identifier: GPL-2.0
/*
 * reclaim.c - the demotion worker: keeps the warm tier under its watermarks.
 *
 * Past the high watermark kv_warm_alloc() kicks the worker; it asks the
 * policies of the live spaces for victims and hands them to
 * kv_demote_pages() (move.c) until warm pages are down to the low watermark.
 * Policy (which blocks) stays in the policy core; this file only decides how
 * many to ask each space for.
 */
#include <linux/sched.h>

#include "cxl_kv.h"

/**
 * kv_kick_demotion() - start the worker if it is not running.
 * @t: tier set.
 */
void kv_kick_demotion(struct kv_tiers *t)
{
	queue_work(system_unbound_wq, &t->demote_work);
}

#define KV_DEMOTE_BATCH	64	/* blocks per space per round */
#define KV_PASS_SPACES	32	/* spaces looked at per round */

/* Ask the policy of @sp for victims and demote them; returns pages freed. */
static u64 kv_demote_space(struct kv_space *sp, u32 want)
{
	u32 blks[KV_DEMOTE_BATCH];
	u64 pgs[2 * KV_DEMOTE_BATCH];
	u64 done = 0;
	int nv, i;

	mutex_lock(&sp->lock);
	nv = sp->dead ? 0 : kvp_pick_victims(sp->pol, want, blks, sp->step);
	mutex_unlock(&sp->lock);
	if (nv <= 0)
		return 0;
	for (i = 0; i < nv; i++) {
		pgs[2 * i] = kv_block_pg(sp, blks[i], 0);
		pgs[2 * i + 1] = kv_block_pg(sp, blks[i], 1);
	}
	kv_demote_pages(sp, pgs, 2 * nv, &done);
	/* Victims whose pages were all skipped are still EVICTING: settle. */
	mutex_lock(&sp->lock);
	for (i = 0; i < nv; i++)
		kv_pol_sync_block(sp, blks[i], KVP_BY_ABORT);
	mutex_unlock(&sp->lock);
	return done;
}

/**
 * kv_demote_work() - the demotion worker.
 * @work: kv_tiers.demote_work.
 *
 * While warm pages exceed the low watermark, go round the spaces asking each
 * policy for up to KV_DEMOTE_BATCH victims.  Stops when a whole round frees
 * nothing (everything pinned, protected, or the cold tier full); waiters on
 * room_wq then time out and fail cleanly.
 */
void kv_demote_work(struct work_struct *work)
{
	struct kv_tiers *t = container_of(work, struct kv_tiers, demote_work);
	struct kv_space *sps[KV_PASS_SPACES];

	while (atomic64_read(&t->warm) > t->low_wmark) {
		struct kv_space *sp;
		u64 freed = 0;
		u32 n = 0, i, first;

		spin_lock(&t->spaces_lock);
		list_for_each_entry(sp, &t->spaces, node) {
			if (n == KV_PASS_SPACES)
				break;
			kref_get(&sp->ref);
			sps[n++] = sp;
		}
		first = t->rr++;
		spin_unlock(&t->spaces_lock);

		for (i = 0; i < n; i++) {
			s64 over = atomic64_read(&t->warm) - t->low_wmark;

			sp = sps[(first + i) % n];
			if (over > 0)
				freed += kv_demote_space(sp,
					min_t(u32, KV_DEMOTE_BATCH,
					      DIV_ROUND_UP(over, 2 * n) + 1));
		}
		for (i = 0; i < n; i++)
			kv_space_put(sps[i]);
		wake_up_all(&t->room_wq);
		if (!freed)
			break;
		cond_resched();
	}
	wake_up_all(&t->room_wq);
}
