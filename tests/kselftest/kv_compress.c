// SPDX-License-Identifier: GPL-2.0
/*
 * kv_compress - cold formats through the module (issue 14).
 *
 * The pages are synthetic KV (kvq_gen_stream(), fp16 or bf16), the
 * expected contents of a promoted page are the codec's own round trip of
 * it (the same driver/codec/kvcodec.c the module runs, linked here), raw
 * for a page the codec refuses:
 *
 *  - SPACE_CREATE: feature bit, unknown formats and flags, a lossy format
 *    or BF16 with dtype_bytes 4, reserved[1..3]: -EINVAL; lossless with
 *    dtype_bytes 4 is fine;
 *  - per format (raw, lossless, int8, fp8, int4, int8-bf16), spaces alive
 *    together on one tier set, their DEMOTEs interleaved: every demoted
 *    page reads back (faults on half, PROMOTE on the other half) exactly
 *    the codec's output; lossless and raw bit-exact; a page never demoted
 *    bit-exact; a page holding a NaN bit-exact; NVMe bytes written per
 *    demoted page at most the packed object sizes plus unit padding, and
 *    for int8 at most 4096 / 1.85;
 *  - a promoted page demoted again without a write is dropped clean and
 *    reads the same; rewritten pages demote and read their new values;
 *  - one PROMOTE of every int8 page reads each sector of the objects once
 *    (objects side by side share a read): NVMe bytes read at most the
 *    bytes the DEMOTE wrote, and the pages read the codec's output;
 *  - closing the spaces gives every slot back (INFO cold_used 0);
 *  - I/O errors (dm "error" under the cold tier): a fault on a cold page
 *    raises SIGBUS, PROMOTE fails with -EIO and the page stays cold; a
 *    DEMOTE of rewritten pages fails and they stay warm, intact; back to
 *    "linear", every page reads its expected contents.
 */
#include <math.h>

#include "kv_test.h"
#include "kv_compress.h"
#include "kv_dm.h"
#include "kvq.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define LAYERS	2
#define HEADS	2
#define HDIM	128
#define TOKENS	256		/* 16 pages per stream */
#define BPH	(TOKENS / 16)
#define STREAMS	(LAYERS * HEADS * 2)
#define PAGES	(STREAMS * BPH)
#define NFMT	6
#define DM_NAME	"cxlkv_compress"
#define DM_SECTORS (64ULL << 11)
#define NIOERR	8		/* cases of ioerr_cases() */
#define NCASES	(9 + 2 + 7 * NFMT - 5 + 1 + 1 + NIOERR)

static const uint64_t fmts[NFMT] = {
	CXL_KV_FMT_RAW, CXL_KV_FMT_LOSSLESS, CXL_KV_FMT_INT8, CXL_KV_FMT_FP8,
	CXL_KV_FMT_INT4, CXL_KV_FMT_INT8 | CXL_KV_FMT_F_BF16,
};
static const char *const names[NFMT] = {
	"raw", "lossless", "int8", "fp8", "int4", "int8-bf16",
};

struct sp {
	int fd;
	uint64_t fmt;
	char *m;
	uint16_t *orig;		/* what was written */
	uint16_t *want;		/* what a promoted page must hold */
	uint64_t obj_bytes;	/* sum of the objects' sizes */
	uint64_t raw_pages;	/* pages the codec refuses */
};

static struct sp S[NFMT];
static struct kv_dm dm;

/* Expected contents of page @pg after a demotion: the codec's round trip. */
static void expect_page(struct sp *s, uint64_t pg)
{
	uint32_t len = kvc_expect(s->fmt, HDIM, BPH, pg, s->orig + pg * 2048,
				  s->want + pg * 2048);

	if (!len) {
		s->raw_pages++;
		return;
	}
	s->obj_bytes += (len + 15) / 16 * 16;
}

static void fill(struct sp *s, uint64_t seed)
{
	int bf16 = !!(s->fmt & CXL_KV_FMT_F_BF16);

	s->obj_bytes = s->raw_pages = 0;
	for (int st = 0; st < STREAMS; st += 2)
		kvq_gen_stream(seed * 100 + (uint64_t)st, TOKENS, HDIM, bf16,
			       s->orig + (size_t)st * BPH * 2048,
			       s->orig + (size_t)(st + 1) * BPH * 2048);
	/* one page with a NaN: stays raw */
	s->orig[(size_t)3 * 2048 + 17] = bf16 ? 0x7fc0 : 0x7e00;
	memcpy(s->m, s->orig, (size_t)PAGES * KV_PAGE);
	for (uint64_t pg = 0; pg < PAGES; pg++)
		expect_page(s, pg);
}

/* Pages of @s differing from @ref (first one reported). */
static uint64_t compare(struct sp *s, const uint16_t *ref, const char *what)
{
	uint64_t bad = 0;

	for (uint64_t pg = 0; pg < PAGES; pg++) {
		const uint16_t *a = (const uint16_t *)(s->m + pg * KV_PAGE);
		const uint16_t *b = ref + pg * 2048;

		if (!memcmp(a, b, KV_PAGE))
			continue;
		if (!bad++)
			for (int i = 0; i < 2048; i++)
				if (a[i] != b[i]) {
					ktap_diag("%s %s: page %llu el %d: %#x, want %#x",
						  names[s - S], what,
						  (unsigned long long)pg, i,
						  a[i], b[i]);
					break;
				}
	}
	return bad;
}

static int move_all(int fd, unsigned long cmd, int layers, uint64_t *done)
{
	return kvc_move_streams(fd, cmd, layers, HEADS, BPH, done);
}

static int create(int ctl, uint64_t fmt, uint32_t dtype)
{
	struct cxl_kv_space_create c;

	kv_geom(&c, LAYERS, HEADS, dtype == 2 ? HDIM : HDIM / 2, TOKENS);
	c.dtype_bytes = dtype;
	CXL_KV_SPACE_COLD_FORMAT(&c) = fmt;
	return kv_space(ctl, &c);
}

static void create_cases(int ctl)
{
	struct cxl_kv_features f = { 0 };
	struct cxl_kv_space_create c;
	int fd;

	T("feature_bit", !kv_ioctl(ctl, CXL_KV_GET_FEATURES, &f) &&
	  (f.features & CXL_KV_F_COLD_FORMAT), "features %#llx",
	  (unsigned long long)f.features);
	T("unknown_format", create(ctl, CXL_KV_FMT_NR, 2) == -EINVAL, "-");
	T("unknown_flag", create(ctl, CXL_KV_FMT_INT8 | (1ULL << 9), 2) == -EINVAL, "-");
	T("high_bits", create(ctl, 1ULL << 40, 2) == -EINVAL, "-");
	T("lossy_needs_2_bytes", create(ctl, CXL_KV_FMT_FP8, 4) == -EINVAL &&
	  create(ctl, CXL_KV_FMT_INT4, 1) == -EINVAL, "-");
	T("bf16_needs_2_bytes", create(ctl, CXL_KV_FMT_F_BF16, 4) == -EINVAL, "-");
	fd = create(ctl, CXL_KV_FMT_LOSSLESS, 4);
	T("lossless_any_dtype", fd >= 0, "%d", fd);
	if (fd >= 0)
		close(fd);
	kv_geom(&c, LAYERS, HEADS, HDIM, TOKENS);
	c.reserved[1] = 1;
	T("reserved_1", kv_space(ctl, &c) == -EINVAL, "-");
	c.reserved[1] = 0;
	c.reserved[3] = 1;
	T("reserved_3", kv_space(ctl, &c) == -EINVAL, "-");
}

static int open_spaces(int ctl)
{
	for (int i = 0; i < NFMT; i++) {
		S[i].fmt = fmts[i];
		S[i].fd = create(ctl, fmts[i], 2);
		if (S[i].fd < 0)
			return S[i].fd;
		S[i].m = mmap(NULL, (size_t)PAGES * KV_PAGE, PROT_READ | PROT_WRITE,
			      MAP_SHARED, S[i].fd, 0);
		S[i].orig = malloc((size_t)PAGES * KV_PAGE);
		S[i].want = malloc((size_t)PAGES * KV_PAGE);
		if (S[i].m == MAP_FAILED || !S[i].orig || !S[i].want)
			return -ENOMEM;
	}
	return 0;
}

static void close_spaces(void)
{
	for (int i = 0; i < NFMT; i++) {
		if (S[i].m && S[i].m != MAP_FAILED)
			munmap(S[i].m, (size_t)PAGES * KV_PAGE);
		if (S[i].fd >= 0)
			close(S[i].fd);
		free(S[i].orig);
		free(S[i].want);
		memset(&S[i], 0, sizeof(S[i]));
		S[i].fd = -1;
	}
}

/* Formats that keep every bit. */
static int exact(int i)
{
	return fmts[i] == CXL_KV_FMT_RAW || fmts[i] == CXL_KV_FMT_LOSSLESS;
}

static void roundtrip_cases(void)
{
	struct cxl_kv_stats s0[NFMT], s1[NFMT];
	uint64_t done[NFMT];
	int ret[NFMT];

	for (int i = 0; i < NFMT; i++) {
		fill(&S[i], (uint64_t)i + 1);
		kv_stats(S[i].fd, CXL_KV_SPACE_STATS, &s0[i]);
	}
	/* layer 0 of every space, interleaved; layer 1 stays warm */
	for (int h = 0; h < HEADS; h++)
		for (int i = 0; i < NFMT; i++)
			ret[i] = kv_ranges(S[i].fd, CXL_KV_DEMOTE, 0, (uint16_t)h, 0,
					   BPH, &done[i]);
	for (int i = 0; i < NFMT; i++) {
		uint64_t pages = (uint64_t)HEADS * 2 * BPH, wr, bound;
		char n[64];

		kv_stats(S[i].fd, CXL_KV_SPACE_STATS, &s1[i]);
		wr = s1[i].nvme_write_bytes - s0[i].nvme_write_bytes;
		/* layer 0 holds the NaN page (stream 0, page 3) */
		bound = exact(i) ? pages * KV_PAGE :
			S[i].obj_bytes / 2 + KV_PAGE * (1 + 2 * HEADS) + KV_PAGE;
		snprintf(n, sizeof(n), "%s_demote", names[i]);
		T(n, !ret[i] && s1[i].demotions - s0[i].demotions == pages &&
		  wr <= bound, "ret %d demoted %llu of %llu, %llu bytes written (bound %llu)",
		  ret[i], (unsigned long long)(s1[i].demotions - s0[i].demotions),
		  (unsigned long long)pages, (unsigned long long)wr,
		  (unsigned long long)bound);
	}
	/* PROMOTE head 1, fault head 0 in */
	for (int i = 0; i < NFMT; i++) {
		uint64_t d = 0;
		int r = kv_ranges(S[i].fd, CXL_KV_PROMOTE, 0, 1, 0, BPH, &d);
		char n[64];

		snprintf(n, sizeof(n), "%s_promote", names[i]);
		T(n, !r, "PROMOTE: %d", r);
	}
	for (int i = 0; i < NFMT; i++) {
		char n[64];
		/* layer 1 (never demoted) must be bit-exact: compare with orig */
		uint64_t bad_orig = 0, bad;

		for (uint64_t pg = 0; pg < PAGES; pg++) {
			uint64_t st = pg / BPH;

			if (st / 2 / HEADS == 1 &&
			    memcmp(S[i].m + pg * KV_PAGE,
				   (char *)S[i].orig + pg * KV_PAGE, KV_PAGE))
				bad_orig++;
			if (st / 2 / HEADS == 1)
				memcpy((char *)S[i].want + pg * KV_PAGE,
				       (char *)S[i].orig + pg * KV_PAGE, KV_PAGE);
		}
		snprintf(n, sizeof(n), "%s_never_demoted_exact", names[i]);
		T(n, !bad_orig, "%llu pages differ", (unsigned long long)bad_orig);
		bad = compare(&S[i], exact(i) ? S[i].orig : S[i].want, "read back");
		snprintf(n, sizeof(n), "%s_reads_codec_output", names[i]);
		T(n, !bad, "%llu pages differ", (unsigned long long)bad);
	}
	/* demote again without writing: clean drops, same contents */
	for (int i = 0; i < NFMT; i++) {
		struct cxl_kv_stats a, b;
		uint64_t bad;
		char n[64];

		kv_stats(S[i].fd, CXL_KV_SPACE_STATS, &a);
		move_all(S[i].fd, CXL_KV_DEMOTE, 1 /* layer 0 */, NULL);
		kv_stats(S[i].fd, CXL_KV_SPACE_STATS, &b);
		bad = compare(&S[i], exact(i) ? S[i].orig : S[i].want, "clean drop");
		snprintf(n, sizeof(n), "%s_clean_drop", names[i]);
		T(n, !bad && b.clean_drops - a.clean_drops == (uint64_t)HEADS * 2 * BPH &&
		  b.nvme_write_bytes == a.nvme_write_bytes,
		  "%llu differ, %llu clean drops, %llu bytes written", (unsigned long long)bad,
		  (unsigned long long)(b.clean_drops - a.clean_drops),
		  (unsigned long long)(b.nvme_write_bytes - a.nvme_write_bytes));
	}
	/* rewrite everything, demote all layers at once, read back */
	for (int i = 0; i < NFMT; i++) {
		struct cxl_kv_stats a, b;
		uint64_t bad, d = 0, wr;
		int r;
		char n[64];

		fill(&S[i], (uint64_t)i + 50);
		kv_stats(S[i].fd, CXL_KV_SPACE_STATS, &a);
		r = move_all(S[i].fd, CXL_KV_DEMOTE, LAYERS, &d);
		kv_stats(S[i].fd, CXL_KV_SPACE_STATS, &b);
		wr = b.nvme_write_bytes - a.nvme_write_bytes;
		/*
		 * One DEMOTE, a chunk per stream (16 pages: K, then V): the
		 * objects packed, the raw NaN page and at most one partial
		 * unit per chunk.
		 */
		if (fmts[i] == CXL_KV_FMT_INT8)
			T("int8_ratio", wr * 170 <= (uint64_t)PAGES * KV_PAGE * 100 &&
			  wr <= S[i].obj_bytes + (1 + STREAMS) * KV_PAGE,
			  "%llu bytes for %d pages (objects %llu)",
			  (unsigned long long)wr, PAGES,
			  (unsigned long long)S[i].obj_bytes);
		if (fmts[i] == CXL_KV_FMT_LOSSLESS)
			ktap_diag("lossless: %llu bytes for %d pages (ratio %.3f)",
				  (unsigned long long)wr, PAGES,
				  wr ? (double)PAGES * KV_PAGE / (double)wr : 0);
		bad = compare(&S[i], exact(i) ? S[i].orig : S[i].want, "rewritten");
		snprintf(n, sizeof(n), "%s_rewrite", names[i]);
		T(n, !r && !bad, "DEMOTE %d (%llu), %llu pages differ", r,
		  (unsigned long long)d, (unsigned long long)bad);
	}
}

/*
 * int8, rewritten, demoted at once and promoted at once: the objects of a
 * chunk lie side by side in its units, so the promotion reads no sector
 * twice and no more than the demotion wrote.  Reading each object's own
 * sectors apart reads the sectors two objects share twice: about 2.7 KiB
 * an object of 2.2, above the units written.
 */
static void batched_read_case(void)
{
	struct sp *s = &S[2];
	struct cxl_kv_stats a, b, c;
	uint64_t d = 0, wr, rd, bad;
	int r1, r2;

	fill(s, 90);
	kv_stats(s->fd, CXL_KV_SPACE_STATS, &a);
	r1 = move_all(s->fd, CXL_KV_DEMOTE, LAYERS, &d);
	kv_stats(s->fd, CXL_KV_SPACE_STATS, &b);
	r2 = move_all(s->fd, CXL_KV_PROMOTE, LAYERS, &d);
	kv_stats(s->fd, CXL_KV_SPACE_STATS, &c);
	wr = b.nvme_write_bytes - a.nvme_write_bytes;
	rd = c.nvme_read_bytes - b.nvme_read_bytes;
	bad = compare(s, s->want, "batched read");
	ktap_diag("int8: %llu bytes written, %llu read for %d pages",
		  (unsigned long long)wr, (unsigned long long)rd, PAGES);
	T("int8_promote_reads_each_sector_once",
	  !r1 && !r2 && !bad && rd && rd <= wr,
	  "DEMOTE %d PROMOTE %d, %llu pages differ, %llu bytes read, %llu written",
	  r1, r2, (unsigned long long)bad, (unsigned long long)rd,
	  (unsigned long long)wr);
}

/* Cold tier on a dm device over CXLKV_NVME2, then "error". */
static void ioerr_cases(int ctl)
{
	char devt[32], table[96];
	struct cxl_kv_attach a;
	struct sp *s = &S[2];	/* int8 */
	uint64_t d = 0, bad;
	int ret, nsig = 0;

	if (kv_devt(kv_nvme2(), devt, sizeof(devt)) ||
	    kv_dm_open(&dm, DM_NAME, DM_SECTORS)) {
		for (int i = 0; i < NIOERR; i++)
			ktap_skip("ioerr", "no dm control device");
		return;
	}
	snprintf(table, sizeof(table), "%s 0", devt);
	if (kv_dm_create(&dm, "linear", table)) {
		for (int i = 0; i < NIOERR; i++)
			ktap_skip("ioerr", "no dm-linear");
		kv_dm_remove(&dm);
		return;
	}
	kv_attach_req(&a, 1024, 1, DM_SECTORS << 9);
	a.cold[0].path = (uintptr_t)dm.path;
	ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	T("ioerr_attach", !ret, "%d", ret);
	if (ret)
		goto out;
	s->fmt = fmts[2];
	s->fd = create(ctl, s->fmt, 2);
	s->m = mmap(NULL, (size_t)PAGES * KV_PAGE, PROT_READ | PROT_WRITE,
		    MAP_SHARED, s->fd, 0);
	s->orig = malloc((size_t)PAGES * KV_PAGE);
	s->want = malloc((size_t)PAGES * KV_PAGE);
	if (s->fd < 0 || s->m == MAP_FAILED || !s->orig || !s->want) {
		T("ioerr_space", 0, "fd %d", s->fd);
		goto out_space;
	}
	fill(s, 77);
	ret = move_all(s->fd, CXL_KV_DEMOTE, LAYERS, &d);
	T("ioerr_demote_linear", !ret && d == PAGES, "%d, %llu", ret,
	  (unsigned long long)d);
	if (kv_dm_switch(&dm, "error", "")) {
		T("ioerr_switch", 0, "-");
		goto out_space;
	}
	for (uint64_t pg = 0; pg < BPH; pg++)
		nsig += kv_probe(s->m + pg * KV_PAGE) == SIGBUS;
	T("ioerr_fault_sigbus", nsig == BPH, "%d of %d", nsig, BPH);
	ret = kv_ranges(s->fd, CXL_KV_PROMOTE, 1, 0, 0, BPH, &d);
	T("ioerr_promote_eio", ret == -EIO, "%d", ret);
	{
		struct cxl_kv_residency r;
		uint64_t bm[1];

		kv_resident(s->fd, 1, 0, 0, BPH, &r, bm);
		T("ioerr_stays_cold", r.nr_cold == BPH, "%u cold blocks",
		  r.nr_cold);
	}
	if (kv_dm_switch(&dm, "linear", table)) {
		T("ioerr_switch_back", 0, "-");
		goto out_space;
	}
	/* the failed reads left their pages cold: PROMOTE reads them again */
	ret = move_all(s->fd, CXL_KV_PROMOTE, LAYERS, &d);
	bad = compare(s, s->want, "after errors");
	T("ioerr_then_exact", !ret && !bad, "PROMOTE %d, %llu pages differ", ret,
	  (unsigned long long)bad);
	/* write errors: rewritten pages stay warm, intact */
	fill(s, 78);
	kv_dm_switch(&dm, "error", "");
	ret = move_all(s->fd, CXL_KV_DEMOTE, LAYERS, &d);
	bad = compare(s, s->orig, "failed write-back");
	T("ioerr_write_fails_stays_warm", ret == -EIO && !bad,
	  "DEMOTE %d, %llu pages differ", ret, (unsigned long long)bad);
	kv_dm_switch(&dm, "linear", table);
	ret = move_all(s->fd, CXL_KV_DEMOTE, LAYERS, &d);
	bad = compare(s, s->want, "demoted after errors");
	T("ioerr_recovers", !ret && !bad, "DEMOTE %d, %llu differ", ret,
	  (unsigned long long)bad);
out_space:
	close_spaces();
	kv_detach_quiet(ctl);
out:
	kv_dm_remove(&dm);
}

int main(void)
{
	struct cxl_kv_info info;
	int ctl, ret;

	ktap_plan(NCASES);
	if (kv_preamble(&ctl))
		return ktap_skip_all("no module or warm node");
	for (int i = 0; i < NFMT; i++)
		S[i].fd = -1;
	kv_detach_quiet(ctl);
	ret = kv_attach(ctl, 2048, 1, 256ULL << 20);
	T("attach", !ret, "%d", ret);
	if (ret)
		return ktap_finish();
	create_cases(ctl);
	ret = open_spaces(ctl);
	T("spaces", !ret, "%d", ret);
	if (!ret) {
		roundtrip_cases();
		batched_read_case();
	}
	close_spaces();
	kv_info(ctl, &info);
	T("slots_given_back", info.cold_used == 0, "%llu slots still used",
	  (unsigned long long)info.cold_used);
	kv_detach_quiet(ctl);
	ioerr_cases(ctl);
	close(ctl);
	return ktap_finish();
}
