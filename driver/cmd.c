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
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "cxl_kv.h"

#define KV_MAX_HINTS		65536
#define KV_MAX_RANGES		4096
#define KV_HINT_CHUNK		256
#define KV_MAX_PREFETCH_PAGES	(1U << 20)

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

/**
 * cxl_kv_hints() - HINTS: apply a batch of score hints.
 * @sp: space.
 * @h: request; @h->done is set.
 *
 * Return: 0, -EINVAL (bad struct or entry @h->done), -EFAULT.
 */
int cxl_kv_hints(struct kv_space *sp, struct cxl_kv_hints *h)
{
	struct cxl_kv_hint *buf;
	const struct cxl_kv_hint __user *uh = u64_to_user_ptr(h->hints);
	u32 i, j, n;
	int ret = 0;

	h->done = 0;
	if (h->flags || h->pad || !kv_zero(h->reserved) || !h->count ||
	    h->count > KV_MAX_HINTS)
		return -EINVAL;
	buf = kmalloc_array(KV_HINT_CHUNK, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < h->count && !ret; i += n) {
		n = min_t(u32, KV_HINT_CHUNK, h->count - i);
		if (copy_from_user(buf, uh + i, n * sizeof(*buf))) {
			ret = -EFAULT;
			break;
		}
		mutex_lock(&sp->lock);
		if ((s32)((u32)h->step - sp->step) > 0)
			sp->step = (u32)h->step;
		for (j = 0; j < n; j++) {
			const struct cxl_kv_hint *x = &buf[j];

			if (x->layer >= sp->geom.layers ||
			    x->head >= sp->geom.kv_heads ||
			    x->block >= sp->bph || x->reserved) {
				ret = -EINVAL;
				break;
			}
			kvp_on_hint(sp->pol, kv_blk(sp, x->layer, x->head, x->block),
				    x->score, sp->step);
		}
		mutex_unlock(&sp->lock);
		h->done += j;
	}
	kv_stat_add(sp, hints, h->done);
	kfree(buf);
	return ret;
}

/* Copy in and validate the ranges of @r; returns the array or ERR_PTR. */
static struct cxl_kv_range *kv_ranges_get(struct kv_space *sp,
					  const struct cxl_kv_ranges *r,
					  bool step_ok)
{
	struct cxl_kv_range *rg;
	u32 i;

	if (r->flags & ~CXL_KV_RANGES_F_ALL || !kv_zero(r->reserved) ||
	    !r->count || r->count > KV_MAX_RANGES || (!step_ok && r->step))
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
	}
	return rg;
}

/**
 * cxl_kv_access() - ACCESS: report blocks read at a decode step.
 * @sp: space.
 * @r: request; @r->done = blocks reported.
 *
 * Return: 0 or -errno.
 */
int cxl_kv_access(struct kv_space *sp, struct cxl_kv_ranges *r)
{
	struct cxl_kv_range *rg = kv_ranges_get(sp, r, true);
	u32 i, b;

	r->done = 0;
	if (IS_ERR(rg))
		return PTR_ERR(rg);
	mutex_lock(&sp->lock);
	if ((s32)((u32)r->step - sp->step) > 0)
		sp->step = (u32)r->step;
	for (i = 0; i < r->count; i++) {
		for (b = 0; b < rg[i].nr_blocks; b++)
			kvp_on_access(sp->pol, kv_blk(sp, rg[i].layer, rg[i].head,
						      rg[i].first_block + b),
				      sp->step);
		r->done += rg[i].nr_blocks;
	}
	mutex_unlock(&sp->lock);
	kvfree(rg);
	return 0;
}

/*
 * Page indices of one range: its K pages, then its V pages.  The V stream
 * follows the K stream, so the indices ascend and the movers need not sort.
 */
static u64 *kv_range_pages(struct kv_space *sp, const struct cxl_kv_range *rg)
{
	u32 n = rg->nr_blocks, b;
	u64 *pgs = kvmalloc_array(2 * (size_t)n, sizeof(u64), GFP_KERNEL);

	if (!pgs)
		return NULL;
	for (b = 0; b < n; b++) {
		u32 blk = kv_blk(sp, rg->layer, rg->head, rg->first_block + b);

		pgs[b] = kv_block_pg(sp, blk, 0);
		pgs[n + b] = kv_block_pg(sp, blk, 1);
	}
	return pgs;
}

static int kv_ranges_move(struct kv_space *sp, struct cxl_kv_ranges *r,
			  bool promote)
{
	struct cxl_kv_range *rg = kv_ranges_get(sp, r, false);
	struct kv_demoter *d = NULL;
	int ret = 0, err;
	u32 i;

	r->done = 0;
	if (IS_ERR(rg))
		return PTR_ERR(rg);
	/* One demoter for all ranges: their writes share the pipeline. */
	if (!promote) {
		d = kv_demote_begin(sp);
		if (!d) {
			kvfree(rg);
			return -ENOMEM;
		}
	}
	for (i = 0; i < r->count; i++) {
		u64 *pgs = kv_range_pages(sp, &rg[i]);
		u64 resident = 0;

		if (!pgs) {
			ret = -ENOMEM;
			break;
		}
		if (promote)
			err = kv_promote_pages(sp, pgs, 2 * rg[i].nr_blocks,
					       KV_PROMOTE_WAIT, false, NULL,
					       &r->done, &resident);
		else
			err = kv_demote_add(d, pgs, 2 * rg[i].nr_blocks);
		kvfree(pgs);
		if (err && !ret)
			ret = err;
	}
	if (d) {
		err = kv_demote_end(d, &r->done);
		if (err && !ret)
			ret = err;
	}
	kvfree(rg);
	return ret;
}

/**
 * cxl_kv_promote() - PROMOTE: read cold blocks back, synchronously.
 * @sp: space.
 * @r: request; @r->done = pages read.
 *
 * Return: 0 or the first -errno (-EIO, -ENOMEM).
 */
int cxl_kv_promote(struct kv_space *sp, struct cxl_kv_ranges *r)
{
	return kv_ranges_move(sp, r, true);
}

/**
 * cxl_kv_demote() - DEMOTE: move warm blocks to the cold tier, synchronously.
 * @sp: space.
 * @r: request; @r->done = pages that left the warm tier.
 *
 * Pinned blocks are skipped.
 *
 * Return: 0 or the first -errno (-ENOSPC, -EIO).
 */
int cxl_kv_demote(struct kv_space *sp, struct cxl_kv_ranges *r)
{
	return kv_ranges_move(sp, r, false);
}

/* Undo the pins this PIN call took: the bits of @taken, in range order. */
static void kv_pin_rollback(struct kv_space *sp, const struct cxl_kv_range *rg,
			    u32 nr, const unsigned long *taken)
{
	u32 i, b, bit = 0;

	mutex_lock(&sp->lock);
	for (i = 0; i < nr; i++) {
		for (b = 0; b < rg[i].nr_blocks; b++, bit++) {
			if (test_bit(bit, taken))
				kvp_unpin(sp->pol,
					  kv_blk(sp, rg[i].layer, rg[i].head,
						 rg[i].first_block + b));
		}
	}
	mutex_unlock(&sp->lock);
}

/**
 * cxl_kv_pin() - PIN / UNPIN block ranges.
 * @sp: space.
 * @r: request; @r->done = blocks whose pin count changed.
 * @pin: true to pin (and promote), false to unpin.
 *
 * Never-written blocks cannot be pinned and are skipped; unpinning an
 * unpinned block is skipped.  PIN is all or nothing: when a block already
 * has the most pins or a promotion fails, every pin this call took is
 * dropped again before the error is returned.
 *
 * Return: 0, -EOVERFLOW (a block already has the most pins), or -errno.
 */
int cxl_kv_pin(struct kv_space *sp, struct cxl_kv_ranges *r, bool pin)
{
	struct cxl_kv_range *rg = kv_ranges_get(sp, r, false);
	unsigned long *taken = NULL;
	u32 i, b, bit = 0, total = 0;
	int ret = 0;

	r->done = 0;
	if (IS_ERR(rg))
		return PTR_ERR(rg);
	if (pin) {
		for (i = 0; i < r->count; i++)
			total += rg[i].nr_blocks;
		taken = kvcalloc(BITS_TO_LONGS(total), sizeof(long), GFP_KERNEL);
		if (!taken) {
			ret = -ENOMEM;
			goto out_free_ranges;
		}
	}
	for (i = 0; i < r->count && !ret; i++) {
		mutex_lock(&sp->lock);
		for (b = 0; b < rg[i].nr_blocks; b++, bit++) {
			u32 blk = kv_blk(sp, rg[i].layer, rg[i].head,
					 rg[i].first_block + b);
			int err = pin ? kvp_pin(sp->pol, blk) :
					kvp_unpin(sp->pol, blk);

			if (!err) {
				r->done++;
				if (pin) {
					__set_bit(bit, taken);
					sp->pins++;
				}
			} else if (err == -KVP_EOVERFLOW) {
				ret = -EOVERFLOW;
			}
		}
		mutex_unlock(&sp->lock);
		if (pin && !ret) {
			u64 *pgs = kv_range_pages(sp, &rg[i]);
			u64 issued = 0, resident = 0;

			if (!pgs) {
				ret = -ENOMEM;
				break;
			}
			ret = kv_promote_pages(sp, pgs, 2 * rg[i].nr_blocks,
					       KV_PROMOTE_WAIT, false, NULL,
					       &issued, &resident);
			kvfree(pgs);
		}
	}
	if (pin && ret) {
		kv_pin_rollback(sp, rg, i, taken);
		r->done = 0;
	}
	kvfree(taken);
out_free_ranges:
	kvfree(rg);
	return ret;
}

/**
 * cxl_kv_prefetch() - PREFETCH: promote the blocks around a position.
 * @sp: space.
 * @p: request; issued/resident are set.
 * @async: uring completion, or NULL for the ioctl.
 *
 * Return: 0, -EIOCBQUEUED (@async will be called), or -errno.
 */
int cxl_kv_prefetch(struct kv_space *sp, struct cxl_kv_prefetch *p,
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
	if (nblk * heads * 2 > KV_MAX_PREFETCH_PAGES)
		return -E2BIG;
	pgs = kvmalloc_array(nblk * heads * 2, sizeof(u64), GFP_KERNEL);
	if (!pgs)
		return -ENOMEM;
	for (h = 0; h < sp->geom.kv_heads; h++) {
		if (!(p->head_mask & BIT_ULL(h)))
			continue;
		for (b = lo; b <= hi; b++) {
			u32 blk = kv_blk(sp, p->layer, h, b);

			pgs[n++] = kv_block_pg(sp, blk, 0);
			pgs[n++] = kv_block_pg(sp, blk, 1);
		}
	}
	mode = p->flags & CXL_KV_PREFETCH_F_WAIT ? KV_PROMOTE_WAIT :
						   KV_PROMOTE_NOWAIT;
	ret = kv_promote_pages(sp, pgs, n, mode, true, async, &p->issued,
			       &p->resident);
	kvfree(pgs);
	return ret;
}

/**
 * cxl_kv_residency() - RESIDENCY: which blocks are warm.
 * @sp: space.
 * @q: request; counters set, bitmap written to user memory.
 *
 * Return: 0, -EINVAL, -EFAULT, -ENOMEM.
 */
int cxl_kv_residency(struct kv_space *sp, struct cxl_kv_residency *q)
{
	size_t words = DIV_ROUND_UP(q->nr_blocks, 64);
	u64 *bm;
	u32 i;
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
	mutex_lock(&sp->lock);
	for (i = 0; i < q->nr_blocks; i++) {
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
	}
	mutex_unlock(&sp->lock);
	if (copy_to_user(u64_to_user_ptr(q->bitmap), bm, words * sizeof(u64)))
		ret = -EFAULT;
	kvfree(bm);
	return ret;
}

/**
 * cxl_kv_params_get() - PARAMS_GET.
 * @sp: space.
 * @p: out.
 *
 * Return: 0 or -EINVAL (non-zero reserved input).
 */
int cxl_kv_params_get(struct kv_space *sp, struct cxl_kv_params *p)
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
 * cxl_kv_params_set() - PARAMS_SET: change the selected knobs, all or none.
 * @sp: space.
 * @p: in.
 *
 * Return: 0 or -EINVAL.
 */
int cxl_kv_params_set(struct kv_space *sp, struct cxl_kv_params *p)
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
		return cxl_kv_hints(sp, arg);
	case CXL_KV_ACCESS:
		return cxl_kv_access(sp, arg);
	case CXL_KV_PREFETCH:
		return cxl_kv_prefetch(sp, arg, async);
	case CXL_KV_PROMOTE:
		return cxl_kv_promote(sp, arg);
	case CXL_KV_DEMOTE:
		return cxl_kv_demote(sp, arg);
	case CXL_KV_PIN:
		return cxl_kv_pin(sp, arg, true);
	case CXL_KV_UNPIN:
		return cxl_kv_pin(sp, arg, false);
	case CXL_KV_RESIDENCY:
		return cxl_kv_residency(sp, arg);
	case CXL_KV_PARAMS_GET:
		return cxl_kv_params_get(sp, arg);
	case CXL_KV_PARAMS_SET:
		return cxl_kv_params_set(sp, arg);
	case CXL_KV_SPACE_STATS:
		return kv_stats_cmd(&sp->stats, arg);
	case CXL_KV_SPACE_INFO: {
		struct cxl_kv_space_info *info = arg;

		if (info->pad || !kv_zero(info->reserved))
			return -EINVAL;
		*info = sp->geom;
		return 0;
	}
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
		f->features = CXL_KV_F_ALL;
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
		info->features = CXL_KV_F_ALL;
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

		if (!kv_zero(c->reserved))
			return -EINVAL;
		mutex_lock(&kv_ctl_lock);
		ret = kv_space_create(c, newfile);
		mutex_unlock(&kv_ctl_lock);
		return ret;
	}
	case CXL_KV_GLOBAL_STATS:
		return kv_stats_cmd(&kv_gstats, arg);
	default:
		return -ENOTTY;
	}
}
