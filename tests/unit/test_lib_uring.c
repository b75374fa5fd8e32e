// SPDX-License-Identifier: GPL-2.0
/* libcxl_kv io_uring builders: exact SQE contents, zeroed reserved fields. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <liburing.h>

#include "libcxl_kv.h"

static void poison(void *p, size_t n)
{
	memset(p, 0xa5, n);
}

/* Every byte of the SQE is zero except opcode, fd, cmd_op and cmd[0..15]. */
static void check_sqe(const struct io_uring_sqe *sqe, int fd, uint32_t op,
		      const void *arg, uint32_t len)
{
	struct io_uring_sqe z;
	struct cxl_kv_uring_cmd cmd;

	cr_assert_eq(sqe->opcode, IORING_OP_URING_CMD);
	cr_assert_eq(sqe->fd, fd);
	cr_assert_eq(sqe->cmd_op, op);
	memcpy(&cmd, sqe->cmd, sizeof(cmd));
	cr_assert_eq(cmd.addr, (uint64_t)(uintptr_t)arg);
	cr_assert_eq(cmd.len, len);
	cr_assert_eq(cmd.flags, 0);
	memcpy(&z, sqe, sizeof(z));
	z.opcode = 0;
	z.fd = 0;
	z.cmd_op = 0;
	memset(z.cmd, 0, sizeof(cmd));
	for (size_t i = 0; i < sizeof(z); i++)
		cr_assert_eq(((unsigned char *)&z)[i], 0, "byte %zu", i);
}

Test(lib_uring, prep_score)
{
	struct io_uring_sqe sqe;
	struct cxl_kv_hints h;
	struct cxl_kv_hint one = { .layer = 1, .head = 2, .block = 3, .score = 65536 };

	poison(&sqe, sizeof(sqe));
	poison(&h, sizeof(h));
	h.step = 7;
	h.hints = (uint64_t)(uintptr_t)&one;
	h.count = 1;
	cr_assert_eq(cxl_kv_prep_score(&sqe, 5, &h), 0);
	check_sqe(&sqe, 5, CXL_KV_HINTS, &h, sizeof(h));
	cr_expect_eq(h.flags, 0);
	cr_expect_eq(h.pad, 0);
	cr_expect_eq(h.done, 0);
	cr_expect_eq(h.reserved[0] | h.reserved[1], 0);
	cr_expect_eq(h.step, 7);
	cr_expect_eq(h.count, 1);
}

Test(lib_uring, prep_prefetch)
{
	struct io_uring_sqe sqe;
	struct cxl_kv_prefetch pf;

	poison(&sqe, sizeof(sqe));
	poison(&pf, sizeof(pf));
	pf.layer = 3;
	pf.flags = 0;
	pf.head_mask = 0xff;
	pf.pos = 100;
	pf.window = 32;
	cr_assert_eq(cxl_kv_prep_prefetch(&sqe, 9, &pf), 0);
	check_sqe(&sqe, 9, CXL_KV_PREFETCH, &pf, sizeof(pf));
	cr_expect_eq(pf.issued | pf.resident | pf.reserved[0] | pf.reserved[1], 0);
	cr_expect_eq(pf.head_mask, 0xff);
}

Test(lib_uring, prep_ranges_family)
{
	static const struct {
		int (*fn)(struct io_uring_sqe *, int, struct cxl_kv_ranges *);
		uint32_t op;
	} t[] = {
		{ cxl_kv_prep_access, CXL_KV_ACCESS },
		{ cxl_kv_prep_promote, CXL_KV_PROMOTE },
		{ cxl_kv_prep_demote, CXL_KV_DEMOTE },
		{ cxl_kv_prep_pin, CXL_KV_PIN },
		{ cxl_kv_prep_unpin, CXL_KV_UNPIN },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct io_uring_sqe sqe;
		struct cxl_kv_ranges r;

		poison(&sqe, sizeof(sqe));
		poison(&r, sizeof(r));
		r.step = 0;
		r.count = 1;
		r.flags = 0;
		cr_assert_eq(t[i].fn(&sqe, 4, &r), 0);
		check_sqe(&sqe, 4, t[i].op, &r, sizeof(r));
		cr_expect_eq(r.done | r.reserved[0] | r.reserved[1], 0);
		cr_expect_eq(t[i].fn(NULL, 4, &r), -EINVAL);
		cr_expect_eq(t[i].fn(&sqe, 4, NULL), -EINVAL);
		cr_expect_eq(t[i].fn(&sqe, -1, &r), -EBADF);
	}
}

Test(lib_uring, prep_residency_and_stats)
{
	struct io_uring_sqe sqe;
	struct cxl_kv_residency r;
	struct cxl_kv_stats st;

	poison(&sqe, sizeof(sqe));
	poison(&r, sizeof(r));
	cr_assert_eq(cxl_kv_prep_residency(&sqe, 3, &r), 0);
	check_sqe(&sqe, 3, CXL_KV_RESIDENCY, &r, sizeof(r));
	cr_expect_eq(r.flags | r.nr_warm | r.nr_cold | r.nr_empty | r.nr_pinned, 0);
	poison(&sqe, sizeof(sqe));
	poison(&st, sizeof(st));
	cr_assert_eq(cxl_kv_prep_stats(&sqe, 3, &st), 0);
	check_sqe(&sqe, 3, CXL_KV_SPACE_STATS, &st, sizeof(st));
	cr_expect_eq(st.flags | st.pad | st.reserved[6], 0);
}

Test(lib_uring, prep_cmd_checks_size_and_type)
{
	struct io_uring_sqe sqe;
	struct cxl_kv_params p = { 0 };

	cr_expect_eq(cxl_kv_prep_cmd(&sqe, 3, CXL_KV_PARAMS_GET, &p, sizeof(p)), 0);
	cr_expect_eq(cxl_kv_prep_cmd(&sqe, 3, CXL_KV_PARAMS_GET, &p, sizeof(p) - 8),
		     -EINVAL);
	cr_expect_eq(cxl_kv_prep_cmd(&sqe, 3, _IOWR('x', 1, struct cxl_kv_params),
				     &p, sizeof(p)), -EINVAL);
	cr_expect_eq(cxl_kv_prep_cmd(&sqe, 3, CXL_KV_PARAMS_GET, NULL, sizeof(p)),
		     -EINVAL);
	cr_expect_eq(cxl_kv_prep_cmd(NULL, 3, CXL_KV_PARAMS_GET, &p, sizeof(p)),
		     -EINVAL);
	cr_expect_eq(cxl_kv_prep_cmd(&sqe, -9, CXL_KV_PARAMS_GET, &p, sizeof(p)),
		     -EBADF);
	cr_expect_eq(cxl_kv_prep_score(&sqe, 3, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_prep_prefetch(&sqe, 3, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_prep_residency(&sqe, 3, NULL), -EINVAL);
	cr_expect_eq(cxl_kv_prep_stats(&sqe, 3, NULL), -EINVAL);
}

/* The builders work with a real ring: an SQE from io_uring_get_sqe(). */
Test(lib_uring, prep_on_a_real_ring)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct cxl_kv_stats st;

	if (io_uring_queue_init(4, &ring, 0) < 0)
		cr_skip_test("io_uring unavailable");
	sqe = io_uring_get_sqe(&ring);
	cr_assert_not_null(sqe);
	cr_assert_eq(cxl_kv_prep_stats(sqe, 0, &st), 0);
	check_sqe(sqe, 0, CXL_KV_SPACE_STATS, &st, sizeof(st));
	io_uring_queue_exit(&ring);
}
