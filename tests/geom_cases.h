/* SPDX-License-Identifier: GPL-2.0 */
/*
 * geom_cases.h - space geometries and what creating them gives, one table
 * for the host test (tests/unit/test_geom.c: kvg_layout() and
 * cxl_kv_layout_init()) and the guest test (tests/kselftest/kv_geom.c:
 * SPACE_CREATE through the ioctl and cxl_kv_layout_init() against the
 * module).  The errnos are Documentation/uapi.rst's (SPACE_CREATE): one per
 * failure.
 *
 * page 0 in a row means "the page size of the machine" (4096 on the host
 * test's side); the guest sends only those rows to SPACE_CREATE.
 */
#ifndef CXL_KV_GEOM_CASES_H
#define CXL_KV_GEOM_CASES_H

#include <errno.h>
#include <stdint.h>

struct geom_case {
	const char *name;
	uint32_t layers;
	uint32_t kv_heads;
	uint32_t head_dim;
	uint32_t dtype_bytes;
	uint64_t max_tokens;
	uint32_t page;		/* 0: the machine's page size */
	int err;		/* 0 or -errno */
	uint64_t pages;		/* when err == 0: pages of the space */
};

#define GEOM_P24	(1ULL << 24)	/* CXL_KV_MAX_SPACE_PAGES */

static const struct geom_case geom_cases[] = {
	/* valid */
	{ "llama3_8b_4k", 32, 8, 128, 2, 4096, 0, 0, 2ULL * 32 * 8 * 256 },
	{ "smallest", 1, 1, 1, 1, 1, 0, 0, 2 },
	{ "max_layers_heads", 1024, 64, 16, 1, 1, 0, 0, 2ULL * 1024 * 64 },
	{ "token_is_page", 1, 1, 1024, 4, 3, 0, 0, 6 },
	{ "partial_block", 4, 3, 64, 4, 100, 0, 0, 2ULL * 4 * 3 * 7 },
	{ "llama70b_128k", 80, 8, 128, 2, 1ULL << 17, 0, 0,
	  2ULL * 80 * 8 * 8192 },
	{ "exactly_2e24_pages", 1, 1, 4096, 1, 1ULL << 23, 0, 0, GEOM_P24 },
	/* each bound */
	{ "layers_0", 0, 8, 128, 2, 4096, 0, -EINVAL, 0 },
	{ "layers_1025", 1025, 8, 128, 2, 4096, 0, -EINVAL, 0 },
	{ "kv_heads_0", 32, 0, 128, 2, 4096, 0, -EINVAL, 0 },
	{ "kv_heads_65", 32, 65, 128, 2, 4096, 0, -EINVAL, 0 },
	{ "dtype_0", 32, 8, 128, 0, 4096, 0, -EINVAL, 0 },
	{ "dtype_3", 32, 8, 128, 3, 4096, 0, -EINVAL, 0 },
	{ "dtype_8", 32, 8, 128, 8, 4096, 0, -EINVAL, 0 },
	{ "head_dim_0", 32, 8, 0, 2, 4096, 0, -EINVAL, 0 },
	{ "token_bytes_192", 32, 8, 96, 2, 4096, 0, -EINVAL, 0 },
	{ "token_bytes_8k", 32, 8, 4096, 2, 4096, 0, -EINVAL, 0 },
	{ "max_tokens_0", 32, 8, 128, 2, 0, 0, -EINVAL, 0 },
	{ "pages_2e24_plus_1_block", 1, 1, 4096, 1, (1ULL << 23) + 1, 0,
	  -E2BIG, 0 },
	{ "llama70b_1m", 80, 8, 128, 2, 1ULL << 20, 0, -E2BIG, 0 },
	/* max_tokens far too large: -E2BIG, however large */
	{ "max_tokens_2e37", 1, 1, 128, 2, 1ULL << 37, 0, -E2BIG, 0 },
	{ "max_tokens_2e37_tb1", 1, 1, 1, 1, 1ULL << 37, 0, -E2BIG, 0 },
	{ "max_tokens_2e37_tb4k", 1, 1, 2048, 2, 1ULL << 37, 0, -E2BIG, 0 },
	{ "max_tokens_2e40", 1, 1, 2048, 2, 1ULL << 40, 0, -E2BIG, 0 },
	{ "max_tokens_u64", 1, 1, 1, 1, ~0ULL, 0, -E2BIG, 0 },
	{ "max_tokens_u64_big_model", 1024, 64, 128, 2, ~0ULL, 0, -E2BIG, 0 },
	/* one stream of 2^24 blocks is fine alone, not times 2^17 streams */
	{ "streams_times_blocks", 1024, 64, 4096, 1, GEOM_P24, 0, -E2BIG, 0 },
	/* overflow of head_dim * dtype_bytes in 32 bits (2^31 * 2 = 0) */
	{ "token_bytes_wrap_u32", 1, 1, 1U << 31, 2, 16, 0, -EINVAL, 0 },
	{ "token_bytes_wrap_u32_4", 1, 1, 1U << 30, 4, 16, 0, -EINVAL, 0 },
	{ "head_dim_u32_max", 1, 1, ~0U, 1, 16, 0, -EINVAL, 0 },
	/* an invalid field wins over the size: -EINVAL, not -E2BIG */
	{ "layers_0_and_2e37", 0, 1, 128, 2, 1ULL << 37, 0, -EINVAL, 0 },
	{ "dtype_3_and_2e37", 1, 1, 128, 3, 1ULL << 37, 0, -EINVAL, 0 },
	{ "token_bytes_and_2e37", 1, 1, 96, 2, 1ULL << 37, 0, -EINVAL, 0 },
	/* page sizes (library only: the module's is PAGE_SIZE) */
	{ "page_16k", 32, 8, 128, 2, 4096, 16384, 0, 2ULL * 32 * 8 * 64 },
	{ "page_64k_token_1", 1, 1, 1, 1, 65536, 65536, 0, 2 },
	{ "page_512", 1, 1, 128, 2, 10, 512, 0, 2 * 5 },
	{ "page_1", 32, 8, 128, 2, 4096, 1, -EINVAL, 0 },
	{ "page_256", 1, 1, 1, 1, 1, 256, -EINVAL, 0 },
	{ "page_3000", 32, 8, 128, 2, 4096, 3000, -EINVAL, 0 },
	/* 2^17 tokens per block: more than the policy core tracks */
	{ "page_128k", 1, 1, 1, 1, 1, 131072, -EINVAL, 0 },
};

#define GEOM_NR_CASES	(sizeof(geom_cases) / sizeof(geom_cases[0]))

#endif /* CXL_KV_GEOM_CASES_H */
