// SPDX-License-Identifier: GPL-2.0
/*
 * move.c - the cold tier's I/O path, shared by promotion (promote.c) and
 * demotion (demote.c): a batch of pages (struct kv_batch, move.h) is
 * submitted as bios, runs of consecutive slots on one device sharing one,
 * packed objects read into a buffer of the batch, objects next to each
 * other on a device sharing a bio; a synchronous batch completes
 * kv_batch.done, an asynchronous one queues its work.
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

static struct block_device *kv_slot_bdev(struct kv_tiers *t, u32 slot,
					 sector_t *sector)
{
	*sector = (sector_t)(slot / t->nr_cold) << (PAGE_SHIFT - SECTOR_SHIFT);
	return file_bdev(t->cold[slot % t->nr_cold].file);
}

struct kv_batch *kv_batch_alloc(struct kv_space *sp, u32 n)
{
	return kv_batch_alloc_gfp(sp, n, GFP_KERNEL);
}

/* @gfp without __GFP_DIRECT_RECLAIM (a non-blocking issue): kmalloc only. */
struct kv_batch *kv_batch_alloc_gfp(struct kv_space *sp, u32 n, gfp_t gfp)
{
	struct kv_batch *b;

	if (gfpflags_allow_blocking(gfp))
		b = kvzalloc(struct_size(b, it, n), gfp);
	else
		b = kzalloc(struct_size(b, it, n), gfp);
	if (!b)
		return NULL;
	b->n = n;
	b->sp = sp;
	kref_get(&sp->ref);
	atomic_set(&b->pending, 1);
	init_completion(&b->done);
	return b;
}

void kv_batch_free(struct kv_batch *b)
{
	u64 bytes;

	if (WARN_ON_ONCE(b->pk))
		kv_pack_done(b->sp, b->pk, &bytes);
	kv_batch_rbuf_free(b);
	kv_space_put(b->sp);
	kvfree(b);
}

void kv_batch_put(struct kv_batch *b)
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
 * The packed objects of a read batch are read into one buffer, kv_batch.rbuf,
 * a page per device page their sectors touch.  Walking the items in order, a
 * piece of an object (its bytes in one slot) joins the bio being built when
 * it is on the same device and starts inside the bytes that bio reads or
 * right at their end: the K and V objects of a block, packed one after the
 * other, share one read, and a sector two objects share is read once.
 * kv_promote_finish() decodes each object from the buffer.
 */
struct kv_obj_run {
	struct block_device *bdev;
	u64 start;		/* device bytes read: [start, end) */
	u64 end;
	u32 first;		/* index in kv_batch.rbuf of the page of @start */
	u32 npages;		/* 0: no run */
};

static void kv_obj_bio_end(struct bio *bio)
{
	struct kv_batch *b = bio->bi_private;
	int err = blk_status_to_errno(bio->bi_status);
	struct bvec_iter_all iter;
	struct bio_vec *bv;

	if (err) {
		/* every object with bytes in these pages fails (-EIO) */
		bio_for_each_segment_all(bv, bio, iter)
			set_page_private(bv->bv_page, (unsigned long)-err);
		kv_stat_inc(b->sp, io_errors);
	}
	bio_put(bio);
	kv_batch_put(b);
}

static void kv_obj_run_submit(struct kv_batch *b, struct kv_obj_run *r)
{
	u64 pg0 = r->start >> PAGE_SHIFT;
	struct bio *bio;
	u32 p;

	if (!r->npages)
		return;
	bio = bio_alloc(r->bdev, r->npages, REQ_OP_READ, GFP_NOIO);
	bio->bi_iter.bi_sector = r->start >> SECTOR_SHIFT;
	for (p = 0; p < r->npages; p++) {
		u64 ps = (pg0 + p) << PAGE_SHIFT;
		u32 from = max(r->start, ps) - ps;
		u32 to = min(r->end, ps + PAGE_SIZE) - ps;

		__bio_add_page(bio, b->rbuf[r->first + p], to - from, from);
	}
	bio->bi_private = b;
	bio->bi_end_io = kv_obj_bio_end;
	atomic_inc(&b->pending);
	submit_bio(bio);
	r->npages = 0;
}

/*
 * Read bytes [from, to) of slot @slot (sector aligned) for piece @piece of
 * @it's object: in the current run if they touch it, else in a new one.
 */
static int kv_obj_add_piece(struct kv_batch *b, struct kv_obj_run *r,
			    struct kv_item *it, u32 piece, u32 slot, u32 from,
			    u32 to)
{
	struct kv_tiers *t = b->sp->tiers;
	struct block_device *bdev;
	struct page *page;
	sector_t sector;
	u64 start, end, dpg, rpg;

	bdev = kv_slot_bdev(t, slot, &sector);
	start = ((u64)sector << SECTOR_SHIFT) + from;
	end = ((u64)sector << SECTOR_SHIFT) + to;
	dpg = start >> PAGE_SHIFT;
	rpg = r->start >> PAGE_SHIFT;
	if (r->npages && (bdev != r->bdev || start < r->start ||
			  start > r->end || dpg - rpg >= BIO_MAX_VECS))
		kv_obj_run_submit(b, r);
	if (r->npages && dpg < rpg + r->npages) {
		/* in a page the run reads already */
		it->buf[piece] = b->rbuf[r->first + dpg - rpg];
		if (end > r->end) {
			it->bytes += end - r->end;
			r->end = end;
		}
		return 0;
	}
	page = alloc_page(GFP_NOIO);
	if (!page)
		return -ENOMEM;
	if (!r->npages) {
		r->bdev = bdev;
		r->start = start;
		r->end = start;
		r->first = b->nrbuf;
	}
	/* else the run ends at this page's start: it goes on into it */
	b->rbuf[b->nrbuf++] = page;
	r->npages++;
	it->buf[piece] = page;
	it->bytes += end - r->end;
	r->end = end;
	return 0;
}

/* Read the packed objects of items [0, @n) (see struct kv_obj_run). */
static void kv_obj_submit_reads(struct kv_batch *b, u32 n)
{
	struct kv_tiers *t = b->sp->tiers;
	struct kv_obj_run r = { .npages = 0 };
	u32 i, np = 0;

	for (i = 0; i < n; i++)
		np += b->it[i].obj && b->it[i].page && !b->it[i].err;
	if (!np)
		return;
	/* at most two pages an object */
	b->rbuf = kmalloc_array(2 * np, sizeof(*b->rbuf), GFP_NOIO);
	for (i = 0; i < n; i++) {
		struct kv_item *it = &b->it[i];
		u32 a, bend, piece;

		if (!it->obj || !it->page || it->err)
			continue;
		if (!b->rbuf) {
			it->err = -ENOMEM;
			continue;
		}
		kv_obj_read_span(t, it->obj, &a, &bend);
		for (piece = 0; piece < 2 && !it->err; piece++) {
			u32 from = piece ? 0 : a;
			u32 to = piece ? bend - PAGE_SIZE :
					 min_t(u32, bend, PAGE_SIZE);

			if (piece && bend <= PAGE_SIZE)
				break;
			it->err = kv_obj_add_piece(b, &r, it, piece,
						   it->slot + piece, from, to);
		}
	}
	kv_obj_run_submit(b, &r);
}

/**
 * kv_batch_obj_err() - the read error of a packed object.
 * @it: an item read by kv_batch_submit() with it->buf[0] set, completed.
 *
 * Return: 0 or the -errno of a failed read of a page its bytes are in.
 */
int kv_batch_obj_err(const struct kv_item *it)
{
	unsigned long e = page_private(it->buf[0]);

	if (!e && it->buf[1])
		e = page_private(it->buf[1]);
	return -(int)e;
}

/**
 * kv_batch_rbuf_free() - free a batch's read buffer.
 * @b: the batch, its reads completed.
 */
void kv_batch_rbuf_free(struct kv_batch *b)
{
	u32 i;

	for (i = 0; i < b->nrbuf; i++) {
		set_page_private(b->rbuf[i], 0);
		__free_page(b->rbuf[i]);
	}
	kfree(b->rbuf);
	b->rbuf = NULL;
	b->nrbuf = 0;
}

/*
 * Submit the items that have a page and no error; runs of items whose
 * slots are consecutive on one device share a bio (up to BIO_MAX_VECS).
 */
void kv_batch_submit(struct kv_batch *b, u32 n, blk_opf_t op)
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
		if (it->obj)
			continue;	/* packed: written with the units */
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
	if (op == REQ_OP_READ)
		kv_obj_submit_reads(b, n);
	blk_finish_plug(&plug);
	memalloc_noio_restore(noio);
}

void kv_space_io_end(struct kv_space *sp)
{
	if (atomic_dec_and_test(&sp->inflight))
		wake_up_all(&sp->wq);
}
