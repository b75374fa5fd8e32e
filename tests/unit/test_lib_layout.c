// SPDX-License-Identifier: GPL-2.0
/* libcxl_kv layout math against the UAPI's formula. */
#include <criterion/criterion.h>
#include <errno.h>

#include "libcxl_kv.h"

struct geo_case {
	struct cxl_kv_geometry g;
	uint32_t page;
	int rc;
};

Test(lib_layout, validation_table)
{
	static const struct geo_case cases[] = {
		{ { 32, 8, 128, 2, 4096 }, 4096, 0 },
		{ { 1, 1, 1, 1, 1 }, 4096, 0 },
		{ { 1024, 64, 16, 1, 1 }, 4096, 0 },
		{ { 0, 8, 128, 2, 4096 }, 4096, -EINVAL },
		{ { 1025, 8, 128, 2, 4096 }, 4096, -EINVAL },
		{ { 32, 0, 128, 2, 4096 }, 4096, -EINVAL },
		{ { 32, 65, 128, 2, 4096 }, 4096, -EINVAL },
		{ { 32, 8, 0, 2, 4096 }, 4096, -EINVAL },
		{ { 32, 8, 128, 3, 4096 }, 4096, -EINVAL },
		{ { 32, 8, 128, 8, 4096 }, 4096, -EINVAL },
		{ { 32, 8, 96, 2, 4096 }, 4096, -EINVAL },	/* 192 B: not pow2 */
		{ { 32, 8, 4096, 2, 4096 }, 4096, -EINVAL },	/* 8 KiB > page */
		{ { 32, 8, 128, 2, 0 }, 4096, -EINVAL },
		{ { 32, 8, 128, 2, 4096 }, 3000, -EINVAL },
		{ { 32, 8, 128, 2, 4096 }, 0, -EINVAL },
		/* 2*80*8 streams of 1M tokens * 256 B: far over 2^24 pages */
		{ { 80, 8, 128, 2, 1u << 20 }, 4096, -E2BIG },
		{ { 1, 1, 1, 1, ~0ULL }, 4096, -E2BIG },
		/* Llama-70B at 128K tokens: 40 GiB, 10 Mi pages */
		{ { 80, 8, 128, 2, 1u << 17 }, 4096, 0 },
		/* exactly 2^24 pages: 2 streams of 2^23 pages */
		{ { 1, 1, 4096, 1, 1ULL << 23 }, 4096, 0 },
		{ { 1, 1, 4096, 1, (1ULL << 23) + 1 }, 4096, -E2BIG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cxl_kv_layout lo;

		cr_expect_eq(cxl_kv_layout_init(&lo, &cases[i].g, cases[i].page),
			     cases[i].rc, "case %zu", i);
	}
	cr_expect_eq(cxl_kv_layout_init(NULL, &cases[0].g, 4096), -EINVAL);
	cr_expect_eq(cxl_kv_layout_init((struct cxl_kv_layout *)&cases, NULL, 4096),
		     -EINVAL);
}

Test(lib_layout, guest_geometry)
{
	struct cxl_kv_geometry g = { 32, 8, 128, 2, 1000 };
	struct cxl_kv_layout lo;

	cr_assert_eq(cxl_kv_layout_init(&lo, &g, 4096), 0);
	cr_expect_eq(lo.token_bytes, 256);
	cr_expect_eq(lo.tokens_per_block, 16);
	cr_expect_eq(lo.blocks_per_stream, 63);		/* ceil(1000/16) */
	cr_expect_eq(lo.stream_bytes, 63 * 4096ULL);
	cr_expect_eq(lo.mmap_bytes, 2ULL * 32 * 8 * 63 * 4096);
}

Test(lib_layout, offsets_follow_uapi_formula)
{
	struct cxl_kv_geometry g = { 4, 3, 64, 4, 100 };
	struct cxl_kv_layout lo;
	uint64_t off, prev_end = 0;

	cr_assert_eq(cxl_kv_layout_init(&lo, &g, 4096), 0);
	/* streams are contiguous, page aligned, in (layer, head, kind) order */
	for (uint32_t l = 0; l < 4; l++)
		for (uint32_t h = 0; h < 3; h++)
			for (unsigned int k = 0; k < 2; k++) {
				cr_assert_eq(cxl_kv_layout_offset(&lo, l, h, k, 0, &off), 0);
				cr_expect_eq(off, prev_end);
				cr_expect_eq(off % 4096, 0);
				cr_assert_eq(cxl_kv_layout_offset(&lo, l, h, k, 99, &off), 0);
				cr_expect_eq(off, prev_end + 99 * 256);
				prev_end += lo.stream_bytes;
			}
	cr_expect_eq(prev_end, lo.mmap_bytes);
	cr_expect_eq(cxl_kv_layout_offset(&lo, 4, 0, 0, 0, &off), -ERANGE);
	cr_expect_eq(cxl_kv_layout_offset(&lo, 0, 3, 0, 0, &off), -ERANGE);
	cr_expect_eq(cxl_kv_layout_offset(&lo, 0, 0, 2, 0, &off), -ERANGE);
	cr_expect_eq(cxl_kv_layout_offset(&lo, 0, 0, 0, 100, &off), -ERANGE);
	cr_expect_eq(cxl_kv_layout_offset(&lo, 0, 0, 0, 0, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_layout_offset(NULL, 0, 0, 0, 0, &off), -EINVAL);
}

Test(lib_layout, blocks)
{
	struct cxl_kv_geometry g = { 1, 1, 128, 2, 40 };
	struct cxl_kv_layout lo;
	uint64_t first, count;
	uint32_t b;

	cr_assert_eq(cxl_kv_layout_init(&lo, &g, 4096), 0);
	cr_assert_eq(lo.blocks_per_stream, 3);
	cr_expect_eq(cxl_kv_layout_block(&lo, 0, &b), 0);
	cr_expect_eq(b, 0);
	cr_expect_eq(cxl_kv_layout_block(&lo, 15, &b), 0);
	cr_expect_eq(b, 0);
	cr_expect_eq(cxl_kv_layout_block(&lo, 16, &b), 0);
	cr_expect_eq(b, 1);
	cr_expect_eq(cxl_kv_layout_block(&lo, 39, &b), 0);
	cr_expect_eq(b, 2);
	cr_expect_eq(cxl_kv_layout_block(&lo, 40, &b), -ERANGE);
	cr_expect_eq(cxl_kv_layout_block_tokens(&lo, 1, &first, &count), 0);
	cr_expect_eq(first, 16);
	cr_expect_eq(count, 16);
	cr_expect_eq(cxl_kv_layout_block_tokens(&lo, 2, &first, &count), 0);
	cr_expect_eq(first, 32);
	cr_expect_eq(count, 8);			/* last block is partial */
	cr_expect_eq(cxl_kv_layout_block_tokens(&lo, 3, &first, &count), -ERANGE);
	cr_expect_eq(cxl_kv_layout_block(NULL, 0, &b), -EINVAL);
}
