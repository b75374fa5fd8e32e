// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmds.c - the synchronous per-space commands (hints, access, promote,
 * demote, pin, prefetch, residency, stats, params, the layer pipeline) and
 * the cold formats' names.  Each goes through ioctl, or through the space's
 * private io_uring after cxl_kv_space_use_uring(): one SQE prepared with
 * cxl_kv_prep_cmd(); both transports reach the same kernel function.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <liburing.h>
#include <linux/ioctl.h>

#include "private.h"

/* One command, through the ring if the space has one, else ioctl. */
static int space_cmd(struct cxl_kv_space *s, unsigned long op, void *arg,
		     const char *what)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int rc;

	if (!s->ring)
		return cxl_kv__ioctl(s->ctx, s->fd, op, arg, what);
	sqe = io_uring_get_sqe(s->ring);
	if (!sqe)
		return -EBUSY;
	rc = cxl_kv_prep_cmd(sqe, s->fd, (uint32_t)op, arg,
			     (uint32_t)_IOC_SIZE(op));
	if (rc)
		return rc;
	io_uring_sqe_set_data64(sqe, op);
	rc = io_uring_submit_and_wait(s->ring, 1);
	if (rc < 0)
		return rc;
	rc = io_uring_wait_cqe(s->ring, &cqe);
	if (rc)
		return rc;
	rc = cqe->res;
	io_uring_cqe_seen(s->ring, cqe);
	if (rc < 0)
		dbg(s->ctx, "%s (uring): %s\n", what, strerror(-rc));
	return rc < 0 ? rc : 0;
}

/**
 * cxl_kv_hints() - a batch of attention-score hints for one decode step
 * @space: space
 * @step: decode step
 * @hints: the hints (reserved fields zero)
 * @count: 1..65536
 * @done: receives the hints the module applied (hints for never-written
 *        blocks and scores above 1.0 are ignored, not counted; on -EINVAL:
 *        those applied before the first bad one); may be NULL
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_hints(struct cxl_kv_space *space, uint64_t step,
		 const struct cxl_kv_hint *hints, unsigned int count,
		 unsigned int *done)
{
	struct cxl_kv_hints h;
	int rc;

	if (!space || !hints || count < 1 || count > 65536)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.step = step;
	h.hints = (uint64_t)(uintptr_t)hints;
	h.count = count;
	rc = space_cmd(space, CXL_KV_HINTS, &h, "HINTS");
	if (done)
		*done = h.done;
	return rc;
}

static int ranges_cmd(struct cxl_kv_space *s, unsigned long op,
		      uint64_t step, const struct cxl_kv_range *ranges,
		      unsigned int count, uint64_t *done, const char *what)
{
	struct cxl_kv_ranges r;
	int rc;

	if (!s || !ranges || count < 1 || count > 4096)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.step = step;
	r.ranges = (uint64_t)(uintptr_t)ranges;
	r.count = count;
	rc = space_cmd(s, op, &r, what);
	if (done)
		*done = r.done;
	return rc;
}

/**
 * cxl_kv_access() - report the blocks read at a decode step
 * @space: space
 * @step: decode step
 * @ranges: block runs (reserved fields zero)
 * @count: 1..4096
 * @done: receives the blocks reported; may be NULL
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_access(struct cxl_kv_space *space, uint64_t step,
		  const struct cxl_kv_range *ranges, unsigned int count,
		  uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_ACCESS, step, ranges, count, done,
			  "ACCESS");
}

/**
 * cxl_kv_promote() - make block runs resident (synchronous reads)
 * @space: space
 * @ranges: block runs
 * @count: 1..4096
 * @done: receives the pages of the ranges found or made resident (on an
 *        error too: those before it); may be NULL
 *
 * Return: 0, -EINVAL, -ENOMEM (warm budget), -EIO, or the module's -errno.
 */
int cxl_kv_promote(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
		   unsigned int count, uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_PROMOTE, 0, ranges, count, done,
			  "PROMOTE");
}

/**
 * cxl_kv_demote() - write block runs to the cold tier and free their pages
 * @space: space
 * @ranges: block runs (pinned blocks are skipped)
 * @count: 1..4096
 * @done: receives the pages written or dropped (on -ENOSPC or -EIO too:
 *        those that went before it); may be NULL
 *
 * Return: 0, -EINVAL, -ENOSPC (cold tier full), -EIO, or the module's -errno.
 */
int cxl_kv_demote(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
		  unsigned int count, uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_DEMOTE, 0, ranges, count, done,
			  "DEMOTE");
}

/**
 * cxl_kv_pin() - keep block runs warm until cxl_kv_unpin()
 * @space: space
 * @ranges: block runs (promoted first if cold)
 * @count: 1..4096
 * @done: receives the blocks whose pin count changed; may be NULL
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_pin(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
	       unsigned int count, uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_PIN, 0, ranges, count, done, "PIN");
}

/**
 * cxl_kv_unpin() - drop one pin of each block of the runs
 * @space: space
 * @ranges: block runs
 * @count: 1..4096
 * @done: receives the blocks whose pin count changed; may be NULL
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_unpin(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
		 unsigned int count, uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_UNPIN, 0, ranges, count, done,
			  "UNPIN");
}

/**
 * cxl_kv_prefetch() - promote the blocks around a token position
 * @space: space
 * @layer: layer
 * @head_mask: bit h selects KV head h (not 0; no bit >= kv_heads)
 * @pos: token position P
 * @window: W in tokens: tokens [P - W, P + W]
 * @flags: CXL_KV_PREFETCH_F_WAIT to return when resident (ioctl transport;
 *         through io_uring the call always waits)
 * @issued: receives pages whose promotion this call started; may be NULL
 * @resident: receives pages already resident; may be NULL
 *
 * Return: 0, -EINVAL, -EIO (a read failed, waiting modes), or the module's
 * -errno.
 */
int cxl_kv_prefetch(struct cxl_kv_space *space, uint32_t layer,
		    uint64_t head_mask, uint64_t pos, uint64_t window,
		    unsigned int flags, uint64_t *issued, uint64_t *resident)
{
	struct cxl_kv_prefetch pf;
	int rc;

	if (!space || !head_mask || (flags & ~CXL_KV_PREFETCH_F_ALL))
		return -EINVAL;
	memset(&pf, 0, sizeof(pf));
	pf.layer = layer;
	pf.head_mask = head_mask;
	pf.pos = pos;
	pf.window = window;
	pf.flags = space->ring ? 0 : flags;
	rc = space_cmd(space, CXL_KV_PREFETCH, &pf, "PREFETCH");
	if (issued)
		*issued = pf.issued;
	if (resident)
		*resident = pf.resident;
	return rc;
}

/**
 * cxl_kv_prefetch_batch() - several prefetch windows in one go
 * @space: space
 * @pf: @count PREFETCH commands (layer, head_mask, pos, window, flags set by
 *      the caller; issued and resident are written back into each)
 * @count: number of commands, >= 1
 *
 * With io_uring (cxl_kv_space_use_uring()) every window is prepared with
 * cxl_kv_prep_prefetch(), submitted together (as many as the ring holds at a
 * time) and the call returns when all have completed, i.e. when every
 * window is resident; through ioctl the commands are issued one after the
 * other, each returning once its reads are submitted unless it has
 * CXL_KV_PREFETCH_F_WAIT.
 *
 * Return: 0; -EINVAL (NULL, @count 0, a zero head_mask or unknown flag);
 * or the first failing command's -errno (the others still ran).
 */
int cxl_kv_prefetch_batch(struct cxl_kv_space *space,
			  struct cxl_kv_prefetch *pf, unsigned int count)
{
	unsigned int i, sent = 0, reaped = 0;
	int first = 0, rc;

	if (!space || !pf || !count)
		return -EINVAL;
	for (i = 0; i < count; i++)
		if (!pf[i].head_mask || (pf[i].flags & ~CXL_KV_PREFETCH_F_ALL))
			return -EINVAL;
	if (!space->ring) {
		for (i = 0; i < count; i++) {
			pf[i].issued = pf[i].resident = 0;
			memset(pf[i].reserved, 0, sizeof(pf[i].reserved));
			rc = cxl_kv__ioctl(space->ctx, space->fd, CXL_KV_PREFETCH, &pf[i],
				      "PREFETCH");
			if (rc && !first)
				first = rc;
		}
		return first;
	}
	while (reaped < count) {
		struct io_uring_cqe *cqe;
		struct io_uring_sqe *sqe;

		while (sent < count && (sqe = io_uring_get_sqe(space->ring))) {
			pf[sent].flags = 0;	/* a uring prefetch always waits */
			rc = cxl_kv_prep_prefetch(sqe, space->fd, &pf[sent]);
			if (rc)
				return rc;	/* cannot happen: checked above */
			io_uring_sqe_set_data64(sqe, sent);
			sent++;
		}
		rc = io_uring_submit_and_wait(space->ring, 1);
		if (rc < 0)
			return rc;
		/* reap everything in flight before queueing more */
		while (reaped < sent) {
			rc = io_uring_wait_cqe(space->ring, &cqe);
			if (rc)
				return rc;
			if (cqe->res < 0 && !first) {
				first = cqe->res;
				dbg(space->ctx, "PREFETCH %llu (uring): %s\n",
				    (unsigned long long)cqe->user_data,
				    strerror(-first));
			}
			io_uring_cqe_seen(space->ring, cqe);
			reaped++;
		}
	}
	return first;
}

/**
 * cxl_kv_residency() - which blocks of a run need no I/O to touch
 * @space: space
 * @layer: layer
 * @head: KV head
 * @first_block: first block
 * @nr_blocks: blocks, >= 1
 * @bitmap: receives DIV_ROUND_UP(@nr_blocks, 64) words, bit i set iff block
 *          @first_block + i has no cold page; may be NULL
 * @out: receives the whole command (counts nr_warm, nr_cold, nr_empty,
 *       nr_pinned); may be NULL
 *
 * Return: 0, -EINVAL, -ENOMEM, or the module's -errno.
 */
int cxl_kv_residency(struct cxl_kv_space *space, uint32_t layer, uint32_t head,
		     uint32_t first_block, uint32_t nr_blocks, uint64_t *bitmap,
		     struct cxl_kv_residency *out)
{
	struct cxl_kv_residency r;
	uint64_t *bm = bitmap;
	int rc;

	if (!space || nr_blocks < 1 || layer > UINT16_MAX || head > UINT16_MAX)
		return -EINVAL;
	if (!bm) {
		bm = calloc((nr_blocks + 63) / 64, sizeof(*bm));
		if (!bm)
			return -ENOMEM;
	}
	memset(&r, 0, sizeof(r));
	r.layer = (uint16_t)layer;
	r.head = (uint16_t)head;
	r.first_block = first_block;
	r.nr_blocks = nr_blocks;
	r.bitmap = (uint64_t)(uintptr_t)bm;
	rc = space_cmd(space, CXL_KV_RESIDENCY, &r, "RESIDENCY");
	if (!bitmap)
		free(bm);
	if (out) {
		*out = r;
		if (!bitmap)
			out->bitmap = 0;
	}
	return rc;
}

/**
 * cxl_kv_space_stats() - a space's counters
 * @space: space
 * @st: receives struct cxl_kv_stats
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_space_stats(struct cxl_kv_space *space, struct cxl_kv_stats *st)
{
	if (!space || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	return space_cmd(space, CXL_KV_SPACE_STATS, st, "SPACE_STATS");
}

/**
 * cxl_kv_params_get() - a space's policy parameters
 * @space: space
 * @p: receives struct cxl_kv_params (mask = CXL_KV_PARAM_ALL)
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_params_get(struct cxl_kv_space *space, struct cxl_kv_params *p)
{
	if (!space || !p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	return space_cmd(space, CXL_KV_PARAMS_GET, p, "PARAMS_GET");
}

/**
 * cxl_kv_params_set() - change a space's policy parameters
 * @space: space
 * @p: the fields selected by p->mask are applied, all or none; pad and
 *     reserved must be zero
 *
 * Return: 0, -EINVAL (bad mask, a value out of range), or the module's
 * -errno.
 */
int cxl_kv_params_set(struct cxl_kv_space *space, struct cxl_kv_params *p)
{
	if (!space || !p || !p->mask || (p->mask & ~CXL_KV_PARAM_ALL))
		return -EINVAL;
	return space_cmd(space, CXL_KV_PARAMS_SET, p, "PARAMS_SET");
}

static const char *const cold_names[CXL_KV_FMT_NR] = {
	"raw", "lossless", "int8", "fp8", "int4",
};

/**
 * cxl_kv_cold_format_parse() - a cold format from its name
 * @name: "raw", "lossless", "int8", "fp8" or "int4", optionally followed by
 *	"-bf16" (the lossy formats read bf16 elements, else fp16)
 * @format: receives CXL_KV_FMT_* | CXL_KV_FMT_F_BF16
 *
 * Return: 0 or -EINVAL.
 */
int cxl_kv_cold_format_parse(const char *name, uint64_t *format)
{
	size_t n;

	if (!name || !format)
		return -EINVAL;
	for (uint64_t f = 0; f < CXL_KV_FMT_NR; f++) {
		n = strlen(cold_names[f]);
		if (strncmp(name, cold_names[f], n))
			continue;
		if (!name[n]) {
			*format = f;
			return 0;
		}
		if (!strcmp(name + n, "-bf16")) {
			*format = f | CXL_KV_FMT_F_BF16;
			return 0;
		}
	}
	return -EINVAL;
}

/**
 * cxl_kv_cold_format_name() - the name of a cold format's kind
 * @format: CXL_KV_FMT_* (flags ignored)
 *
 * Return: "raw", "lossless", "int8", "fp8", "int4", or NULL if unknown.
 */
const char *cxl_kv_cold_format_name(uint64_t format)
{
	uint64_t f = format & CXL_KV_FMT_MASK;

	return f < CXL_KV_FMT_NR ? cold_names[f] : NULL;
}

/* ------------------------------------------------------------------------ */
/* The layer pipeline (LIBCXL_KV_PIPE)                                      */
/* ------------------------------------------------------------------------ */

/**
 * cxl_kv_layer_begin() - tell the module a layer's reads begin (LAYER_BEGIN)
 * @space: space
 * @layer: the layer whose reads start now
 * @step: the decode step (as given to cxl_kv_access())
 * @depth: layers ahead the module promotes in the background,
 *         1..min(CXL_KV_MAX_PIPE_DEPTH, layers - 1)
 * @max_pages: the space's prefetch budget per plan, pages (0: the module's
 *             default, the warm budget / 8)
 * @flags: CXL_KV_LAYER_F_WAIT to return when the plan has been carried out
 *
 * The module promotes, while the layer computes, the cold blocks of the
 * next @depth layers its policy expects the reads to touch; a later call
 * replaces the plan.  Needs CXL_KV_F_LAYER_PIPELINE.
 *
 * Return: 0, -EINVAL, -ENOTTY (a module without the pipeline), -EINTR, or
 * the module's -errno.
 */
int cxl_kv_layer_begin(struct cxl_kv_space *space, uint32_t layer,
		       uint32_t step, uint32_t depth, uint64_t max_pages,
		       unsigned int flags)
{
	struct cxl_kv_layer_begin lb;

	if (!space || (flags & ~CXL_KV_LAYER_F_ALL))
		return -EINVAL;
	memset(&lb, 0, sizeof(lb));
	lb.layer = layer;
	lb.step = step;
	lb.depth = depth;
	lb.flags = flags;
	lb.max_pages = max_pages;
	return space_cmd(space, CXL_KV_LAYER_BEGIN, &lb, "LAYER_BEGIN");
}

/**
 * cxl_kv_pipe_stats() - what the layer pipeline of a space did (PIPE_STATS)
 * @space: space
 * @ps: receives struct cxl_kv_pipe_stats
 *
 * Return: 0, -EINVAL, -ENOTTY (a module without the pipeline), or the
 * module's -errno.
 */
int cxl_kv_pipe_stats(struct cxl_kv_space *space, struct cxl_kv_pipe_stats *ps)
{
	if (!space || !ps)
		return -EINVAL;
	memset(ps, 0, sizeof(*ps));
	return space_cmd(space, CXL_KV_PIPE_STATS, ps, "PIPE_STATS");
}
