// SPDX-License-Identifier: GPL-2.0
/* libcxl_kv's cold format names (LIBCXL_KV_COMPRESS), no module needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libcxl_kv.h"

Test(lib_cold, parse_and_name)
{
	static const char *const ok[] = { "raw", "lossless", "int8", "fp8", "int4" };
	uint64_t f;

	for (uint64_t i = 0; i < 5; i++) {
		char b[32];

		cr_assert_eq(cxl_kv_cold_format_parse(ok[i], &f), 0);
		cr_assert_eq(f, i);
		cr_assert_str_eq(cxl_kv_cold_format_name(f), ok[i]);
		snprintf(b, sizeof(b), "%s-bf16", ok[i]);
		cr_assert_eq(cxl_kv_cold_format_parse(b, &f), 0);
		cr_assert_eq(f, i | CXL_KV_FMT_F_BF16);
		cr_assert_str_eq(cxl_kv_cold_format_name(f), ok[i]);
	}
	cr_assert_eq(cxl_kv_cold_format_parse("int", &f), -EINVAL);
	cr_assert_eq(cxl_kv_cold_format_parse("int8-", &f), -EINVAL);
	cr_assert_eq(cxl_kv_cold_format_parse("int8-bf16x", &f), -EINVAL);
	cr_assert_eq(cxl_kv_cold_format_parse("", &f), -EINVAL);
	cr_assert_eq(cxl_kv_cold_format_parse(NULL, &f), -EINVAL);
	cr_assert_eq(cxl_kv_cold_format_parse("raw", NULL), -EINVAL);
	cr_assert_null(cxl_kv_cold_format_name(CXL_KV_FMT_NR));
}

Test(lib_cold, create_without_module)
{
	struct cxl_kv_geometry g = { 1, 1, 128, 2, 16 };
	struct cxl_kv_space *s = NULL;
	struct cxl_kv_ctx *ctx;

	cr_assert_eq(cxl_kv_new(&ctx), 0);
	cr_assert_eq(cxl_kv_set_device_path(ctx, "/nonexistent/cxl_kv"), 0);
	cr_assert_lt(cxl_kv_space_create_cold(ctx, &g, CXL_KV_FMT_INT8, &s), 0);
	cr_assert_null(s);
	cr_assert_eq(cxl_kv_space_create_cold(NULL, &g, 0, &s), -EINVAL);
	cxl_kv_unref(ctx);
}
