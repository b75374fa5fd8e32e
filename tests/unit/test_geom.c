// SPDX-License-Identifier: GPL-2.0
/*
 * The geometry module (driver/policy/kvgeom.c) against the table of
 * tests/geom_cases.h, directly and through cxl_kv_layout_init(); every
 * space it accepts is a geometry the policy core accepts.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "kvgeom.h"
#include "kvpolicy.h"
#include "libcxl_kv.h"
#include "../geom_cases.h"

static struct kvg_space space_of(const struct geom_case *c)
{
	struct kvg_space s = {
		.layers = c->layers, .kv_heads = c->kv_heads,
		.head_dim = c->head_dim, .dtype_bytes = c->dtype_bytes,
		.max_tokens = c->max_tokens,
	};

	return s;
}

Test(geom, table_kvg_layout)
{
	for (size_t i = 0; i < GEOM_NR_CASES; i++) {
		const struct geom_case *c = &geom_cases[i];
		uint32_t page = c->page ? c->page : 4096;
		struct kvg_space s = space_of(c);
		struct kvg_layout lo;
		enum kvg_why why = KVG_WHY_NR;
		struct kvp_geom pg;
		int rc;

		rc = kvg_layout(&s, page, &lo, &why);
		cr_expect_eq(rc, c->err, "%s: %d, expected %d", c->name, rc,
			     c->err);
		cr_expect_eq(why == KVG_OK, c->err == 0, "%s: why %d", c->name,
			     why);
		cr_expect_str_neq(kvg_why_str(why), "?", "%s", c->name);
		if (rc || c->err)
			continue;
		cr_expect_eq(lo.pages, c->pages, "%s: %llu pages", c->name,
			     (unsigned long long)lo.pages);
		cr_expect_eq(lo.page_size, page);
		cr_expect_eq(lo.token_bytes, (uint64_t)c->head_dim * c->dtype_bytes);
		cr_expect_eq((uint64_t)lo.tokens_per_block * lo.token_bytes, page);
		cr_expect_geq((uint64_t)lo.blocks_per_stream * lo.tokens_per_block,
			      c->max_tokens, "%s", c->name);
		cr_expect_lt((uint64_t)(lo.blocks_per_stream - 1) *
			     lo.tokens_per_block, c->max_tokens, "%s", c->name);
		cr_expect_eq(lo.streams, 2ULL * c->layers * c->kv_heads);
		cr_expect_eq(lo.stream_bytes, (uint64_t)lo.blocks_per_stream * page);
		cr_expect_eq(lo.mmap_bytes, lo.streams * lo.stream_bytes);
		cr_expect_eq(lo.pages * page, lo.mmap_bytes);
		/* what the module hands the policy core: always accepted */
		pg.layers = c->layers;
		pg.kv_heads = c->kv_heads;
		pg.blocks_per_head = lo.blocks_per_stream;
		pg.tokens_per_block = lo.tokens_per_block;
		cr_expect_eq(kvp_geom_validate(&pg), 0, "%s", c->name);
	}
}

Test(geom, table_cxl_kv_layout_init)
{
	for (size_t i = 0; i < GEOM_NR_CASES; i++) {
		const struct geom_case *c = &geom_cases[i];
		uint32_t page = c->page ? c->page : 4096;
		struct cxl_kv_geometry g = {
			.layers = c->layers, .kv_heads = c->kv_heads,
			.head_dim = c->head_dim, .dtype_bytes = c->dtype_bytes,
			.max_tokens = c->max_tokens,
		};
		struct kvg_space s = space_of(c);
		struct cxl_kv_layout lo;
		struct kvg_layout k;
		int rc;

		rc = cxl_kv_layout_init(&lo, &g, page);
		cr_expect_eq(rc, c->err, "%s: %d, expected %d", c->name, rc,
			     c->err);
		if (rc || c->err)
			continue;
		cr_assert_eq(kvg_layout(&s, page, &k, NULL), 0);
		cr_expect_eq(lo.page_size, k.page_size);
		cr_expect_eq(lo.token_bytes, k.token_bytes);
		cr_expect_eq(lo.tokens_per_block, k.tokens_per_block);
		cr_expect_eq(lo.blocks_per_stream, k.blocks_per_stream);
		cr_expect_eq(lo.stream_bytes, k.stream_bytes);
		cr_expect_eq(lo.mmap_bytes, k.mmap_bytes);
		cr_expect_eq(lo.mmap_bytes / page, c->pages, "%s", c->name);
	}
}

Test(geom, null_and_reasons)
{
	struct kvg_space s = { 32, 8, 128, 2, 4096 };
	struct kvg_layout lo = { 0 };
	enum kvg_why why;

	cr_expect_eq(kvg_layout(NULL, 4096, &lo, &why), -KVG_EINVAL);
	cr_expect_eq(why, KVG_WHY_NULL);
	cr_expect_eq(kvg_layout(&s, 4096, NULL, NULL), -KVG_EINVAL);
	cr_expect_eq(kvg_layout(&s, 4096, &lo, NULL), 0);
	s.layers = 0;
	lo.pages = 12345;
	cr_expect_eq(kvg_layout(&s, 4096, &lo, &why), -KVG_EINVAL);
	cr_expect_eq(why, KVG_WHY_LAYERS);
	cr_expect_eq(lo.pages, 12345, "the layout is untouched on failure");
	cr_expect_str_eq(kvg_why_str(KVG_WHY_NR), "?");
	cr_expect_str_eq(kvg_why_str((enum kvg_why)-1), "?");
	cr_expect_eq(KVG_EINVAL, EINVAL);
	cr_expect_eq(KVG_E2BIG, E2BIG);
	cr_expect_eq(KVG_MAX_LAYERS, CXL_KV_MAX_LAYERS);
	cr_expect_eq(KVG_MAX_KV_HEADS, CXL_KV_MAX_KV_HEADS);
	cr_expect_eq(KVG_MAX_SPACE_PAGES, CXL_KV_MAX_SPACE_PAGES);
}

/* The policy state's bounds (kvp_geom_validate() is kvg_blocks_check()). */
Test(geom, policy_blocks_bounds)
{
	cr_expect_eq(kvg_blocks_check(1, 1, 1, 1), 0);
	cr_expect_eq(kvg_blocks_check(1, 1, 1 << 20, 512), 0);	/* Mooncake */
	cr_expect_eq(kvg_blocks_check(1024, 256, 4096, 65536), 0);
	cr_expect_eq(kvg_blocks_check(0, 1, 1, 1), -KVG_EINVAL);
	cr_expect_eq(kvg_blocks_check(1025, 1, 1, 1), -KVG_EINVAL);
	cr_expect_eq(kvg_blocks_check(1, 0, 1, 1), -KVG_EINVAL);
	cr_expect_eq(kvg_blocks_check(1, 257, 1, 1), -KVG_EINVAL);
	cr_expect_eq(kvg_blocks_check(1, 1, 0, 1), -KVG_EINVAL);
	cr_expect_eq(kvg_blocks_check(1, 1, 1, 0), -KVG_EINVAL);
	cr_expect_eq(kvg_blocks_check(1, 1, 1, 65537), -KVG_EINVAL);
	cr_expect_eq(kvg_blocks_check(1024, 256, 4096, 1), 0);	/* 2^30 */
	cr_expect_eq(kvg_blocks_check(1024, 256, 4097, 1), -KVG_E2BIG);
	cr_expect_eq(kvg_blocks_check(1024, 256, ~0U, 1), -KVG_E2BIG);
}
