// SPDX-License-Identifier: GPL-2.0
/*
 * warm.c - the warm tier's pages: budget, per-uid limits, per-node pools.
 *
 * Warm tier: CPU-less NUMA nodes whose memory is in ZONE_NORMAL (the kmem
 * node of a CXL dax device).  Pages come from alloc_pages_node() with
 * __GFP_THISNODE, charged against a page budget first (kv_warm_alloc()).
 * Over the high watermark the demotion worker (reclaim.c) is kicked; at the
 * budget an allocation waits for it (bounded) or fails.  Freed pages are
 * pooled per node (inside the budget) and taken first by the next
 * allocation, so a promotion neither allocates nor zeroes a page.
 */
#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagevec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "kv.h"

#define KV_ROOM_WAIT		(10 * HZ)	/* longest wait for warm room */

/* Index of warm node @nid in @t->nodes (striping only names those). */
static u32 kv_node_idx(const struct kv_tiers *t, int nid)
{
	u32 i;

	for (i = 1; i < t->nr_nodes; i++)
		if (t->nodes[i] == nid)
			return i;
	return 0;
}

/*
 * The pool.  Invariant: warm + nr_pooled <= budget.  A page moves between
 * data (@warm) and the pool with its charge: into the pool nr_pooled rises
 * before warm falls, out of it warm rises before nr_pooled falls, so a
 * racing charge may wait once too often but never overshoots.
 */
static struct page *kv_pool_take(struct kv_tiers *t, int nid)
{
	u32 i = kv_node_idx(t, nid);
	struct page *page = NULL;

	if (!READ_ONCE(t->nr_pool[i]))
		return NULL;
	spin_lock(&t->pool_lock);
	if (t->nr_pool[i]) {
		page = t->pool[i][--t->nr_pool[i]];
		atomic64_inc(&t->warm);
		WRITE_ONCE(t->nr_pooled, t->nr_pooled - 1);
	}
	spin_unlock(&t->pool_lock);
	return page;
}

/*
 * Keep @page for reuse if its pool has room and nobody else holds a
 * reference (a GUP pin taken through the user mapping would see the next
 * user's data).  Returns false if the caller must free it.
 */
static bool kv_pool_put(struct kv_tiers *t, struct page *page)
{
	u32 i = kv_node_idx(t, page_to_nid(page));
	bool kept = false;

	if (READ_ONCE(t->nr_pool[i]) >= t->pool_max || page_count(page) != 1)
		return false;
	spin_lock(&t->pool_lock);
	if (t->nr_pool[i] < t->pool_max) {
		ClearPageDirty(page);
		t->pool[i][t->nr_pool[i]++] = page;
		WRITE_ONCE(t->nr_pooled, t->nr_pooled + 1);
		atomic64_dec(&t->warm);
		kept = true;
	}
	spin_unlock(&t->pool_lock);
	return kept;
}

/**
 * kv_warm_pool_drain() - free every pooled page (last space gone, detach).
 * @t: tier set.
 */
void kv_warm_pool_drain(struct kv_tiers *t)
{
	struct page *page;
	u32 i;

	for (i = 0; i < t->nr_nodes; i++) {
		for (;;) {
			spin_lock(&t->pool_lock);
			page = t->nr_pool[i] ? t->pool[i][--t->nr_pool[i]] : NULL;
			if (page)
				WRITE_ONCE(t->nr_pooled, t->nr_pooled - 1);
			spin_unlock(&t->pool_lock);
			if (!page)
				break;
			put_page(page);
		}
	}
	if (wq_has_sleeper(&t->room_wq))
		wake_up_all(&t->room_wq);
}

static bool kv_room(struct kv_tiers *t)
{
	return atomic64_read(&t->warm) + READ_ONCE(t->nr_pooled) < t->budget ||
	       READ_ONCE(t->nr_pooled);
}

static bool kv_user_room(struct kv_tiers *t, struct kv_user *u)
{
	return atomic64_read(&u->warm) < t->user_warm;
}

/* Uncharge @n warm pages of @sp from its uid (none once it is detached). */
static void kv_user_uncharge(struct kv_space *sp, u32 n)
{
	if (sp && sp->user)
		atomic64_sub(n, &sp->user->warm);
}

/*
 * Charge one warm page to @sp's uid, waiting (killable, until @deadline)
 * while the uid is at its limit: the demotion worker demotes that uid's own
 * pages meanwhile.  Returns false (nothing charged) on timeout or a fatal
 * signal.
 */
static bool kv_user_charge(struct kv_tiers *t, struct kv_space *sp,
			   unsigned long deadline, bool *waited)
{
	struct kv_user *u = sp ? sp->user : NULL;

	if (!u)
		return true;
	if (!u->limited) {
		atomic64_inc(&u->warm);
		return true;
	}
	for (;;) {
		if (atomic64_inc_return(&u->warm) <= t->user_warm)
			return true;
		atomic64_dec(&u->warm);
		if (!*waited) {
			kv_stat_inc(sp, alloc_waits);
			*waited = true;
		}
		WRITE_ONCE(u->reclaim, true);
		kv_kick_demotion(t);
		if (wait_event_killable_timeout(t->room_wq,
						kv_user_room(t, u), HZ / 10) < 0 ||
		    time_after(jiffies, deadline))
			return false;
	}
}

/* @page is charged to @t and @sp: count it, kick the worker above high. */
static struct page *kv_warm_charged(struct kv_tiers *t, struct kv_space *sp,
				    struct page *page)
{
	if (atomic64_read(&t->warm) > t->high_wmark)
		kv_kick_demotion(t);
	kv_stat_inc(sp, warm_pages);
	return page;
}

/**
 * kv_warm_alloc() - a page on warm node @nid, charged to the budget.
 * @t: tier set.
 * @sp: space to account to.
 * @nid: node.
 * @zero: zero the page (else its old contents remain: only for pages the
 *	caller overwrites whole before anyone sees them).
 *
 * A pooled page of @nid is taken first.  Else waits (killable, at most
 * KV_ROOM_WAIT) for the demotion worker when the budget or @sp's uid's warm
 * limit is used up.  Never invokes the OOM killer (__GFP_THISNODE |
 * __GFP_NORETRY).
 *
 * Context: process; must not hold any kv_space.lock.
 * Return: the page (refcount 1) or NULL: timed out, no free page on @nid,
 * or a fatal signal is pending (returned at once).
 */
struct page *kv_warm_alloc(struct kv_tiers *t, struct kv_space *sp, int nid,
			   bool zero)
{
	gfp_t gfp = GFP_HIGHUSER | __GFP_THISNODE | __GFP_NOWARN |
		    __GFP_NORETRY | (zero ? __GFP_ZERO : 0);
	unsigned long deadline = jiffies + KV_ROOM_WAIT;
	bool waited = false;
	struct page *page;

	might_sleep();
	if (fatal_signal_pending(current) ||
	    !kv_user_charge(t, sp, deadline, &waited))
		goto out_fail;
	for (;;) {
		page = kv_pool_take(t, nid);
		if (page) {
			if (zero)
				clear_highpage(page);
			goto out_charged;
		}
		if (atomic64_inc_return(&t->warm) + READ_ONCE(t->nr_pooled) <=
		    t->budget)
			break;
		atomic64_dec(&t->warm);
		/* Full: pooled pages of other nodes are of no use to @nid. */
		if (READ_ONCE(t->nr_pooled))
			kv_warm_pool_drain(t);
		if (!waited) {
			kv_stat_inc(sp, alloc_waits);
			waited = true;
		}
		kv_kick_demotion(t);
		if (wait_event_killable_timeout(t->room_wq, kv_room(t), HZ / 10) < 0 ||
		    time_after(jiffies, deadline))
			goto out_uncharge_user;
	}

	page = alloc_pages_node(nid, gfp, 0);
	if (!page) {
		atomic64_dec(&t->warm);
		wake_up_all(&t->room_wq);
		pr_warn_ratelimited("cxl_kv: no free page on warm node %d\n", nid);
		goto out_uncharge_user;
	}
out_charged:
	return kv_warm_charged(t, sp, page);

out_uncharge_user:
	kv_user_uncharge(sp, 1);
out_fail:
	kv_stat_inc(sp, alloc_fails);
	return NULL;
}

/**
 * kv_warm_try_alloc() - kv_warm_alloc() that never waits.
 * @t: tier set.
 * @sp: space to account to.
 * @nid: node.
 *
 * For a non-blocking uring issue (KV_PROMOTE_TRY): no wait for room (the
 * demotion worker is kicked and NULL returned, the caller punts to io-wq,
 * whose retry waits), no direct reclaim, not zeroed, nothing counted in
 * alloc_waits or alloc_fails.
 *
 * Context: process; may hold kv_space.lock (takes only kv_tiers.pool_lock).
 * Return: the page (refcount 1) or NULL.
 */
struct page *kv_warm_try_alloc(struct kv_tiers *t, struct kv_space *sp,
			       int nid)
{
	gfp_t gfp = (GFP_HIGHUSER & ~__GFP_DIRECT_RECLAIM) | __GFP_THISNODE |
		    __GFP_NOWARN;
	struct kv_user *u = sp->user;
	struct page *page;

	if (u) {
		if (atomic64_inc_return(&u->warm) > t->user_warm && u->limited) {
			atomic64_dec(&u->warm);
			WRITE_ONCE(u->reclaim, true);
			kv_kick_demotion(t);
			return NULL;
		}
	}
	page = kv_pool_take(t, nid);
	if (page)
		goto out_charged;
	if (atomic64_inc_return(&t->warm) + READ_ONCE(t->nr_pooled) >
	    t->budget) {
		atomic64_dec(&t->warm);
		kv_kick_demotion(t);
		goto out_uncharge_user;
	}
	page = alloc_pages_node(nid, gfp, 0);
	if (!page) {
		atomic64_dec(&t->warm);
		wake_up_all(&t->room_wq);
		goto out_uncharge_user;
	}
out_charged:
	return kv_warm_charged(t, sp, page);

out_uncharge_user:
	kv_user_uncharge(sp, 1);
	return NULL;
}

/* Uncharge @n pages freed from @sp; wake allocations waiting for room. */
static void kv_warm_uncharge(struct kv_tiers *t, struct kv_space *sp, u32 n)
{
	kv_stat_add(sp, warm_pages, -(s64)n);
	kv_user_uncharge(sp, n);
	atomic64_sub(n, &t->warm);
	if (wq_has_sleeper(&t->room_wq))
		wake_up_all(&t->room_wq);
}

/**
 * kv_warm_free() - drop the module's reference to a warm page, uncharge it.
 * @t: tier set.
 * @sp: space it was accounted to.
 * @page: the page; already unmapped from user space.
 *
 * The page may be kept in the pool for the next kv_warm_alloc().
 */
void kv_warm_free(struct kv_tiers *t, struct kv_space *sp, struct page *page)
{
	if (kv_pool_put(t, page)) {
		kv_stat_add(sp, warm_pages, -1);
		kv_user_uncharge(sp, 1);
		if (wq_has_sleeper(&t->room_wq))
			wake_up_all(&t->room_wq);
		return;
	}
	ClearPageDirty(page);
	put_page(page);
	kv_warm_uncharge(t, sp, 1);
}

/**
 * kv_warm_free_batch() - kv_warm_free() of the pages in @fb, released at once.
 * @t: tier set.
 * @sp: space they were accounted to.
 * @fb: folios (order 0) already unmapped from user space; emptied.
 */
void kv_warm_free_batch(struct kv_tiers *t, struct kv_space *sp,
			struct folio_batch *fb)
{
	u32 i, j = 0, n = folio_batch_count(fb);

	if (!n)
		return;
	for (i = 0; i < n; i++) {
		struct folio *f = fb->folios[i];

		if (kv_pool_put(t, &f->page))
			continue;
		folio_clear_dirty(f);
		fb->folios[j++] = f;
	}
	fb->nr = j;
	folios_put(fb);
	kv_stat_add(sp, warm_pages, -(s64)(n - j));
	kv_user_uncharge(sp, n - j);
	kv_warm_uncharge(t, sp, j);
}
