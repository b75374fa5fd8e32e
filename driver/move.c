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
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "kv.h"

/**
 * struct kv_item - one page of an I/O batch
 * @b: the batch.
 * @pg: page index in the space.
 * @page: the warm page read into / written from.
 * @slot: the cold slot.
 * @err: 0 or -errno of its bio.
 * @nr: for the first item of a bio: the items (pages) that bio carries.
 * @obj: 0, or the packed object (kv_entry.obj) @slot holds the page as.
 * @bytes: read: bytes read (0: a page).
 * @bounce: read of a packed object: the two pages it is read into.
 */
struct kv_item {
	struct kv_batch *b;
	u64 pg;
	struct page *page;
	u32 slot;
	int err;
	u32 nr;
	u16 obj;
	u32 bytes;
	struct page *bounce;
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
 * @fault: the read of a cold fault (kv_promote_fault()).
 * @t0: when that fault began.
 * @pr: the asynchronous promotion this batch is part of, or NULL.
 * @pk: a demotion chunk's packed units (pack.c), or NULL.
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
	bool fault;
	u32 pins;
	ktime_t t0;
	struct kv_promo *pr;
	struct kv_pack *pk;
	u32 n;
	struct kv_item it[] __counted_by(n);
};

static struct block_device *kv_slot_bdev(struct kv_tiers *t, u32 slot,
					 sector_t *sector)
{
	*sector = (sector_t)(slot / t->nr_cold) << (PAGE_SHIFT - SECTOR_SHIFT);
	return file_bdev(t->cold[slot % t->nr_cold].file);
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
	u64 bytes;

	if (WARN_ON_ONCE(b->pk))
		kv_pack_done(b->sp, b->pk, &bytes);
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

static void kv_pack_bio_end(struct bio *bio)
{
	struct kv_batch *b = bio->bi_private;
	int err = blk_status_to_errno(bio->bi_status);

	if (err) {
		kv_pack_error(b->pk, err);
		kv_stat_inc(b->sp, io_errors);
	}
	bio_put(bio);
	kv_batch_put(b);
}

/*
 * Read the sectors of a packed object (one slot or two) into a bounce of
 * two pages; kv_promote_finish() decodes it into the item's page.
 */
static void kv_obj_submit_read(struct kv_batch *b, struct kv_item *it)
{
	struct kv_tiers *t = b->sp->tiers;
	u32 a, bend, piece;

	it->bounce = alloc_pages(GFP_NOIO, 1);
	if (!it->bounce) {
		it->err = -ENOMEM;
		return;
	}
	kv_obj_read_span(t, it->obj, &a, &bend);
	it->bytes = bend - a;
	it->nr = 1;
	for (piece = 0; piece < 2; piece++) {
		u32 from = piece ? 0 : a;
		u32 to = piece ? bend - PAGE_SIZE : min_t(u32, bend, PAGE_SIZE);
		struct block_device *bdev;
		struct bio *bio;
		sector_t sector;

		if (piece && bend <= PAGE_SIZE)
			break;
		bdev = kv_slot_bdev(t, it->slot + piece, &sector);
		bio = bio_alloc(bdev, 1, REQ_OP_READ, GFP_NOIO);
		bio->bi_iter.bi_sector = sector + (from >> SECTOR_SHIFT);
		__bio_add_page(bio, it->bounce + piece, to - from, from);
		bio->bi_private = it;
		bio->bi_end_io = kv_bio_end;
		atomic_inc(&b->pending);
		submit_bio(bio);
	}
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
		if (it->obj) {
			/* packed: written with the units, read on its own */
			if (op == REQ_OP_READ)
				kv_obj_submit_read(b, it);
			continue;
		}
		bdev = kv_slot_bdev(t, it->slot, &sector);
		bio = bio_alloc(bdev, min_t(u32, n - i, BIO_MAX_VECS), op,
				GFP_NOIO);
		bio->bi_iter.bi_sector = sector;
		__bio_add_page(bio, it->page, PAGE_SIZE, 0);
		/* bio_add_page() merges physically contiguous pages. */
		for (; j < n && j - i < BIO_MAX_VECS; j++) {
			struct kv_item *nx = &b->it[j];
			sector_t s2;

			if (!nx->page || nx->err || nx->obj ||
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
	if (b->pk && op == REQ_OP_WRITE)
		kv_pack_submit(t, b->pk, &b->pending, b, kv_pack_bio_end);
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

/* Install the pages of a promotion batch; called once, without the lock. */
static int kv_promote_finish(struct kv_batch *b)
{
	struct kv_space *sp = b->sp;
	struct kv_tiers *t = sp->tiers;
	void *dws = NULL;
	int ret = 0;
	u32 i;

	/* Packed objects: decode into the page, or fail it whole. */
	for (i = 0; i < b->n; i++) {
		struct kv_item *it = &b->it[i];
		u32 a, bend, off;

		if (!it->bounce)
			continue;
		if (!it->err && it->page) {
			off = kv_obj_read_span(t, it->obj, &a, &bend);
			it->err = kv_obj_decode(sp, it->pg, it->obj,
						page_address(it->bounce) + off,
						it->page, &dws);
			if (it->err == -EIO)
				kv_stat_inc(sp, io_errors);
		}
		__free_pages(it->bounce, 1);
		it->bounce = NULL;
	}
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
		kv_stat_add(sp, nvme_read_bytes, it->bytes ?: PAGE_SIZE);
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
 * Reads in chunks (see above).  Stops at the first allocation failure, at
 * the first failed chunk (WAIT), on a fatal signal (WAIT), and before
 * anything when the cold pages among @pgs outnumber the warm budget (they
 * could never all be resident at once).
 *
 * Context: process, no kv_space.lock held (allocations may wait for room).
 * Return: 0, -EIOCBQUEUED when @async will be called (with the first error
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
			it->bounce = NULL;
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
			b->nowait = true;
			b->pr = pr;
			if (pr)
				atomic_inc(&pr->pending);
			INIT_WORK(&b->work, kv_promote_work);
			kv_batch_submit(b, m, REQ_OP_READ);
			kv_batch_put(b);
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

/* ---------------------------------------------------------------------- */
/* demotion                                                                */
/* ---------------------------------------------------------------------- */

static int kv_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * True if an unmapped warm @page is referenced by anyone but the module
 * (which holds exactly one reference): a DMA pin (O_DIRECT, io_uring fixed
 * buffers, process_vm_readv/writev) or a plain GUP reference (vmsplice,
 * /proc/pid/mem).  Checked after the zap, as KSM's write_protect_page()
 * does: a GUP-fast that read the PTE before the zap either took its
 * reference before this check (seen) or sees the PTE gone and lets go; any
 * later GUP faults and finds the page KV_WB (TOUCHED) or WARM.
 */
static bool kv_page_held(struct page *page)
{
	struct folio *folio = page_folio(page);

	return folio_maybe_dma_pinned(folio) || folio_mapped(folio) ||
	       folio_ref_count(folio) != 1;
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
 * @settle: wait for pages another demoter is moving (DEMOTE), so that the
 *	call returns with every page it was given settled; the worker skips
 *	them instead.
 * @zap: scratch for kv_demote_prepare(): the chunk's pages, sorted.
 * @slots: scratch for kv_demote_prepare(): the chunk's slots.
 * @pslot: a space with a cold format: per page of @zap its slot
 *	(kv_pack_prepare()), KV_NO_SLOT if none.
 * @pobj: and its packed object (0: raw).
 * @pkr: the encoder state (pack.c), NULL until a chunk needs it.
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
	bool settle;
	u64 done;
	int ret;
	u64 zap[KV_WB_CHUNK];
	u32 slots[KV_WB_CHUNK];
	u32 pslot[KV_WB_CHUNK];
	u16 pobj[KV_WB_CHUNK];
	struct kv_packer *pkr;
};

/*
 * Zap the PTEs of pages [@first, @first + @n) of @sp, and of every child's
 * mapping the part of them that child shares (a shared page is mapped by
 * its readers through their own files: this is the rmap of the sharers).
 * Called with the pages locked (KV_F_ZAP), no kv_space.lock held.
 */
static void kv_zap_run(struct kv_space *sp, u64 first, u64 n)
{
	u64 end = first + n, a, b;
	struct kv_space *c;

	unmap_mapping_range(sp->file->f_mapping, (loff_t)first << PAGE_SHIFT,
			    (loff_t)n << PAGE_SHIFT, 1);
	if (!READ_ONCE(sp->frozen))
		return;
	down_read(&sp->share_rwsem);
	list_for_each_entry(c, &sp->children, child_node) {
		/* per stream: the run's pages below the child's prefix */
		for (a = first; a < end; a = b) {
			u64 s0 = a - a % sp->bph;
			u64 lim = s0 + c->share_blocks;

			b = min(end, s0 + sp->bph);
			if (a < lim)
				unmap_mapping_range(c->file->f_mapping,
						    (loff_t)a << PAGE_SHIFT,
						    (loff_t)(min(b, lim) - a) << PAGE_SHIFT,
						    1);
		}
	}
	up_read(&sp->share_rwsem);
}

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
	u32 i, j, k = 0, nz = 0, nw = 0, dropped = 0, gup = 0, got, pins;
	struct folio_batch fb;
	struct kv_batch *b;
	u64 *zap = d->zap;
	struct kv_pack *pk = NULL;
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
			kv_zap_run(sp, zap[i], j - i);
	}
	got = 0;
	if (d->ret != -ENOSPC && d->ret != -EDQUOT) {
		if (sp->cold_fmt)
			/* encoded, packed: a slot (and object) per page */
			got = kv_pack_prepare(sp, &d->pkr, zap, nz, d->pslot,
					      d->pobj, &pk, &d->ret);
		else
			got = kv_slot_alloc_many(sp, d->slots, nw, &d->ret);
	}

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
		if (kv_page_held(page)) {
			/*
			 * Referenced beyond the module (GUP, DMA pin): a write
			 * through that reference after our copy would be lost,
			 * and the page must not go back to the pool.  Stays
			 * warm as it is (DIRTY kept); it simply faults back in.
			 */
			gup++;
			continue;
		}
		if (!(e->flags & KV_F_DIRTY) && e->slot != KV_NO_SLOT) {
			/* Clean with a valid cold copy: drop, no I/O. */
			kv_free_later(sp, &fb, page);
			kv_pipe_leave(sp, e);
			e->page = NULL;
			e->state = KV_COLD;
			e->flags = 0;
			dropped++;
			kv_pol_sync_block(sp, kv_pg_block(sp, pg), KVP_BY_ABORT);
			continue;
		}
		if (WARN_ON_ONCE(e->slot != KV_NO_SLOT))
			kv_ent_slot_free(sp, e);
		if (sp->cold_fmt) {
			/* the slot (and object) made for this page, if any */
			d->slots[k] = d->pslot[i];
			d->pslot[i] = KV_NO_SLOT;
		}
		if (k == got || d->slots[k] == KV_NO_SLOT) {
			/* Unmapped but still warm: it simply faults back in. */
			continue;
		}
		e->state = KV_WB;
		/* Any write from now on faults and sets DIRTY again. */
		e->flags &= ~(KV_F_DIRTY | KV_F_TOUCHED | KV_F_PREFETCH);
		e->slot = d->slots[k];
		e->obj = sp->cold_fmt ? d->pobj[i] : 0;
		b->it[k].b = b;
		b->it[k].pg = pg;
		b->it[k].page = page;
		b->it[k].slot = e->slot;
		b->it[k].obj = e->obj;
		b->it[k].err = 0;
		k++;
	}
	kv_warm_free_batch(t, sp, &fb);
	d->done += dropped;
	mutex_unlock(&sp->lock);
	/* Faults that found a page ZAP wait on sp->wq. */
	wake_up_all(&sp->wq);
	/* Slots for pages pinned during the zap. */
	if (sp->cold_fmt) {
		for (i = 0; i < nz; i++) {
			if (d->pslot[i] == KV_NO_SLOT)
				continue;
			if (d->pobj[i])
				kv_obj_free(sp, d->pslot[i], d->pobj[i]);
			else
				kv_slot_free(sp, d->pslot[i]);
		}
	} else {
		while (got > k)
			kv_slot_free(sp, d->slots[--got]);
	}
	b->pk = pk;
	kv_stat_add(sp, clean_drops, dropped);
	kv_stat_add(sp, cold_pages, dropped);
	kv_stat_add(sp, gup_kept, gup);
	if (!k) {
		if (b->pk) {
			u64 bytes;

			kv_pack_done(sp, b->pk, &bytes);
			b->pk = NULL;
		}
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
	u32 i, demoted = 0, aborted = 0, gup = 0;
	u64 wbytes = 0, pbytes = 0;
	struct folio_batch fb;
	int perr = 0;

	folio_batch_init(&fb);
	mutex_lock(&sp->lock);
	for (i = 0; i < b->n; i++) {
		struct kv_item *it = &b->it[i];
		struct kv_entry *e = &sp->ent[it->pg];

		if (WARN_ON_ONCE(e->state != KV_WB || e->page != it->page))
			continue;
		if (it->obj && b->pk)
			it->err = it->err ?: kv_pack_err(b->pk);
		else if (!it->err)
			wbytes += PAGE_SIZE;
		if (it->err) {
			e->state = KV_WARM;
			e->flags |= KV_F_DIRTY;
			kv_ent_slot_free(sp, e);
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
			if (e->flags & KV_F_DIRTY)
				kv_ent_slot_free(sp, e);
			aborted++;
		} else if (kv_page_held(e->page)) {
			/*
			 * A reference taken meanwhile without a fault (only a
			 * GUP-fast that raced the zap and has not let go yet):
			 * the write may be stale, keep the page and drop the
			 * copy.
			 */
			e->state = KV_WARM;
			e->flags |= KV_F_DIRTY;
			kv_ent_slot_free(sp, e);
			gup++;
		} else {
			kv_free_later(sp, &fb, e->page);
			kv_pipe_leave(sp, e);
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
	/* The units' in-flight references go after the objects' settled. */
	if (b->pk) {
		perr = kv_pack_done(sp, b->pk, &pbytes);
		b->pk = NULL;
	}
	kv_stat_add(sp, demotions, demoted);
	kv_stat_add(sp, cold_pages, demoted);
	kv_stat_add(sp, wb_aborts, aborted);
	kv_stat_add(sp, gup_kept, gup);
	/* Bytes sent to the devices: raw pages (failed ones too), units. */
	kv_stat_add(sp, nvme_write_bytes, wbytes + (perr ? 0 : pbytes));
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

/* Being moved by a demoter: zapped or written back. */
static bool kv_moving(const struct kv_entry *e)
{
	return READ_ONCE(e->state) == KV_WB || READ_ONCE(e->flags) & KV_F_ZAP;
}

/*
 * Wait until no page of @pgs is being moved by another demoter (the
 * demotion worker): a DEMOTE that skipped them would return while they are
 * still warm.  Our own chunks are finished first, so that nothing of ours
 * is in flight while we wait (ranges may overlap; the worker never waits).
 * The waits end with I/O completion; a fatal signal ends them (-EINTR).
 */
static void kv_demote_settle(struct kv_demoter *d, const u64 *pgs, u32 n)
{
	struct kv_space *sp = d->sp;
	u32 i;

	for (i = 0; i < n; i++) {
		struct kv_entry *e = &sp->ent[pgs[i]];

		if (!kv_moving(e))
			continue;
		while (d->nr)
			kv_demote_reap(d);
		if (wait_event_killable(sp->wq, !kv_moving(e))) {
			d->ret = d->ret ?: -EINTR;
			return;
		}
	}
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

	if (d) {
		d->sp = sp;
		d->settle = true;
	}
	return d;
}

/**
 * kv_demote_add() - demote warm pages, the writes pipelined with earlier ones.
 * @d: from kv_demote_begin().
 * @pgs: page indices.
 * @n: how many.
 *
 * Pinned blocks and pages that are not WARM are skipped; pages another
 * demoter is moving are waited for first (see kv_demote_settle()).  May
 * return before the last writes completed; kv_demote_end() waits for them.
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
		if (d->settle)
			kv_demote_settle(d, pgs + i, m);
		if (d->ret == -ENOMEM || d->ret == -ESHUTDOWN || d->ret == -EINTR)
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
 * failed (that page stays warm and dirty), -ESHUTDOWN if the space is going
 * away, -ENOMEM, -EINTR (fatal signal while waiting for another demoter's
 * pages).
 */
int kv_demote_end(struct kv_demoter *d, u64 *done)
{
	int ret;

	while (d->nr)
		kv_demote_reap(d);
	while (d->nspare)
		kv_batch_free(d->spare[--d->nspare]);
	kv_packer_free(d->pkr);
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
 * writes are done.  For the demotion worker: pages another demoter is
 * moving are skipped, not waited for.
 *
 * Context: process, no kv_space.lock held.
 * Return: as kv_demote_end().
 */
int kv_demote_pages(struct kv_space *sp, const u64 *pgs, u32 n, u64 *done)
{
	struct kv_demoter *d = kv_demote_begin(sp);

	if (!d)
		return -ENOMEM;
	d->settle = false;
	kv_demote_add(d, pgs, n);
	return kv_demote_end(d, done);
}
