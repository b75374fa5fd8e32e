// SPDX-License-Identifier: GPL-2.0
/*
 * kv_pipe - the layer pipeline (LAYER_BEGIN, PIPE_STATS):
 *
 *   - every malformed argument is -EINVAL, over ioctl and uring_cmd, and
 *     changes nothing;
 *   - a plan promotes exactly the cold blocks of the next layers that were
 *     read in the step before (the policy's hot set; the prefetch window is
 *     0 here), no other block: not what was only written (the prefill at
 *     step 0 before the first decode step, a write in the step before), and
 *     the counters say so exactly: planned,
 *     issued, used (faulted afterwards), unread (demoted without a fault),
 *     over_budget (beyond max_pages);
 *   - with the cold device slowed down (dm "delay"): a fault on a page the
 *     pipeline is still reading counts late (its partner page, read in
 *     the same batch, counts used); a LAYER_BEGIN that comes while
 *     a plan runs cancels the rest of it (exact count); a process killed in
 *     LAYER_BEGIN(WAIT) dies at once, and one that closes its space while
 *     the pipeline reads leaves no page behind;
 *   - every byte read back is the byte written.
 */
#include "kv_test.h"
#include "kv_dm.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define LAYERS		4
#define HEADS		2
#define BPH		32		/* blocks (pages) per stream */
#define NPG		(LAYERS * HEADS * 2 * BPH)
#define BUDGET		1024
#define DELAY_MS	600
#define KILL_S		5.0
#define DM_NAME		"cxlkv_pipe"
#define DM_SECTORS	(16ULL << 11)	/* 16 MiB */
#define NCASES		17

static struct kv_dm dm;
static char dm_linear[64], dm_slow[96];
static struct cxl_kv_space_create c;
static int ctl, sfd = -1;
static char *mm = MAP_FAILED;

static uint64_t pgof(uint32_t layer, uint32_t head, int kv, uint32_t blk)
{
	return (((uint64_t)layer * HEADS + head) * 2 + kv) * BPH + blk;
}

static void fill(uint64_t seed)
{
	for (uint64_t pg = 0; pg < NPG; pg++)
		kv_fill_stride((volatile uint64_t *)(mm + pg * KV_PAGE), seed,
			       pg, 1);
}

static uint64_t check_all(uint64_t seed)
{
	uint64_t bad = 0;

	for (uint64_t pg = 0; pg < NPG; pg++)
		bad += kv_check_stride((volatile uint64_t *)(mm + pg * KV_PAGE),
				       seed, pg, 1);
	return bad;
}

static int slow(int on)
{
	return kv_dm_switch(&dm, on ? "delay" : "linear", on ? dm_slow : dm_linear);
}

static int demote_all(int fd)
{
	int ret = 0;

	for (uint32_t l = 0; l < LAYERS; l++)
		for (uint32_t h = 0; h < HEADS; h++)
			ret |= kv_ranges(fd, CXL_KV_DEMOTE, l, h, 0, BPH, NULL);
	return ret;
}

/* ACCESS of @n blocks from @first of (layer, head) at @step. */
static int access_at(int fd, uint64_t step, uint32_t layer, uint32_t head,
		     uint32_t first, uint32_t n)
{
	struct cxl_kv_range r = { .layer = layer, .head = head,
				  .first_block = first, .nr_blocks = n };
	struct cxl_kv_ranges q = { .step = step, .ranges = (uintptr_t)&r,
				   .count = 1 };

	return kv_ioctl(fd, CXL_KV_ACCESS, &q);
}

static int layer_begin(int fd, uint32_t layer, uint32_t step, uint32_t depth,
		       uint64_t max_pages, uint32_t flags)
{
	struct cxl_kv_layer_begin lb = { .layer = layer, .step = step,
					 .depth = depth, .flags = flags,
					 .max_pages = max_pages };

	return kv_ioctl(fd, CXL_KV_LAYER_BEGIN, &lb);
}

static int pipe_stats(int fd, struct cxl_kv_pipe_stats *ps)
{
	memset(ps, 0, sizeof(*ps));
	return kv_ioctl(fd, CXL_KV_PIPE_STATS, ps);
}

/* Wait until the pipeline is idle: a plan of nothing (layer 0 is not hot). */
static int drain(int fd, uint32_t step)
{
	return layer_begin(fd, LAYERS - 1, step, 1, 0, CXL_KV_LAYER_F_WAIT);
}

#define D(f)	((unsigned long long)(b.f - a.f))

/* ---- arguments ------------------------------------------------------------ */

static void case_args(struct io_uring *ring)
{
	struct cxl_kv_layer_begin ok = { .layer = 0, .step = 1, .depth = 1 };
	struct cxl_kv_layer_begin bad[8];
	struct cxl_kv_pipe_stats a, b, ps;
	int n = 0, fails = 0, ret;

	for (int i = 0; i < 8; i++)
		bad[i] = ok;
	bad[n++].flags = 1U << 7;
	bad[n++].reserved[3] = 1;
	bad[n++].layer = LAYERS;
	bad[n].layer = UINT32_MAX; n++;
	bad[n++].depth = 0;
	bad[n++].depth = LAYERS;	/* > layers - 1 */
	bad[n].depth = CXL_KV_MAX_PIPE_DEPTH + 1; n++;
	pipe_stats(sfd, &a);
	for (int i = 0; i < n; i++) {
		ret = kv_ioctl(sfd, CXL_KV_LAYER_BEGIN, &bad[i]);
		if (ret != -EINVAL) {
			ktap_diag("bad[%d]: ioctl %d", i, ret);
			fails++;
		}
		ret = kv_uring_one(ring, sfd, CXL_KV_LAYER_BEGIN, &bad[i],
				   sizeof(bad[i]));
		if (ret != -EINVAL) {
			ktap_diag("bad[%d]: uring %d", i, ret);
			fails++;
		}
	}
	memset(&ps, 0, sizeof(ps));
	ps.pad = 1;
	if (kv_ioctl(sfd, CXL_KV_PIPE_STATS, &ps) != -EINVAL)
		fails++;
	memset(&ps, 0, sizeof(ps));
	ps.reserved[5] = 1;
	if (kv_uring_one(ring, sfd, CXL_KV_PIPE_STATS, &ps, sizeof(ps)) != -EINVAL)
		fails++;
	/* the wrong size for the number */
	if (kv_uring_one(ring, sfd, CXL_KV_LAYER_BEGIN, &ok, sizeof(ok) - 8) !=
	    -EINVAL)
		fails++;
	pipe_stats(sfd, &b);
	T("args_einval", !fails && b.layer_begins == a.layer_begins,
	  "%d failures, %llu LAYER_BEGINs counted", fails, D(layer_begins));
	/* a good one over uring, with WAIT: completes */
	ok.flags = CXL_KV_LAYER_F_WAIT;
	ret = kv_uring_one(ring, sfd, CXL_KV_LAYER_BEGIN, &ok, sizeof(ok));
	pipe_stats(sfd, &b);
	T("uring_ok", ret == 0 && D(layer_begins) == 1, "ret %d, begins %llu",
	  ret, D(layer_begins));
}

/* ---- exact plans ----------------------------------------------------------- */

static void case_plan(void)
{
	struct cxl_kv_pipe_stats a, b;
	uint64_t bm[1], bad;
	int ret, w[LAYERS][HEADS], want_ok = 1;

	/*
	 * The first decode step after the prefill (fill() wrote every page
	 * before any step was reported: at step 0), all cold: nothing was
	 * read, nothing is planned (the plan named every cold block of layers
	 * 1..3 when a write counted as a use: 64 blocks within max_pages).
	 */
	ret = demote_all(sfd);
	pipe_stats(sfd, &a);
	ret |= layer_begin(sfd, 0, 1, 3, 0, CXL_KV_LAYER_F_WAIT);
	pipe_stats(sfd, &b);
	w[0][0] = 0;
	for (int l = 1; l < LAYERS; l++)
		for (int h = 0; h < HEADS; h++)
			w[0][0] += kv_resident(sfd, l, h, 0, BPH, NULL, bm);
	T("prefill_not_planned", !ret && !D(planned) && !D(issued) &&
	  !D(over_budget) && !w[0][0],
	  "ret %d planned %llu issued %llu over %llu resident %d", ret,
	  D(planned), D(issued), D(over_budget), w[0][0]);

	/*
	 * All cold; layer 3 head 0 read at step 9 (not hot for step 11), then
	 * layer 1 head 0 blocks 4,5 and layer 2 head 1 block 9 at step 10.
	 */
	ret = demote_all(sfd);
	ret |= access_at(sfd, 9, 3, 0, 0, 8);
	ret |= access_at(sfd, 10, 1, 0, 4, 2);
	ret |= access_at(sfd, 10, 2, 1, 9, 1);
	pipe_stats(sfd, &a);
	ret |= layer_begin(sfd, 0, 11, 3, 0, CXL_KV_LAYER_F_WAIT);
	pipe_stats(sfd, &b);
	for (int l = 0; l < LAYERS; l++)
		for (int h = 0; h < HEADS; h++) {
			w[l][h] = kv_resident(sfd, l, h, 0, BPH, NULL, bm);
			if ((l == 1 && h == 0 && (w[l][h] != 2 || bm[0] != 0x30)) ||
			    (l == 2 && h == 1 && (w[l][h] != 1 || bm[0] != 0x200)) ||
			    (!(l == 1 && h == 0) && !(l == 2 && h == 1) && w[l][h]))
				want_ok = 0;
		}
	T("plan_exact", !ret && want_ok && D(planned) == 6 && D(issued) == 6 &&
	  !D(cancelled) && !D(over_budget) && !D(used) && !D(unread) && !D(late),
	  "ret %d resident l1h0 %d l2h1 %d l3h0 %d; planned %llu issued %llu cancelled %llu over %llu",
	  ret, w[1][0], w[2][1], w[3][0], D(planned), D(issued), D(cancelled),
	  D(over_budget));

	/* the K and V pages of (1, 0, 4) are read: used 2, nothing else */
	a = b;
	bad = kv_check_stride((volatile uint64_t *)(mm + pgof(1, 0, 0, 4) * KV_PAGE),
			      7, pgof(1, 0, 0, 4), 1);
	bad += kv_check_stride((volatile uint64_t *)(mm + pgof(1, 0, 1, 4) * KV_PAGE),
			       7, pgof(1, 0, 1, 4), 1);
	pipe_stats(sfd, &b);
	T("used_exact", !bad && D(used) == 2 && !D(late) && !D(unread),
	  "bad %llu used %llu late %llu unread %llu", (unsigned long long)bad,
	  D(used), D(late), D(unread));

	/* everything demoted again: (1,0,5) and (2,1,9) were never read */
	a = b;
	ret = demote_all(sfd);
	pipe_stats(sfd, &b);
	T("unread_exact", !ret && D(unread) == 4 && !D(used),
	  "ret %d unread %llu used %llu", ret, D(unread), D(used));

	/* max_pages 2: one block of the three, the rest over budget */
	a = b;
	ret = access_at(sfd, 20, 1, 0, 4, 2);
	ret |= access_at(sfd, 20, 2, 1, 9, 1);
	ret |= layer_begin(sfd, 0, 21, 2, 2, CXL_KV_LAYER_F_WAIT);
	pipe_stats(sfd, &b);
	T("budget_exact", !ret && D(planned) == 6 && D(issued) == 2 &&
	  D(over_budget) == 4 && kv_resident(sfd, 1, 0, 0, BPH, NULL, bm) == 1 &&
	  bm[0] == 0x10,
	  "ret %d planned %llu issued %llu over %llu bm %#llx", ret, D(planned),
	  D(issued), D(over_budget), (unsigned long long)bm[0]);
	/* a plan names only cold blocks: the same again reads nothing more */
	a = b;
	ret = layer_begin(sfd, 0, 21, 2, 2, CXL_KV_LAYER_F_WAIT);
	pipe_stats(sfd, &b);
	T("warm_not_planned", !ret && D(issued) == 2 && D(planned) == 4,
	  "ret %d planned %llu issued %llu", ret, D(planned), D(issued));
}

/* ---- with a slow cold device ---------------------------------------------- */

static void case_late(void)
{
	struct cxl_kv_pipe_stats a, b;
	uint64_t bad;
	int ret;

	ret = demote_all(sfd);
	ret |= access_at(sfd, 30, 1, 0, 4, 1);
	ret |= slow(1);
	pipe_stats(sfd, &a);
	ret |= layer_begin(sfd, 0, 31, 1, 0, 0);
	usleep(150 * 1000);	/* the worker has started the reads */
	bad = kv_check_stride((volatile uint64_t *)(mm + pgof(1, 0, 0, 4) * KV_PAGE),
			      7, pgof(1, 0, 0, 4), 1);
	bad += kv_check_stride((volatile uint64_t *)(mm + pgof(1, 0, 1, 4) * KV_PAGE),
			       7, pgof(1, 0, 1, 4), 1);
	ret |= drain(sfd, 31);
	ret |= slow(0);
	pipe_stats(sfd, &b);
	/* the fault on K waited (late); V came in the same batch (used) */
	T("late_exact", !ret && !bad && D(issued) == 2 && D(late) == 1 &&
	  D(used) == 1, "ret %d bad %llu issued %llu late %llu used %llu", ret,
	  (unsigned long long)bad, D(issued), D(late), D(used));
}

/* a LAYER_BEGIN while a plan runs: the rest of that plan is dropped */
static void case_cancel(void)
{
	struct cxl_kv_pipe_stats a, b;
	uint64_t bm[1];
	int ret;

	ret = demote_all(sfd);
	for (uint32_t h = 0; h < HEADS; h++) {
		ret |= access_at(sfd, 40, 1, h, 0, BPH);
		ret |= access_at(sfd, 40, 2, h, 0, BPH);
	}
	ret |= slow(1);
	pipe_stats(sfd, &a);
	/* 128 blocks in 4 chunks of 32; the first is being read ... */
	ret |= layer_begin(sfd, 0, 41, 2, 256, 0);
	usleep(150 * 1000);
	/* ... when layer 1 begins: layer 2 alone (64 blocks) is planned */
	ret |= layer_begin(sfd, 1, 41, 1, 256, CXL_KV_LAYER_F_WAIT);
	ret |= slow(0);
	pipe_stats(sfd, &b);
	T("cancel_exact", !ret && D(planned) == 256 + 128 &&
	  D(cancelled) == 192 && D(issued) == 64 + 128 &&
	  kv_resident(sfd, 1, 1, 0, BPH, NULL, bm) == 0,
	  "ret %d planned %llu cancelled %llu issued %llu", ret, D(planned),
	  D(cancelled), D(issued));
	T("data_exact", check_all(7) == 0, "-");
}

/*
 * A block read at step 45 and written at step 46 (a new token into a block
 * the attention read in the step before) is not hot for step 47: its read
 * is older than the step before.  A block read at step 46 is.
 */
static void case_written(void)
{
	struct cxl_kv_pipe_stats a, b;
	volatile uint64_t *k = (volatile uint64_t *)(mm + pgof(2, 0, 0, 3) * KV_PAGE);
	uint64_t bm[1], x;
	int ret, rk;

	ret = demote_all(sfd);
	ret |= access_at(sfd, 45, 3, 1, 0, 1);	/* the module's step: 45 */
	x = k[0];			/* (2, 0, 3) read at step 45 (a fault) */
	x += k[1];
	ret |= access_at(sfd, 46, 1, 1, 10, 2);	/* step 46: (1, 1, 10..11) */
	k[0] = k[0];			/* (2, 0, 3) written at step 46 */
	ret |= demote_all(sfd);
	pipe_stats(sfd, &a);
	ret |= layer_begin(sfd, 0, 47, 3, 0, CXL_KV_LAYER_F_WAIT);
	pipe_stats(sfd, &b);
	rk = kv_resident(sfd, 2, 0, 0, BPH, NULL, bm);
	T("written_not_planned", !ret && D(planned) == 4 && D(issued) == 4 &&
	  !rk && kv_resident(sfd, 1, 1, 0, BPH, NULL, bm) == 2 &&
	  bm[0] == 0xc00,
	  "ret %d planned %llu issued %llu; (2,0,*) resident %d, (1,1,*) %#llx (%llx)",
	  ret, D(planned), D(issued), rk, (unsigned long long)bm[0],
	  (unsigned long long)x);
	T("data_after_write", check_all(7) == 0, "-");
}

static long warm_pages(void)
{
	struct cxl_kv_stats s;

	return kv_stats(ctl, CXL_KV_GLOBAL_STATS, &s) ? -1 : (long)s.warm_pages;
}

/* A child that builds its own space and waits in LAYER_BEGIN; killed. */
static void case_kill(void)
{
	long warm0, warm1;
	double t0, dt;
	int pfd[2], st, ok = 0;
	pid_t pid;

	/* room for the child's space without demoting this one's pages */
	demote_all(sfd);
	warm0 = warm_pages();
	if (pipe(pfd) || slow(1)) {
		T("kill_wait", 0, "setup");
		return;
	}
	pid = fork();
	if (!pid) {
		struct cxl_kv_space_create cc;
		int fd;
		char *m;

		kv_geom(&cc, LAYERS, HEADS, 128, BPH * 16);
		fd = kv_space(ctl, &cc);
		m = fd < 0 ? MAP_FAILED : mmap(NULL, cc.mmap_bytes,
					       PROT_READ | PROT_WRITE,
					       MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			_exit(1);
		for (uint64_t pg = 0; pg < NPG; pg++)
			m[pg * KV_PAGE] = 1;
		demote_all(fd);	/* writes are not delayed */
		for (uint32_t l = 1; l < LAYERS; l++)
			for (uint32_t h = 0; h < HEADS; h++)
				access_at(fd, 5, l, h, 0, BPH);
		(void)!write(pfd[1], "x", 1);
		/* 3 layers x 64 blocks: 6 slow chunks, seconds */
		layer_begin(fd, 0, 6, 3, 512, CXL_KV_LAYER_F_WAIT);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &st, 1) == 1)
		ok = 1;
	close(pfd[0]);
	usleep(300 * 1000);
	t0 = kv_now();
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	dt = kv_now() - t0;
	slow(0);
	for (int i = 0; i < 50 && (warm1 = warm_pages()) != warm0; i++)
		usleep(100 * 1000);
	T("kill_wait", ok && WIFSIGNALED(st) && dt < KILL_S && warm1 == warm0,
	  "child ready %d, gone in %.2f s, signalled %d, warm %ld -> %ld", ok,
	  dt, WIFSIGNALED(st), warm0, warm1);
}

/* Close the space while the pipeline reads: every page comes back. */
static void case_close(void)
{
	long warm0, warm1;
	double t0, dt;
	int ret;

	ret = demote_all(sfd);
	for (uint32_t l = 1; l < LAYERS; l++)
		for (uint32_t h = 0; h < HEADS; h++)
			ret |= access_at(sfd, 50, l, h, 0, BPH);
	warm0 = warm_pages();
	ret |= slow(1);
	ret |= layer_begin(sfd, 0, 51, 3, 512, 0);
	usleep(150 * 1000);
	t0 = kv_now();
	munmap(mm, c.mmap_bytes);
	mm = MAP_FAILED;
	close(sfd);
	sfd = -1;
	dt = kv_now() - t0;
	slow(0);
	warm1 = warm_pages();
	T("close_mid_plan", !ret && warm1 == 0 && dt < 2.0 * DELAY_MS / 1000 + 1,
	  "ret %d warm %ld before, %ld after close (%.2f s)", ret, warm0, warm1,
	  dt);
}

int main(void)
{
	struct cxl_kv_features f = { 0 };
	struct io_uring ring;
	int ret, splats;

	ret = kv_preamble(&ctl);
	if (ret)
		return ktap_skip_all("no /dev/cxl_kv, no CXLKV_WARM_NODE or no access");
	if (kv_ioctl(ctl, CXL_KV_GET_FEATURES, &f) ||
	    !(f.features & CXL_KV_F_LAYER_PIPELINE))
		return ktap_skip_all("module without CXL_KV_F_LAYER_PIPELINE");
	if (io_uring_queue_init(16, &ring, 0))
		return ktap_skip_all("io_uring_queue_init failed");
	kv_detach_quiet(ctl);
	ret = kv_dm_over(&dm, DM_NAME, DM_SECTORS, kv_nvme2(),
			 dm_linear, sizeof(dm_linear), dm_slow, sizeof(dm_slow),
			 DELAY_MS);
	if (kv_dm_why(ret))
		return ktap_skip_all(kv_dm_why(ret));
	ktap_plan(NCASES);

	ret = kv_attach_path(ctl, BUDGET, dm.path);
	kv_geom(&c, LAYERS, HEADS, 128, BPH * 16);
	sfd = ret ? ret : kv_space(ctl, &c);
	if (sfd >= 0) {
		/* the window is 0: the plan is the hot set alone */
		struct cxl_kv_params p = { .mask = CXL_KV_PARAM_POLICY_FLAGS,
					   .policy_flags = CXL_KV_POLICY_F_PROTECT };

		ret = kv_ioctl(sfd, CXL_KV_PARAMS_SET, &p);
		mm = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE,
			  MAP_SHARED, sfd, 0);
	}
	if (mm != MAP_FAILED)
		fill(7);
	T("setup", sfd >= 0 && mm != MAP_FAILED && !ret, "space %d, ret %d",
	  sfd, ret);
	if (mm == MAP_FAILED) {
		while (ktap.n < NCASES)
			ktap_skip("kv_pipe", "no space");
		return ktap_finish();
	}

	case_args(&ring);
	case_plan();
	case_late();
	case_cancel();
	case_written();
	case_kill();
	case_close();

	io_uring_queue_exit(&ring);
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	kv_dm_remove(&dm);
	close(dm.ctl);
	splats = kernel_log_splats();
	T("detach_clean", !ret && splats <= 0, "detach %d, splats %d", ret,
	  splats);
	close(ctl);
	return ktap_finish();
}
