/* SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later */
/*
 * kvgeom.h - the geometry of a KV space: its bounds, its validation and the
 * layout derived from it.  The one validator: the module (SPACE_CREATE),
 * libcxl_kv (cxl_kv_layout_init()) and the policy core (kvp_geom_validate())
 * call it, and kvsim and kvscale get it with the policy core.
 *
 * Freestanding C like the policy core: no libc, no kernel headers, no
 * floating point, no allocation, no global mutable state.  Compiled
 * unchanged into cxl_kv.ko (Kbuild), libcxl_kv (lib/lib.mk) and
 * $(O)/libkvpolicy.a (driver/policy/policy.mk).  Dual licensed because the
 * LGPL library links it.
 *
 * Layout (include/uapi/linux/cxl_kv.h, head-major streams):
 *
 *	stream  s = (layer * kv_heads + head) * 2 + kind
 *	offset    = s * stream_bytes + token * token_bytes
 *
 * token_bytes = head_dim * dtype_bytes (a power of two <= the page size),
 * tokens_per_block = page_size / token_bytes, blocks_per_stream =
 * ceil(max_tokens / tokens_per_block) pages, stream_bytes =
 * blocks_per_stream * page_size, pages = 2 * layers * kv_heads *
 * blocks_per_stream <= KVG_MAX_SPACE_PAGES.
 *
 * Errors are negative errno values equal to Linux's (KVG_EINVAL == EINVAL,
 * KVG_E2BIG == E2BIG); the callers check that at build time.  Each failure
 * has one errno, listed at kvg_layout().
 */
#ifndef KVGEOM_H
#define KVGEOM_H

typedef __UINT32_TYPE__ kvg_u32;
typedef __UINT64_TYPE__ kvg_u64;

#define KVG_E2BIG	7
#define KVG_EINVAL	22

/* Bounds of a space (equal to the UAPI's CXL_KV_MAX_*; checked at build). */
#define KVG_MAX_LAYERS		1024u
#define KVG_MAX_KV_HEADS	64u	/* PREFETCH's head_mask is 64 bits */
#define KVG_MAX_SPACE_PAGES	(1ull << 24)
#define KVG_MIN_PAGE		512u
#define KVG_MAX_PAGE		65536u

/*
 * Bounds of a policy state (struct kvp_geom): wider than a space's, because
 * kvsim also replays block geometries no space has (Mooncake's 512-token
 * blocks, up to 256 heads).  Every space fits them (checked below).
 */
#define KVG_POL_MAX_LAYERS	1024u
#define KVG_POL_MAX_KV_HEADS	256u
#define KVG_POL_MAX_TPB		65536u		/* tokens per block */
#define KVG_POL_MAX_ENTRIES	(1u << 30)	/* layers * heads * blocks */

_Static_assert(KVG_MAX_LAYERS <= KVG_POL_MAX_LAYERS, "space layers");
_Static_assert(KVG_MAX_KV_HEADS <= KVG_POL_MAX_KV_HEADS, "space heads");
_Static_assert(KVG_MAX_PAGE <= KVG_POL_MAX_TPB, "tokens per block");
_Static_assert(KVG_MAX_SPACE_PAGES / 2 <= KVG_POL_MAX_ENTRIES, "entries");

/**
 * struct kvg_space - what SPACE_CREATE and cxl_kv_layout_init() are given.
 * @layers: transformer layers, 1..KVG_MAX_LAYERS.
 * @kv_heads: KV heads per layer, 1..KVG_MAX_KV_HEADS.
 * @head_dim: elements per head vector, >= 1.
 * @dtype_bytes: bytes per element: 1, 2 or 4.
 * @max_tokens: tokens per stream, >= 1.
 */
struct kvg_space {
	kvg_u32 layers;
	kvg_u32 kv_heads;
	kvg_u32 head_dim;
	kvg_u32 dtype_bytes;
	kvg_u64 max_tokens;
};

/**
 * struct kvg_layout - the layout of a valid space.
 * @page_size: bytes per page (block).
 * @token_bytes: head_dim * dtype_bytes.
 * @tokens_per_block: page_size / token_bytes.
 * @blocks_per_stream: pages of one (layer, head, K|V) stream.
 * @streams: 2 * layers * kv_heads.
 * @stream_bytes: blocks_per_stream * page_size.
 * @mmap_bytes: streams * stream_bytes.
 * @pages: streams * blocks_per_stream (<= KVG_MAX_SPACE_PAGES).
 */
struct kvg_layout {
	kvg_u32 page_size;
	kvg_u32 token_bytes;
	kvg_u32 tokens_per_block;
	kvg_u32 blocks_per_stream;
	kvg_u64 streams;
	kvg_u64 stream_bytes;
	kvg_u64 mmap_bytes;
	kvg_u64 pages;
};

/* Why kvg_layout() refused, for the caller's message (kvg_why_str()). */
enum kvg_why {
	KVG_OK = 0,
	KVG_WHY_NULL,		/* -EINVAL */
	KVG_WHY_PAGE,		/* -EINVAL */
	KVG_WHY_LAYERS,		/* -EINVAL */
	KVG_WHY_KV_HEADS,	/* -EINVAL */
	KVG_WHY_DTYPE,		/* -EINVAL */
	KVG_WHY_HEAD_DIM,	/* -EINVAL */
	KVG_WHY_TOKEN_BYTES,	/* -EINVAL */
	KVG_WHY_MAX_TOKENS,	/* -EINVAL */
	KVG_WHY_PAGES,		/* -E2BIG */
	KVG_WHY_NR
};

int kvg_layout(const struct kvg_space *s, kvg_u32 page_size,
	       struct kvg_layout *lo, enum kvg_why *why);
const char *kvg_why_str(enum kvg_why why);
int kvg_blocks_check(kvg_u32 layers, kvg_u32 kv_heads, kvg_u32 blocks_per_head,
		     kvg_u32 tokens_per_block);

#endif /* KVGEOM_H */
