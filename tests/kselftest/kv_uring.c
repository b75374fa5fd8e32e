// SPDX-License-Identifier: GPL-2.0
/*
 * kv_uring - the io_uring uring_cmd transport: batched hints and prefetch
 * with completions, same results as the ioctl; control commands; errors
 * identical to the ioctl's; several prefetches in flight; SQE128 rings;
 * the non-blocking issue's fast path (KV_CMD_TRY): PREFETCH and LAYER_BEGIN
 * run without an io-wq worker, and are exact while another process keeps
 * the space's lock busy (their -EAGAIN retries from io-wq count nothing
 * twice); LAYER_BEGIN with F_WAIT still waits (from io-wq).
 */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

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
/* io-wq workers of this process now: threads named iou-wrk-* */
static int iou_workers(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iou-wrk", 7))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/*
 * In a new process (its own io-wq): @n PREFETCHes of layer 1's resident
 * window and one LAYER_BEGIN over uring; exits with the io-wq workers it
 * then has (0: all ran at the non-blocking issue), 100 + n on a failure.
 */
static int fast_path_workers(int fd, int n)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct cxl_kv_layer_begin lb = { .layer = 0, .step = 1, .depth = 1,
						 .flags = CXL_KV_LAYER_F_WAIT };
		struct io_uring r;

		/* the first LAYER_BEGIN allocates its plan buffer: by ioctl */
		if (kv_ioctl(fd, CXL_KV_LAYER_BEGIN, &lb) ||
		    io_uring_queue_init(8, &r, 0))
			_exit(100);
		for (int i = 0; i < n; i++) {
			struct cxl_kv_prefetch pf = { .layer = 1, .head_mask = 3,
						      .pos = 8 * 16, .window = 4 * 16 };

			if (kv_uring_one(&r, fd, CXL_KV_PREFETCH, &pf, sizeof(pf)) ||
			    pf.resident != 36)
				_exit(101);
		}
		lb = (struct cxl_kv_layer_begin){ .layer = 1, .step = 1, .depth = 1 };
		if (kv_uring_one(&r, fd, CXL_KV_LAYER_BEGIN, &lb, sizeof(lb)))
			_exit(102);
		_exit(iou_workers());
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

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
	ktap_plan(31);
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

	/*
	 * The fast path: nothing a decode step sends (a resident PREFETCH
	 * window, LAYER_BEGIN) needs an io-wq worker.  The old transport
	 * punted both, every time: 1 worker.
	 */
	ret = fast_path_workers(fd, 8);
	T("uring_fast_path_no_iowq_worker", ret == 0, "%d io-wq workers (or 100+: failed)", ret);

	/* LAYER_BEGIN with F_WAIT waits: from io-wq, for the plan's reads */
	{
		struct cxl_kv_layer_begin lb = { .layer = 2, .step = 2, .depth = 1,
						 .flags = CXL_KV_LAYER_F_WAIT };
		struct cxl_kv_pipe_stats p0 = { 0 }, p1 = { 0 };
		int w0 = iou_workers();

		kv_ioctl(fd, CXL_KV_PIPE_STATS, &p0);
		ret = kv_uring_one(&ring, fd, CXL_KV_LAYER_BEGIN, &lb, sizeof(lb));
		kv_ioctl(fd, CXL_KV_PIPE_STATS, &p1);
		T("uring_layer_begin_wait_waits",
		  ret == 0 && p1.layer_begins == p0.layer_begins + 1 &&
		  p1.issued + p1.cancelled >= p0.issued + p0.cancelled &&
		  (w0 > 0 || iou_workers() > 0),
		  "ret %d begins %llu->%llu workers %d->%d", ret,
		  (unsigned long long)p0.layer_begins, (unsigned long long)p1.layer_begins,
		  w0, iou_workers());
	}

	/*
	 * Another process keeps the space's lock busy (RESIDENCY and HINTS
	 * ioctls in a loop): PREFETCH and LAYER_BEGIN over uring are tried,
	 * punted when the trylock fails, and still exact: every cold page of
	 * the window read once, resident at the completion, each LAYER_BEGIN
	 * counted once.
	 */
	{
		struct cxl_kv_pipe_stats p0 = { 0 }, p1 = { 0 };
		struct cxl_kv_stats st0, st1;
		uint64_t issued = 0, promoted;
		int ok = 0, res = 0, lbok = 0;
		pid_t busy = fork();

		if (busy == 0) {
			struct cxl_kv_hints q = { .step = 30, .hints = (uintptr_t)hints,
						  .count = NH };
			uint64_t b[1];
			struct cxl_kv_residency rr;

			for (;;) {
				kv_ioctl(fd, CXL_KV_HINTS, &q);
				kv_resident(fd, 3, 1, 0, BPH, &rr, b);
			}
		}
		kv_stats(fd, CXL_KV_SPACE_STATS, &st0);
		kv_ioctl(fd, CXL_KV_PIPE_STATS, &p0);
		for (int round = 0; round < 4; round++) {
			for (int l = 0; l < LAYERS; l++)
				demote_layer(fd, l);
			for (int l = 0; l < LAYERS; l++) {
				struct cxl_kv_prefetch pf = { .layer = l, .head_mask = 3,
							      .pos = 0, .window = BPH * 16 };
				struct cxl_kv_layer_begin lb = { .layer = l, .step = 40 + round,
								 .depth = 1 };

				ret = kv_uring_one(&ring, fd, CXL_KV_PREFETCH, &pf, sizeof(pf));
				ok += ret == 0;
				issued += pf.issued;
				res += kv_resident(fd, l, 0, 0, BPH, &r, bm) +
				       kv_resident(fd, l, 1, 0, BPH, &r, bm);
				lbok += kv_uring_one(&ring, fd, CXL_KV_LAYER_BEGIN, &lb,
						     sizeof(lb)) == 0;
			}
		}
		kill(busy, SIGKILL);
		waitpid(busy, NULL, 0);
		/* the pipeline's reads end before PIPE_STATS of a F_WAIT */
		{
			struct cxl_kv_layer_begin lb = { .layer = 0, .step = 50, .depth = 1,
							 .flags = CXL_KV_LAYER_F_WAIT };

			kv_ioctl(fd, CXL_KV_LAYER_BEGIN, &lb);
		}
		kv_ioctl(fd, CXL_KV_PIPE_STATS, &p1);
		kv_stats(fd, CXL_KV_SPACE_STATS, &st1);
		promoted = st1.promotions - st0.promotions;
		/* every promotion is a PREFETCH's or the pipeline's, none twice */
		T("uring_prefetch_busy_space_exact",
		  ok == 4 * LAYERS && res == 4 * LAYERS * 2 * BPH && issued > 0 &&
		  promoted == issued + (p1.issued - p0.issued) &&
		  lbok == 4 * LAYERS && p1.layer_begins - p0.layer_begins == 4 * LAYERS + 1,
		  "ok %d resident %d issued %llu+%llu promoted %llu layer_begins %d/%llu",
		  ok, res, (unsigned long long)issued,
		  (unsigned long long)(p1.issued - p0.issued), (unsigned long long)promoted,
		  lbok, (unsigned long long)(p1.layer_begins - p0.layer_begins));
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
	/*
	 * An int8 page promoted by PREFETCH at the non-blocking issue (the
	 * fast path's batch) and demoted again unwritten is dropped clean:
	 * its object stays its cold copy, it reads the same decoded values
	 * and nothing is written (uapi.rst: not quantized twice).
	 */
	{
		enum { LP = 8 };	/* 4 blocks: K and V pages */
		static uint64_t orig[LP * 512], once[LP * 512], again[LP * 512];
		struct cxl_kv_prefetch pf = { .layer = 0, .head_mask = 1, .pos = 0,
					      .window = 64 };
		struct cxl_kv_space_create lc;
		struct cxl_kv_stats a, b;
		int lfd, pr = -1;
		char *lm = MAP_FAILED;

		kv_geom(&lc, 1, 1, 128, 64);
		CXL_KV_SPACE_COLD_FORMAT(&lc) = CXL_KV_FMT_INT8;
		lfd = kv_space(ctl, &lc);
		if (lfd >= 0)
			lm = mmap(NULL, lc.mmap_bytes, PROT_READ | PROT_WRITE,
				  MAP_SHARED, lfd, 0);
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		if (lm != MAP_FAILED) {
			/* finite fp16 (bit 14 clear): the pages encode */
			for (uint64_t pg = 0; pg < LP; pg++)
				kv_fill(orig + pg * 512, 11, pg);
			for (int w = 0; w < LP * 512; w++)
				orig[w] &= 0xbfffbfffbfffbfffULL;
			memcpy(lm, orig, sizeof(orig));
			kv_ranges(lfd, CXL_KV_DEMOTE, 0, 0, 0, 4, NULL);
			pr = kv_uring_one(&ring, lfd, CXL_KV_PREFETCH, &pf, sizeof(pf));
			memcpy(once, lm, sizeof(once));
			kv_stats(lfd, CXL_KV_SPACE_STATS, &a);
			kv_ranges(lfd, CXL_KV_DEMOTE, 0, 0, 0, 4, NULL);
			kv_stats(lfd, CXL_KV_SPACE_STATS, &b);
			memcpy(again, lm, sizeof(again));
		}
		T("uring_prefetch_lossy_drops_clean",
		  pr == 0 && pf.issued == LP && b.clean_drops - a.clean_drops == LP &&
		  b.nvme_write_bytes == a.nvme_write_bytes &&
		  memcmp(once, orig, sizeof(orig)) && !memcmp(once, again, sizeof(once)),
		  "PREFETCH %d issued %llu, %llu clean drops, %llu bytes written, decoded %s, again %s",
		  pr, (unsigned long long)pf.issued,
		  (unsigned long long)(b.clean_drops - a.clean_drops),
		  (unsigned long long)(b.nvme_write_bytes - a.nvme_write_bytes),
		  memcmp(once, orig, sizeof(orig)) ? "differs" : "= written",
		  memcmp(once, again, sizeof(once)) ? "differs" : "the same");
		if (lm != MAP_FAILED)
			munmap(lm, lc.mmap_bytes);
		if (lfd >= 0)
			close(lfd);
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
