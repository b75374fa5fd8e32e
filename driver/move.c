// SPDX-License-Identifier: GPL-2.0
/*
 * move.c - moving pages between the warm and the cold tier.
 *
 * Demotion follows zram's writeback: under kv_space.lock the mover marks a
 * WARM page KV_F_ZAP and locks it; without the lock it zaps the page's user
 * mappings and takes a slot; under the lock again the page goes KV_WB (the
 * mover owns it from then on).  The writes are submitted as async bios, a
 * chunk (KV_WB_CHUNK pages) at once, up to KV_WB_DEPTH chunks in flight;
 * when a chunk's writes have completed the mover retakes the lock and
 * revalidates every page of it:
 *
 *   - write failed              -> WARM, dirty, slot freed
 *   - faulted (TOUCHED) or pinned -> WARM; the slot is kept as a valid cold
 *     meanwhile                    copy unless the page was written (DIRTY)
 *   - otherwise                 -> COLD, the warm page is freed
 *
 * The race this closes: a fault between the zap and the end of the write
 * maps the page again (kv_fault() sees KV_WB and sets KV_F_TOUCHED); freeing
 * it at completion would leave a user PTE on a freed page.  Nothing but the
 * owner changes state while KV_WB, so the revalidation is a flag test.
 *
 * Promotion: COLD -> KV_RD (owned by the promoter) under the lock, the page
 * is allocated and read without the lock, then installed under the lock.
 * Faults on a KV_RD page wait on kv_space.wq.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "cxl_kv.h"

/**
 * struct kv_item - one page of an I/O batch
 * @b: the batch.
 * @pg: page index in the space.
 * @page: the warm page read into / written from.
 * @slot: the cold slot.
 * @err: 0 or -errno of its bio.
 * @nr: for the first item of a bio: the items (pages) that bio carries.
 */
struct kv_item {
	struct kv_batch *b;
	u64 pg;
	struct page *page;
	u32 slot;
	int err;
	u32 nr;
};

/**
 * struct kv_batch - pages moved together
 * @sp: the space; a reference is held while the batch exists.
 * @pending: bios in flight + 1 while submitting.
 * @done: completed when @pending drops to zero (synchronous batches).
 * @work: runs kv_promote_finish() (asynchronous promotions).
 * @async: caller's completion or NULL.
 * @prefetch: promoted by PREFETCH.
 * @nowait: asynchronous: finished from @work.
 * @pins: kv_space.pins when a demotion batch went to write-back.
 * @n: items.
 * @it: the items.
 */
struct kv_batch {
	struct kv_space *sp;
	atomic_t pending;
	struct completion done;
	struct work_struct work;
	struct kv_async *async;
	bool prefetch;
	bool nowait;
	u32 pins;
	u32 n;
	struct kv_item it[] __counted_by(n);
};

static struct block_device *kv_slot_bdev(struct kv_tiers *t, u32 slot,
					 sector_t *sector)
{
	*sector = (sector_t)(slot / t->nr_cold) << (PAGE_SHIFT - SECTOR_SHIFT);
	return file_bdev(t->cold[slot % t->nr_cold].file);
}

/**
 * kv_read_slot() - synchronously read cold slot @slot into @page.
 * @t: tier set.
 * @slot: slot.
 * @page: destination.
 *
 * Return: 0 or -errno.
 */
int kv_read_slot(struct kv_tiers *t, u32 slot, struct page *page)
{
	struct bio_vec bv;
	struct bio bio;
	sector_t sector;
	int ret;

	bio_init(&bio, kv_slot_bdev(t, slot, &sector), &bv, 1, REQ_OP_READ);
	bio.bi_iter.bi_sector = sector;
	__bio_add_page(&bio, page, PAGE_SIZE, 0);
	ret = submit_bio_wait(&bio);
	bio_uninit(&bio);
	return ret;
}

static struct kv_batch *kv_batch_alloc(struct kv_space *sp, u32 n)
{
	struct kv_batch *b;

	b = kvzalloc(struct_size(b, it, n), GFP_KERNEL);
	if (!b)
		return NULL;
	b->n = n;
	b->sp = sp;
	kref_get(&sp->ref);
	atomic_set(&b->pending, 1);
	init_completion(&b->done);
	return b;
}

static void kv_batch_free(struct kv_batch *b)
{
	kv_space_put(b->sp);
	kvfree(b);
}

static void kv_batch_put(struct kv_batch *b)
{
	if (!atomic_dec_and_test(&b->pending))
		return;
	if (b->nowait)
		queue_work(kv_wq, &b->work);
	else
		complete(&b->done);
}

static void kv_bio_end(struct bio *bio)
{
	struct kv_item *it = bio->bi_private;
	int err = blk_status_to_errno(bio->bi_status);
	u32 i;

	if (err) {
		for (i = 0; i < it->nr; i++)
			it[i].err = err;
		kv_stat_inc(it->b->sp, io_errors);
	}
	bio_put(bio);
	kv_batch_put(it->b);
}

/*
 * Submit the items that have a page and no error; runs of items whose
 * slots are consecutive on one device share a bio (up to BIO_MAX_VECS).
 */
static void kv_batch_submit(struct kv_batch *b, u32 n, blk_opf_t op)
{
	struct kv_tiers *t = b->sp->tiers;
	struct blk_plug plug;
	unsigned int noio;
	u32 i, j;

	noio = memalloc_noio_save();
	blk_start_plug(&plug);
	for (i = 0; i < n; i = j) {
		struct kv_item *it = &b->it[i];
		struct block_device *bdev;
		struct bio *bio;
		sector_t sector;

		j = i + 1;
		if (!it->page || it->err)
			continue;
		bdev = kv_slot_bdev(t, it->slot, &sector);
		bio = bio_alloc(bdev, min_t(u32, n - i, BIO_MAX_VECS), op,
				GFP_NOIO);
		bio->bi_iter.bi_sector = sector;
		__bio_add_page(bio, it->page, PAGE_SIZE, 0);
		/* bio_add_page() merges physically contiguous pages. */
		for (; j < n && j - i < BIO_MAX_VECS; j++) {
			struct kv_item *nx = &b->it[j];
			sector_t s2;

			if (!nx->page || nx->err ||
			    kv_slot_bdev(t, nx->slot, &s2) != bdev ||
			    s2 != sector + (sector_t)(j - i) * (PAGE_SIZE >> SECTOR_SHIFT) ||
			    bio_add_page(bio, nx->page, PAGE_SIZE, 0) != PAGE_SIZE)
				break;
		}
		it->nr = j - i;
		bio->bi_private = it;
		bio->bi_end_io = kv_bio_end;
		atomic_inc(&b->pending);
		submit_bio(bio);
	}
	blk_finish_plug(&plug);
	memalloc_noio_restore(noio);
}

static void kv_space_io_end(struct kv_space *sp)
{
	if (atomic_dec_and_test(&sp->inflight))
		wake_up_all(&sp->wq);
}

/* ---------------------------------------------------------------------- */
/* promotion                                                               */
/* ---------------------------------------------------------------------- */

/* Install the pages of a promotion batch; called once, without the lock. */
static int kv_promote_finish(struct kv_batch *b)
{
	struct kv_space *sp = b->sp;
	struct kv_tiers *t = sp->tiers;
	int ret = 0;
	u32 i;

	mutex_lock(&sp->lock);
	for (i = 0; i < b->n; i++) {
		struct kv_item *it = &b->it[i];
		struct kv_entry *e = &sp->ent[it->pg];

		if (WARN_ON_ONCE(e->state != KV_RD))
			continue;
		if (it->err || !it->page) {
			e->state = KV_COLD;
			if (it->page)
				kv_warm_free(t, sp, it->page);
			ret = it->err ?: -ENOMEM;
			continue;
		}
		e->page = it->page;
		e->state = KV_WARM;
		e->flags = b->prefetch ? KV_F_PREFETCH : 0;
		kv_stat_inc(sp, promotions);
		kv_stat_add(sp, cold_pages, -1);
		kv_stat_add(sp, nvme_read_bytes, PAGE_SIZE);
		if (b->prefetch)
			kv_stat_inc(sp, prefetch_issued);
		kv_pol_sync_block(sp, kv_pg_block(sp, it->pg),
				  b->prefetch ? KVP_BY_PREFETCH : KVP_BY_DEMAND);
	}
	mutex_unlock(&sp->lock);
	wake_up_all(&sp->wq);
	return ret;
}

static void kv_promote_work(struct work_struct *work)
{
	struct kv_batch *b = container_of(work, struct kv_batch, work);
	struct kv_space *sp = b->sp;
	int ret;

	ret = kv_promote_finish(b);
	if (b->async)
		b->async->done(b->async, ret);
	kv_space_io_end(sp);
	kv_batch_free(b);
}

/**
 * kv_promote_pages() - make pages of @sp resident.
 * @sp: space.
 * @pgs: page indices.
 * @n: how many.
 * @prefetch: count as prefetch (stats, policy).
 * @mode: KV_PROMOTE_WAIT: return when done; KV_PROMOTE_NOWAIT: return once
 *	submitted; @async != NULL: like NOWAIT and call @async->done at the end.
 * @async: completion for uring_cmd, or NULL.
 * @issued: out: pages whose reads were started.
 * @resident: out: pages already warm.
 *
 * Context: process, no kv_space.lock held (allocations may wait for room).
 * Return: 0, -EIOCBQUEUED when @async will be called, or -errno (the first
 * failure; WAIT only).
 */
int kv_promote_pages(struct kv_space *sp, const u64 *pgs, u32 n, int mode,
		     bool prefetch, struct kv_async *async, u64 *issued,
		     u64 *resident)
{
	struct kv_tiers *t = sp->tiers;
	struct kv_batch *b;
	u32 i, k = 0;
	int ret = 0;

	b = kv_batch_alloc(sp, n);
	if (!b)
		return -ENOMEM;
	b->prefetch = prefetch;

	mutex_lock(&sp->lock);
	if (sp->dead) {
		mutex_unlock(&sp->lock);
		kv_batch_free(b);
		return -ESHUTDOWN;
	}
	for (i = 0; i < n; i++) {
		struct kv_entry *e = &sp->ent[pgs[i]];

		if (e->state == KV_WARM || e->state == KV_WB)
			(*resident)++;
		if (e->state != KV_COLD)
			continue;
		e->state = KV_RD;
		b->it[k].b = b;
		b->it[k].pg = pgs[i];
		b->it[k].slot = e->slot;
		k++;
	}
	if (k)
		atomic_inc(&sp->inflight);
	mutex_unlock(&sp->lock);

	if (!k) {
		kv_batch_free(b);
		return 0;
	}
	b->n = k;
	*issued += k;
	for (i = 0; i < k; i++) {
		struct kv_item *it = &b->it[i];

		it->page = kv_warm_alloc(t, sp, kv_pg_node(sp, it->pg), false);
		if (!it->page)
			it->err = -ENOMEM;
	}
	if (async || mode == KV_PROMOTE_NOWAIT) {
		b->nowait = true;
		b->async = async;
		INIT_WORK(&b->work, kv_promote_work);
		kv_batch_submit(b, k, REQ_OP_READ);
		kv_batch_put(b);
		return async ? -EIOCBQUEUED : 0;
	}
	kv_batch_submit(b, k, REQ_OP_READ);
	kv_batch_put(b);
	wait_for_completion(&b->done);
	ret = kv_promote_finish(b);
	kv_space_io_end(sp);
	kv_batch_free(b);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* demotion                                                                */
/* ---------------------------------------------------------------------- */

static int kv_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static bool kv_block_pinned(struct kv_space *sp, u64 pg)
{
	struct kvp_entry_info info;

	if (kvp_entry_get(sp->pol, kv_pg_block(sp, pg), &info))
		return false;
	return info.pins != 0;
}

/*
 * A demotion is a pipeline of chunks: while the writes of up to
 * KV_WB_DEPTH chunks are in flight the mover prepares the next one (lock,
 * zap, take slots) and finishes (revalidates, frees) those whose writes
 * completed, so its CPU work overlaps the I/O.  Finishing in a worker
 * instead was not faster on the 2-CPU guest, on this CPU (slower under
 * load, mixed otherwise) or on the other one, and costs a wake-up and a
 * lock handover per chunk.
 */
#define KV_WB_CHUNK	256	/* pages prepared and written together */
#define KV_WB_DEPTH	8	/* chunks in flight */

/**
 * struct kv_demoter - one demotion in progress (kv_demote_begin())
 * @sp: the space; the caller holds a reference.
 * @fly: chunks in flight, oldest at @head (a ring of @nr).
 * @head: index of the oldest.
 * @nr: chunks in @fly.
 * @done: pages that left the warm tier.
 * @ret: first error.
 * @spare: finished batches kept for the next chunks (@nspare of them).
 * @nspare: batches in @spare.
 * @zap: scratch for kv_demote_prepare(): the chunk's pages, sorted.
 * @slots: scratch for kv_demote_prepare(): the chunk's slots.
 *
 * Owned by one task; the chunks' pages are KV_WB and belong to it.
 */
struct kv_demoter {
	struct kv_space *sp;
	struct kv_batch *fly[KV_WB_DEPTH];
	u32 head;
	u32 nr;
	struct kv_batch *spare[KV_WB_DEPTH + 1];
	u32 nspare;
	u64 done;
	int ret;
	u64 zap[KV_WB_CHUNK];
	u32 slots[KV_WB_CHUNK];
};

/* True if @pg[0..n) is ascending (what callers pass, nearly always). */
static bool kv_sorted(const u64 *pg, u32 n)
{
	u32 i;

	for (i = 1; i < n; i++)
		if (pg[i] < pg[i - 1])
			return false;
	return true;
}

/*
 * A batch for one chunk: a spare one, or a new one.  At most KV_WB_DEPTH
 * are in flight and one is being prepared, so the spares are all the
 * batches a demotion allocates.
 */
static struct kv_batch *kv_demote_batch(struct kv_demoter *d)
{
	struct kv_batch *b;

	if (!d->nspare)
		return kv_batch_alloc(d->sp, KV_WB_CHUNK);
	b = d->spare[--d->nspare];
	b->n = KV_WB_CHUNK;
	atomic_set(&b->pending, 1);
	reinit_completion(&b->done);
	return b;
}

/* Keep a batch that has no I/O left for the next chunk. */
static void kv_demote_unbatch(struct kv_demoter *d, struct kv_batch *b)
{
	if (d->nspare < ARRAY_SIZE(d->spare))
		d->spare[d->nspare++] = b;
	else
		kv_batch_free(b);
}

/* Add a page to free; release the batch when full.  kv_space.lock held. */
static void kv_free_later(struct kv_space *sp, struct folio_batch *fb,
			  struct page *page)
{
	if (!folio_batch_add(fb, page_folio(page)))
		kv_warm_free_batch(sp->tiers, sp, fb);
}

/*
 * Lock, unmap and start the write-back of the WARM pages among @pgs (at
 * most KV_WB_CHUNK), or drop them at once when clean with a valid cold copy.
 * Returns the batch to submit (NULL: nothing to write).
 */
static struct kv_batch *kv_demote_prepare(struct kv_demoter *d, const u64 *pgs,
					  u32 n)
{
	struct kv_space *sp = d->sp;
	struct kv_tiers *t = sp->tiers;
	u32 i, j, k = 0, nz = 0, nw = 0, dropped = 0, got, pins;
	struct folio_batch fb;
	struct kv_batch *b;
	u64 *zap = d->zap;
	bool repin;

	b = kv_demote_batch(d);
	if (!b) {
		d->ret = d->ret ?: -ENOMEM;
		return NULL;
	}
	folio_batch_init(&fb);
	mutex_lock(&sp->lock);
	if (sp->dead) {
		d->ret = d->ret ?: -ESHUTDOWN;
		mutex_unlock(&sp->lock);
		kv_demote_unbatch(d, b);
		return NULL;
	}
	/*
	 * 1: choose the pages, mark them ZAP and lock them (waits out PTE
	 * installs).  Faults and page_mkwrite wait for ZAP to clear instead
	 * of locking such a page under kv_space.lock, so the zap can run
	 * without that lock.
	 */
	for (i = 0; i < n; i++) {
		struct kv_entry *e = &sp->ent[pgs[i]];
		bool write = e->flags & KV_F_DIRTY || e->slot == KV_NO_SLOT;

		/* Out of slots: only clean pages can still leave. */
		if (e->state != KV_WARM || e->flags & KV_F_ZAP ||
		    (write && (d->ret == -ENOSPC || d->ret == -EDQUOT)) ||
		    kv_block_pinned(sp, pgs[i]))
			continue;
		e->flags |= KV_F_ZAP;
		lock_page(e->page);
		zap[nz++] = pgs[i];
		nw += write;
	}
	if (!nz) {
		mutex_unlock(&sp->lock);
		kv_demote_unbatch(d, b);
		return NULL;
	}
	/* Release waits for this as for I/O: it needs sp->file and the pages. */
	atomic_inc(&sp->inflight);
	pins = sp->pins;
	mutex_unlock(&sp->lock);

	/*
	 * 2: zap their mappings, one call per run of consecutive pages, and
	 * take the slots for the dirty ones in one go (ascending: one bio per
	 * run).  Without kv_space.lock: faults elsewhere in the space go on
	 * meanwhile (the zap may wait for TLB shootdowns on their CPUs).
	 */
	if (!kv_sorted(zap, nz))
		sort(zap, nz, sizeof(*zap), kv_cmp_u64, NULL);
	for (i = 0; i < nz; i = j) {
		bool mapped = page_mapped(sp->ent[zap[i]].page);

		for (j = i + 1; j < nz && zap[j] == zap[j - 1] + 1; j++)
			mapped |= page_mapped(sp->ent[zap[j]].page);
		if (mapped)
			unmap_mapping_range(sp->file->f_mapping,
					    (loff_t)zap[i] << PAGE_SHIFT,
					    (loff_t)(j - i) << PAGE_SHIFT, 1);
	}
	got = 0;
	if (d->ret != -ENOSPC && d->ret != -EDQUOT)
		got = kv_slot_alloc_many(sp, d->slots, nw, &d->ret);

	/*
	 * 3: unmapped and locked, and unchanged while ZAP (only PIN could
	 * act meanwhile): drop clean pages, start write-back of dirty ones.
	 */
	mutex_lock(&sp->lock);
	repin = sp->pins != pins;
	b->pins = sp->pins;
	for (i = 0; i < nz; i++) {
		u64 pg = zap[i];
		struct kv_entry *e = &sp->ent[pg];
		struct page *page = e->page;

		unlock_page(page);
		e->flags &= ~KV_F_ZAP;
		if (repin && kv_block_pinned(sp, pg)) {
			/* Pinned during the zap: stays warm, faults back in. */
			continue;
		}
		if (!(e->flags & KV_F_DIRTY) && e->slot != KV_NO_SLOT) {
			/* Clean with a valid cold copy: drop, no I/O. */
			kv_free_later(sp, &fb, page);
			e->page = NULL;
			e->state = KV_COLD;
			e->flags = 0;
			dropped++;
			kv_pol_sync_block(sp, kv_pg_block(sp, pg), KVP_BY_ABORT);
			continue;
		}
		if (WARN_ON_ONCE(e->slot != KV_NO_SLOT)) {
			kv_slot_free(sp, e->slot);
			e->slot = KV_NO_SLOT;
		}
		if (k == got) {
			/* Unmapped but still warm: it simply faults back in. */
			continue;
		}
		e->state = KV_WB;
		/* Any write from now on faults and sets DIRTY again. */
		e->flags &= ~(KV_F_DIRTY | KV_F_TOUCHED | KV_F_PREFETCH);
		e->slot = d->slots[k];
		b->it[k].b = b;
		b->it[k].pg = pg;
		b->it[k].page = page;
		b->it[k].slot = e->slot;
		b->it[k].err = 0;
		k++;
	}
	kv_warm_free_batch(t, sp, &fb);
	d->done += dropped;
	mutex_unlock(&sp->lock);
	/* Faults that found a page ZAP wait on sp->wq. */
	wake_up_all(&sp->wq);
	/* Slots for pages pinned during the zap. */
	while (got > k)
		kv_slot_free(sp, d->slots[--got]);
	kv_stat_add(sp, clean_drops, dropped);
	kv_stat_add(sp, cold_pages, dropped);
	if (!k) {
		kv_space_io_end(sp);
		kv_demote_unbatch(d, b);
		return NULL;
	}
	b->n = k;
	return b;
}

/*
 * Revalidate the pages of a written chunk (see the top of this file) and
 * free the warm copies of those that went cold.  The pages need no I/O
 * reference: while KV_WB only their owner, this demotion, may free them,
 * and release waits for kv_space.inflight to drain.
 */
static void kv_demote_finish(struct kv_demoter *d, struct kv_batch *b)
{
	struct kv_space *sp = b->sp;
	struct kv_tiers *t = sp->tiers;
	u32 i, demoted = 0, aborted = 0;
	struct folio_batch fb;

	folio_batch_init(&fb);
	mutex_lock(&sp->lock);
	for (i = 0; i < b->n; i++) {
		struct kv_item *it = &b->it[i];
		struct kv_entry *e = &sp->ent[it->pg];

		if (WARN_ON_ONCE(e->state != KV_WB || e->page != it->page))
			continue;
		if (it->err) {
			e->state = KV_WARM;
			e->flags |= KV_F_DIRTY;
			kv_slot_free(sp, e->slot);
			e->slot = KV_NO_SLOT;
			if (!d->ret)
				d->ret = it->err;
		} else if (e->flags & (KV_F_TOUCHED | KV_F_DIRTY) ||
			   (sp->pins != b->pins && kv_block_pinned(sp, it->pg))) {
			/*
			 * Touched, written (DIRTY implies a mapping: only
			 * page_mkwrite sets it) or pinned while written:
			 * stays warm.
			 */
			e->state = KV_WARM;
			e->flags &= ~KV_F_TOUCHED;
			if (e->flags & KV_F_DIRTY) {
				kv_slot_free(sp, e->slot);
				e->slot = KV_NO_SLOT;
			}
			aborted++;
		} else {
			kv_free_later(sp, &fb, e->page);
			e->page = NULL;
			e->state = KV_COLD;
			demoted++;
		}
		/* A partner still in write-back settles the block when done. */
		if (sp->ent[kv_pg_partner(sp, it->pg)].state != KV_WB)
			kv_pol_sync_block(sp, kv_pg_block(sp, it->pg), KVP_BY_ABORT);
	}
	kv_warm_free_batch(t, sp, &fb);
	d->done += demoted;
	mutex_unlock(&sp->lock);
	wake_up_all(&sp->wq);
	kv_stat_add(sp, demotions, demoted);
	kv_stat_add(sp, cold_pages, demoted);
	kv_stat_add(sp, wb_aborts, aborted);
	kv_stat_add(sp, nvme_write_bytes,
		    (u64)(demoted + aborted) << PAGE_SHIFT);
	kv_space_io_end(sp);
}

/* Wait for the oldest chunk's writes, finish it and free it. */
static void kv_demote_reap(struct kv_demoter *d)
{
	struct kv_batch *b = d->fly[d->head];

	d->head = (d->head + 1) % KV_WB_DEPTH;
	d->nr--;
	wait_for_completion(&b->done);
	kv_demote_finish(d, b);
	kv_demote_unbatch(d, b);
}

/**
 * kv_demote_begin() - start a demotion of pages of @sp.
 * @sp: space; the caller holds a reference until kv_demote_end().
 *
 * Context: process, no kv_space.lock held.
 * Return: the demoter or NULL (-ENOMEM).
 */
struct kv_demoter *kv_demote_begin(struct kv_space *sp)
{
	struct kv_demoter *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (d)
		d->sp = sp;
	return d;
}

/**
 * kv_demote_add() - demote warm pages, the writes pipelined with earlier ones.
 * @d: from kv_demote_begin().
 * @pgs: page indices.
 * @n: how many.
 *
 * Pinned blocks and pages that are not WARM are skipped.  May return before
 * the last writes completed; kv_demote_end() waits for them.
 *
 * Context: process, no kv_space.lock held.
 * Return: 0, or the first error so far (see kv_demote_end()).  After
 * -ENOSPC or -EDQUOT only clean pages (a valid cold copy, no write needed)
 * still go; after -ENOMEM or -ESHUTDOWN nothing more is started.
 */
int kv_demote_add(struct kv_demoter *d, const u64 *pgs, u32 n)
{
	u32 i, m;

	for (i = 0; i < n; i += m) {
		struct kv_batch *b;

		m = min_t(u32, n - i, KV_WB_CHUNK);
		if (d->ret == -ENOMEM || d->ret == -ESHUTDOWN)
			break;
		b = kv_demote_prepare(d, pgs + i, m);
		if (b) {
			if (d->nr == KV_WB_DEPTH)
				kv_demote_reap(d);
			d->fly[(d->head + d->nr) % KV_WB_DEPTH] = b;
			d->nr++;
			kv_batch_submit(b, b->n, REQ_OP_WRITE);
			kv_batch_put(b);
		}
		/* Free what is already written: others may wait for room. */
		while (d->nr && completion_done(&d->fly[d->head]->done))
			kv_demote_reap(d);
	}
	return d->ret;
}

/**
 * kv_demote_end() - wait for the writes of a demotion and free it.
 * @d: from kv_demote_begin().
 * @done: out: pages that left the warm tier (written or dropped clean) are
 *	added.
 *
 * Return: 0, -ENOSPC if the cold tier ran out of slots, -EDQUOT if the
 * space's uid did (what fitted was demoted either way), -EIO if a write
 * failed (that page stays warm and dirty),
 * -ESHUTDOWN if the space is going away, -ENOMEM.
 */
int kv_demote_end(struct kv_demoter *d, u64 *done)
{
	int ret;

	while (d->nr)
		kv_demote_reap(d);
	while (d->nspare)
		kv_batch_free(d->spare[--d->nspare]);
	*done += d->done;
	ret = d->ret;
	kfree(d);
	return ret;
}

/**
 * kv_demote_pages() - move warm pages of @sp to the cold tier.
 * @sp: space.
 * @pgs: page indices.
 * @n: how many.
 * @done: out: pages that left the warm tier (written or dropped clean).
 *
 * kv_demote_begin() + kv_demote_add() + kv_demote_end(): returns when the
 * writes are done.
 *
 * Context: process, no kv_space.lock held.
 * Return: as kv_demote_end().
 */
int kv_demote_pages(struct kv_space *sp, const u64 *pgs, u32 n, u64 *done)
{
	struct kv_demoter *d = kv_demote_begin(sp);

	if (!d)
		return -ENOMEM;
	kv_demote_add(d, pgs, n);
	return kv_demote_end(d, done);
}
