// SPDX-License-Identifier: GPL-2.0
/* libcxl_kv context: refcount, logging from CXL_KV_LOG, setters. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "libcxl_kv.h"

static char logged[4096];
static int log_calls;

static void capture(struct cxl_kv_ctx *ctx, int prio, const char *file,
		    int line, const char *fn, const char *fmt, va_list ap)
{
	size_t n = strlen(logged);

	log_calls++;
	vsnprintf(logged + n, sizeof(logged) - n, fmt, ap);
}

Test(lib_ctx, new_rejects_null)
{
	cr_assert_eq(cxl_kv_new(NULL), -EINVAL);
}

Test(lib_ctx, ref_unref)
{
	struct cxl_kv_ctx *ctx;

	cr_assert_eq(cxl_kv_new(&ctx), 0);
	cr_assert_eq(cxl_kv_ref(ctx), ctx);
	cxl_kv_unref(ctx);
	/* still alive: one reference left */
	cr_assert_eq(cxl_kv_get_userdata(ctx), NULL);
	cxl_kv_set_userdata(ctx, &log_calls);
	cr_assert_eq(cxl_kv_get_userdata(ctx), &log_calls);
	cxl_kv_unref(ctx);
	cr_assert_eq(cxl_kv_ref(NULL), NULL);
	cxl_kv_unref(NULL);
}

struct env_case {
	const char *val;
	int prio;
};

Test(lib_ctx, log_priority_from_env)
{
	static const struct env_case cases[] = {
		{ NULL, -1 }, { "", -1 }, { "err", LOG_ERR }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG }, { "7", LOG_DEBUG }, { "3", LOG_ERR },
		{ "8", -1 }, { "bogus", -1 }, { "warn", LOG_WARNING },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cxl_kv_ctx *ctx;

		if (cases[i].val)
			setenv("CXL_KV_LOG", cases[i].val, 1);
		else
			unsetenv("CXL_KV_LOG");
		cr_assert_eq(cxl_kv_new(&ctx), 0);
		cr_expect_eq(cxl_kv_get_log_priority(ctx), cases[i].prio,
			     "CXL_KV_LOG=%s", cases[i].val ? cases[i].val : "(unset)");
		cxl_kv_unref(ctx);
	}
	unsetenv("CXL_KV_LOG");
	cr_assert_eq(cxl_kv_get_log_priority(NULL), -EINVAL);
}

Test(lib_ctx, log_fn_receives_messages_at_priority)
{
	struct cxl_kv_ctx *ctx;

	unsetenv("CXL_KV_LOG");
	cr_assert_eq(cxl_kv_new(&ctx), 0);
	cxl_kv_set_log_fn(ctx, capture);
	logged[0] = '\0';
	log_calls = 0;
	cr_assert_eq(cxl_kv_set_device_path(ctx, "/nonexistent/cxl_kv"), 0);
	struct cxl_kv_features f;

	/* silent by default */
	cr_assert_eq(cxl_kv_get_features(ctx, &f), -ENOENT);
	cr_assert_eq(log_calls, 0);
	cxl_kv_set_log_priority(ctx, LOG_ERR);
	cr_assert_eq(cxl_kv_get_features(ctx, &f), -ENOENT);
	cr_assert_gt(log_calls, 0);
	cr_assert(strstr(logged, "/nonexistent/cxl_kv"), "logged: %s", logged);
	cxl_kv_unref(ctx);
}

Test(lib_ctx, setters_validate)
{
	struct cxl_kv_ctx *ctx;
	char longp[600];

	cr_assert_eq(cxl_kv_new(&ctx), 0);
	cr_expect_eq(cxl_kv_set_sysfs_root(ctx, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_set_sysfs_root(ctx, "relative"), -EINVAL);
	cr_expect_eq(cxl_kv_set_sysfs_root(NULL, "/sys"), -EINVAL);
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	cr_expect_eq(cxl_kv_set_sysfs_root(ctx, longp), -ENAMETOOLONG);
	cr_expect_eq(cxl_kv_set_device_path(ctx, longp), -ENAMETOOLONG);
	cr_expect_eq(cxl_kv_set_device_path(ctx, "dev/cxl_kv"), -EINVAL);
	cr_expect_eq(cxl_kv_set_sysfs_root(ctx, "/sys/"), 0);
	cr_expect_eq(cxl_kv_set_device_path(ctx, "/dev/cxl_kv"), 0);
	cxl_kv_unref(ctx);
}
