// SPDX-License-Identifier: GPL-2.0
/*
 * kv_gup - demotion of pages that something outside the space references:
 * DMA pins (O_DIRECT read(2) into the mapping, process_vm_writev from
 * another process), plain GUP references (vmsplice) and mlock'ed ranges,
 * while a DEMOTE or the demotion worker runs.  A demotion that wrote such a
 * page back and let it go would lose what arrives through the reference
 * (the next fault reads the stale copy); such pages must stay warm and be
 * counted in gup_kept.  Every byte of the space is checked afterwards
 * against what was written to it (data oracle).
 *
 * The O_DIRECT reads come from a dm "delay" device over CXLKV_NVME2 that
 * holds reads for HOLD_MS: the pages stay pinned that long, so the DEMOTE
 * (or the worker) certainly runs while the DMA is pending.
 */
#include <pthread.h>
#include <sys/uio.h>
#include "kv_test.h"
#include "kv_dm.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define BPH		1024		/* 1 layer x 1 head: 2048 pages */
#define NPG		(2 * BPH)
#define BUDGET		1024
#define RD_BLK		256		/* O_DIRECT target: K pages of blocks */
#define RD_N		64		/* [RD_BLK, RD_BLK + RD_N) */
#define HOLD_MS		1500
#define DM_NAME		"cxlkv_gup"
#define DM_SECTORS	(16ULL << 11)	/* 16 MiB */
#define NCASES		9

static struct kv_dm dm;
static char dm_linear[64];
static char *mm;
static int sfd;
static uint64_t want[NPG];	/* the oracle: seed of each page, 0 = zero */

static void fill_page(uint64_t pg, uint64_t seed)
{
	kv_fill_stride((volatile uint64_t *)(mm + pg * KV_PAGE), seed, pg, 1);
	want[pg] = seed;
}

/*
 * Pages whose contents differ from the oracle; the first few are printed,
 * all are rewritten with what they should hold.
 */
static int check_all(const char *what)
{
	int bad = 0;

	for (uint64_t pg = 0; pg < NPG; pg++) {
		const volatile uint64_t *p = (const uint64_t *)(mm + pg * KV_PAGE);
		uint64_t w = want[pg] ? kv_check_stride(p, want[pg], pg, 1) :
			     (p[0] || p[511]);

		if (!w)
			continue;
		if (bad++ < 4)
			ktap_diag("%s: page %llu word %llu: %016llx", what,
				  (unsigned long long)pg,
				  (unsigned long long)w - 1,
				  (unsigned long long)p[w - 1]);
		/* Rewritten, so that the next case counts only its own. */
		if (want[pg])
			fill_page(pg, want[pg]);
		else
			memset(mm + pg * KV_PAGE, 0, KV_PAGE);
	}
	if (bad)
		ktap_diag("%s: %d of %d pages wrong", what, bad, NPG);
	return bad;
}

static uint64_t gup_kept(void)
{
	struct cxl_kv_stats st;

	kv_stats(sfd, CXL_KV_SPACE_STATS, &st);
	return st.gup_kept;
}

/* ---- O_DIRECT read into the mapping, held in the dm device --------------- */

static int dmfd = -1;

struct dio {
	pthread_t th;
	char *dst;
	size_t len;
	off_t off;
	ssize_t ret;
};

static void *dio_run(void *arg)
{
	struct dio *d = arg;

	d->ret = pread(dmfd, d->dst, d->len, d->off);
	if (d->ret < 0)
		d->ret = -errno;
	return NULL;
}

/* Device page i (from 0) holds kv_pat(seed, RD_BLK + i, w): the data the
 * read delivers to mapping page RD_BLK + i. */
static int dev_prepare(uint64_t seed)
{
	void *buf;
	int ret = 0;

	if (posix_memalign(&buf, KV_PAGE, RD_N * KV_PAGE))
		return -ENOMEM;
	for (int i = 0; i < RD_N; i++)
		kv_fill_stride((uint64_t *)((char *)buf + i * KV_PAGE), seed,
			       RD_BLK + i, 1);
	if (pwrite(dmfd, buf, RD_N * KV_PAGE, 0) != (ssize_t)(RD_N * KV_PAGE))
		ret = -EIO;
	free(buf);
	return ret;
}

static void dio_start(struct dio *d)
{
	d->dst = mm + RD_BLK * KV_PAGE;
	d->len = RD_N * KV_PAGE;
	d->off = 0;
	d->ret = 0;
	pthread_create(&d->th, NULL, dio_run, d);
	/* The pages are pinned when the bio reaches the delay target. */
	usleep(500 * 1000);
}

static void dio_done(struct dio *d, uint64_t seed)
{
	pthread_join(d->th, NULL);
	if (d->ret == (ssize_t)(RD_N * KV_PAGE))
		for (int i = 0; i < RD_N; i++)
			want[RD_BLK + i] = seed;
}

static int setup_dm(void)
{
	char tbl[128];
	int ret;

	ret = kv_dm_over(&dm, DM_NAME, DM_SECTORS, kv_nvme2(), dm_linear,
			 sizeof(dm_linear), tbl, sizeof(tbl), HOLD_MS);
	ret = ret ?: kv_dm_switch(&dm, "delay", tbl);
	if (ret)
		return ret;
	dmfd = open(dm.path, O_RDWR | O_DIRECT | O_CLOEXEC);
	return dmfd < 0 ? -errno : 0;
}

/* 1: DEMOTE of blocks whose K pages an O_DIRECT read is filling. */
static void case_odirect_demote(void)
{
	uint64_t g0 = gup_kept(), done = 0;
	struct dio d;
	int ret, prep, bad;

	prep = dev_prepare(101);
	/* Warm and mapped writable, so the read pins them at once. */
	for (int i = 0; i < RD_N; i++)
		fill_page(RD_BLK + i, 100);
	dio_start(&d);
	ret = kv_ranges(sfd, CXL_KV_DEMOTE, 0, 0, RD_BLK, RD_N, &done);
	dio_done(&d, 101);
	bad = check_all("odirect_demote");
	T("odirect_read_during_demote", !prep && !ret &&
	  d.ret == (ssize_t)(RD_N * KV_PAGE) && !bad && gup_kept() > g0,
	  "prep %d, DEMOTE %d (done %llu), read %zd, %d pages wrong, gup_kept +%llu",
	  prep, ret, (unsigned long long)done, d.ret, bad,
	  (unsigned long long)(gup_kept() - g0));
}

/* 2: the demotion worker runs (writes past the budget) during the read. */
static void case_odirect_worker(void)
{
	uint64_t g0 = gup_kept();
	struct cxl_kv_stats s0, s1;
	struct dio d;
	int prep, bad;

	kv_stats(sfd, CXL_KV_SPACE_STATS, &s0);
	prep = dev_prepare(202);
	dio_start(&d);
	/* Everything but the read's pages, twice the budget: the older
	 * pages (the read's among them) must go cold meanwhile. */
	for (uint64_t pg = 0; pg < NPG; pg++)
		if (pg < RD_BLK || pg >= RD_BLK + RD_N)
			fill_page(pg, 203);
	dio_done(&d, 202);
	kv_stats(sfd, CXL_KV_SPACE_STATS, &s1);
	bad = check_all("odirect_worker");
	T("odirect_read_during_worker", !prep &&
	  d.ret == (ssize_t)(RD_N * KV_PAGE) && !bad &&
	  s1.demotions + s1.clean_drops > s0.demotions + s0.clean_drops,
	  "prep %d, read %zd, %d pages wrong, demoted %llu, gup_kept +%llu",
	  prep, d.ret, bad,
	  (unsigned long long)(s1.demotions + s1.clean_drops -
			       s0.demotions - s0.clean_drops),
	  (unsigned long long)(gup_kept() - g0));
	ktap_diag("worker case: gup_kept +%llu", (unsigned long long)(gup_kept() - g0));
}

/* ---- process_vm_writev from another process ------------------------------ */

#define PVM_ROUNDS	200
#define PVM_PAGES	32

/*
 * A child writes PVM_ROUNDS rounds of a pattern (seed 1000 + round) into
 * PVM_PAGES pages of our mapping with process_vm_writev while we DEMOTE
 * them over and over; afterwards they must hold the last round.
 */
static void case_pvm_writev(void)
{
	uint64_t first = 512, g0 = gup_kept(), demotes = 0;
	int status = 0, bad, perr = 0;
	pid_t parent = getpid(), pid;
	int pfd[2];

	if (pipe(pfd)) {
		T("process_vm_writev_during_demote", 0, "pipe: %d", errno);
		return;
	}
	pid = fork();
	if (!pid) {
		char *buf = aligned_alloc(KV_PAGE, PVM_PAGES * KV_PAGE);
		int err = 0;

		for (int r = 1; r <= PVM_ROUNDS && buf && !err; r++) {
			struct iovec l = { buf, PVM_PAGES * KV_PAGE };
			struct iovec rm = { mm + first * KV_PAGE, PVM_PAGES * KV_PAGE };

			for (int i = 0; i < PVM_PAGES; i++)
				kv_fill_stride((uint64_t *)(buf + i * KV_PAGE),
					       1000 + r, first + i, 1);
			if (process_vm_writev(parent, &l, 1, &rm, 1, 0) !=
			    (ssize_t)(PVM_PAGES * KV_PAGE))
				err = errno ? errno : EIO;
		}
		(void)!write(pfd[1], "x", 1);
		_exit(err ? 1 : 0);
	}
	close(pfd[1]);
	for (;;) {
		struct timeval tv = { 0, 0 };
		fd_set rs;

		FD_ZERO(&rs);
		FD_SET(pfd[0], &rs);
		if (select(pfd[0] + 1, &rs, NULL, NULL, &tv) > 0)
			break;
		perr |= kv_ranges(sfd, CXL_KV_DEMOTE, 0, 0, first, PVM_PAGES, NULL);
		demotes++;
	}
	close(pfd[0]);
	waitpid(pid, &status, 0);
	for (int i = 0; i < PVM_PAGES; i++)
		want[first + i] = 1000 + PVM_ROUNDS;
	bad = check_all("pvm_writev");
	T("process_vm_writev_during_demote", WIFEXITED(status) &&
	  !WEXITSTATUS(status) && !perr && !bad,
	  "child %#x, DEMOTE err %d, %d pages wrong", status, perr, bad);
	ktap_diag("process_vm_writev: %llu DEMOTEs, gup_kept +%llu",
		  (unsigned long long)demotes,
		  (unsigned long long)(gup_kept() - g0));
}

/* ---- vmsplice ------------------------------------------------------------ */

#define VS_PAGES	8

/*
 * vmsplice pages of the mapping into a pipe (the pipe references the pages
 * themselves), DEMOTE them, write new data through the mapping, then read
 * the pipe: it must show the new data (the page stayed the space's page),
 * and the space must hold it too.
 */
static void case_vmsplice(void)
{
	uint64_t first = 700, g0 = gup_kept(), done = 0;
	char *buf = malloc(VS_PAGES * KV_PAGE);
	struct iovec iov = { mm + first * KV_PAGE, VS_PAGES * KV_PAGE };
	int pfd[2], ret = -1, bad = 0, pbad = 0;
	ssize_t got = 0, n;

	if (!buf || pipe(pfd)) {
		T("vmsplice_then_demote", 0, "pipe: %d", errno);
		free(buf);
		return;
	}
	fcntl(pfd[1], F_SETPIPE_SZ, 2 * VS_PAGES * KV_PAGE);
	for (int i = 0; i < VS_PAGES; i++)
		fill_page(first + i, 301);
	n = vmsplice(pfd[1], &iov, 1, 0);
	if (n == (ssize_t)(VS_PAGES * KV_PAGE))
		ret = kv_ranges(sfd, CXL_KV_DEMOTE, 0, 0, first, VS_PAGES, &done);
	for (int i = 0; i < VS_PAGES; i++)
		fill_page(first + i, 302);
	while (got < n && (n > 0)) {
		ssize_t r = read(pfd[0], buf + got, n - got);

		if (r <= 0)
			break;
		got += r;
	}
	for (int i = 0; i < VS_PAGES && got == n && n > 0; i++)
		if (kv_check_stride((uint64_t *)(buf + i * KV_PAGE), 302, first + i, 1))
			pbad++;
	bad = check_all("vmsplice");
	T("vmsplice_then_demote", n == (ssize_t)(VS_PAGES * KV_PAGE) && !ret &&
	  got == n && !pbad && !bad && gup_kept() >= g0 + VS_PAGES,
	  "vmsplice %zd, DEMOTE %d (done %llu), pipe read %zd, %d pipe pages stale, %d pages wrong, gup_kept +%llu",
	  n, ret, (unsigned long long)done, got, pbad, bad,
	  (unsigned long long)(gup_kept() - g0));
	close(pfd[0]);
	close(pfd[1]);
	free(buf);
}

/* ---- mlock ---------------------------------------------------------------- */

/* mlock a range, DEMOTE it and let the worker run over everything; every
 * byte must survive, and the range unlocks again. */
static void case_mlock(void)
{
	uint64_t first = 800, n = 128;
	int lk, ret, ul, bad;

	lk = mlock(mm + first * KV_PAGE, n * KV_PAGE);
	for (uint64_t i = 0; i < n; i++)
		fill_page(first + i, 401);
	ret = kv_ranges(sfd, CXL_KV_DEMOTE, 0, 0, first, n, NULL);
	for (uint64_t pg = 0; pg < NPG; pg++)
		if (pg < first || pg >= first + n)
			fill_page(pg, 402);
	for (uint64_t i = 0; i < n; i += 2)
		fill_page(first + i, 403);
	ul = munlock(mm + first * KV_PAGE, n * KV_PAGE);
	bad = check_all("mlock");
	T("mlock_demote_worker", !lk && !ret && !ul && !bad,
	  "mlock %d, DEMOTE %d, munlock %d, %d pages wrong", lk, ret, ul, bad);
}

/* ---- everything at once, for a while -------------------------------------- */

struct churn {
	volatile int stop;
	int err;
};

static void *demoter(void *arg)
{
	struct churn *c = arg;

	while (!c->stop) {
		int r = kv_ranges(sfd, CXL_KV_DEMOTE, 0, 0, 0, BPH, NULL);

		if (r && r != -ENOSPC)
			c->err = r;
	}
	return NULL;
}

/*
 * O_DIRECT reads (dm device now without delay), process_vm_writev of our
 * own pages and writes through the mapping, all against a DEMOTE loop and
 * the worker, for a number of rounds; the oracle checks every byte after.
 */
static void case_churn(void)
{
	struct churn c = { 0 };
	pthread_t th;
	int bad, err = 0, rounds = 40;
	uint64_t g0 = gup_kept();

	err = kv_dm_switch(&dm, "linear", dm_linear);
	err = err ?: dev_prepare(501);
	pthread_create(&th, NULL, demoter, &c);
	for (int r = 0; r < rounds && !err; r++) {
		struct dio d = { .dst = mm + RD_BLK * KV_PAGE,
				 .len = RD_N * KV_PAGE, .off = 0 };

		dio_run(&d);
		if (d.ret != (ssize_t)(RD_N * KV_PAGE))
			err = d.ret < 0 ? (int)d.ret : -EIO;
		else
			for (int i = 0; i < RD_N; i++)
				want[RD_BLK + i] = 501;
		uint64_t base = 1024 + (uint64_t)(r % 8) * 128;

		for (uint64_t pg = base; pg < base + 128; pg++)
			fill_page(pg, 600 + r);
		for (int i = 0; i < RD_N; i += 7)
			if (kv_check_stride((uint64_t *)(mm + (RD_BLK + i) * KV_PAGE),
					    501, RD_BLK + i, 1))
				err = -EBADMSG;
	}
	c.stop = 1;
	pthread_join(th, NULL);
	bad = check_all("churn");
	T("odirect_writes_demote_churn", !err && !c.err && !bad,
	  "err %d, DEMOTE err %d, %d pages wrong", err, c.err, bad);
	ktap_diag("churn: %d rounds, gup_kept +%llu", rounds,
		  (unsigned long long)(gup_kept() - g0));
}

int main(void)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_attach a;
	struct cxl_kv_info info;
	int ctl, ret, splats;

	ret = kv_preamble(&ctl);
	if (ret == -1)
		return ktap_skip_all("no /dev/cxl_kv");
	if (ret == -2)
		return ktap_skip_all("no CXLKV_WARM_NODE");
	if (ret)
		return ktap_skip_all("cannot open /dev/cxl_kv");
	kv_detach_quiet(ctl);
	if (setup_dm())
		return ktap_skip_all("no CXLKV_NVME2 or no device-mapper delay target");
	ktap_plan(NCASES);

	kv_attach_req(&a, BUDGET, 1, 64 << 20);
	ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	kv_geom(&c, 1, 1, 128, BPH * 16);
	sfd = ret ? ret : kv_space(ctl, &c);
	mm = sfd < 0 ? MAP_FAILED : mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE,
					  MAP_SHARED, sfd, 0);
	T("setup", !ret && sfd >= 0 && mm != MAP_FAILED &&
	  c.mmap_bytes == NPG * KV_PAGE, "attach %d, space %d", ret, sfd);
	if (mm == MAP_FAILED) {
		while (ktap.n < NCASES)
			ktap_skip("kv_gup", "no space");
		return ktap_finish();
	}
	/* Everything written once, the read's pages last (the newest). */
	for (uint64_t pg = 0; pg < NPG; pg++)
		fill_page(pg, 100);

	case_odirect_demote();
	case_odirect_worker();
	case_pvm_writev();
	case_vmsplice();
	case_mlock();
	case_churn();

	kv_info(ctl, &info);
	{
		struct cxl_kv_stats g;
		uint64_t sk = gup_kept();

		ret = kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g);
		T("gup_kept_global", !ret && sk > 0 && g.gup_kept >= sk,
		  "GLOBAL_STATS %d: gup_kept %llu, the space's %llu", ret,
		  (unsigned long long)g.gup_kept, (unsigned long long)sk);
	}
	ktap_diag("tier set: warm %llu, cold used %llu",
		  (unsigned long long)info.warm_pages,
		  (unsigned long long)info.cold_used);
	munmap(mm, c.mmap_bytes);
	close(sfd);
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	close(dmfd);
	kv_dm_remove(&dm);
	close(dm.ctl);
	splats = kernel_log_splats();
	T("detach_clean", !ret && splats <= 0, "detach %d, splats %d", ret, splats);
	close(ctl);
	return ktap_finish();
}
