// SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later
/*
 * kvgeom.c - the geometry of a KV space: validation and layout (see
 * kvgeom.h).  Freestanding: no libc, no kernel headers, no floats.
 */
#include "kvgeom.h"

static int kvg_is_pow2(kvg_u64 x)
{
	return x && !(x & (x - 1));
}

static int kvg_fail(enum kvg_why *why, enum kvg_why w, int err)
{
	if (why)
		*why = w;
	return err;
}

/**
 * kvg_layout() - validate a space's geometry and compute its layout.
 * @s: the geometry.
 * @page_size: bytes per page: a power of two in [KVG_MIN_PAGE, KVG_MAX_PAGE].
 * @lo: receives the layout (untouched on failure).
 * @why: if not NULL, receives the reason of a failure (KVG_OK on success).
 *
 * The checks, in this order, and their one errno each:
 *
 *  - @s or @lo NULL, or @page_size not a power of two in
 *    [KVG_MIN_PAGE, KVG_MAX_PAGE]: -KVG_EINVAL;
 *  - layers not in 1..KVG_MAX_LAYERS: -KVG_EINVAL;
 *  - kv_heads not in 1..KVG_MAX_KV_HEADS: -KVG_EINVAL;
 *  - dtype_bytes not 1, 2 or 4: -KVG_EINVAL;
 *  - head_dim 0: -KVG_EINVAL;
 *  - head_dim * dtype_bytes not a power of two no larger than @page_size:
 *    -KVG_EINVAL;
 *  - max_tokens 0: -KVG_EINVAL;
 *  - more than KVG_MAX_SPACE_PAGES pages, however large max_tokens is:
 *    -KVG_E2BIG.
 *
 * No intermediate value overflows: max_tokens is compared with
 * KVG_MAX_SPACE_PAGES * tokens_per_block (< 2^41) before anything is
 * multiplied by it.
 *
 * Return: 0 or a negative errno as above.
 */
int kvg_layout(const struct kvg_space *s, kvg_u32 page_size,
	       struct kvg_layout *lo, enum kvg_why *why)
{
	kvg_u64 tb, tpb, bps, streams;

	if (!s || !lo)
		return kvg_fail(why, KVG_WHY_NULL, -KVG_EINVAL);
	if (!kvg_is_pow2(page_size) || page_size < KVG_MIN_PAGE ||
	    page_size > KVG_MAX_PAGE)
		return kvg_fail(why, KVG_WHY_PAGE, -KVG_EINVAL);
	if (!s->layers || s->layers > KVG_MAX_LAYERS)
		return kvg_fail(why, KVG_WHY_LAYERS, -KVG_EINVAL);
	if (!s->kv_heads || s->kv_heads > KVG_MAX_KV_HEADS)
		return kvg_fail(why, KVG_WHY_KV_HEADS, -KVG_EINVAL);
	if (s->dtype_bytes != 1 && s->dtype_bytes != 2 && s->dtype_bytes != 4)
		return kvg_fail(why, KVG_WHY_DTYPE, -KVG_EINVAL);
	if (!s->head_dim)
		return kvg_fail(why, KVG_WHY_HEAD_DIM, -KVG_EINVAL);
	tb = (kvg_u64)s->head_dim * s->dtype_bytes;
	if (!kvg_is_pow2(tb) || tb > page_size)
		return kvg_fail(why, KVG_WHY_TOKEN_BYTES, -KVG_EINVAL);
	if (!s->max_tokens)
		return kvg_fail(why, KVG_WHY_MAX_TOKENS, -KVG_EINVAL);
	tpb = page_size / tb;
	/* bps > KVG_MAX_SPACE_PAGES: too big for any layers and heads */
	if (s->max_tokens > KVG_MAX_SPACE_PAGES * tpb)
		return kvg_fail(why, KVG_WHY_PAGES, -KVG_E2BIG);
	bps = (s->max_tokens + tpb - 1) / tpb;
	streams = 2ull * s->layers * s->kv_heads;
	if (streams * bps > KVG_MAX_SPACE_PAGES)
		return kvg_fail(why, KVG_WHY_PAGES, -KVG_E2BIG);
	lo->page_size = page_size;
	lo->token_bytes = (kvg_u32)tb;
	lo->tokens_per_block = (kvg_u32)tpb;
	lo->blocks_per_stream = (kvg_u32)bps;
	lo->streams = streams;
	lo->stream_bytes = bps * page_size;
	lo->pages = streams * bps;
	lo->mmap_bytes = lo->pages * page_size;
	if (why)
		*why = KVG_OK;
	return 0;
}

/**
 * kvg_why_str() - a reason of kvg_layout() in words.
 * @why: the reason.
 *
 * Return: a static string; "?" for an unknown reason.
 */
const char *kvg_why_str(enum kvg_why why)
{
	static const char *const str[KVG_WHY_NR] = {
		[KVG_OK]		= "ok",
		[KVG_WHY_NULL]		= "no geometry",
		[KVG_WHY_PAGE]		= "page size not a power of two in [512, 65536]",
		[KVG_WHY_LAYERS]	= "layers not in 1..1024",
		[KVG_WHY_KV_HEADS]	= "kv_heads not in 1..64",
		[KVG_WHY_DTYPE]		= "dtype_bytes not 1, 2 or 4",
		[KVG_WHY_HEAD_DIM]	= "head_dim 0",
		[KVG_WHY_TOKEN_BYTES]	= "head_dim * dtype_bytes not a power of two <= page size",
		[KVG_WHY_MAX_TOKENS]	= "max_tokens 0",
		[KVG_WHY_PAGES]		= "more than 2^24 pages",
	};

	if ((unsigned int)why >= KVG_WHY_NR)
		return "?";
	return str[why];
}

/**
 * kvg_blocks_check() - check a policy state's block geometry (struct
 * kvp_geom): any space's (kvg_layout()) passes, and so do the block
 * geometries kvsim replays.
 * @layers: 1..KVG_POL_MAX_LAYERS.
 * @kv_heads: 1..KVG_POL_MAX_KV_HEADS.
 * @blocks_per_head: >= 1.
 * @tokens_per_block: 1..KVG_POL_MAX_TPB.
 *
 * Return: 0; -KVG_EINVAL if a dimension is 0 or above its bound; -KVG_E2BIG
 * if layers * kv_heads * blocks_per_head exceeds KVG_POL_MAX_ENTRIES.
 */
int kvg_blocks_check(kvg_u32 layers, kvg_u32 kv_heads, kvg_u32 blocks_per_head,
		     kvg_u32 tokens_per_block)
{
	if (!layers || layers > KVG_POL_MAX_LAYERS || !kv_heads ||
	    kv_heads > KVG_POL_MAX_KV_HEADS || !blocks_per_head ||
	    !tokens_per_block || tokens_per_block > KVG_POL_MAX_TPB)
		return -KVG_EINVAL;
	if ((kvg_u64)layers * kv_heads * blocks_per_head > KVG_POL_MAX_ENTRIES)
		return -KVG_E2BIG;
	return 0;
}
