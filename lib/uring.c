// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * uring.c - io_uring request builders for cxl_kv (liburing style).
 *
 * liburing 2.3 has no helper for IORING_OP_URING_CMD, so the SQE is filled
 * by hand: opcode, fd, cmd_op (the ioctl number) and the 16-byte
 * struct cxl_kv_uring_cmd in sqe->cmd; every other field is zeroed, and the
 * typed builders zero the reserved/pad fields of the command struct too.
 */
#include <errno.h>
#include <string.h>
#include <liburing.h>
#include <linux/ioctl.h>

#include "private.h"

_Static_assert(sizeof(struct io_uring_sqe) == 64, "64-byte SQE");
_Static_assert(offsetof(struct io_uring_sqe, cmd) == 48, "sqe->cmd at 48");
_Static_assert(sizeof(struct cxl_kv_uring_cmd) == 16,
	       "uring payload fits a 64-byte SQE");

/**
 * cxl_kv_prep_cmd() - fill an SQE for any cxl_kv command
 * @sqe: submission queue entry (io_uring_get_sqe())
 * @fd: space fd (or control device fd for control commands)
 * @cmd_op: the ioctl number, e.g. CXL_KV_HINTS
 * @arg: the command struct; stays valid until the completion is reaped
 * @len: its size; must equal _IOC_SIZE(@cmd_op)
 *
 * Return: 0, -EINVAL (NULL @sqe or @arg, @len mismatch, not a cxl_kv
 * command number), -EBADF (negative @fd).
 */
int cxl_kv_prep_cmd(struct io_uring_sqe *sqe, int fd, uint32_t cmd_op,
		    void *arg, uint32_t len)
{
	struct cxl_kv_uring_cmd cmd = {
		.addr = (uint64_t)(uintptr_t)arg,
		.len = len,
		.flags = 0,
	};

	if (!sqe || !arg)
		return -EINVAL;
	if (_IOC_TYPE(cmd_op) != CXL_KV_IOC_TYPE || _IOC_SIZE(cmd_op) != len)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = cmd_op;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
	return 0;
}

/**
 * cxl_kv_prep_score() - a batch of attention-score hints (HINTS)
 * @sqe: submission queue entry
 * @fd: space fd
 * @hints: command; its step, hints address and count set by the caller;
 *         flags, pad and reserved are zeroed here
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_score(struct io_uring_sqe *sqe, int fd,
		      struct cxl_kv_hints *hints)
{
	if (!hints)
		return -EINVAL;
	hints->flags = 0;
	hints->pad = 0;
	hints->done = 0;
	memset(hints->reserved, 0, sizeof(hints->reserved));
	return cxl_kv_prep_cmd(sqe, fd, CXL_KV_HINTS, hints, sizeof(*hints));
}

/**
 * cxl_kv_prep_prefetch() - promote a window around a position (PREFETCH)
 * @sqe: submission queue entry
 * @fd: space fd
 * @pf: command; layer, head_mask, pos, window set by the caller; flags are
 *      kept (CXL_KV_PREFETCH_F_WAIT is meaningless here: a uring prefetch
 *      always completes when the window is resident), outputs and reserved
 *      are zeroed
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_prefetch(struct io_uring_sqe *sqe, int fd,
			 struct cxl_kv_prefetch *pf)
{
	if (!pf)
		return -EINVAL;
	pf->issued = 0;
	pf->resident = 0;
	memset(pf->reserved, 0, sizeof(pf->reserved));
	return cxl_kv_prep_cmd(sqe, fd, CXL_KV_PREFETCH, pf, sizeof(*pf));
}

static int prep_ranges(struct io_uring_sqe *sqe, int fd, uint32_t op,
		       struct cxl_kv_ranges *r)
{
	if (!r)
		return -EINVAL;
	r->done = 0;
	memset(r->reserved, 0, sizeof(r->reserved));
	return cxl_kv_prep_cmd(sqe, fd, op, r, sizeof(*r));
}

/**
 * cxl_kv_prep_access() - report block accesses of a step (ACCESS)
 * @sqe: submission queue entry
 * @fd: space fd
 * @r: command: step, ranges, count, flags (0); done and reserved zeroed
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_access(struct io_uring_sqe *sqe, int fd,
		       struct cxl_kv_ranges *r)
{
	return prep_ranges(sqe, fd, CXL_KV_ACCESS, r);
}

/**
 * cxl_kv_prep_promote() - make ranges resident (PROMOTE)
 * @sqe: submission queue entry
 * @fd: space fd
 * @r: command: ranges, count; step must be 0
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_promote(struct io_uring_sqe *sqe, int fd,
			struct cxl_kv_ranges *r)
{
	return prep_ranges(sqe, fd, CXL_KV_PROMOTE, r);
}

/**
 * cxl_kv_prep_demote() - write ranges to the cold tier (DEMOTE)
 * @sqe: submission queue entry
 * @fd: space fd
 * @r: command: ranges, count; step must be 0
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_demote(struct io_uring_sqe *sqe, int fd,
		       struct cxl_kv_ranges *r)
{
	return prep_ranges(sqe, fd, CXL_KV_DEMOTE, r);
}

/**
 * cxl_kv_prep_pin() - keep ranges warm (PIN)
 * @sqe: submission queue entry
 * @fd: space fd
 * @r: command: ranges, count; step must be 0
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_pin(struct io_uring_sqe *sqe, int fd, struct cxl_kv_ranges *r)
{
	return prep_ranges(sqe, fd, CXL_KV_PIN, r);
}

/**
 * cxl_kv_prep_unpin() - drop pins (UNPIN)
 * @sqe: submission queue entry
 * @fd: space fd
 * @r: command: ranges, count; step must be 0
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_unpin(struct io_uring_sqe *sqe, int fd,
		      struct cxl_kv_ranges *r)
{
	return prep_ranges(sqe, fd, CXL_KV_UNPIN, r);
}

/**
 * cxl_kv_prep_residency() - which blocks of a range are warm (RESIDENCY)
 * @sqe: submission queue entry
 * @fd: space fd
 * @r: command: layer, head, first_block, nr_blocks, bitmap; flags,
 *     outputs and reserved zeroed
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_residency(struct io_uring_sqe *sqe, int fd,
			  struct cxl_kv_residency *r)
{
	if (!r)
		return -EINVAL;
	r->flags = 0;
	r->nr_warm = r->nr_cold = r->nr_empty = r->nr_pinned = 0;
	memset(r->reserved, 0, sizeof(r->reserved));
	return cxl_kv_prep_cmd(sqe, fd, CXL_KV_RESIDENCY, r, sizeof(*r));
}

/**
 * cxl_kv_prep_stats() - a space's counters (SPACE_STATS)
 * @sqe: submission queue entry
 * @fd: space fd
 * @st: receives the counters; zeroed here
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_stats(struct io_uring_sqe *sqe, int fd, struct cxl_kv_stats *st)
{
	if (!st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	return cxl_kv_prep_cmd(sqe, fd, CXL_KV_SPACE_STATS, st, sizeof(*st));
}

/**
 * cxl_kv_prep_layer_begin() - a layer's reads begin (LAYER_BEGIN)
 * @sqe: submission queue entry
 * @fd: space fd
 * @lb: command; layer, step, depth, max_pages and flags set by the caller;
 *      reserved is zeroed
 *
 * Return: 0, -EINVAL, -EBADF.
 */
int cxl_kv_prep_layer_begin(struct io_uring_sqe *sqe, int fd,
			    struct cxl_kv_layer_begin *lb)
{
	if (!lb)
		return -EINVAL;
	memset(lb->reserved, 0, sizeof(lb->reserved));
	return cxl_kv_prep_cmd(sqe, fd, CXL_KV_LAYER_BEGIN, lb, sizeof(*lb));
}
