/* SPDX-License-Identifier: GPL-2.0 */
/*
 * move.h - the I/O batches shared by the cold I/O path (move.c), promotion
 * (promote.c) and demotion (demote.c); the rest of the module includes
 * kv.h only.
 */
#ifndef CXL_KV_MOVE_H
#define CXL_KV_MOVE_H

#include <linux/blk_types.h>
#include <linux/completion.h>
#include <linux/ktime.h>
#include <linux/workqueue.h>

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
 * @bytes: read: bytes read for it (0: a page); a packed object's sectors
 *	that an earlier object of the batch shared are not counted again.
 * @buf: read of a packed object: the pages of the batch's read buffer
 *	(kv_batch.rbuf) holding its bytes of its first slot and, when it
 *	straddles two, of the second; NULL when it has none (@err set).
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
	struct page *buf[2];
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
 * @rbuf: a promotion's read buffer for its packed objects: one page per
 *	device page their sectors touch, objects sharing a sector or a page
 *	sharing it; NULL if it has none.  page_private() of a page is the
 *	-errno of a failed read into it, else 0.
 * @nrbuf: pages in @rbuf.
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
	struct page **rbuf;
	u32 nrbuf;
	u32 n;
	struct kv_item it[] __counted_by(n);
};

struct kv_batch *kv_batch_alloc(struct kv_space *sp, u32 n);
struct kv_batch *kv_batch_alloc_gfp(struct kv_space *sp, u32 n, gfp_t gfp);
void kv_batch_free(struct kv_batch *b);
void kv_batch_put(struct kv_batch *b);
void kv_batch_submit(struct kv_batch *b, u32 n, blk_opf_t op);
int kv_batch_obj_err(const struct kv_item *it);
void kv_batch_rbuf_free(struct kv_batch *b);
void kv_space_io_end(struct kv_space *sp);

#endif /* CXL_KV_MOVE_H */
