// SPDX-License-Identifier: GPL-2.0
/*
 * move.c - the cold tier's I/O path, shared by promotion (promote.c) and
 * demotion (demote.c): a batch of pages (struct kv_batch, move.h) is
 * submitted as bios, runs of consecutive slots on one device sharing one,
 * packed objects read on their own; a synchronous batch completes
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

void kv_batch_free(struct kv_batch *b)
{
	u64 bytes;

	if (WARN_ON_ONCE(b->pk))
		kv_pack_done(b->sp, b->pk, &bytes);
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

void kv_space_io_end(struct kv_space *sp)
{
	if (atomic_dec_and_test(&sp->inflight))
		wake_up_all(&sp->wq);
}
