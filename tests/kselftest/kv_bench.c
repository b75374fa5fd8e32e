// SPDX-License-Identifier: GPL-2.0
/*
 * kv_bench - the module's benchmarks, ratios measured in one run (the guest
 * is TCG-emulated: absolute times mean nothing, ratios do):
 *
 *   fault      a read fault on a resident page vs a plain anonymous fault
 *   promote    cold-fault latency p50/p99 vs a raw O_DIRECT 4 KiB pread of
 *              the same NVMe (QD1 both), in 8 interleaved rounds of 256
 *              samples each so that the emulator's drift hits both alike
 *   demote     DEMOTE throughput of dirty pages vs raw O_DIRECT sequential
 *              writes through io_uring on the same NVMe, in pairs (a raw
 *              run, then a DEMOTE run) of three raw shapes: 128 KiB QD8,
 *              1 MiB QD4, 1 MiB QD8 (the demoter's own); the summary ratio
 *              is the lowest of the per-shape medians of the pairs' ratios
 *   hints      score hints per second: one per ioctl vs batches of 4096
 *              through io_uring uring_cmd (8 in flight)
 *   busy       p99 of faults on resident pages while DEMOTEs of other pages
 *              of the same space run vs the same faults with nothing else
 *              running; controls: the same faults next to a plain CPU hog
 *              on the other vCPU and next to raw O_DIRECT writes of as much
 *              to the same drive (what the demoter's CPU use and its I/O
 *              cost without the module); "kv_bench busy" runs only this
 *              one ("kv_bench busy pinned": only with the threads pinned)
 *
 * Raw I/O goes to the upper half of the device, outside the slots the
 * module uses.  The last line is exactly:
 *   kernel-summary: promote_p50_vs_raw=X.XX demote_bw_vs_raw=Y.YY hints_uring_vs_ioctl=Z.Z
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/fs.h>

#include "kv_test.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define NLAT	2048		/* latency samples */
#define DEMOTE_PAGES 8192	/* 32 MiB */
#define RAW_OFF	(128ULL << 20)
#define LAT_ROUND 256		/* samples of each kind per round */
#define BW_REPS	5		/* demotion: best of this many of each */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return v[(int)((n - 1) * p)];
}

static double lat[NLAT], rlat[NLAT];

/* @n raw QD1 O_DIRECT 4 KiB random reads into @out, in us. */
static int raw_read_lat(int fd, void *buf, unsigned int *rnd, double *out, int n)
{
	for (int i = 0; i < n; i++) {
		off_t off = RAW_OFF + (off_t)(rand_r(rnd) % DEMOTE_PAGES) * 4096;
		double t0 = kv_now();

		if (pread(fd, buf, 4096, off) != 4096)
			return -1;
		out[i] = (kv_now() - t0) * 1e6;
	}
	return 0;
}

/* Raw O_DIRECT sequential writes of @bs bytes, io_uring at @qd: MiB/s. */
static double raw_write_bw(const char *dev, size_t bytes, size_t bs, unsigned int qd,
			   uint64_t base)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	int fd = open(dev, O_WRONLY | O_DIRECT);
	size_t n = bytes / bs, sub = 0, done = 0;
	void *buf;
	double t0;

	if (fd < 0 || posix_memalign(&buf, 4096, bs) || io_uring_queue_init(qd, &ring, 0))
		return -1;
	memset(buf, 0x5a, bs);
	t0 = kv_now();
	while (done < n) {
		while (sub < n && sub - done < qd) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_write(sqe, fd, buf, bs, base + sub * bs);
			sub++;
		}
		io_uring_submit(&ring);
		if (io_uring_wait_cqe(&ring, &cqe))
			return -1;
		if (cqe->res != (int)bs)
			return -1;
		io_uring_cqe_seen(&ring, cqe);
		done++;
	}
	t0 = kv_now() - t0;
	io_uring_queue_exit(&ring);
	free(buf);
	close(fd);
	return bytes / t0 / (1 << 20);
}

/* The raw write shapes the demotion is compared with. */
static const struct {
	size_t bs;
	unsigned int qd;
} raw_shape[] = { { 128 << 10, 8 }, { 1 << 20, 4 }, { 1 << 20, 8 } };
#define NSHAPES (sizeof(raw_shape) / sizeof(raw_shape[0]))

/*
 * Fill a new 32 MiB space (4 heads) through its mapping and DEMOTE all of
 * it: MiB/s of the DEMOTE.  *@ret: its result (-1 if not every page went).
 */
static double demote_bw(int ctl, int *ret)
{
	struct cxl_kv_range r[4];
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)r, .count = 4 };
	struct cxl_kv_space_create c;
	double t0, bw;
	int fd;
	char *m;

	kv_geom(&c, 1, 4, 128, DEMOTE_PAGES / 8 * 16);
	fd = kv_space(ctl, &c);
	m = fd < 0 ? MAP_FAILED :
	    mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		*ret = -1;
		if (fd >= 0)
			close(fd);
		return 0;
	}
	for (size_t o = 0; o < c.mmap_bytes; o += KV_PAGE)
		kv_fill((uint64_t *)(m + o), 3, o);
	for (int h = 0; h < 4; h++)
		r[h] = (struct cxl_kv_range){ .head = h, .nr_blocks = c.blocks_per_stream };
	t0 = kv_now();
	*ret = kv_ioctl(fd, CXL_KV_DEMOTE, &q);
	bw = q.done * KV_PAGE / (kv_now() - t0) / (1 << 20);
	if (!*ret && q.done != DEMOTE_PAGES)
		*ret = -1;
	munmap(m, c.mmap_bytes);
	close(fd);
	return bw;
}

/*
 * Faults on resident pages while a DEMOTE of other pages of the same space
 * runs: a reader thread drops its PTEs of one head (MADV_DONTNEED) and
 * touches every page again, timing each touch; the main thread in turn
 * DEMOTEs four other heads, then spins for as long as that DEMOTE took (a
 * control: a plain CPU hog), then writes as much to the NVMe drive with
 * raw O_DIRECT writes of the demoter's shape, 1 MiB QD8 (a control: the
 * same I/O without the module; under TCG the emulated drive's work runs
 * in QEMU threads that compete with the vCPUs for the host's cores), then
 * sleeps as long as the DEMOTE took (idle), BUSY_REPS times.
 * Twice: first with the reader on CPU 0 and the main thread on CPU 1
 * (pinned: the reader has a vCPU to itself, what is left is what the
 * demotion does to it), then with both free to run anywhere (the
 * scheduler may put them on one vCPU).  Each sample is kept with the phase
 * it was taken in; one that straddles a change is dropped; the reader
 * pauses while the main thread refills the heads it demotes.
 */
#define BUSY_MAX (1 << 19)
#define BUSY_REPS 8
enum { B_IDLE, B_DEMOTE, B_HOG, B_RAW, B_NPH, B_OTHER = B_NPH, B_STOP };
static struct {
	char *a;		/* the reader's pages */
	size_t len;
	volatile int phase;
	volatile int pin;	/* 1: the reader on CPU 0 */
	double v[B_NPH][BUSY_MAX];	/* us */
	int n[B_NPH];
	/* passes over the head spent in one phase: faults, context switches */
	long pf[B_NPH], vcsw[B_NPH], ivcsw[B_NPH];
} busy;

static void on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0) {
		CPU_SET(cpu, &set);
	} else {
		for (int i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &set);
	}
	sched_setaffinity(0, sizeof(set), &set);
}

static void *busy_reader(void *arg)
{
	(void)arg;
	while (busy.phase != B_STOP) {
		on_cpu(busy.pin ? 0 : -1);
		if (busy.phase == B_OTHER) {
			usleep(200);
			continue;
		}
		struct rusage r0, r1;
		int ph0 = busy.phase, same = 1;
		long nf = 0;

		madvise(busy.a, busy.len, MADV_DONTNEED);
		getrusage(RUSAGE_THREAD, &r0);
		for (size_t o = 0; o < busy.len && busy.phase < B_NPH; o += KV_PAGE) {
			int ph = busy.phase;
			double t0 = kv_now();

			(void)*(volatile char *)(busy.a + o);
			t0 = (kv_now() - t0) * 1e6;
			nf++;
			same &= ph == ph0 && ph == busy.phase;
			if (ph < B_NPH && ph == busy.phase && busy.n[ph] < BUSY_MAX)
				busy.v[ph][busy.n[ph]++] = t0;
		}
		getrusage(RUSAGE_THREAD, &r1);
		if (same && ph0 < B_NPH) {
			busy.pf[ph0] += nf;
			busy.vcsw[ph0] += r1.ru_nvcsw - r0.ru_nvcsw;
			busy.ivcsw[ph0] += r1.ru_nivcsw - r0.ru_nivcsw;
		}
	}
	return NULL;
}

/* p50 and p99 of the reader's faults in each phase: us. */
struct busy_res {
	double p50[B_NPH], p99[B_NPH];
	int n[B_NPH];
	double vcsw[B_NPH], ivcsw[B_NPH];	/* per 1000 faults */
	double demote_ms;	/* mean DEMOTE time */
};

/*
 * The reader's faults alone, during DEMOTEs of 32 MiB of the same space and
 * next to a CPU hog, pinned or not (@pin); returns 0 or -1.
 */
static int fault_during_demote(int ctl, int pin, struct busy_res *res)
{
	struct cxl_kv_range r[4];
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)r, .count = 4 };
	struct cxl_kv_space_create c;
	double dsum = 0;
	pthread_t th;
	int fd, ret = 0;
	size_t half;
	char *m;

	kv_geom(&c, 1, 8, 128, DEMOTE_PAGES / 8 * 16);	/* 8 heads, 64 MiB */
	fd = kv_space(ctl, &c);
	m = fd < 0 ? MAP_FAILED :
	    mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -1;
	half = c.mmap_bytes / 2;		/* heads 0-3: demoted */
	busy.len = c.mmap_bytes / 8;		/* head 4: the reader's */
	busy.a = m + half;
	for (size_t o = 0; o < busy.len; o += KV_PAGE)
		kv_fill((uint64_t *)(busy.a + o), 5, o);
	memset(busy.n, 0, sizeof(busy.n));
	memset(busy.pf, 0, sizeof(busy.pf));
	memset(busy.vcsw, 0, sizeof(busy.vcsw));
	memset(busy.ivcsw, 0, sizeof(busy.ivcsw));
	busy.pin = pin;
	on_cpu(pin ? 1 : -1);
	busy.phase = B_IDLE;
	if (pthread_create(&th, NULL, busy_reader, NULL)) {
		ret = -1;
		goto out_unmap;
	}
	while (busy.n[B_IDLE] < 2 * (int)(busy.len / KV_PAGE))
		usleep(10000);
	for (int rep = 0; rep < BUSY_REPS && !ret; rep++) {
		double t0, dt;

		busy.phase = B_OTHER;
		for (size_t o = 0; o < half; o += KV_PAGE)
			kv_fill((uint64_t *)(m + o), 3, o);
		for (int h = 0; h < 4; h++)
			r[h] = (struct cxl_kv_range){ .head = h, .nr_blocks = c.blocks_per_stream };
		busy.phase = B_DEMOTE;
		t0 = kv_now();
		ret = kv_ioctl(fd, CXL_KV_DEMOTE, &q);
		dt = kv_now() - t0;
		dsum += dt;
		busy.phase = B_HOG;
		for (t0 = kv_now(); kv_now() - t0 < dt;)
			;
		busy.phase = B_RAW;
		if (raw_write_bw(kv_nvme(), half, 1 << 20, 8, RAW_OFF) <= 0)
			ret = -1;
		busy.phase = B_IDLE;
		usleep(dt * 1e6);
	}
	busy.phase = B_STOP;
	pthread_join(th, NULL);
	on_cpu(-1);
	for (size_t o = 0; o < busy.len && !ret; o += KV_PAGE)
		if (kv_check((const uint64_t *)(busy.a + o), 5, o))
			ret = -1;
	for (int ph = 0; ph < B_NPH; ph++) {
		res->n[ph] = busy.n[ph];
		if (!busy.n[ph]) {
			ret = -1;
			continue;
		}
		res->p50[ph] = pct(busy.v[ph], busy.n[ph], 0.5);
		res->p99[ph] = pct(busy.v[ph], busy.n[ph], 0.99);
		if (busy.pf[ph]) {
			res->vcsw[ph] = 1e3 * busy.vcsw[ph] / busy.pf[ph];
			res->ivcsw[ph] = 1e3 * busy.ivcsw[ph] / busy.pf[ph];
		}
	}
	res->demote_ms = dsum / BUSY_REPS * 1e3;
out_unmap:
	munmap(m, c.mmap_bytes);
	close(fd);
	return ret;
}

/* @b[0]: pinned, @b[1]: free; the first @n of them. */
static void busy_report(const struct busy_res *b, int n)
{
	for (int i = 0; i < n; i++) {
		const char *how = i ? "free" : "pinned";

		printf("# | resident fault p99 during DEMOTE, %s (us) | %.1f | same, no DEMOTE %.1f | %.2f |\n",
		       how, b[i].p99[B_DEMOTE], b[i].p99[B_IDLE],
		       b[i].p99[B_DEMOTE] / b[i].p99[B_IDLE]);
		printf("# | resident fault p99 next to a CPU hog, %s (us) | %.1f | same, no DEMOTE %.1f | %.2f |\n",
		       how, b[i].p99[B_HOG], b[i].p99[B_IDLE],
		       b[i].p99[B_HOG] / b[i].p99[B_IDLE]);
		printf("# | resident fault p99 next to raw writes, %s (us) | %.1f | same, no DEMOTE %.1f | %.2f |\n",
		       how, b[i].p99[B_RAW], b[i].p99[B_IDLE],
		       b[i].p99[B_RAW] / b[i].p99[B_IDLE]);
		printf("# %s: resident fault p50 (us): idle %.1f, DEMOTE %.1f, hog %.1f, raw %.1f; samples %d %d %d %d; DEMOTE of 32 MiB %.1f ms\n",
		       how, b[i].p50[B_IDLE], b[i].p50[B_DEMOTE], b[i].p50[B_HOG],
		       b[i].p50[B_RAW], b[i].n[B_IDLE], b[i].n[B_DEMOTE], b[i].n[B_HOG],
		       b[i].n[B_RAW], b[i].demote_ms);
		printf("# %s: reader context switches per 1000 faults, voluntary/involuntary: idle %.2f/%.2f, DEMOTE %.2f/%.2f, hog %.2f/%.2f, raw %.2f/%.2f\n",
		       how, b[i].vcsw[B_IDLE], b[i].ivcsw[B_IDLE], b[i].vcsw[B_DEMOTE],
		       b[i].ivcsw[B_DEMOTE], b[i].vcsw[B_HOG], b[i].ivcsw[B_HOG],
		       b[i].vcsw[B_RAW], b[i].ivcsw[B_RAW]);
	}
}

/* Both runs of fault_during_demote() (or the pinned one); 0 or -1. */
static int busy_both(int ctl, struct busy_res *b, int pinned_only)
{
	int ret = fault_during_demote(ctl, 1, &b[0]);

	T("fault_during_demote_pinned", ret == 0, "ret %d samples %d %d %d %d", ret,
	  b[0].n[B_IDLE], b[0].n[B_DEMOTE], b[0].n[B_HOG], b[0].n[B_RAW]);
	if (pinned_only)
		return ret;
	if (!ret)
		ret = fault_during_demote(ctl, 0, &b[1]);
	T("fault_during_demote_free", ret == 0, "ret %d samples %d %d %d %d", ret,
	  b[1].n[B_IDLE], b[1].n[B_DEMOTE], b[1].n[B_HOG], b[1].n[B_RAW]);
	return ret;
}

/*
 * "kv_bench busy": only the faults during DEMOTE (and the control); the
 * last line is
 *   busy-summary: pinned_demote_vs_idle=.. pinned_hog_vs_idle=.. pinned_raw_vs_idle=..
 *                 free_demote_vs_idle=.. free_hog_vs_idle=.. free_raw_vs_idle=..
 * (one line)
 */
static int busy_only(int ctl, int pinned_only)
{
	struct busy_res b[2] = { 0 };
	int ret;

	ktap_plan(3 - pinned_only);
	kv_detach_quiet(ctl);
	ret = kv_attach(ctl, 32768, 1, 96 << 20);
	T("attach", ret == 0, "ret %d", ret);
	busy_both(ctl, b, pinned_only);
	kv_detach_quiet(ctl);
	busy_report(b, 2 - pinned_only);
	ret = ktap_finish();
	if (!pinned_only)
		printf("busy-summary: pinned_demote_vs_idle=%.2f pinned_hog_vs_idle=%.2f pinned_raw_vs_idle=%.2f free_demote_vs_idle=%.2f free_hog_vs_idle=%.2f free_raw_vs_idle=%.2f\n",
		       b[0].p99[B_DEMOTE] / b[0].p99[B_IDLE],
		       b[0].p99[B_HOG] / b[0].p99[B_IDLE],
		       b[0].p99[B_RAW] / b[0].p99[B_IDLE],
		       b[1].p99[B_DEMOTE] / b[1].p99[B_IDLE],
		       b[1].p99[B_HOG] / b[1].p99[B_IDLE],
		       b[1].p99[B_RAW] / b[1].p99[B_IDLE]);
	close(ctl);
	return ret;
}

static int policy_no_readahead(int fd)
{
	struct cxl_kv_params p = { .mask = CXL_KV_PARAM_POLICY_FLAGS,
				   .policy_flags = CXL_KV_POLICY_F_PROTECT };

	return kv_ioctl(fd, CXL_KV_PARAMS_SET, &p);
}

int main(int argc, char **argv)
{
	struct cxl_kv_space_create c;
	double anon_ns = 0, kv_ns = 0, raw50 = 0, raw99 = 0, kv50 = 0, kv99 = 0;
	double raw_bw = 0, raw_bw4k = 0, kv_bw = 0, ioctl_rate = 0, uring_rate = 0;
	double demote_ratio = 0;
	struct busy_res busy_res[2] = { 0 };
	double pair[NSHAPES][BW_REPS], pair_med[NSHAPES] = { 0 };
	int ctl, fd, ret;
	char *m;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	if (kv_is_cxl())
		return ktap_skip_all("benchmarks run on the nvdimm topology (CXL emulation is MMIO-slow)");
	if (argc > 1 && !strcmp(argv[1], "busy"))
		return busy_only(ctl, argc > 2 && !strcmp(argv[2], "pinned"));
	ktap_plan(7);
	kv_detach_quiet(ctl);
	/*
	 * Write the module's slot area once before attaching: the drive image
	 * is a sparse file, and first writes to it cost host block allocation;
	 * the raw baselines overwrite written blocks too.
	 */
	raw_write_bw(kv_nvme(), 96 << 20, 1 << 20, 4, 0);
	ret = kv_attach(ctl, 32768, 1, 96 << 20);
	T("attach", ret == 0, "ret %d", ret);

	/*
	 * Raw write first: it also fills the raw region, so that the raw reads
	 * below read written blocks as the module's promotions do (holes of the
	 * emulated drive's image read back without any I/O).
	 */
	raw_bw4k = raw_write_bw(kv_nvme(), DEMOTE_PAGES * KV_PAGE, 4096, 64, RAW_OFF);

	/* 1: fault on a resident page vs anonymous fault */
	{
		size_t len = 2048 * KV_PAGE;
		char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double t0 = kv_now();

		for (size_t o = 0; o < len; o += KV_PAGE)
			a[o] = 1;
		anon_ns = (kv_now() - t0) * 1e9 / 2048;
		munmap(a, len);

		kv_geom(&c, 1, 1, 128, 1024 * 16);	/* 2048 pages */
		fd = kv_space(ctl, &c);
		m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		for (size_t o = 0; o < c.mmap_bytes; o += KV_PAGE)
			m[o] = 1;
		munmap(m, c.mmap_bytes);
		m = mmap(NULL, c.mmap_bytes, PROT_READ, MAP_SHARED, fd, 0);
		t0 = kv_now();
		for (size_t o = 0; o < c.mmap_bytes; o += KV_PAGE)
			(void)*(volatile char *)(m + o);
		kv_ns = (kv_now() - t0) * 1e9 / 2048;
		munmap(m, c.mmap_bytes);
		close(fd);
		T("fault_resident_vs_anon", kv_ns > 0 && anon_ns > 0, "-");
	}

	/* 2: promotion latency vs raw 4 KiB O_DIRECT read, interleaved rounds */
	{
		int rfd = open(kv_nvme(), O_RDONLY | O_DIRECT);
		unsigned int rnd = 1;
		void *buf = NULL;
		double t0;
		uint64_t done;

		ret = rfd < 0 || posix_memalign(&buf, 4096, 4096) ? -1 : 0;
		kv_geom(&c, 1, 1, 128, NLAT / 2 * 16);	/* NLAT pages */
		fd = kv_space(ctl, &c);
		policy_no_readahead(fd);
		m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		for (int i = 0; i < NLAT; i++)
			kv_fill((uint64_t *)(m + i * KV_PAGE), 9, i);
		kv_ranges(fd, CXL_KV_DEMOTE, 0, 0, 0, c.blocks_per_stream, &done);
		for (int r = 0; r < NLAT / LAT_ROUND && !ret; r++) {
			ret = raw_read_lat(rfd, buf, &rnd, rlat + r * LAT_ROUND, LAT_ROUND);
			for (int i = r * LAT_ROUND; i < (r + 1) * LAT_ROUND; i++) {
				t0 = kv_now();
				(void)*(volatile char *)(m + (size_t)((i * 7919) % NLAT) * KV_PAGE);
				lat[i] = (kv_now() - t0) * 1e6;
			}
		}
		raw50 = pct(rlat, NLAT, 0.5);
		raw99 = pct(rlat, NLAT, 0.99);
		kv50 = pct(lat, NLAT, 0.5);
		kv99 = pct(lat, NLAT, 0.99);
		munmap(m, c.mmap_bytes);
		close(fd);
		free(buf);
		if (rfd >= 0)
			close(rfd);
		T("promote_latency", ret == 0 && done == NLAT, "raw %d demoted %llu", ret,
		  (unsigned long long)done);
	}

	/*
	 * 3: demotion throughput vs raw O_DIRECT sequential writes of three
	 * shapes: 128 KiB QD8, 1 MiB QD4 and 1 MiB QD8 (the demoter's own: 8
	 * chunks of 1 MiB in flight).  Each raw run is followed at once by a
	 * DEMOTE run, BW_REPS of each shape.  The ratio is paired: the median,
	 * per shape, of DEMOTE / the raw run just before it, and the lowest of
	 * the three (the strongest raw shape).  TCG on a shared host drifts by
	 * tens of percent between runs seconds apart; a pair is taken within
	 * about 100 ms, so the drift cancels, and the median keeps one lucky or
	 * unlucky run from deciding.  The best of all runs of each kind is
	 * reported too, as is raw 4 KiB QD64 (far lower).
	 */
	ret = 0;
	for (int rep = 0; rep < BW_REPS && !ret; rep++) {
		for (size_t k = 0; k < NSHAPES && !ret; k++) {
			double bw = raw_write_bw(kv_nvme(), DEMOTE_PAGES * KV_PAGE,
						 raw_shape[k].bs, raw_shape[k].qd, RAW_OFF);
			double kbw = demote_bw(ctl, &ret);

			raw_bw = bw > raw_bw ? bw : raw_bw;
			kv_bw = kbw > kv_bw ? kbw : kv_bw;
			pair[k][rep] = bw > 0 ? kbw / bw : 0;
		}
	}
	for (size_t k = 0; k < NSHAPES && !ret; k++) {
		pair_med[k] = pct(pair[k], BW_REPS, 0.5);
		if (!k || pair_med[k] < demote_ratio)
			demote_ratio = pair_med[k];
	}
	T("demote_bandwidth", ret == 0 && raw_bw > 0 && kv_bw > 0, "ret %d raw %.1f", ret, raw_bw);

	/* 4: hints: per-hint ioctl vs batched uring_cmd */
	{
		static struct cxl_kv_hint h[4096];
		struct cxl_kv_hints q[8];
		struct io_uring ring;
		uint64_t n = 0;
		double t0, end;

		kv_geom(&c, 8, 8, 128, 64 * 16);
		fd = kv_space(ctl, &c);
		for (int i = 0; i < 4096; i++)
			h[i] = (struct cxl_kv_hint){ .layer = i % 8, .head = (i / 8) % 8,
						     .block = (i / 64) % 64, .score = i * 16 };
		t0 = kv_now();
		end = t0 + 1.0;
		while (kv_now() < end) {
			struct cxl_kv_hints one = { .step = n, .hints = (uintptr_t)&h[n % 4096],
						    .count = 1 };

			for (int i = 0; i < 64; i++, n++)
				kv_ioctl(fd, CXL_KV_HINTS, &one);
		}
		ioctl_rate = n / (kv_now() - t0);

		io_uring_queue_init(16, &ring, 0);
		n = 0;
		t0 = kv_now();
		end = t0 + 1.0;
		while (kv_now() < end) {
			struct io_uring_cqe *cqe;

			for (int i = 0; i < 8; i++) {
				q[i] = (struct cxl_kv_hints){ .step = n, .hints = (uintptr_t)h,
							      .count = 4096 };
				kv_prep_cmd(io_uring_get_sqe(&ring), fd, CXL_KV_HINTS, &q[i],
					    sizeof(q[i]), i);
			}
			io_uring_submit(&ring);
			for (int i = 0; i < 8; i++) {
				io_uring_wait_cqe(&ring, &cqe);
				if (cqe->res == 0)
					n += 4096;
				io_uring_cqe_seen(&ring, cqe);
			}
		}
		uring_rate = n / (kv_now() - t0);
		io_uring_queue_exit(&ring);
		close(fd);
		T("hints_rate", ioctl_rate > 0 && uring_rate > 0, "-");
	}
	/* 5: faults on resident pages while a DEMOTE of other pages runs */
	busy_both(ctl, busy_res, 0);
	kv_detach_quiet(ctl);

	printf("# | benchmark | cxl_kv | baseline | ratio |\n");
	printf("# | fault on a resident page (ns) | %.0f | anon fault %.0f | %.2f |\n",
	       kv_ns, anon_ns, kv_ns / anon_ns);
	printf("# | promotion p50 (us) | %.1f | raw O_DIRECT 4K read %.1f | %.2f |\n",
	       kv50, raw50, kv50 / raw50);
	printf("# | promotion p99 (us) | %.1f | raw O_DIRECT 4K read %.1f | %.2f |\n",
	       kv99, raw99, kv99 / raw99);
	printf("# | demotion (MiB/s), best run | %.1f | raw O_DIRECT write, best run of 128K QD8, 1M QD4, 1M QD8 %.1f | %.2f |\n",
	       kv_bw, raw_bw, kv_bw / raw_bw);
	for (size_t k = 0; k < NSHAPES; k++)
		printf("# | demotion, median of %d pairs | - | raw run just before, %zuK QD%u | %.2f |\n",
		       BW_REPS, raw_shape[k].bs >> 10, raw_shape[k].qd, pair_med[k]);
	printf("# | demotion (MiB/s) | %.1f | raw O_DIRECT write 4K QD64 %.1f | %.2f |\n",
	       kv_bw, raw_bw4k, kv_bw / raw_bw4k);
	busy_report(busy_res, 2);
	printf("# | score hints (1/s) | uring batched %.0f | ioctl per hint %.0f | %.1f |\n",
	       uring_rate, ioctl_rate, uring_rate / ioctl_rate);
	ret = ktap_finish();
	printf("kernel-summary: promote_p50_vs_raw=%.2f demote_bw_vs_raw=%.2f hints_uring_vs_ioctl=%.1f\n",
	       kv50 / raw50, demote_ratio, uring_rate / ioctl_rate);
	close(ctl);
	return ret;
}
