// SPDX-License-Identifier: GPL-2.0
/*
 * demote.c - moving pages from the warm tier to the cold tier.
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
 * The warm pages a chunk lets go of are freed after the lock is dropped.
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
 * @free: warm pages a chunk let go of, freed once kv_space.lock is dropped
 *	(@nfree of them).
 * @nfree: pages in @free.
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
	struct page *free[KV_WB_CHUNK];
	u32 nfree;
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

/*
 * Free @page after kv_space.lock is dropped (kv_demote_free()): its entry
 * no longer names it and it is unmapped and unreferenced, so nothing but
 * this demoter can reach it.  kv_space.lock held.
 */
static void kv_free_later(struct kv_demoter *d, struct page *page)
{
	d->free[d->nfree++] = page;
}

/* Free the pages kv_free_later() collected.  No kv_space.lock held. */
static void kv_demote_free(struct kv_demoter *d)
{
	struct folio_batch fb;
	u32 i;

	folio_batch_init(&fb);
	for (i = 0; i < d->nfree; i++)
		if (!folio_batch_add(&fb, page_folio(d->free[i])))
			kv_warm_free_batch(d->sp->tiers, d->sp, &fb);
	kv_warm_free_batch(d->sp->tiers, d->sp, &fb);
	d->nfree = 0;
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
	u32 i, j, k = 0, nz = 0, nw = 0, dropped = 0, gup = 0, got, pins;
	struct kv_batch *b;
	u64 *zap = d->zap;
	struct kv_pack *pk = NULL;
	bool repin;

	b = kv_demote_batch(d);
	if (!b) {
		d->ret = d->ret ?: -ENOMEM;
		return NULL;
	}
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
			kv_free_later(d, page);
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
	d->done += dropped;
	mutex_unlock(&sp->lock);
	/* Faults that found a page ZAP wait on sp->wq. */
	wake_up_all(&sp->wq);
	kv_demote_free(d);
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
	u32 i, demoted = 0, aborted = 0, gup = 0;
	u64 wbytes = 0, pbytes = 0;
	int perr = 0;

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
			kv_free_later(d, e->page);
			kv_pipe_leave(sp, e);
			e->page = NULL;
			e->state = KV_COLD;
			demoted++;
		}
		/* A partner still in write-back settles the block when done. */
		if (sp->ent[kv_pg_partner(sp, it->pg)].state != KV_WB)
			kv_pol_sync_block(sp, kv_pg_block(sp, it->pg), KVP_BY_ABORT);
	}
	d->done += demoted;
	mutex_unlock(&sp->lock);
	wake_up_all(&sp->wq);
	kv_demote_free(d);
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
