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

#include "private.h"

static int is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/**
 * cxl_kv_layout_init() - compute and validate a space's layout
 * @lo: receives the layout
 * @geo: the geometry
 * @page_size: page size in bytes (GET_FEATURES.page_size; a power of two)
 *
 * Applies the checks SPACE_CREATE applies, so a geometry accepted here is
 * accepted by the module (given budget and cold space).
 *
 * Return: 0; -EINVAL for a NULL pointer, a limit outside the UAPI's ranges,
 * a dtype other than 1, 2, 4, a token size that is not a power of two no
 * larger than the page; -E2BIG when the space exceeds
 * CXL_KV_MAX_SPACE_PAGES pages.
 */
int cxl_kv_layout_init(struct cxl_kv_layout *lo,
		       const struct cxl_kv_geometry *geo, uint32_t page_size)
{
	uint64_t token_bytes, stream_pages, streams;

	if (!lo || !geo || !is_pow2(page_size) || page_size < 512)
		return -EINVAL;
	if (geo->layers < 1 || geo->layers > CXL_KV_MAX_LAYERS)
		return -EINVAL;
	if (geo->kv_heads < 1 || geo->kv_heads > CXL_KV_MAX_KV_HEADS)
		return -EINVAL;
	if (geo->dtype_bytes != 1 && geo->dtype_bytes != 2 &&
	    geo->dtype_bytes != 4)
		return -EINVAL;
	if (geo->head_dim < 1 || geo->max_tokens < 1)
		return -EINVAL;
	token_bytes = (uint64_t)geo->head_dim * geo->dtype_bytes;
	if (!is_pow2(token_bytes) || token_bytes > page_size)
		return -EINVAL;
	if (geo->max_tokens > CXL_KV_MAX_SPACE_PAGES * (uint64_t)page_size)
		return -E2BIG;
	stream_pages = (geo->max_tokens * token_bytes + page_size - 1) /
		       page_size;
	streams = 2ULL * geo->layers * geo->kv_heads;
	if (stream_pages * streams > CXL_KV_MAX_SPACE_PAGES)
		return -E2BIG;
	lo->geo = *geo;
	lo->page_size = page_size;
	lo->token_bytes = (uint32_t)token_bytes;
	lo->tokens_per_block = page_size / (uint32_t)token_bytes;
	lo->blocks_per_stream = (uint32_t)stream_pages;
	lo->stream_bytes = stream_pages * page_size;
	lo->mmap_bytes = streams * lo->stream_bytes;
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
