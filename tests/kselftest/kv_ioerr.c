// SPDX-License-Identifier: GPL-2.0
/*
 * kv_ioerr - I/O errors on the cold tier.
 *
 * A device-mapper device over CXLKV_NVME2 (made with the DM ioctls: the
 * guest has no dmsetup) is the cold tier, first with a linear table.  A
 * space twice the budget is filled with a pattern and demoted; then the
 * table is switched to "error":
 *
 *  - touching a cold page raises SIGBUS (never zeroes or other data), and
 *    io_errors rises;
 *  - PROMOTE of cold blocks fails with a negative errno and leaves them cold;
 *    a PIN of them fails too and takes no pin;
 *    so does PREFETCH (uring_cmd: -EIO; ioctl with F_WAIT);
 *  - DEMOTE of freshly written pages fails, and the pages stay warm and
 *    intact (design.rst: write failed -> WARM, dirty, slot freed);
 *  - the same for the demotion worker, driven past the high watermark.
 *
 * Then the table goes back to linear: a failed read leaves the page COLD
 * with its slot, so every page written before reads back intact, and the
 * pages whose write-back failed demote and read back too.
 *
 * Then dm-flakey, on a head not written before:
 *
 *  - "error_writes" all the time: reads work (PROMOTE, cold faults, exact
 *    data), clean pages with a cold copy demote without I/O, rewritten
 *    pages fail to write back and stay warm and intact, and the slots of
 *    the failed writes are freed;
 *  - up 1 s / down 1 s with every I/O failing while down: rounds of faults
 *    (reads, and new versions written), DEMOTE of one half of the head and
 *    PROMOTE of the other across both phases and back; every read has the page's newest version or raises
 *    SIGBUS, every command succeeds or fails with -EIO, io_errors counts
 *    at least every failure seen, and after linear again every page reads
 *    its newest version, demotes and reads back.
 *
 * Closing the space leaves no page, slot or gauge behind.  Detach, remove
 * the dm device.
 */
#include "kv_test.h"
#include "kv_dm.h"

#define BUDGET	256		/* warm pages */
#define LAYERS	3		/* layers 0-1 filled first, layer 2 later */
#define HEADS	4
#define HDIM	128		/* 256-byte tokens, 16 per block */
#define TOKENS	512		/* 32 pages per stream */
#define DM_NAME	"cxlkv_ioerr"
#define DM_SECTORS (64ULL << 11)	/* 64 MiB */
#define NPROBE	16
#define HIGH	128
#define LOW	96

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

static struct kv_dm dm;
static char nvme2_devt[32];

/* Every word of a page, not a sample. */
static void fill_page(volatile uint64_t *p, uint64_t seed, uint64_t pg)
{
	kv_fill_stride(p, seed, pg, 1);
}

static uint64_t check_page(const volatile uint64_t *p, uint64_t seed,
			   uint64_t pg)
{
	return kv_check_stride(p, seed, pg, 1);
}

static uint64_t verify(const char *m, uint64_t seed, uint64_t from,
		       uint64_t to)
{
	uint64_t bad = 0;

	for (uint64_t pg = from; pg < to; pg++) {
		uint64_t w = check_page((const uint64_t *)(m + pg * KV_PAGE),
					seed, pg);

		if (w && !bad++)
			ktap_diag("page %llu word %llu differs (seed %llu)",
				  (unsigned long long)pg,
				  (unsigned long long)w - 1,
				  (unsigned long long)seed);
	}
	return bad;
}

/* DEMOTE or PROMOTE blocks [0, bph) of every head of layers [l0, l1). */
static int move_layers(int fd, unsigned long cmd, int l0, int l1,
		       uint32_t bph, uint64_t *done)
{
	struct cxl_kv_range r[LAYERS * HEADS];
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)r };
	int ret;

	for (int l = l0; l < l1; l++)
		for (int h = 0; h < HEADS; h++)
			r[q.count++] = (struct cxl_kv_range){
				.layer = l, .head = h, .nr_blocks = bph };
	ret = kv_ioctl(fd, cmd, &q);
	*done = q.done;
	return ret;
}

/* ---- dm-flakey: intermittent errors ------------------------------------- */

/*
 * The flakey cases work on (layer 2, head 3): its K and V streams are pages
 * [fl0, fl0 + 2 * bph), never written before.  flver[i] is the pattern seed
 * page fl0 + i must hold (the test is its only writer).
 */
#define FL_LAYER	2
#define FL_HEAD		3
#define NFLAKEY		9
#define CYCLE_MIN	2.2	/* s: up [0,1), down [1,2), up again */
#define CYCLE_MAX	6.0

static uint64_t fl0, flver[2 * (TOKENS / 16)];

/* Read page fl0 + @i: the signal it raised, or 0 (then *bad counts a wrong
 * pattern). */
static int fl_read(const char *m, uint64_t i, uint64_t *bad)
{
	uint64_t pg = fl0 + i, w;
	volatile uint64_t *p = (volatile uint64_t *)(m + pg * KV_PAGE);
	int sig = kv_probe((volatile char *)p);

	if (sig)
		return sig;
	w = check_page(p, flver[i], pg);
	if (w && !(*bad)++)
		ktap_diag("flakey: page %llu word %llu is not version %llu",
			  (unsigned long long)pg, (unsigned long long)w - 1,
			  (unsigned long long)flver[i]);
	return 0;
}

static void fl_write(char *m, uint64_t i, uint64_t seed)
{
	flver[i] = seed;
	fill_page((uint64_t *)(m + (fl0 + i) * KV_PAGE), seed, fl0 + i);
}

/* Read every flakey page; returns how many raised a signal. */
static int fl_read_all(const char *m, uint64_t n, uint64_t *bad)
{
	int nsig = 0;

	for (uint64_t i = 0; i < n; i++)
		nsig += !!fl_read(m, i, bad);
	return nsig;
}

static int fl_move(int fd, unsigned long cmd, uint32_t first, uint32_t n,
		   uint64_t *done)
{
	return kv_ranges(fd, cmd, FL_LAYER, FL_HEAD, first, n, done);
}

static uint32_t fl_cold_blocks(int fd, uint32_t bph,
			       struct cxl_kv_residency *res)
{
	uint64_t bm[1] = { 0 };

	memset(res, 0, sizeof(*res));
	kv_resident(fd, FL_LAYER, FL_HEAD, 0, bph, res, bm);
	return res->nr_cold;
}

/*
 * dm-flakey under the cold tier (NFLAKEY cases).  Feature arguments are
 * always given: "error_writes" alone, or "error_reads error_writes" for
 * every I/O failing while down (with no feature list, kernels between the
 * addition of error_reads and "dm-flakey: error all IOs when num_features
 * is absent" failed nothing at all).  drop_writes is not used: the device
 * then reports success for writes it throws away, which no driver can
 * tell from a good write, so no integrity claim could be tested with it.
 */
static void flakey_cases(int ctl, int fd, char *m, uint32_t bph,
			 const char *devt, const char *linear)
{
	struct cxl_kv_stats s0, s1;
	struct cxl_kv_residency res;
	struct cxl_kv_info i0, i1;
	uint64_t n = 2 * bph, done = 0, bad = 0, seed;
	char params[96];
	int ret, nsig, emitted = ktap.n;
	double t0, t;
	/* the cycles: commands by result, faults by outcome */
	int dem_ok = 0, dem_eio = 0, pro_ok = 0, pro_eio = 0, rd_ok = 0,
	    rd_sigbus = 0, other = 0, recovered = 0, it;

	fl0 = (uint64_t)(FL_LAYER * HEADS + FL_HEAD) * 2 * bph;

	/* F1: pages written and demoted under linear, then "error_writes"
	 * for good (up 0 s, down 1 s: always down). */
	for (uint64_t i = 0; i < n; i++)
		fl_write(m, i, 3);
	ret = fl_move(fd, CXL_KV_DEMOTE, 0, bph, &done);
	snprintf(params, sizeof(params), "%s 0 0 1 1 error_writes", devt);
	if (!ret)
		ret = kv_dm_switch(&dm, "flakey", params);
	T("flakey_error_writes", !ret && fl_cold_blocks(fd, bph, &res) == bph,
	  "DEMOTE/switch %d, cold blocks %u of %u", ret, res.nr_cold, bph);
	if (ret)
		goto out;

	/*
	 * F2: reads still work: PROMOTE half, fault the other half in (or let
	 * the fault readahead bring it): every page read once, exactly.
	 */
	kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
	ret = fl_move(fd, CXL_KV_PROMOTE, 0, bph / 2, &done);
	nsig = fl_read_all(m, n, &bad);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	T("flakey_ew_reads_work", !ret && done == bph && !nsig && !bad &&
	  s1.io_errors == s0.io_errors &&
	  s1.nvme_read_bytes - s0.nvme_read_bytes == n * KV_PAGE,
	  "PROMOTE %d done %llu, %d signals, %llu bad, io_errors %llu -> %llu, read %llu pages of %llu",
	  ret, (unsigned long long)done, nsig, (unsigned long long)bad,
	  (unsigned long long)s0.io_errors, (unsigned long long)s1.io_errors,
	  (unsigned long long)((s1.nvme_read_bytes - s0.nvme_read_bytes) / KV_PAGE),
	  (unsigned long long)n);

	/* F3: clean pages with a valid cold copy leave without any write. */
	s0 = s1;
	ret = fl_move(fd, CXL_KV_DEMOTE, 0, bph, &done);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	T("flakey_ew_clean_drop", !ret && done == n &&
	  s1.clean_drops == s0.clean_drops + n && s1.demotions == s0.demotions &&
	  s1.io_errors == s0.io_errors && fl_cold_blocks(fd, bph, &res) == bph,
	  "DEMOTE %d done %llu, clean_drops +%llu, demotions +%llu, io_errors +%llu, cold blocks %u",
	  ret, (unsigned long long)done,
	  (unsigned long long)(s1.clean_drops - s0.clean_drops),
	  (unsigned long long)(s1.demotions - s0.demotions),
	  (unsigned long long)(s1.io_errors - s0.io_errors), res.nr_cold);

	/*
	 * F4: pages written again (each write fault reads the cold copy
	 * first, which works) fail to write back: -EIO, all warm, intact,
	 * and the slots the failed writes took are given back.
	 */
	for (uint64_t i = 0; i < n; i++)
		fl_write(m, i, 4);
	kv_info(ctl, &i0);
	s0 = s1;
	ret = fl_move(fd, CXL_KV_DEMOTE, 0, bph, &done);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	kv_info(ctl, &i1);
	fl_cold_blocks(fd, bph, &res);
	bad = 0;
	nsig = fl_read_all(m, n, &bad);
	T("flakey_ew_dirty_stays_warm", ret == -EIO && res.nr_warm == bph &&
	  res.nr_cold == 0 && s1.demotions == s0.demotions &&
	  s1.io_errors > s0.io_errors && i1.cold_used == i0.cold_used &&
	  !nsig && !bad,
	  "DEMOTE %d, warm %u cold %u of %u blocks, demotions +%llu, io_errors +%llu, cold slots %llu -> %llu, %d signals, %llu bad",
	  ret, res.nr_warm, res.nr_cold, bph,
	  (unsigned long long)(s1.demotions - s0.demotions),
	  (unsigned long long)(s1.io_errors - s0.io_errors),
	  (unsigned long long)i0.cold_used, (unsigned long long)i1.cold_used,
	  nsig, (unsigned long long)bad);

	/*
	 * F5-F8: up 1 s / down 1 s, every I/O failing while down.  Each
	 * round reads every page (faults on cold pages promote them), writes
	 * a new version to half of those that read, DEMOTEs one half of the
	 * head's blocks and PROMOTEs the other, until both phases and the
	 * return to up were seen.  The half left warm always holds pages
	 * written in the round, so the first DEMOTE after the switch to down
	 * has dirty pages to fail on, however long a round takes (on cxl a
	 * round is slow enough that a whole-head DEMOTE could leave nothing
	 * warm and dirty when the down phase began).  A read either gets the
	 * page's newest version or SIGBUS; a command either succeeds or fails
	 * with -EIO.
	 */
	snprintf(params, sizeof(params), "%s 0 1 1 2 error_reads error_writes",
		 devt);
	ret = kv_dm_switch(&dm, "flakey", params);
	t0 = kv_now();
	T("flakey_intervals", !ret, "switch to flakey 1/1: %d", ret);
	if (ret)
		goto out;
	kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
	bad = 0;
	seed = 5;
	for (it = 0;; it++) {
		t = kv_now() - t0;
		if (t > CYCLE_MAX || (t > CYCLE_MIN && recovered && pro_ok &&
				      pro_eio && rd_sigbus))
			break;
		for (uint64_t i = 0; i < n; i++) {
			int sig = fl_read(m, i, &bad);

			if (sig == SIGBUS) {
				rd_sigbus++;
			} else if (sig) {
				other++;
			} else {
				rd_ok++;
				if ((i + it) & 1)
					fl_write(m, i, seed++);
			}
		}
		ret = fl_move(fd, CXL_KV_DEMOTE, (it & 1) * bph / 2, bph / 2,
			      &done);
		if (!ret) {
			dem_ok++;
			/* pages left the warm tier after a failed DEMOTE */
			recovered += dem_eio > 0 && done > 0;
		} else if (ret == -EIO) {
			dem_eio++;
		} else {
			other++;
			ktap_diag("flakey: DEMOTE %d at %.2f s", ret, t);
		}
		ret = fl_move(fd, CXL_KV_PROMOTE, !(it & 1) * bph / 2, bph / 2,
			      &done);
		if (!ret) {
			pro_ok++;
		} else if (ret == -EIO) {
			pro_eio++;
		} else {
			other++;
			ktap_diag("flakey: PROMOTE %d at %.2f s", ret, t);
		}
	}
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	ktap_diag("flakey cycles: %d rounds in %.2f s; DEMOTE ok %d eio %d (ok after eio %d), PROMOTE ok %d eio %d, reads ok %d sigbus %d",
		  it, t, dem_ok, dem_eio, recovered, pro_ok, pro_eio, rd_ok,
		  rd_sigbus);
	T("flakey_cycles_up_and_down", recovered && dem_eio && pro_ok &&
	  pro_eio && rd_ok && rd_sigbus,
	  "not every outcome seen in %.2f s", t);
	T("flakey_cycles_data_exact", !bad && !other,
	  "%llu reads with a wrong version, %d other results",
	  (unsigned long long)bad, other);
	T("flakey_cycles_io_errors",
	  s1.io_errors - s0.io_errors >= (uint64_t)(dem_eio + pro_eio + rd_sigbus),
	  "io_errors +%llu, failures seen %d",
	  (unsigned long long)(s1.io_errors - s0.io_errors),
	  dem_eio + pro_eio + rd_sigbus);

	/*
	 * F9: linear again: every page reads its newest version, demotes,
	 * and reads it back from the cold copy.
	 */
	ret = kv_dm_switch(&dm, "linear", linear);
	bad = 0;
	nsig = ret ? -1 : fl_read_all(m, n, &bad);
	if (!ret)
		ret = fl_move(fd, CXL_KV_DEMOTE, 0, bph, &done);
	fl_cold_blocks(fd, bph, &res);
	if (!ret && !nsig)
		nsig = fl_read_all(m, n, &bad);
	T("flakey_recovered_intact", !ret && !nsig && !bad && res.nr_cold == bph,
	  "switch/DEMOTE %d, %d signals, %llu bad, cold blocks %u of %u", ret,
	  nsig, (unsigned long long)bad, res.nr_cold, bph);
out:
	while (ktap.n < (unsigned int)emitted + NFLAKEY)
		ktap_result(0, "flakey_not_reached");
}

int main(void)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_stats s0 = { 0 }, s1 = { 0 };
	struct cxl_kv_attach a;
	struct cxl_kv_residency res;
	uint64_t done, bad, npages, bph, first2, nbm[1];
	char params[64];
	int ctl, fd = -1, ret, nsig = 0, nzero = 0, ndata = 0;
	char *m = MAP_FAILED;
	const int ncase = 17 + NFLAKEY + 1;

	ret = kv_preamble(&ctl);
	if (ret)
		return ktap_skip_all("no /dev/cxl_kv or no warm node");
	if (kv_devt(kv_nvme2(), nvme2_devt, sizeof(nvme2_devt)))
		return ktap_skip_all("no CXLKV_NVME2 block device");
	snprintf(params, sizeof(params), "%s 0", nvme2_devt);
	if (kv_dm_open(&dm, DM_NAME, DM_SECTORS))
		return ktap_skip_all("no device-mapper control device");

	ktap_plan(ncase);
	kv_detach_quiet(ctl);
	kv_dm_remove(&dm);	/* leftovers of an earlier run */

	/* 1: a dm device, linear over nvme2. */
	ret = kv_dm_create(&dm, "linear", params);
	T("dm_linear", !ret, "dm create/load/resume over %s: %d", nvme2_devt, ret);
	if (ret)
		goto skip_rest;

	/* 2: attach it as the only cold device. */
	memset(&a, 0, sizeof(a));
	a.nr_nodes = 1;
	a.nodes[0] = kv_warm_node();
	a.budget_pages = BUDGET;
	a.high_wmark = HIGH;	/* the worker runs well below the budget */
	a.low_wmark = LOW;
	a.nr_cold = 1;
	a.cold[0].path = (uintptr_t)dm.path;
	ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	T("attach_dm", !ret, "ATTACH %s: %d", dm.path, ret);
	if (ret)
		goto skip_rest;

	kv_geom(&c, LAYERS, HEADS, HDIM, TOKENS);
	fd = kv_space(ctl, &c);
	if (fd >= 0)
		m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
	npages = c.mmap_bytes / KV_PAGE;
	bph = c.blocks_per_stream;
	first2 = 2 * HEADS * 2 * bph;	/* first page of layer 2 */

	/* 3: layers 0-1 (2x budget) filled; the worker demotes; DEMOTE the rest. */
	if (m != MAP_FAILED) {
		for (uint64_t pg = 0; pg < first2; pg++)
			fill_page((uint64_t *)(m + pg * KV_PAGE), 1, pg);
		kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
		ret = move_layers(fd, CXL_KV_DEMOTE, 0, 2, bph, &done);
		/*
		 * DEMOTE skips the pages the worker is writing at the time;
		 * they turn cold when its writes complete.
		 */
		for (int i = 0; i < 200; i++) {
			kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
			if (s1.cold_pages == first2)
				break;
			usleep(10000);
		}
	}
	T("demoted_all", m != MAP_FAILED && s0.demotions > 0 && !ret &&
	  s1.cold_pages == first2 && s1.io_errors == 0,
	  "fd %d, by pressure %llu, DEMOTE %d, cold %llu of %llu, io_errors %llu",
	  fd, (unsigned long long)s0.demotions, ret,
	  (unsigned long long)s1.cold_pages, (unsigned long long)first2,
	  (unsigned long long)s1.io_errors);
	if (m == MAP_FAILED)
		goto skip_rest;

	/* 4: the table becomes "error". */
	ret = kv_dm_switch(&dm, "error", "");
	T("dm_error", !ret, "switch to error: %d", ret);
	if (ret)
		goto skip_rest;

	/*
	 * 5-6: touching cold pages (reads and writes): SIGBUS every time,
	 * io_errors rises.
	 */
	kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
	for (int i = 0; i < NPROBE; i++) {
		uint64_t pg = (uint64_t)i * (first2 / NPROBE) + 3;
		volatile uint64_t *p = (volatile uint64_t *)(m + pg * KV_PAGE);
		/* Odd probes write: a write fault must not map a page either. */
		int sig = i & 1 ? kv_probe_write(p) : kv_probe((volatile char *)p);

		if (sig == SIGBUS) {
			nsig++;
			continue;
		}
		/* It mapped something: say what. */
		if (!sig && !check_page(p, 1, pg))
			ndata++;
		else if (!sig && !p[0] && !p[1])
			nzero++;
		ktap_diag("page %llu: signal %d, %s", (unsigned long long)pg, sig,
			  !sig ? (check_page(p, 1, pg) ? "wrong data" : "the data") :
			  "not SIGBUS");
	}
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	T("cold_fault_sigbus", nsig == NPROBE,
	  "%d of %d SIGBUS (%d read the data, %d zeroes)", nsig, NPROBE, ndata,
	  nzero);
	T("io_errors_fault", s1.io_errors >= s0.io_errors + NPROBE &&
	  s1.faults_cold == s0.faults_cold,
	  "io_errors %llu -> %llu, faults_cold %llu -> %llu",
	  (unsigned long long)s0.io_errors, (unsigned long long)s1.io_errors,
	  (unsigned long long)s0.faults_cold, (unsigned long long)s1.faults_cold);

	/* 7: PROMOTE of cold blocks fails and leaves them cold. */
	s0 = s1;
	ret = kv_ranges(fd, CXL_KV_PROMOTE, 0, 1, 0, 4, &done);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	memset(nbm, 0, sizeof(nbm));
	kv_resident(fd, 0, 1, 0, 4, &res, nbm);
	/* done is not written back on failure (uapi.rst): not checked. */
	T("promote_eio", ret < 0 && res.nr_cold == 4 &&
	  s1.io_errors > s0.io_errors && s1.cold_pages == s0.cold_pages,
	  "PROMOTE %d done %llu, cold blocks %u, io_errors %llu -> %llu, cold pages %llu -> %llu",
	  ret, (unsigned long long)done, res.nr_cold,
	  (unsigned long long)s0.io_errors, (unsigned long long)s1.io_errors,
	  (unsigned long long)s0.cold_pages, (unsigned long long)s1.cold_pages);

	/* 7b: a PIN whose promotion fails takes no pin (uapi.rst). */
	ret = kv_ranges(fd, CXL_KV_PIN, 0, 1, 0, 4, &done);
	memset(nbm, 0, sizeof(nbm));
	kv_resident(fd, 0, 1, 0, 4, &res, nbm);
	T("pin_eio_takes_no_pin", ret < 0 && res.nr_pinned == 0 && res.nr_cold == 4,
	  "PIN %d, pinned %u, cold %u", ret, res.nr_pinned, res.nr_cold);

	/*
	 * 8: PREFETCH through uring_cmd completes with -EIO (uapi.rst), the
	 * ioctl with CXL_KV_PREFETCH_F_WAIT fails too; the blocks stay cold.
	 * (The ioctl writes out fields back on success only, so its issued
	 * is not looked at; the uring completion writes them back.)
	 */
	{
		struct cxl_kv_prefetch pu = { .layer = 1, .head_mask = 0xf,
					      .pos = 100, .window = 32 };
		struct cxl_kv_prefetch pw = { .layer = 1, .head_mask = 0x1,
					      .flags = CXL_KV_PREFETCH_F_WAIT,
					      .pos = 300, .window = 16 };
		struct io_uring ring;
		int ru = -1, rw, rr;

		s0 = s1;
		rr = io_uring_queue_init(8, &ring, 0);
		if (!rr) {
			ru = kv_uring_one(&ring, fd, CXL_KV_PREFETCH, &pu,
					  sizeof(pu));
			io_uring_queue_exit(&ring);
		}
		rw = kv_ioctl(fd, CXL_KV_PREFETCH, &pw);
		kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
		memset(nbm, 0, sizeof(nbm));
		kv_resident(fd, 1, 0, 0, bph, &res, nbm);
		T("prefetch_eio", !rr && ru == -EIO && pu.issued > 0 &&
		  rw < 0 && res.nr_cold == bph &&
		  s1.io_errors > s0.io_errors && s1.cold_pages == s0.cold_pages,
		  "ring %d, uring %d issued %llu, ioctl WAIT %d issued %llu, cold blocks %u of %llu, io_errors %llu -> %llu",
		  rr, ru, (unsigned long long)pu.issued, rw,
		  (unsigned long long)pw.issued, res.nr_cold,
		  (unsigned long long)bph, (unsigned long long)s0.io_errors,
		  (unsigned long long)s1.io_errors);
	}

	/* 9-10: DEMOTE of fresh pages fails; they stay warm and intact. */
	for (uint64_t pg = first2; pg < first2 + 2 * bph; pg++)
		fill_page((uint64_t *)(m + pg * KV_PAGE), 2, pg);
	s0 = s1;
	ret = kv_ranges(fd, CXL_KV_DEMOTE, 2, 0, 0, bph, &done);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	memset(nbm, 0, sizeof(nbm));
	kv_resident(fd, 2, 0, 0, bph, &res, nbm);
	T("demote_eio_stays_warm", ret < 0 &&
	  res.nr_warm == bph && res.nr_cold == 0 &&
	  s1.io_errors > s0.io_errors && s1.demotions == s0.demotions,
	  "DEMOTE %d done %llu, warm %u cold %u of %llu blocks, io_errors %llu -> %llu",
	  ret, (unsigned long long)done, res.nr_warm, res.nr_cold,
	  (unsigned long long)bph, (unsigned long long)s0.io_errors,
	  (unsigned long long)s1.io_errors);
	bad = verify(m, 2, first2, first2 + 2 * bph);
	T("failed_writeback_intact", !bad, "%llu bad pages", (unsigned long long)bad);

	/*
	 * 11: pressure while writes fail: heads 1-2 of layer 2 take the warm
	 * pages past the high watermark (still under the budget), the worker
	 * tries to demote, its writes fail, and every page stays warm and
	 * intact.
	 */
	s0 = s1;
	for (uint64_t pg = first2 + 2 * bph; pg < first2 + 6 * bph; pg++)
		fill_page((uint64_t *)(m + pg * KV_PAGE), 2, pg);
	for (int i = 0; i < 500; i++) {
		kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
		if (s1.io_errors > s0.io_errors)
			break;
		usleep(10000);
	}
	usleep(100000);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	bad = verify(m, 2, first2, first2 + 6 * bph);
	T("worker_eio_stays_warm", s1.io_errors > s0.io_errors &&
	  s1.demotions == s0.demotions && s1.cold_pages == s0.cold_pages &&
	  s1.warm_pages == 6 * bph && !bad,
	  "io_errors %llu -> %llu, demotions %llu -> %llu, cold %llu -> %llu, warm %llu (want %llu), %llu bad pages",
	  (unsigned long long)s0.io_errors, (unsigned long long)s1.io_errors,
	  (unsigned long long)s0.demotions, (unsigned long long)s1.demotions,
	  (unsigned long long)s0.cold_pages, (unsigned long long)s1.cold_pages,
	  (unsigned long long)s1.warm_pages, (unsigned long long)(6 * bph),
	  (unsigned long long)bad);

	/* 12: back to linear. */
	ret = kv_dm_switch(&dm, "linear", params);
	T("dm_linear_again", !ret, "switch to linear: %d", ret);
	if (ret)
		goto skip_rest;

	/*
	 * 13-14: the pages whose write-back failed demote now (the worker may
	 * take some of them first: what counts is that all end up cold) and
	 * read back; everything written before the errors reads back from its
	 * cold copy.
	 */
	ret = kv_ranges(fd, CXL_KV_DEMOTE, 2, 0, 0, bph, &done);
	memset(nbm, 0, sizeof(nbm));
	kv_resident(fd, 2, 0, 0, bph, &res, nbm);
	bad = verify(m, 2, first2, first2 + 2 * bph);
	T("demote_after_recovery", !ret && res.nr_cold == bph && !bad,
	  "DEMOTE %d done %llu of %llu, cold blocks %u, %llu bad pages", ret,
	  (unsigned long long)done, (unsigned long long)(2 * bph), res.nr_cold,
	  (unsigned long long)bad);
	bad = verify(m, 1, 0, first2) + verify(m, 2, first2, first2 + 6 * bph);
	T("cold_copy_intact", !bad, "%llu bad pages of %llu",
	  (unsigned long long)bad, (unsigned long long)first2);
	(void)npages;

	/*
	 * The dm-flakey cases (flakey_cases()).  Everything is demoted first, so that the warm
	 * tier stays far below the high watermark and the worker keeps out.
	 */
	ret = move_layers(fd, CXL_KV_DEMOTE, 0, LAYERS, bph, &done);
	if (ret)
		ktap_diag("DEMOTE of everything before the flakey cases: %d", ret);
	flakey_cases(ctl, fd, m, bph, nvme2_devt, params);

	/*
	 * Closing the space frees every warm page and cold slot, and the
	 * module-wide gauges come back to zero.
	 */
	munmap(m, c.mmap_bytes);
	m = MAP_FAILED;
	close(fd);
	fd = -1;
	{
		struct cxl_kv_info info;
		struct cxl_kv_stats g;

		kv_info(ctl, &info);
		kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g);
		T("no_leak", info.nr_spaces == 0 && info.warm_pages == 0 &&
		  info.cold_used == 0 && g.warm_pages == 0 && g.cold_pages == 0,
		  "spaces %u, warm %llu, cold slots %llu; global gauges warm %llu cold %llu",
		  info.nr_spaces, (unsigned long long)info.warm_pages,
		  (unsigned long long)info.cold_used,
		  (unsigned long long)g.warm_pages,
		  (unsigned long long)g.cold_pages);
	}

	/* Detach, remove the dm device. */
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	T("detach", !ret, "DETACH %d", ret);
	ret = kv_dm_remove(&dm);
	T("dm_remove", !ret, "DM_DEV_REMOVE %d", ret);
	close(dm.ctl);
	close(ctl);
	return ktap_finish();

skip_rest:
	if (m != MAP_FAILED)
		munmap(m, c.mmap_bytes);
	if (fd >= 0)
		close(fd);
	kv_detach_quiet(ctl);
	kv_dm_remove(&dm);
	while (ktap.n < (unsigned int)ncase)
		ktap_result(0, "not_reached");
	return ktap_finish();
}
