// SPDX-License-Identifier: GPL-2.0
/*
 * pipe.c - the layer pipeline: LAYER_BEGIN(layer, step, depth) and its
 * background promotions.
 *
 * The server says which layer it begins; while that layer computes, a
 * worker (struct kv_pipe.work on kv_wq) promotes the cold blocks of layers
 * layer + 1 .. layer + depth that the policy core expects the reads to
 * touch (kvp_layer_plan(): the per-head hot set of the previous step and
 * the prefetch window around each hot block).  The policy decides what,
 * this file decides how:
 *   - one plan at a time per space: a LAYER_BEGIN replaces the plan of the
 *     one before (kv_pipe.gen); the worker looks at the generation between
 *     chunks of KV_PIPE_CHUNK blocks and starts over from the newest, so
 *     the blocks of a layer that has begun are no longer read ahead (its
 *     own reads fault them in) and what was not read is counted cancelled;
 *   - a plan names at most its max_pages (the space's prefetch budget);
 *     the rest is counted over_budget and not read;
 *   - and at most kv_pipe.cap pages of them are read: every KV_PIPE_EPOCH
 *     outcomes (used + late + unread) the cap drops to an eighth when
 *     fewer than half were used, and doubles when more were, up to max_pages; below
 *     KV_PIPE_MIN_CAP it is 0 and only every KV_PIPE_PROBE-th plan reads
 *     (KV_PIPE_MIN_CAP pages) to see whether the reads are used again: a
 *     pipeline whose reads go unread stops quickly (each unread read also
 *     evicted a page that was warm);
 *   - the reads are ordinary promotions (kv_promote_pages(), prefetch, with
 *     KV_PROMOTE_PIPE): their pages carry KV_F_PIPE until a fault uses
 *     them (used), a fault finds them still being read (late) or they leave
 *     the warm tier without a fault (unread: kv_pipe_leave());
 *   - release sets kv_space.dead (promotions end with -ESHUTDOWN) and then
 *     cancels the work synchronously (kv_pipe_stop()): no worker outlives
 *     the file, so the module cannot go while one runs.
 * The worker never holds kv_space.lock while it allocates or reads.
 */
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "kv.h"

#define KV_PIPE_CHUNK	32	/* blocks promoted between generation checks */
#define KV_PIPE_BLKS	(CXL_KV_MAX_PIPE_PAGES / 2)
#define KV_PIPE_EPOCH	128	/* outcomes between two cap adjustments */
#define KV_PIPE_MIN_CAP	16	/* pages: the smallest cap but 0 */
#define KV_PIPE_PROBE	64	/* at cap 0, one plan in this many reads */

/*
 * Adjust kv_pipe.cap to the outcomes since the last adjustment; return the
 * pages this plan may read.
 */
static u32 kv_pipe_adapt(struct kv_pipe *p)
{
	u64 used = atomic64_read(&p->used) + atomic64_read(&p->late);
	u64 all = used + atomic64_read(&p->unread), d = all - p->seen;
	u64 dused;

	if (p->cap > p->max_pages)
		p->cap = p->max_pages;
	if (d >= KV_PIPE_EPOCH) {
		dused = used - min(used, p->seen_used);
		if (2 * dused >= d)
			p->cap = clamp_t(u32, 2 * p->cap, KV_PIPE_MIN_CAP,
					 p->max_pages);
		else if (p->cap / 8 < KV_PIPE_MIN_CAP)
			p->cap = 0;
		else
			p->cap /= 8;
		p->seen = all;
		p->seen_used = used;
	}
	if (p->cap)
		return p->cap;
	return ++p->probe % KV_PIPE_PROBE ? 0 :
	       min_t(u32, KV_PIPE_MIN_CAP, p->max_pages);
}

#define kv_zero(x)	(!memchr_inv(&(x), 0, sizeof(x)))

/*
 * The plan of the newest LAYER_BEGIN into @p->blks: layer + 1 ..
 * layer + depth, nearest first, at most max_pages / 2 blocks.  Returns the
 * blocks; *@gen is the generation planned.
 */
static u32 kv_pipe_plan(struct kv_space *sp, u32 *gen)
{
	struct kv_pipe *p = &sp->pipe;
	u32 d, n = 0, more = 0, max;

	lockdep_assert_held(&sp->lock);
	*gen = p->gen;
	max = min_t(u32, kv_pipe_adapt(p) / 2, KV_PIPE_BLKS);
	for (d = 1; d <= p->depth; d++) {
		u32 layer = (p->layer + d) % sp->geom.layers, m = 0;
		int r;

		r = kvp_layer_plan(sp->pol, layer, p->step - 1, p->blks + n,
				   max - n, &m);
		if (WARN_ON_ONCE(r < 0))
			break;
		n += r;
		more += m;
	}
	atomic64_add(2ULL * n, &p->planned);
	atomic64_add(2ULL * more, &p->planned);
	atomic64_add(2ULL * more, &p->over_budget);
	return n;
}

static void kv_pipe_work(struct work_struct *work)
{
	struct kv_pipe *p = container_of(work, struct kv_pipe, work);
	struct kv_space *sp = container_of(p, struct kv_space, pipe);
	u64 pgs[2 * KV_PIPE_CHUNK];
	u32 gen, n, i, c, j;
	int ret;

	mutex_lock(&sp->lock);
again:
	if (sp->dead) {
		p->busy = false;
		mutex_unlock(&sp->lock);
		wake_up_all(&sp->wq);
		return;
	}
	n = kv_pipe_plan(sp, &gen);
	mutex_unlock(&sp->lock);

	for (i = 0; i < n; i += c) {
		u64 issued = 0, resident = 0;

		c = min_t(u32, KV_PIPE_CHUNK, n - i);
		if (READ_ONCE(p->gen) != gen)
			break;
		for (j = 0; j < c; j++) {
			pgs[2 * j] = kv_block_pg(sp, p->blks[i + j], 0);
			pgs[2 * j + 1] = kv_block_pg(sp, p->blks[i + j], 1);
		}
		ret = kv_promote_pages(sp, pgs, 2 * c,
				       KV_PROMOTE_WAIT | KV_PROMOTE_PIPE, true,
				       NULL, &issued, &resident);
		atomic64_add(issued, &p->issued);
		if (ret) {
			/* No room, a failed read, or the space is going. */
			i += c;
			break;
		}
		cond_resched();
	}
	if (i < n)
		atomic64_add(2ULL * (n - i), &p->cancelled);

	mutex_lock(&sp->lock);
	if (p->gen != gen)
		goto again;
	p->busy = false;
	mutex_unlock(&sp->lock);
	wake_up_all(&sp->wq);
}

/**
 * kv_pipe_init() - set up the layer pipeline of a new space.
 * @sp: space.
 */
void kv_pipe_init(struct kv_space *sp)
{
	INIT_WORK(&sp->pipe.work, kv_pipe_work);
}

/**
 * kv_pipe_stop() - end the pipeline of a space being released.
 * @sp: space, kv_space.dead already set.
 *
 * Context: process, no lock held; waits for a running plan's current chunk.
 */
void kv_pipe_stop(struct kv_space *sp)
{
	cancel_work_sync(&sp->pipe.work);
	mutex_lock(&sp->lock);
	sp->pipe.busy = false;
	mutex_unlock(&sp->lock);
}

/**
 * kv_pipe_free() - free what the pipeline of a space allocated.
 * @sp: space, no worker running (kv_pipe_stop() done, or never started).
 */
void kv_pipe_free(struct kv_space *sp)
{
	kvfree(sp->pipe.blks);
	sp->pipe.blks = NULL;
}

/**
 * kv_pipe_fault() - a fault found page @e in the state it is in now.
 * @sp: space.
 * @e: the page's entry, KV_RD (the fault waits for the read: late) or
 *	resident (the fault maps it: used).
 *
 * Context: kv_space.lock held.
 */
void kv_pipe_fault(struct kv_space *sp, struct kv_entry *e)
{
	lockdep_assert_held(&sp->lock);
	if (!(e->flags & KV_F_PIPE))
		return;
	e->flags &= ~KV_F_PIPE;
	if (e->state == KV_RD)
		atomic64_inc(&sp->pipe.late);
	else
		atomic64_inc(&sp->pipe.used);
}

/**
 * kv_pipe_leave() - page @e leaves the warm tier (demoted or dropped).
 * @sp: space.
 * @e: its entry.
 *
 * Context: kv_space.lock held.
 */
void kv_pipe_leave(struct kv_space *sp, struct kv_entry *e)
{
	lockdep_assert_held(&sp->lock);
	if (!(e->flags & KV_F_PIPE))
		return;
	e->flags &= ~KV_F_PIPE;
	atomic64_inc(&sp->pipe.unread);
}

/**
 * kv_cmd_layer_begin() - LAYER_BEGIN: the server begins a layer.
 * @sp: space.
 * @lb: request.
 * @nowait: a non-blocking uring issue (KV_CMD_TRY): -EAGAIN, nothing done,
 *	where it would sleep: CXL_KV_LAYER_F_WAIT, the space's first
 *	LAYER_BEGIN (allocates the plan buffer), kv_space.lock busy.
 *
 * Without CXL_KV_LAYER_F_WAIT it only records the layer and queues the
 * worker, under kv_space.lock.
 *
 * Return: 0, -EINVAL (bad struct), -ENOMEM (the plan buffer), -EINTR
 * (CXL_KV_LAYER_F_WAIT: killed while waiting), -EAGAIN (@nowait).
 */
int kv_cmd_layer_begin(struct kv_space *sp, struct cxl_kv_layer_begin *lb,
		       bool nowait)
{
	struct kv_pipe *p = &sp->pipe;
	u64 budget = sp->tiers->budget, max;
	u32 *blks = NULL;

	if (lb->flags & ~CXL_KV_LAYER_F_ALL || !kv_zero(lb->reserved) ||
	    lb->layer >= sp->geom.layers || !lb->depth ||
	    lb->depth > min_t(u32, CXL_KV_MAX_PIPE_DEPTH, sp->geom.layers - 1))
		return -EINVAL;
	max = lb->max_pages ?: budget / 8;
	max = min3(max, budget / 2, (u64)CXL_KV_MAX_PIPE_PAGES);

	if (nowait) {
		if (lb->flags & CXL_KV_LAYER_F_WAIT || !READ_ONCE(p->blks) ||
		    !mutex_trylock(&sp->lock))
			return -EAGAIN;
		goto locked;
	}
	if (!READ_ONCE(p->blks)) {
		blks = kvmalloc_array(KV_PIPE_BLKS, sizeof(*blks),
				      GFP_KERNEL_ACCOUNT);
		if (!blks)
			return -ENOMEM;
	}
	mutex_lock(&sp->lock);
	if (!p->blks) {
		p->blks = blks;
		blks = NULL;
	}
locked:
	p->layer = lb->layer;
	p->step = lb->step;
	p->depth = lb->depth;
	if (p->max_pages != max || !p->layer_begins_seen) {
		p->cap = max;	/* a new budget starts trusted */
		p->layer_begins_seen = true;
	}
	p->max_pages = max;
	p->gen++;
	/* kv_space.dead cannot be set: the caller holds the file. */
	if (!p->busy) {
		p->busy = true;
		queue_work(kv_wq, &p->work);
	}
	mutex_unlock(&sp->lock);
	kvfree(blks);
	atomic64_inc(&p->layer_begins);

	if (!(lb->flags & CXL_KV_LAYER_F_WAIT))
		return 0;
	if (wait_event_killable(sp->wq, !READ_ONCE(p->busy)))
		return -EINTR;
	return 0;
}

/**
 * kv_cmd_pipe_stats() - PIPE_STATS: the pipeline's counters.
 * @sp: space.
 * @ps: request; filled.
 *
 * Return: 0 or -EINVAL (flags, pad or reserved not zero).
 */
int kv_cmd_pipe_stats(struct kv_space *sp, struct cxl_kv_pipe_stats *ps)
{
	struct kv_pipe *p = &sp->pipe;

	if (ps->flags || ps->pad || !kv_zero(ps->reserved))
		return -EINVAL;
	ps->layer_begins = atomic64_read(&p->layer_begins);
	ps->planned = atomic64_read(&p->planned);
	ps->issued = atomic64_read(&p->issued);
	ps->used = atomic64_read(&p->used);
	ps->late = atomic64_read(&p->late);
	ps->unread = atomic64_read(&p->unread);
	ps->cancelled = atomic64_read(&p->cancelled);
	ps->over_budget = atomic64_read(&p->over_budget);
	return 0;
}
