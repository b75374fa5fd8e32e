// SPDX-License-Identifier: GPL-2.0
/*
 * kv_uring - the io_uring uring_cmd transport: batched hints and prefetch
 * with completions, same results as the ioctl; control commands; errors
 * identical to the ioctl's; several prefetches in flight; SQE128 rings.
 */
#include "kv_test.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define LAYERS	4
#define HEADS	2
#define BPH	32
#define NH	1024

static struct cxl_kv_hint hints[NH];

static void mk_hints(void)
{
	for (int i = 0; i < NH; i++)
		hints[i] = (struct cxl_kv_hint){ .layer = i % LAYERS,
						 .head = (i / LAYERS) % HEADS,
						 .block = (i / 8) % BPH,
						 .score = (uint32_t)(i * 64) };
}

static int demote_layer(int fd, int layer)
{
	uint64_t done;
	int ret = 0;

	for (int h = 0; h < HEADS; h++)
		ret |= kv_ranges(fd, CXL_KV_DEMOTE, layer, h, 0, BPH, &done);
	return ret;
}

/* @cmd over a fresh ring of an unprivileged child: its result. */
static int uring_as_nobody(unsigned long cmd, void *arg, size_t len)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct io_uring r;
		int fd = kv_open_ctl();

		if (fd < 0 || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534) || io_uring_queue_init(4, &r, 0))
			_exit(100);
		_exit(-kv_uring_one(&r, fd, cmd, arg, len));
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? -WEXITSTATUS(st) : -1000;
}

int main(void)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_features f = { 0 };
	struct cxl_kv_stats s0, s1, s2;
	struct cxl_kv_residency r;
	struct io_uring ring, ring128;
	uint64_t bm[1];
	int ctl, fd, ret;
	char *m;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	if (kv_ioctl(ctl, CXL_KV_GET_FEATURES, &f) || !(f.features & CXL_KV_F_URING_CMD))
		return ktap_skip_all("module without CXL_KV_F_URING_CMD");
	if (io_uring_queue_init(64, &ring, 0))
		return ktap_skip_all("io_uring_queue_init failed (io_uring disabled?)");
	ktap_plan(27);
	kv_detach_quiet(ctl);
	T("attach", kv_attach(ctl, 1024, 1, 32 << 20) == 0, "-");

	memset(&f, 0, sizeof(f));
	ret = kv_uring_one(&ring, ctl, CXL_KV_GET_FEATURES, &f, sizeof(f));
	T("ctl_get_features", ret == 0 && f.version == CXL_KV_VERSION, "ret %d", ret);

	kv_geom(&c, LAYERS, HEADS, 128, BPH * 16);
	ret = kv_uring_one(&ring, ctl, CXL_KV_SPACE_CREATE, &c, sizeof(c));
	fd = (int)c.fd;
	T("ctl_space_create", ret == 0 && fd > 2 && fcntl(fd, F_GETFD) == FD_CLOEXEC,
	  "ret %d fd %d", ret, fd);
	if (ret)
		return ktap_finish();
	m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	for (uint64_t pg = 0; pg < c.mmap_bytes / KV_PAGE; pg++)
		kv_fill((uint64_t *)(m + pg * KV_PAGE), 5, pg);

	/* hints: 8 batched uring_cmds of 1024 vs the same through ioctl */
	mk_hints();
	kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
	{
		struct cxl_kv_hints q[8];
		struct io_uring_cqe *cqe;
		int ok = 0;

		for (int i = 0; i < 8; i++) {
			q[i] = (struct cxl_kv_hints){ .step = 10 + i, .hints = (uintptr_t)hints,
						      .count = NH };
			kv_prep_cmd(io_uring_get_sqe(&ring), fd, CXL_KV_HINTS, &q[i],
				    sizeof(q[i]), i);
		}
		io_uring_submit(&ring);
		for (int i = 0; i < 8; i++) {
			if (io_uring_wait_cqe(&ring, &cqe))
				break;
			ok += cqe->res == 0 && q[cqe->user_data].done == NH;
			io_uring_cqe_seen(&ring, cqe);
		}
		T("uring_hints_batched", ok == 8, "%d of 8 completions ok", ok);
	}
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	{
		struct cxl_kv_hints q = { .step = 20, .hints = (uintptr_t)hints, .count = NH };

		for (int i = 0; i < 8; i++)
			kv_ioctl(fd, CXL_KV_HINTS, &q);
	}
	kv_stats(fd, CXL_KV_SPACE_STATS, &s2);
	T("uring_hints_same_as_ioctl", s1.hints - s0.hints == 8 * NH &&
	  s2.hints - s1.hints == 8 * NH, "uring %llu ioctl %llu",
	  (unsigned long long)(s1.hints - s0.hints), (unsigned long long)(s2.hints - s1.hints));

	/* errors are the ioctl's */
	{
		struct cxl_kv_hints q = { .step = 1, .hints = (uintptr_t)hints, .count = 0 };
		struct cxl_kv_range rg = { .nr_blocks = BPH + 1 };
		struct cxl_kv_ranges rq = { .ranges = (uintptr_t)&rg, .count = 1 };

		T("uring_err_einval", kv_uring_one(&ring, fd, CXL_KV_HINTS, &q, sizeof(q)) == -EINVAL &&
		  kv_ioctl(fd, CXL_KV_HINTS, &q) == -EINVAL, "-");
		T("uring_err_range", kv_uring_one(&ring, fd, CXL_KV_PROMOTE, &rq, sizeof(rq)) == -EINVAL, "-");
		T("uring_err_len", kv_uring_one(&ring, fd, CXL_KV_HINTS, &q, sizeof(q) - 8) == -EINVAL, "-");
		T("uring_err_unknown", kv_uring_one(&ring, fd, _IOWR(CXL_KV_IOC_TYPE, 0x3e, struct cxl_kv_hints),
						   &q, sizeof(q)) == -ENOTTY, "-");
		T("uring_err_ctl_on_space", kv_uring_one(&ring, fd, CXL_KV_INFO, &f, sizeof(struct cxl_kv_info)) == -ENOTTY, "-");
		T("uring_err_efault", kv_uring_one(&ring, fd, CXL_KV_HINTS, (void *)8, sizeof(q)) == -EFAULT, "-");
		/* the whole number, the side and the header's flags, as the ioctl */
		T("uring_err_wrong_size", kv_uring_one(&ring, fd, _IOWR(CXL_KV_IOC_TYPE, 0x27, uint64_t),
						      bm, sizeof(bm[0])) == -ENOTTY, "-");
		T("uring_err_gap_nr", kv_uring_one(&ring, fd, _IOWR(CXL_KV_IOC_TYPE, 0x2c, struct cxl_kv_stats),
						  &s0, sizeof(s0)) == -ENOTTY, "-");
		T("uring_err_space_on_ctl", kv_uring_one(&ring, ctl, CXL_KV_HINTS, &q, sizeof(q)) == -ENOTTY, "-");
		T("uring_err_ctl_unknown", kv_uring_one(&ring, ctl, _IOWR(CXL_KV_IOC_TYPE, 0x1f, struct cxl_kv_stats),
						       &s0, sizeof(s0)) == -ENOTTY, "-");
		T("uring_err_flags",
		  kv_uring_one_flags(&ring, fd, CXL_KV_SPACE_STATS, &s0,
				     sizeof(s0), 1) == -EINVAL &&
		  kv_uring_one_flags(&ring, ctl, CXL_KV_GLOBAL_STATS, &s0,
				     sizeof(s0), 1) == -EINVAL, "-");
	}
	{
		struct cxl_kv_attach a;
		struct cxl_kv_detach d = { .flags = 1 };

		kv_attach_req(&a, 1024, 1, 32 << 20);
		a.reserved[0] = 1;
		T("uring_attach_nonadmin_eperm",
		  uring_as_nobody(CXL_KV_ATTACH, &a, sizeof(a)) == -EPERM, "-");
		T("uring_detach_nonadmin_eperm",
		  uring_as_nobody(CXL_KV_DETACH, &d, sizeof(d)) == -EPERM, "-");
	}

	/* prefetch through uring: completion when resident */
	demote_layer(fd, 1);
	ret = kv_resident(fd, 1, 0, 0, BPH, &r, bm);
	T("layer_cold", ret == 0, "resident %d", ret);
	{
		struct cxl_kv_prefetch pf = { .layer = 1, .head_mask = 3, .pos = 8 * 16,
					      .window = 4 * 16 };

		ret = kv_uring_one(&ring, fd, CXL_KV_PREFETCH, &pf, sizeof(pf));
		T("uring_prefetch_completes", ret == 0 && pf.issued == 2 * 2 * 9,
		  "ret %d issued %llu", ret, (unsigned long long)pf.issued);
		ret = kv_resident(fd, 1, 0, 4, 9, &r, bm) + kv_resident(fd, 1, 1, 4, 9, &r, bm);
		T("uring_prefetch_resident_at_completion", ret == 18, "resident %d", ret);
		ret = kv_resident(fd, 1, 0, 14, 4, &r, bm);
		T("outside_window_still_cold", ret == 0, "resident %d", ret);
	}

	/* the same through ioctl gives the same residency */
	demote_layer(fd, 2);
	{
		struct cxl_kv_prefetch pf = { .layer = 2, .head_mask = 3, .pos = 8 * 16,
					      .window = 4 * 16, .flags = CXL_KV_PREFETCH_F_WAIT };

		ret = kv_ioctl(fd, CXL_KV_PREFETCH, &pf);
		ret = ret ?: kv_resident(fd, 2, 0, 4, 9, &r, bm) + kv_resident(fd, 2, 1, 4, 9, &r, bm);
		T("ioctl_prefetch_same", ret == 18 && pf.issued == 36, "resident %d", ret);
	}

	/* several prefetches in flight at once, on an SQE128 ring */
	demote_layer(fd, 0);
	demote_layer(fd, 3);
	if (io_uring_queue_init(16, &ring128, IORING_SETUP_SQE128)) {
		ktap_skip("sqe128_concurrent_prefetch", "IORING_SETUP_SQE128 unsupported");
	} else {
		struct cxl_kv_prefetch pf[4];
		struct io_uring_cqe *cqe;
		int ok = 0, res = 0;

		for (int i = 0; i < 4; i++) {
			pf[i] = (struct cxl_kv_prefetch){ .layer = (i & 1) ? 3 : 0,
							  .head_mask = 1u << (i / 2),
							  .pos = 16 * 16, .window = 16 * 16 };
			kv_prep_cmd(io_uring_get_sqe(&ring128), fd, CXL_KV_PREFETCH,
				    &pf[i], sizeof(pf[i]), i);
		}
		io_uring_submit(&ring128);
		for (int i = 0; i < 4; i++) {
			if (io_uring_wait_cqe(&ring128, &cqe))
				break;
			ok += cqe->res == 0;
			io_uring_cqe_seen(&ring128, cqe);
		}
		for (int l = 0; l < LAYERS; l += 3)
			for (int h = 0; h < HEADS; h++)
				res += kv_resident(fd, l, h, 0, BPH, &r, bm);
		T("sqe128_concurrent_prefetch", ok == 4 && res == 4 * BPH, "ok %d resident %d", ok, res);
		io_uring_queue_exit(&ring128);
	}
	{
		uint64_t bad = 0;

		for (uint64_t pg = 0; pg < c.mmap_bytes / KV_PAGE; pg++)
			bad += !!kv_check((uint64_t *)(m + pg * KV_PAGE), 5, pg);
		T("data_intact", bad == 0, "%llu bad pages", (unsigned long long)bad);
	}
	/* close the space with a prefetch in flight: completion still arrives */
	demote_layer(fd, 0);
	{
		struct cxl_kv_prefetch pf = { .layer = 0, .head_mask = 3, .pos = 0,
					      .window = BPH * 16 };
		struct io_uring_cqe *cqe;

		kv_prep_cmd(io_uring_get_sqe(&ring), fd, CXL_KV_PREFETCH, &pf, sizeof(pf), 99);
		io_uring_submit(&ring);
		munmap(m, c.mmap_bytes);
		close(fd);
		ret = io_uring_wait_cqe(&ring, &cqe);
		T("close_with_prefetch_inflight", ret == 0 && cqe->res == 0, "ret %d res %d",
		  ret, ret ? 0 : cqe->res);
		if (!ret)
			io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	{
		struct cxl_kv_info info;

		kv_info(ctl, &info);
		T("no_leak", info.nr_spaces == 0 && info.warm_pages == 0 && info.cold_used == 0,
		  "spaces %u warm %llu cold %llu", info.nr_spaces,
		  (unsigned long long)info.warm_pages, (unsigned long long)info.cold_used);
	}
	kv_detach_quiet(ctl);
	close(ctl);
	return ktap_finish();
}
