// SPDX-License-Identifier: GPL-2.0
/*
 * kv_bench_compress - the cold formats measured through the module
 * (make bench-compress; nvdimm topology, figures of one run compared).
 *
 * One space per format (raw, lossless, int8, fp8, int4), each holding the
 * same synthetic KV (kvq_gen_stream(): 4 layers x 2 heads x 4096 tokens of
 * head_dim 128, fp16; 16 MiB), all on one tier set, measured interleaved
 * (each demotion rep and each promotion probe goes over every format in
 * turn, so that the host's drift hits them alike):
 *
 *   ratio      logical bytes demoted / NVMe bytes written (the module's
 *              nvme_write_bytes), over DEMOTE_REPS demotions of the whole
 *              space (rewritten between, so every page is written);
 *   demote     MiB/s of logical data of those DEMOTEs (one ioctl each);
 *   promote    p50 / p99 of a PROMOTE of one block (its K and V page), over
 *              NPROBE random blocks, in microseconds;
 *   attn_err   relative error of softmax(q K^T / sqrt(d)) V (kvq.h) of four
 *              (layer, head) pairs over all their tokens, original vs the
 *              pages as the module gives them back after the demotion;
 *   check      lossless and raw read back bit-exact, lossy formats exactly
 *              the codec's own round trip (else the program fails).
 *
 * Prints one "compress-fmt:" line per format and ends on
 *   compress-summary: int8_ratio=R int8_promote_vs_raw=P int8_attn_err=E lossless_ratio=L
 * (promote_vs_raw: int8's PROMOTE p50 / raw's; also int8_demote_vs_raw).
 */
#include <math.h>

#include "kv_test.h"
#include "kv_compress.h"
#include "kvq.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define LAYERS	4
#define HEADS	2
#define HDIM	128
#define TOKENS	4096
#define BPH	(TOKENS / 16)
#define STREAMS	(LAYERS * HEADS * 2)
#define PAGES	(STREAMS * BPH)
#define EL	2048			/* elements per page */
#define NFMT	5
#define DEMOTE_REPS 2
#define NPROBE	256

static const uint64_t fmts[NFMT] = {
	CXL_KV_FMT_RAW, CXL_KV_FMT_LOSSLESS, CXL_KV_FMT_INT8, CXL_KV_FMT_FP8,
	CXL_KV_FMT_INT4,
};
static const char *const names[NFMT] = { "raw", "lossless", "int8", "fp8", "int4" };

struct res {
	double ratio, demote_mibs, p50, p99, attn;
	int ok;
};

static uint16_t *orig, *want;

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int move_all(int fd, unsigned long cmd, uint64_t *done)
{
	return kvc_move_streams(fd, cmd, LAYERS, HEADS, BPH, done);
}

/* The codec's round trip of every page (raw where it refuses). */
static void expect(int f)
{
	for (uint64_t pg = 0; pg < PAGES; pg++)
		kvc_expect((uint64_t)f, HDIM, BPH, pg, orig + pg * EL,
			   want + pg * EL);
}

struct fsp {
	int fd;
	char *m;
	size_t len;
	struct cxl_kv_stats s0;
	double t_demote;
};

static struct fsp F[NFMT];

static int open_fmt(int ctl, int fi)
{
	struct cxl_kv_space_create c;

	kv_geom(&c, LAYERS, HEADS, HDIM, TOKENS);
	CXL_KV_SPACE_COLD_FORMAT(&c) = fmts[fi];
	F[fi].fd = kv_space(ctl, &c);
	if (F[fi].fd < 0)
		return F[fi].fd;
	F[fi].len = c.mmap_bytes;
	F[fi].m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		       F[fi].fd, 0);
	return F[fi].m == MAP_FAILED ? -ENOMEM : 0;
}

/* One whole-space DEMOTE of freshly written pages, timed. */
static int demote_fmt(int fi)
{
	uint64_t done = 0;
	double t0;
	int ret;

	memcpy(F[fi].m, orig, (size_t)PAGES * KV_PAGE);	/* dirty again */
	t0 = kv_now();
	ret = move_all(F[fi].fd, CXL_KV_DEMOTE, &done);
	F[fi].t_demote += kv_now() - t0;
	return ret ?: done == PAGES ? 0 : -EAGAIN;
}

/* Check every page against the codec; attention error of 4 (layer, head)s. */
static void check_fmt(int fi, struct res *r)
{
	char *m = F[fi].m;
	uint64_t bad = 0;
	double err = 0;
	int ret;

	expect((int)fmts[fi]);
	ret = move_all(F[fi].fd, CXL_KV_PROMOTE, NULL);
	for (uint64_t pg = 0; pg < PAGES; pg++)
		bad += !!memcmp(m + pg * KV_PAGE, want + pg * EL, KV_PAGE);
	for (int q = 0; q < LAYERS * HEADS; q += 2) {
		const uint16_t *k = orig + (size_t)(2 * q) * BPH * EL;
		const uint16_t *v = k + (size_t)BPH * EL;
		const uint16_t *k2 = (const uint16_t *)(m + (size_t)(2 * q) * BPH * KV_PAGE);
		const uint16_t *v2 = k2 + (size_t)BPH * EL;

		err += kvq_attn_err(0, TOKENS, HDIM, k, v, k2, v2, 4,
				    (uint64_t)q) / (LAYERS * HEADS / 2);
	}
	r->attn = err;
	r->ok = !ret && !bad;
	if (!r->ok)
		ktap_diag("%s: PROMOTE %d, %llu pages differ from the codec",
			  names[fi], ret, (unsigned long long)bad);
}

/*
 * Everything is measured interleaved across the formats (the loaded host
 * drifts by tens of percent over seconds): demotions rep by rep, promotion
 * probes one block per format in turn.
 */
static int run_all(int ctl, struct res *r)
{
	static double lat[NFMT][NPROBE];
	struct kvq_rng rng = { 99 };
	int ret;

	for (int i = 0; i < NFMT; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		ret = open_fmt(ctl, i);
		if (ret) {
			ktap_diag("%s: SPACE_CREATE/mmap %d", names[i], ret);
			return ret;
		}
		kv_stats(F[i].fd, CXL_KV_SPACE_STATS, &F[i].s0);
	}
	for (int rep = 0; rep < DEMOTE_REPS; rep++)
		for (int i = 0; i < NFMT; i++) {
			ret = demote_fmt(i);
			if (ret) {
				ktap_diag("%s: DEMOTE %d", names[i], ret);
				return ret;
			}
		}
	for (int i = 0; i < NFMT; i++) {
		struct cxl_kv_stats s1;

		kv_stats(F[i].fd, CXL_KV_SPACE_STATS, &s1);
		r[i].ratio = (double)(s1.demotions - F[i].s0.demotions) * KV_PAGE /
			     (double)(s1.nvme_write_bytes - F[i].s0.nvme_write_bytes);
		r[i].demote_mibs = (double)DEMOTE_REPS * PAGES * KV_PAGE /
				   (1 << 20) / F[i].t_demote;
	}
	for (int p = 0; p < NPROBE; p++) {
		uint16_t l = (uint16_t)(kvq_urand(&rng) * LAYERS);
		uint16_t h = (uint16_t)(kvq_urand(&rng) * HEADS);
		uint32_t b = (uint32_t)(kvq_urand(&rng) * BPH);

		for (int i = 0; i < NFMT; i++) {
			double t0 = kv_now();

			ret = kv_ranges(F[i].fd, CXL_KV_PROMOTE, l, h, b, 1, NULL);
			lat[i][p] = (kv_now() - t0) * 1e6;
			if (ret) {
				ktap_diag("%s: PROMOTE %d", names[i], ret);
				return ret;
			}
			/* back to cold without I/O (clean drop) */
			kv_ranges(F[i].fd, CXL_KV_DEMOTE, l, h, b, 1, NULL);
		}
	}
	for (int i = 0; i < NFMT; i++) {
		qsort(lat[i], NPROBE, sizeof(lat[i][0]), cmp_d);
		r[i].p50 = lat[i][NPROBE / 2];
		r[i].p99 = lat[i][NPROBE * 99 / 100];
		check_fmt(i, &r[i]);
	}
	return 0;
}

int main(void)
{
	struct res r[NFMT];
	int ctl, ret;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	if (kv_is_cxl())
		return ktap_skip_all("benchmarks run on the nvdimm topology");
	ktap_plan(1 + NFMT);
	orig = malloc((size_t)PAGES * KV_PAGE);
	want = malloc((size_t)PAGES * KV_PAGE);
	if (!orig || !want)
		return ktap_skip_all("no memory");
	for (int s = 0; s < STREAMS; s += 2)
		kvq_gen_stream((uint64_t)s + 1, TOKENS, HDIM, 0,
			       orig + (size_t)s * BPH * EL,
			       orig + (size_t)(s + 1) * BPH * EL);
	kv_detach_quiet(ctl);
	ret = kv_attach(ctl, 2 * PAGES, 1, 256ULL << 20);
	T("attach", !ret, "%d", ret);
	printf("compress-head: %-8s %7s %12s %10s %10s %9s\n", "format",
	       "ratio", "demote_MiB/s", "prom_p50us", "prom_p99us", "attn_err");
	memset(r, 0, sizeof(r));
	run_all(ctl, r);
	for (int i = 0; i < NFMT; i++) {
		char n[32];

		printf("compress-fmt: %-8s %7.3f %12.1f %10.1f %10.1f %9.4f\n",
		       names[i], r[i].ratio, r[i].demote_mibs, r[i].p50, r[i].p99,
		       r[i].attn);
		fflush(stdout);
		snprintf(n, sizeof(n), "%s_measured_exact", names[i]);
		T(n, r[i].ok, "see above");
	}
	for (int i = 0; i < NFMT; i++) {
		if (F[i].m && F[i].m != MAP_FAILED)
			munmap(F[i].m, F[i].len);
		if (F[i].fd > 0)
			close(F[i].fd);
	}
	kv_detach_quiet(ctl);
	printf("compress-vs-raw: demote int8 %.2fx fp8 %.2fx int4 %.2fx lossless %.2fx; promote p50 int8 %.2fx fp8 %.2fx int4 %.2fx lossless %.2fx; p99 int8 %.2fx\n",
	       r[2].demote_mibs / r[0].demote_mibs, r[3].demote_mibs / r[0].demote_mibs,
	       r[4].demote_mibs / r[0].demote_mibs, r[1].demote_mibs / r[0].demote_mibs,
	       r[2].p50 / r[0].p50, r[3].p50 / r[0].p50, r[4].p50 / r[0].p50,
	       r[1].p50 / r[0].p50, r[2].p99 / r[0].p99);
	printf("compress-summary: int8_ratio=%.3f int8_promote_vs_raw=%.2f int8_attn_err=%.4f lossless_ratio=%.3f int8_demote_vs_raw=%.2f\n",
	       r[2].ratio, r[2].p50 / r[0].p50, r[2].attn, r[1].ratio,
	       r[2].demote_mibs / r[0].demote_mibs);
	free(orig);
	free(want);
	close(ctl);
	return ktap_finish();
}
