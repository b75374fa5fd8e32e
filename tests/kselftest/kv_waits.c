// SPDX-License-Identifier: GPL-2.0
/*
 * kv_waits - no wait in the module lasts beyond what it waits for:
 *
 *   - PROMOTE of more cold pages than the warm budget fails at once with
 *     -ENOSPC (it used to wait 10 s per page: minutes);
 *   - PROMOTE and PREFETCH stop at the first warm allocation that fails
 *     (-ENOMEM after one wait for room, not one per page);
 *   - a process blocked in a fault on a page being read (held in a dm
 *     "delay" cold device) dies promptly on SIGKILL, whether it started the
 *     read or waits for another's, and its mmap lock is not held meanwhile
 *     (another thread can mmap/munmap);
 *   - PROMOTE of a huge range with nothing cold allocates next to nothing
 *     (it used to allocate 40 bytes per page: 160 MiB for 2^22 pages).
 *
 * Every timed command runs in a child that is killed after LIMIT_S, so the
 * old behaviour fails the case instead of hanging the suite.
 */
#include <pthread.h>
#include "kv_test.h"
#include "kv_dm.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define BPH		512		/* 1 layer x 1 head: 1024 pages */
#define NPG		(2 * BPH)
#define BUDGET		256
#define LIMIT_S		20.0		/* a bounded wait ends well before */
#define KILL_S		5.0		/* a killed task is gone by then */
#define HOLD_MS		30000
#define DM_NAME		"cxlkv_waits"
#define DM_SECTORS	(16ULL << 11)	/* 16 MiB */
#define NCASES		10

static struct kv_dm dm;
static char dm_linear[64], dm_hold[96];
static char *mm;
static int sfd;

/* ---- a command in a child, killed after a limit ------------------------ */

struct timed {
	int ret;	/* the command's result, or 1 when killed */
	double secs;	/* until it returned or was killed */
	int killed;
};

/*
 * Run @fn(@arg) in a child; it reports its result through a pipe.  After
 * @limit seconds the child is killed.
 */
static struct timed run_timed(int (*fn)(void *), void *arg, double limit)
{
	struct timed t = { .ret = 1 };
	double t0 = kv_now();
	int pfd[2], st;
	pid_t pid;

	if (pipe(pfd))
		return t;
	pid = fork();
	if (!pid) {
		int r = fn(arg);

		(void)!write(pfd[1], &r, sizeof(r));
		_exit(0);
	}
	close(pfd[1]);
	for (;;) {
		struct timeval tv = { 0, 50000 };
		fd_set rs;

		FD_ZERO(&rs);
		FD_SET(pfd[0], &rs);
		if (select(pfd[0] + 1, &rs, NULL, NULL, &tv) > 0) {
			if (read(pfd[0], &t.ret, sizeof(t.ret)) != sizeof(t.ret))
				t.ret = 1;
			break;
		}
		if (kv_now() - t0 > limit) {
			t.killed = 1;
			kill(pid, SIGKILL);
			break;
		}
	}
	t.secs = kv_now() - t0;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	return t;
}

struct rng {
	unsigned long cmd;
	uint32_t first, n;
};

static int do_ranges(void *arg)
{
	struct rng *r = arg;

	return kv_ranges(sfd, r->cmd, 0, 0, r->first, r->n, NULL);
}

static int do_prefetch(void *arg)
{
	struct cxl_kv_prefetch p = { .layer = 0, .head_mask = 1,
				     .flags = CXL_KV_PREFETCH_F_WAIT };
	struct rng *r = arg;

	p.pos = (uint64_t)(r->first + r->n / 2) * 16;
	p.window = (uint64_t)(r->n / 2) * 16;
	return kv_ioctl(sfd, CXL_KV_PREFETCH, &p);
}

static void fill(uint64_t pg, uint64_t seed)
{
	kv_fill_stride((volatile uint64_t *)(mm + pg * KV_PAGE), seed, pg, 1);
}

/* ---- promotion limits ---------------------------------------------------- */

static void case_promote_over_budget(void)
{
	struct rng r = { CXL_KV_PROMOTE, 0, 300 };	/* 600 cold pages */
	struct timed t = run_timed(do_ranges, &r, LIMIT_S);

	ktap_diag("PROMOTE over budget: %d after %.2f s", t.ret, t.secs);
	T("promote_over_budget_enospc", !t.killed && t.ret == -ENOSPC &&
	  t.secs < LIMIT_S, "PROMOTE of 600 cold pages into %d: %d after %.1f s%s",
	  BUDGET, t.ret, t.secs, t.killed ? " (killed)" : "");
}

/*
 * 200 pages pinned warm out of a 256-page budget: a PROMOTE of 128 cold
 * pages fits only partly and must stop at the first failed allocation.
 */
static void case_promote_alloc_fail(void)
{
	struct rng r = { CXL_KV_PROMOTE, 0, 64 };
	struct timed t, p;
	uint64_t done = 0;
	int pin;

	pin = kv_ranges(sfd, CXL_KV_PIN, 0, 0, 400, 100, &done);
	t = run_timed(do_ranges, &r, LIMIT_S);
	ktap_diag("PROMOTE into a pinned-full budget: %d after %.2f s", t.ret, t.secs);
	T("promote_stops_at_alloc_failure", !pin && !t.killed &&
	  t.ret == -ENOMEM && t.secs < LIMIT_S,
	  "PIN %d (%llu), PROMOTE %d after %.1f s%s", pin,
	  (unsigned long long)done, t.ret, t.secs, t.killed ? " (killed)" : "");
	kv_ranges(sfd, CXL_KV_DEMOTE, 0, 0, 0, 64, NULL);
	p = run_timed(do_prefetch, &r, LIMIT_S);
	ktap_diag("PREFETCH into a pinned-full budget: %d after %.2f s", p.ret, p.secs);
	T("prefetch_stops_at_alloc_failure", !p.killed && p.ret == -ENOMEM &&
	  p.secs < LIMIT_S, "PREFETCH %d after %.1f s%s", p.ret, p.secs,
	  p.killed ? " (killed)" : "");
	kv_ranges(sfd, CXL_KV_UNPIN, 0, 0, 400, 100, NULL);
	kv_ranges(sfd, CXL_KV_DEMOTE, 0, 0, 0, BPH, NULL);
}

/* ---- faults on a page whose read is held --------------------------------- */

static volatile uint64_t sink;

static int do_touch(void *arg)
{
	uint64_t pg = *(uint64_t *)arg;

	sink = *(volatile uint64_t *)(mm + pg * KV_PAGE);
	return 0;
}

/* Fork a child that touches @pg; it blocks in the fault. */
static pid_t touch_child(uint64_t pg)
{
	pid_t pid = fork();

	if (!pid) {
		do_touch(&pg);
		_exit(0);
	}
	return pid;
}

/* SIGKILL @pid and wait; returns the seconds until it was gone. */
static double kill_wait(pid_t pid)
{
	double t0 = kv_now();
	int st;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return kv_now() - t0;
}

static int hold(int on)
{
	return kv_dm_switch(&dm, on ? "delay" : "linear", on ? dm_hold : dm_linear);
}

/*
 * A child faulting on a cold page whose read is held, killed; then a child
 * waiting for another's held read of a page, killed (apart, so that neither
 * outlasts the hold for the other).
 */
static void case_fault_kill(void)
{
	double ka, kb;
	pid_t a, b;
	int h, uh, h2, uh2;

	h = hold(1);
	a = touch_child(300);
	usleep(500 * 1000);
	ka = kill_wait(a);
	uh = hold(0);	/* the held read completes */

	h2 = hold(1);
	a = touch_child(302);
	usleep(500 * 1000);
	b = touch_child(302);
	usleep(500 * 1000);
	kb = kill_wait(b);
	kill_wait(a);
	uh2 = hold(0);
	ktap_diag("SIGKILL to exit: reader %.2f s, waiter %.2f s", ka, kb);
	T("fault_reader_killed_promptly", !h && !uh && ka < KILL_S,
	  "reader gone %.1f s after SIGKILL (the read is held %d s)", ka,
	  HOLD_MS / 1000);
	T("fault_waiter_killed_promptly", !h2 && !uh2 && kb < KILL_S,
	  "waiter gone %.1f s after SIGKILL", kb);
	T("fault_after_kill_reads_data",
	  !kv_check_stride((volatile uint64_t *)(mm + 300 * KV_PAGE), 7, 300, 1) &&
	  !kv_check_stride((volatile uint64_t *)(mm + 302 * KV_PAGE), 7, 302, 1),
	  "pages 300, 302");
}

struct mm_probe {
	uint64_t pg;
	double secs;
};

static void *mm_toucher(void *arg)
{
	do_touch(&((struct mm_probe *)arg)->pg);
	return NULL;
}

/*
 * A thread faults on a held read; another thread of the same process maps
 * and unmaps memory (mmap lock for writing): that must not wait for the
 * read.  Returns the mmap+munmap time in ms, or -1.
 */
static int do_mmap_probe(void *arg)
{
	struct mm_probe *p = arg;
	pthread_t th;
	double t0;
	void *x;

	pthread_create(&th, NULL, mm_toucher, p);
	usleep(500 * 1000);
	t0 = kv_now();
	x = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x == MAP_FAILED)
		return -1;
	munmap(x, 1 << 20);
	return (int)((kv_now() - t0) * 1000);
}

static void case_fault_mmap_lock(void)
{
	struct mm_probe p = { .pg = 301 };
	struct timed t;
	int h, uh;

	h = hold(1);
	t = run_timed(do_mmap_probe, &p, LIMIT_S);
	uh = hold(0);
	ktap_diag("mmap+munmap beside a held fault: %d ms", t.ret);
	T("fault_on_held_read_drops_mmap_lock", !h && !uh && !t.killed &&
	  t.ret >= 0 && t.ret < KILL_S * 1000,
	  "mmap+munmap beside the fault took %d ms%s", t.ret,
	  t.killed ? " (killed)" : "");
	T("fault_after_held_read_data",
	  !kv_check_stride((volatile uint64_t *)(mm + 301 * KV_PAGE), 7, 301, 1),
	  "page 301");
}

/* ---- allocation proportional to the work --------------------------------- */

struct vm_poll {
	volatile int stop;
	long peak;
};

static void *vm_poller(void *arg)
{
	struct vm_poll *v = arg;

	while (!v->stop) {
		long kb = kv_meminfo("/proc/meminfo", "VmallocUsed");

		if (kb > v->peak)
			v->peak = kb;
		usleep(500);
	}
	return NULL;
}

/*
 * A space of the largest size, nothing cold: a PROMOTE of all of it may
 * allocate the page list of the range (cmd.c: 8 bytes a page, 32 MiB) but
 * no per-page batch (40 bytes a page, 160 MiB).
 */
static void case_promote_allwarm_alloc(int ctl)
{
	struct cxl_kv_space_create c;
	struct vm_poll v = { 0 };
	long base;
	pthread_t th;
	uint64_t done = 0;
	int fd, ret = -1;

	kv_geom(&c, 1, 1, 128, (uint64_t)CXL_KV_MAX_SPACE_PAGES / 2 * 16);
	fd = kv_space(ctl, &c);
	base = kv_meminfo("/proc/meminfo", "VmallocUsed");
	v.peak = base;
	if (fd >= 0) {
		struct cxl_kv_range rg = { .nr_blocks = CXL_KV_MAX_SPACE_PAGES / 2 };
		struct cxl_kv_ranges q = { .ranges = (uintptr_t)&rg, .count = 1 };

		pthread_create(&th, NULL, vm_poller, &v);
		usleep(20 * 1000);
		/* The largest range the module takes in one command. */
		while ((ret = kv_ioctl(fd, CXL_KV_PROMOTE, &q)) == -E2BIG &&
		       rg.nr_blocks > 1)
			rg.nr_blocks /= 2;
		done = q.done;
		if (rg.nr_blocks != CXL_KV_MAX_SPACE_PAGES / 2)
			ktap_diag("PROMOTE took at most %u blocks", rg.nr_blocks);
		v.stop = 1;
		pthread_join(th, NULL);
		close(fd);
	}
	ktap_diag("PROMOTE of a 2^24-page space, nothing cold: VmallocUsed peak +%ld kB",
		  v.peak - base);
	T("promote_nothing_cold_allocates_little", fd >= 0 && !ret && !done &&
	  v.peak - base < 64 * 1024,
	  "space %d, PROMOTE of %llu pages %d (done %llu): VmallocUsed peak +%ld kB",
	  fd, (unsigned long long)CXL_KV_MAX_SPACE_PAGES, ret,
	  (unsigned long long)done, v.peak - base);
}

int main(void)
{
	struct cxl_kv_space_create c;
	int ctl, ret, splats;

	ret = kv_preamble(&ctl);
	if (ret == -1)
		return ktap_skip_all("no /dev/cxl_kv");
	if (ret == -2)
		return ktap_skip_all("no CXLKV_WARM_NODE");
	if (ret)
		return ktap_skip_all("cannot open /dev/cxl_kv");
	kv_detach_quiet(ctl);
	ret = kv_dm_over(&dm, DM_NAME, DM_SECTORS, kv_nvme2(),
			 dm_linear, sizeof(dm_linear), dm_hold, sizeof(dm_hold),
			 HOLD_MS);
	if (kv_dm_why(ret))
		return ktap_skip_all(kv_dm_why(ret));
	ktap_plan(NCASES);

	ret = kv_attach_path(ctl, BUDGET, dm.path);
	kv_geom(&c, 1, 1, 128, BPH * 16);
	sfd = ret ? ret : kv_space(ctl, &c);
	mm = sfd < 0 ? MAP_FAILED : mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE,
					  MAP_SHARED, sfd, 0);
	if (mm != MAP_FAILED) {
		for (uint64_t pg = 0; pg < NPG; pg++)
			fill(pg, 7);
		ret = kv_ranges(sfd, CXL_KV_DEMOTE, 0, 0, 0, BPH, NULL);
	}
	T("setup", sfd >= 0 && mm != MAP_FAILED && !ret, "space %d, DEMOTE %d",
	  sfd, ret);
	if (mm == MAP_FAILED) {
		while (ktap.n < NCASES)
			ktap_skip("kv_waits", "no space");
		return ktap_finish();
	}

	case_promote_over_budget();
	case_promote_alloc_fail();
	case_fault_kill();
	case_fault_mmap_lock();
	case_promote_allwarm_alloc(ctl);

	munmap(mm, c.mmap_bytes);
	close(sfd);
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	kv_dm_remove(&dm);
	close(dm.ctl);
	splats = kernel_log_splats();
	if (ret || splats > 0)
		ktap_diag("detach %d, splats %d", ret, splats);
	close(ctl);
	return ktap_finish();
}
