// SPDX-License-Identifier: GPL-2.0
/*
 * kv_stress - concurrency: threads and processes faulting, writing, hinting,
 * demoting, promoting and querying while the demotion worker runs under
 * pressure, every page verified; kill -9 of a process in the middle of its
 * I/O; uring_cmd PREFETCHes in flight (held by a dm "delay" cold tier) when
 * their submitting process is killed, when their ring is closed, and when
 * the killed process held the last reference to the space: no warning, the
 * completions still install every page intact, the space is freed once they
 * are done; then no leak (memory and slab counters before/after), unload
 * refused while a space fd is open, and the module unloads (and loads
 * again).
 */
#include <pthread.h>

#include "kv_test.h"
#include "kv_dm.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define BUDGET	256
#define LAYERS	2
#define HEADS	4
#define BPH	64		/* 1024 pages */
#define NWRITERS 4

static char *m;
static uint64_t npages;
static int sfd;
static double secs;
static volatile int stop;
static int errors[NWRITERS + 2];

/* Writer t owns pages pg % NWRITERS == t; rewrites and verifies them. */
static void *writer(void *arg)
{
	int t = (int)(intptr_t)arg;
	uint64_t *ver = calloc(npages, sizeof(*ver));
	unsigned int rnd = t * 7919 + 1;

	while (!stop) {
		uint64_t pg = (rand_r(&rnd) % (npages / NWRITERS)) * NWRITERS + t;
		uint64_t *p = (uint64_t *)(m + pg * KV_PAGE);

		if (ver[pg] && kv_check(p, ver[pg], pg)) {
			errors[t]++;
			ktap_diag("writer %d: page %llu lost version %llu", t,
				  (unsigned long long)pg, (unsigned long long)ver[pg]);
		}
		if (rand_r(&rnd) % 2) {
			ver[pg] = ver[pg] + 1 + t * 1000000;
			kv_fill(p, ver[pg], pg);
		}
	}
	for (uint64_t pg = t; pg < npages; pg += NWRITERS)
		if (ver[pg] && kv_check((uint64_t *)(m + pg * KV_PAGE), ver[pg], pg))
			errors[t]++;
	free(ver);
	return NULL;
}

/* Hints, access reports and residency queries at random. */
static void *hinter(void *arg)
{
	struct cxl_kv_hint h[64];
	unsigned int rnd = 42;
	uint64_t step = 1, bm[1];

	(void)arg;
	while (!stop) {
		struct cxl_kv_hints q = { .step = step++, .hints = (uintptr_t)h, .count = 64 };

		for (int i = 0; i < 64; i++)
			h[i] = (struct cxl_kv_hint){ .layer = rand_r(&rnd) % LAYERS,
						     .head = rand_r(&rnd) % HEADS,
						     .block = rand_r(&rnd) % BPH,
						     .score = rand_r(&rnd) % 65536 };
		if (kv_ioctl(sfd, CXL_KV_HINTS, &q))
			errors[NWRITERS]++;
		if (kv_ranges(sfd, CXL_KV_ACCESS, rand_r(&rnd) % LAYERS, 0, 0, BPH, NULL))
			errors[NWRITERS]++;
		if (kv_resident(sfd, 0, rand_r(&rnd) % HEADS, 0, 64, NULL, bm) < 0)
			errors[NWRITERS]++;
	}
	return NULL;
}

/* Explicit demotes, promotes, prefetches and pins at random. */
static void *mover(void *arg)
{
	unsigned int rnd = 7;
	uint64_t done;

	(void)arg;
	while (!stop) {
		int l = rand_r(&rnd) % LAYERS, h = rand_r(&rnd) % HEADS;
		uint32_t b = rand_r(&rnd) % (BPH - 8);
		int ret;

		switch (rand_r(&rnd) % 4) {
		case 0:
			ret = kv_ranges(sfd, CXL_KV_DEMOTE, l, h, b, 8, &done);
			break;
		case 1:
			ret = kv_ranges(sfd, CXL_KV_PROMOTE, l, h, b, 8, &done);
			break;
		case 2: {
			struct cxl_kv_prefetch pf = { .layer = l, .head_mask = 1u << h,
						      .pos = b * 16, .window = 64 };

			ret = kv_ioctl(sfd, CXL_KV_PREFETCH, &pf);
			break;
		}
		default:
			ret = kv_ranges(sfd, CXL_KV_PIN, l, h, b, 2, &done);
			ret = ret ?: kv_ranges(sfd, CXL_KV_UNPIN, l, h, b, 2, &done);
			break;
		}
		/* ENOMEM: no warm room within the wait; acceptable under stress */
		if (ret && ret != -ENOMEM)
			errors[NWRITERS + 1]++;
	}
	return NULL;
}

static int make_space(int ctl, struct cxl_kv_space_create *c)
{
	kv_geom(c, LAYERS, HEADS, 128, BPH * 16);
	return kv_space(ctl, c);
}

/* Child for the kill -9 case: its own space, I/O forever. */
static void io_forever(int ctl)
{
	struct cxl_kv_space_create c;
	int fd = make_space(ctl, &c);
	char *mm;
	uint64_t done;

	if (fd < 0)
		_exit(2);
	mm = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mm == MAP_FAILED)
		_exit(3);
	for (uint64_t seed = 1;; seed++) {
		for (uint64_t pg = 0; pg < c.mmap_bytes / KV_PAGE; pg++)
			kv_fill((uint64_t *)(mm + pg * KV_PAGE), seed, pg);
		for (int l = 0; l < LAYERS; l++)
			for (int h = 0; h < HEADS; h++)
				kv_ranges(fd, CXL_KV_DEMOTE, l, h, 0, BPH, &done);
		write(1, "", 0);
	}
}

/* ---- uring PREFETCH whose submitter dies, or whose ring is closed ------ */

/*
 * The cold tier is a dm "delay" device over CXLKV_NVME2 whose reads wait
 * HOLD_MS (writes do not wait): a read started by PREFETCH stays in flight
 * until the test switches the table to linear, whose resume flushes the
 * held reads at once.  So "in flight" is a state the test controls, not a
 * race it hopes to win.
 */
#define DM_NAME		"cxlkv_stress"
#define DM_SECTORS	(64ULL << 11)	/* 64 MiB */
#define HOLD_MS		10000
#define UC_LAYERS	2
#define UC_HEADS	4
#define UC_BPH		16
#define UC_PAGES	(2 * UC_LAYERS * UC_HEADS * UC_BPH)	/* 256 */
#define UC_NCMD		(UC_LAYERS * UC_HEADS)	/* a PREFETCH per (layer, head) */
#define NURING		8

static struct kv_dm dm;
static char dm_linear[64], dm_hold[96], dm_hold_w[96];
/* Static: a completion posted after its ring was closed still writes the
 * out fields back into the (living) submitter's memory. */
static struct cxl_kv_prefetch ucpf[UC_NCMD];

static void uc_fill(char *mm, uint64_t seed)
{
	for (uint64_t pg = 0; pg < UC_PAGES; pg++)
		kv_fill((uint64_t *)(mm + pg * KV_PAGE), seed, pg);
}

static uint64_t uc_bad(const char *mm, uint64_t seed)
{
	uint64_t bad = 0;

	for (uint64_t pg = 0; pg < UC_PAGES; pg++)
		bad += !!kv_check((const uint64_t *)(mm + pg * KV_PAGE), seed, pg);
	return bad;
}

static int uc_demote(int fd)
{
	uint64_t done;
	int ret = 0;

	for (int l = 0; l < UC_LAYERS; l++)
		for (int h = 0; h < UC_HEADS; h++)
			ret = ret ?: kv_ranges(fd, CXL_KV_DEMOTE, l, h, 0, UC_BPH, &done);
	return ret;
}

/* Blocks of the space with no cold (or being read) page. */
/* DEMOTE of (layer 0, head 0) in a thread, its writes held by the test. */
struct uc_demote_arg {
	int fd;
	int ret;
};

static void *uc_demote_thread(void *arg)
{
	struct uc_demote_arg *a = arg;

	a->ret = kv_ranges(a->fd, CXL_KV_DEMOTE, 0, 0, 0, UC_BPH, NULL);
	return NULL;
}

static int uc_resident(int fd)
{
	uint64_t bm[1];
	int n = 0, r;

	for (int l = 0; l < UC_LAYERS; l++)
		for (int h = 0; h < UC_HEADS; h++) {
			r = kv_resident(fd, l, h, 0, UC_BPH, NULL, bm);
			n += r > 0 ? r : 0;
		}
	return n;
}

/* Wait (at most @secs) until every block is resident; returns how many. */
static int uc_wait_resident(int fd, double tmo)
{
	double end = kv_now() + tmo;
	int n;

	while ((n = uc_resident(fd)) < UC_PAGES / 2 && kv_now() < end)
		usleep(10000);
	return n;
}

/* Submit a PREFETCH of every block of every (layer, head); returns how
 * many were submitted. */
static int uc_submit(struct io_uring *ring, int fd)
{
	for (int i = 0; i < UC_NCMD; i++) {
		ucpf[i] = (struct cxl_kv_prefetch){
			.layer = i / UC_HEADS, .head_mask = 1u << (i % UC_HEADS),
			.pos = 0, .window = UC_BPH * 16 };
		kv_prep_cmd(io_uring_get_sqe(ring), fd, CXL_KV_PREFETCH,
			    &ucpf[i], sizeof(ucpf[i]), i);
	}
	return io_uring_submit(ring);
}

/*
 * Wait (at most 10 s) until the warm tier holds @want pages: every
 * PREFETCH was issued and took its pages, so its reads went out.
 */
static uint64_t uc_wait_warm(int ctl, uint64_t want)
{
	struct cxl_kv_info info;
	double end = kv_now() + 10;

	do {
		kv_info(ctl, &info);
		if (info.warm_pages >= want)
			break;
		usleep(2000);
	} while (kv_now() < end);
	return info.warm_pages;
}

/*
 * A child that submits the PREFETCHes on its own ring, reports through
 * @wfd, and waits to be killed.
 */
static pid_t uc_child(int fd, int pfd[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		struct io_uring r;
		char ok = 'E';

		close(pfd[0]);
		if (!io_uring_queue_init(16, &r, 0) &&
		    uc_submit(&r, fd) == UC_NCMD)
			ok = 'S';
		if (write(pfd[1], &ok, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(pfd[1]);
	return pid;
}

static uint64_t uc_prefetched(int fd)
{
	struct cxl_kv_stats st;

	kv_stats(fd, CXL_KV_SPACE_STATS, &st);
	return st.prefetch_issued;
}

/*
 * NURING cases: PREFETCH uring_cmds in flight when (A) the submitting
 * process is killed, (B) the ring fd is closed, (C) the submitter is
 * killed holding the last reference to the space.  Leaves the module
 * attached to CXLKV_NVME and CXLKV_NVME2 again for the unload cases.
 */
static void uring_dying_cases(int ctl)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_info info;
	struct cxl_kv_stats g;
	struct cxl_kv_attach a;
	struct io_uring ring;
	char ok = 0;
	uint64_t p0, p1 = 0, warm = 0, bad;
	int emitted = ktap.n, fd = -1, ret, res, pfd[2], st2 = 0;
	pid_t pid;
	char *mm = MAP_FAILED;

	/* 1: the tier set again, with the delay device as its cold tier. */
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	res = kv_dm_over(&dm, DM_NAME, DM_SECTORS, kv_nvme2(), dm_linear,
			 sizeof(dm_linear), dm_hold, sizeof(dm_hold), HOLD_MS);
	if (res == -ENODEV) {
		kv_attach(ctl, BUDGET, 2, 32 << 20);	/* as it was */
		while (ktap.n < (unsigned int)emitted + NURING)
			ktap_skip("uring_dying", "no CXLKV_NVME2 or no device-mapper control");
		return;
	}
	/* writes held instead of reads */
	kv_dm_delay_table(dm_hold_w, sizeof(dm_hold_w), dm_linear, 0, HOLD_MS);
	ret = ret ?: res ?: kv_dm_switch(&dm, "delay", dm_hold);
	kv_attach_req(&a, 4 * UC_PAGES, 1, 0);	/* the worker stays idle */
	a.cold[0].path = (uintptr_t)dm.path;
	ret = ret ?: kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	kv_geom(&c, UC_LAYERS, UC_HEADS, 128, UC_BPH * 16);
	fd = ret ? ret : kv_space(ctl, &c);
	if (fd >= 0)
		mm = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fd, 0);
	if (mm != MAP_FAILED) {
		uc_fill(mm, 11);
		ret = uc_demote(fd);
	}
	kv_info(ctl, &info);
	T("uring_dm_delay_cold_tier", fd >= 0 && mm != MAP_FAILED && !ret &&
	  c.mmap_bytes == UC_PAGES * KV_PAGE && info.warm_pages == 0 &&
	  uc_resident(fd) == 0,
	  "fd %d, ret %d, warm %llu", fd, ret,
	  (unsigned long long)info.warm_pages);
	if (mm == MAP_FAILED || ret)
		goto out;

	/*
	 * 2-3 (A): the child is killed once all its reads are out; it is
	 * reaped with every read still held, and the completions that come
	 * after its death install every page: all resident, data intact.
	 */
	p0 = uc_prefetched(fd);
	pid = pipe(pfd) ? -1 : uc_child(fd, pfd);
	ok = 0;
	if (pid > 0 && read(pfd[0], &ok, 1) == 1 && ok == 'S')
		warm = uc_wait_warm(ctl, UC_PAGES);
	else
		warm = 0;
	if (pid > 0) {
		close(pfd[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &st2, 0);
	}
	p1 = uc_prefetched(fd);
	T("kill9_uring_prefetch_inflight", pid > 0 && ok == 'S' &&
	  warm == UC_PAGES && WIFSIGNALED(st2) && WTERMSIG(st2) == SIGKILL &&
	  p1 == p0,
	  "child %d said '%c', warm %llu of %d at the kill, status %x, installed before the reap %llu",
	  pid, ok ? ok : '-', (unsigned long long)warm, UC_PAGES, st2,
	  (unsigned long long)(p1 - p0));
	ret = kv_dm_switch(&dm, "linear", dm_linear);
	res = uc_wait_resident(fd, 5);
	p1 = uc_prefetched(fd);
	bad = uc_bad(mm, 11);
	T("kill9_prefetch_completes_after_death", !ret && res == UC_PAGES / 2 &&
	  p1 - p0 == UC_PAGES && !bad,
	  "switch %d, resident blocks %d of %d, installed %llu of %d, %llu bad pages",
	  ret, res, UC_PAGES / 2, (unsigned long long)(p1 - p0), UC_PAGES,
	  (unsigned long long)bad);

	/*
	 * 4 (B): the submitter lives but closes its ring with the reads held:
	 * the completions still install every page.
	 */
	ret = kv_dm_switch(&dm, "delay", dm_hold);
	ret = ret ?: uc_demote(fd);
	p0 = uc_prefetched(fd);
	res = -1;
	if (!ret && !io_uring_queue_init(16, &ring, 0)) {
		res = uc_submit(&ring, fd);
		warm = uc_wait_warm(ctl, UC_PAGES);
		io_uring_queue_exit(&ring);
		p1 = uc_prefetched(fd);
		ret = kv_dm_switch(&dm, "linear", dm_linear);
	}
	{
		int resd = uc_wait_resident(fd, 5);
		uint64_t p2 = uc_prefetched(fd);

		bad = uc_bad(mm, 11);
		T("ring_closed_prefetch_pending", !ret && res == UC_NCMD &&
		  warm == UC_PAGES && p1 == p0 && resd == UC_PAGES / 2 &&
		  p2 - p0 == UC_PAGES && !bad,
		  "ret %d, submitted %d, warm %llu at the close, installed %llu before the flush and %llu after, resident blocks %d, %llu bad pages",
		  ret, res, (unsigned long long)warm,
		  (unsigned long long)(p1 - p0), (unsigned long long)(p2 - p0),
		  resd, (unsigned long long)bad);
	}

	/*
	 * 5 (D): a PIN of blocks whose write-back is in flight (writes held)
	 * keeps them warm: the demoter checks the pins again when the writes
	 * complete, because PIN moved kv_space.pins meanwhile.
	 */
	{
		struct cxl_kv_residency rs;
		struct cxl_kv_stats s0, s1;
		struct uc_demote_arg da = { .fd = fd };
		uint64_t bm[1] = { 0 }, pinned = 0;
		pthread_t dt;
		int started;

		ret = kv_dm_switch(&dm, "delay", dm_hold_w);
		uc_fill(mm, 12);
		kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
		started = !ret && !pthread_create(&dt, NULL, uc_demote_thread, &da);
		if (started) {
			usleep(300000);	/* the DEMOTE's writes are held by now */
			ret = kv_ranges(fd, CXL_KV_PIN, 0, 0, 0, 4, &pinned);
			ret = kv_dm_switch(&dm, "linear", dm_linear) ?: ret;
			pthread_join(dt, NULL);
		}
		kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
		res = kv_resident(fd, 0, 0, 0, UC_BPH, &rs, bm);
		bad = uc_bad(mm, 12);
		T("pin_during_writeback_stays_warm", started && !ret && !da.ret &&
		  pinned == 4 && rs.nr_pinned == 4 && res == 4 && bm[0] == 0xf &&
		  rs.nr_cold == UC_BPH - 4 && s1.wb_aborts - s0.wb_aborts == 8 && !bad,
		  "PIN %d (%llu), DEMOTE %d, pinned %u, resident %d (bitmap %llx), cold %u, aborts %llu, %llu bad pages",
		  ret, (unsigned long long)pinned, da.ret, rs.nr_pinned, res,
		  (unsigned long long)bm[0], rs.nr_cold,
		  (unsigned long long)(s1.wb_aborts - s0.wb_aborts),
		  (unsigned long long)bad);
		kv_ranges(fd, CXL_KV_UNPIN, 0, 0, 0, 4, NULL);
	}

	/*
	 * 6-7 (C): the child holds the last reference (the parent unmapped
	 * and closed the space) and is killed with its reads held: the space
	 * outlives it while they are in flight, and is freed, all of it,
	 * once they complete.
	 */
	ret = kv_dm_switch(&dm, "delay", dm_hold);
	ret = ret ?: uc_demote(fd);
	pid = ret || pipe(pfd) ? -1 : uc_child(fd, pfd);
	munmap(mm, c.mmap_bytes);
	mm = MAP_FAILED;
	close(fd);
	fd = -1;
	ok = 0;
	warm = 0;
	st2 = 0;
	if (pid > 0 && read(pfd[0], &ok, 1) == 1 && ok == 'S')
		warm = uc_wait_warm(ctl, UC_PAGES);
	if (pid > 0) {
		close(pfd[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &st2, 0);
	}
	kv_info(ctl, &info);
	T("kill9_last_ref_space_outlives", pid > 0 && ok == 'S' &&
	  warm == UC_PAGES && WIFSIGNALED(st2) && info.nr_spaces == 1,
	  "child %d said '%c', warm %llu, status %x, spaces %u", pid,
	  ok ? ok : '-', (unsigned long long)warm, st2, info.nr_spaces);
	ret = kv_dm_switch(&dm, "linear", dm_linear);
	for (double end = kv_now() + 5; kv_now() < end; usleep(10000)) {
		kv_info(ctl, &info);
		if (!info.nr_spaces)
			break;
	}
	kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g);
	T("kill9_last_ref_freed", !ret && info.nr_spaces == 0 &&
	  info.warm_pages == 0 && info.cold_used == 0 && g.warm_pages == 0 &&
	  g.cold_pages == 0,
	  "switch %d, spaces %u, warm %llu, cold slots %llu, global gauges warm %llu cold %llu",
	  ret, info.nr_spaces, (unsigned long long)info.warm_pages,
	  (unsigned long long)info.cold_used, (unsigned long long)g.warm_pages,
	  (unsigned long long)g.cold_pages);

out:
	if (mm != MAP_FAILED)
		munmap(mm, c.mmap_bytes);
	if (fd >= 0)
		close(fd);
	/* 8: detach, remove the dm device, attach both NVMe again. */
	kv_dm_switch(&dm, "linear", dm_linear);	/* flush anything held */
	for (double end = kv_now() + 5; kv_now() < end; usleep(10000)) {
		kv_info(ctl, &info);
		if (!info.nr_spaces)
			break;
	}
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	res = kv_dm_remove(&dm);
	close(dm.ctl);
	while (ktap.n < (unsigned int)emitted + NURING - 1)
		ktap_result(0, "uring_dying_not_reached");
	{
		int ra = kv_attach(ctl, BUDGET, 2, 32 << 20);

		T("uring_dm_detach_reattach", !ret && !res && !ra,
		  "DETACH %d, DM_DEV_REMOVE %d, ATTACH %d", ret, res, ra);
	}
}

int main(int argc, char **argv)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_stats st;
	struct cxl_kv_info info;
	pthread_t th[NWRITERS + 2];
	long busy0, busy1, slab0, slab1;
	int ctl, ret, bad;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	secs = argc > 1 ? atof(argv[1]) : (kv_is_cxl() ? 3 : 5);
	ktap_plan(13 + NURING);
	kv_detach_quiet(ctl);
	busy0 = kv_node_busy_kb(kv_warm_node());
	slab0 = kv_meminfo("/proc/meminfo", "SUnreclaim");
	ret = kv_attach(ctl, BUDGET, 2, 32 << 20);
	T("attach", ret == 0, "ret %d", ret);
	sfd = make_space(ctl, &c);
	npages = c.mmap_bytes / KV_PAGE;
	m = sfd < 0 ? MAP_FAILED : mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE,
					MAP_SHARED, sfd, 0);
	if (m == MAP_FAILED)
		return ktap_finish();

	/* threads */
	for (int t = 0; t < NWRITERS; t++)
		pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t);
	pthread_create(&th[NWRITERS], NULL, hinter, NULL);
	pthread_create(&th[NWRITERS + 1], NULL, mover, NULL);
	usleep((useconds_t)(secs * 1e6));
	stop = 1;
	for (int t = 0; t < NWRITERS + 2; t++)
		pthread_join(th[t], NULL);
	bad = 0;
	for (int t = 0; t < NWRITERS; t++)
		bad += errors[t];
	kv_stats(sfd, CXL_KV_SPACE_STATS, &st);
	ktap_diag("threads %.1fs: zero %llu warm %llu cold %llu demo %llu drops %llu wb_aborts %llu waits %llu fails %llu",
		  secs, (unsigned long long)st.faults_zero, (unsigned long long)st.faults_warm,
		  (unsigned long long)st.faults_cold, (unsigned long long)st.demotions,
		  (unsigned long long)st.clean_drops, (unsigned long long)st.wb_aborts,
		  (unsigned long long)st.alloc_waits, (unsigned long long)st.alloc_fails);
	T("threads_data_intact", bad == 0, "%d lost pages", bad);
	T("threads_commands_ok", errors[NWRITERS] == 0 && errors[NWRITERS + 1] == 0,
	  "hinter %d mover %d", errors[NWRITERS], errors[NWRITERS + 1]);
	T("threads_demotion_ran", st.demotions > 0 && st.faults_cold > 0, "-");

	/* processes sharing the mapping (fork) while the parent demotes */
	stop = 0;
	{
		pid_t pids[2];
		int ok = 0, st2;
		double end = kv_now() + secs / 2;

		for (int i = 0; i < 2; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				stop = 0;
				memset(errors, 0, sizeof(errors));
				pthread_create(&th[0], NULL, writer, (void *)(intptr_t)i);
				pthread_create(&th[1], NULL, writer, (void *)(intptr_t)(i + 2));
				usleep((useconds_t)(secs / 2 * 1e6));
				stop = 1;
				pthread_join(th[0], NULL);
				pthread_join(th[1], NULL);
				_exit(errors[i] + errors[i + 2] ? 1 : 0);
			}
		}
		while (kv_now() < end) {
			uint64_t done;

			for (int l = 0; l < LAYERS; l++)
				kv_ranges(sfd, CXL_KV_DEMOTE, l, rand() % HEADS, 0, BPH, &done);
		}
		for (int i = 0; i < 2; i++) {
			waitpid(pids[i], &st2, 0);
			ok += WIFEXITED(st2) && WEXITSTATUS(st2) == 0;
		}
		T("processes_data_intact", ok == 2, "%d of 2 children ok", ok);
	}
	munmap(m, c.mmap_bytes);
	close(sfd);

	/* kill -9 in the middle of I/O */
	{
		pid_t pid = fork();
		int st2;

		if (pid == 0)
			io_forever(ctl);
		usleep(kv_is_cxl() ? 1500000 : 500000);
		kv_stats(ctl, CXL_KV_GLOBAL_STATS, &st);
		kill(pid, SIGKILL);
		waitpid(pid, &st2, 0);
		T("kill9_during_io", WIFSIGNALED(st2) && WTERMSIG(st2) == SIGKILL, "status %x", st2);
	}
	kv_info(ctl, &info);
	T("no_leak_after_kill", info.nr_spaces == 0 && info.warm_pages == 0 &&
	  info.cold_used == 0, "spaces %u warm %llu cold %llu", info.nr_spaces,
	  (unsigned long long)info.warm_pages, (unsigned long long)info.cold_used);

	/* uring PREFETCH in flight while its submitter dies or closes its ring */
	uring_dying_cases(ctl);

	/* unload: refused while a space fd is open, fine after */
	{
		struct cxl_kv_space_create c2;
		int fd = make_space(ctl, &c2);

		close(ctl);
		ret = system("rmmod cxl_kv 2>/dev/null");
		T("unload_refused_with_space_open", fd >= 0 && ret != 0 &&
		  access("/dev/cxl_kv", F_OK) == 0, "fd %d rmmod %d", fd, ret);
		close(fd);
	}
	/* attached but idle: module exit detaches */
	ret = system("rmmod cxl_kv");
	T("unload_with_tiers_attached", ret == 0 && access("/dev/cxl_kv", F_OK) != 0,
	  "rmmod %d", ret);
	busy1 = kv_node_busy_kb(kv_warm_node());
	slab1 = kv_meminfo("/proc/meminfo", "SUnreclaim");
	ktap_diag("warm node busy %ld -> %ld kB, SUnreclaim %ld -> %ld kB", busy0, busy1,
		  slab0, slab1);
	T("leak_warm_node", busy1 - busy0 < 512, "%ld kB more", busy1 - busy0);
	T("leak_slab", slab1 - slab0 < 2048, "%ld kB more", slab1 - slab0);
	ret = system("modprobe cxl_kv");
	T("reload", ret == 0 && access("/dev/cxl_kv", F_OK) == 0, "modprobe %d", ret);
	{
		int c3 = kv_open_ctl();

		ret = kv_info(c3, &info);
		T("reload_clean_state", c3 >= 0 && ret == 0 && !info.attached, "-");
		if (c3 >= 0)
			close(c3);
	}
	return ktap_finish();
}
