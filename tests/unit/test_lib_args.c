// SPDX-License-Identifier: GPL-2.0
/*
 * libcxl_kv argument validation that needs no module: every entry point
 * rejects bad arguments with -errno before any syscall, never crashes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "libcxl_kv.h"

static struct cxl_kv_ctx *ctx;

static void setup(void)
{
	cr_assert_eq(cxl_kv_new(&ctx), 0);
	/* never reach a real module from the host tests */
	cr_assert_eq(cxl_kv_set_device_path(ctx, "/nonexistent/cxl_kv"), 0);
}

static void teardown(void)
{
	cxl_kv_unref(ctx);
}

TestSuite(lib_args, .init = setup, .fini = teardown);

Test(lib_args, control_device_missing)
{
	struct cxl_kv_features f;
	struct cxl_kv_info info;
	struct cxl_kv_stats st;
	struct cxl_kv_geometry g = { 32, 8, 128, 2, 4096 };
	struct cxl_kv_space *s = NULL;

	cr_expect_eq(cxl_kv_get_features(ctx, &f), -ENOENT);
	cr_expect_eq(cxl_kv_get_info(ctx, &info), -ENOENT);
	cr_expect_eq(cxl_kv_get_global_stats(ctx, &st), -ENOENT);
	cr_expect_eq(cxl_kv_detach(ctx), -ENOENT);
	cr_expect_eq(cxl_kv_space_create(ctx, &g, &s), -ENOENT);
	cr_expect_null(s);
	cr_expect_eq(cxl_kv_get_features(ctx, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_get_info(NULL, &info), -EINVAL);
	cr_expect_eq(cxl_kv_get_global_stats(ctx, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_space_create(ctx, NULL, &s), -EINVAL);
	cr_expect_eq(cxl_kv_space_create(ctx, &g, NULL), -EINVAL);
}

Test(lib_args, attach_validates_before_syscall)
{
	unsigned int nodes[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, dup[2] = { 1, 1 };
	const char *cold[5] = { "/dev/nvme0n1", "/dev/nvme1n1", "a", "b", "c" };
	const char *nullcold[1] = { NULL };

	/* all -EINVAL (not -ENOENT): rejected before opening the device */
	cr_expect_eq(cxl_kv_attach(ctx, nodes, 0, cold, 1, 1024, 0), -EINVAL);
	cr_expect_eq(cxl_kv_attach(ctx, nodes, 9, cold, 1, 1024, 0), -EINVAL);
	cr_expect_eq(cxl_kv_attach(ctx, nodes, 1, cold, 0, 1024, 0), -EINVAL);
	cr_expect_eq(cxl_kv_attach(ctx, nodes, 1, cold, 5, 1024, 0), -EINVAL);
	cr_expect_eq(cxl_kv_attach(ctx, nodes, 1, cold, 1, 255, 0), -EINVAL);
	cr_expect_eq(cxl_kv_attach(ctx, dup, 2, cold, 1, 1024, 0), -EINVAL);
	cr_expect_eq(cxl_kv_attach(ctx, nodes, 1, nullcold, 1, 1024, 0), -EINVAL);
	cr_expect_eq(cxl_kv_attach(ctx, NULL, 1, cold, 1, 1024, 0), -EINVAL);
	cr_expect_eq(cxl_kv_attach(NULL, nodes, 1, cold, 1, 1024, 0), -EINVAL);
	cr_expect_eq(cxl_kv_attach_raw(ctx, NULL), -EINVAL);
	/* a valid request gets as far as the (missing) device */
	cr_expect_eq(cxl_kv_attach(ctx, nodes, 1, cold, 2, 1024, 0), -ENOENT);
}

Test(lib_args, space_calls_reject_null)
{
	struct cxl_kv_hint h = { 0 };
	struct cxl_kv_range r = { 0 };
	struct cxl_kv_stats st;
	struct cxl_kv_params p = { 0 };
	struct cxl_kv_space_info si;
	void *addr;

	cr_expect_eq(cxl_kv_hints(NULL, 0, &h, 1, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_access(NULL, 0, &r, 1, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_promote(NULL, &r, 1, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_demote(NULL, &r, 1, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_pin(NULL, &r, 1, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_unpin(NULL, &r, 1, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_prefetch(NULL, 0, 1, 0, 0, 0, NULL, NULL), -EINVAL);
	{
		struct cxl_kv_prefetch pf = { .head_mask = 1 };

		cr_expect_eq(cxl_kv_prefetch_batch(NULL, &pf, 1), -EINVAL);
	}
	cr_expect_eq(cxl_kv_residency(NULL, 0, 0, 0, 1, NULL, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_space_stats(NULL, &st), -EINVAL);
	cr_expect_eq(cxl_kv_params_get(NULL, &p), -EINVAL);
	cr_expect_eq(cxl_kv_params_set(NULL, &p), -EINVAL);
	cr_expect_eq(cxl_kv_space_map(NULL, &addr), -EINVAL);
	cr_expect_eq(cxl_kv_space_unmap(NULL), -EINVAL);
	cr_expect_eq(cxl_kv_space_get_fd(NULL), -EINVAL);
	cr_expect_null(cxl_kv_space_get_addr(NULL));
	cr_expect_null(cxl_kv_space_get_layout(NULL));
	cr_expect_null(cxl_kv_space_get_ctx(NULL));
	cr_expect_eq(cxl_kv_space_get_info(NULL, &si), -EINVAL);
	cr_expect_eq(cxl_kv_space_use_uring(NULL, 4), -EINVAL);
	cr_expect_null(cxl_kv_kv_ptr(NULL, 0, 0, 0, 0));
	cxl_kv_space_close(NULL);
}

Test(lib_args, from_fd_rejects_non_space)
{
	struct cxl_kv_space *s = NULL;
	int fd = open("/dev/null", O_RDWR);

	cr_assert_geq(fd, 0);
	cr_expect_eq(cxl_kv_space_from_fd(ctx, fd, &s), -ENOTTY);
	cr_expect_null(s);
	/* the fd is still the caller's */
	cr_expect_eq(fcntl(fd, F_GETFD) >= 0, 1);
	cr_expect_eq(cxl_kv_space_from_fd(ctx, -1, &s), -EINVAL);
	cr_expect_eq(cxl_kv_space_open_pid(ctx, getpid(), fd, &s), -ENOTTY);
	cr_expect_eq(cxl_kv_space_open_pid(ctx, 0, fd, &s), -EINVAL);
	close(fd);
}

Test(lib_args, list_spaces)
{
	struct cxl_kv_space_ref refs[4];

	cr_expect_eq(cxl_kv_list_spaces(NULL, refs, 4), -EINVAL);
	cr_expect_eq(cxl_kv_list_spaces(ctx, NULL, 4), -EINVAL);
	/* no module on the host: nothing found, but no error either */
	cr_expect_eq(cxl_kv_list_spaces(ctx, refs, 4), 0);
	cr_expect_eq(cxl_kv_list_spaces(ctx, NULL, 0), 0);
}

Test(lib_args, params_by_name)
{
	struct cxl_kv_params p = { 0 };
	uint64_t bit;
	uint32_t v;
	int n = 0;

	cr_assert_eq(cxl_kv_param_lookup("pf_window", &bit), 0);
	cr_expect_eq(bit, CXL_KV_PARAM_PF_WINDOW);
	cr_expect_eq(cxl_kv_param_lookup("nope", &bit), -ENOENT);
	cr_expect_eq(cxl_kv_param_lookup(NULL, &bit), -EINVAL);
	for (uint64_t b = 1; b & CXL_KV_PARAM_ALL; b <<= 1) {
		const char *name = cxl_kv_param_name(b);
		uint64_t back;

		cr_assert_not_null(name, "bit %llx", (unsigned long long)b);
		cr_assert_eq(cxl_kv_param_lookup(name, &back), 0);
		cr_expect_eq(back, b);
		cr_assert_eq(cxl_kv_param_set_value(&p, b, 100 + n), 0);
		n++;
	}
	cr_expect_eq(p.mask, CXL_KV_PARAM_ALL);
	cr_expect_eq(p.alpha_q16, 100);
	cr_expect_eq(p.policy_flags, 112);
	cr_expect_eq(p.pad, 0);
	cr_assert_eq(cxl_kv_param_get_value(&p, CXL_KV_PARAM_TAU, &v), 0);
	cr_expect_eq(v, 101);
	cr_expect_null(cxl_kv_param_name(CXL_KV_PARAM_TAU | CXL_KV_PARAM_ALPHA));
	cr_expect_null(cxl_kv_param_name(1ULL << 13));
	cr_expect_eq(cxl_kv_param_get_value(&p, 3, &v), -EINVAL);
	cr_expect_eq(cxl_kv_param_set_value(NULL, CXL_KV_PARAM_TAU, 1), -EINVAL);
}

/* cxl_kv_list_owned(): arguments checked before the device is opened. */
Test(lib_args, list_owned)
{
	struct cxl_kv_list_entry e[2];
	unsigned int total = 7;

	cr_expect_eq(cxl_kv_list_owned(NULL, e, 2, &total), -EINVAL);
	cr_expect_eq(cxl_kv_list_owned(ctx, NULL, 1, &total), -EINVAL);
	cr_expect_eq(cxl_kv_list_owned(ctx, e, CXL_KV_MAX_LIST + 1, &total), -EINVAL);
	cr_expect_eq(total, 7);
	cr_expect_eq(cxl_kv_list_owned(ctx, e, 2, &total), -ENOENT);
	cr_expect_eq(cxl_kv_list_owned(ctx, NULL, 0, NULL), -ENOENT);
}
