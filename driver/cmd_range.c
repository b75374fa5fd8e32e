// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_range.c - the space commands on blocks: HINTS, ACCESS, PROMOTE,
 * DEMOTE, PREFETCH and RESIDENCY (PIN/UNPIN and PARAMS in cmd_pin.c, the
 * dispatch table in cmd.c).
 *
 * Every function validates its struct fully (flags, reserved fields, every
 * range) before it changes anything, except batched HINTS/ACCESS which
 * apply entries in order and stop at the first bad one (reported in done).
 */
#include <linux/bitmap.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "kv.h"
#include "cmd.h"

#define KV_HINT_CHUNK		256

static bool kv_range_ok(const struct kv_space *sp, const struct cxl_kv_range *r)
{
	return r->layer < sp->geom.layers && r->head < sp->geom.kv_heads &&
	       r->nr_blocks && r->first_block < sp->bph &&
	       r->nr_blocks <= sp->bph - r->first_block && !r->reserved;
}

/*
 * Called every KV_LOCK_BREAK blocks of a loop that holds kv_space.lock:
 * lets waiters have the lock and the CPU.  Returns -EINTR (with the lock
 * dropped) when the caller was killed, else 0 with the lock held again.
 */
static int kv_lock_break(struct kv_space *sp)
{
	mutex_unlock(&sp->lock);
	cond_resched();
	if (fatal_signal_pending(current))
		return -EINTR;
	mutex_lock(&sp->lock);
	return 0;
}

/*
 * The hints of @buf[0..n) on child @sp's shared blocks, applied to the
 * parent's policy (the combined attention of every reader) under the
 * parent's lock alone.  Returns how many the policy applied.
 */
static u32 kv_hints_shared(struct kv_space *sp, const struct cxl_kv_hint *buf,
			   u32 n, u32 step)
{
	struct kv_space *p = sp->parent;
	u32 j, done = 0;

	mutex_lock(&p->lock);
	if ((s32)(step - p->step) > 0)
		p->step = step;
	for (j = 0; j < n; j++) {
		const struct cxl_kv_hint *x = &buf[j];

		if (kv_blk_shared(sp, x->block) &&
		    !kvp_on_hint(p->pol, kv_blk(p, x->layer, x->head, x->block),
				 x->score, p->step))
			done++;
	}
	mutex_unlock(&p->lock);
	kv_stat_add(p, hints, done);
	return done;
}

/**
 * kv_cmd_hints() - HINTS: apply a batch of score hints.
 * @sp: space.
 * @h: request; @h->done = hints the policy applied.
 *
 * Hints for never-written blocks and scores above 1.0 are ignored (not
 * counted in @h->done); a malformed entry stops the batch with -EINVAL.
 *
 * Return: 0, -EINVAL (bad struct or entry), -EFAULT, -EINTR (killed).
 */
int kv_cmd_hints(struct kv_space *sp, struct cxl_kv_hints *h)
{
	struct cxl_kv_hint *buf;
	const struct cxl_kv_hint __user *uh = u64_to_user_ptr(h->hints);
	u32 i, j, n, nshared;
	int ret = 0;

	h->done = 0;
	if (h->flags || h->pad || !kv_zero(h->reserved) || !h->count ||
	    h->count > CXL_KV_MAX_HINTS)
		return -EINVAL;
	buf = kmalloc_array(KV_HINT_CHUNK, sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < h->count && !ret; i += n) {
		n = min_t(u32, KV_HINT_CHUNK, h->count - i);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (copy_from_user(buf, uh + i, n * sizeof(*buf))) {
			ret = -EFAULT;
			break;
		}
		mutex_lock(&sp->lock);
		if ((s32)((u32)h->step - sp->step) > 0)
			sp->step = (u32)h->step;
		nshared = 0;
		for (j = 0; j < n; j++) {
			const struct cxl_kv_hint *x = &buf[j];

			if (x->layer >= sp->geom.layers ||
			    x->head >= sp->geom.kv_heads ||
			    x->block >= sp->bph || x->reserved) {
				ret = -EINVAL;
				break;
			}
			/* a shared block: the parent's policy, below */
			if (kv_blk_shared(sp, x->block)) {
				nshared++;
				continue;
			}
			/* -ENOENT (never written), -ERANGE (score > 1.0) */
			if (!kvp_on_hint(sp->pol,
					 kv_blk(sp, x->layer, x->head, x->block),
					 x->score, sp->step))
				h->done++;
		}
		mutex_unlock(&sp->lock);
		if (nshared)
			h->done += kv_hints_shared(sp, buf, j, (u32)h->step);
		cond_resched();
	}
	kv_stat_add(sp, hints, h->done);
	kfree(buf);
	return ret;
}

/*
 * Copy in and validate the ranges of @r; returns the array or ERR_PTR.
 * @blocks: out: the blocks of all ranges, at most CXL_KV_MAX_CMD_BLOCKS
 * (-E2BIG beyond).
 */
struct cxl_kv_range *kv_ranges_get(struct kv_space *sp,
				   const struct cxl_kv_ranges *r,
				   bool step_ok, u64 *blocks)
{
	struct cxl_kv_range *rg;
	u64 total = 0;
	u32 i;

	if (r->flags & ~CXL_KV_RANGES_F_ALL || !kv_zero(r->reserved) ||
	    !r->count || r->count > CXL_KV_MAX_RANGES || (!step_ok && r->step))
		return ERR_PTR(-EINVAL);
	rg = vmemdup_array_user(u64_to_user_ptr(r->ranges), r->count,
				sizeof(*rg));
	if (IS_ERR(rg))
		return rg;
	for (i = 0; i < r->count; i++) {
		if (!kv_range_ok(sp, &rg[i])) {
			kvfree(rg);
			return ERR_PTR(-EINVAL);
		}
		if (check_add_overflow(total, (u64)rg[i].nr_blocks, &total) ||
		    total > CXL_KV_MAX_CMD_BLOCKS) {
			kvfree(rg);
			return ERR_PTR(-E2BIG);
		}
	}
	*blocks = total;
	return rg;
}

/*
 * Report blocks [@from, @from + @n) of range @rg to @sp's policy at @step
 * (@sp: the space or a child's parent).  Returns 0 or -EINTR.
 */
static int kv_access_blocks(struct kv_space *sp, const struct cxl_kv_range *rg,
			    u32 from, u32 n, u32 step, u32 *since, u64 *done)
{
	u32 b;

	mutex_lock(&sp->lock);
	if ((s32)(step - sp->step) > 0)
		sp->step = step;
	for (b = from; b < from + n; b++) {
		if (++*since == KV_LOCK_BREAK) {
			*since = 0;
			if (kv_lock_break(sp))
				return -EINTR;
		}
		kvp_on_access(sp->pol, kv_blk(sp, rg->layer, rg->head,
					      rg->first_block + b), sp->step);
		(*done)++;
	}
	mutex_unlock(&sp->lock);
	return 0;
}

/**
 * kv_cmd_access() - ACCESS: report blocks read at a decode step.
 * @sp: space.
 * @r: request; @r->done = blocks reported.
 *
 * Return: 0, -EINVAL, -E2BIG, -EFAULT, -ENOMEM, or -EINTR (killed; @r->done
 * blocks were reported).
 */
int kv_cmd_access(struct kv_space *sp, struct cxl_kv_ranges *r)
{
	u64 blocks;
	struct cxl_kv_range *rg = kv_ranges_get(sp, r, true, &blocks);
	u32 i, ns, since = 0;
	int ret = 0;

	r->done = 0;
	if (IS_ERR(rg))
		return PTR_ERR(rg);
	for (i = 0; i < r->count && !ret; i++) {
		/* a child's shared blocks feed the parent's policy */
		ns = kv_range_shared(sp, &rg[i]);
		if (ns)
			ret = kv_access_blocks(sp->parent, &rg[i], 0, ns,
					       (u32)r->step, &since, &r->done);
		if (!ret && ns < rg[i].nr_blocks)
			ret = kv_access_blocks(sp, &rg[i], ns,
					       rg[i].nr_blocks - ns,
					       (u32)r->step, &since, &r->done);
	}
	kvfree(rg);
	return ret;
}

/*
 * Page indices [@first, @first + @n) into @pgs: one chunk of a range's K or
 * V stream (a run of a stream's pages is a run of page indices).
 */
static void kv_run_pages(u64 *pgs, u64 first, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		pgs[i] = first + i;
}

/* Pages of @pgs[0..n) that are resident now (warm or being written). */
static u64 kv_count_resident(struct kv_space *sp, const u64 *pgs, u32 n)
{
	u64 nr = 0;
	u32 i;

	mutex_lock(&sp->lock);
	for (i = 0; i < n; i++) {
		u8 st = sp->ent[pgs[i]].state;

		nr += st == KV_WARM || st == KV_WB;
	}
	mutex_unlock(&sp->lock);
	return nr;
}

/*
 * Promote the pages of blocks [@first, @first + @n) of range @rg, a chunk
 * at a time: the K pages, then the V pages (ascending).  @done (may be
 * NULL) counts the pages resident after each chunk.
 */
int kv_promote_blocks(struct kv_space *sp, const struct cxl_kv_range *rg,
		      u32 first, u32 n, u64 *pgs, u64 *done)
{
	u32 blk = kv_blk(sp, rg->layer, rg->head, rg->first_block + first);
	int kv, ret = 0;
	u32 off, c;

	for (kv = 0; kv < 2; kv++) {
		for (off = 0; off < n; off += c) {
			u64 issued = 0, resident = 0;

			c = min_t(u32, KV_MOVE_CHUNK, n - off);
			if (fatal_signal_pending(current))
				return -EINTR;
			kv_run_pages(pgs, kv_block_pg(sp, blk + off, kv), c);
			ret = kv_promote_pages(sp, pgs, c, KV_PROMOTE_WAIT,
					       false, NULL, &issued, &resident);
			if (done)
				*done += kv_count_resident(sp, pgs, c);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int kv_ranges_move(struct kv_space *sp, struct cxl_kv_ranges *r,
			  bool promote)
{
	u64 blocks;
	struct cxl_kv_range *rg = kv_ranges_get(sp, r, false, &blocks);
	struct kv_demoter *d = NULL;
	int ret = 0, err;
	u64 *pgs;
	u32 i;

	r->done = 0;
	if (IS_ERR(rg))
		return PTR_ERR(rg);
	pgs = kmalloc_array(KV_MOVE_CHUNK, sizeof(*pgs), GFP_KERNEL_ACCOUNT);
	if (!pgs) {
		ret = -ENOMEM;
		goto out_free_ranges;
	}
	/* One demoter for all ranges: their writes share the pipeline. */
	if (!promote) {
		d = kv_demote_begin(sp);
		if (!d) {
			ret = -ENOMEM;
			goto out_free_pages;
		}
	}
	for (i = 0; i < r->count; i++) {
		u32 blk = kv_blk(sp, rg[i].layer, rg[i].head, rg[i].first_block);
		u32 n = rg[i].nr_blocks, ns = kv_range_shared(sp, &rg[i]);
		u32 off, c;
		int kv;

		if (promote) {
			/*
			 * PROMOTE stops at the first failure.  A child's
			 * shared blocks are promoted in the parent, once for
			 * every reader.
			 */
			if (ns)
				ret = kv_promote_blocks(sp->parent, &rg[i], 0,
							ns, pgs, &r->done);
			if (!ret && ns < n)
				ret = kv_promote_blocks(sp, &rg[i], ns, n - ns,
							pgs, &r->done);
			if (ret)
				break;
			continue;
		}
		/*
		 * A child's DEMOTE leaves its shared blocks alone: one reader
		 * does not evict what the others read (the parent's DEMOTE
		 * and the worker do, from every mapping).
		 */
		for (kv = 0; kv < 2 && ret != -EINTR; kv++) {
			for (off = ns; off < n; off += c) {
				c = min_t(u32, KV_MOVE_CHUNK, n - off);
				if (fatal_signal_pending(current)) {
					ret = -EINTR;
					break;
				}
				kv_run_pages(pgs, kv_block_pg(sp, blk + off, kv), c);
				err = kv_demote_add(d, pgs, c);
				if (err && !ret)
					ret = err;
			}
		}
		if (ret == -EINTR)
			break;
	}
	if (d) {
		err = kv_demote_end(d, &r->done);
		if (err && !ret)
			ret = err;
	}
out_free_pages:
	kfree(pgs);
out_free_ranges:
	kvfree(rg);
	return ret;
}

/**
 * kv_cmd_promote() - PROMOTE: read cold blocks back, synchronously.
 * @sp: space.
 * @r: request; @r->done = pages of the ranges resident when the call was
 *	done with them (already warm, or read back by it).
 *
 * Return: 0 or the first -errno (-EIO, -ENOMEM, -E2BIG, -EINTR, ...).
 */
int kv_cmd_promote(struct kv_space *sp, struct cxl_kv_ranges *r)
{
	return kv_ranges_move(sp, r, true);
}

/**
 * kv_cmd_demote() - DEMOTE: move warm blocks to the cold tier, synchronously.
 * @sp: space.
 * @r: request; @r->done = pages that left the warm tier.
 *
 * Pinned blocks are skipped.
 *
 * Return: 0 or the first -errno (-ENOSPC, -EIO, -E2BIG, -EINTR, ...).
 */
int kv_cmd_demote(struct kv_space *sp, struct cxl_kv_ranges *r)
{
	return kv_ranges_move(sp, r, false);
}

/**
 * kv_cmd_prefetch() - PREFETCH: promote the blocks around a position.
 * @sp: space.
 * @p: request; issued/resident are set.
 * @async: uring completion, or NULL for the ioctl.
 *
 * At a non-blocking uring issue (@async->nowait) it is tried without
 * sleeping (KV_PROMOTE_TRY): a window of a child's shared blocks, no memory
 * at once, the space's lock busy, no warm room or more than one chunk of
 * cold pages give -EAGAIN, nothing done, and io-wq runs it again.
 *
 * Return: 0, -EIOCBQUEUED (@async will be called), or -errno (-EAGAIN:
 * only with @async->nowait).
 */
int kv_cmd_prefetch(struct kv_space *sp, struct cxl_kv_prefetch *p,
		    struct kv_async *async)
{
	u32 tpb = sp->geom.tokens_per_block;
	u64 lo, hi, *pgs, n = 0, nblk, heads;
	u32 h, b;
	int mode, ret;

	p->issued = 0;
	p->resident = 0;
	if (p->flags & ~CXL_KV_PREFETCH_F_ALL || !kv_zero(p->reserved) ||
	    p->layer >= sp->geom.layers || !p->head_mask ||
	    (sp->geom.kv_heads < 64 && p->head_mask >> sp->geom.kv_heads) ||
	    p->pos >= sp->geom.max_tokens)
		return -EINVAL;
	lo = p->pos > p->window ? p->pos - p->window : 0;
	hi = min_t(u64, sp->geom.max_tokens - 1,
		   p->pos + min_t(u64, p->window, sp->geom.max_tokens));
	lo /= tpb;
	hi /= tpb;
	nblk = hi - lo + 1;
	heads = hweight64(p->head_mask);
	if (nblk * heads * 2 > CXL_KV_MAX_PREFETCH_PAGES)
		return -E2BIG;
	if (async && async->nowait) {
		/* the parent's share is read synchronously: io-wq */
		if (sp->parent && lo < sp->share_blocks)
			return -EAGAIN;
		pgs = kmalloc_array(nblk * heads * 2, sizeof(u64),
				    GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN);
		if (!pgs)
			return -EAGAIN;
	} else {
		pgs = kvmalloc_array(nblk * heads * 2, sizeof(u64),
				     GFP_KERNEL_ACCOUNT);
		if (!pgs)
			return -ENOMEM;
	}
	mode = p->flags & CXL_KV_PREFETCH_F_WAIT ? KV_PROMOTE_WAIT :
						   KV_PROMOTE_NOWAIT;
	if (async && async->nowait)
		mode |= KV_PROMOTE_TRY;
	/*
	 * A child's shared blocks first, in the parent: synchronously when
	 * the command completes asynchronously (io-wq runs it), so that its
	 * completion still means the whole window is resident.
	 */
	if (sp->parent && lo < sp->share_blocks) {
		u64 ihi = min_t(u64, hi, sp->share_blocks - 1);

		for (h = 0; h < sp->geom.kv_heads; h++) {
			if (!(p->head_mask & BIT_ULL(h)))
				continue;
			for (b = lo; b <= ihi; b++) {
				u32 blk = kv_blk(sp, p->layer, h, b);

				pgs[n++] = kv_block_pg(sp, blk, 0);
				pgs[n++] = kv_block_pg(sp, blk, 1);
			}
		}
		ret = kv_promote_pages(sp->parent, pgs, n,
				       async ? KV_PROMOTE_WAIT : mode, true,
				       NULL, &p->issued, &p->resident);
		lo = ihi + 1;
		n = 0;
		if (ret || lo > hi)
			goto out_free;
	}
	for (h = 0; h < sp->geom.kv_heads; h++) {
		if (!(p->head_mask & BIT_ULL(h)))
			continue;
		for (b = lo; b <= hi; b++) {
			u32 blk = kv_blk(sp, p->layer, h, b);

			pgs[n++] = kv_block_pg(sp, blk, 0);
			pgs[n++] = kv_block_pg(sp, blk, 1);
		}
	}
	/* the counters add up (kv_promote_pages() adds to them) */
	ret = kv_promote_pages(sp, pgs, n, mode, true, async, &p->issued,
			       &p->resident);
out_free:
	kvfree(pgs);
	return ret;
}

/*
 * RESIDENCY of blocks [@from, @to) of @q's range in @sp's entries (@sp: the
 * space or a child's parent) into @q's counters and @bm.  Returns 0 or
 * -EINTR (lock dropped).
 */
static int kv_residency_blocks(struct kv_space *sp, struct cxl_kv_residency *q,
			       u32 from, u32 to, u64 *bm)
{
	u32 i, since = 0;

	mutex_lock(&sp->lock);
	for (i = from; i < to; i++) {
		u32 blk = kv_blk(sp, q->layer, q->head, q->first_block + i);
		const struct kv_entry *k = &sp->ent[kv_block_pg(sp, blk, 0)];
		const struct kv_entry *v = &sp->ent[kv_block_pg(sp, blk, 1)];
		struct kvp_entry_info info;
		bool cold = k->state == KV_COLD || k->state == KV_RD ||
			    v->state == KV_COLD || v->state == KV_RD;

		if (!cold)
			bm[i / 64] |= 1ULL << (i % 64);
		if (cold)
			q->nr_cold++;
		else if (k->state == KV_ABSENT && v->state == KV_ABSENT)
			q->nr_empty++;
		else
			q->nr_warm++;
		if (!kvp_entry_get(sp->pol, blk, &info) && info.pins)
			q->nr_pinned++;
		if (++since == KV_LOCK_BREAK && i + 1 < to) {
			since = 0;
			if (kv_lock_break(sp))
				return -EINTR;
		}
	}
	mutex_unlock(&sp->lock);
	return 0;
}

/**
 * kv_cmd_residency() - RESIDENCY: which blocks are warm.
 * @sp: space.
 * @q: request; counters set, bitmap written to user memory.
 *
 * Return: 0, -EINVAL, -EFAULT, -ENOMEM.
 */
int kv_cmd_residency(struct kv_space *sp, struct cxl_kv_residency *q)
{
	size_t words = DIV_ROUND_UP(q->nr_blocks, 64);
	u64 *bm;
	u32 ns;
	int ret = 0;

	q->nr_warm = q->nr_cold = q->nr_empty = q->nr_pinned = 0;
	if (q->flags || !kv_zero(q->reserved) || q->layer >= sp->geom.layers ||
	    q->head >= sp->geom.kv_heads || !q->nr_blocks ||
	    q->first_block >= sp->bph ||
	    q->nr_blocks > sp->bph - q->first_block)
		return -EINVAL;
	bm = kvcalloc(words, sizeof(u64), GFP_KERNEL);
	if (!bm)
		return -ENOMEM;
	/* A child's shared blocks are the parent's entries. */
	ns = kv_range_shared(sp, &(struct cxl_kv_range){
		.first_block = q->first_block, .nr_blocks = q->nr_blocks });
	if (ns)
		ret = kv_residency_blocks(sp->parent, q, 0, ns, bm);
	if (!ret && ns < q->nr_blocks)
		ret = kv_residency_blocks(sp, q, ns, q->nr_blocks, bm);
	if (ret)
		goto out_free_bitmap;
	if (copy_to_user(u64_to_user_ptr(q->bitmap), bm, words * sizeof(u64)))
		ret = -EFAULT;
out_free_bitmap:
	kvfree(bm);
	return ret;
}
