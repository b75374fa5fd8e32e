// SPDX-License-Identifier: GPL-2.0
/*
 * promote.c - moving pages from the cold tier to the warm tier.
 *
 * Promotion: COLD -> KV_RD (owned by the promoter) under the lock, the page
 * is allocated and read without the lock, then installed under the lock.
 * Faults on a KV_RD page wait on kv_space.wq.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "kv.h"
#include "move.h"

/*
 * A promotion runs in chunks of at most KV_RD_CHUNK pages.  The pages to
 * read into are allocated first, without kv_space.lock, for as many cold
 * pages as the chunk needs; then under the lock the chunk's cold pages go
 * KV_RD, each with one of them, and their reads are submitted.  So:
 *   - batch memory is proportional to the pages that need I/O, at most one
 *     chunk's per synchronous call (an all-warm range allocates nothing);
 *   - the first allocation failure ends the promotion (-ENOMEM), having
 *     read what it had pages for;
 *   - a space's release waits only for reads in flight, never for an
 *     allocation (kv_space.inflight is raised when the reads are submitted);
 *   - kv_space.lock is held for at most KV_SCAN_STEP entries at a time.
 */
#define KV_RD_CHUNK	256	/* pages read per batch */
#define KV_SCAN_STEP	4096	/* entries looked at per kv_space.lock hold */

/**
 * struct kv_promo - an asynchronous promotion of one or more batches
 * @pending: batches not finished, + 1 while submitting.
 * @err: first error.
 * @async: called once with @err when the last batch has finished.
 */
struct kv_promo {
	atomic_t pending;
	int err;
	struct kv_async *async;
};

static void kv_promo_put(struct kv_promo *pr, int ret)
{
	if (ret)
		cmpxchg(&pr->err, 0, ret);
	if (!atomic_dec_and_test(&pr->pending))
		return;
	pr->async->done(pr->async, READ_ONCE(pr->err));
	kfree(pr);
}

/*
 * Decode item @it's packed object from the batch's read buffer into its
 * page: straight from the buffer page when the object is inside one slot,
 * through @scratch (a page, allocated on first use) when it straddles two.
 */
static int kv_promote_decode(struct kv_batch *b, struct kv_item *it,
			     void **scratch, void **dws)
{
	struct kv_space *sp = b->sp;
	u32 a, bend, off, len = KV_OBJ_LEN(it->obj), n0;
	u8 *p0, *p1;
	int err;

	err = kv_batch_obj_err(it);
	if (err)
		return err;
	off = kv_obj_read_span(sp->tiers, it->obj, &a, &bend);
	p0 = kmap_local_page(it->buf[0]);
	if (!it->buf[1]) {
		err = kv_obj_decode(sp, it->pg, it->obj, p0 + off, it->page,
				    dws);
		goto out_unmap;
	}
	if (!*scratch)
		*scratch = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!*scratch) {
		err = -ENOMEM;
		goto out_unmap;
	}
	n0 = PAGE_SIZE - off;
	memcpy(*scratch, p0 + off, n0);
	p1 = kmap_local_page(it->buf[1]);
	memcpy((u8 *)*scratch + n0, p1, len - n0);
	kunmap_local(p1);
	err = kv_obj_decode(sp, it->pg, it->obj, *scratch, it->page, dws);
out_unmap:
	kunmap_local(p0);
	if (err == -EIO)
		kv_stat_inc(sp, io_errors);
	return err;
}

/* Install the pages of a promotion batch; called once, without the lock. */
static int kv_promote_finish(struct kv_batch *b)
{
	struct kv_space *sp = b->sp;
	struct kv_tiers *t = sp->tiers;
	void *dws = NULL, *scratch = NULL;
	int ret = 0;
	u32 i;

	/* Packed objects: decode into the page, or fail it whole. */
	for (i = 0; i < b->n; i++) {
		struct kv_item *it = &b->it[i];

		if (it->buf[0] && !it->err && it->page)
			it->err = kv_promote_decode(b, it, &scratch, &dws);
		it->buf[0] = NULL;
		it->buf[1] = NULL;
	}
	kv_batch_rbuf_free(b);
	kfree(scratch);
	kvfree(dws);

	mutex_lock(&sp->lock);
	for (i = 0; i < b->n; i++) {
		struct kv_item *it = &b->it[i];
		struct kv_entry *e = &sp->ent[it->pg];

		if (WARN_ON_ONCE(e->state != KV_RD))
			continue;
		if (it->err || !it->page) {
			e->state = KV_COLD;
			e->flags &= ~KV_F_PIPE;
			/* The faults that waited for it give up (SIGBUS). */
			if (b->fault)
				e->flags |= KV_F_RDERR;
			if (it->page)
				kv_warm_free(t, sp, it->page);
			ret = it->err ?: -ENOMEM;
			/* A fault's block went to the policy as resident. */
			kv_pol_sync_block(sp, kv_pg_block(sp, it->pg),
					  KVP_BY_ABORT);
			continue;
		}
		e->page = it->page;
		e->state = KV_WARM;
		/* KV_F_PIPE: unless a fault waited for the read (late). */
		e->flags = (b->prefetch ? KV_F_PREFETCH : 0) |
			   (e->flags & KV_F_PIPE);
		kv_stat_inc(sp, promotions);
		kv_stat_add(sp, cold_pages, -1);
		kv_stat_add(sp, nvme_read_bytes,
			    it->obj ? it->bytes : PAGE_SIZE);
		if (b->prefetch)
			kv_stat_inc(sp, prefetch_issued);
		if (b->fault)
			kv_stat_inc(sp, faults_cold);
		kv_pol_sync_block(sp, kv_pg_block(sp, it->pg),
				  b->prefetch ? KVP_BY_PREFETCH : KVP_BY_DEMAND);
	}
	mutex_unlock(&sp->lock);
	wake_up_all(&sp->wq);
	if (b->fault && !ret)
		kv_stats_record_latency(sp, ktime_to_ns(ktime_sub(ktime_get(),
								   b->t0)));
	return ret;
}

static void kv_promote_work(struct work_struct *work)
{
	struct kv_batch *b = container_of(work, struct kv_batch, work);
	struct kv_space *sp = b->sp;
	int ret;

	ret = kv_promote_finish(b);
	if (b->pr)
		kv_promo_put(b->pr, ret);
	kv_space_io_end(sp);
	kv_batch_free(b);
}

/*
 * Count the cold pages among @pgs into @cold and add the resident ones to
 * @resident, dropping the lock every KV_SCAN_STEP entries.
 */
static int kv_promote_count(struct kv_space *sp, const u64 *pgs, u32 n,
			    u64 *cold, u64 *resident)
{
	u32 i = 0, end;

	*cold = 0;
	while (i < n) {
		end = i + min_t(u32, n - i, KV_SCAN_STEP);
		mutex_lock(&sp->lock);
		if (sp->dead) {
			mutex_unlock(&sp->lock);
			return -ESHUTDOWN;
		}
		for (; i < end; i++) {
			u8 state = sp->ent[pgs[i]].state;

			if (state == KV_WARM || state == KV_WB)
				(*resident)++;
			else if (state == KV_COLD)
				(*cold)++;
		}
		mutex_unlock(&sp->lock);
		cond_resched();
	}
	return 0;
}

/* One of the @np pages in @pages, on node @nid if there is one. */
static struct page *kv_take_page(struct page **pages, u32 *np, int nid)
{
	u32 j, k = *np - 1;
	struct page *page;

	for (j = 0; j < *np; j++) {
		if (page_to_nid(pages[j]) == nid) {
			k = j;
			break;
		}
	}
	page = pages[k];
	pages[k] = pages[--*np];
	return page;
}

/**
 * kv_promote_fault() - start the read of a page a fault has made KV_RD.
 * @sp: space (mapped by the faulting task: its release cannot run).
 * @pg: the page, KV_RD, owned from now on by the batch.
 * @slot: its cold slot.
 * @page: the warm page to read into (handed over).
 * @t0: when the fault began (cold fault latency).
 *
 * The read completes and installs the page from kv_wq; the fault waits for
 * KV_RD to end like any other, killable (see kv_fault()).  A failed read
 * leaves the page KV_COLD with KV_F_RDERR.
 *
 * Return: 0, or -ENOMEM (nothing started; @page is still the caller's).
 */
int kv_promote_fault(struct kv_space *sp, u64 pg, u32 slot, struct page *page,
		     ktime_t t0)
{
	struct kv_batch *b = kv_batch_alloc(sp, 1);

	if (!b)
		return -ENOMEM;
	b->fault = true;
	b->nowait = true;
	b->t0 = t0;
	INIT_WORK(&b->work, kv_promote_work);
	b->it[0].b = b;
	b->it[0].pg = pg;
	b->it[0].slot = slot;
	b->it[0].obj = READ_ONCE(sp->ent[pg].obj);
	b->it[0].page = page;
	atomic_inc(&sp->inflight);
	kv_batch_submit(b, 1, REQ_OP_READ);
	kv_batch_put(b);
	return 0;
}

/*
 * Start the reads of @b's first @m items without waiting: kv_promote_work()
 * finishes them and, with @pr, counts them in the uring completion.  The
 * batch is the I/O's from here.
 */
static void kv_promote_submit_async(struct kv_batch *b, u32 m,
				    struct kv_promo *pr)
{
	b->n = m;
	b->nowait = true;
	b->pr = pr;
	if (pr)
		atomic_inc(&pr->pending);
	INIT_WORK(&b->work, kv_promote_work);
	kv_batch_submit(b, m, REQ_OP_READ);
	kv_batch_put(b);
}

/*
 * kv_promote_pages() with KV_PROMOTE_TRY: a non-blocking uring issue.  One
 * hold of kv_space.lock, taken with a trylock, covers the count, the warm
 * pages (kv_warm_try_alloc(): no wait for room, no direct reclaim) and the
 * KV_RD transitions, so that it either starts the reads of every cold page
 * among @pgs in one batch or returns -EAGAIN having changed nothing (the
 * counters included): the lock is busy, more than KV_SCAN_STEP pages or one
 * chunk of cold ones, or a page or a buffer could not be had at once.
 * submit_bio() may still sleep briefly for a request (as any block I/O
 * issued from a submitting task does); nothing waits for the reads.
 */
static int kv_promote_try(struct kv_space *sp, const u64 *pgs, u32 n,
			  int mode, bool prefetch, struct kv_async *async,
			  u64 *issued, u64 *resident)
{
	const gfp_t gfp = GFP_NOWAIT | __GFP_NOWARN;
	struct kv_tiers *t = sp->tiers;
	struct kv_promo *pr = NULL;
	struct kv_batch *b;
	u64 cold = 0, res = 0;
	u32 i, m = 0;
	int ret = -EAGAIN;

	if (n > KV_SCAN_STEP || !mutex_trylock(&sp->lock))
		return -EAGAIN;
	if (sp->dead) {
		ret = -ESHUTDOWN;
		goto out_unlock;
	}
	for (i = 0; i < n; i++) {
		u8 state = sp->ent[pgs[i]].state;

		if (state == KV_WARM || state == KV_WB)
			res++;
		else if (state == KV_COLD)
			cold++;
	}
	if (!cold) {
		ret = 0;
		goto out_counted;
	}
	/* more than the budget: the blocking path says -ENOSPC */
	if (cold > KV_RD_CHUNK || cold > t->budget)
		goto out_unlock;
	b = kv_batch_alloc_gfp(sp, cold, gfp);
	if (!b)
		goto out_unlock;
	if (async) {
		pr = kzalloc(sizeof(*pr), gfp);
		if (!pr)
			goto out_free_batch;
		atomic_set(&pr->pending, 1);
		pr->async = async;
	}
	for (i = 0; i < n && m < cold; i++) {
		struct kv_item *it = &b->it[m];

		if (sp->ent[pgs[i]].state != KV_COLD)
			continue;
		it->page = kv_warm_try_alloc(t, sp, kv_pg_node(sp, pgs[i]));
		if (!it->page)
			goto out_free_pages;
		it->b = b;
		it->pg = pgs[i];
		m++;
	}
	/* committed: the pages go KV_RD */
	for (i = 0; i < m; i++) {
		struct kv_item *it = &b->it[i];
		struct kv_entry *e = &sp->ent[it->pg];

		e->state = KV_RD;
		e->flags &= ~KV_F_RDERR;
		if (mode & KV_PROMOTE_PIPE)
			e->flags |= KV_F_PIPE;
		it->slot = e->slot;
		it->obj = e->obj;
	}
	atomic_inc(&sp->inflight);
	mutex_unlock(&sp->lock);

	*issued += m;
	*resident += res;
	b->prefetch = prefetch;
	kv_promote_submit_async(b, m, pr);
	if (!pr)
		return 0;
	kv_promo_put(pr, 0);
	return -EIOCBQUEUED;

out_free_pages:
	while (m)
		kv_warm_free(t, sp, b->it[--m].page);
	kfree(pr);
out_free_batch:
	mutex_unlock(&sp->lock);
	kv_batch_free(b);
	return ret;
out_counted:
	*resident += res;
out_unlock:
	mutex_unlock(&sp->lock);
	return ret;
}

/**
 * kv_promote_pages() - make pages of @sp resident.
 * @sp: space.
 * @pgs: page indices.
 * @n: how many.
 * @prefetch: count as prefetch (stats, policy).
 * @mode: KV_PROMOTE_WAIT: return when done; KV_PROMOTE_NOWAIT: return once
 *	submitted; @async != NULL: like NOWAIT and call @async->done at the end.
 *	Or'ed in: KV_PROMOTE_PIPE (the layer pipeline's reads), KV_PROMOTE_TRY
 *	(with NOWAIT or @async: never sleep, see kv_promote_try()).
 * @async: completion for uring_cmd, or NULL.
 * @issued: out: pages whose reads were started.
 * @resident: out: pages already warm.
 *
 * Reads in chunks (see above).  Stops at the first allocation failure, at
 * the first failed chunk (WAIT), on a fatal signal (WAIT), and before
 * anything when the cold pages among @pgs outnumber the warm budget (they
 * could never all be resident at once).
 *
 * Context: process, no kv_space.lock held (allocations may wait for room).
 * Return: 0, -EAGAIN (KV_PROMOTE_TRY: nothing done), -EIOCBQUEUED when @async will be called (with the first error
 * of any chunk, or 0), or -errno: -ENOSPC (more cold pages than the
 * budget; nothing done), -ENOMEM (a warm page could not be had: the reads
 * started before it are done (WAIT) or go on), -EIO (WAIT: a read failed),
 * -EINTR (WAIT: fatal signal), -ESHUTDOWN (the space is going away).
 */
int kv_promote_pages(struct kv_space *sp, const u64 *pgs, u32 n, int mode,
		     bool prefetch, struct kv_async *async, u64 *issued,
		     u64 *resident)
{
	bool nowait = async || mode & KV_PROMOTE_NOWAIT, nomem = false;
	struct kv_tiers *t = sp->tiers;
	struct kv_promo *pr = NULL;
	struct kv_batch *b = NULL;
	struct page **pages;
	u32 i = 0, j, np = 0, cap = 0, nbatch = 0;
	u64 cold, left;
	int ret;

	if (mode & KV_PROMOTE_TRY) {
		if (WARN_ON_ONCE(!nowait))
			return -EAGAIN;
		return kv_promote_try(sp, pgs, n, mode, prefetch, async,
				      issued, resident);
	}
	ret = kv_promote_count(sp, pgs, n, &cold, resident);
	if (ret || !cold)
		return ret;
	if (cold > t->budget)
		return -ENOSPC;
	pages = kmalloc_array(min_t(u64, cold, KV_RD_CHUNK), sizeof(*pages),
			      GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	if (async) {
		pr = kzalloc(sizeof(*pr), GFP_KERNEL);
		if (!pr) {
			kfree(pages);
			return -ENOMEM;
		}
		atomic_set(&pr->pending, 1);
		pr->async = async;
	}

	for (left = cold; i < n && left && !nomem && !ret;) {
		u32 want = min_t(u64, left, KV_RD_CHUNK), m = 0, end;

		if (!nowait && fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		/*
		 * 1: pages for the next cold pages (a peek without the lock),
		 * each on its page's node; stop at the first failure.
		 */
		for (j = i; np < want && j < n; j++) {
			struct page *page;

			if (!((j - i + 1) % KV_SCAN_STEP))
				cond_resched();
			if (READ_ONCE(sp->ent[pgs[j]].state) != KV_COLD)
				continue;
			page = kv_warm_alloc(t, sp, kv_pg_node(sp, pgs[j]), false);
			if (!page) {
				nomem = true;
				break;
			}
			pages[np++] = page;
		}
		if (!np)
			break;
		if (!b || cap < np) {
			if (b)
				kv_batch_free(b);
			b = kv_batch_alloc(sp, np);
			if (!b) {
				ret = -ENOMEM;
				break;
			}
			cap = np;
		}
		b->n = cap;
		b->prefetch = prefetch;

		/* 2: the chunk's cold pages go KV_RD, a page each. */
		mutex_lock(&sp->lock);
		if (sp->dead) {
			mutex_unlock(&sp->lock);
			ret = -ESHUTDOWN;
			break;
		}
		for (end = i + min_t(u32, n - i, KV_SCAN_STEP); i < end && np; i++) {
			struct kv_entry *e = &sp->ent[pgs[i]];
			struct kv_item *it;

			if (e->state != KV_COLD)
				continue;
			it = &b->it[m++];
			e->state = KV_RD;
			e->flags &= ~KV_F_RDERR;
			if (mode & KV_PROMOTE_PIPE)
				e->flags |= KV_F_PIPE;
			it->b = b;
			it->pg = pgs[i];
			it->slot = e->slot;
			it->obj = e->obj;
			it->bytes = 0;
			it->buf[0] = NULL;
			it->buf[1] = NULL;
			it->page = kv_take_page(pages, &np, kv_pg_node(sp, pgs[i]));
			it->err = 0;
		}
		if (m)
			atomic_inc(&sp->inflight);
		mutex_unlock(&sp->lock);
		if (!m) {
			cond_resched();
			continue;
		}

		/* 3: read them. */
		b->n = m;
		*issued += m;
		left -= min_t(u64, left, m);
		if (nowait) {
			kv_promote_submit_async(b, m, pr);
			b = NULL;
			nbatch++;
			continue;
		}
		kv_batch_submit(b, m, REQ_OP_READ);
		kv_batch_put(b);
		wait_for_completion(&b->done);
		ret = kv_promote_finish(b);
		kv_space_io_end(sp);
		atomic_set(&b->pending, 1);
		reinit_completion(&b->done);
	}
	if (nomem && !ret)
		ret = -ENOMEM;

	while (np)
		kv_warm_free(t, sp, pages[--np]);
	kfree(pages);
	if (b)
		kv_batch_free(b);
	if (!pr)
		return ret;
	if (!nbatch) {
		kfree(pr);
		return ret;
	}
	kv_promo_put(pr, ret);
	return -EIOCBQUEUED;
}
