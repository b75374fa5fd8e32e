/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmd.h - helpers shared by the command files (cmd.c, cmd_range.c,
 * cmd_pin.c); the rest of the module includes kv.h only.
 */
#ifndef CXL_KV_CMD_H
#define CXL_KV_CMD_H

#include "kv.h"

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

#define kv_zero(x)	(!memchr_inv(&(x), 0, sizeof(x)))

static inline u32 kv_blk(const struct kv_space *sp, u32 layer, u32 head,
			  u32 block)
{
	return (layer * sp->geom.kv_heads + head) * sp->bph + block;
}

/*
 * Blocks at the start of @rg that child @sp shares with its parent (they
 * are the parent's: commands act on the parent's entries and policy for
 * them); 0 for a space that is not a child.
 */
static inline u32 kv_range_shared(const struct kv_space *sp,
				  const struct cxl_kv_range *rg)
{
	if (!sp->parent || rg->first_block >= sp->share_blocks)
		return 0;
	return min(rg->nr_blocks, sp->share_blocks - rg->first_block);
}

struct cxl_kv_range *kv_ranges_get(struct kv_space *sp,
				   const struct cxl_kv_ranges *r,
				   bool step_ok, u64 *blocks);
int kv_promote_blocks(struct kv_space *sp, const struct cxl_kv_range *rg,
		      u32 first, u32 n, u64 *pgs, u64 *done);

#endif /* CXL_KV_CMD_H */
