// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * layout.c - the mmap layout of a space, as include/uapi/linux/cxl_kv.h
 * defines it (head-major streams):
 *
 *	stream  s = (layer * kv_heads + head) * 2 + kind
 *	offset    = s * stream_bytes + token * token_bytes
 *
 * token_bytes = head_dim * dtype_bytes (a power of two <= page size),
 * stream_bytes = round_up(max_tokens * token_bytes, page_size), a block is
 * one page of a stream: page_size / token_bytes tokens.
 */
#include <errno.h>

#include "kvgeom.h"
#include "private.h"

_Static_assert(KVG_EINVAL == EINVAL && KVG_E2BIG == E2BIG, "kvgeom errnos");
_Static_assert(KVG_MAX_LAYERS == CXL_KV_MAX_LAYERS &&
	       KVG_MAX_KV_HEADS == CXL_KV_MAX_KV_HEADS &&
	       KVG_MAX_SPACE_PAGES == CXL_KV_MAX_SPACE_PAGES, "kvgeom bounds");

/**
 * cxl_kv_layout_init() - compute and validate a space's layout
 * @lo: receives the layout
 * @geo: the geometry
 * @page_size: page size in bytes (GET_FEATURES.page_size)
 *
 * The module's own check (driver/policy/kvgeom.c, the same code as
 * SPACE_CREATE's), so a geometry accepted here is accepted by the module
 * (given budget and cold space) and a refused one gets the same errno.
 *
 * Return: 0; -EINVAL for a NULL pointer, a page size that is not a power of
 * two in [512, 65536], layers not in 1..CXL_KV_MAX_LAYERS, kv_heads not in
 * 1..CXL_KV_MAX_KV_HEADS, a dtype other than 1, 2, 4, head_dim 0, a token
 * size (head_dim * dtype_bytes) that is not a power of two no larger than
 * the page, max_tokens 0 (checked in this order); -E2BIG when the space
 * exceeds CXL_KV_MAX_SPACE_PAGES pages, however large max_tokens is.
 */
int cxl_kv_layout_init(struct cxl_kv_layout *lo,
		       const struct cxl_kv_geometry *geo, uint32_t page_size)
{
	struct kvg_space s;
	struct kvg_layout l;
	int rc;

	if (!lo || !geo)
		return -EINVAL;
	s.layers = geo->layers;
	s.kv_heads = geo->kv_heads;
	s.head_dim = geo->head_dim;
	s.dtype_bytes = geo->dtype_bytes;
	s.max_tokens = geo->max_tokens;
	rc = kvg_layout(&s, page_size, &l, NULL);
	if (rc)
		return rc;
	lo->geo = *geo;
	lo->page_size = l.page_size;
	lo->token_bytes = l.token_bytes;
	lo->tokens_per_block = l.tokens_per_block;
	lo->blocks_per_stream = l.blocks_per_stream;
	lo->stream_bytes = l.stream_bytes;
	lo->mmap_bytes = l.mmap_bytes;
	return 0;
}

/**
 * cxl_kv_layout_offset() - byte offset of one token's K or V vector
 * @lo: layout from cxl_kv_layout_init()
 * @layer: layer, < layers
 * @head: KV head, < kv_heads
 * @kind: CXL_KV_K or CXL_KV_V
 * @token: token position, < max_tokens
 * @offset: receives the offset from the start of the mapping
 *
 * Return: 0, -EINVAL (NULL), -ERANGE (an index out of the geometry).
 */
int cxl_kv_layout_offset(const struct cxl_kv_layout *lo, uint32_t layer,
			 uint32_t head, unsigned int kind, uint64_t token,
			 uint64_t *offset)
{
	uint64_t s;

	if (!lo || !offset)
		return -EINVAL;
	if (layer >= lo->geo.layers || head >= lo->geo.kv_heads || kind > 1 ||
	    token >= lo->geo.max_tokens)
		return -ERANGE;
	s = ((uint64_t)layer * lo->geo.kv_heads + head) * 2 + kind;
	*offset = s * lo->stream_bytes + token * lo->token_bytes;
	return 0;
}

/**
 * cxl_kv_layout_block() - the block holding a token
 * @lo: layout
 * @token: token position, < max_tokens
 * @block: receives token / tokens_per_block
 *
 * Return: 0, -EINVAL, -ERANGE.
 */
int cxl_kv_layout_block(const struct cxl_kv_layout *lo, uint64_t token,
			uint32_t *block)
{
	if (!lo || !block || !lo->tokens_per_block)
		return -EINVAL;
	if (token >= lo->geo.max_tokens)
		return -ERANGE;
	*block = (uint32_t)(token / lo->tokens_per_block);
	return 0;
}

/**
 * cxl_kv_layout_block_tokens() - the tokens of a block
 * @lo: layout
 * @block: block, < blocks_per_stream
 * @first: receives the first token of the block
 * @count: receives how many tokens of the block are < max_tokens
 *
 * Return: 0, -EINVAL, -ERANGE.
 */
int cxl_kv_layout_block_tokens(const struct cxl_kv_layout *lo, uint32_t block,
			       uint64_t *first, uint64_t *count)
{
	uint64_t f, end;

	if (!lo || !first || !count || !lo->tokens_per_block)
		return -EINVAL;
	if (block >= lo->blocks_per_stream)
		return -ERANGE;
	f = (uint64_t)block * lo->tokens_per_block;
	end = f + lo->tokens_per_block;
	if (end > lo->geo.max_tokens)
		end = lo->geo.max_tokens;
	*first = f;
	*count = end - f;
	return 0;
}
