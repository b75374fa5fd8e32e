// SPDX-License-Identifier: GPL-2.0
/*
 * cmd.c - the commands of a space fd, one cxl_kv_<verb>() each, and the
 * dispatcher both transports (ioctl in space.c, uring_cmd in uring.c) call
 * with the command struct already copied into kernel memory.
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

#define KV_HINT_CHUNK		256
/*
 * Long loops over blocks drop kv_space.lock (and reschedule, and look for a
 * fatal signal) every KV_LOCK_BREAK blocks, so that a command of
 * CXL_KV_MAX_CMD_BLOCKS blocks neither holds the lock nor the CPU for long:
 * faults and other commands on the space get their turn in between.
 */
#define KV_LOCK_BREAK		1024
/*
 * PROMOTE, DEMOTE and PIN hand the movers a range's pages this many at a
 * time (ascending, as they expect): the page array and a promotion's batch
 * are bounded by the chunk, not by the range.
 */
#define KV_MOVE_CHUNK		2048

/* The features of this build: uring_cmd needs a kernel with io_uring. */
#define KV_FEATURES	(CXL_KV_F_ALL &					\
			 ~(IS_ENABLED(CONFIG_IO_URING) ? 0 : CXL_KV_F_URING_CMD))

#define kv_zero(x)	(!memchr_inv(&(x), 0, sizeof(x)))

static bool kv_range_ok(const struct kv_space *sp, const struct cxl_kv_range *r)
{
	return r->layer < sp->geom.layers && r->head < sp->geom.kv_heads &&
	       r->nr_blocks && r->first_block < sp->bph &&
	       r->nr_blocks <= sp->bph - r->first_block && !r->reserved;
}

static u32 kv_blk(const struct kv_space *sp, u32 layer, u32 head, u32 block)
{
	return (layer * sp->geom.kv_heads + head) * sp->bph + block;
}

/*
 * Blocks at the start of @rg that child @sp shares with its parent (they
 * are the parent's: commands act on the parent's entries and policy for
 * them); 0 for a space that is not a child.
 */
static u32 kv_range_shared(const struct kv_space *sp,
			   const struct cxl_kv_range *rg)
{
	if (!sp->parent || rg->first_block >= sp->share_blocks)
		return 0;
	return min(rg->nr_blocks, sp->share_blocks - rg->first_block);
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
static struct cxl_kv_range *kv_ranges_get(struct kv_space *sp,
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
static int kv_promote_blocks(struct kv_space *sp, const struct cxl_kv_range *rg,
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

/*
 * Undo the pins this PIN call took: the first @nbits bits of @taken, one
 * per block of the ranges in order.
 */
static void kv_pin_rollback(struct kv_space *sp, const struct cxl_kv_range *rg,
			    u32 nr, const unsigned long *taken, u64 nbits)
{
	u64 bit = 0;
	u32 i, b, since = 0;

	mutex_lock(&sp->lock);
	for (i = 0; i < nr && bit < nbits; i++) {
		for (b = 0; b < rg[i].nr_blocks && bit < nbits; b++, bit++) {
			if (++since == KV_LOCK_BREAK) {
				/* Not killable: the pins must go. */
				since = 0;
				mutex_unlock(&sp->lock);
				cond_resched();
				mutex_lock(&sp->lock);
			}
			if (test_bit(bit, taken))
				kvp_unpin(sp->pol,
					  kv_blk(sp, rg[i].layer, rg[i].head,
						 rg[i].first_block + b));
		}
	}
	mutex_unlock(&sp->lock);
}

/*
 * Pin or unpin blocks [@first, @first + @n) of range @rg under the lock.
 * @bit: index in @taken of the first block (PIN only; NULL for UNPIN).
 * Returns 0 or -EOVERFLOW (a block has the most pins already; the blocks
 * before it were pinned).
 */
static int kv_pin_blocks(struct kv_space *sp, const struct cxl_kv_range *rg,
			 u32 first, u32 n, unsigned long *taken, u64 bit,
			 u64 *done)
{
	int ret = 0;
	u32 b;

	mutex_lock(&sp->lock);
	for (b = first; b < first + n; b++, bit++) {
		u32 blk = kv_blk(sp, rg->layer, rg->head, rg->first_block + b);
		int err = taken ? kvp_pin(sp->pol, blk) : kvp_unpin(sp->pol, blk);

		if (!err) {
			(*done)++;
			if (taken) {
				__set_bit(bit, taken);
				sp->pins++;
			}
		} else if (err == -KVP_EOVERFLOW) {
			ret = -EOVERFLOW;
			break;
		}
	}
	mutex_unlock(&sp->lock);
	return ret;
}

/**
 * kv_cmd_pin() - PIN / UNPIN block ranges.
 * @sp: space.
 * @r: request; @r->done = blocks whose pin count changed.
 * @pin: true to pin (and promote), false to unpin.
 *
 * Never-written blocks cannot be pinned and are skipped; unpinning an
 * unpinned block is skipped.  PIN is all or nothing: when a block already
 * has the most pins, a promotion fails or the caller is killed, every pin
 * this call took is dropped again before the error is returned.  The
 * blocks go a chunk (KV_LOCK_BREAK) at a time: pinned, then promoted.
 *
 * Return: 0, -EOVERFLOW (a block already has the most pins), -E2BIG, -EINTR,
 * or -errno.
 */
int kv_cmd_pin(struct kv_space *sp, struct cxl_kv_ranges *r, bool pin)
{
	u64 blocks, bit = 0;
	struct cxl_kv_range *rg = kv_ranges_get(sp, r, false, &blocks);
	unsigned long *taken = NULL;
	u64 *pgs = NULL;
	u32 i, off, c;
	int ret = 0;

	/* One command may name every block of the largest space. */
	BUILD_BUG_ON(CXL_KV_MAX_CMD_BLOCKS != CXL_KV_MAX_SPACE_PAGES / 2);
	r->done = 0;
	if (IS_ERR(rg))
		return PTR_ERR(rg);
	if (pin) {
		/* blocks <= CXL_KV_MAX_CMD_BLOCKS: at most 1 MiB */
		taken = kvcalloc(BITS_TO_LONGS(blocks), sizeof(long),
				 GFP_KERNEL_ACCOUNT);
		pgs = kmalloc_array(KV_MOVE_CHUNK, sizeof(*pgs), GFP_KERNEL_ACCOUNT);
		if (!taken || !pgs) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	for (i = 0; i < r->count && !ret; i++) {
		/*
		 * A child's shared blocks are skipped: a reader's pins would
		 * keep the parent's pages warm for as long as the parent
		 * lives, past the reader's own close.
		 */
		off = kv_range_shared(sp, &rg[i]);
		bit += off;
		for (; off < rg[i].nr_blocks; off += c, bit += c) {
			c = min_t(u32, KV_LOCK_BREAK, rg[i].nr_blocks - off);
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			ret = kv_pin_blocks(sp, &rg[i], off, c, taken, bit,
					    &r->done);
			/* the chunk's bits count for the rollback even so */
			if (!ret && pin)
				ret = kv_promote_blocks(sp, &rg[i], off, c, pgs,
							NULL);
			if (ret) {
				bit += c;
				break;
			}
			cond_resched();
		}
	}
	if (pin && ret) {
		kv_pin_rollback(sp, rg, r->count, taken, bit);
		r->done = 0;
	}
out_free:
	kfree(pgs);
	kvfree(taken);
	kvfree(rg);
	return ret;
}

/**
 * kv_cmd_prefetch() - PREFETCH: promote the blocks around a position.
 * @sp: space.
 * @p: request; issued/resident are set.
 * @async: uring completion, or NULL for the ioctl.
 *
 * Return: 0, -EIOCBQUEUED (@async will be called), or -errno.
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
	pgs = kvmalloc_array(nblk * heads * 2, sizeof(u64),
			      GFP_KERNEL_ACCOUNT);
	if (!pgs)
		return -ENOMEM;
	mode = p->flags & CXL_KV_PREFETCH_F_WAIT ? KV_PROMOTE_WAIT :
						   KV_PROMOTE_NOWAIT;
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

/**
 * kv_cmd_params_get() - PARAMS_GET.
 * @sp: space.
 * @p: out.
 *
 * Return: 0 or -EINVAL (non-zero reserved input).
 */
int kv_cmd_params_get(struct kv_space *sp, struct cxl_kv_params *p)
{
	struct kvp_params k;

	if (p->pad || !kv_zero(p->reserved))
		return -EINVAL;
	mutex_lock(&sp->lock);
	kvp_get_params(sp->pol, &k);
	mutex_unlock(&sp->lock);
	p->mask = CXL_KV_PARAM_ALL;
	p->alpha_q16 = k.alpha_q16;
	p->tau_steps = k.tau_steps;
	p->score_shift = k.score_shift;
	p->sink_tokens = k.sink_tokens;
	p->recent_tokens = k.recent_tokens;
	p->pf_window = k.pf_window;
	p->pf_window_max = k.pf_window_max;
	p->pf_epoch = k.pf_epoch;
	p->phase_window = k.phase_window;
	p->phase_enter = k.phase_enter;
	p->phase_exit = k.phase_exit;
	p->scan_limit = k.scan_limit;
	p->policy_flags = k.flags;
	return 0;
}

/**
 * kv_cmd_params_set() - PARAMS_SET: change the selected knobs, all or none.
 * @sp: space.
 * @p: in.
 *
 * Return: 0 or -EINVAL.
 */
int kv_cmd_params_set(struct kv_space *sp, struct cxl_kv_params *p)
{
	struct kvp_params k;
	int ret;

	if (!p->mask || p->mask & ~CXL_KV_PARAM_ALL || p->pad ||
	    !kv_zero(p->reserved))
		return -EINVAL;
	if (p->mask & CXL_KV_PARAM_POLICY_FLAGS &&
	    p->policy_flags & ~CXL_KV_POLICY_F_MASK)
		return -EINVAL;
	BUILD_BUG_ON(CXL_KV_POLICY_F_PROTECT != KVP_P_PROTECT ||
		     CXL_KV_POLICY_F_PREFETCH != KVP_P_PREFETCH ||
		     CXL_KV_POLICY_F_PF_ADAPT != KVP_P_PF_ADAPT ||
		     CXL_KV_POLICY_F_PHASE != KVP_P_PHASE ||
		     CXL_KV_POLICY_F_RAW != KVP_P_RAW ||
		     CXL_KV_POLICY_F_MASK != KVP_P_ALL);
	/* The limits the header documents are the policy core's. */
	BUILD_BUG_ON(CXL_KV_PARAM_MAX_ALPHA_Q16 != KVP_ONE ||
		     CXL_KV_PARAM_MAX_PF_WINDOW != KVP_PF_WINDOW_MAX ||
		     CXL_KV_HINT_SCORE_MAX != KVP_ONE);
	mutex_lock(&sp->lock);
	kvp_get_params(sp->pol, &k);
#define KV_SET(bit, f, kf) do { if (p->mask & (bit)) k.kf = p->f; } while (0)
	KV_SET(CXL_KV_PARAM_ALPHA, alpha_q16, alpha_q16);
	KV_SET(CXL_KV_PARAM_TAU, tau_steps, tau_steps);
	KV_SET(CXL_KV_PARAM_SCORE_SHIFT, score_shift, score_shift);
	KV_SET(CXL_KV_PARAM_SINK_TOKENS, sink_tokens, sink_tokens);
	KV_SET(CXL_KV_PARAM_RECENT_TOKENS, recent_tokens, recent_tokens);
	KV_SET(CXL_KV_PARAM_PF_WINDOW, pf_window, pf_window);
	KV_SET(CXL_KV_PARAM_PF_WINDOW_MAX, pf_window_max, pf_window_max);
	KV_SET(CXL_KV_PARAM_PF_EPOCH, pf_epoch, pf_epoch);
	KV_SET(CXL_KV_PARAM_PHASE_WINDOW, phase_window, phase_window);
	KV_SET(CXL_KV_PARAM_PHASE_ENTER, phase_enter, phase_enter);
	KV_SET(CXL_KV_PARAM_PHASE_EXIT, phase_exit, phase_exit);
	KV_SET(CXL_KV_PARAM_SCAN_LIMIT, scan_limit, scan_limit);
	KV_SET(CXL_KV_PARAM_POLICY_FLAGS, policy_flags, flags);
#undef KV_SET
	ret = kvp_params_validate(&k);
	if (!ret)
		ret = kvp_set_params(sp->pol, &k);
	mutex_unlock(&sp->lock);
	return ret ? -EINVAL : 0;
}

static int kv_stats_cmd(struct kv_stats *s, struct cxl_kv_stats *out)
{
	if (out->flags & ~CXL_KV_STATS_F_ALL || out->pad ||
	    !kv_zero(out->reserved))
		return -EINVAL;
	kv_stats_fill(s, out);
	return 0;
}

/**
 * kv_cmd_size() - size of the struct of a known command, else 0.
 * @cmd: ioctl number.
 */
size_t kv_cmd_size(unsigned int cmd)
{
	switch (cmd) {
	case CXL_KV_GET_FEATURES:
	case CXL_KV_INFO:
	case CXL_KV_ATTACH:
	case CXL_KV_DETACH:
	case CXL_KV_SPACE_CREATE:
	case CXL_KV_GLOBAL_STATS:
	case CXL_KV_HINTS:
	case CXL_KV_ACCESS:
	case CXL_KV_PREFETCH:
	case CXL_KV_PROMOTE:
	case CXL_KV_DEMOTE:
	case CXL_KV_PIN:
	case CXL_KV_UNPIN:
	case CXL_KV_RESIDENCY:
	case CXL_KV_PARAMS_GET:
	case CXL_KV_PARAMS_SET:
	case CXL_KV_SPACE_STATS:
	case CXL_KV_SPACE_INFO:
	case CXL_KV_LIST:
	case CXL_KV_LAYER_BEGIN:
	case CXL_KV_PIPE_STATS:
		return _IOC_SIZE(cmd);
	default:
		return 0;
	}
}

/**
 * kv_space_cmd() - run a space command on a kernel copy of its struct.
 * @sp: space.
 * @cmd: ioctl number.
 * @arg: the struct (in and out).
 * @async: uring completion for PREFETCH, or NULL.
 *
 * Return: 0, -EIOCBQUEUED (only with @async), or -errno.
 */
long kv_space_cmd(struct kv_space *sp, unsigned int cmd, void *arg,
		  struct kv_async *async)
{
	switch (cmd) {
	case CXL_KV_HINTS:
		return kv_cmd_hints(sp, arg);
	case CXL_KV_ACCESS:
		return kv_cmd_access(sp, arg);
	case CXL_KV_PREFETCH:
		return kv_cmd_prefetch(sp, arg, async);
	case CXL_KV_PROMOTE:
		return kv_cmd_promote(sp, arg);
	case CXL_KV_DEMOTE:
		return kv_cmd_demote(sp, arg);
	case CXL_KV_PIN:
		return kv_cmd_pin(sp, arg, true);
	case CXL_KV_UNPIN:
		return kv_cmd_pin(sp, arg, false);
	case CXL_KV_RESIDENCY:
		return kv_cmd_residency(sp, arg);
	case CXL_KV_PARAMS_GET:
		return kv_cmd_params_get(sp, arg);
	case CXL_KV_PARAMS_SET:
		return kv_cmd_params_set(sp, arg);
	case CXL_KV_SPACE_STATS:
		return kv_stats_cmd(&sp->stats, arg);
	case CXL_KV_SPACE_INFO: {
		struct cxl_kv_space_info *info = arg;

		if (info->pad || !kv_zero(info->reserved))
			return -EINVAL;
		*info = sp->geom;
		return 0;
	}
	/* e2e3: the layer pipeline (pipe.c) */
	case CXL_KV_LAYER_BEGIN:
		return kv_cmd_layer_begin(sp, arg);
	case CXL_KV_PIPE_STATS:
		return kv_cmd_pipe_stats(sp, arg);
	default:
		return -ENOTTY;
	}
}

/**
 * kv_ctl_cmd() - run a control-device command on a kernel copy of its struct.
 * @cmd: ioctl number.
 * @arg: the struct (in and out).
 * @newfile: out for SPACE_CREATE: the file to install once copied out.
 *
 * Return: 0, the reserved fd (SPACE_CREATE), or -errno.
 */
long kv_ctl_cmd(unsigned int cmd, void *arg, struct file **newfile)
{
	long ret;

	switch (cmd) {
	case CXL_KV_GET_FEATURES: {
		struct cxl_kv_features *f = arg;

		if (!kv_zero(f->reserved))
			return -EINVAL;
		f->version = CXL_KV_VERSION;
		f->page_size = PAGE_SIZE;
		f->features = KV_FEATURES;
		return 0;
	}
	case CXL_KV_INFO: {
		struct cxl_kv_info *info = arg;

		if (!kv_zero(info->reserved))
			return -EINVAL;
		memset(info, 0, sizeof(*info));
		mutex_lock(&kv_ctl_lock);
		kv_info(info);
		mutex_unlock(&kv_ctl_lock);
		info->features = KV_FEATURES;
		return 0;
	}
	case CXL_KV_ATTACH: {
		struct cxl_kv_attach *a = arg;

		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (!kv_zero(a->reserved))
			return -EINVAL;
		mutex_lock(&kv_ctl_lock);
		ret = kv_attach(a);
		mutex_unlock(&kv_ctl_lock);
		return ret;
	}
	case CXL_KV_DETACH: {
		struct cxl_kv_detach *d = arg;

		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (d->flags || !kv_zero(d->reserved))
			return -EINVAL;
		mutex_lock(&kv_ctl_lock);
		ret = kv_detach();
		mutex_unlock(&kv_ctl_lock);
		return ret;
	}
	case CXL_KV_SPACE_CREATE: {
		struct cxl_kv_space_create *c = arg;

		/*
		 * reserved[0]: the cold format, checked with the geometry;
		 * reserved[1..2]: CXL_KV_SPACE_F_SHARE, checked by space.c
		 */
		if (c->reserved[3] ||
		    (!(c->flags & CXL_KV_SPACE_F_SHARE) &&
		     (c->reserved[1] || c->reserved[2])))
			return -EINVAL;
		mutex_lock(&kv_ctl_lock);
		ret = kv_space_create(c, newfile);
		mutex_unlock(&kv_ctl_lock);
		return ret;
	}
	case CXL_KV_GLOBAL_STATS:
		return kv_stats_cmd(&kv_gstats, arg);
	case CXL_KV_LIST:
		return kv_list(arg);
	default:
		return -ENOTTY;
	}
}
